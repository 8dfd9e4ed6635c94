"""Real speakers: the INDspeech_DIGIT_CDSR development set, read from a path the user gives.

    python -m bench.speech --real DIR [--speakers heldout|tune|all|FPT,MDG] [--limit N]

DIR is the `train` split unpacked (never shipped with this repo; licence CC BY-NC-SA 4.0
forbids republishing a copy; README "Speech recognition" says how to get it):

    DIR/speech/SPK_<digits><suffix>.wav     16 kHz mono, one connected-digit utterance
    DIR/text/SPK_<digits><suffix>.txt       |S| one digit word per line |E|
    DIR/speech8k/...                        8 kHz mu-law copies (made here with sox if absent)

Held-out speakers (figures) and tuning speakers (thresholds) are disjoint; the held-out ones
are never used to choose a threshold.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.grammar import DIGIT_WORDS, Choice, Grammar

#: Our held-out speakers (2 women, 3 men) inside the 25 present `train` speakers.
HELDOUT = ("FPT", "FWP", "MDG", "MMI", "MRN")
#: A 10-word menu grammar (words only: digit words are out of it), for out-of-grammar tests.
MENU_WORDS = ("pendaftaran", "tagihan", "informasi", "pengaduan", "kepesertaan",
              "pembayaran", "faskes", "agen", "ulangi", "kembali")


class RealSetError(RuntimeError):
    """The development set is absent or unreadable (one line)."""


@dataclass
class RealItem:
    id: str
    speaker: str
    digits: str
    path16: Path
    path8: Path


def transcript_digits(text: str) -> str:
    """`|S| TUJUH DUA KOSONG |E|` -> "720"."""
    words = [w.strip().lower() for w in text.split() if w.strip() and not w.startswith("|")]
    return "".join(DIGIT_WORDS[w] for w in words)


def load_real(root: Path, speakers: str = "heldout", limit: int = 0, seed: int = 1) -> list[RealItem]:
    """Utterances of the chosen speakers; `limit` keeps N per speaker (fixed seed)."""
    root = Path(root)
    speech, text = root / "speech", root / "text"
    if not speech.is_dir() or not text.is_dir():
        raise RealSetError(f"{root}: no development set here (expected {speech}/ and {text}/); "
                           "see README 'Speech recognition' for how to get it")
    wavs = sorted(speech.glob("*.wav"))
    present = sorted({w.name.split("_")[0] for w in wavs})
    if speakers == "heldout":
        chosen = [s for s in present if s in HELDOUT]
    elif speakers == "tune":
        chosen = [s for s in present if s not in HELDOUT]
    elif speakers == "all":
        chosen = present
    else:
        chosen = [s.strip().upper() for s in speakers.split(",") if s.strip()]
    if not chosen:
        raise RealSetError(f"{root}: none of the speakers {speakers!r} present")
    _make_8k(root, wavs)
    rng = np.random.default_rng(seed)
    out: list[RealItem] = []
    for spk in chosen:
        mine = [w for w in wavs if w.name.split("_")[0] == spk]
        if limit and len(mine) > limit:
            mine = [mine[int(i)] for i in sorted(rng.choice(len(mine), limit, replace=False))]
        for w in mine:
            t = text / (w.stem + ".txt")
            if not t.is_file():
                continue
            try:
                digits = transcript_digits(t.read_text(encoding="utf-8", errors="replace"))
            except KeyError:
                continue
            if digits:
                out.append(RealItem(w.stem, spk, digits, w, root / "speech8k" / w.name))
    if not out:
        raise RealSetError(f"{root}: no utterances with transcripts for {speakers!r}")
    return out


def _make_8k(root: Path, wavs: list[Path]) -> None:
    """8 kHz mu-law copies the way a phone line makes them: 300-3400 Hz band, 8 kHz, G.711."""
    dst = root / "speech8k"
    todo = [w for w in wavs if not (dst / w.name).is_file()]
    if not todo:
        return
    if shutil.which("sox") is None:
        raise RealSetError("sox is needed to make the 8 kHz mu-law copies (apt-get install sox)")
    dst.mkdir(exist_ok=True)
    for w in todo:
        subprocess.run(["sox", str(w), "-r", "8000", "-e", "mu-law", "-b", "8", str(dst / w.name),
                        "sinc", "300-3400"], check=True, capture_output=True)


def digit_grammar(expected: int | None = None) -> Grammar:
    """A collect: any length 1..16, or exactly the expected length."""
    if expected:
        return Grammar((), digits=True, min_digits=expected, max_digits=expected, name=f"digits{expected}")
    return Grammar((), digits=True, min_digits=1, max_digits=16, name="digits")


def menu_grammar() -> Grammar:
    return Grammar(tuple(Choice(w, (w,)) for w in MENU_WORDS), name="menu10")
