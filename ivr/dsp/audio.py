"""Audio file I/O, resampling and level helpers shared by every part of `ivr`.

Why a module of its own: DTMF detection, WAV-piped calls, TTS prompts and speech
recognition all read "whatever WAV the user has" and need the same answers to the same
questions (what is the rate, is this file actually audio, is it cut short).  Everything
here returns float32 samples shaped ``[frames, channels]`` scaled to +-1.0 full scale.

Level convention (used by the DTMF code too): a sine whose peak touches full scale is
0 dBFS (AES17).  So a sine of amplitude ``a`` is ``20*log10(a)`` dBFS and its RMS level
``rms_dbfs`` is the same number.  For G.711 telephony, 0 dBm0 is about -3.14 dBFS, so
-25 dBm0 per tone is about -28 dBFS per tone.
"""
from __future__ import annotations

import io
import math
import os
import stat
import struct
import sys
import tempfile
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, Callable, Union

import numpy as np

try:  # soundfile needs libsndfile; give a clear message if it is missing
    import soundfile as sf
except OSError as exc:  # pragma: no cover - depends on the system
    sf = None
    _SF_IMPORT_ERROR = str(exc)
else:
    _SF_IMPORT_ERROR = ""

PathLike = Union[str, os.PathLike]
Source = Union[PathLike, BinaryIO]

DBM0_TO_DBFS = -3.14
"""Add this to a level in dBm0 to get dBFS (G.711: 0 dBm0 sine is 3.14 dB below full scale)."""

# WAV data-chunk sizes that streaming writers (sox, ffmpeg, arecord) put in a header when
# they cannot seek back to fill in the real size.  Such files are not "truncated".
_UNKNOWN_WAV_SIZES = {0, 0xFFFFFFFF, 0x7FFFF000, 0x7FFFFFFF, 0xFFFFFFFF - 8}
# WAV format tags whose data is whole frames of `block_align` bytes: PCM, IEEE float, A-law,
# mu-law, WAVE_FORMAT_EXTENSIBLE (PCM or float in practice). A codec's blocks (IMA/MS ADPCM,
# G.721, GSM 6.10) may end short, which libsndfile decodes: not a sign of a cut file.
_FRAMED_WAV_TAGS = {0x0001, 0x0003, 0x0006, 0x0007, 0xFFFE}
# What libsndfile decodes in a WAV (format tag -> name), for the message about another tag.
_DECODED_WAV_TAGS = {0x0001: "PCM", 0x0003: "float", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM",
                     0x0002: "MS ADPCM", 0x0031: "GSM 6.10", 0x0040: "G.721 ADPCM", 0x0055: "MP3",
                     0xFFFE: "extensible"}


class AudioError(ValueError):
    """A file that is not readable audio (non-audio, empty, truncated).  One line, names the file."""


@dataclass(frozen=True)
class AudioInfo:
    """What `read_audio` found, for messages and JSON output."""

    name: str
    rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def _name_of(src: Source) -> str:
    if isinstance(src, (str, os.PathLike)):
        return "<stdin>" if str(src) == "-" else str(src)
    return str(getattr(src, "name", "<stream>"))


def _read_bytes(src: Source) -> bytes:
    """Whole content of a path, '-' (stdin) or a binary file object."""
    if isinstance(src, (str, os.PathLike)) and str(src) != "-":
        f, _, closers = _open_stream(src, _name_of(src))
        try:
            return f.read()
        except OSError as exc:
            raise AudioError(f"{src}: cannot read ({exc.strerror or exc})") from None
        finally:
            for c in closers:
                c()
    if isinstance(src, (str, os.PathLike)):
        return sys.stdin.buffer.read()
    data = src.read()
    if isinstance(data, str):
        raise AudioError(f"{_name_of(src)}: opened in text mode; audio needs a binary stream")
    return bytes(data)


def _check_riff(data: bytes, name: str) -> int | None:
    """Reject RIFF/WAVE bytes that are cut short, which libsndfile silently accepts."""
    return _check_riff_at(lambda pos, n: data[pos:pos + n], len(data), name)


