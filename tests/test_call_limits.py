"""Bounded time for any input (issue 10, section 3): every call has a maximum duration, long
calls stay linear, and a chain of say nodes too long for the engine is a lint error.
Virtual clock throughout: nothing sleeps."""
from __future__ import annotations

import json
import textwrap
import time

import pytest

from ivr.cli import main
from ivr.drivers.runtime import CallRuntime
from ivr.drivers.scripted import ScriptedCall
from ivr.engine.events import END_REASONS, EndCall, LeaveQueue, PromptDone, QueueUpdate, StopPlayback, Tick
from ivr.engine.session import MAX_HOPS, CallSession
from ivr.tree.lint import lint
from ivr.tree.loader import load_tree_text
from ivr.tree.schema import json_schema

PING_PONG = textwrap.dedent("""
    version: 1
    start: a
    global_keys: {agent: null}
    nodes:
      a:
        type: menu
        prompt: "Menu A. Tekan 1."
        options: {"1": {goto: b}}
        on_exceeded: {goto: b}
      b:
        type: menu
        prompt: "Menu B. Tekan 1."
        options: {"1": {goto: a}}
        on_exceeded: {goto: a}
""")

HOLD = textwrap.dedent("""
    version: 1
    start: q
    global_keys: {agent: null}
    nodes:
      q: {type: transfer, queue: informasi, prompt: "Mohon tunggu.", agent: bye}
      bye: {type: hangup, prompt: "Dadah."}
""")


def _call_json(args, capsys) -> dict:
    rc = main(["call", "--no-log", "--no-queue", "--today", "2026-11-23", "--db", ":memory:", "--json", *args])
    out, err = capsys.readouterr()
    assert rc == 0 and "Traceback" not in err, err
    return json.loads(out.strip().splitlines()[-1])


# ---- the engine ------------------------------------------------------------------------------
def test_the_call_limit_is_a_deadline_and_its_own_end_reason():
    tree = load_tree_text(PING_PONG, "t.yaml")
    s = CallSession(tree)
    s.start(at=100.0)
    assert s.ends_at == 100.0 + tree.max_call_seconds == 3700.0
    assert s.next_deadline == 3700.0          # the menu prompt still plays: only the limit is due
    s.handle(PromptDone(at=102.0))
    assert s.next_deadline == 112.0           # the no-input timeout comes first
    out = s.handle(Tick(at=3700.0))
    assert isinstance(out[-1], EndCall) and out[-1].reason == "max-duration"
    assert s.stats.outcome == "max-duration" and s.stats.ended_at == 3700.0
    assert s.next_deadline is None
    assert "max-duration" in END_REASONS


def test_the_limit_stops_a_playing_prompt_and_leaves_the_queue():
    tree = load_tree_text(HOLD, "t.yaml")
    s = CallSession(tree)
    s.start(at=0.0)
    s.handle(QueueUpdate("waiting", at=1.0, position=3, announce_every=30.0))
    assert s.holding is not None
    out = s.handle(QueueUpdate("waiting", at=3600.0, position=2))
    kinds = [type(a) for a in out]
    assert kinds == [StopPlayback, LeaveQueue, EndCall]
    assert out[-1].reason == "max-duration" and s.holding is None


# ---- the tree default and the command line ---------------------------------------------------
def test_tree_default_max_call_seconds_and_schema():
    tree = load_tree_text(PING_PONG.replace("start: a", "start: a\ndefaults: {max_call_seconds: 45}"), "t.yaml")
    assert tree.max_call_seconds == 45.0
    rt = CallRuntime(tree)
    call = ScriptedCall(rt)
    call.start()
    call.press("w" * 100)
    assert rt.result().outcome == "max-duration" and rt.result().duration == pytest.approx(45.0)
    prop = json_schema()["properties"]["defaults"]["properties"]["max_call_seconds"]
    assert prop["type"] == "number" and prop["minimum"] == 1
    with pytest.raises(Exception, match="max_call_seconds"):
        load_tree_text(PING_PONG.replace("start: a", "start: a\ndefaults: {max_call_seconds: 0}"), "t.yaml")


@pytest.mark.parametrize("keys", ["1*" * 50000, "#" * 100000])
def test_endless_key_scripts_end_at_the_limit_quickly(keys, capsys):
    t0 = time.monotonic()
    res = _call_json(["--keys", keys], capsys)
    assert res["outcome"] == "max-duration" and res["duration"] == pytest.approx(3600.0)
    assert time.monotonic() - t0 < 20


