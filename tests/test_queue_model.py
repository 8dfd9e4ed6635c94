"""Queue model and its live API: routing, priorities, limits, shifts, events, hold-time estimate."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import simpy

from ivr.queue.config import load_config, parse_config, single_queue_config
from ivr.queue.model import LiveQueue, QueueModel

ROOT = Path(__file__).resolve().parents[1]

# Deterministic service, (practically) no background callers: every event is predictable.
QUIET = """\
version: 1
start_hour: 9
patience: none
queues:
  informasi: {priority: 0, max_length: 2, service: {dist: deterministic, mean: 100}}
  pengaduan: {priority: 2, service: {dist: deterministic, mean: 100}}
  ganti_kelas: {priority: 1, service: {dist: deterministic, mean: 100}}
agents:
  umum: {skills: [informasi, pengaduan], shifts: [{from: 0, to: 24, agents: 1}]}
  kelas: {skills: [ganti_kelas], shifts: [{from: 0, to: 24, agents: 1}]}
traffic: {calls_per_hour: 0.000001, mix: {informasi: 1}}
"""


@pytest.fixture
def quiet() -> LiveQueue:
    return LiveQueue(parse_config(QUIET, "quiet.yaml"), seed=1, warmup_s=0)


def kinds(events):
    return [(e.kind, e.caller_id) for e in events]


def test_enter_connects_when_an_agent_is_free(quiet):
    info = quiet.enter("a", "informasi", at=0.0)
    assert info.status == "connected" and info.position == 0 and info.est_wait_s == 0.0
    assert info.agent == "umum/1"
    assert kinds(info.events) == [("ENTERQUEUE", "a"), ("CONNECT", "a")]
    assert quiet.connected_at("a") == 0.0
    assert quiet.advance(5.0) == []  # reported once, in EnterInfo


def test_priority_beats_arrival_order_and_estimates_follow(quiet):
    quiet.enter("a", "informasi", at=0.0)
    b = quiet.enter("b", "informasi", at=1.0)
    c = quiet.enter("c", "pengaduan", at=2.0)
    assert (b.status, b.position) == ("waiting", 1)
    assert (c.status, c.position) == ("waiting", 1)
    # c (priority 2) will be answered first: one service ahead of b
    assert quiet.estimated_wait("c") == pytest.approx(100.0)
    assert quiet.estimated_wait("b") == pytest.approx(200.0)
    done = quiet.leave("a", at=10.0, reason="complete")
    assert done.kind == "COMPLETECALLER" and done.talk_s == pytest.approx(10.0) and done.agent == "umum/1"
    ev = quiet.advance(10.0)
    assert kinds(ev) == [("CONNECT", "c")]
    assert ev[0].wait_s == pytest.approx(8.0)
    assert quiet.connected_at("c") == 10.0 and quiet.connected_at("b") is None
    assert quiet.position("b") == 1 and quiet.estimated_wait("b") == pytest.approx(100.0)


def test_skills_route_to_the_right_group(quiet):
    quiet.enter("x", "informasi", at=0.0)
    info = quiet.enter("k", "ganti_kelas", at=0.5)  # umum is busy, but kelas serves this queue
    assert info.status == "connected" and info.agent == "kelas/1"


def test_full_queue_refuses(quiet):
    quiet.enter("a", "informasi", at=0.0)
    quiet.enter("b", "informasi", at=1.0)
    quiet.enter("c", "informasi", at=2.0)
    full = quiet.enter("d", "informasi", at=3.0)
    assert full.status == "full" and kinds(full.events) == [("FULL", "d")]
    assert quiet.status("d") == "gone"


def test_callback_key_and_abandon_leave_the_queue(quiet):
    quiet.enter("a", "informasi", at=0.0)
    quiet.enter("b", "informasi", at=1.0)
    quiet.enter("c", "informasi", at=2.0)
    ev = quiet.leave("b", at=20.0, reason="callback", key="*")
    assert (ev.kind, ev.key, ev.position, ev.wait_s) == ("EXITWITHKEY", "*", 1, pytest.approx(19.0))
    assert quiet.position("c") == 1  # moved up
    ab = quiet.leave("c", at=30.0, reason="abandon")
    assert (ab.kind, ab.position, ab.orig_position) == ("ABANDON", 1, 2)
    with pytest.raises(ValueError, match="already left"):
        quiet.leave("c", at=31.0)
    # the agent is not held by callers who left
    quiet.leave("a", at=40.0, reason="complete")
    assert quiet.snapshot().agents_busy == 0


def test_model_side_patience_abandons_at_the_deadline(quiet):
    quiet.enter("a", "informasi", at=0.0)
    quiet.enter("b", "informasi", at=1.0, patience_s=30.0)
    assert quiet.next_event_at() == pytest.approx(31.0)
    ev = quiet.advance(60.0)
    assert kinds(ev) == [("ABANDON", "b")]
    assert ev[0].at == pytest.approx(31.0) and ev[0].wait_s == pytest.approx(30.0) and ev[0].position == 1


def test_bad_calls_raise_clear_errors(quiet):
    with pytest.raises(KeyError, match="unknown queue 'nope'"):
        quiet.enter("a", "nope", at=0.0)
    quiet.enter("a", "informasi", at=1.0)
    with pytest.raises(ValueError, match="already in a queue"):
        quiet.enter("a", "informasi", at=2.0)
    with pytest.raises(ValueError, match="backwards"):
        quiet.advance(0.5)
    with pytest.raises(ValueError, match="unknown reason"):
        quiet.leave("a", at=3.0, reason="teleport")
    with pytest.raises(KeyError, match="unknown caller"):
        quiet.position("zz")


SHIFTED = QUIET.replace("start_hour: 9", "start_hour: 9").replace(
    "umum: {skills: [informasi, pengaduan], shifts: [{from: 0, to: 24, agents: 1}]}",
    "umum: {skills: [informasi, pengaduan], shifts: [{from: 10, to: 18, agents: 2}]}",
)


def test_caller_waits_for_the_shift_and_hears_so():
    q = LiveQueue(parse_config(SHIFTED, "s.yaml"), seed=1, warmup_s=0)  # 09:00, nobody on duty yet
    info = q.enter("a", "informasi", at=0.0)
    assert info.status == "waiting"
    assert info.est_wait_s == pytest.approx(3600.0)  # answered as the 10:00 shift starts
    ev = q.advance(4000.0)
    assert kinds(ev) == [("CONNECT", "a")]
    assert q.connected_at("a") == pytest.approx(3600.0)
    assert q.snapshot().agents_on_duty["umum"] == 2


def test_agents_finish_their_call_when_the_shift_ends():
    text = """\
