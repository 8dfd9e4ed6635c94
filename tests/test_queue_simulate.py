"""Batch simulation: Erlang C / Erlang A checks (fixed seed), determinism, CLI behaviour."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivr.cli import main
from ivr.queue.config import load_config, single_queue_config
from ivr.queue.erlang import erlang_a, erlang_c_figures
from ivr.queue.model import ABANDONED, BLOCKED, SERVED
from ivr.queue.simulate import run_batch

ROOT = Path(__file__).resolve().parents[1]
SEED = 2024  # fixed once; the CIs are 95% intervals, see the coverage note in the report


def test_mm12_matches_erlang_c():
    r = run_batch(single_queue_config(10.0, 180.0, 12, None), 100_000, seed=SEED)
    c = erlang_c_figures(10.0, 180.0, 12, 20.0)
    assert r.calls == 98_000
    assert r.p_wait.contains(c.p_wait), (r.p_wait, c.p_wait)
    assert r.mean_wait.contains(c.asa), (r.mean_wait, c.asa)
    assert r.service_level.contains(c.service_level), (r.service_level, c.service_level)
    assert r.p_abandon.mean == 0.0 and r.p_blocked.mean == 0.0
    # intervals are informative, not just wide
    assert r.p_wait.half < 0.03 and r.mean_wait.half < 0.2 * c.asa


def test_mm12_plus_m_matches_erlang_a():
    r = run_batch(single_queue_config(10.0, 180.0, 12, 120.0), 100_000, seed=SEED)
    a = erlang_a(10.0, 180.0, 12, 120.0, 20.0)
    assert r.p_wait.contains(a.p_wait), (r.p_wait, a.p_wait)
    assert r.mean_wait.contains(a.mean_wait), (r.mean_wait, a.mean_wait)
    assert r.p_abandon.contains(a.p_abandon), (r.p_abandon, a.p_abandon)
    assert r.service_level.contains(a.service_level), (r.service_level, a.service_level)
    assert r.occupancy.contains(a.occupancy), (r.occupancy, a.occupancy)
    assert r.p_abandon.half < 0.005


def test_same_seed_same_result_and_common_random_numbers():
    cfg12 = single_queue_config(10.0, 180.0, 12, 120.0)
    a = run_batch(cfg12, 5_000, seed=3)
    b = run_batch(cfg12, 5_000, seed=3)
    c = run_batch(cfg12, 5_000, seed=4)
    assert np.array_equal(a.waits, b.waits) and a.p_wait == b.p_wait
    assert not np.array_equal(a.waits, c.waits)
    # the same callers meet more agents: nobody's outcome gets worse in aggregate
    more = run_batch(single_queue_config(10.0, 180.0, 14, 120.0), 5_000, seed=3)
    assert more.p_wait.mean < a.p_wait.mean and more.p_abandon.mean < a.p_abandon.mean


def test_shipped_config_with_shifts_runs_and_is_sane():
    cfg = load_config(ROOT / "menus" / "queues.yaml")
    r = run_batch(cfg, 20_000, seed=1)
    assert set(np.unique(r.outcomes)) <= {SERVED, ABANDONED, BLOCKED}
    for e in (r.p_wait, r.service_level, r.p_abandon, r.p_blocked, r.occupancy):
        assert 0.0 <= e.mean <= 1.0
    assert 0.3 < r.occupancy.mean < 1.0
    assert r.sim_hours > 20  # 20 000 calls at ~4 700 a day span several days of the profile
    per = r.by_queue()
    assert set(per) == set(cfg.queues)
    share = dict(cfg.traffic.mix)
    for name, f in per.items():  # the request-type mix is honoured
        assert f["calls"] / r.calls == pytest.approx(share[name], abs=0.02)
    # complaints (priority 2) are answered ahead of information calls (priority 0) by the
    # agents who serve both
    assert per["pengaduan"]["mean_wait"] < per["informasi"]["mean_wait"]


def test_flat_staff_study_improves_with_agents():
    cfg = load_config(ROOT / "menus" / "queues.yaml").with_flat_traffic(10)
    few = run_batch(cfg.with_flat_staff(24), 20_000, seed=2)
    many = run_batch(cfg.with_flat_staff(34), 20_000, seed=2)
    assert many.service_level.mean > few.service_level.mean
    assert many.p_abandon.mean < few.p_abandon.mean
    assert many.occupancy.mean < few.occupancy.mean


def test_cli_simulate_mm_reports_erlang_in_ci_and_plots(tmp_path, capsys):
    png = tmp_path / "study.png"
    rc = main(["queue", "simulate", "--mm", "10,180,120", "--calls", "100000", "--agents", "12",
               "--seed", str(SEED), "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Erlang A" in out and "in CI" in out and "outside CI" not in out
    assert "answered within 20 s / all arrivals" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_cli_simulate_config_with_agents(capsys):
    rc = main(["queue", "simulate", "--config", str(ROOT / "menus" / "queues.yaml"), "--calls", "3000",
               "--agents", "26,30", "--hour", "10", "--seed", "1", "--by-queue"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "26 agents" in out and "30 agents" in out and "Erl offered" in out
    assert "Per request type: 30 agents" in out and "ganti_nomor_hp" in out


def test_cli_erlang_prints_reference_figures(capsys):
    rc = main(["queue", "erlang", "--traffic", "10", "--aht", "180", "--agents", "11..15", "--patience", "120"])
    out = capsys.readouterr().out
    assert rc == 0
    for figure in ("0.68212", "122.78", "0.3896", "0.38282", "0.09416", "11.30", "0.7422", "0.07882", "0.9616"):
        assert figure in out


@pytest.mark.parametrize(
    "argv,expect",
    [
        (["queue", "erlang", "--traffic", "10", "--aht", "180", "--agents", "16..10"], "range start is above its end"),
        (["queue", "erlang", "--traffic", "-1", "--aht", "180", "--agents", "12"], "--traffic must be a positive number"),
        (["queue", "simulate", "--mm", "10,x", "--calls", "1000"], "must be numbers"),
        (["queue", "simulate", "--traffic", "10", "--calls", "1000"], "needs both --traffic and --aht"),
        (["queue", "simulate", "--mm", "10,180", "--calls", "50"], "too few"),
        (["queue", "simulate", "--config", "nope.yaml"], "queue config not found"),
        (["queue", "simulate", "--config", str(ROOT / "menus" / "queues.yaml"), "--agents", "2", "--calls", "1000"],
         "at least that many agents"),
    ],
)
def test_cli_errors_are_one_clear_line(argv, expect, capsys):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert expect in err and "Traceback" not in err


def test_cli_validate_reports_positions(tmp_path, capsys):
    bad = tmp_path / "q.yaml"
    bad.write_text((ROOT / "menus" / "queues.yaml").read_text(encoding="utf-8").replace("dist: gamma", "dist: gama"),
                   encoding="utf-8")
    assert main(["queue", "validate", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "did you mean 'gamma'" in err and "Traceback" not in err
    assert main(["queue", "validate", "--config", str(ROOT / "menus" / "queues.yaml")]) == 0
    assert "OK." in capsys.readouterr().out
