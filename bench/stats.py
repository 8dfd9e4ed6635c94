"""How far a bench's share may lie from the truth: 95 % intervals for what the benches count.

Why: the speech figures of issue 14 were read on 200 utterances per rate, and a larger
sample of the same code read 0.965 where the 200 had read 0.982 (README, "Larger samples").
A share without its interval invites reading noise as progress or as a goal met; the
voice-call bench's "0 wrong of 20 calls" cannot show a rate of at most 0.005 (that takes
about 770 calls with none wrong).  One place for these rules, read by every bench.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959964


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a share k/n (good at 0 and n, unlike k/n +- 2 SE)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    d = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, mid - half), min(1.0, mid + half))


def trials_to_show(limit: float, z: float = Z95) -> int:
    """Trials with no failure needed before the Wilson upper bound of the failure share
    drops to `limit` (0.005: 765)."""
    if not 0 < limit < 1:
        raise ValueError(f"limit must lie in (0, 1), got {limit}")
    return math.ceil(z * z * (1 - limit) / limit)


def bootstrap(values: Sequence[float], n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean of per-item values (utterances resampled with
    replacement; a fixed seed so a report reads the same twice).  Items of one speaker are
    correlated, so across speakers the true interval is wider still."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, size=(n_boot, v.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (float(lo), float(hi))


def fmt(lo: float, hi: float) -> str:
    """An interval as the benches print it: "0.952-0.977"."""
    return "-" if math.isnan(lo) else f"{lo:.3f}-{hi:.3f}"
