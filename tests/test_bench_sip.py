"""bench.sip's scale-out capacity search (the SIPp/Kamailio runs themselves are a bench, not a test)."""
from __future__ import annotations

from bench.sip.__main__ import highest_carried


def test_capacity_search_finds_the_knee_within_its_step():
    probes = []

    def carries(rate):
        probes.append(rate)
        return rate <= 207.0

    found = highest_carried(carries, 25.0, 1600.0, 1.06)
    assert 207.0 / 1.06 <= found <= 207.0
    assert len(probes) <= 10          # bisection, not a sweep


def test_capacity_search_says_zero_when_nothing_is_carried_and_top_when_everything_is():
    assert highest_carried(lambda r: False, 25.0, 1600.0, 1.06) == 0.0
    assert 1600.0 / 1.06 <= highest_carried(lambda r: True, 25.0, 1600.0, 1.06) < 1600.0
