"""Read any audio file the project accepts as the 16 kHz mono float32 recognisers take."""
from __future__ import annotations

import numpy as np

from ivr.dsp.audio import AudioError, open_audio_stream, resample, to_mono

RATE = 16000
#: `ivr asr` recognises one utterance per file; a longer input is a mistake (a whole call
#: recording, /dev/urandom, an endless pipe), refused before it can fill memory.
MAX_SECONDS = 300.0


def load_pcm(path, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """WAV (incl. 8 kHz mu-law/A-law), FLAC, ... -> float32 16 kHz mono, read block by
    block. Raises ivr.dsp.audio.AudioError (one line naming the file) for unreadable input
    or one longer than `max_seconds`."""
    with open_audio_stream(path) as stream:
        rate = stream.rate
        out: list[np.ndarray] = []
        for block in stream:
            if stream.frames_read > max_seconds * stream.rate:
                raise AudioError(f"{stream.info.name}: longer than {max_seconds:g} s; "
                                 "ivr asr takes one utterance per file")
            out.append(to_mono(block))
        if stream.error:
            raise AudioError(stream.error)
    x = np.concatenate(out) if out else np.zeros(0, np.float32)
    return np.ascontiguousarray(resample(x, rate, RATE), dtype=np.float32)
