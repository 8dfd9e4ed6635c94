"""Audio reading/writing, resampling and levels (`ivr.dsp.audio`)."""
from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from ivr.dsp.audio import (
    AudioError,
    StreamResampler,
    dbm0_to_dbfs,
    peak_dbfs,
    read_audio,
    resample,
    rms_dbfs,
    to_mono,
    write_wav,
)

SUBTYPES = ["PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "PCM_U8", "ULAW", "ALAW"]
# worst-case error of each format for a -6 dBFS sine (8-bit and G.711 are coarse)
TOL = {"PCM_16": 1e-4, "PCM_24": 1e-6, "PCM_32": 1e-6, "FLOAT": 1e-7, "DOUBLE": 1e-7,
       "PCM_U8": 1e-2, "ULAW": 2e-2, "ALAW": 2e-2}


def _sine(rate=8000, secs=0.5, f=1000.0, amp=0.5, channels=1):
    t = np.arange(int(rate * secs)) / rate
    x = (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)
    return np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)


@pytest.mark.parametrize("subtype", SUBTYPES)
def test_reads_every_wav_sample_format(tmp_path, subtype):
    x = _sine()
    p = tmp_path / f"{subtype}.wav"
    sf.write(p, x, 8000, subtype=subtype)
    y, rate = read_audio(p)
    assert rate == 8000 and y.dtype == np.float32 and y.shape == x.shape
    assert np.max(np.abs(y - x)) < TOL[subtype]


