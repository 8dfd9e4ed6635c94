"""Issue 10 §5: the queue commands at extreme inputs give figures or one clear line, never a
traceback or a hang (Erlang B/A in log space, a fast closed form for huge pools, a cap on
simulated agents, `ivr queue validate FILE`)."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

import ivr.queue.erlang as erl
from ivr.cli import main
from ivr.queue.erlang import erlang_a, erlang_b, log_erlang_b

ROOT = Path(__file__).resolve().parents[1]


def test_many_agents_do_not_divide_by_an_underflowed_erlang_b():
    # B(10 Erl, 400) is about 1e-600: it underflows to 0.0, and Erlang A used to divide by it
    assert erlang_b(10, 400) == 0.0
    assert log_erlang_b(10, 400) < -1000
    a = erlang_a(10, 180, 400, 120)
    assert a.p_wait == 0.0 and a.p_abandon == 0.0 and a.service_level == pytest.approx(1.0)
    assert a.occupancy == pytest.approx(10 / 400)


def test_vanishing_traffic_gives_an_empty_queue():
    a = erlang_a(1e-300, 180, 12, 120)
    assert a.p_wait == 0.0 and a.mean_wait == 0.0 and a.service_level == pytest.approx(1.0)


def test_vanishing_patience_means_everyone_who_waits_abandons():
    # With a patience of 1e-300 s nobody is ever answered from the queue: P(abandon) is the
    # probability of finding all agents busy, i.e. Erlang B -- not 0 (a truncated tail would
    # drop the few callers who wait, the only ones who abandon).
    a = erlang_a(10, 180, 12, 1e-300)
    assert a.p_abandon == pytest.approx(erlang_b(10, 12), rel=1e-9)
    assert a.p_wait == pytest.approx(erlang_b(10, 12), rel=1e-9)
    assert a.service_level == pytest.approx(1 - erlang_b(10, 12), rel=1e-9)
    # and it is the limit of ever shorter patience
    assert erlang_a(10, 180, 12, 1e-3).p_abandon == pytest.approx(a.p_abandon, rel=1e-4)


def test_absurd_overload_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="callers would be waiting"):
        erlang_a(1e300, 180, 12, 120)


def test_a_billion_agents_use_the_closed_form_and_agree_with_the_recursion(monkeypatch):
    a = erlang_a(10, 180, 1_000_000_000, 120)
    assert a.p_wait == 0.0 and a.occupancy == pytest.approx(1e-8)
    assert math.isfinite(log_erlang_b(1e12, 1_000_000_000))   # overload with a huge pool
    # the closed forms used above RECURSION_MAX_AGENTS agree with the exact recursion
    cases = [(480.0, 500), (450.0, 400), (10.0, 400), (1e6, 300), (299.5, 300)]
    exact = [log_erlang_b(a_, c) for a_, c in cases]
    monkeypatch.setattr(erl, "RECURSION_MAX_AGENTS", 1)
    for (a_, c), want in zip(cases, exact):
        assert log_erlang_b(a_, c) == pytest.approx(want, rel=1e-9, abs=1e-9), (a_, c)


@pytest.mark.parametrize("argv, rc, first", [
    (["--traffic", "10", "--aht", "180", "--agents", "400", "--patience", "120"], 0, None),
    (["--traffic", "1e-300", "--aht", "180", "--agents", "12", "--patience", "120"], 0, None),
    (["--traffic", "10", "--aht", "180", "--agents", "12", "--patience", "1e-300"], 0, None),
    (["--traffic", "10", "--aht", "180", "--agents", "1000000000", "--patience", "120"], 0, None),
    (["--traffic", "1e300", "--aht", "180", "--agents", "12", "--patience", "120"], 2,
     "ivr: error: 12 agents: Erlang A: about 6.67e+299 callers would be waiting"),
])
def test_cli_erlang_extremes(argv, rc, first, capsys):
    assert main(["queue", "erlang", *argv]) == rc
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if first is None:
        assert err == "" and "Erlang figures" in out
    else:
        assert err.startswith(first) and err.count("\n") == 1


def test_cli_simulate_many_agents(capsys):
    assert main(["queue", "simulate", "--mm", "10,180,120", "--agents", "100000", "--calls", "3000"]) == 0
    out = capsys.readouterr().out
    assert "100000 agents" in out and "in CI" in out
    assert main(["queue", "simulate", "--mm", "10,180,120", "--agents", "1000000000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ivr: error: --agents 1000000000: at most 100,000 agents") and err.count("\n") == 1


def test_cli_validate_takes_the_path_like_lint(tmp_path, capsys):
    cfg = str(ROOT / "menus" / "queues.yaml")
    assert main(["queue", "validate", cfg]) == 0
    assert "OK." in capsys.readouterr().out
    assert main(["queue", "validate", "--config", cfg]) == 0          # the option still works
    assert "OK." in capsys.readouterr().out
    bad = tmp_path / "q.yaml"
    bad.write_text("version: 1\n", encoding="utf-8")
    assert main(["queue", "validate", str(bad)]) == 2
    assert f"{bad}:" in capsys.readouterr().err
    assert main(["queue", "validate", str(bad), "--config", cfg]) == 2
    assert "two queue configs" in capsys.readouterr().err
