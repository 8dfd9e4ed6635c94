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

CHUNK_S = 0.1  # seconds of audio per processing step; events keep their exact times anyway


class SpeechInput(Protocol):
    """What the WAV and microphone drivers need from a speech recogniser with endpointing:
    feed 16 kHz mono PCM as it arrives; get back `SpeechStarted(at)` when the caller starts
    speaking and `Speech(result, at)` when an utterance is recognised (ivr.engine.events);
    `mute()` drops the utterance in progress (a DTMF tone is sounding)."""

    def set_grammar(self, grammar) -> None: ...
    def feed(self, pcm16k: np.ndarray, t0: float) -> list[SpeechStarted | Speech]: ...
    def flush(self, t: float) -> list[Speech]: ...
    def mute(self) -> None: ...


class AudioCall(Timeline):
    """Drive a runtime from caller audio on its own timeline (see module docstring)."""

    def __init__(self, runtime: CallRuntime, rate: int, voice: PromptVoice | None = None,
                 t0: float = 0.0, speech: SpeechInput | None = None):
        super().__init__(runtime, voice, t0)
        self.rate = int(rate)
        self.det = DtmfDetector(self.rate)
        self.speech = speech
        self._rs16 = None
        self._grammar = None
        self._tone_before = False
        self._pending: list[float] = []   # starts of tones not yet confirmed as digits
        self.pos = t0                     # audio time fed so far
        self.keys: list[tuple[float, str]] = []
        self._carry = np.zeros(0, dtype=np.float32)   # less than a chunk, waiting for more

    def _after(self, actions, at: float) -> None:
        super()._after(actions, at)
        li = self.rt.listen
        if self.speech is not None and li is not None and li.grammar is not self._grammar:
            self._grammar = li.grammar
            self.speech.set_grammar(li.grammar)

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
        limit = min([self.pos] + self._pending)
        self.advance_to(limit)

    def run_stream(self, stream, keep_rate: int | None = None) -> np.ndarray | None:
        """Feed an `ivr.dsp.audio.AudioStream` (its first channel) block by block until the
        input or the call ends; nothing of the input is held beyond a block. With
        `keep_rate`, the caller audio heard is also kept (at that rate, 16-bit) for
        `recording`, and returned: as long as the call, not the input."""
        keep: list[np.ndarray] = []
        rs = None
        if keep_rate is not None and keep_rate != self.rate:
            rs = StreamResampler(self.rate, keep_rate)
        for block in stream:
            x = np.ascontiguousarray(block[:, 0], dtype=np.float32)
            if keep_rate is not None:
                y = rs.feed(x) if rs is not None else x
                keep.append((np.clip(y, -1.0, 1.0) * 32767).astype(np.int16))
            self.feed(x)
            if self.rt.ended:
                break
        if keep_rate is None:
            return None
        if rs is not None:
            keep.append((np.clip(rs.flush(), -1.0, 1.0) * 32767).astype(np.int16))
        return np.concatenate(keep).astype(np.float32) / 32767 if keep else np.zeros(0, np.float32)

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
                    self.rt.caller(said + ("" if not r.nomatch else " [tidak dikenali]"), when)
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
    def _hold_music(self, out: np.ndarray, out_rate: int) -> None:
        """Music on the prompt channel while the caller holds for an agent, between the
        announcements (when the queue config asks for hold music)."""
        stats = self.rt.session.stats
        if stats.queued_at is None or not self.rt.hold_music:
            return
        end = stats.connected_at if stats.connected_at is not None else (stats.ended_at or self.t)
        for a, b in _spans_without_prompts(stats.queued_at, end, self.played):
            i, j = int(round((a - self.t0) * out_rate)), min(len(out), int(round((b - self.t0) * out_rate)))
            if j > i:
                out[i:j, 1] += hold_music((j - i) / out_rate, out_rate, offset=a - stats.queued_at)


    def recording(self, caller: np.ndarray, out_rate: int, caller_rate: int | None = None) -> np.ndarray:
        """Stereo [frames, 2]: caller left, prompts right, on the call's timeline.
        `caller` is at `caller_rate` (default: the call's rate)."""
        rate = caller_rate or self.rate
        left = resample(caller.astype(np.float32), rate, out_rate) if rate != out_rate else caller
        ends = [p.cut if p.cut is not None else p.end for p in self.played]
        total_s = max([len(caller) / rate] + [e - self.t0 for e in ends])
        n = int(np.ceil(total_s * out_rate)) + 1
        out = np.zeros((n, 2), dtype=np.float32)
        out[: len(left), 0] = left[:n]
        self._hold_music(out, out_rate)
        for p in self.played:
            audio = self.voice.render(p.text, out_rate)
            if audio is None:
                continue
            stop = p.cut if p.cut is not None else p.end
            a = int(round((p.start - self.t0) * out_rate))
            m = min(len(audio), max(0, int(round((stop - p.start) * out_rate))), n - a)
            if m > 0:
                out[a:a + m, 1] += audio[:m]
        return np.clip(out, -1.0, 1.0)


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
    (one line) for input that is not audio, or whose rate is too low for DTMF (the rule of
    `ivr dtmf detect`)."""
    stream = open_audio_stream(src)
    try:
        return stream, AudioCall(call_rt, stream.rate, voice, t0=t0, speech=speech)
    except ValueError:   # DtmfDetector: the rate cannot carry the DTMF high group
        stream.close()
        raise AudioError(f"{stream.info.name}: sample rate {stream.rate} Hz is too low for DTMF") from None


def feed_audio(call, path: str | Path) -> None:
    """Scenario step `audio: FILE`: play caller audio into a ScriptedCall at its clock."""
    call.settle()
    stream, ac = open_call_audio(call.rt, str(path), call.voice, t0=call.t)
    with stream:
        ac.run_stream(stream)
    ac.flush_audio()
    ac.settle()
    call.t = ac.t
