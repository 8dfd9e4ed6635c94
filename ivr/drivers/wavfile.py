"""A call driven by a recording of the caller (`ivr call --wav caller.wav`).

The audio timeline is the clock: the file is processed in chunks, DTMF tones become key
events at the moment each tone started, silence lets timeouts fire at exactly the time the
tree says, and a tone that starts while a prompt is still playing barges in. Nothing
sleeps, so a call runs much faster than real time and the same file always gives the same
call. With `--out-wav` a stereo recording is written: the caller on the left channel, the
IVR's prompts (as rendered by TTS) on the right, time-aligned, cut where the caller barged in.

The recording is read block by block (`run_stream`) and reading stops when the call ends, so
memory does not grow with the input: an hour-long file, a pipe that never ends or a header
that claims 4 GB cost what a short call costs.
"""
from __future__ import annotations

import dataclasses

from pathlib import Path
from typing import Protocol

import numpy as np

from ivr.drivers.runtime import CallRuntime
from ivr.drivers.timeline import PromptVoice, Timeline
from ivr.engine.events import Digit, Hangup, Speech, SpeechStarted
from ivr.dsp.audio import AudioError, StreamResampler, open_audio_stream, read_audio, resample
from ivr.dsp.dtmf import DtmfDetector
from ivr.speech.holdmusic import hold_music

# seconds of audio per processing step; events keep their exact times anyway. 0.2 s: the
# DTMF detector's fixed cost per step is paid 5 times a second, not 10 (with its overlay
# paths and the rise path the slowest fixture of bench.wavcall read 193-208x at 0.1 s,
# 293x at 0.2 s, goal 200x); the outcomes and times of every fixture call are the same
CHUNK_S = 0.2


class SpeechInput(Protocol):
    """What the WAV and microphone drivers need from a speech recogniser with endpointing:
    feed 16 kHz mono PCM as it arrives; get back `SpeechStarted(at)` when the caller starts
    speaking and `Speech(result, at)` when an utterance is recognised (ivr.engine.events);
    `mute()` drops the utterance in progress (a DTMF tone is sounding)."""

    def set_grammar(self, grammar, today=None) -> None: ...
    def feed(self, pcm16k: np.ndarray, t0: float) -> list[SpeechStarted | Speech]: ...
    def flush(self, t: float) -> list[Speech]: ...
    def mute(self) -> None: ...


