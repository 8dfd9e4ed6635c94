"""Caller speech for the audio drivers (WAV file, microphone, SIP): a recogniser run over the
caller's audio, one utterance at a time, against the grammar of the current listen.

It turns the recogniser's endpointing into the engine's own typed events: `SpeechStarted(at)`
when the caller starts to speak (barge-in) and `Speech(result, at)` when an utterance is
recognised, `at` on the driver's timeline. DTMF tones are not speech: while a
tone sounds the recogniser is reset (`mute`), so a key press never becomes a no-match.

Background mode (`background=True`, the SIP server): `finish()` may take a second or more
(a Whisper decode), and a server runs every call on one loop, so the answer is worked out on
a worker thread and `feed()` returns at once. A later `feed()` (or `flush()`) that finds the
answer ready emits `Speech` stamped with the audio time it was found ready: the input
stream's time is the clock, and that is when a live caller hears the system react. Offline
drivers keep the synchronous default, so their results stay the same run after run.
"""
from __future__ import annotations

import dataclasses
from concurrent.futures import Future, ThreadPoolExecutor, wait

import numpy as np

from ivr.engine.events import Speech, SpeechStarted
from ivr.grammar import Grammar

MAX_UTTERANCE_S = 15.0
MAX_LEAD_S = 30.0   # silence kept before an utterance starts; older silence is dropped
RATE = 16000        # the recogniser's input rate


@dataclasses.dataclass
class _Pending:
    """An answer being worked out on the worker thread."""

    future: Future
    at: float             # audio time of the end of the utterance: the earliest stamp
    origin: float         # audio time of the utterance's first sample (result.end counts from it)
    stale: bool = False   # a new listen or a key came meanwhile: the answer is nobody's


class RecognizerInput:
    """One call's speech input. `background`: finish() on a worker thread (see module
    docstring); `owns`: `close()` also closes the recogniser (one per call)."""

    def __init__(self, recognizer, max_utterance_s: float = MAX_UTTERANCE_S, background: bool = False,
                 owns: bool = False):
        self.rec = recognizer
        self.grammar: Grammar | None = None
        self.max_utterance_s = max_utterance_s
        self.origin: float | None = None   # driver time of the utterance's first sample
        self.announced = False
        self.results = 0
        self.background = background
        self.owns = owns
        self.dropped_s = 0.0               # caller audio not heard while an answer was pending
        self._pending: _Pending | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._today = None

    def set_grammar(self, grammar: Grammar, today=None) -> None:
        """Listen for `grammar`; `today` is the call's date (a spoken date of birth is
        judged on it, as the engine's validator judges a keyed one)."""
        if today is not None:
            self._today = today
        # A caller may read a long number in groups ("tiga dua tujuh tiga ... nol nol nol
        # tiga"); the engine joins the groups, so one utterance may hold any part of it.
        if grammar.digits and grammar.min_digits > 1:
            grammar = dataclasses.replace(grammar, min_digits=1)
        self.grammar = grammar
        self._restart()

    def _restart(self) -> None:
        self.origin = None
        self.announced = False
        if self._pending is not None:
            # the recogniser is busy on the worker (it is not thread-safe): this answer
            # belongs to a listen that is over; the new listen starts once it is done
            self._pending.stale = True
            return
        if self._today is not None:
            self.rec.today = self._today
        if self.grammar is not None:
            self.rec.start(self.grammar)

    def mute(self) -> None:
        """A DTMF tone is sounding: drop whatever was heard of this utterance (and an answer
        still being worked out: the key is the caller's answer)."""
        self._restart()

    def feed(self, pcm16k: np.ndarray, t0: float) -> list[SpeechStarted | Speech]:
        if self._pending is not None:
            # The listen ended at the endpoint and the engine reacts when the answer comes;
            # meanwhile the recogniser is busy on the worker and must not be fed, so this
            # audio is not heard (as a caller talking over a system that is thinking).
            self.dropped_s += len(pcm16k) / RATE
            return self._collect(t0 + len(pcm16k) / RATE)
        if self.grammar is None or len(pcm16k) == 0:
            return []
        if self.origin is not None and self.rec.speech_start is None and self.rec.duration >= MAX_LEAD_S:
            # nobody has spoken for a long while (an hour on hold): forget the silence, so
            # the recogniser holds at most MAX_LEAD_S + max_utterance_s of audio
            self._restart()
        if self.origin is None:
            self.origin = t0
        self.rec.feed(pcm16k)
        out: list[SpeechStarted | Speech] = []
        start = self.rec.speech_start
        if start is not None and not self.announced:
            self.announced = True
            out.append(SpeechStarted(at=self.origin + start))
        too_long = start is not None and self.rec.duration - start > self.max_utterance_s
        if self.rec.endpoint or too_long:
            if self.background:
                self._submit()
            else:
                out.append(self._final())
        return out

    def _final(self) -> Speech:
        t = self.origin + self.rec.duration
        result = self.rec.finish()
        self.results += 1
        self._restart()
        return Speech(result, at=t)

    def _submit(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recognizer")
        at = self.origin + self.rec.duration
        self._pending = _Pending(self._pool.submit(self.rec.finish), at, self.origin)

    def _collect(self, now: float) -> list[Speech]:
        """The pending answer, if it is ready, as `Speech` at `now` (not before the end of
        the utterance); the recogniser then starts the current listen afresh."""
        p = self._pending
        if p is None or not p.future.done():
            return []
        self._pending = None
        self._restart()
        if p.stale:
            return []
        result = p.future.result()   # an error in the recogniser surfaces here, as finish()'s would
        self.results += 1
        at = max(p.at, now)
        if result.end > 0:
            # what the caller lived through: end of speech -> the answer reaching the call
            # (the endpointer's wait, the decode, and any wait for a CPU other calls use);
            # `bench.sip --voice` reads it from the call logs
            result = dataclasses.replace(result, extra={**result.extra,
                                                        "answer_delay_s": round(at - (p.origin + result.end), 3)})
        return [Speech(result, at=at)]

    @property
    def pending(self) -> bool:
        """An answer is being worked out on the worker thread."""
        return self._pending is not None

    def flush(self, t: float) -> list[Speech]:
        """End of the audio: an answer being worked out is waited for (nothing more will
        come to pick it up), and an utterance in progress is recognised as it is."""
        if self._pending is not None:
            wait([self._pending.future])
            return self._collect(t)
        if self.grammar is None or self.origin is None or not self.announced:
            return []
        return [self._final()]

    def close(self) -> None:
        """The call is over: an answer still pending is dropped (its worker finishes it in
        the background; nothing waits for it), the worker thread ends, and an owned
        recogniser is closed once it is free."""
        p, self._pending = self._pending, None
        self.grammar = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        if p is not None:
            p.stale = True
        if not self.owns:
            return
        if p is not None:
            p.future.add_done_callback(lambda _f: self.rec.close())   # at once if already done
        else:
            self.rec.close()
