"""Talk-off corpora: real speech and music that must never produce a DTMF digit.

Debian ships both: `asterisk-core-sounds-en-wav` (about 25 minutes of prompts spoken by
Allison, 8 kHz) and `asterisk-moh-opsound-wav` (about 18 minutes of hold music, 8 kHz).
When a corpus is shorter than asked for, pitch-shifted copies are appended (the audio
resampled by 1.10, 0.90, ... and played at the original rate, which moves every
harmonic, i.e. a different voice / key), so the detector meets fresh frequency
combinations rather than the same samples twice.
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

import numpy as np

from ivr.dsp.audio import read_audio, resample, to_mono

SPEECH_GLOBS = ("/usr/share/asterisk/sounds/en*/**/*.wav", "/usr/share/asterisk/sounds/en*/*.wav")
MUSIC_GLOBS = ("/usr/share/asterisk/moh/*.wav",)
PITCH_FACTORS = (1.10, 0.90, 1.20, 0.85)
RATE = 8000


@dataclass
class TalkoffCorpus:
    kind: str
    signal: np.ndarray
    rate: int
    files: int
    parts: list[str] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        return len(self.signal) / self.rate / 60


def corpus_files(kind: str) -> list[str]:
    pats = SPEECH_GLOBS if kind == "speech" else MUSIC_GLOBS
    files: set[str] = set()
    for p in pats:
        files.update(glob.glob(p, recursive=True))
    return sorted(f for f in files if os.path.isfile(f))


def corpus_base(kind: str) -> tuple[np.ndarray, int]:
    """Every file of the corpus as recorded, at 8 kHz, one after another; and how many files."""
    if kind not in ("speech", "music"):
        raise ValueError("kind must be 'speech' or 'music'")
    files = corpus_files(kind)
    if not files:
        pkg = "asterisk-core-sounds-en-wav" if kind == "speech" else "asterisk-moh-opsound-wav"
        raise FileNotFoundError(f"no {kind} corpus found; install the Debian package {pkg}")
    chunks = []
    for f in files:
        x, rate = read_audio(f)
        x = to_mono(x)
        chunks.append(resample(x, rate, RATE) if rate != RATE else x)
    return np.concatenate(chunks).astype(np.float32), len(files)


def pitch_copy(x: np.ndarray, factor: float) -> np.ndarray:
    """`x` (8 kHz) with every frequency times `factor` and its duration divided by it:
    resampled to 8 kHz / factor, played at 8 kHz."""
    return resample(x, RATE, int(round(RATE / factor)))


def load_talkoff(kind: str, min_minutes: float, extra_variants: int = 0) -> TalkoffCorpus:
    """Concatenate every file of the corpus at 8 kHz, then add pitch-shifted copies until
    it lasts at least `min_minutes` (plus `extra_variants` more copies)."""
    base, n_files = corpus_base(kind)
    parts = [f"{n_files} files, {len(base) / RATE / 60:.1f} min as recorded"]
    out = [base]
    total = len(base)
    need_variants = 0
    while total + sum(len(base) / f for f in PITCH_FACTORS[:need_variants]) < min_minutes * 60 * RATE:
        need_variants += 1
        if need_variants > len(PITCH_FACTORS):
            break
    for f in PITCH_FACTORS[: min(need_variants + extra_variants, len(PITCH_FACTORS))]:
        v = pitch_copy(base, f)
        out.append(v)
        total += len(v)
        parts.append(f"pitch x{f:.2f} copy, {len(v) / RATE / 60:.1f} min")
    return TalkoffCorpus(kind, np.concatenate(out), RATE, n_files, parts)