def test_menus_sending_the_caller_to_each_other_end_at_the_limit(tmp_path, capsys):
    p = tmp_path / "pingpong.yaml"
    p.write_text(PING_PONG)
    res = _call_json(["--tree", str(p), "--keys", "w" * 20000], capsys)
    assert res["outcome"] == "max-duration" and res["duration"] == pytest.approx(3600.0)
    res = _call_json(["--tree", str(p), "--keys", "w" * 20000, "--max-call-seconds", "90"], capsys)
    assert res["outcome"] == "max-duration" and res["duration"] == pytest.approx(90.0)


def test_silent_caller_after_the_script_ends_at_the_limit(tmp_path, capsys):
    p = tmp_path / "pingpong.yaml"
    p.write_text(PING_PONG)
    res = _call_json(["--tree", str(p), "--keys", "", "--then", "silence", "--max-call-seconds", "600"], capsys)
    assert res["outcome"] == "max-duration" and res["duration"] == pytest.approx(600.0)


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "0.5"])
def test_bad_max_call_seconds_is_a_one_line_error(value, capsys):
    rc = main(["call", "--keys", "1", "--no-log", "--max-call-seconds", value])
    _, err = capsys.readouterr()
    assert rc == 2 and err.count("\n") == 1 and "--max-call-seconds" in err


# ---- linear time in the call's length ------------------------------------------------------
class _CountingList(list):
    """A list that counts the elements a reader walks through (iteration or slicing)."""

    visited = 0

    def __iter__(self):
        _CountingList.visited += len(self)
        return super().__iter__()

    def __getitem__(self, i):
        if isinstance(i, slice):
            _CountingList.visited += len(range(*i.indices(len(self))))
        return super().__getitem__(i)


def test_barge_in_looks_only_at_the_prompts_still_queued(tmp_path):
    tree = load_tree_text(PING_PONG.replace("start: a", "start: a\ndefaults: {max_call_seconds: 100000}"), "t.yaml")
    rt = CallRuntime(tree)
    call = ScriptedCall(rt)
    call.played = _CountingList()
    _CountingList.visited = 0
    call.start()
    call.press("1" * 3000, barge=True)   # every key lands while the next menu's prompt plays
    n = len(call.played)
    assert n > 2000 and not rt.ended
    assert _CountingList.visited <= 3 * n      # linear: not n * n / 2
    cut = [p for p in call.played if p.cut is not None]
    assert len(cut) >= n - 2 and all(p.start <= p.cut <= p.end for p in cut)


# ---- lint: say chains past the engine's hop limit ------------------------------------------
def _say_chain(n: int) -> str:
    lines = ["version: 1", "start: s0", "global_keys: {agent: null}", "nodes:"]
    for i in range(n):
        nxt = f"s{i + 1}" if i + 1 < n else "bye"
        lines.append(f"  s{i}: {{type: say, prompt: \"Kalimat {i}.\", next: {nxt}}}")
    lines.append('  bye: {type: hangup, prompt: "Terima kasih."}')
    return "\n".join(lines) + "\n"


def test_a_say_chain_the_engine_would_stop_is_a_lint_error():
    ok = load_tree_text(_say_chain(MAX_HOPS - 1), "ok.yaml")
    assert not [e for e in lint(ok) if e.code == "say-chain"]
    rt = CallRuntime(ok)
    ScriptedCall(rt).start()
    assert rt.session.stats.outcome == "hangup"

    bad = load_tree_text(_say_chain(MAX_HOPS), "bad.yaml")
    found = [e for e in lint(bad) if e.code == "say-chain"]
    assert len(found) == 1 and found[0].severity == "error"
    assert (found[0].pos.line, found[0].pos.col) == (5, 3)      # where s0 is written
    assert f"{MAX_HOPS} say nodes in a row" in found[0].message and "s0" in found[0].message
    rt = CallRuntime(bad)
    ScriptedCall(rt).start()
    assert rt.session.stats.outcome == "error"   # what lint warns about


def test_say_chain_reached_from_a_menu_and_a_say_loop_do_not_crash_lint():
    text = _say_chain(250).replace("start: s0", "start: m") + textwrap.dedent("""
      m: {type: menu, prompt: "Tekan 1.", options: {"1": {goto: s0}, "2": {goto: l1}}}
      l1: {type: say, prompt: "Satu.", next: l2}
      l2: {type: say, prompt: "Dua.", next: l1}
    """).replace("\n", "\n  ").rstrip(" ")
    tree = load_tree_text(text, "t.yaml")
    codes = [e.code for e in lint(tree)]
    assert codes.count("say-chain") == 1 and "loop" in codes
