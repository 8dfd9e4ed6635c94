"""Choosing the answer among N-best hypotheses with what the value must be (answer.py):
synthetic hypotheses, no model."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.grammar import Choice, Grammar
from ivr.speech.asr.answer import AnswerCheck, Hypothesis, choose, plausible_birth_date, posteriors
from ivr.speech.asr.matcher import GrammarMatcher

TODAY = dt.date(2025, 6, 1)
# 32 73 01 | 57 05 90 (woman born 17-05-1990: day + 40) | 0012
NIK_OK = "3273015705900012"
WORDS = {"0": "nol", "1": "satu", "2": "dua", "3": "tiga", "4": "empat", "5": "lima", "6": "enam",
         "7": "tujuh", "8": "delapan", "9": "sembilan"}


def spoken(digits: str) -> str:
    return " ".join(WORDS[d] for d in digits)


def collect(validator="none", lo=1, hi=16) -> Grammar:
    return Grammar((Choice("global:repeat", ("ulangi",)),), digits=True, min_digits=lo, max_digits=hi,
                   name="c", validator=validator)


def pick(grammar, hyps, min_conf=0.3):
    return choose(hyps, GrammarMatcher(grammar), AnswerCheck(grammar, TODAY), min_conf)


def test_nik_rules_pick_the_valid_alternative():
    bad_province = "99" + NIK_OK[2:]          # no province 99
    bad_serial = NIK_OK[:12] + "0000"         # serials start at 0001
    bad_date = NIK_OK[:6] + "731390" + NIK_OK[12:]   # month 13
    g = collect("nik", 16, 16)
    hyps = [Hypothesis(spoken(bad_province), -1.0), Hypothesis(spoken(bad_serial), -1.2),
            Hypothesis(spoken(bad_date), -1.3), Hypothesis(spoken(NIK_OK), -1.5)]
    c = pick(g, hyps)
    assert not c.match.nomatch and c.match.digits == NIK_OK and c.index == 3 and c.valid == 1


def test_no_valid_hypothesis_is_a_nomatch_not_a_guess():
    g = collect("nik", 16, 16)
    c = pick(g, [Hypothesis(spoken("99" + NIK_OK[2:]), -1.0), Hypothesis(spoken(NIK_OK[:12] + "0000"), -1.1)])
    assert c.match.nomatch and c.match.reason == "invalid" and c.index == -1 and c.confidence == 0.0


def test_expected_length_prefers_the_hypothesis_of_that_length():
    g = collect(lo=13, hi=13)   # a card number: 13 digits
    card = "0001234567890"
    c = pick(g, [Hypothesis(spoken(card[:-1]), -0.5), Hypothesis(spoken(card), -0.9)])
    assert c.match.digits == card and c.index == 1


def test_phone_prefix_and_length():
    g = collect("phone", 10, 13)
    c = pick(g, [Hypothesis(spoken("6812345678"), -0.5), Hypothesis(spoken("0812345678"), -0.6)])
    assert c.match.digits == "0812345678"


def test_date_of_birth_must_be_real_and_plausible():
    assert plausible_birth_date("17081945", TODAY)
    assert not plausible_birth_date("31021990", TODAY)     # no 31 February
    assert not plausible_birth_date("01011850", TODAY)     # 175 years old
    assert not plausible_birth_date("01012030", TODAY)     # not born yet
    g = collect("date", 8, 8)
    c = pick(g, [Hypothesis(spoken("31021990"), -0.4), Hypothesis(spoken("21021990"), -0.6)])
    assert c.match.digits == "21021990"


def test_a_group_of_a_long_number_is_only_length_checked():
    # speech_input relaxes min_digits to 1 so a NIK can be read in groups of four
    chk = AnswerCheck(collect("nik", 1, 16), TODAY)
    assert chk("3273") and not chk.complete("3273")
    assert chk(NIK_OK) and chk.complete(NIK_OK)
    assert not chk("99" + NIK_OK[2:])
    assert not chk("12345678901234567")   # longer than the grammar allows


def test_disagreeing_alternatives_are_unsure():
    g = collect()
    hyps = [Hypothesis(spoken("123"), -1.0), Hypothesis(spoken("128"), -1.0), Hypothesis(spoken("723"), -1.0)]
    c = pick(g, hyps, min_conf=0.5)
    assert c.match.nomatch and c.match.reason == "unsure" and c.confidence < 0.5
    # the same list, most of the belief on one answer: accepted
    hyps = [Hypothesis(spoken("123"), -0.2), Hypothesis(spoken("123") + ".", -0.3), Hypothesis(spoken("723"), -3.0)]
    c = pick(g, hyps, min_conf=0.5)
    assert not c.match.nomatch and c.match.digits == "123" and c.confidence > 0.8


def test_posteriors_are_a_softmax_of_total_log_probability():
    p = posteriors([Hypothesis("a", 0.0), Hypothesis("b", -1.0)])
    assert sum(p) == pytest.approx(1.0) and p[0] > p[1]
    assert p[0] / p[1] == pytest.approx(2.718281828, rel=1e-6)
    assert posteriors([]) == []


def test_menu_choice_among_alternatives():
    g = Grammar((Choice("1", ("tagihan",)), Choice("2", ("pendaftaran",))), name="m")
    c = pick(g, [Hypothesis("halo selamat pagi", -0.3), Hypothesis("pendaftaran", -0.5)], min_conf=0.2)
    assert c.match.choice == "2" and c.index == 1
    c = pick(g, [Hypothesis("halo selamat pagi", -0.3)])
    assert c.match.nomatch


def test_the_tree_passes_the_validator_to_the_recogniser():
    from ivr.tree.loader import load_tree

    tree = load_tree("menus/vika.yaml")
    nodes = [n for n in tree.nodes.values() if n.kind == "collect" and n.data.validator == "nik"]
    assert nodes
    assert tree.grammar_for(nodes[0].id).validator == "nik"


def test_a_spoken_date_is_judged_on_the_calls_date_like_a_keyed_one():
    """The driver hands the call's --today to the recogniser with each grammar, so a spoken
    date of birth passes or fails exactly as the engine's date validator would."""
    from ivr.drivers.speech_input import RecognizerInput
    from ivr.engine.validators import validate
    from ivr.speech.asr.base import Recognizer

    class Rec(Recognizer):
        def finish(self):
            raise AssertionError("not used")

    g = Grammar((), digits=True, min_digits=8, max_digits=8, validator="date")
    rec = Rec()
    RecognizerInput(rec).set_grammar(g, today=dt.date(2020, 1, 1))
    assert rec.today == dt.date(2020, 1, 1)
    for digits in ("02012020", "31121999", "01011899"):
        assert rec.accepts(digits) == validate("date", digits, dt.date(2020, 1, 1))[0]
    assert not rec.accepts("02012020")                  # after the call's date: not born yet
