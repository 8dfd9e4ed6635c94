"""Caller speech for the audio drivers (WAV file, microphone): a recogniser run over the
caller's audio, one utterance at a time, against the grammar of the current listen.

It turns the recogniser's endpointing into the engine's own typed events: `SpeechStarted(at)`
when the caller starts to speak (barge-in) and `Speech(result, at)` when an utterance is
recognised, `at` on the driver's timeline. DTMF tones are not speech: while a
tone sounds the recogniser is reset (`mute`), so a key press never becomes a no-match.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ivr.engine.events import Speech, SpeechStarted
from ivr.grammar import Grammar

MAX_UTTERANCE_S = 15.0
MAX_LEAD_S = 30.0   # silence kept before an utterance starts; older silence is dropped


class RecognizerInput:
    def __init__(self, recognizer, max_utterance_s: float = MAX_UTTERANCE_S):
        self.rec = recognizer
        self.grammar: Grammar | None = None
        self.max_utterance_s = max_utterance_s
        self.origin: float | None = None   # driver time of the utterance's first sample
        self.announced = False
        self.results = 0

    def set_grammar(self, grammar: Grammar, today=None) -> None:
        """Listen for `grammar`; `today` is the call's date (a spoken date of birth is
        judged on it, as the engine's validator judges a keyed one)."""
        if today is not None:
            self.rec.today = today
        # A caller may read a long number in groups ("tiga dua tujuh tiga ... nol nol nol
        # tiga"); the engine joins the groups, so one utterance may hold any part of it.
        if grammar.digits and grammar.min_digits > 1:
            grammar = dataclasses.replace(grammar, min_digits=1)
        self.grammar = grammar
        self._restart()

    def _restart(self) -> None:
        if self.grammar is not None:
            self.rec.start(self.grammar)
        self.origin = None
        self.announced = False

    def mute(self) -> None:
        """A DTMF tone is sounding: drop whatever was heard of this utterance."""
        self._restart()

    def feed(self, pcm16k: np.ndarray, t0: float) -> list[SpeechStarted | Speech]:
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
            out.append(self._final())
        return out

    def _final(self) -> Speech:
        t = self.origin + self.rec.duration
        result = self.rec.finish()
        self.results += 1
        self._restart()
        return Speech(result, at=t)

    def flush(self, t: float) -> list[Speech]:
        """End of the audio: an utterance in progress is recognised as it is."""
        if self.grammar is None or self.origin is None or not self.announced:
            return []
        return [self._final()]
