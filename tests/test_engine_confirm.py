"""The collect's recovering dialogue (confirm_below, groups, keys_after), on a virtual clock:
read-back below the confidence threshold, ya/tidak by voice or 1/2 by key, groups of four
with "salah"/"ulangi" correcting the last group, keys offered after rejected read-backs."""
from __future__ import annotations

import dataclasses
import textwrap

import pytest

from ivr.engine.events import Digit, EnterNode, Invoke, Listen, Play, PromptDone, Speech, Tick
from ivr.grammar import RecognitionResult
from ivr.engine.session import CallSession
from ivr.tree.loader import TreeLoadError, load_tree_text

NIK = "3174054508900002"
TREE = textwrap.dedent("""
    version: 1
    start: nik
    global_keys: {agent: null}
    global_words: {repeat: [ulangi]}
    defaults:
      prompts: {invalid: "Tidak valid.", nomatch: "Tidak dikenali.", timeout: "Tidak ada input.", exit: "Habis."}
    nodes:
      nik:
        type: collect
        var: nik
        min_length: 16
        max_length: 16
        validator: nik
        confirm_below: 0.85
        groups: 4
        keys_after: 2
        prompts: {greet_long: "Sebutkan NIK per empat angka.", greet_short: "Sebutkan NIK Anda."}
        on_exceeded: hangup
        next: tgl
      tgl:
        type: collect
        var: tgl_lahir
        min_length: 8
        max_length: 8
        validator: date
        confirm_below: 0.85
        prompts:
          greet_long: "Sebutkan tanggal lahir."
          readback: "Tanggal lahir {angka}, benar? Tekan 1 jika benar, 2 jika salah."
        on_exceeded: hangup
        next: cek
      cek: {type: service, service: cek, args: {nik: "{nik}", tgl: "{tgl_lahir}"}, branches: {ok: bye}}
      bye: {type: hangup, prompt: "Terima kasih."}
""")


@pytest.fixture()
def tree():
    return load_tree_text(TREE, "t.yaml")


class Call:
    """A session and a virtual clock: every prompt takes one second."""

    def __init__(self, tree):
        self.s = CallSession(tree)
        self.t = 0.0
        self.last = self._done(self.s.start(at=0.0))

    def _done(self, acts):
        for _ in range(len(self.s.pending)):
            self.t += 1.0
            self.s.handle(PromptDone(at=self.t))
        return acts

    def say(self, text, digits=None, choice=None, conf=0.95):
        self.t += 1.0
        r = RecognitionResult(text, digits=digits, choice=choice, confidence=conf, nomatch=False)
        self.last = self._done(self.s.handle(Speech(r, at=self.t)))
        return self.last

    def key(self, k):
        self.t += 0.2
        self.last = self._done(self.s.handle(Digit(k, at=self.t)))
        return self.last

    @property
    def said(self):
        return [a.text for a in self.last if isinstance(a, Play)]

    @property
    def grammar(self):
        return [a for a in self.last if isinstance(a, Listen)][-1].grammar


def test_confident_groups_are_taken_without_read_back(tree):
    c = Call(tree)
    g = c.grammar
    assert (g.min_digits, g.max_digits, g.validator) == (4, 16, "none")  # a group, or all in one go
    for i in range(0, 16, 4):
        c.say("...", digits=NIK[i:i + 4])
        if i < 12:
            assert c.said == []                                          # silence: the caller goes on
            assert (c.grammar.min_digits, c.grammar.max_digits) == (4, 4)  # then one group at a time
    assert c.s.vars["nik"] == NIK and c.s.node.id == "tgl"


def test_unsure_group_is_read_back_digit_by_digit_and_confirmed_by_voice(tree):
    c = Call(tree)
    c.say("...", digits="3174")
    c.say("...", digits="0545", conf=0.6)
    assert c.said == ["0 5 4 5. Benar? Katakan ya atau tekan 1. Jika salah, katakan tidak atau tekan 2."]
    assert [a.prompt for a in c.last if isinstance(a, Play)] == ["readback"]
    assert {ch.token for ch in c.grammar.choices} >= {"yes", "no"} and not c.grammar.digits
    c.say("ya", choice="yes")
    c.say("...", digits="0890")
    c.say("...", digits="0002")
    assert c.s.vars["nik"] == NIK


