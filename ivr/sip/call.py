"""One phone call's media side: RTP audio in and out around an `AudioCall`.

The caller's audio, as played out of the jitter buffer, goes through `AudioCall.feed`
exactly as a WAV file or the microphone would: in-band DTMF tones become keys at the
time each tone started, speech goes to the recogniser, and the audio's sample count is
the call's clock. RFC 4733 events are keys too, delivered at their place on that same
timeline. Prompts are rendered at 8 kHz and queued for the 20 ms sender; a barge-in
(`StopPlayback`) empties the queue at once.

A phone may send a key both ways (RFC 4733 and the tone in its audio): a key heard in
band within `DUPLICATE_S` of the same key from RFC 4733 is the same press, counted once.
"""
from __future__ import annotations

from collections import OrderedDict, deque

import numpy as np

from ivr.drivers.runtime import CallRuntime
from ivr.drivers.wavfile import AudioCall
from ivr.engine.events import Digit, Hangup, Play, StopPlayback
from ivr.sip.rtp import FRAME, RATE

DUPLICATE_S = 0.3
HOLD_BLOCK_S = 0.5


class Voice8k:
    """A prompt voice whose renderings at 8 kHz are kept (bounded), so a prompt that
    every caller hears is resampled once per server, not once per call."""

    def __init__(self, voice, keep: int = 512):
        self.voice = voice
        self.keep = keep
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def duration(self, text: str) -> float:
        return self.voice.duration(text)

    def render(self, text: str, rate: int) -> np.ndarray | None:
        if rate != RATE:
            return self.voice.render(text, rate)
        got = self._cache.get(text)
        if got is None:
            audio = self.voice.render(text, RATE)
            # no TTS: silence as long as the prompt, so the caller hears it take its time
            got = audio if audio is not None else np.zeros(int(self.voice.duration(text) * RATE), np.float32)
            self._cache[text] = got
            if len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(text)
        return got


class _DedupDetector:
    """The DTMF detector with in-band digits that repeat an RFC 4733 key left out."""

    def __init__(self, det, call: "RtpCall"):
        self.det = det
        self.call = call

    def feed(self, chunk):
        return [d for d in self.det.feed(chunk) if not self.call._seen_event(d.digit, self.call.t0 + d.start)]

    def flush(self):
        return [d for d in self.det.flush() if not self.call._seen_event(d.digit, self.call.t0 + d.start)]

    def pop_starts(self):
        return self.det.pop_starts()

    @property
    def tone_active(self) -> bool:
        return self.det.tone_active


class RtpCall(AudioCall):
    """AudioCall fed from RTP, with prompts queued for RTP (see module docstring)."""

    def __init__(self, runtime: CallRuntime, voice, speech=None):
        super().__init__(runtime, RATE, voice, speech=speech)
        self.det = _DedupDetector(self.det, self)
        self._out: deque[np.ndarray] = deque()
        self._out_pos = 0
        self._hold: np.ndarray | None = None
        self._hold_pos = 0
        self._hold_t = 0.0
        self._keys_rfc: deque[tuple[float, str]] = deque(maxlen=16)
        self._keys_band: deque[tuple[float, str]] = deque(maxlen=16)
        self.keys_rfc4733 = 0
        self.keys_inband = 0
        self.samples_in = 0

    # ---- prompts out ---------------------------------------------------------------------
    def _after(self, actions, at: float) -> None:
        super()._after(actions, at)
        for a in actions:
            if isinstance(a, Play):
                audio = self.voice.render(a.text, RATE)
                if audio is not None and len(audio):
                    self._out.append(audio)
            elif isinstance(a, StopPlayback):
                self._out.clear()
                self._out_pos = 0

    @property
    def playing(self) -> bool:
        return bool(self._out)

    def next_frame(self) -> np.ndarray | None:
        """The next 20 ms the caller hears: prompt audio, hold music between queue
        announcements (when the queue config has it), or None for silence."""
        if self._out:
            out = np.zeros(FRAME, np.float32)
            got = 0
            while got < FRAME and self._out:
                cur = self._out[0]
                k = min(FRAME - got, len(cur) - self._out_pos)
                out[got:got + k] = cur[self._out_pos:self._out_pos + k]
                got += k
                self._out_pos += k
                if self._out_pos >= len(cur):
                    self._out.popleft()
                    self._out_pos = 0
            return out
        if self.rt.session.holding is not None and not self.rt.ended and self.rt.hold_music:
            from ivr.speech.holdmusic import hold_music

            if self._hold is None or self._hold_pos >= len(self._hold):
                self._hold = hold_music(HOLD_BLOCK_S, RATE, offset=self._hold_t)
                self._hold_t += HOLD_BLOCK_S
                self._hold_pos = 0
            f = self._hold[self._hold_pos:self._hold_pos + FRAME]
            self._hold_pos += FRAME
            return f
        return None

    # ---- caller in -----------------------------------------------------------------------
    def _seen_event(self, key: str, t: float) -> bool:
        dup = any(k == key and abs(t - te) <= DUPLICATE_S for te, k in self._keys_rfc)
        if not dup:
            self.keys_inband += 1
            self._keys_band.append((t, key))
        return dup

    def media(self, samples: np.ndarray, keys: list[tuple[int, str]]) -> None:
        """Caller audio that follows what came before, with RFC 4733 keys at their sample
        offsets within it (sorted)."""
        done = 0
        for off, key in keys:
            off = min(max(off, done), len(samples))
            if off > done:
                self.feed(samples[done:off])
                done = off
            if self.rt.ended:
                return
            at = max(self.t, self.t0 + (self.samples_in + off) / RATE)
            if any(k == key and abs(at - te) <= DUPLICATE_S for te, k in self._keys_band):
                continue     # the same press already heard in band
            self._keys_rfc.append((at, key))
            self.keys_rfc4733 += 1
            self._deliver([(at, 0, Digit(key, at=at))])
        if done < len(samples) and not self.rt.ended:
            self.feed(samples[done:])
        self.samples_in += len(samples)
        self.rt.now = max(self.rt.now, self.pos)

    def hangup(self) -> None:
        """The caller hung up (BYE), now: what was still to play is not heard."""
        self.prompt_ends.clear()
        if not self.rt.ended:
            self.feed_event(Hangup(at=max(self.t, self.pos)))
        self.rt.finish(max(self.t, self.pos))
