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
