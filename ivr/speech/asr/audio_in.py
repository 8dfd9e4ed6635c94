"""Read any audio file the project accepts as the 16 kHz mono float32 recognisers take."""
from __future__ import annotations

import numpy as np

from ivr.dsp.audio import read_audio, resample, to_mono

RATE = 16000


def load_pcm(path) -> np.ndarray:
    """WAV (incl. 8 kHz mu-law/A-law), FLAC, ... -> float32 16 kHz mono.  Raises
    ivr.dsp.audio.AudioError (one line naming the file) for unreadable input."""
    x, rate = read_audio(path)
    return np.ascontiguousarray(resample(to_mono(x), rate, RATE), dtype=np.float32)