def test_rejected_group_is_said_again_and_key_2_rejects(tree):
    c = Call(tree)
    c.say("...", digits="3147", conf=0.5)
    c.key("2")                                                # salah by key
    assert c.said == ["Baik, silakan ulangi."]
    assert c.grammar.digits and c.grammar.min_digits == 4
    c.say("...", digits="3174", conf=0.6)
    c.key("1")                                                # benar by key
    for i in (4, 8, 12):
        c.say("...", digits=NIK[i:i + 4])
    assert c.s.vars["nik"] == NIK


def test_a_rejected_read_back_is_excluded_from_the_next_listen(tree):
    """The caller said no to 3147: the recogniser is told so (Grammar.exclude) and takes its
    next-best answer instead of hearing the same number again; a new group starts afresh."""
    c = Call(tree)
    assert c.grammar.exclude == ()
    c.say("...", digits="3147", conf=0.5)
    c.key("2")
    assert c.grammar.exclude == ("3147",)
    c.say("...", digits="3174", conf=0.6)
    c.key("1")
    assert c.grammar.exclude == ()                            # the next group
    from ivr.speech.asr.answer import AnswerCheck

    check = AnswerCheck(dataclasses.replace(c.grammar, exclude=("0545",)))
    assert check("0546") and not check("0545")


def test_salah_or_ulangi_after_a_group_drops_it(tree):
    c = Call(tree)
    c.say("...", digits="3174")
    c.say("...", digits="0554")                               # the caller misspoke
    c.say("salah", choice="again")
    assert c.said == ["Baik, silakan ulangi."]
    c.say("ulangi", choice="global:repeat")                   # the global repeat word does the same
    assert c.s.kind_state.groups == []
    for i in range(0, 16, 4):
        c.say("...", digits=NIK[i:i + 4])
    assert c.s.vars["nik"] == NIK


def test_keys_offered_after_two_rejected_read_backs_then_typed_without_read_back(tree):
    c = Call(tree)
    c.say("...", digits="3171", conf=0.5)
    c.say("tidak", choice="no")
    c.say("...", digits="3171", conf=0.5)
    c.say("salah", choice="no")
    assert c.said == ["Silakan tekan nomor Anda pada keypad, diakhiri tanda pagar."]
    for k in NIK:
        c.key(k)
    assert c.s.vars["nik"] == NIK and c.s.node.id == "tgl"   # typed: never read back


def test_rejected_read_backs_are_counted_per_group(tree):
    """Two groups misheard once each is no reason to give up on speech: keys_after counts
    the rejections of one group, like max_failures counts its no-matches."""
    c = Call(tree)
    for i in range(0, 16, 4):
        c.say("...", digits="9999", conf=0.5)
        c.say("tidak", choice="no")
        assert "keypad" not in " ".join(c.said)
        c.say("...", digits=NIK[i:i + 4], conf=0.5)
        c.say("ya", choice="yes")
    assert c.s.vars["nik"] == NIK and c.s.node.id == "tgl"


def test_after_keys_offered_speech_is_always_read_back_and_rejections_fail(tree):
    c = Call(tree)
    for _ in range(2):
        c.say("...", digits="3171", conf=0.5)
        c.say("tidak", choice="no")
    c.say("...", digits="3174", conf=0.99)                    # confident, but keys were offered
    assert c.said[0].startswith("3 1 7 4.")
    c.say("tidak", choice="no")                               # a failure now (1 of 3)
    assert c.s.failures == 1                                  # said as every rejection is
    assert c.said == ["Baik, silakan ulangi.", "Silakan tekan nomor Anda pada keypad, diakhiri tanda pagar."]


