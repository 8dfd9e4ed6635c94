"""A call driven by a script on a virtual clock: `ivr call --keys` and the scenario runner.

Time is simulated (see `ivr.drivers.timeline`): prompts take the time a speaker needs to
say them, and waiting means jumping the clock to the next event. A three-minute call runs
in well under a millisecond, and the same script always gives the same call.
"""
from __future__ import annotations

import dataclasses

from ivr.drivers.timeline import Timeline
from ivr.engine.events import Digit, Hangup, Speech
from ivr.grammar import Grammar, RecognitionResult
from ivr.speech.asr.matcher import GrammarMatcher

KEY_GAP = 0.3          # seconds between two key presses of one burst
THINK = 0.5            # seconds after a prompt before the caller reacts


def match_text(text: str, grammar: Grammar) -> RecognitionResult:
    """Turn caller *text* into what a perfect recogniser returns for this grammar: the
    matcher every recogniser uses (`GrammarMatcher`), in its exact mode, so a scenario's
    `say:` meets the rule real callers meet ("dua" picks a menu's key 2, fillers are
    dropped, a digit string must have the collect's length). Used by scripts that say
    `say: "status"` without audio."""
    m = GrammarMatcher(grammar).match_exact(text)
    return RecognitionResult(text, choice=m.choice, digits=m.digits, words=m.words, confidence=1.0,
                             nomatch=m.nomatch, engine="text")


class ScriptedCall(Timeline):
    """Drive a CallRuntime from a key/speech script on a virtual clock."""

    def start(self) -> None:
        self.begin()

    def _ready(self) -> None:
        """The caller listens to the end of the prompts, then reacts a moment later."""
        self.settle()
        self.advance_to(self.t + THINK)

    def _during_last_prompt(self) -> None:
        """Move to one second into the last queued prompt (the question being asked)."""
        if self.prompt_ends and self.played:
            last = self.played[-1]
            self.advance_to(max(self.t, last.start + min(1.0, (last.end - last.start) / 2)))

    def press(self, keys: str, barge: bool = False) -> None:
        """Press keys. Each group of keys answers the question just asked: the caller hears
        the prompts out first. A space is a pause long enough to end an inter-digit timeout;
        `w` waits one full timeout of the current node (while holding for an agent: until
        the agent answers). With `barge`, the first group is
        pressed while the last prompt is still playing (barge-in)."""
        if barge:
            self._during_last_prompt()
        else:
            self._ready()
        for k in keys:
            if self.rt.ended:
                break
            if k in " w":
                self.rt.end_burst()
                li = self.rt.listen
                if li is None:
                    continue
                if k == " ":
                    self.advance_to(self.t + li.inter_digit_timeout + 0.01)
                elif self.session.status.holding:
                    self.wait_for_agent()
                else:
                    self.settle()
                    self.advance_to(self.t + li.timeout + 0.01)
                self._ready()
                continue
            self.rt.caller(k, self.t, burst=True)
            self.feed_event(Digit(k, at=self.t))
            self.advance_to(self.t + KEY_GAP)
        self.rt.end_burst()

    def wait_for_agent(self, limit_s: float = 3600.0) -> None:
        """Hold (silently) until the call leaves the agent queue."""
        self.run_silent_while(lambda: self.session.status.holding, self.t + limit_s)

    def wait(self, seconds: float) -> None:
        """Stay silent for `seconds` (counted from the end of the prompts now playing)."""
        self.settle()
        self.advance_to(self.t + seconds)

    def finish_input(self) -> None:
        """The caller stops: prompts play out and a half-entered collect times out."""
        self.settle()

    def say(self, text: str, result: RecognitionResult | None = None, confidence: float | None = None) -> None:
        """The caller speaks `text`; `result` overrides the simulated recognition, and
        `confidence` the recogniser's confidence in it (a scenario's unsure answer)."""
        self._ready()
        listen = self.rt.listen
        grammar = listen.grammar if listen else Grammar()
        r = result or match_text(text, grammar)
        if confidence is not None:
            r = dataclasses.replace(r, confidence=float(confidence))
        self.rt.caller(f'"{text}"', self.t, said=dataclasses.replace(r, text=text))
        self.advance_to(self.t + 0.4 + 0.3 * len(text.split()))
        self.feed_event(Speech(r, at=self.t))

    def hangup(self) -> None:
        if not self.rt.ended:
            self.feed_event(Hangup(at=self.t))
