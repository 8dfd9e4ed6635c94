"""CallSession rules, driven with a fake clock: every timestamp is given by the test."""
from __future__ import annotations

import textwrap

import pytest

from ivr.engine.events import (
    Digit, EndCall, EnterNode, Hangup, Invoke, Listen, Play, PromptDone, ServiceDone, Speech,
    SpeechStarted, StopPlayback, Tick, Transfer,
)
from ivr.grammar import RecognitionResult
from ivr.engine.session import CallSession
from ivr.tree.loader import load_tree_text

TREE = textwrap.dedent("""
    version: 1
    start: hello
    agent_node: agent
    global_words: {back: [kembali], agent: [agen], repeat: [ulangi]}
    defaults:
      prompts: {invalid: "Salah.", timeout: "Tidak ada input.", exit: "Batas habis.", nomatch: "Tidak dikenali."}
    nodes:
      hello: {type: say, prompt: "Halo.", next: main, barge_in: false}
      main:
        type: menu
        prompts: {greet_long: "Tekan 1 atau 2.", greet_short: "Pilih 1 atau 2."}
        on_exceeded: hangup
        options:
          "1": {goto: pin, say: [status]}
          "2": {goto: svc, say: [tagihan]}
      quiet:
        type: menu
        barge_in: false
        prompt: "Dengarkan sampai selesai."
        options: {"1": {goto: bye}}
      pin:
        type: collect
        var: pin
        min_length: 4
        max_length: 6
        timeout: 8
        inter_digit_timeout: 3
        prompts: {greet_long: "Masukkan PIN.", too_short: "Terlalu pendek.", invalid: "PIN salah."}
        on_exceeded: {goto: agent}
        next: svc
      svc:
        type: service
        service: cek
        args: {pin: "{pin}"}
        branches: {ok: done, bad: bye}
      done: {type: say, prompt: "PIN {pin} diterima, halo {nama}.", next: bye}
      agent: {type: transfer, queue: informasi, fields: {pin: "{pin}"}, prompt: "Ke agen."}
      bye: {type: hangup, prompt: "Dadah."}
""")


@pytest.fixture()
def tree():
    return load_tree_text(TREE, "t.yaml")


def texts(actions):
    return [a.text for a in actions if isinstance(a, Play)]


def kinds(actions):
    return [type(a).__name__ for a in actions]


def finish(call, at):
    """The driver reports each queued prompt as finished (one PromptDone per Play)."""
    for _ in range(len(call.pending)):
        call.handle(PromptDone(at=at))


def started(tree, at=0.0):
    call = CallSession(tree)
    acts = call.start(at=at)
    finish(call, at + 2)
    return call, acts


def test_start_plays_welcome_then_menu_and_listens(tree):
    call = CallSession(tree)
    acts = call.start(at=0.0)
    assert texts(acts) == ["Halo.", "Tekan 1 atau 2."]
    listen = [a for a in acts if isinstance(a, Listen)][0]
    assert listen.node == "main" and listen.timeout == 10.0
    assert listen.grammar.phrases()["status"] == "1"
    # timer does not run while the prompts play (only the call's maximum duration is due):
    # the welcome ends, then the menu prompt
    assert call.next_deadline == call.ends_at == 3600.0
    call.handle(PromptDone(at=1.5))
    assert call.next_deadline == 3600.0
    call.handle(PromptDone(at=4.0))
    assert call.next_deadline == pytest.approx(14.0)


def test_option_key_goes_to_node(tree):
    call, _ = started(tree)
    acts = call.handle(Digit("1", at=3.0))
    assert EnterNode("pin", "collect") in acts
    assert texts(acts) == ["Masukkan PIN."]


def test_timeouts_counted_separately_and_exceed_to_hangup(tree):
    call, _ = started(tree)  # listening from t=2
    assert call.handle(Tick(at=11.9)) == []          # not due yet
    a1 = call.handle(Tick(at=12.0))
    assert texts(a1) == ["Tidak ada input.", "Pilih 1 atau 2."]
    finish(call, 14.0)
    # a failure does not reset the timeout count
    a2 = call.handle(Digit("7", at=15.0))
    assert texts(a2) == ["Salah.", "Pilih 1 atau 2."]
    finish(call, 16.0)
    a3 = call.handle(Tick(at=26.0))
    assert texts(a3)[0] == "Tidak ada input."
    finish(call, 27.0)
    a4 = call.handle(Tick(at=37.0))
    assert texts(a4) == ["Batas habis."]
    assert isinstance(a4[-1], EndCall) and a4[-1].reason == "max-exceeded"
    assert call.stats.outcome == "max-exceeded"


