"""Erlang B / C / A formulas against the DOMAIN.md reference table and basic identities."""
from __future__ import annotations

import math

import pytest

from ivr.queue.erlang import (
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_asa,
    erlang_c_figures,
    erlang_c_service_level,
    offered_wait_mean,
)

# DOMAIN.md: traffic 10 Erl, AHT 180 s, target 20 s, Erlang A mean patience 120 s.
# agents: (C P(wait), ASA, SL20, A P(wait), P(abandon), E[Wq], SL20 all arrivals)
TABLE = {
    11: (".68212", "122.78", ".3896", ".38282", ".09416", "11.30", ".7422"),
    12: (".44939", "40.44", ".6402", ".27981", ".06160", "7.39", ".8256"),
    13: (".28527", "17.12", ".7956", ".19372", ".03843", "4.61", ".8886"),
    14: (".17413", "7.84", ".8884", ".12698", ".02284", "2.74", ".9327"),
    15: (".10204", "3.67", ".9415", ".07882", ".01293", "1.55", ".9616"),
}


def printed(value: float, like: str) -> str:
    """Round ``value`` the way the table prints it (same number of decimals, no leading 0)."""
    decimals = len(like.split(".")[1])
    s = f"{value:.{decimals}f}"
    return s[1:] if s.startswith("0.") and like.startswith(".") else s


@pytest.mark.parametrize("agents", sorted(TABLE))
def test_reference_table_erlang_c(agents):
    pw, asa, sl, *_ = TABLE[agents]
    f = erlang_c_figures(10, 180, agents, 20)
    assert printed(f.p_wait, pw) == pw
    assert printed(f.asa, asa) == asa
    assert printed(f.service_level, sl) == sl


@pytest.mark.parametrize("agents", sorted(TABLE))
def test_reference_table_erlang_a(agents):
    *_, pw, pab, wq, sl = TABLE[agents]
    a = erlang_a(10, 180, agents, 120, 20)
    assert printed(a.p_wait, pw) == pw
    assert printed(a.p_abandon, pab) == pab
    assert printed(a.mean_wait, wq) == wq
    assert printed(a.service_level, sl) == sl


def test_erlang_b_matches_direct_formula():
    for a, c in [(2.5, 3), (10, 12), (37.2, 40)]:
        direct = (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))
        assert erlang_b(a, c) == pytest.approx(direct, rel=1e-12)


def test_erlang_b_stays_finite_for_large_systems():
    b = erlang_b(950.0, 1000)
    assert 0.0 < b < 0.05


def test_erlang_c_closed_forms_consistent():
    c = erlang_c(10, 12)
    assert erlang_c_asa(10, 180, 12) == pytest.approx(c * 180 / 2)
    assert erlang_c_service_level(10, 180, 12, 0) == pytest.approx(1 - c)
    # M/M/1: P(wait) = rho
    assert erlang_c(0.7, 1) == pytest.approx(0.7)


def test_erlang_c_rejects_unstable_queue():
    with pytest.raises(ValueError, match="traffic < agents"):
        erlang_c(12, 12)


@pytest.mark.parametrize("bad", [dict(traffic=-1, agents=3), dict(traffic=float("nan"), agents=3), dict(traffic=2, agents=0)])
def test_bad_inputs_raise_value_error(bad):
    with pytest.raises(ValueError):
        erlang_b(bad["traffic"], bad["agents"])


def test_erlang_a_tends_to_erlang_c_with_endless_patience():
    a = erlang_a(10, 180, 12, 1e9, 20)
    c = erlang_c_figures(10, 180, 12, 20)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-5)
    assert a.mean_wait == pytest.approx(c.asa, rel=1e-4)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-5)
    assert a.p_abandon < 1e-6


def test_erlang_a_is_defined_when_overloaded():
    a = erlang_a(15, 180, 12, 120, 20)  # more traffic than agents: Erlang C has no answer
    assert 0.0 < a.p_abandon < 1.0
    assert a.p_wait > erlang_a(10, 180, 12, 120).p_wait
    # flow balance: answered traffic cannot exceed the agents
    assert a.occupancy <= 1.0 + 1e-12
    assert 15 * (1 - a.p_abandon) == pytest.approx(12 * a.occupancy)


def test_erlang_a_service_level_monotone_in_target():
    levels = [erlang_a(10, 180, 12, 120, t).service_level for t in (0, 5, 20, 60, 600)]
    assert levels == sorted(levels)
    assert levels[0] == pytest.approx(1 - erlang_a(10, 180, 12, 120).p_wait)
    # nobody waits forever: with a huge target everyone who is not abandoning is answered
    assert levels[-1] == pytest.approx(1 - erlang_a(10, 180, 12, 120).p_abandon, abs=1e-6)


def test_offered_wait_mean():
    assert offered_wait_mean(0, 0.1, 0.0) == pytest.approx(10.0)
    assert offered_wait_mean(2, 0.1, 0.0) == pytest.approx(30.0)
    assert offered_wait_mean(2, 0.1, 0.05) == pytest.approx(1 / 0.1 + 1 / 0.15 + 1 / 0.2)
    assert offered_wait_mean(3, 0.0, 0.1) == math.inf
