"""The timing core of the drivers on a virtual clock (nothing sleeps): Timeline (prompt
scheduling, deadlines, barge-in cuts, deferred end), ScriptedCall (when keys and words
arrive), CallRuntime (bursts, masking decisions, services, transfers without a queue),
CallLog (records, masking, a log that fails) and the shared printers."""
from __future__ import annotations

import io
import json
import textwrap

import numpy as np
import pytest

from ivr.drivers.calllog import CallLog
from ivr.drivers.runtime import BURST_GAP_S, CallRuntime
from ivr.drivers.scripted import KEY_GAP, THINK, ScriptedCall
from ivr.drivers.timeline import EstimatedVoice, Timeline, estimate_seconds
from ivr.drivers.transcript import TranscriptPrinter, print_transcript
from ivr.engine.events import Digit, Hangup
from ivr.speech.holdmusic import HoldMusicFeed, hold_music
from ivr.tree.loader import load_tree_text

TREE = textwrap.dedent("""
    version: 1
    start: hello
    global_keys: {agent: null}
    defaults:
      prompts: {invalid: "Salah.", timeout: "Diam.", exit: "Habis.", nomatch: "Tidak dikenali."}
    nodes:
      hello: {type: say, prompt: "Halo, selamat datang.", next: main, barge_in: false}
      main:
        type: menu
        prompt: "Tekan 1 untuk PIN, 2 untuk layanan, 3 untuk agen."
        timeout: 5
        on_exceeded: hangup
        options:
          "1": {goto: pin, say: [pin]}
          "2": {goto: svc, say: [layanan]}
          "3": {goto: agen}
      pin:
        type: collect
        var: pin
        min_length: 4
        max_length: 4
        timeout: 6
        inter_digit_timeout: 2
        prompt: "Masukkan PIN."
        next: bye
      svc: {type: service, service: cek, branches: {ok: bye}}
      agen: {type: transfer, queue: informasi, prompt: "Ke agen."}
      bye: {type: hangup, prompt: "Dadah."}
""")
HELLO, MAIN = "Halo, selamat datang.", "Tekan 1 untuk PIN, 2 untuk layanan, 3 untuk agen."


@pytest.fixture()
def tree():
    return load_tree_text(TREE, "timing.yaml")


class _Res:
    def __init__(self, outcome, vars=None):
        self.outcome, self.vars = outcome, vars or {}


class FakeServices:
    def __init__(self, fail=False):
        self.fail, self.calls = fail, []

    def invoke(self, name, args, today=None):
        self.calls.append((name, args))
        if self.fail:
            raise RuntimeError("database gone")
        return _Res("ok", {"hasil": "baik"})


# ---- Timeline ---------------------------------------------------------------------------
def test_prompts_are_queued_back_to_back_with_their_spoken_length(tree):
    tl = Timeline(CallRuntime(tree))
    tl.begin()
    d1, d2 = estimate_seconds(HELLO), estimate_seconds(MAIN)
    assert [(p.text, p.start, p.end) for p in tl.played] == [(HELLO, 0.0, d1), (MAIN, d1, d1 + d2)]
    assert tl.prompt_end == pytest.approx(d1 + d2)
    assert tl.session.status.listening == "main"
    # the transcript stamps each prompt when it really started
    assert [(line.t, line.text) for line in tl.rt.lines() if line.who == "ivr"] == [(0.0, HELLO), (d1, MAIN)]


def test_advance_fires_prompt_ends_then_the_timeout_at_its_time(tree):
    tl = Timeline(CallRuntime(tree))
    tl.begin()
    end = tl.prompt_end
    tl.advance_to(end - 0.01)
    assert len(tl.prompt_ends) == 1 and tl.t == end - 0.01
    tl.advance_to(end)
    assert tl.prompt_ends == [] and tl.rt.next_deadline == pytest.approx(end + 5)
    tl.advance_to(end + 4.99)
    assert [p.text for p in tl.played][-1] == MAIN
    tl.advance_to(end + 5)                       # the no-input timeout: "Diam." then the menu again
    assert tl.played[2].text == "Diam." and tl.played[2].start == pytest.approx(end + 5)
    assert tl.session.timeouts == 1


def test_a_key_during_a_prompt_cuts_it_at_that_time(tree):
    tl = Timeline(CallRuntime(tree))
    tl.begin()
    t = tl.played[1].start + 1.0
    tl.advance_to(t)
    tl.feed_event(Digit("2", at=t))
    assert tl.played[1].cut == t and tl.played[0].cut is None     # the greeting was over already
    assert any("prompt dihentikan" in line.text for line in tl.rt.transcript)


