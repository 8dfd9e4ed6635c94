"""Generated speech test set: espeak-ng Indonesian, several voices, noise and channels.

    python -m bench.speech_set --out DIR [--quick]    # writes WAVs + manifest.jsonl

Why synthetic: there are no recordings of real callers in the repo.  espeak-ng speech is
*not* real speech (issue 7: PocketSphinx scored 1.00 on it and 0.66 on real speakers), so
this set is for plumbing and regression floors only, never to pick an engine or a
threshold.  Everything is made by code with a fixed seed, so the set is reproducible.
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ivr.dsp.audio import read_audio, resample, to_mono, write_wav
from ivr.grammar import Choice, Grammar

RATE = 16000
VOICES = ("id", "id+m3", "id+f2", "id+f4", "id+m7", "id+klatt")
NUMERAL_WORDS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
OOG_PHRASES = (
    "halo selamat pagi", "terima kasih", "apa kabar", "saya bingung", "sebentar ya",
    "tidak tahu", "bagaimana caranya", "kartu saya hilang", "rumah sakit", "selamat malam",
    "obat", "cuaca hari ini", "kenapa lama sekali", "mohon maaf", "baiklah",
    "saya sedang di jalan", "berapa", "kemarin", "nanti saja", "pulang",
)
BABBLE_TEXT = (
    "peserta dapat mendaftar melalui aplikasi mobile", "kantor cabang buka pada hari kerja",
    "iuran dibayar setiap bulan sebelum tanggal sepuluh", "fasilitas kesehatan tingkat pertama",
    "layanan ini tersedia dua puluh empat jam", "silakan datang membawa kartu keluarga",
)
CONDITIONS = ("clean", "white20", "white10", "babble20", "babble10")
RATES = (16000, 8000)


@dataclass
class Item:
    """One test utterance; `expected` is a digit string, a choice token, or None (reject)."""

    id: str
    kind: str                 # digits | keyword | oog
    text: str
    expected: str | None
    grammar: Grammar
    voice: str
    speed: int
    pitch: int
    audio: np.ndarray = field(repr=False, default=None)


@lru_cache(maxsize=2048)
def _espeak(text: str, voice: str, speed: int, pitch: int) -> bytes:
    r = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                       capture_output=True, check=True)
    return r.stdout


def synth(text: str, voice: str = "id", speed: int = 150, pitch: int = 50) -> np.ndarray:
    """espeak-ng -> float32 16 kHz mono, with 0.3 s silence before and 0.8 s after."""
    x, rate = read_audio(io.BytesIO(_espeak(text, voice, speed, pitch)))
    x = resample(to_mono(x), rate, RATE)
    x = 0.5 * x / max(1e-6, float(np.max(np.abs(x))))
    return np.concatenate([np.zeros(int(0.3 * RATE), np.float32), x, np.zeros(int(0.8 * RATE), np.float32)])


def vika_keywords(tree_path: str = "menus/vika.yaml") -> list[tuple[str, str, Grammar]]:
    """(phrase, token, grammar of its node) for every spoken phrase of the tree."""
    from ivr.tree.loader import load_tree

    tree = load_tree(tree_path)
    seen: set[str] = set()
    out: list[tuple[str, str, Grammar]] = []
    for nid, node in tree.nodes.items():
        if node.kind != "menu":
            continue
        g = tree.grammar_for(nid)
        for c in g.choices:
            for p in c.phrases:
                if p not in seen:
                    seen.add(p)
                    out.append((p, c.token, g))
    return out


def menu_grammar() -> Grammar:
    """The main menu's grammar (OOG phrases are tried against it)."""
    try:
        from ivr.tree.loader import load_tree

        return load_tree("menus/vika.yaml").grammar_for("menu_utama")
    except Exception:  # noqa: BLE001 - the set must still build without a tree
        return Grammar((Choice("1", ("status", "tagihan")), Choice("2", ("informasi", "iuran", "denda")),
                        Choice("3", ("pendaftaran", "pengaduan")), Choice("global:agent", ("agen",)),
                        Choice("global:repeat", ("ulangi",)), Choice("global:back", ("kembali",))))


