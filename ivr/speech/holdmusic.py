"""Hold music for callers waiting in the agent queue, generated (no audio files shipped).

A slow, quiet arpeggio (C major, 262-523 Hz) with soft attacks: pleasant enough, and kept
well below the DTMF low group (697 Hz) so an echo of it can never sound like a key.
"""
from __future__ import annotations

import numpy as np

NOTES_HZ = (261.63, 329.63, 392.00, 523.25, 392.00, 329.63)
NOTE_S = 0.5
LEVEL = 0.05   # about -26 dBFS: under the prompts, never over them


def hold_music(seconds: float, rate: int, offset: float = 0.0) -> np.ndarray:
    """`seconds` of hold music starting `offset` seconds into the loop (so consecutive
    pieces join without a click)."""
    n = max(0, int(round(seconds * rate)))
    t = offset + np.arange(n) / rate
    idx = (t // NOTE_S).astype(np.int64) % len(NOTES_HZ)
    freqs = np.asarray(NOTES_HZ)[idx]
    phase_in_note = (t % NOTE_S) / NOTE_S
    env = np.minimum(1.0, phase_in_note * 10) * np.exp(-2.5 * phase_in_note)
    wave = np.sin(2 * np.pi * freqs * t) + 0.3 * np.sin(4 * np.pi * freqs * t)
    return (LEVEL * env * wave).astype(np.float32)


class HoldMusicFeed:
    """Hold music as consecutive pieces that join without a click: the one source for every
    live driver (keypad and microphone speakers, SIP frames). `next_piece` gives the next
    `piece_s` seconds; `keep_queued` tops up an output queue that has run dry."""

    def __init__(self, rate: int, piece_s: float = 0.5):
        self.rate = int(rate)
        self.piece_s = piece_s
        self.offset = 0.0   # seconds of music handed out so far

    def next_piece(self) -> np.ndarray:
        piece = hold_music(self.piece_s, self.rate, offset=self.offset)
        self.offset += self.piece_s
        return piece

    def keep_queued(self, out) -> None:
        """Queue the next piece on `out` (anything with `busy` and `play(audio)`, such as
        `ivr.speech.speaker.OutputQueue`) when nothing is playing there."""
        if not out.busy:
            out.play(self.next_piece())
