"""Interactive keypad call in a terminal: keys are read one at a time, without Enter.

The terminal is put in cbreak mode, and `select` waits for a key until the next prompt end
or deadline, so timeouts happen in real time exactly as the tree says. Prompt scheduling is
the `Timeline`'s, on a clock that is the wall clock since the call started: prompts are
shown as text (and spoken through a `speaker` when one is given, which also says how long
each lasts); a status line shows the current node and the retries left.
"""
from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from typing import Protocol

import numpy as np

from ivr.drivers.runtime import CallRuntime
from ivr.drivers.timeline import Timeline
from ivr.drivers.transcript import TranscriptPrinter
from ivr.engine.events import Digit, Hangup, Play, StopPlayback
from ivr.speech.holdmusic import HoldMusicFeed

VALID_KEYS = set("0123456789*#ABCDabcd")
HANGUP_KEYS = {"q", "Q", "\x04", "\x03"}  # q, Ctrl-D, Ctrl-C
HOLD_WAKE_S = 0.4   # while on hold, wake this often to keep the music queued


def _keypad_mode(fd: int) -> None:
    """cbreak (keys one at a time, no echo, Ctrl-C still interrupts) with flow control off:
    a caller's Ctrl-S would otherwise stop the terminal's output, and the call would hang in
    its next write, deaf to `q`, until a Ctrl-Q nobody knows to press."""
    tty.setcbreak(fd)
    mode = termios.tcgetattr(fd)
    mode[0] &= ~termios.IXON            # iflag
    termios.tcsetattr(fd, termios.TCSANOW, mode)


class Speaker(Protocol):
    """Prompt audio out (`ivr.speech.speaker.TtsSpeaker`)."""

    voice: object   # a PromptVoice: how long a prompt lasts
    out: object     # an OutputQueue: rate, busy, play(audio), drain()

    def play(self, text: str) -> float: ...   # starts playing, returns seconds it lasts
    def stop(self) -> None: ...


class _TextOnly:
    """Prompts shown as text last no time."""

    def duration(self, text: str) -> float:
        return 0.0

    def render(self, text: str, rate: int) -> np.ndarray | None:
        return None


class KeypadCall(Timeline):
    def __init__(self, runtime: CallRuntime, speaker: Speaker | None = None, unmask: bool = False,
                 stream=sys.stdout, fd: int | None = None):
        super().__init__(runtime, speaker.voice if speaker is not None else _TextOnly())
        self.speaker = speaker
        self.out = stream
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.t_start = time.monotonic()
        self.printer = TranscriptPrinter(runtime, stream, unmask, prefix="\r\x1b[K")
        self.music = HoldMusicFeed(speaker.out.rate) if speaker is not None else None

    def now(self) -> float:
        return time.monotonic() - self.t_start

    def _after(self, actions, at: float) -> None:
        super()._after(actions, at)
        if self.speaker is not None:
            for a in actions:
                if isinstance(a, Play):
                    self.speaker.play(a.text)
                elif isinstance(a, StopPlayback):
                    self.speaker.stop()
        self.printer.show()
        self._status()

    def _status(self) -> None:
        st = self.session.status
        if st.ended or st.listening is None:
            return
        kind = self.rt.tree.nodes[st.listening].kind
        self.out.write(f"\r\x1b[K\x1b[2m[{st.listening} ({kind}) | sisa percobaan {st.retries_left}, "
                       f"sisa batas waktu {st.timeouts_left}"
                       + (f" | input {'*' * st.typed}" if st.typed else "")
                       + " | q = tutup telepon]\x1b[0m ")
        self.out.flush()

    def _wait_s(self) -> float | None:
        """How long select may wait for a key: until the next prompt end or deadline."""
        waits = [t - self.t for t in (self.rt.next_deadline, self.prompt_ends[0] if self.prompt_ends else None)
                 if t is not None]
        if self.music is not None and self.rt.music_on_hold:
            if not self.prompt_ends:
                self.music.keep_queued(self.speaker.out)   # between announcements
            waits.append(HOLD_WAKE_S)
        return max(0.0, min(waits)) if waits else None

    def run(self) -> None:
        old = termios.tcgetattr(self.fd)
        try:
            _keypad_mode(self.fd)
            self.t = self.t0 = self.now()
            self.begin()
            while not self.rt.ended:
                self.advance_to(self.now())
                if self.rt.ended:
                    break
                r, _, _ = select.select([self.fd], [], [], self._wait_s())
                self.advance_to(self.now())
                if not r or self.rt.ended:
                    continue
                ch = os.read(self.fd, 1).decode("latin-1")
                if ch in HANGUP_KEYS or ch == "":
                    self.feed_event(Hangup(at=self.t))
                    break
                if ch in VALID_KEYS:
                    li = self.rt.listen
                    if li is None or not li.grammar.digits:   # collected digits show masked in the status line
                        self.rt.caller(ch.upper(), self.t)
                    self.feed_event(Digit(ch.upper(), at=self.t))
            self.rt.finish(max([self.now()] + self.prompt_ends))
            self.printer.show()
            if self.speaker is not None:   # let the goodbye be heard before the line drops
                self.speaker.out.drain()
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
            if self.speaker is not None:
                self.speaker.stop()
            self.out.write("\r\x1b[K")
            self.out.flush()
