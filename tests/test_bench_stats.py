"""The benches' 95 % intervals (bench/stats.py): known values, edges, and what they imply."""
from __future__ import annotations

import math

import pytest

from bench.stats import bootstrap, fmt, trials_to_show, wilson


def test_wilson_matches_known_values_and_stays_inside_0_1():
    lo, hi = wilson(20, 20)
    assert (round(lo, 3), hi) == (0.839, 1.0)          # 20 of 20 right: not "certainly >= 0.95"
    lo, hi = wilson(0, 20)
    assert lo == 0.0 and round(hi, 3) == 0.161          # 0 wrong of 20 calls: up to 16 %
    lo, hi = wilson(50, 100)
    assert round(lo, 3) == 0.404 and round(hi, 3) == 0.596
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_zero_failures_needed_to_show_a_small_rate():
    n = trials_to_show(0.005)
    assert n == 765
    assert wilson(0, n)[1] <= 0.005 < wilson(0, n - 1)[1]
    with pytest.raises(ValueError, match="limit"):
        trials_to_show(0.0)


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_items():
    small = [1.0] * 190 + [0.0] * 10                     # 0.95 on 200 items
    big = small * 4                                      # the same share on 800
    lo, hi = bootstrap(small)
    assert lo < 0.95 < hi and 0.02 < hi - lo < 0.08
    lo2, hi2 = bootstrap(big)
    assert hi2 - lo2 < (hi - lo) * 0.7
    assert bootstrap(small) == (lo, hi)                  # seeded: a report reads the same twice
    assert fmt(*bootstrap([])) == "-" and fmt(0.95, 0.975) == "0.950-0.975"
