"""Build the caller recordings in audio_fixtures/ (deterministic: same bytes every run).

    python audio_fixtures/make_fixtures.py [OUTDIR]

Each fixture is a caller's side of a call to the VIKA tree: DTMF keys placed in time so
that they answer the prompts (relying on barge-in where a prompt allows it), with silence
between and a little background noise. `manifest.yaml` beside this script says which path
and outcome each one must produce; tests/test_wav_calls.py runs them all.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ivr.dsp.audio import write_wav  # noqa: E402
from ivr.dsp.dtmf_gen import generate  # noqa: E402

import tempfile  # noqa: E402

_CACHE = tempfile.TemporaryDirectory(prefix="ivr-fixture-tts-")
WELCOME_S = 12.0   # the welcome prompt (about 10 s) cannot be interrupted


class Caller:
    """Builds a caller recording: keys and pauses on one timeline."""

    def __init__(self, rate: int = 8000, noise_dbfs: float | None = -50.0, seed: int = 165):
        self.rate = rate
        self.parts: list[np.ndarray] = []
        self.noise_dbfs = noise_dbfs
        self.rng = np.random.default_rng(seed)

    def pause(self, seconds: float) -> "Caller":
        self.parts.append(np.zeros(int(round(seconds * self.rate)), dtype=np.float32))
        return self

    def keys(self, digits: str, on_ms: float = 80, off_ms: float = 80) -> "Caller":
        self.parts.append(generate(digits, self.rate, on_ms=on_ms, off_ms=off_ms, level_dbfs=-12.0,
                                   lead_ms=0, trail_ms=off_ms).astype(np.float32))
        return self

    def say(self, text: str, rate_wpm: int = 130) -> "Caller":
        """Speech synthesised by espeak-ng (Indonesian): fine for plumbing, not a stand-in
        for real callers when judging accuracy."""
        from ivr.dsp.audio import resample
        from ivr.speech.tts import Tts

        # a private cache: the fixture must not depend on what other runs synthesised
        x, r = Tts(rate=rate_wpm, cache_dir=_CACHE.name).load(text)
        x = x if x.ndim == 1 else x[:, 0]
        self.parts.append(resample(x.astype(np.float32), r, self.rate).astype(np.float32) * 0.7)
        return self

    def audio(self) -> np.ndarray:
        x = np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)
        if self.noise_dbfs is not None:
            amp = 10 ** (self.noise_dbfs / 20) * np.sqrt(2)   # dBFS re a full-scale sine
            x = x + (self.rng.standard_normal(len(x)) * amp / np.sqrt(2)).astype(np.float32)
        return np.clip(x, -1, 1).astype(np.float32)


def fixtures(speech: bool = True) -> dict[str, tuple[np.ndarray, int, str]]:
    """name -> (samples [frames] or [frames, 2], rate, subtype)"""
    out = {}
    # status kepesertaan, active participant: 1 (self-service), 1 (status), NIK#, date
    c = Caller().pause(WELCOME_S).keys("1").pause(1.5).keys("1").pause(1.5) \
        .keys("3174054508900002#").pause(1.5).keys("05081990").pause(2.0)
    out["status_aktif.wav"] = (c.audio(), 8000, "ULAW")
    # tagihan of a participant in arrears, 16 kHz PCM, keys a little slower
    c = Caller(rate=16000, seed=2).pause(WELCOME_S).keys("1", 100, 100).pause(1.5).keys("2", 100, 100).pause(1.5) \
        .keys("3273011708850003#", 100, 100).pause(2.0).keys("17081985", 100, 100).pause(2.0)
    out["tagihan_menunggak_16k.wav"] = (c.audio(), 16000, "PCM_16")
    # silence after entering the NIK menu: three timeouts, then the tree's goodbye
    c = Caller(seed=3).pause(WELCOME_S).keys("1").pause(1.5).keys("1").pause(68.0)
    out["diam_nik.wav"] = (c.audio(), 8000, "ULAW")
    # three invalid menu keys: the main menu hands the caller to an agent
    c = Caller(seed=4).pause(WELCOME_S).keys("9").pause(1.0).keys("8").pause(1.0).keys("7").pause(1.0)
    out["salah_tiga_kali.wav"] = (c.audio(), 8000, "ULAW")
    # a key during the welcome (no barge-in) is ignored; one during the menu barges in.
    # Stereo: the caller on the left, the right channel silent.
    c = Caller(rate=8000, seed=5).pause(3.0).keys("4").pause(WELCOME_S - 3.0).keys("2").pause(1.5).keys("1").pause(1.0)
    mono = c.audio()
    out["barge_in_stereo.wav"] = (np.stack([mono, np.zeros_like(mono)], axis=1), 8000, "ULAW")
    # speech: the menu choices, the NIK (read in groups of four, zeros as "nol" and
    # "kosong") and the date of birth by voice; a PBI participant. Every spoken number is
    # read back (confirm_below: 1): the caller confirms each read-back with key 1, pressed
    # while it plays (barge-in)
    c = Caller(rate=16000, seed=6).pause(WELCOME_S).say("status").pause(2.0).say("status kepesertaan").pause(2.0)
    for group in ("lima satu tujuh satu", "kosong tiga satu dua", "kosong tiga enam dua", "kosong kosong kosong lima"):
        c.say(group).pause(2.5).keys("1").pause(1.5)
    c.pause(1.0).say("satu dua kosong tiga satu sembilan enam dua", 120).pause(2.5).keys("1").pause(3.0)
    out["suara_status.wav"] = (c.audio(), 16000, "ULAW")
    # speech that is no answer at all: the no-match prompt
    c = Caller(rate=8000, seed=7).pause(WELCOME_S).say("halo selamat pagi apa kabar").pause(3.0)
    out["suara_nonsense.wav"] = (c.audio(), 8000, "ULAW")
    return out


def build_all(outdir: Path = HERE) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (samples, rate, subtype) in fixtures().items():
        p = outdir / name
        write_wav(p, samples, rate, subtype=subtype)
        paths.append(p)
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for p in build_all(target):
        print(p)
