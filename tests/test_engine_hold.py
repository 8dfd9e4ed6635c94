"""The engine's agent-queue branch (a transfer node with an `agent`), driven with a fake
clock, and the session's public status view (`CallSession.status`)."""
from __future__ import annotations

import textwrap

import pytest

from ivr.engine.events import (
    Digit, EndCall, Hangup, LeaveQueue, Play, PromptDone, QueueUpdate, StopPlayback, Tick, Transfer,
)
from ivr.engine.session import CallSession, salam, spoken_wait
from ivr.tree.loader import load_tree_text

TREE = textwrap.dedent("""
    version: 1
    start: main
    agent_node: ke_agen
    defaults:
      prompts:
        invalid: "Salah."
        timeout: "Diam."
        exit: "Habis."
        nomatch: "Tidak dikenali."
        queue_position: "Antrean nomor {posisi}, tunggu {waktu_tunggu}."
        queue_periodic: "Masih antre nomor {posisi}."
        queue_full: "Antrean penuh."
    nodes:
      main:
        type: menu
        prompt: "Tekan 1 untuk agen, 2 untuk agen tanpa callback."
        max_failures: 2
        options: {"1": {goto: ke_agen}, "2": {goto: ke_agen_saja}}
      ke_agen: {type: transfer, queue: informasi, agent: bicara, callback: cb, prompt: "Mohon tunggu."}
      ke_agen_saja: {type: transfer, queue: informasi, agent: bicara, prompt: "Mohon tunggu."}
      bicara: {type: hangup, prompt: "Halo, dengan agen {agen}."}
      cb: {type: hangup, prompt: "Kami telepon kembali."}
""")


@pytest.fixture()
def tree():
    return load_tree_text(TREE, "hold.yaml")


def texts(actions):
    return [a.text for a in actions if isinstance(a, Play)]


def done(call, at):
    for _ in range(len(call.pending)):
        call.handle(PromptDone(at=at))


def holding(tree, key="1", every=30.0):
    """A call that pressed `key` and was told its place in the queue at t=5."""
    call = CallSession(tree)
    call.start(at=0.0)
    done(call, 2.0)
    acts = call.handle(Digit(key, at=3.0))
    assert any(isinstance(a, Transfer) for a in acts) and call.status.holding
    done(call, 4.0)
    acts = call.handle(QueueUpdate("waiting", at=5.0, position=3, est_wait_s=150, announce_every=every))
    assert texts(acts) == ["Antrean nomor 3, tunggu sekitar 2 menit."]
    return call


def test_status_view_follows_the_call(tree):
    call = CallSession(tree)
    st = call.status
    assert (st.node, st.listening, st.holding, st.ended) == (None, None, False, False)
    call.start(at=0.0)
    st = call.status
    assert (st.node, st.kind, st.listening, st.retries_left, st.timeouts_left) == ("main", "menu", "main", 2, 3)
    done(call, 2.0)
    call.handle(Digit("9", at=3.0))                 # a wrong key: one retry fewer
    assert call.status.retries_left == 1
    done(call, 4.0)
    call.handle(Digit("1", at=5.0))
    st = call.status
    assert st.node == "ke_agen" and st.holding and st.listening is None and st.retries_left is None
    call.handle(QueueUpdate("waiting", at=6.0, position=4))
    assert call.status.queue_position == 4
    call.handle(Hangup(at=7.0))
    st = call.status
    assert st.ended and not st.holding and st.queue_position is None


def test_periodic_announcements_at_their_time_only(tree):
    call = holding(tree, every=30.0)
    assert call.next_deadline == 35.0
    assert texts(call.handle(Tick(at=20.0))) == []
    call.handle(QueueUpdate("waiting", at=21.0, position=2))   # position changes: no announcement yet
    assert texts(call.handle(Tick(at=35.0))) == ["Masih antre nomor 2."]
    assert call.next_deadline == 65.0
    # a late tick announces once and schedules the next one after it
    assert texts(call.handle(Tick(at=130.0))) == ["Masih antre nomor 2."]
    assert call.next_deadline == 155.0


def test_no_periodic_announcement_when_every_is_zero(tree):
    call = holding(tree, every=0.0)
    assert call.next_deadline == call.ends_at
    assert texts(call.handle(Tick(at=500.0))) == []


def test_connected_enters_the_agent_node_with_the_agent_name(tree):
    call = holding(tree)
    acts = call.handle(QueueUpdate("connected", at=40.0, agent="informasi/Agen-07"))
    assert texts(acts) == ["Halo, dengan agen Agen-07."]
    assert call.stats.connected_at == 40.0 and call.stats.queued_at == 5.0
    assert not call.status.holding and call.history == []