def test_three_invalid_keys_exceed(tree):
    call, _ = started(tree)
    for i, k in enumerate("789"):
        acts = call.handle(Digit(k, at=3.0 + i))
        finish(call, 3.5 + i)
    assert texts(acts) == ["Batas habis."]
    assert call.stats.outcome == "max-exceeded"


def test_barge_in_digit_stops_prompt_and_counts(tree):
    call = CallSession(tree)
    call.start(at=0.0)
    finish(call, 1.0)
    acts = call.handle(Digit("1", at=1.5))     # now in collect; its prompt is playing
    assert call.playing
    acts = call.handle(Digit("4", at=1.6))
    assert isinstance(acts[0], StopPlayback)
    assert call.listening.digits == "4"


def test_no_barge_in_ignores_digit(tree):
    call = CallSession(tree)
    call.start(at=0.0)
    # welcome prompt has barge_in false: a key while it plays is ignored
    acts = call.handle(Digit("1", at=0.5))
    assert acts == [] and call.stats.ignored_keys == 1
    assert call.node.id == "main"
    # barge-in belongs to each prompt: once the welcome is over, the menu prompt (barge-in
    # on) is playing and a key stops it and counts
    call.handle(PromptDone(at=1.0))
    acts = call.handle(Digit("1", at=1.5))
    assert isinstance(acts[0], StopPlayback)
    assert call.node.id == "pin"


def test_collect_terminator_too_short_and_interdigit(tree):
    call, _ = started(tree)
    call.handle(Digit("1", at=3.0))
    finish(call, 4.0)
    for i, k in enumerate("12#"):
        acts = call.handle(Digit(k, at=5.0 + i * 0.2))
    assert texts(acts) == ["Terlalu pendek.", "Masukkan PIN."]
    finish(call, 7.0)
    call.handle(Digit("1", at=8.0))
    call.handle(Digit("2", at=8.2))
    call.handle(Digit("3", at=8.4))
    call.handle(Digit("4", at=8.6))
    assert call.next_deadline == pytest.approx(11.6)
    acts = call.handle(Tick(at=11.6))   # inter-digit timeout ends the input: 4 digits are enough
    inv = [a for a in acts if isinstance(a, Invoke)]
    assert inv == [Invoke("cek", {"pin": "1234"}, "svc")]


def test_collect_max_length_ends_input(tree):
    call, _ = started(tree)
    call.handle(Digit("1", at=3.0))
    finish(call, 4.0)
    acts = []
    for i, k in enumerate("123456"):
        acts = call.handle(Digit(k, at=5.0 + i * 0.2))
    assert any(isinstance(a, Invoke) for a in acts)
    assert call.vars["pin"] == "123456"


def test_service_branch_and_variables(tree):
    call, _ = started(tree)
    call.handle(Digit("2", at=3.0))
    acts = call.handle(ServiceDone("ok", {"nama": "Siti"}, at=3.1))
    assert "halo Siti." in texts(acts)[0]
    assert call.stats.outcome == "hangup"
    assert call.stats.path == ["hello", "main", "svc", "done", "bye"]


def test_service_unknown_outcome_without_default_is_error(tree):
    call, _ = started(tree)
    call.handle(Digit("2", at=3.0))
    acts = call.handle(ServiceDone("weird", {}, at=3.1))
    assert acts[-1] == EndCall("error", "svc")


def test_global_keys_agent_back_repeat(tree):
    call, _ = started(tree)
    acts = call.handle(Digit("#", at=3.0))   # repeat
    assert texts(acts) == ["Tekan 1 atau 2."]
    finish(call, 4.0)
    call.handle(Digit("1", at=5.0))          # into collect
    finish(call, 6.0)
    acts = call.handle(Digit("*", at=7.0))   # back to main
    assert EnterNode("main", "menu") in acts
    finish(call, 8.0)
    acts = call.handle(Digit("0", at=9.0))   # agent
    t = [a for a in acts if isinstance(a, Transfer)]
    assert t and t[0].queue == "informasi"
    assert call.stats.outcome == "transfer"