def build_set(quick: bool = False, seed: int = 7) -> list[Item]:
    """Clean utterances (audio attached).  quick: a small subset for tests."""
    rng = np.random.default_rng(seed)
    items: list[Item] = []
    n_digits = 12 if quick else 48
    digit_g = Grammar((), digits=True, min_digits=1, max_digits=16, name="collect")

    def style() -> tuple[str, int, int]:
        return str(rng.choice(VOICES)), int(rng.integers(125, 171)), int(rng.integers(35, 66))

    for i in range(n_digits):
        n = [1, 2, 3, 4, 6, 8, 12, 16][i % 8]
        ds = "".join(str(d) for d in rng.integers(0, 10, n))
        if n >= 4 and rng.random() < 0.5:  # make sure repeated digits ("kosong kosong") occur
            k = int(rng.integers(0, n - 1))
            ds = ds[:k + 1] + ds[k] + ds[k + 2:]
        words = [("kosong" if rng.random() < 0.4 else "nol") if d == "0" else NUMERAL_WORDS[int(d)] for d in ds]
        v, s, p = style()
        items.append(Item(f"d{i:03d}", "digits", " ".join(words), ds, digit_g, v, s, p))
    try:
        kws = vika_keywords()
    except Exception:  # noqa: BLE001
        g = menu_grammar()
        kws = [(p, c.token, g) for c in g.choices for p in c.phrases]
    if quick:
        idx = rng.choice(len(kws), size=min(12, len(kws)), replace=False)
        kws = [kws[int(i)] for i in sorted(idx)]
    for i, (phrase, tok, g) in enumerate(kws):
        v, s, p = style()
        items.append(Item(f"k{i:03d}", "keyword", phrase, tok, g, v, s, p))
    mg = menu_grammar()
    oog = OOG_PHRASES[:6] if quick else OOG_PHRASES
    for i, phrase in enumerate(oog):
        v, s, p = style()
        g = digit_g if i % 4 == 3 else mg
        items.append(Item(f"o{i:03d}", "oog", phrase, None, g, v, s, p))
    for it in items:
        it.audio = synth(it.text, it.voice, it.speed, it.pitch)
    return items


@lru_cache(maxsize=1)
def babble(seconds: float = 12.0) -> np.ndarray:
    """Several espeak talkers summed: speech-shaped noise that an energy VAD cannot ignore."""
    out = np.zeros(int(seconds * RATE), np.float32)
    for k, text in enumerate(BABBLE_TEXT):
        x = synth(text, VOICES[k % len(VOICES)], 140 + 7 * k, 40 + 4 * k)
        reps = np.tile(x, int(np.ceil(len(out) / len(x))) + 1)
        off = (k * 3119) % len(x)
        out += reps[off:off + len(out)]
    return out / np.sqrt(np.mean(out ** 2))


def apply_condition(x: np.ndarray, condition: str, rate: int, seed: int = 0) -> np.ndarray:
    """Noise at an SNR (over the active speech) and, for 8000, an 8 kHz mu-law channel."""
    rng = np.random.default_rng(seed)
    y = x.astype(np.float32).copy()
    if condition != "clean":
        kind, snr = condition[:-2], float(condition[-2:])
        active = np.abs(x) > 0.01 * np.max(np.abs(x))
        p_speech = float(np.mean(x[active] ** 2)) if active.any() else 1e-6
        if kind == "white":
            n = rng.standard_normal(len(x)).astype(np.float32)
        else:
            b = babble()
            off = int(rng.integers(0, len(b) - len(x))) if len(b) > len(x) else 0
            n = np.resize(b[off:], len(x)).astype(np.float32)
        n *= np.sqrt(p_speech / 10 ** (snr / 10) / max(1e-12, float(np.mean(n ** 2))))
        y = y + n
    if rate == 8000:
        buf = io.BytesIO()
        write_wav(buf, resample(y, RATE, 8000), 8000, subtype="ULAW")
        buf.seek(0)
        z, r = read_audio(buf)
        y = resample(to_mono(z), r, RATE)
    return y.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "manifest.jsonl", "w") as man:
        for it in build_set(args.quick):
            for cond in CONDITIONS:
                for rate in RATES:
                    name = f"{it.id}_{cond}_{rate // 1000}k.wav"
                    y = apply_condition(it.audio, cond, rate, seed=zlib.crc32(f"{it.id}/{cond}".encode()))
                    if rate == 8000:
                        write_wav(args.out / name, resample(y, RATE, 8000), 8000, subtype="ULAW")
                    else:
                        write_wav(args.out / name, y, RATE)
                    man.write(json.dumps({"file": name, "kind": it.kind, "text": it.text, "expected": it.expected,
                                          "grammar": it.grammar.name, "condition": cond, "rate": rate}) + "\n")
    print(f"wrote {args.out}/manifest.jsonl")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