def test_key_during_a_prompt_without_barge_in_is_ignored(tree):
    tl = Timeline(CallRuntime(tree))
    tl.begin()
    tl.advance_to(0.5)
    tl.feed_event(Digit("1", at=0.5))
    assert tl.played[0].cut is None and tl.session.stats.ignored_keys == 1


def test_the_call_ends_when_its_last_prompt_has_been_heard(tree):
    rt = CallRuntime(tree, services=FakeServices())
    tl = Timeline(rt)
    tl.begin()
    tl.advance_to(tl.prompt_end)
    tl.feed_event(Digit("2", at=tl.t))
    assert rt.ended and rt.finished_at == pytest.approx(tl.t + estimate_seconds("Dadah."))
    assert rt.result().duration == pytest.approx(rt.finished_at)
    assert rt.transcript[-1].text == "SELESAI: hangup di bye"


def test_run_until_end_lets_every_timeout_run(tree):
    rt = CallRuntime(tree)
    tl = Timeline(rt)
    tl.begin()
    tl.run_until_end()
    assert rt.ended and rt.session.stats.outcome == "max-exceeded" and rt.session.timeouts == 3
    assert [p.text for p in tl.played].count("Diam.") == 2 and tl.played[-1].text == "Habis."


def test_settle_waits_for_an_inter_digit_timeout(tree):
    tl = ScriptedCall(CallRuntime(tree))
    tl.start()
    tl.press("1")
    tl.press("12")                     # two digits of four, then the caller stops
    t_last = tl.t - KEY_GAP
    n = len(tl.played)
    tl.settle()
    assert tl.session.failures == 1    # too short, once the inter-digit timeout ran out
    assert tl.played[n].start == pytest.approx(t_last + 2)


# ---- ScriptedCall ----------------------------------------------------------------------
def test_keys_come_a_moment_after_the_question(tree):
    call = ScriptedCall(CallRuntime(tree))
    call.start()
    end = call.prompt_end
    call.press("1")
    key = [line for line in call.rt.transcript if line.who == "caller"][0]
    assert key.t == pytest.approx(end + THINK) and key.text == "1"
    assert call.session.status.listening == "pin"


def test_barge_keys_arrive_during_the_last_prompt(tree):
    call = ScriptedCall(CallRuntime(tree))
    call.start()
    call.press("2", barge=True)
    main = call.played[1]
    assert main.cut is not None and main.start < main.cut < main.end


def test_w_waits_one_timeout(tree):
    call = ScriptedCall(CallRuntime(tree))
    call.start()
    call.press("w")
    assert call.session.timeouts == 1 and "Diam." in [p.text for p in call.played]


def test_key_burst_is_one_transcript_line_and_masked_in_a_collect(tree):
    call = ScriptedCall(CallRuntime(tree))
    call.start()
    call.press("1")
    call.press("1234")
    lines = [line for line in call.rt.transcript if line.who == "caller"]
    assert [line.text for line in lines] == ["1", "1234"]
    assert not lines[0].sensitive and lines[1].sensitive
    assert "****" in lines[1].format() and "1234" in lines[1].format(unmask=True)


def test_say_uses_the_exact_matcher(tree):
    call = ScriptedCall(CallRuntime(tree, services=FakeServices()))
    call.start()
    call.say("dua")                       # key 2 said as its digit word
    assert "svc" in call.session.stats.path


def test_hangup_is_idempotent(tree):
    call = ScriptedCall(CallRuntime(tree))
    call.start()
    call.hangup()
    call.hangup()
    assert call.session.stats.outcome == "caller-hangup"


# ---- CallRuntime -------------------------------------------------------------------------
def test_keys_further_apart_than_a_burst_gap_are_separate_lines(tree):
    rt = CallRuntime(tree)
    rt.start(at=0.0)
    rt.caller("1", 1.0, burst=True)
    rt.caller("2", 1.0 + BURST_GAP_S, burst=True)
    rt.caller("3", 2.0 + 2 * BURST_GAP_S + 0.01, burst=True)
    assert [line.text for line in rt.transcript if line.who == "caller"] == ["12", "3"]


def test_a_failing_service_is_an_error_outcome_not_a_crash(tree):
    services = FakeServices(fail=True)
    call = ScriptedCall(CallRuntime(tree, services=services))
    call.start()
    call.press("2")
    assert services.calls == [("cek", {})]
    assert call.session.stats.outcome == "error"


def test_no_services_configured_is_an_error_outcome(tree):
    call = ScriptedCall(CallRuntime(tree))
    call.start()
    call.press("2")
    assert call.session.stats.outcome == "error"