class AudioCall(Timeline):
    """Drive a runtime from caller audio on its own timeline (see module docstring)."""

    def __init__(self, runtime: CallRuntime, rate: int, voice: PromptVoice | None = None,
                 t0: float = 0.0, speech: SpeechInput | None = None):
        super().__init__(runtime, voice, t0)
        self.rate = int(rate)
        self.det = self.new_detector()
        self.speech = speech
        self._rs16 = None
        self._grammar = None
        self._tone_before = False
        self._pending: list[float] = []   # starts of tones not yet confirmed as digits
        self.pos = t0                     # audio time fed so far
        self.keys: list[tuple[float, str]] = []
        self._carry = np.zeros(0, dtype=np.float32)   # less than a chunk, waiting for more

    def new_detector(self) -> DtmfDetector:
        """This call's DTMF detector (the SIP server's calls take a batched copy of one)."""
        return DtmfDetector(self.rate)

    def _after(self, actions, at: float) -> None:
        super()._after(actions, at)
        li = self.rt.listen
        if self.speech is not None and li is not None and li.grammar is not self._grammar:
            self._grammar = li.grammar
            self.speech.set_grammar(li.grammar, today=self.rt.today)

    # ---- audio side ------------------------------------------------------------------------
    def feed(self, samples: np.ndarray) -> None:
        """Process caller audio (mono float32 at `self.rate`) that follows what came before.

        Audio is processed in chunks of CHUNK_S whatever the size of the pieces fed, so a
        file gives the same call read whole or block by block; a part chunk waits for the
        next piece (or `flush_audio`). Keys are the detector's confirmed digits, at the time
        each tone started. While a tone is sounding but not yet confirmed, the call's clock
        waits at the tone's start, so a timeout cannot slip in between a key's start and its
        recognition."""
        n = max(1, int(self.rate * CHUNK_S))
        if len(self._carry):
            samples = np.concatenate([self._carry, samples])
        whole = len(samples) - len(samples) % n
        self._carry = np.array(samples[whole:], dtype=np.float32)
        for i in range(0, whole, n):
            if self.rt.ended:
                return
            self._chunk(samples[i:i + n])

    def flush_audio(self) -> None:
        """Process the part chunk left over at the end of the audio."""
        rest, self._carry = self._carry, np.zeros(0, dtype=np.float32)
        if len(rest) and not self.rt.ended:
            self._chunk(rest)

    def _chunk(self, chunk: np.ndarray) -> None:
        t_start = self.pos
        self.pos += len(chunk) / self.rate
        events: list[tuple[float, int, object]] = []
        digits = self.det.feed(chunk)
        starts = self.det.pop_starts()
        self._pending += [self.t0 + st.time for st in starts]
        for d in digits:
            events.append((self.t0 + d.start, 0, Digit(d.digit, at=self.t0 + d.start)))
        tone = bool(starts or digits) or self.det.tone_active
        if self.speech is not None:
            pcm = self._to16k(chunk)
            if tone or self._tone_before:   # key tones are not speech: drop the utterance
                self.speech.mute()
                pcm = pcm[:0]
            for ev in self.speech.feed(pcm, t_start):
                events.append((ev.at, 1 if isinstance(ev, SpeechStarted) else 2, ev))
        self._tone_before = tone
        self._deliver(events)
        if self.rt.ended:
            return
        if not self.det.tone_active:
            self._pending = []
        held = self.det.held_since   # a digit found but still held back (it may be reported later)
        limit = min([self.pos] + self._pending + ([] if held is None else [self.t0 + held]))
        self.advance_to(limit)

    def run_stream(self, stream, keep: "CallerTape | None" = None) -> None:
        """Feed an `ivr.dsp.audio.AudioStream` (its first channel) block by block until the
        input or the call ends; nothing of the input is held beyond a block. With `keep`,
        the caller audio heard is also written to that tape (on disk, at the tape's rate) for
        `write_recording`: as long as the call, not the input, and not in memory."""
        rs = None
        if keep is not None and keep.rate != self.rate:
            rs = StreamResampler(self.rate, keep.rate)
        for block in stream:
            x = np.ascontiguousarray(block[:, 0], dtype=np.float32)
            if keep is not None:
                keep.write(rs.feed(x) if rs is not None else x)
            self.feed(x)
            if self.rt.ended:
                break
        if keep is not None and rs is not None:
            keep.write(rs.flush())

    def _deliver(self, events) -> None:
        for when, _, ev in sorted(events, key=lambda e: (e[0], e[1])):
            self.advance_to(when)
            if self.rt.ended:
                return
            if isinstance(ev, Digit):
                self.keys.append((when, ev.key))
                self.rt.caller(ev.key, when, burst=True)
            else:
                self.rt.end_burst()
                if isinstance(ev, Speech):
                    r = ev.result
                    said = f'"{r.text}"' if r.text else "(suara tidak jelas)"
                    self.rt.caller(said + ("" if not r.nomatch else " [tidak dikenali]"), when, said=r)
            self.feed_event(ev)

    def _to16k(self, chunk: np.ndarray) -> np.ndarray:
        if self.rate == 16000:
            return chunk
        if self._rs16 is None:
            self._rs16 = StreamResampler(self.rate, 16000)
        return self._rs16.feed(chunk)

    def end_of_audio(self, then: str = "hangup", limit_s: float = 3600.0) -> None:
        """The recording ended: the caller hangs up (default), or stays silent until the call
        ends by itself (`then="silence"`)."""
        self.flush_audio()
        if not self.rt.ended:
            self._deliver([(self.t0 + d.start, 0, Digit(d.digit, at=self.t0 + d.start)) for d in self.det.flush()])
            self._pending = []
            self.advance_to(self.pos)
        if self.speech is not None and not self.rt.ended:
            self._deliver([(max(ev.at, self.t), 2, dataclasses.replace(ev, at=max(ev.at, self.t)))
                           for ev in self.speech.flush(self.t)])
        if then == "silence":
            self.run_until_end(limit_s)
        else:
            # the caller hears the prompts out (and a half-typed entry times out), then hangs up
            self.settle()
        if not self.rt.ended:
            self.feed_event(Hangup(at=self.t))

    # ---- recording -------------------------------------------------------------------------
    def _hold_spans(self, out_rate: int) -> list[tuple[int, int, float]]:
        """Where music plays on the prompt channel while the caller holds for an agent,
        between the announcements (when the queue config asks for hold music): (first
        sample, end sample, music offset in seconds at the first sample)."""
        stats = self.rt.session.stats
        if stats.queued_at is None or not self.rt.hold_music:
            return []
        end = stats.connected_at if stats.connected_at is not None else (stats.ended_at or self.t)
        spans = []
        for a, b in _spans_without_prompts(stats.queued_at, end, self.played):
            i, j = int(round((a - self.t0) * out_rate)), int(round((b - self.t0) * out_rate))
            if j > i:
                spans.append((i, j, a - stats.queued_at))
        return spans

    def recording_blocks(self, caller, caller_frames: int, out_rate: int, block_s: float = 30.0):
        """The call recording as consecutive stereo float32 blocks ([frames, 2]: caller left,
        prompts right, on the call's timeline), so a recording as long as the call limit is
        written without being held in memory. `caller(start, n)` gives n caller samples from
        `start` (at `out_rate`); `caller_frames` is how many there are."""
        ends = [p.cut if p.cut is not None else p.end for p in self.played]
        total_s = max([caller_frames / out_rate] + [e - self.t0 for e in ends])
        n = int(np.ceil(total_s * out_rate)) + 1
        music = self._hold_spans(out_rate)
        prompts = []
        for p in self.played:
            stop = p.cut if p.cut is not None else p.end
            a = int(round((p.start - self.t0) * out_rate))
            m = max(0, int(round((stop - p.start) * out_rate)))
            if m > 0:
                prompts.append((a, a + m, p.text))
        step = max(1, int(block_s * out_rate))
        for k0 in range(0, n, step):
            k1 = min(n, k0 + step)
            out = np.zeros((k1 - k0, 2), dtype=np.float32)
            if k0 < caller_frames:
                left = caller(k0, min(k1, caller_frames) - k0)
                out[: len(left), 0] = left
            for i, j, offset in music:
                a, b = max(i, k0), min(j, k1)
                if b > a:
                    out[a - k0:b - k0, 1] += hold_music((b - a) / out_rate, out_rate,
                                                        offset=offset + (a - i) / out_rate)
            for a, b, text in prompts:
                lo, hi = max(a, k0), min(b, k1)
                if hi <= lo:
                    continue
                audio = self.voice.render(text, out_rate)
                if audio is None:
                    continue
                piece = audio[lo - a:hi - a]
                out[lo - k0:lo - k0 + len(piece), 1] += piece
            yield np.clip(out, -1.0, 1.0)

    def recording(self, caller: np.ndarray, out_rate: int, caller_rate: int | None = None) -> np.ndarray:
        """The whole recording in memory (short calls, tests): stereo [frames, 2].
        `caller` is at `caller_rate` (default: the call's rate)."""
        rate = caller_rate or self.rate
        left = resample(caller.astype(np.float32), rate, out_rate) if rate != out_rate else caller
        blocks = list(self.recording_blocks(lambda k, n: left[k:k + n], len(left), out_rate))
        return np.concatenate(blocks) if blocks else np.zeros((0, 2), np.float32)

    def write_recording(self, path: str, tape: "CallerTape", subtype: str = "PCM_16") -> None:
        """Write the call recording to `path` block by block (see `recording_blocks`)."""
        import soundfile as sf   # libsndfile: only when a recording is asked for

        with sf.SoundFile(path, "w", samplerate=tape.rate, channels=2, subtype=subtype) as f:
            for block in self.recording_blocks(tape.read, tape.frames, tape.rate):
                f.write(block)