def _check_riff_at(read_at: Callable[[int, int], bytes], total: int | None, name: str) -> int | None:
    """Reject RIFF/WAVE files that are cut short, which libsndfile silently accepts.

    A header that promises more sample bytes than the file holds means the file was cut
    (an interrupted copy or recording); reading it anyway would silently drop audio.
    Streaming writers' placeholder sizes are allowed. `read_at(pos, n)` reads the file's
    bytes (so a big file is checked without reading it); `total` is its length, None for a
    pipe, whose end is not known yet (then only what `read_at` holds is checked).
    Returns the WAV format tag when the header names one (for `_unreadable`).
    """
    head = read_at(0, 12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    endian = "<" if head[:4] == b"RIFF" else ">"
    pos = 12
    block_align = 0
    tag = None
    while True:
        hdr = read_at(pos, 8)
        if len(hdr) < 8:
            break
        cid = hdr[:4]
        (size,) = struct.unpack(endian + "I", hdr[4:8])
        body = pos + 8
        if cid == b"fmt ":
            fmt = read_at(body, 16)
            if len(fmt) < 16:
                if total is None:
                    return None
                raise AudioError(f"{name}: truncated WAV (header cut short)")
            tag, block_align = struct.unpack(endian + "H", fmt[0:2])[0], struct.unpack(endian + "H", fmt[12:14])[0]
            if tag not in _FRAMED_WAV_TAGS:
                block_align = 0
        elif cid == b"data":
            if size in _UNKNOWN_WAV_SIZES or total is None:
                return tag
            have = total - body
            if have < size:
                raise AudioError(
                    f"{name}: truncated WAV: header promises {size} bytes of samples, "
                    f"file holds {have}"
                )
            if block_align and size % block_align:
                raise AudioError(f"{name}: truncated WAV: data size {size} is not a whole number of frames")
            return tag
        pos = body + size + (size & 1)
    if total is None:
        return tag
    if pos < total or total < 44:
        raise AudioError(f"{name}: truncated WAV (no complete data chunk)")
    raise AudioError(f"{name}: WAV file has no data chunk")


def read_audio(
    src: Source, *, always_2d: bool = True, with_info: bool = False
) -> tuple[np.ndarray, int] | tuple[np.ndarray, int, AudioInfo]:
    """Read any audio file libsndfile understands into float32 ``[frames, channels]``.

    `src` is a path, ``"-"`` for stdin, or a binary file object (read whole, so pipes
    work).  Covers WAV 8/16/24/32-bit int, float/double, mu-law/A-law, WAVEX, RF64,
    FLAC, OGG/Vorbis, MP3 (libsndfile >= 1.1), AIFF, AU...  Raises `AudioError` with one
    line naming the file for non-audio, empty or truncated files.
    """
    if sf is None:  # pragma: no cover
        raise AudioError(f"cannot read audio: libsndfile is not available ({_SF_IMPORT_ERROR})")
    name = _name_of(src)
    data = _read_bytes(src)
    if not data:
        raise AudioError(f"{name}: empty file")
    tag = _check_riff(data, name)
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            if f.seekable():
                samples = f.read(dtype="float32", always_2d=True)
            else:   # a codec libsndfile cannot seek in (G.721) reads only a count of frames at a time
                parts = []
                while len(part := f.read(1 << 16, dtype="float32", always_2d=True)):
                    parts.append(part)
                samples = np.concatenate(parts) if parts else np.zeros((0, f.channels), np.float32)
            info = AudioInfo(name, int(f.samplerate), int(f.channels), len(samples), f.format, f.subtype)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise _unreadable(name, exc, tag) from None
    if info.frames == 0:
        raise AudioError(f"{name}: audio file holds no samples")
    if not np.all(np.isfinite(samples)):
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    if not always_2d and samples.shape[1] == 1:
        samples = samples[:, 0]
    if with_info:
        return samples, info.rate, info
    return samples, info.rate


def _unreadable(name: str, exc: Exception, tag: int | None = None) -> AudioError:
    """The one-line error for audio libsndfile cannot open or decode (`tag`: the WAV
    format tag, when the input is a WAV)."""
    msg = str(exc).split("\n")[0]
    if tag is not None and tag not in _DECODED_WAV_TAGS:
        return AudioError(f"{name}: unsupported WAV format 0x{tag:04X} (readable: "
                          f"{', '.join(v for v in _DECODED_WAV_TAGS.values() if v != 'extensible')})")
    if "Format not recognised" in msg or "unknown format" in msg.lower():
        return AudioError(f"{name}: not an audio file (format not recognised)")
    return AudioError(f"{name}: unreadable audio ({msg})")


# ---- streaming -----------------------------------------------------------------------------
HEAD_BYTES = 1 << 16         # what is read of a pipe before deciding how to decode it
BLOCK_SAMPLES = 1 << 16      # samples (all channels) per block: 256 KiB of float32
SPOOL_LIMIT = 1 << 30        # bytes of a non-streamable format (FLAC, MP3) taken from a pipe
_PIPE_FORMATS = (b"RIFF", b"RIFX", b".snd", b"OggS")   # libsndfile decodes these from a pipe


class AudioStream:
    """An audio input read block by block, so memory stays the same however long it is
    (an hour-long file, a pipe that never ends, a header that claims 4 GB).

    Made by `open_audio_stream`; `info.frames` is 0 when the length is not known (a pipe).
    The first block is read on opening, so an input without samples fails there, before
    anything else has started."""

    def __init__(self, f, info: AudioInfo, closers: list):
        self._f = f
        self.info = info
        self._closers = closers
        self.block_frames = max(1, BLOCK_SAMPLES // max(1, info.channels))
        self._ahead: np.ndarray | None = None
        self.frames_read = 0
        self.error = ""          # a decoding error that ended the input early (one line)
        first = self.read()
        if len(first) == 0:
            self.close()
            raise AudioError(f"{info.name}: audio file holds no samples")
        self._ahead = first

    @property
    def rate(self) -> int:
        return self.info.rate

    def read(self) -> np.ndarray:
        """The next block, float32 ``[frames, channels]``; empty at the end of the input."""
        if self._ahead is not None:
            x, self._ahead = self._ahead, None
            return x
        if self._f is None:
            return np.zeros((0, self.info.channels), np.float32)
        try:
            x = self._f.read(self.block_frames, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            self.error = str(_unreadable(self.info.name, exc))
            x = np.zeros((0, self.info.channels), np.float32)
        if len(x) == 0:
            self.close()
            return x
        self.frames_read += len(x)
        if not np.all(np.isfinite(x)):
            x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
        return x

    def __iter__(self):
        while True:
            x = self.read()
            if len(x) == 0:
                return
            yield x

    def close(self) -> None:
        f, self._f = self._f, None
        for c in ([f.close] if f is not None else []) + self._closers:
            try:
                c()
            except Exception:  # pragma: no cover - closing what may already be gone
                pass
        self._closers = []

    def __enter__(self) -> "AudioStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open_stream(src: Source, name: str):
    """(binary stream, total bytes or None for a pipe, closers) for a path, '-' or a file object."""
    if not isinstance(src, (str, os.PathLike)):
        return src, None, []
    if str(src) == "-":
        return sys.stdin.buffer, None, []
    try:
        st = os.stat(src)
        if stat.S_ISDIR(st.st_mode):
            raise AudioError(f"{src}: is a directory, not an audio file")
        f = open(src, "rb")
    except FileNotFoundError:
        raise AudioError(f"{src}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{src}: is a directory, not an audio file") from None
    except OSError as exc:
        raise AudioError(f"{src}: cannot read ({exc.strerror or exc})") from None
    return f, (st.st_size if stat.S_ISREG(st.st_mode) else None), [f.close]


def _relay(head: bytes, stream: BinaryIO) -> int:
    """A pipe fed with `head` and then the rest of `stream` by a thread; returns its read end.
    (libsndfile decodes WAV, AU and OGG from a pipe itself, as they arrive.)"""
    r, w = os.pipe()

    def pump() -> None:
        try:
            data = head
            while data:
                view = memoryview(data)
                while view:
                    view = view[os.write(w, view):]
                data = stream.read(HEAD_BYTES)
        except (OSError, ValueError):   # the reader closed its end (the call ended)
            pass
        finally:
            os.close(w)

    threading.Thread(target=pump, name="audio-relay", daemon=True).start()
    return r


def _spool(head: bytes, stream: BinaryIO, name: str):
    """Copy a pipe in a format libsndfile cannot decode from a pipe (FLAC, MP3) to an
    unnamed temporary file, at most SPOOL_LIMIT bytes: disk, not memory."""
    tmp = tempfile.TemporaryFile(prefix="ivr-audio-")
    tmp.write(head)
    n = len(head)
    while True:
        data = stream.read(HEAD_BYTES)
        if not data:
            break
        n += len(data)
        if n > SPOOL_LIMIT:
            tmp.close()
            raise AudioError(f"{name}: more than {SPOOL_LIMIT >> 20} MiB of compressed audio on a pipe; "
                             "give a file name, or pipe WAV (streamed as it arrives)")
        tmp.write(data)
    tmp.seek(0)
    return tmp


def open_audio_stream(src: Source) -> AudioStream:
    """Open any audio input for reading block by block (see `AudioStream`).

    A file is decoded where it lies (a truncated WAV is refused as by `read_audio`); a
    pipe, stdin ('-') or a device is decoded as it arrives when libsndfile can (WAV, AU,
    OGG), else copied to a temporary file first. Raises `AudioError` (one line, naming the
    input) for non-audio, empty or truncated input."""
    if sf is None:  # pragma: no cover
        raise AudioError(f"cannot read audio: libsndfile is not available ({_SF_IMPORT_ERROR})")
    name = _name_of(src)
    stream, total, closers = _open_stream(src, name)
    try:
        if total is not None:   # a regular file: check its header in place, decode from disk
            if total == 0:
                raise AudioError(f"{name}: empty file")

            def read_at(pos: int, n: int) -> bytes:
                stream.seek(pos)
                return stream.read(n)

            tag = _check_riff_at(read_at, total, name)
            target = os.fspath(src)   # libsndfile reads the file itself
        else:
            head = stream.read(HEAD_BYTES)
            if isinstance(head, str):
                raise AudioError(f"{name}: opened in text mode; audio needs a binary stream")
            if not head:
                raise AudioError(f"{name}: empty file")
            if len(head) < HEAD_BYTES:   # all of it: small enough to hold
                tag = _check_riff(head, name)
                target = io.BytesIO(head)
            else:
                tag = _check_riff_at(lambda pos, n: head[pos:pos + n], None, name)
                if head[:4] in _PIPE_FORMATS:
                    fd = _relay(head, stream)
                    target = fd
                else:
                    try:   # refuse what is not audio at once (e.g. /dev/zero)
                        sf.info(io.BytesIO(head))
                    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
                        if "not recognised" in str(exc) or "unknown format" in str(exc).lower():
                            raise _unreadable(name, exc) from None
                    target = _spool(head, stream, name)
                    closers.append(target.close)
        try:
            f = sf.SoundFile(target, closefd=True) if isinstance(target, int) else sf.SoundFile(target)
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            # (a pipe's read end is closed by libsndfile itself when sf_open_fd fails)
            raise _unreadable(name, exc, tag) from None
        frames = int(f.frames) if total is not None or isinstance(target, io.BytesIO) else 0
        if frames >= 1 << 40:
            frames = 0
        info = AudioInfo(name, int(f.samplerate), int(f.channels), frames, f.format, f.subtype)
        if info.rate <= 0 or info.channels <= 0:
            f.close()
            raise AudioError(f"{name}: unreadable audio (rate {info.rate} Hz, {info.channels} channels)")
        return AudioStream(f, info, closers)
    except BaseException:
        for c in closers:
            c()
        raise


def write_wav(
    dst: Source, samples: np.ndarray, rate: int, subtype: str = "PCM_16", format: str | None = None
) -> None:
    """Write samples (1-D mono or ``[frames, channels]``) to `dst` (path, '-' or file object).

    The container follows the file extension (.wav, .flac, .ogg, .mp3) unless `format`
    is given; integer subtypes are clipped to full scale instead of wrapping around.
    """
    if sf is None:  # pragma: no cover
        raise AudioError(f"cannot write audio: libsndfile is not available ({_SF_IMPORT_ERROR})")
    x = np.asarray(samples, dtype=np.float32)
    if subtype and not subtype.upper().startswith(("FLOAT", "DOUBLE")):
        x = np.clip(x, -1.0, 32767 / 32768)
    if isinstance(dst, (str, os.PathLike)) and str(dst) != "-":
        fmt = format
        if fmt is None:
            ext = Path(dst).suffix.lower().lstrip(".")
            fmt = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "oga": "OGG", "mp3": "MP3",
                   "aiff": "AIFF", "aif": "AIFF", "au": "AU", "w64": "W64", "caf": "CAF"}.get(ext, "WAV")
        if fmt in ("OGG",) and subtype.startswith("PCM"):
            subtype = "VORBIS"
        if fmt == "MP3" and subtype.startswith("PCM"):
            subtype = "MPEG_LAYER_III"
        if fmt == "FLAC" and subtype not in ("PCM_S8", "PCM_16", "PCM_24"):
            subtype = "PCM_16"
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(dst), x, int(rate), subtype=subtype, format=fmt)
        return
    buf = io.BytesIO()
    sf.write(buf, x, int(rate), subtype=subtype, format=format or "WAV")
    out = sys.stdout.buffer if isinstance(dst, (str, os.PathLike)) else dst
    out.write(buf.getvalue())
    out.flush()


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average the channels of ``[frames, channels]`` to 1-D float32 (1-D input is returned as is)."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        return x
    if x.shape[1] == 1:
        return x[:, 0]
    return x.mean(axis=1, dtype=np.float32)


#: Largest term of a streaming resampler's ratio kept exact.  Its polyphase filter is 20 taps
#: per unit of the larger term, run over each chunk: every usual rate pair stays under it
#: (44.1 kHz -> 8 kHz is 80/441), while an odd rate (383,987 Hz -> 8 kHz: 8000/383987) asked
#: for a 7.7 M-tap filter, 0.77 GB for a WAV call, slower than real time.  Such a ratio is
#: replaced by the nearest one with terms up to this, off by tens of ppm: less than a sound
#: card's own clock error.  (`resample`, on whole arrays, stays exact: scipy's resample_poly
#: computes only the outputs, and the talk-off corpora's pitch-shifted copies depend on it.)
MAX_RATIO_TERM = 1000


def _ratio(src_rate: int, dst_rate: int, bounded: bool = False) -> tuple[int, int]:
    """(up, down) for resampling src_rate -> dst_rate: exact, or (`bounded`) within 1e-3 when
    exact terms would pass MAX_RATIO_TERM."""
    fr = Fraction(int(dst_rate), int(src_rate))
    if bounded and max(fr.numerator, fr.denominator) > MAX_RATIO_TERM:
        near = 1 / (1 / fr).limit_denominator(MAX_RATIO_TERM) if fr >= 1 else fr.limit_denominator(MAX_RATIO_TERM)
        if near and abs(near / fr - 1) <= 1e-3:   # else (rates 1000x apart) exact: refused elsewhere
            fr = near
    return fr.numerator, fr.denominator


def resample(x: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample along axis 0 with a polyphase anti-aliasing filter (scipy.signal.resample_poly)."""
    x = np.asarray(x, dtype=np.float32)
    if int(src_rate) == int(dst_rate):
        return x
    from scipy.signal import resample_poly

    up, down = _ratio(src_rate, dst_rate)
    return resample_poly(x, up, down, axis=0).astype(np.float32, copy=False)


class StreamResampler:
    """Resampler for a stream fed in arbitrary chunks; output is independent of chunking.

    Why not `resample_poly` per chunk: filtering each chunk on its own clicks at chunk
    edges and makes the result depend on how the caller cut the stream.  This keeps the
    input history the polyphase filter needs and emits exactly the samples that the whole
    stream would give (delay-compensated, so times line up with the input).
    """

    def __init__(self, src_rate: int, dst_rate: int, half_taps: int = 10):
        from scipy.signal import firwin

        self.up, self.down = _ratio(src_rate, dst_rate, bounded=True)
        n = 2 * half_taps * max(self.up, self.down) + 1
        cutoff = 1.0 / max(self.up, self.down)
        h = firwin(n, cutoff * 0.95, window=("kaiser", 5.0)) * self.up
        delay = (n - 1) // 2
        pad = (-delay) % self.down  # make the group delay a whole number of output samples
        self._h = np.concatenate([np.zeros(pad), h]).astype(np.float64)
        self._skip = (delay + pad) // self.down  # leading outputs that are pure filter delay
        self._buf = np.zeros(0, dtype=np.float64)
        self._b0 = 0  # global input index of self._buf[0] (always a multiple of down)
        self._n_in = 0  # input samples received
        self._m_next = 0  # next global output index (before delay removal)
        self._emitted = 0  # outputs handed out (after delay removal)
        self._dropped = 0  # delay outputs discarded so far

    def _emit(self, last_input: int) -> np.ndarray:
        """Outputs whose filter support ends at or before input `last_input`."""
        from scipy.signal import upfirdn

        up, down = self.up, self.down
        m_hi = (last_input * up) // down  # y[m] needs inputs i <= m*down/up
        if m_hi < self._m_next or len(self._buf) == 0:
            return np.zeros(0, dtype=np.float32)
        y = upfirdn(self._h, self._buf, up, down)
        m0 = self._b0 * up // down
        lo, hi = self._m_next - m0, m_hi - m0 + 1
        out = y[lo:hi]
        self._m_next = m_hi + 1
        # keep the history the next outputs need: inputs >= (m_next*down - L + 1)/up
        need = (self._m_next * down - len(self._h) + 1) // up
        new_b0 = max(self._b0, (max(need, 0) // down) * down)
        self._buf = self._buf[new_b0 - self._b0 :]
        self._b0 = new_b0
        return out

    def feed(self, x: np.ndarray) -> np.ndarray:
        """Resample the next chunk; returns the output samples that are now final."""
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        self._buf = np.concatenate([self._buf, x])
        self._n_in += len(x)
        if not self._n_in:
            return np.zeros(0, dtype=np.float32)
        out = self._drop_delay(self._emit(self._n_in - 1))
        self._emitted += len(out)
        return out

    def flush(self) -> np.ndarray:
        """Emit the tail; total output over the stream is ceil(n_in * up / down) samples."""
        total = -(-self._n_in * self.up // self.down)
        self._buf = np.concatenate([self._buf, np.zeros(len(self._h) // self.up + 2)])
        out = self._drop_delay(self._emit(self._b0 + len(self._buf) - 1))
        out = out[: max(total - self._emitted, 0)]
        self._emitted += len(out)
        return out

    def _drop_delay(self, out: np.ndarray) -> np.ndarray:
        if self._dropped < self._skip:
            k = min(self._skip - self._dropped, len(out))
            out = out[k:]
            self._dropped += k
        return out.astype(np.float32)


def rms_dbfs(x: np.ndarray, floor: float = -200.0) -> float:
    """RMS level in dBFS where a full-scale sine is 0 dBFS (AES17); `floor` for silence."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return floor
    ms = float(np.mean(x * x))
    return 10 * math.log10(2 * ms) if ms > 0 else floor


def peak_dbfs(x: np.ndarray, floor: float = -200.0) -> float:
    """Peak sample level in dBFS (1.0 = 0 dBFS)."""
    x = np.asarray(x)
    if x.size == 0:
        return floor
    p = float(np.max(np.abs(x)))
    return 20 * math.log10(p) if p > 0 else floor


def db_to_amplitude(db: float) -> float:
    """Amplitude of a sine whose level is `db` dBFS."""
    return 10.0 ** (db / 20.0)


def amplitude_to_db(a: float, floor: float = -200.0) -> float:
    return 20 * math.log10(a) if a > 0 else floor


def dbm0_to_dbfs(dbm0: float) -> float:
    """G.711 mapping: -25 dBm0 -> about -28.1 dBFS."""
    return dbm0 + DBM0_TO_DBFS
