"""Energy endpointer: when did the caller start speaking, pause, resume, stop.

Why energy and not a neural VAD: it costs microseconds per 10 ms frame, needs no model
and behaves the same on every machine; the noise floor adapts, so 10 dB SNR line noise
does not read as speech.  The recognisers use its *pause* event to start decoding while
the endpointer is still waiting to be sure (the *end* event), which hides most of the
decoding time from the caller.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 16000
FRAME = 160  # 10 ms


@dataclass(frozen=True)
class EndpointEvent:
    """`kind` is speech_start, pause, resume or end; `at` is seconds on the audio timeline
    (for pause/end: where the speech stopped, not when the silence was confirmed)."""

    kind: str
    at: float
    detected_at: float  # audio time when the endpointer knew it


@dataclass
class EndpointConfig:
    threshold_db: float = 10.0     # above the noise floor
    min_level_db: float = -55.0    # never speech below this (dBFS)
    start_frames: int = 5          # 50 ms of speech to start
    pause_ms: float = 150.0        # silence that starts a speculative decode
    end_ms: float = 600.0          # silence that ends the utterance
    hangover_frames: int = 4       # short dips inside words are not silence


class EnergyEndpointer:
    """Streaming; feed float32 16 kHz mono in any chunk sizes."""

    def __init__(self, config: EndpointConfig | None = None):
        self.cfg = config or EndpointConfig()
        self.reset()

    def reset(self) -> None:
        self._rest = np.zeros(0, dtype=np.float32)
        self.frames = 0
        self.floor_db: float | None = None
        self.in_speech = False     # inside speech (or a short pause within it)
        self.paused = False
        self.ended = False
        self.speech_start: float | None = None
        self.speech_end: float | None = None
        self._run = 0              # consecutive voiced frames
        self._silent = 0           # consecutive unvoiced frames after speech
        self._events: list[EndpointEvent] = []

    def feed(self, pcm: np.ndarray) -> list[EndpointEvent]:
        x = np.concatenate([self._rest, np.asarray(pcm, dtype=np.float32).reshape(-1)])
        n = len(x) // FRAME
        self._rest = x[n * FRAME:]
        if n == 0:
            return []
        fr = x[: n * FRAME].reshape(n, FRAME)
        db = 10.0 * np.log10(np.mean(fr.astype(np.float64) ** 2, axis=1) + 1e-12)
        out: list[EndpointEvent] = []
        c = self.cfg
        for level in db.tolist():
            self.frames += 1
            t = self.frames * FRAME / RATE
            if self.floor_db is None:
                self.floor_db = level
            # floor: follows drops at once, rises slowly (speech must not lift it much)
            if level < self.floor_db:
                self.floor_db = level
            else:
                self.floor_db += 0.002 * (level - self.floor_db) if self.in_speech else 0.02 * (level - self.floor_db)
            voiced = level > max(self.floor_db + c.threshold_db, c.min_level_db)
            if self.ended:
                continue
            if voiced:
                self._run += 1
                self._silent = 0
                if not self.in_speech and self._run >= c.start_frames:
                    self.in_speech = True
                    self.speech_start = t - self._run * FRAME / RATE
                    out.append(EndpointEvent("speech_start", self.speech_start, t))
                elif self.paused and self._run >= c.start_frames:
                    self.paused = False
                    out.append(EndpointEvent("resume", t - self._run * FRAME / RATE, t))
                if self.in_speech and not self.paused:
                    self.speech_end = t
            else:
                self._run = 0
                if not self.in_speech:
                    continue
                self._silent += 1
                silent_s = self._silent * FRAME / RATE
                if not self.paused and silent_s * 1000 >= max(c.pause_ms, c.hangover_frames * 10):
                    self.paused = True
                    out.append(EndpointEvent("pause", self.speech_end or t, t))
                if self.paused and silent_s * 1000 >= c.end_ms:
                    self.ended = True
                    out.append(EndpointEvent("end", self.speech_end or t, t))
        self._events += out
        return out

    @property
    def events(self) -> list[EndpointEvent]:
        return list(self._events)