def test_collect_exceeded_goes_to_configured_node(tree):
    call, _ = started(tree)
    call.handle(Digit("1", at=3.0))
    finish(call, 4.0)
    t = 5.0
    for _ in range(3):
        acts = call.handle(Digit("#", at=t))
        finish(call, t + 1)
        t += 2
    assert [a for a in acts if isinstance(a, Transfer)][0].fields == {"pin": ""}


def test_speech_choice_nomatch_and_low_confidence(tree):
    call, _ = started(tree)
    r_bad = RecognitionResult("halo selamat pagi", nomatch=True, confidence=0.9)
    acts = call.handle(Speech(r_bad, at=3.0))
    assert texts(acts) == ["Tidak dikenali.", "Pilih 1 atau 2."]
    finish(call, 4.0)
    r_low = RecognitionResult("status", choice="1", nomatch=False, confidence=0.2)
    acts = call.handle(Speech(r_low, at=5.0))
    assert texts(acts)[0] == "Tidak dikenali."
    finish(call, 6.0)
    r_ok = RecognitionResult("status", choice="1", nomatch=False, confidence=0.9)
    acts = call.handle(Speech(r_ok, at=7.0))
    assert EnterNode("pin", "collect") in acts


def test_spoken_digits_fill_collect(tree):
    call, _ = started(tree)
    call.handle(Digit("1", at=3.0))
    finish(call, 4.0)
    r = RecognitionResult("satu dua tiga empat", digits="1234", nomatch=False, confidence=0.9)
    acts = call.handle(Speech(r, at=6.0))
    # 4 digits are enough, but up to 6 may still come: the inter-digit timeout ends it
    assert not any(isinstance(a, Invoke) for a in acts)
    acts = call.handle(Tick(at=9.0))
    assert any(isinstance(a, Invoke) and a.args == {"pin": "1234"} for a in acts)


def test_speech_start_barges_in(tree):
    call = CallSession(tree)
    call.start(at=0.0)
    finish(call, 1.0)
    call.handle(Digit("1", at=1.2))
    acts = call.handle(SpeechStarted(at=1.3))
    assert acts == [StopPlayback("speech")] and not call.playing


def test_caller_hangup_ends(tree):
    call, _ = started(tree)
    acts = call.handle(Hangup(at=5.0))
    assert acts == [EndCall("caller-hangup", "main")]
    assert call.handle(Digit("1", at=6.0)) == []


def test_loop_without_input_is_stopped():
    tree = load_tree_text(textwrap.dedent("""
        version: 1
        start: a
        global_keys: {agent: null}
        nodes:
          a: {type: say, prompt: "A", next: b}
          b: {type: say, prompt: "B", next: a}
    """))
    call = CallSession(tree)
    acts = call.start(at=0.0)
    assert acts[-1].reason == "error"
    assert len(acts) < 1000


def test_spoken_digit_groups_accumulate_until_min_length(tree):
    call, _ = started(tree)
    call.handle(Digit("1", at=3.0))
    finish(call, 4.0)
    r1 = RecognitionResult("satu dua", digits="12", nomatch=False, confidence=0.9)
    assert not any(isinstance(a, Invoke) for a in call.handle(Speech(r1, at=6.0)))
    assert call.listening.digits == "12" and call.next_deadline == pytest.approx(9.0)
    r2 = RecognitionResult("tiga empat", digits="34", nomatch=False, confidence=0.9)
    assert not any(isinstance(a, Invoke) for a in call.handle(Speech(r2, at=8.0)))
    r3 = RecognitionResult("lima enam", digits="56", nomatch=False, confidence=0.9)
    acts = call.handle(Speech(r3, at=10.0))      # max_length reached: done at once
    assert any(isinstance(a, Invoke) and a.args == {"pin": "123456"} for a in acts)


def test_spoken_digits_beyond_max_length_are_invalid(tree):
    call, _ = started(tree)
    call.handle(Digit("1", at=3.0))
    finish(call, 4.0)
    r = RecognitionResult("...", digits="1234567", nomatch=False, confidence=0.9)
    acts = call.handle(Speech(r, at=6.0))
    assert texts(acts) == ["PIN salah.", "Masukkan PIN."]


def test_back_returns_to_the_previous_menu_not_into_a_collect(tree):
    call, _ = started(tree)
    call.handle(Digit("1", at=3.0))          # main -> pin (collect)
    finish(call, 4.0)
    for i, k in enumerate("1234#"):
        call.handle(Digit(k, at=5.0 + i * 0.1))
    call.handle(ServiceDone("bad", {}, at=6.0))  # -> bye
    assert call.history == ["main"]
