"""Q.24 conformance matrix for DTMF detectors, shared by the test suite and `bench.dtmf`.

Each `Condition` describes one row (e.g. "both tones +1.5 %", "twist -8 dB", "23 ms
tone") and whether a conforming receiver must accept it (>= 99 % detected), must reject
it (<= 1 % detected) or whether it lies between the bands ("don't care": reported, not
judged).  `make_trials` renders every key several times under that condition into one
signal (vectorised; random phases, timing jitter and noise per trial), with one *slot*
per trial so a detector's output can be scored trial by trial.

Defaults for every row unless the row says otherwise: 50 ms tones, -10 dBFS per tone,
no twist, no noise.  Levels are per tone (full-scale sine = 0 dBFS); -25 dBm0 is about
-28 dBFS.  SNR is DTMF power over white-noise power in the full band.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ivr.dsp.dtmf import KEYS
from ivr.dsp.dtmf_gen import add_white_noise, dtmf_power, synth_tones

ACCEPT, REJECT, DONT_CARE = "accept", "reject", "don't care"
SLOT_S = 0.30  # one trial per slot; the tone starts 40-80 ms into it


@dataclass(frozen=True)
class Condition:
    group: str
    name: str
    expect: str
    on_ms: float = 50.0
    level_dbfs: float = -10.0
    twist_db: float = 0.0
    low_off_pct: float = 0.0
    high_off_pct: float = 0.0
    snr_db: float | None = None
    pause_ms: float | None = None  # two tones of the same key with this pause: expect 2 digits
    gap_ms: float | None = None  # one 100 ms tone interrupted by this gap: expect 1 digit
    clip: bool = False  # hard-clip to full scale (as a real file would)

    @property
    def expected_count(self) -> int:
        return 2 if self.pause_ms is not None else 1


def _c(group: str, name: str, expect: str, **kw) -> Condition:
    return Condition(group, name, expect, **kw)


CONDITIONS: list[Condition] = [
    # frequency deviation, both tones at once (Q.24: accept +-1.5 %, reject +-3.5 %)
    *[_c("frequency", f"both tones {o:+.1f} %", ACCEPT, low_off_pct=o, high_off_pct=o) for o in (0.0, 1.0, -1.0, 1.5, -1.5)],
    _c("frequency", "low +1.5 %, high -1.5 %", ACCEPT, low_off_pct=1.5, high_off_pct=-1.5),
    _c("frequency", "low -1.5 %, high +1.5 %", ACCEPT, low_off_pct=-1.5, high_off_pct=1.5),
    *[_c("frequency", f"both tones {o:+.1f} %", DONT_CARE, low_off_pct=o, high_off_pct=o) for o in (2.5, -2.5)],
    *[_c("frequency", f"both tones {o:+.1f} %", REJECT, low_off_pct=o, high_off_pct=o) for o in (3.5, -3.5, 5.0, -5.0)],
    _c("frequency", "low only +3.5 %", REJECT, low_off_pct=3.5),
    _c("frequency", "high only -3.5 %", REJECT, high_off_pct=-3.5),
    # twist = high minus low (accept -8..+4 dB)
    *[_c("twist", f"twist {t:+.0f} dB", ACCEPT, twist_db=t) for t in (0.0, 4.0, -4.0, -8.0)],
    _c("twist", "twist +8 dB", DONT_CARE, twist_db=8.0),
    # duration (accept >= 40 ms, reject <= 23 ms)
    *[_c("duration", f"{d:.0f} ms tone", REJECT, on_ms=d) for d in (20.0, 23.0)],
    _c("duration", "30 ms tone", DONT_CARE, on_ms=30.0),
    *[_c("duration", f"{d:.0f} ms tone", ACCEPT, on_ms=d) for d in (40.0, 50.0, 100.0)],
    # white noise
    _c("noise", "clean", ACCEPT),
    *[_c("noise", f"SNR {s:.0f} dB", ACCEPT, snr_db=s) for s in (20.0, 15.0)],
    *[_c("noise", f"SNR {s:.0f} dB", DONT_CARE, snr_db=s) for s in (10.0, 6.0)],
    _c("noise", "SNR 15 dB, twist -8 dB", ACCEPT, snr_db=15.0, twist_db=-8.0),
    _c("noise", "SNR 15 dB, 40 ms tone", ACCEPT, snr_db=15.0, on_ms=40.0),
    # level per tone (accept down to -25 dBm0 ~ -28 dBFS, with margin; reject -55 dBFS)
    _c("level", "-3 dBFS per tone (clipped)", ACCEPT, level_dbfs=-3.0, clip=True),
    *[_c("level", f"{lv:.0f} dBFS per tone", ACCEPT, level_dbfs=lv) for lv in (-6.0, -10.0, -20.0, -28.0, -35.0)],
    _c("level", "-28 dBFS, twist -8 dB", ACCEPT, level_dbfs=-28.0, twist_db=-8.0),
    _c("level", "-45 dBFS per tone", DONT_CARE, level_dbfs=-45.0),
    *[_c("level", f"{lv:.0f} dBFS per tone", REJECT, level_dbfs=lv) for lv in (-55.0, -60.0)],
    # pauses between repeats of the same key (accept 40 ms)
    _c("pause", "20 ms pause", DONT_CARE, pause_ms=20.0),
    *[_c("pause", f"{p:.0f} ms pause", ACCEPT, pause_ms=p) for p in (40.0, 60.0)],
    # interruptions to bridge (<= 10 ms) inside a 100 ms tone
    *[_c("interruption", f"{g:.0f} ms break in 100 ms tone", ACCEPT, gap_ms=g, on_ms=100.0) for g in (5.0, 10.0)],
]


@dataclass
class TrialSet:
    """A rendered condition: the signal and, per slot, its key and time span."""

    condition: Condition
    rate: int
    signal: np.ndarray
    keys: list[str]
    slot_start: np.ndarray
    slot_end: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def expected_string(self) -> str:
        return "".join(k * self.condition.expected_count for k in self.keys)


def make_trials(cond: Condition, rate: int = 8000, trials_per_key: int = 20, seed: int = 0) -> TrialSet:
    """Render `trials_per_key` trials of every key (keys interleaved, order 0..D repeated)."""
    rng = np.random.default_rng(seed)
    n = trials_per_key * len(KEYS)
    keys = [KEYS[i % len(KEYS)] for i in range(n)]
    slot0 = np.arange(n) * SLOT_S
    t0 = slot0 + rng.uniform(0.04, 0.08, n)
    on = cond.on_ms / 1000
    if cond.pause_ms is not None:  # two tones per slot
        p = cond.pause_ms / 1000
        tk = [k for k in keys for _ in range(2)]
        starts = np.stack([t0, t0 + on + p], axis=1).reshape(-1)
        durs = np.full(2 * n, on)
    else:
        tk, starts, durs = keys, t0, np.full(n, on)
    x = synth_tones(tk, starts, durs, rate, n * SLOT_S, level_dbfs=cond.level_dbfs,
                    twist_db=cond.twist_db, low_offset_pct=cond.low_off_pct,
                    high_offset_pct=cond.high_off_pct, rng=rng)
    if cond.gap_ms is not None:
        # mute a running tone (the oscillator keeps its phase, as a real break would)
        g0 = np.round((t0 + rng.uniform(0.03, on - cond.gap_ms / 1000 - 0.03, n)) * rate).astype(np.int64)
        glen = int(round(cond.gap_ms / 1000 * rate))
        x[(g0[:, None] + np.arange(glen)).reshape(-1)] = 0.0
    if cond.snr_db is not None:
        x = add_white_noise(x, cond.snr_db, dtmf_power(cond.level_dbfs, cond.twist_db), rng)
    if cond.clip:
        x = np.clip(x, -1.0, 1.0)
    return TrialSet(cond, rate, x.astype(np.float32), keys, slot0, slot0 + SLOT_S)


@dataclass(frozen=True)
class Score:
    condition: Condition
    trials: int
    detected: int  # trials with exactly the expected digits (accept) / with any digit (reject)
    extra: int  # digits that were not expected (wrong key or too many)

    @property
    def rate(self) -> float:
        return self.detected / self.trials if self.trials else 0.0

    @property
    def passed(self) -> bool | None:
        if self.condition.expect == ACCEPT:
            return self.rate >= 0.99
        if self.condition.expect == REJECT:
            return self.rate <= 0.01
        return None


def score_timed(ts: TrialSet, digit_starts: np.ndarray, digit_keys: list[str]) -> Score:
    """Score a detector that reports start times: digits are assigned to slots by time."""
    cond = ts.condition
    slot = np.floor(np.asarray(digit_starts, dtype=np.float64) / SLOT_S).astype(np.int64)
    n = len(ts.keys)
    counts = np.zeros(n, dtype=np.int64)
    good = np.zeros(n, dtype=np.int64)
    extra = 0
    for s, k in zip(slot.tolist(), digit_keys):
        if 0 <= s < n:
            counts[s] += 1
            good[s] += k == ts.keys[s]
        else:
            extra += 1
    want = cond.expected_count
    if cond.expect == REJECT:
        detected = int(np.count_nonzero(counts))
        extra += int(counts.sum())
    else:
        detected = int(np.count_nonzero((counts == want) & (good == want)))
        extra += int(np.clip(counts - good, 0, None).sum() + np.clip(good - want, 0, None).sum())
    return Score(cond, n, detected, extra)


def score_sequence(ts: TrialSet, got: str) -> Score:
    """Score a detector that reports only the digit string (e.g. multimon-ng).

    Keys are interleaved so neighbouring slots differ; the longest common subsequence
    between expected and detected strings counts the trials found.
    """
    cond = ts.condition
    exp = ts.expected_string
    if cond.expect == REJECT:
        found = min(len(got), len(ts.keys))
        return Score(cond, len(ts.keys), found, len(got))
    lcs = _lcs_len(exp, got)
    want = cond.expected_count
    return Score(cond, len(ts.keys), lcs // want, len(got) - lcs)


def _lcs_len(a: str, b: str) -> int:
    """Length of the longest common subsequence (row-vectorised dynamic programme)."""
    if not a or not b:
        return 0
    bb = np.frombuffer(b.encode(), dtype=np.uint8)
    prev = np.zeros(len(b) + 1, dtype=np.int32)
    for ch in a.encode():
        match = np.concatenate([[0], np.where(bb == ch, prev[:-1] + 1, 0)])
        cur = np.maximum(match, prev)
        cur = np.maximum.accumulate(cur)
        prev = cur
    return int(prev[-1])
