"""A call driven by a script on a virtual clock: `ivr call --keys` and the scenario runner.

Time is simulated: prompts take the time a speaker would need to say them (estimated from
their length unless the caller gives a duration function, e.g. real TTS lengths), and
waiting means jumping the clock to the engine's next deadline. A three-minute call runs in
well under a millisecond, and the same script always gives the same call.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from ivr.drivers.runtime import CallRuntime
from ivr.engine.events import Digit, Hangup, Play, PromptDone, Speech
from ivr.engine.grammar import DIGIT_WORDS, Grammar, RecognitionResult

KEY_GAP = 0.3          # seconds between two key presses of one burst
THINK = 0.5            # seconds after a prompt before the caller reacts
CHARS_PER_SECOND = 14.0


def estimate_seconds(text: str) -> float:
    """Rough spoken length of a prompt (espeak-ng at ~165 words/min says ~14 chars/s)."""
    return 0.3 + len(text) / CHARS_PER_SECOND


def match_text(text: str, grammar: Grammar) -> RecognitionResult:
    """Turn caller *text* into what a perfect recogniser would return for this grammar:
    a phrase of a choice, or a digit string; anything else is a no-match. Used by scripts
    that say `say: "status"` without audio."""
    norm = " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())
    phrases = {p: tok for c in grammar.choices for p in c.phrases for tok in [c.token]}
    if norm in phrases:
        return RecognitionResult(text, choice=phrases[norm], words=(norm,), confidence=1.0, nomatch=False, engine="text")
    if grammar.digits and norm:
        digits = []
        for w in norm.split():
            if w.isdigit():
                digits.append(w)
            elif w in DIGIT_WORDS:
                digits.append(DIGIT_WORDS[w])
            else:
                digits = None
                break
        if digits:
            d = "".join(digits)
            return RecognitionResult(text, digits=d, words=tuple(norm.split()), confidence=1.0, nomatch=False, engine="text")
    return RecognitionResult(text, confidence=1.0, nomatch=True, engine="text")


class ScriptedCall:
    """Drive a CallRuntime on a virtual clock."""

    def __init__(self, runtime: CallRuntime, duration: Callable[[str], float] = estimate_seconds):
        self.rt = runtime
        self.duration = duration
        self.t = 0.0
        self.plays_pending = 0.0

    @property
    def session(self):
        return self.rt.session

    def start(self) -> None:
        self._after(self.rt.start(at=0.0))

    def _after(self, actions) -> None:
        """Account for prompts: they play one after another; then PromptDone."""
        total = sum(self.duration(a.text) for a in actions if isinstance(a, Play))
        if total and not self.rt.ended:
            self.t += total
            self._after(self.rt.feed(PromptDone(at=self.t)))

    def _ready(self) -> None:
        """The caller reacts a moment after the prompt ends."""
        self.t += THINK

    def press(self, keys: str, barge: bool = False) -> None:
        """Press keys. A space pauses long enough to end an inter-digit timeout; `w` waits
        one full timeout of the current node. With `barge`, the first key is pressed while
        the prompt is still playing (the prompt's PromptDone is not sent first)."""
        if not barge:
            self._ready()
        burst = ""
        for k in keys:
            if self.rt.ended:
                break
            if k in " w":
                if burst:
                    self.rt.caller(burst, self.t)
                    burst = ""
                li = self.rt.listen
                if li is None:
                    continue
                self.wait(li.inter_digit_timeout + 0.01 if k == " " else li.timeout + 0.01)
                continue
            burst += k
            self._after(self.rt.feed(Digit(k, at=self.t)))
            self.t += KEY_GAP
        if burst:
            self.rt.caller(burst, self.t)

    def wait(self, seconds: float) -> None:
        """Stay silent for `seconds`: every deadline in between fires."""
        end = self.t + seconds
        while not self.rt.ended:
            dl = self.rt.next_deadline
            if dl is None or dl > end:
                break
            self.t = max(self.t, dl)
            self._after(self.rt.tick(self.t))
        self.t = max(self.t, end)

    def finish_input(self) -> None:
        """The caller stops typing: a half-entered collect ends by inter-digit timeout."""
        li = self.session.listening
        if li is not None and li.digits and not self.rt.ended:
            self.wait(self.session.next_deadline - self.t + 0.01)

    def say(self, text: str, result: RecognitionResult | None = None) -> None:
        """The caller speaks `text`; `result` overrides the simulated recognition."""
        self._ready()
        listen = self.rt.listen
        grammar = listen.grammar if listen else Grammar()
        r = result or match_text(text, grammar)
        self.rt.caller(f'"{text}"', self.t)
        self.t += 0.4 + 0.3 * len(text.split())
        self._after(self.rt.feed(Speech(r, at=self.t)))

    def hangup(self) -> None:
        if not self.rt.ended:
            self.rt.feed(Hangup(at=self.t))

    def run_until_end(self, limit: float = 3600.0) -> None:
        """Caller stays silent until the call ends (timeouts run their course)."""
        while not self.rt.ended and self.t < limit:
            dl = self.rt.next_deadline
            if dl is None:
                break
            self.wait(max(dl - self.t, 0.0) + 0.001)
