"""The one recogniser interface every speech engine implements.

Life of one listen::

    rec.start(grammar)          # the node's grammar (ivr.grammar.Grammar)
    rec.feed(pcm)               # float32, 16 kHz, mono, any chunk size; may return a Partial
    rec.endpoint                # True once the caller has stopped (energy endpointer)
    rec.finish() -> RecognitionResult

Engines differ in how they decode, not in this contract, so the engine, the drivers, the
CLI and the bench never know which one they talk to.  Out-of-grammar or unsure speech is
`nomatch=True` (the engine plays its no-match prompt), never a wrong choice.
"""
from __future__ import annotations

import datetime as dt

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace

import numpy as np

from ivr.grammar import Grammar, RecognitionResult

from .answer import AnswerCheck
from .endpoint import EndpointConfig, EnergyEndpointer
from .matcher import Match

RATE = 16000


class RecognizerError(RuntimeError):
    """A recogniser that cannot run (model missing, package missing): one clear line."""


class UnsupportedLanguage(RecognizerError):
    """The engine has no model for the language code it was asked to listen for. A type of
    its own so that a command can say where the code came from (the tree's `language:`)
    without reading the engine's message text, whatever the engine's wording."""

    def __init__(self, message: str, language: str):
        super().__init__(message)
        self.language = language


@dataclass(frozen=True)
class Partial:
    """An interim hypothesis while the caller is still speaking (may change)."""

    text: str
    words: tuple[str, ...] = ()
    at: float = 0.0  # audio time of the hypothesis


def join_digits(first: RecognitionResult, rest: RecognitionResult, grammar: Grammar,
                today: dt.date | None = None) -> RecognitionResult:
    """Two listens of one collect, joined as the call engine joins them: a no-match in
    either is a no-match (the caller is asked again); otherwise the digits follow on."""
    if rest.extra.get("reason") == "silence":
        return first
    if first.nomatch or rest.nomatch or first.digits is None or rest.digits is None:
        bad = first if first.nomatch or first.digits is None else rest
        return replace(bad, nomatch=True, choice=None, text=f"{first.text} {rest.text}".strip(),
                       extra=dict(rest.extra, reason=bad.extra.get("reason", "nomatch"), pieces=2))
    digits = first.digits + rest.digits
    ok = AnswerCheck(grammar, today)(digits)
    return replace(rest, text=f"{first.text} {rest.text}".strip(), digits=digits, words=first.words + rest.words,
                   confidence=min(first.confidence, rest.confidence), nomatch=not ok, start=first.start,
                   extra=dict(rest.extra, pieces=1 + rest.extra.get("pieces", 1), **({} if ok else {"reason": "invalid"})))


class Recognizer(ABC):
    """Base class: keeps the audio of the current utterance and runs the endpointer."""

    name = "base"

    def __init__(self, endpoint: EndpointConfig | None = None):
        self._ep = EnergyEndpointer(endpoint)
        self.grammar: Grammar | None = None
        self.accepts: AnswerCheck | None = None
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._started_wall = 0.0

    # -------------------------------------------------------------- interface
    #: The call's date (`--today`), set by the driver: a date of birth is judged on it, as
    #: the engine's own validator judges it. None: the machine's date.
    today: dt.date | None = None

    def start(self, grammar: Grammar) -> None:
        self.grammar = grammar
        # what a digit answer must be (length, the collect's validator): the one place
        # engines learn it; they pick among their alternatives with it
        self.accepts = AnswerCheck(grammar, self.today)
        self._ep.reset()
        self._chunks = []
        self._samples = 0
        self._started_wall = time.perf_counter()
        self._on_start(grammar)

    def feed(self, pcm: np.ndarray) -> Partial | None:
        if self.grammar is None:
            raise RecognizerError("feed() before start(grammar)")
        x = np.asarray(pcm, dtype=np.float32).reshape(-1)
        if x.size == 0:
            return None
        self._chunks.append(x)
        self._samples += x.size
        events = self._ep.feed(x)
        return self._on_audio(x, events)

    @abstractmethod
    def finish(self) -> RecognitionResult:
        """Final result of the utterance fed since start()."""

    def recognize(self, pcm: np.ndarray, grammar: Grammar, chunk: float = 0.1) -> RecognitionResult:
        """Convenience: run a whole utterance through start/feed/finish in `chunk`-second steps."""
        self.start(grammar)
        x = np.asarray(pcm, dtype=np.float32).reshape(-1)
        step = max(1, int(chunk * RATE))
        for i in range(0, len(x), step):
            self.feed(x[i:i + step])
        t0 = time.perf_counter()
        r = self.finish()
        if "latency" not in r.extra and r.extra.get("reason") != "silence":
            # a streaming engine decoded while the audio came: the caller waits for the
            # endpointer, then for finish()
            r.extra["latency"] = round(self.end_delay + time.perf_counter() - t0, 3)
        cut = r.extra.get("cut_at")
        if cut is not None and grammar.digits and int(cut * RATE) < len(x):
            # the listen ended at a pause (early end); as in a call, the rest is the next
            # listen and a collect joins the digits (ivr.engine.session)
            part = replace(grammar, min_digits=1, max_digits=max(1, grammar.max_digits - len(r.digits or "")))
            rest = self.recognize(x[int(cut * RATE):], part, chunk)
            self.grammar, self.accepts = grammar, AnswerCheck(grammar, self.today)
            return join_digits(r, rest, grammar, self.today)
        return r

    def close(self) -> None:
        """Free threads or native handles (optional)."""

    @property
    def endpoint(self) -> bool:
        """True once the caller has stopped speaking (trailing silence seen)."""
        return self._ep.ended

    @property
    def speech_start(self) -> float | None:
        """Seconds into the utterance where the caller started speaking (None: not yet)."""
        return self._ep.speech_start

    @property
    def end_delay(self) -> float:
        """Seconds of silence the endpointer waits before it calls the utterance over."""
        return self._ep.cfg.end_ms / 1000

    @property
    def duration(self) -> float:
        return self._samples / RATE

    # -------------------------------------------------------------- for engines
    def _on_start(self, grammar: Grammar) -> None:
        pass

    def _on_audio(self, x: np.ndarray, events: list) -> Partial | None:
        return None

    def audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0] if self._chunks else np.zeros(0, dtype=np.float32)

    def _result(self, text: str, match: Match, confidence: float, **extra) -> RecognitionResult:
        start = self._ep.speech_start or 0.0
        end = self._ep.speech_end or self.duration
        extra.setdefault("reason", match.reason)
        extra.setdefault("similarity", round(match.similarity, 4))
        return RecognitionResult(
            text=text.strip(), choice=match.choice, digits=match.digits, words=match.words,
            confidence=round(float(confidence), 4), nomatch=match.nomatch, engine=self.name,
            start=round(start, 3), end=round(end, 3), extra=extra,
        )