def test_agent_greets_by_name_and_time_of_day():
    """The driver says who answered and the hour on its clock; the engine picks the greeting
    and fills {agen} and {salam} (it reads no clock itself)."""
    greeting = load_tree_text(TREE.replace("Halo, dengan agen {agen}.", "{salam}, dengan {agen}."), "hold.yaml")
    call = holding(greeting)
    acts = call.handle(QueueUpdate("connected", at=40.0, agent="informasi/3", agent_name="Rina", hour=22))
    assert texts(acts) == ["Selamat malam, dengan Rina."]
    assert call.vars["agen"] == "Rina" and call.vars["salam"] == "Selamat malam"
    # a driver that cannot tell: the id's number, and a greeting without a time of day
    call = holding(greeting)
    assert texts(call.handle(QueueUpdate("connected", at=40.0, agent="informasi/3"))) == ["Selamat datang, dengan 3."]


@pytest.mark.parametrize("hour,said", [
    (0, "Selamat malam"), (3, "Selamat malam"), (4, "Selamat pagi"), (9, "Selamat pagi"),
    (10, "Selamat siang"), (14, "Selamat siang"), (15, "Selamat sore"), (17, "Selamat sore"),
    (18, "Selamat malam"), (23, "Selamat malam"), (24, "Selamat malam"), (None, "Selamat datang"),
])
def test_salam_by_hour(hour, said):
    assert salam(hour) == said


def test_callback_key_stops_the_announcement_and_leaves_the_queue(tree):
    call = holding(tree)
    acts = call.handle(Digit("*", at=6.0))          # during the position announcement
    assert isinstance(acts[0], StopPlayback)
    assert LeaveQueue("callback", "ke_agen", "*") in acts
    assert texts(acts) == ["Kami telepon kembali."]


def test_callback_key_without_a_callback_node_ends_the_call(tree):
    call = holding(tree, key="2")
    done(call, 9.0)
    acts = call.handle(Digit("*", at=10.0))
    assert [a.reason for a in acts if isinstance(a, EndCall)] == ["callback"]


def test_other_keys_while_holding_are_ignored(tree):
    call = holding(tree)
    done(call, 9.0)
    assert call.handle(Digit("5", at=10.0)) == []
    assert call.stats.ignored_keys == 1 and call.status.holding


def test_hangup_while_holding_is_an_abandon(tree):
    call = holding(tree)
    acts = call.handle(Hangup(at=12.0))
    assert LeaveQueue("abandon", "ke_agen") in acts
    assert call.stats.outcome == "abandon"


@pytest.mark.parametrize("key, outcome, said", [("1", None, "Kami telepon kembali."), ("2", "queue-full", None)])
def test_full_queue_goes_to_the_callback_node_or_ends(tree, key, outcome, said):
    call = CallSession(tree)
    call.start(at=0.0)
    done(call, 2.0)
    call.handle(Digit(key, at=3.0))
    acts = call.handle(QueueUpdate("full", at=4.0))
    assert texts(acts)[0] == "Antrean penuh."
    if said:
        assert said in texts(acts)
    else:
        assert [a.reason for a in acts if isinstance(a, EndCall)] == [outcome]


def test_unavailable_queue_ends_as_a_plain_transfer(tree):
    call = CallSession(tree)
    call.start(at=0.0)
    done(call, 2.0)
    call.handle(Digit("1", at=3.0))
    acts = call.handle(QueueUpdate("unavailable", at=3.0))
    assert [a.reason for a in acts if isinstance(a, EndCall)] == ["transfer"]


def test_position_only_and_silent_announcements(tree):
    call = CallSession(tree)
    call.start(at=0.0)
    done(call, 2.0)
    call.handle(Digit("1", at=3.0))
    acts = call.handle(QueueUpdate("waiting", at=4.0, position=1, announce_position=False, announce_holdtime=False))
    assert texts(acts) == []                          # neither position nor wait is announced


@pytest.mark.parametrize("seconds, said", [(10, "kurang dari 1 menit"), (89, "sekitar 1 menit"),
                                            (600, "sekitar 10 menit"), (float("inf"), "belum dapat diperkirakan"),
                                            (float("nan"), "belum dapat diperkirakan")])
def test_spoken_wait(seconds, said):
    assert spoken_wait(seconds) == said


def test_every_end_reason_the_engine_uses_is_documented():
    """END_REASONS is the one list of why a call ends (logs, results, README): the engine
    may not end a call for a reason it does not name."""
    import re
    from pathlib import Path

    import ivr.engine
    from ivr.engine.events import END_REASONS

    src = "".join(p.read_text() for p in Path(ivr.engine.__file__).parent.glob("*.py"))
    used = set(re.findall(r"\b_?end\(\"([a-z-]+)\"", src))
    assert used and used <= set(END_REASONS), used - set(END_REASONS)
