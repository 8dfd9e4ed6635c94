"""Interactive keypad call in a terminal: keys are read one at a time, without Enter.

The terminal is put in cbreak mode, and `select` waits for a key until the engine's next
deadline, so timeouts happen in real time exactly as the tree says. Prompts are shown as
text (and spoken through a `speaker` when one is given); a status line shows the current
node and the retries left.
"""
from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from typing import Protocol

from ivr.drivers.runtime import CallRuntime
from ivr.engine.events import Digit, Hangup, Listen, Play, PromptDone, StopPlayback

VALID_KEYS = set("0123456789*#ABCDabcd")
HANGUP_KEYS = {"q", "Q", "\x04", "\x03"}  # q, Ctrl-D, Ctrl-C


class Speaker(Protocol):
    def play(self, text: str) -> float: ...   # starts playing, returns seconds it lasts
    def stop(self) -> None: ...


class KeypadCall:
    def __init__(self, runtime: CallRuntime, speaker: Speaker | None = None, unmask: bool = False,
                 stream=sys.stdout, fd: int | None = None):
        self.rt = runtime
        self.speaker = speaker
        self.unmask = unmask
        self.out = stream
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.t0 = time.monotonic()
        self.prompt_ends: list[float] = []   # when each queued prompt will have been heard
        runtime.defer_end = True             # the call ends once the goodbye has been heard
        self.shown = 0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def _show(self, actions) -> None:
        for line in self.rt.transcript[self.shown:]:
            self.out.write("\r\x1b[K" + line.format(self.unmask) + "\n")
        self.shown = len(self.rt.transcript)
        for a in actions:
            if isinstance(a, Play):
                dur = self.speaker.play(a.text) if self.speaker is not None else 0.0
                start = max(self.now(), self.prompt_ends[-1] if self.prompt_ends else 0.0)
                self.prompt_ends.append(start + dur)
            if isinstance(a, StopPlayback):
                if self.speaker is not None:
                    self.speaker.stop()
                self.prompt_ends.clear()
        self._status()

    def _hold_music(self, now: float) -> bool:
        """While holding for an agent, keep hold music queued between announcements."""
        if self.speaker is None or self.rt.session.holding is None or not self.rt.hold_music:
            return False
        out = self.speaker.out
        if not out.busy:
            from ivr.speech.holdmusic import hold_music

            out.play(hold_music(0.5, out.rate, offset=now))
        return True

    def _status(self) -> None:
        li: Listen | None = self.rt.listen
        s = self.rt.session
        if s.ended or li is None:
            return
        node = s.tree.nodes[li.node]
        left_f = node.max_failures - s.failures
        left_t = node.max_timeouts - s.timeouts
        typed = s.listening.digits if s.listening else ""
        self.out.write(f"\r\x1b[K\x1b[2m[{li.node} ({node.kind}) | sisa percobaan {left_f}, sisa batas waktu {left_t}"
                       + (f" | input {'*' * len(typed)}" if typed else "")
                       + " | q = tutup telepon]\x1b[0m ")
        self.out.flush()

    def run(self) -> None:
        old = termios.tcgetattr(self.fd)
        try:
            tty.setcbreak(self.fd)
            self._show(self.rt.start(at=self.now()))
            while not self.rt.ended:
                now = self.now()
                if self.prompt_ends and now >= self.prompt_ends[0]:
                    self.prompt_ends.pop(0)
                    self._show(self.rt.feed(PromptDone(at=now)))
                    continue
                deadline = self.rt.next_deadline
                waits = [t - now for t in (deadline, self.prompt_ends[0] if self.prompt_ends else None) if t is not None]
                if self._hold_music(now):
                    waits.append(0.4)   # wake up to keep the music going
                timeout = max(0.0, min(waits)) if waits else None
                r, _, _ = select.select([self.fd], [], [], timeout)
                now = self.now()
                if not r:
                    if deadline is not None and now >= deadline:
                        self._show(self.rt.tick(now))
                    continue
                ch = os.read(self.fd, 1).decode("latin-1")
                if ch in HANGUP_KEYS or ch == "":
                    self._show(self.rt.feed(Hangup(at=now)))
                    break
                if ch in VALID_KEYS:
                    li = self.rt.listen
                    if li is None or not li.grammar.digits:   # collected digits show masked in the status line
                        self.rt.caller(ch.upper(), now)
                    self._show(self.rt.feed(Digit(ch.upper(), at=now)))
            self.rt.finish(max([self.now()] + self.prompt_ends))
            self._show([])
            if self.speaker is not None:   # let the goodbye be heard before the line drops
                end = time.monotonic() + 30
                while self.speaker.out.busy and time.monotonic() < end:
                    time.sleep(0.05)
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
            if self.speaker is not None:
                self.speaker.stop()
            self.out.write("\r\x1b[K")
            self.out.flush()