@pytest.mark.parametrize("fmt,subtype", [("FLAC", "PCM_16"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_reads_compressed_formats(tmp_path, fmt, subtype):
    if fmt not in sf.available_formats():
        pytest.fail(f"libsndfile here lacks {fmt}")  # setup installs a libsndfile that has it
    x = _sine(rate=16000, secs=1.0)
    p = tmp_path / f"x.{fmt.lower()}"
    sf.write(p, x, 16000, format=fmt, subtype=subtype)
    y, rate = read_audio(p)
    assert rate == 16000 and y.shape[1] == 1
    assert abs(rms_dbfs(y[4000:12000]) - rms_dbfs(x[4000:12000])) < 1.0  # lossy, but same level


def test_stereo_keeps_channels_and_to_mono_averages(tmp_path):
    x = _sine(channels=2)
    write_wav(tmp_path / "s.wav", x, 8000, subtype="FLOAT")
    y, _ = read_audio(tmp_path / "s.wav")
    assert y.shape == (4000, 2)
    np.testing.assert_allclose(to_mono(y), x.mean(axis=1), atol=1e-7)
    assert to_mono(y[:, 0]).ndim == 1


def test_reads_file_objects_and_streamed_headers():
    buf = io.BytesIO()
    sf.write(buf, _sine(), 8000, format="WAV", subtype="PCM_16")
    data = bytearray(buf.getvalue())
    y, rate = read_audio(io.BytesIO(bytes(data)))
    assert rate == 8000 and len(y) == 4000
    # a writer that could not seek (sox/ffmpeg to a pipe) leaves 0xFFFFFFFF as data size
    pos = data.index(b"data")
    data[pos + 4 : pos + 8] = struct.pack("<I", 0xFFFFFFFF)
    y2, _ = read_audio(io.BytesIO(bytes(data)))
    assert len(y2) == 4000


def _wav_bytes(secs=0.5):
    buf = io.BytesIO()
    sf.write(buf, _sine(secs=secs), 8000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.mark.parametrize(
    "content,needle",
    [
        (b"", "empty file"),
        (b"hello, this is text\n" * 10, "not an audio file"),
        (_wav_bytes()[:3000], "truncated WAV"),
        (_wav_bytes()[:30], "truncated WAV"),
        (_wav_bytes()[:-1], "truncated WAV"),
    ],
    ids=["empty", "text", "cut-in-data", "cut-in-header", "odd-frame"],
)
def test_bad_files_raise_one_line_audio_error_naming_the_file(tmp_path, content, needle):
    p = tmp_path / "bad.wav"
    p.write_bytes(content)
    with pytest.raises(AudioError) as ei:
        read_audio(p)
    msg = str(ei.value)
    assert needle in msg and str(p) in msg and "\n" not in msg
    assert isinstance(ei.value, ValueError)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        read_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="directory"):
        read_audio(tmp_path)


def test_write_wav_clips_instead_of_wrapping(tmp_path):
    x = np.array([0.0, 1.5, -1.5, 0.5], dtype=np.float32)
    write_wav(tmp_path / "c.wav", x, 8000)
    y, _ = read_audio(tmp_path / "c.wav")
    assert y[1, 0] > 0.99 and y[2, 0] <= -0.99 and abs(y[3, 0] - 0.5) < 1e-3


@pytest.mark.parametrize("src,dst", [(44100, 8000), (48000, 16000), (8000, 22050), (11025, 8000)])
def test_resample_keeps_a_tone_and_its_timing(src, dst):
    x = _sine(rate=src, secs=1.0, f=1000.0)[:, 0]
    y = resample(x, src, dst)
    assert abs(len(y) - dst) <= 1
    t = np.arange(len(y)) / dst
    ref = 0.5 * np.sin(2 * np.pi * 1000 * t)
    mid = slice(len(y) // 4, 3 * len(y) // 4)
    assert np.max(np.abs(y[mid] - ref[mid])) < 5e-3


@pytest.mark.parametrize("src,dst", [(44100, 8000), (48000, 16000), (11025, 8000), (8000, 22050)])
def test_stream_resampler_is_chunk_independent_and_aligned(src, dst):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(12345).astype(np.float32)
    whole = StreamResampler(src, dst)
    a = np.concatenate([whole.feed(x), whole.flush()])
    parts, r, i = [], StreamResampler(src, dst), 0
    while i < len(x):
        n = int(rng.integers(1, 700))
        parts.append(r.feed(x[i : i + n]))
        i += n
    b = np.concatenate(parts + [r.flush()])
    assert len(a) == len(b) == -(-len(x) * dst // src)
    np.testing.assert_array_equal(a, b)
    # delay-compensated: a tone comes out where it went in
    s = _sine(rate=src, secs=0.5, f=700.0)[:, 0]
    r = StreamResampler(src, dst)
    y = np.concatenate([r.feed(s), r.flush()])
    t = np.arange(len(y)) / dst
    mid = slice(len(y) // 4, 3 * len(y) // 4)
    assert np.max(np.abs(y[mid] - 0.5 * np.sin(2 * np.pi * 700 * t[mid]))) < 5e-3


def test_levels():
    x = _sine(amp=1.0)[:, 0]
    assert abs(rms_dbfs(x)) < 0.01  # full-scale sine is 0 dBFS
    assert abs(rms_dbfs(x * 0.1) + 20) < 0.01
    assert abs(peak_dbfs(x * 0.5) + 6.02) < 0.01
    assert rms_dbfs(np.zeros(10)) == -200.0
    assert abs(dbm0_to_dbfs(-25) + 28.14) < 0.01


def test_an_odd_sample_rate_is_resampled_with_a_bounded_filter():
    """383,987 Hz -> 8 kHz reduces to 8000/383987: a 7.7 M-tap streaming filter, 0.77 GB for a
    3 s WAV call and slower than real time.  The stream's ratio is now the nearest with terms
    up to 1000 (1/48, 34 ppm off); usual pairs and whole-array `resample` stay exact; a 1 kHz
    tone keeps its pitch and the length its rate."""
    from ivr.dsp.audio import MAX_RATIO_TERM, _ratio, resample

    assert _ratio(44100, 8000, bounded=True) == (80, 441) and _ratio(48000, 16000, bounded=True) == (1, 3)
    assert _ratio(src := 383987, 8000) == (8000, 383987)
    rs = StreamResampler(src, 8000)
    assert max(rs.up, rs.down) <= MAX_RATIO_TERM and len(rs._h) <= 25 * MAX_RATIO_TERM
    t = np.arange(src) / src
    x = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    y = np.concatenate([rs.feed(x[i:i + 40000]) for i in range(0, len(x), 40000)] + [rs.flush()])
    assert abs(len(y) - 8000) <= 1 and abs(len(resample(x, src, 8000)) - 8000) <= 1
    assert abs(np.sqrt(np.mean(y[100:-100] ** 2)) / np.sqrt(0.125) - 1) < 0.02   # the level too
    spec = np.abs(np.fft.rfft(y[1000:7000] * np.hanning(6000), 1 << 16))
    assert abs(np.argmax(spec) * 8000 / (1 << 16) - 1000) < 0.5   # Hz
