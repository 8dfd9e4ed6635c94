"""Rescoring a spoken number among candidates (issue 14): the candidate set, the decision,
and Whisper scoring candidates against real audio (espeak-ng here: plumbing, not accuracy)."""
from __future__ import annotations

import math

import pytest

from ivr.grammar import Grammar
from ivr.speech.asr.answer import AnswerCheck, Hypothesis
from ivr.speech.asr.rescore import MAX_CONFIDENCE, MIN_MARGIN, candidates, decide, spoken


def test_spoken_form_is_digit_words():
    assert spoken("805") == "delapan nol lima"


def test_one_short_gets_each_digit_said_twice_and_one_long_each_digit_dropped():
    ok = lambda s: True  # noqa: E731
    assert candidates(["23"], 3, ok) == ["23", "223", "233"]
    # the decoded strings come first (in order), then the variants; nothing twice
    assert candidates(["223", "23"], 3, ok) == ["223", "23", "233"]
    assert candidates(["1234"], 3, ok) == ["1234", "234", "134", "124", "123"]
    # without a fixed length no variant is made (any length: nothing to judge them by)
    assert candidates(["23", "5"], None, ok) == ["23", "5"]


def test_candidates_must_pass_the_collects_check():
    check = AnswerCheck(Grammar((), digits=True, min_digits=3, max_digits=3, name="g3"))
    assert candidates(["23", "1234", None, ""], 3, check) == ["223", "233", "234", "134", "124", "123"]
    # a date of birth must be a real date: 31 02 1990 is not
    date = AnswerCheck(Grammar((), digits=True, min_digits=8, max_digits=8, name="dob", validator="date"))
    got = candidates(["3102199", "3112199"], 8, date)
    assert "31021999" not in got and "31121999" in got


def test_decide_needs_a_margin_and_caps_its_confidence():
    r = decide({"223": -10.0, "233": -15.0})
    assert r.digits == "223" and r.margin == pytest.approx(5.0) and r.scored == 2
    assert r.confidence == pytest.approx(min(MAX_CONFIDENCE, 1 / (1 + math.exp(-5))))
    close = decide({"223": -10.0, "233": -10.0 - MIN_MARGIN / 2})
    assert close.digits is None and close.scored == 2
    only = decide({"223": -3.0})
    assert only.digits == "223" and only.margin == math.inf
    assert decide({}).digits is None and decide({}).scored == 0


@pytest.fixture(scope="module")
def rec():
    from ivr.speech.asr import create_recognizer

    r = create_recognizer("whisper", live=False)
    yield r
    r.close()


def test_whisper_scores_the_repeated_digit_it_merged(rec):
    """Audio says "dua dua tiga"; the decodes wrote "dua tiga" (one short, the merge error
    Whisper base makes): rescoring the variants against the audio finds "223"."""
    from bench.speech_set import synth

    g3 = Grammar((), digits=True, min_digits=3, max_digits=3, name="g3")
    x = synth("dua, dua, tiga")
    rec.start(g3)
    rec.feed(x)
    d = rec._decode_window(x, 10.0, 40, {})
    d.hypotheses = [Hypothesis("dua tiga", -1.0)]
    d.opinions = [[Hypothesis("dua, tiga.", -1.0)], [Hypothesis("tiga", -2.0)]]
    assert rec._unresolved(d)
    rec._rescore(d)
    assert d.rescored.digits == "223", d.rescored
    c = rec._choose(d)
    assert not c.match.nomatch and c.match.digits == "223" and c.confidence <= MAX_CONFIDENCE
    # either judgement alone finds it: the voting decodes, and the scored candidates
    from ivr.speech.asr.rescore import VOTERS, vote

    votes = rec._voters(d)
    assert len(votes) == VOTERS and votes == rec._voters(d)   # greedy, fixed orders: the same twice
    assert vote(votes).digits == "223" and vote(votes).how == "vote"
    cands = candidates(["23"], 3, rec.accepts)
    assert cands == ["223", "233"]
    assert rec._align_scores(d, cands).digits == "223" and rec._align_scores(d, cands).how == "align"
    # a number cut short mid-way (two digits short): no candidate, so no vote and no scoring
    d.hypotheses, d.opinions, d.answers = [Hypothesis("dua", -1.0)], [[Hypothesis("dua", -1.0)]], None
    rec._rescore(d)
    assert d.rescored.digits is None and d.rescored.scored == 0 and d.rescored.how == "align"
    rec.finish()


def test_two_decodes_agreeing_win_even_when_unsure(rec):
    g3 = Grammar((), digits=True, min_digits=3, max_digits=3, name="g3")
    rec.start(g3)
    from ivr.speech.asr.whisper_engine import Decoded

    # the first decode's best valid answer is 724 but unsure; both copies say 725
    d = Decoded([Hypothesis("tujuh dua empat", -5.0), Hypothesis("tujuh dua lima", -5.2)],
                opinions=[[Hypothesis("tujuh dua lima", -1.0)], [Hypothesis("tujuh, dua, lima.", -1.0)]])
    c = rec._choose(d)
    assert c.match.digits == "725" and not c.match.nomatch
    assert c.confidence >= rec.min_confidence


def test_vote_takes_the_answer_most_voters_gave_if_it_leads():
    from ivr.speech.asr.rescore import shuffled, vote

    orders = shuffled(["satu", "dua", "tiga"], 4)
    assert orders == shuffled(["satu", "dua", "tiga"], 4) and all(sorted(o) == ["dua", "satu", "tiga"] for o in orders)
    assert len({tuple(o) for o in orders}) > 1

    r = vote(["29001", "29012", "29001", "", "", "29001"])
    assert (r.digits, r.margin, r.scored, r.how) == ("29001", 2.0, 6, "vote")
    assert r.confidence == MAX_CONFIDENCE   # read back by a collect that confirms unsure answers
    # a tie, one vote, or nothing valid: the vote does not decide (the margin rule does)
    assert vote(["29001", "29012", "29001", "29012"]) is None
    assert vote(["29001", "", ""]) is None
    assert vote(["", ""]) is None and vote([]) is None
    # the only answer given twice leads by everything
    assert vote(["4", "4"]).margin == math.inf