version: 1
start_hour: 0
patience: none
queues:
  informasi: {service: {dist: exponential, mean: 600}}
agents:
  umum: {skills: [informasi], shifts: [{from: 0, to: 1, agents: 5}, {from: 1, to: 24, agents: 2}]}
traffic: {calls_per_hour: 100, mix: {informasi: 1}}
"""
    env = simpy.Environment()
    m = QueueModel(env, parse_config(text, "t.yaml"), seed=4)
    m.start()
    env.run(until=3599.0)
    g = m.groups[0]
    assert g.on_duty == 5 and m.busy == 5  # overloaded: everyone busy
    env.run(until=3600.5)
    assert g.on_duty == 5 and g.pending_leave == 3  # nobody is cut off mid-call
    env.run(until=3 * 3600.0)
    assert g.on_duty == 2 and g.pending_leave == 0 and m.busy == 2


def test_background_traffic_gives_a_realistic_queue_at_peak():
    cfg = load_config(ROOT / "menus" / "queues.yaml")
    q = LiveQueue(cfg, seed=11, start_hour=10, warmup_s=3600)
    snap = q.snapshot()
    on_duty = sum(snap.agents_on_duty.values())
    assert on_duty == sum(g.agents_by_hour[10] for g in cfg.groups.values())
    assert snap.agents_busy > 0.6 * on_duty  # the peak hour keeps agents busy
    info = q.enter("live", "ganti_kelas", at=0.0)
    assert info.status in ("waiting", "connected")
    if info.status == "waiting":
        assert 0.0 < info.est_wait_s < 3600.0


def test_hold_time_estimate_is_unbiased_in_mmc_plus_m():
    """A live caller never abandons, so its wait is the offered wait whose conditional mean the
    estimate claims to be (exact for M/M/c+M): mean(actual - estimate) must be ~0, and the
    estimate must track the state (correlate with the actual wait)."""
    q = LiveQueue(single_queue_config(10.0, 180.0, 11, 120.0), seed=5, warmup_s=3600)
    est, actual = [], []
    t = 0.0
    for k in range(500):
        t = k * 500.0
        info = q.enter(f"c{k}", "umum", at=t)
        if info.status == "waiting":
            while q.connected_at(f"c{k}") is None:
                t += 5.0
                q.advance(t)
            est.append(info.est_wait_s)
            actual.append(q.connected_at(f"c{k}") - k * 500.0)
        q.leave(f"c{k}", at=t, reason="complete")
    est, actual = np.array(est), np.array(actual)
    assert len(est) > 120
    diff = actual - est
    se = diff.std(ddof=1) / math.sqrt(len(diff))
    assert abs(diff.mean()) < 3 * se, (diff.mean(), se)
    assert est.std() > 5.0  # not a constant
    assert np.corrcoef(est, actual)[0, 1] > 0.4
