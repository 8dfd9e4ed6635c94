"""Printing a call's transcript: the one printer for every driver.

Live drivers (keypad, microphone) print lines as they come; a line of keys still being typed
is held back until the entry is complete (so a NIK typed key by key is one masked line).
Simulated calls (`ivr call --keys/--wav`) print the whole transcript at the end, in time
order. Either way each line is masked by `Line.format` unless `unmask`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from ivr.drivers.runtime import CallRuntime, Line


class TranscriptPrinter:
    """Prints the lines of `rt.transcript` not printed yet (see module docstring)."""

    def __init__(self, rt: CallRuntime, out: TextIO, unmask: bool = False, prefix: str = "",
                 tag: Callable[[Line], str] | None = None):
        self.rt = rt
        self.out = out
        self.unmask = unmask
        self.prefix = prefix   # e.g. "\r\x1b[K" to overwrite a terminal status line
        self.tag = tag         # per-line label, e.g. the call and node of a SIP trace
        self.shown = 0

    def show(self, final: bool = False) -> None:
        """Print the complete new lines; `final`: the call is over, print them all."""
        lines = self.rt.transcript
        upto = len(lines)
        typing = None if final else self.rt.typing
        if typing is not None:   # keys still being typed: print from there once the entry is complete
            for i in range(self.shown, len(lines)):
                if lines[i] is typing:
                    upto = i
                    break
        for line in lines[self.shown:upto]:
            if line.heard:
                self.out.write(self.prefix + (self.tag(line) if self.tag else "") + line.format(self.unmask) + "\n")
        self.shown = upto
        self.out.flush()


def print_transcript(rt: CallRuntime, out: TextIO, unmask: bool = False) -> None:
    """The whole transcript of a finished call, in time order."""
    for line in rt.lines():
        out.write(line.format(unmask) + "\n")