def test_transfer_without_a_queue_ends_the_call(tree):
    call = ScriptedCall(CallRuntime(tree))
    call.start()
    call.press("3")
    assert call.session.stats.outcome == "transfer" and call.rt.ended
    assert any(line.text.startswith("TRANSFER ke antrean 'informasi'") for line in call.rt.transcript)
    assert not call.rt.music_on_hold


def test_private_input_follows_the_status_view(tree):
    call = ScriptedCall(CallRuntime(tree))
    call.start()
    call.settle()
    assert not call.rt.private_input            # a menu choice is public
    call.press("1")
    call.settle()
    assert call.rt.private_input                # a PIN is not
    call.hangup()
    assert call.rt.private_input                # nor anything after the end


# ---- CallLog -----------------------------------------------------------------------------
def test_call_log_records_the_call_and_masks_private_keys(tree):
    buf = io.StringIO()
    log = CallLog(stream=buf)
    call = ScriptedCall(CallRuntime(tree, log=log))
    call.start()
    call.press("1")
    call.press("9876")
    recs = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert recs[0]["rec"] == "start" and recs[-1]["rec"] == "end" and recs[-1]["outcome"] == "hangup"
    keys = [r for r in recs if r["rec"] == "event" and r["type"] == "Digit"]
    assert keys[0]["key"] == "1" and not keys[0].get("masked")
    assert [k["key"] for k in keys[1:]] == ["*"] * 4 and all(k["masked"] for k in keys[1:])
    assert "9876" not in buf.getvalue()
    assert all(a["t"] <= b["t"] + 1e-9 for a, b in zip(recs, recs[1:]) if a["rec"] == b["rec"] == "event")


def test_a_log_that_cannot_be_written_keeps_its_first_error_and_the_call_goes_on(tree):
    class Full(io.StringIO):
        def write(self, s):
            raise OSError(28, "No space left on device")

    log = CallLog(stream=Full())
    call = ScriptedCall(CallRuntime(tree, log=log))
    call.start()
    call.press("1")
    call.hangup()
    assert call.rt.ended and log.error is not None and "No space left" in log.error_text


def test_call_log_masks_named_fields_and_pii_in_text():
    buf = io.StringIO()
    with CallLog(stream=buf) as log:
        log.write(1.0, "action", type="Transfer", fields={"nik": "3174054508900002"}, text="NIK 3174054508900002")
    assert "3174054508900002" not in buf.getvalue()


# ---- shared edge pieces ------------------------------------------------------------------
def test_transcript_printer_holds_back_a_burst_still_being_typed(tree):
    rt = CallRuntime(tree)
    rt.start(at=0.0)
    out = io.StringIO()
    printer = TranscriptPrinter(rt, out)
    printer.show()
    shown = out.getvalue().count("\n")
    rt.now = 10.0
    rt.caller("1", 10.0, burst=True)
    printer.show()
    assert out.getvalue().count("\n") == shown          # the entry is not complete yet
    rt.now = 10.0 + BURST_GAP_S + 0.1
    printer.show()
    assert out.getvalue().count("\n") == shown + 1
    whole = io.StringIO()
    print_transcript(rt, whole)
    assert whole.getvalue() == "".join(line.format() + "\n" for line in rt.lines())


def test_hold_music_feed_joins_pieces_without_a_gap():
    feed = HoldMusicFeed(8000, piece_s=0.5)
    joined = np.concatenate([feed.next_piece() for _ in range(4)])
    assert np.allclose(joined, hold_music(2.0, 8000), atol=1e-6)

    class Out:
        busy, played = False, []

        def play(self, audio):
            self.played.append(audio)

    out = Out()
    feed.keep_queued(out)
    out.busy = True
    feed.keep_queued(out)
    assert len(out.played) == 1


def test_estimated_voice_has_no_audio():
    v = EstimatedVoice()
    assert v.duration("abc") == pytest.approx(0.3 + 3 / 14.0) and v.render("abc", 8000) is None


def test_a_prompt_cut_before_it_started_is_not_in_the_transcript(capsys):
    """Keys typed on: the 'invalid' prompt is cut 0.3 s in, and the re-prompt queued behind
    it never starts -- the transcript must not say the caller heard it."""
    from ivr.cli import main

    assert main(["call", "--keys", "1 1 32730117088500031234567890#", "--no-log", "--today", "2026-11-23"]) == 0
    out = capsys.readouterr().out
    short = [x for x in out.splitlines() if "VIKA: Silakan masukkan tanggal lahir, 8 digit, tanggal bulan tahun." in x]
    assert len(short) == 1   # the one after '#', not the one queued behind the cut 'invalid' prompt
