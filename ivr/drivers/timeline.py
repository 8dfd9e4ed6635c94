"""A call on a simulated timeline: prompts take time, deadlines fire, nothing sleeps.

Shared by the scripted-keys driver and the WAV driver. Prompts are queued one after another
(each `Play` starts when the previous one ends and lasts `voice.duration(text)`); as time
moves forward, `advance_to` sends each prompt's `PromptDone` and each due timeout in time
order. Caller input arrives at its own time, so a key typed 0.3 s into a prompt barges in
exactly as it would on a real line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ivr.drivers.runtime import CallRuntime
from ivr.engine.events import Play, PromptDone, StopPlayback
from ivr.tree.budget import estimate_seconds   # one estimate, shared with lint


class PromptVoice(Protocol):
    """How long a prompt lasts and what it sounds like."""

    def duration(self, text: str) -> float: ...
    def render(self, text: str, rate: int) -> np.ndarray | None: ...


class EstimatedVoice:
    """No TTS: prompt lengths are estimated from the text; no prompt audio. Only a fallback:
    `ivr call --keys` measures prompts by rendering them (`ivr.speech.voice.TtsVoice`, the
    same cached TTS the WAV driver plays), because the estimate runs short on numbers
    (22.7 s estimated vs 31.7 s spoken for a filled-in status, issue 12)."""

    def duration(self, text: str) -> float:
        return estimate_seconds(text)

    def render(self, text: str, rate: int) -> np.ndarray | None:
        return None


@dataclass
class PlayedPrompt:
    text: str
    start: float
    end: float          # planned end
    cut: float | None = None  # barge-in time, if stopped
    line: object = None       # its transcript line (ivr.drivers.runtime.Line)


class Timeline:
    """Prompt scheduling and deadline firing over a runtime (see module docstring)."""

    def __init__(self, runtime: CallRuntime, voice: PromptVoice | None = None, t0: float = 0.0):
        self.rt = runtime
        self.voice = voice or EstimatedVoice()
        self.t = t0
        self.t0 = t0
        self.prompt_ends: list[float] = []   # end time of each prompt still playing, in order
        self.played: list[PlayedPrompt] = []
        runtime.defer_end = True   # the call ends when its last prompt has been heard

    @property
    def session(self):
        return self.rt.session

    @property
    def prompt_end(self) -> float | None:
        """When the prompts now queued will have finished."""
        return self.prompt_ends[-1] if self.prompt_ends else None

    def begin(self) -> None:
        self._after(self.rt.start(at=self.t), self.t)

    def _after(self, actions, at: float) -> None:
        for a in actions:
            if isinstance(a, Play):
                start = max(at, self.prompt_ends[-1] if self.prompt_ends else at)
                dur = self.voice.duration(a.text)
                line = self.rt.played_at(a, start)
                self.played.append(PlayedPrompt(a.text, start, start + dur, line=line))
                self.prompt_ends.append(start + dur)
            elif isinstance(a, StopPlayback):
                # only the prompts still queued can be cut: they are the last
                # len(prompt_ends) of `played` (each Play adds one to both; each PromptDone
                # pops the oldest). Looking no further keeps a long call linear.
                for p in self.played[len(self.played) - len(self.prompt_ends):]:
                    if p.cut is None and p.end > at:
                        p.cut = max(at, p.start)
                        if p.start >= at:   # queued behind the one cut: never heard
                            self.rt.not_played(p.line)
                self.prompt_ends.clear()
        if self.rt.ended:
            self.rt.finish(max([at] + self.prompt_ends))

    def feed_event(self, ev) -> None:
        """Deliver a caller event at its time (time must already have reached it)."""
        self._after(self.rt.feed(ev), ev.at)

    def advance_to(self, t: float) -> None:
        """Let time reach `t`: prompts end and deadlines fire, in time order."""
        while not self.rt.ended:
            cands = []
            if self.prompt_ends and self.prompt_ends[0] <= t:
                cands.append((self.prompt_ends[0], 0))
            dl = self.rt.next_deadline
            if dl is not None and dl <= t:
                cands.append((dl, 1))
            if not cands:
                break
            when, kind = min(cands)
            if kind == 0:
                self.prompt_ends.pop(0)
                self.feed_event(PromptDone(at=when))
            else:
                self._after(self.rt.tick(when), when)
        self.t = max(self.t, t)

    def settle(self, limit_s: float = 3600.0) -> None:
        """Run until the call waits for the caller with nothing playing and no input pending
        (or it ends)."""
        while not self.rt.ended and self.t < self.t0 + limit_s:
            li = self.session.listening
            if self.prompt_ends:
                self.advance_to(self.prompt_ends[-1])
            elif li is not None and li.digits:
                dl = self.rt.next_deadline
                if dl is None:
                    break
                self.advance_to(dl)
            else:
                break

    def run_until_end(self, limit_s: float = 3600.0) -> None:
        """The caller stays silent until the call ends by itself."""
        self.run_silent_while(lambda: True, self.t0 + limit_s)

    def run_silent_while(self, condition, until: float) -> None:
        """The caller stays silent, event after event, while `condition()` holds, the call
        lasts and time is before `until`."""
        while condition() and not self.rt.ended and self.t < until:
            nxt = [x for x in (self.prompt_ends[0] if self.prompt_ends else None, self.rt.next_deadline)
                   if x is not None]
            if not nxt:
                break
            self.advance_to(max(min(nxt), self.t))