def test_whole_number_read_back_is_one_run_for_the_verbalizer(tree):
    c = Call(tree)
    for i in range(0, 16, 4):
        c.say("...", digits=NIK[i:i + 4])
    assert c.s.node.id == "tgl"
    c.say("...", digits="05081990", conf=0.7)
    assert c.said == ["Tanggal lahir 05081990, benar? Tekan 1 jika benar, 2 jika salah."]
    acts = c.key("1")
    assert any(isinstance(a, Invoke) and a.args == {"nik": NIK, "tgl": "05081990"} for a in acts)


def test_invalid_number_is_not_read_back(tree):
    c = Call(tree)
    for i in range(0, 16, 4):
        c.say("...", digits=NIK[i:i + 4])
    c.say("...", digits="32131990", conf=0.5)                # 32 December: not a date
    assert c.said[0] == "Tidak valid." and c.s.failures == 1


def test_confident_whole_number_and_typed_dates_go_straight_on(tree):
    c = Call(tree)
    for i in range(0, 16, 4):
        c.say("...", digits=NIK[i:i + 4])
    acts = c.say("...", digits="05081990", conf=0.9)
    assert any(isinstance(a, Invoke) for a in acts)


def test_nomatch_and_timeout_at_a_read_back_read_it_again(tree):
    c = Call(tree)
    c.say("...", digits="3174", conf=0.5)
    c.say("mungkin", choice="word:mungkin")
    assert c.said == ["Tidak dikenali.", "3 1 7 4. Benar? Katakan ya atau tekan 1. Jika salah, "
                                         "katakan tidak atau tekan 2."]
    acts = c.s.handle(Tick(at=c.t + 10.0))
    assert [a.text for a in acts if isinstance(a, Play)][0] == "Tidak ada input."
    assert [a.prompt for a in acts if isinstance(a, Play)][1] == "readback"


def test_the_whole_number_in_one_go_is_read_back_as_one_run(tree):
    c = Call(tree)
    c.say("...", digits=NIK, conf=0.6)
    assert c.said[0].startswith(NIK + ". Benar?")
    c.say("benar", choice="yes")
    assert c.s.vars["nik"] == NIK


def test_a_number_said_at_a_read_back_is_the_new_answer(tree):
    c = Call(tree)
    c.say("...", digits="3147", conf=0.5)
    c.say("...", digits="3174", conf=0.95)
    assert c.s.kind_state.groups == ["3174"] and not c.s.kind_state.pending


def test_entering_the_node_again_starts_afresh(tree):
    c = Call(tree)
    c.say("...", digits="3174")
    c.s.goto("nik", [])
    assert c.s.kind_state is None


def test_confirm_below_is_a_confidence(tree):
    with pytest.raises(TreeLoadError, match="confirm_below"):
        load_tree_text(TREE.replace("confirm_below: 0.85\n    groups", "confirm_below: 2\n    groups"), "t.yaml")


def test_without_the_fields_a_collect_behaves_as_before(tree):
    plain = load_tree_text(TREE.replace("    confirm_below: 0.85\n    groups: 4\n", ""), "t.yaml")
    c = Call(plain)
    assert c.grammar.max_digits == 16 and c.grammar.validator == "nik"
    c.say("...", digits=NIK, conf=0.51)
    assert c.s.node.id == "tgl" and not any(isinstance(a, EnterNode) and a.node == "nik" for a in c.last)


def test_failures_are_counted_per_group(tree):
    c = Call(tree)
    for i in range(0, 16, 4):
        c.say("...", digits=NIK[i:i + 2])                     # a short group: a digit lost
        assert c.said[0] == "Tidak dikenali." and c.s.failures == 1
        c.say("...", digits=NIK[i:i + 4])
    assert c.s.vars["nik"] == NIK


def test_two_no_matches_offer_the_keypad(tree):
    c = Call(tree)
    c.say("...", digits="31")
    c.say("...", digits="31")
    assert c.said == ["Tidak dikenali.", "Silakan tekan nomor Anda pada keypad, diakhiri tanda pagar."]
    for k in NIK + "#":
        c.key(k)
    assert c.s.vars["nik"] == NIK