class CallerTape:
    """The caller's audio as heard, kept on disk (16-bit, an unnamed temporary file) for
    the call recording: memory stays flat however long the call is."""

    def __init__(self, rate: int):
        import tempfile

        self.rate = int(rate)
        self.frames = 0
        self._f = tempfile.TemporaryFile(prefix="ivr-caller-")   # unnamed: nobody else can open it

    def write(self, x: np.ndarray) -> None:
        (np.clip(x, -1.0, 1.0) * 32767).astype("<i2").tofile(self._f)
        self.frames += len(x)

    def read(self, start: int, n: int) -> np.ndarray:
        self._f.seek(2 * start)
        return np.fromfile(self._f, dtype="<i2", count=n).astype(np.float32) / 32767

    def close(self) -> None:
        self._f.close()


def _spans_without_prompts(start: float, end: float, played) -> list[tuple[float, float]]:
    """Parts of [start, end) when no prompt plays."""
    spans = [(start, end)]
    for p in played:
        stop = p.cut if p.cut is not None else p.end
        nxt = []
        for a, b in spans:
            if stop <= a or p.start >= b:
                nxt.append((a, b))
                continue
            if p.start > a:
                nxt.append((a, p.start))
            if stop < b:
                nxt.append((stop, b))
        spans = nxt
    return spans


def load_caller_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Caller audio as mono float32 at its own rate (a stereo file: its first channel)."""
    samples, rate = read_audio(str(path))
    return samples[:, 0].astype(np.float32), int(rate)


def open_call_audio(call_rt: CallRuntime, src, voice: PromptVoice | None = None, t0: float = 0.0,
                    speech: SpeechInput | None = None):
    """Open caller audio as a stream and the AudioCall that will hear it. Raises AudioError
    (one line) for input that is not audio, or at a rate the DTMF detector does not take (the
    rule of `ivr dtmf detect`: dtmf.check_rate)."""
    from ivr.dsp.dtmf import check_rate

    stream = open_audio_stream(src)
    try:
        check_rate(stream.rate)
    except ValueError as exc:
        stream.close()
        raise AudioError(f"{stream.info.name}: {exc}") from None
    return stream, AudioCall(call_rt, stream.rate, voice, t0=t0, speech=speech)


def feed_audio(call, path: str | Path) -> None:
    """Scenario step `audio: FILE`: play caller audio into a ScriptedCall at its clock."""
    call.settle()
    stream, ac = open_call_audio(call.rt, str(path), call.voice, t0=call.t)
    with stream:
        ac.run_stream(stream)
    ac.flush_audio()
    ac.settle()
    call.t = ac.t
