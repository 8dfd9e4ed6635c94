"""Short-window decoding guards (token cap, loop detector) and the full-window fall-back,
on synthetic transcripts: no model, no development set needed."""
from __future__ import annotations

import numpy as np
import pytest

from ivr.speech.asr.answer import Hypothesis
from ivr.speech.asr.decoding import MAX_REPEATS, TOKEN_MARGIN, degenerate, token_cap


def test_token_cap_grows_with_speech_and_respects_the_grammar_cap():
    assert token_cap(0.0) == TOKEN_MARGIN
    assert token_cap(1.0) < token_cap(2.0) < token_cap(4.0)
    assert token_cap(4.0, grammar_cap=20) == 20
    assert token_cap(-1.0) == TOKEN_MARGIN  # a nonsense duration never gives a negative cap


@pytest.mark.parametrize("text", ["7, 2, 0", "tiga dua kosong satu lima", "08 12 34 56 78 90",
                                  "0, 0, 0, 1", "kosong kosong kosong kosong satu", "pendaftaran"])
def test_speech_like_transcripts_are_not_degenerate(text):
    assert degenerate(text, speech_s=3.0) == ""


def test_a_runaway_digit_string_is_a_loop():
    assert degenerate("1.5.5.5.5.5.5.5.5.5.5", speech_s=3.0) in ("repeat", "rate")
    assert degenerate("satu " + "lima " * MAX_REPEATS, speech_s=10.0) == "repeat"


def test_a_repeated_phrase_is_a_loop():
    assert degenerate("tiga dua lima tiga dua lima tiga dua lima", speech_s=10.0) == "repeat"
    assert degenerate("tiga dua lima tiga dua lima", speech_s=10.0) == ""


def test_more_digits_than_anyone_can_say_is_degenerate():
    assert degenerate("1 2 3 4 5 6 7 8 9 0 1 2 3 4", speech_s=1.0) == "rate"
    assert degenerate("1 2 3 4 5 6 7 8 9 0 1 2 3 4", speech_s=4.0) == ""


def test_hitting_the_token_cap_is_degenerate():
    assert degenerate("7 2", speech_s=1.0, n_tokens=19, cap=19) == "cap"
    assert degenerate("7 2", speech_s=1.0, n_tokens=5, cap=19) == ""


# ---------------------------------------------------------------- fall-back (no model)
def _bare_recognizer(window_results):
    """A WhisperRecognizer without a model: `_decode_window` returns canned N-best lists."""
    from ivr.speech.asr.endpoint import EnergyEndpointer
    from ivr.speech.asr.whisper_engine import Decoded, WhisperRecognizer

    rec = WhisperRecognizer.__new__(WhisperRecognizer)
    rec._ep = EnergyEndpointer()
    rec._chunks, rec._samples = [], 0
    rec.decoder, rec.window_s, rec._max_tokens = "short", 10.0, 112
    rec.second_opinions, rec.grammar = False, None
    calls = []

    def fake(audio, window, cap, stages, front=None, orders=1):
        calls.append((window, cap))
        stages = dict(stages)
        stages["_top_tokens"] = 3
        return Decoded([Hypothesis(window_results[window], -1.0)], 0.01, -0.2, window, stages=stages)

    rec._decode_window = fake
    return rec, calls


def test_degenerate_short_window_is_redone_on_the_full_window():
    rec, calls = _bare_recognizer({10.0: "1.5.5.5.5.5.5.5.5.5.5.5.5", 30.0: "1 5"})
    d = rec._decode(np.zeros(16000 * 2, np.float32), speech_end=1.5)
    assert [w for w, _ in calls] == [10.0, 30.0]
    assert d.fallback in ("repeat", "rate") and d.text == "1 5" and d.window == 30.0
    assert calls[0][1] == token_cap(1.5, 112)  # the short decode is capped by the duration


def test_clean_short_window_is_kept():
    rec, calls = _bare_recognizer({10.0: "1 5", 30.0: "never"})
    d = rec._decode(np.zeros(16000 * 2, np.float32), speech_end=1.5)
    assert [w for w, _ in calls] == [10.0] and d.fallback == "" and d.text == "1 5"
    assert "_top_tokens" not in d.stages  # internal bookkeeping never leaks into the result


def test_audio_longer_than_the_short_window_goes_straight_to_the_full_window():
    rec, calls = _bare_recognizer({10.0: "never", 30.0: "1 2 3"})
    d = rec._decode(np.zeros(16000 * 12, np.float32), speech_end=11.0)
    assert [w for w, _ in calls] == [30.0] and d.fallback == "" and d.text == "1 2 3"


def test_unknown_decoder_is_a_clear_error():
    from ivr.speech.asr.base import RecognizerError
    from ivr.speech.asr.whisper_engine import WhisperRecognizer

    with pytest.raises(RecognizerError, match="unknown Whisper decoder"):
        WhisperRecognizer(decoder="greedy")



# ---------------------------------------------------------------- second opinions (no model)
def _voter(grammar):
    from ivr.speech.asr.answer import AnswerCheck
    from ivr.speech.asr.matcher import GrammarMatcher
    from ivr.speech.asr.whisper_engine import WhisperRecognizer

    rec = WhisperRecognizer.__new__(WhisperRecognizer)
    rec.matcher, rec.accepts, rec.min_confidence = GrammarMatcher(grammar), AnswerCheck(grammar), 0.5
    return rec


def test_second_opinions_vote_and_a_tie_keeps_the_first_decode():
    from ivr.grammar import Grammar
    from ivr.speech.asr.whisper_engine import Decoded

    rec = _voter(Grammar((), digits=True, min_digits=3, max_digits=3))
    first = [Hypothesis("satu dua tiga", -1.0)]
    d = Decoded(first, opinions=[[Hypothesis("satu dua delapan", -1.0)], [Hypothesis("satu dua delapan", -1.2)]])
    c = rec._choose(d)
    assert c.match.digits == "128" and not c.match.nomatch and c.index == -1
    d = Decoded(first, opinions=[[Hypothesis("satu dua delapan", -1.0)], [Hypothesis("tujuh dua tiga", -1.0)]])
    assert rec._choose(d).match.digits == "123"
    # a first decode with no valid answer: one copy alone is not enough, two agreeing are
    d = Decoded([Hypothesis("satu dua", -1.0)], opinions=[[Hypothesis("satu dua tiga", -1.0)], [Hypothesis("x", -1.0)]])
    assert rec._choose(d).match.nomatch
    d = Decoded([Hypothesis("satu dua", -1.0)], opinions=[[Hypothesis("satu dua tiga", -1.0)],
                                                          [Hypothesis("satu dua tiga", -1.1)]])
    assert rec._choose(d).match.digits == "123"
    d = Decoded([Hypothesis("halo", -1.0)], opinions=[[Hypothesis("apa", -1.0)]])
    assert rec._choose(d).match.nomatch


def test_two_listens_of_one_collect_join_their_digits():
    from ivr.grammar import Grammar, RecognitionResult
    from ivr.speech.asr.base import join_digits

    g = Grammar((), digits=True, min_digits=5, max_digits=5)
    a = RecognitionResult("tiga dua", digits="32", words=("tiga", "dua"), confidence=0.9, nomatch=False)
    b = RecognitionResult("nol satu lima", digits="015", words=("nol", "satu", "lima"), confidence=0.7, nomatch=False)
    j = join_digits(a, b, g)
    assert j.digits == "32015" and not j.nomatch and j.confidence == 0.7 and j.words[:2] == ("tiga", "dua")
    assert join_digits(a, RecognitionResult("x", nomatch=True), g).nomatch
    too_long = RecognitionResult("", digits="0155", confidence=0.9, nomatch=False)
    assert join_digits(a, too_long, g).nomatch


# ---------------------------------------------------------------- prompt orders (no model)
def test_prompt_orders_are_every_digit_word_with_no_counting_step():
    from ivr.grammar import DIGIT_WORDS
    from ivr.speech.asr.whisper_engine import FIRST_ORDERS, PROMPT_DIGITS, PROMPT_ORDERS

    value = {"nol": 0, "kosong": 0, "satu": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5,
             "enam": 6, "tujuh": 7, "delapan": 8, "sembilan": 9}
    assert PROMPT_ORDERS[0] == PROMPT_DIGITS and 1 < FIRST_ORDERS < len(PROMPT_ORDERS)
    assert len(set(PROMPT_ORDERS)) == len(PROMPT_ORDERS)
    for order in PROMPT_ORDERS:
        assert sorted(order) == sorted(DIGIT_WORDS)
        assert all(abs(value[a] - value[b]) != 1 for a, b in zip(order, order[1:])), order


def _settler(answers_by_prompt):
    """A recogniser whose `_generate` answers from a table keyed by the prompt's first digit
    word, and whose speed copies and rescoring only record that they ran."""
    from ivr.grammar import Grammar
    from ivr.speech.asr.whisper_engine import Decoded, PROMPT_ORDERS

    g = Grammar((), digits=True, min_digits=3, max_digits=3)
    rec = _voter(g)
    rec.grammar, rec.use_prompt = g, True
    rec._order_prompts = [", ".join(o) + "." for o in PROMPT_ORDERS]
    ran = []

    def generate(enc, batch, prompts, cap, stages, front=None):
        ran.append(prompts[0].split(",")[0])
        return [([Hypothesis(answers_by_prompt[p.split(",")[0]], -1.0)], [3], 0.0, -0.1) for p in prompts]

    rec._generate = generate
    rec._second_opinions = lambda audio, speech_s, d: ran.append("speed copies")
    rec._rescore = lambda d: ran.append("rescore")
    first = PROMPT_ORDERS[0][0]
    second = PROMPT_ORDERS[1][0]
    d = Decoded([Hypothesis(answers_by_prompt[first], -1.0)], enc=object(),
                opinions=[[Hypothesis(answers_by_prompt[second], -1.0)]])
    return rec, d, ran


def _first_words():
    from ivr.speech.asr.whisper_engine import PROMPT_ORDERS

    return [o[0] for o in PROMPT_ORDERS]


def test_two_orders_agreeing_settle_the_answer_without_more_decodes():
    a, b, c = _first_words()
    rec, d, ran = _settler({a: "satu dua tiga", b: "satu dua tiga", c: "x"})
    rec._settle(d, np.zeros(1600, np.float32), 1.0, 30, 2)
    assert ran == [] and rec._choose(d).match.digits == "123"


def test_two_orders_disagreeing_ask_the_third_and_the_majority_wins():
    a, b, c = _first_words()
    rec, d, ran = _settler({a: "satu dua tiga", b: "satu dua delapan", c: "satu dua delapan"})
    rec._settle(d, np.zeros(1600, np.float32), 1.0, 30, 2)
    assert ran == [c] and rec._choose(d).match.digits == "128"


def test_three_orders_disagreeing_go_on_to_the_speed_copies():
    a, b, c = _first_words()
    rec, d, ran = _settler({a: "satu dua tiga", b: "satu dua delapan", c: "tujuh dua tiga"})
    rec._settle(d, np.zeros(1600, np.float32), 1.0, 30, 2)
    assert ran == [c, "speed copies"]


def test_without_a_prompt_only_an_unsure_answer_gets_the_speed_copies():
    from ivr.speech.asr.whisper_engine import Decoded

    a, b, c = _first_words()
    rec, _, ran = _settler({a: "satu dua tiga", b: "satu dua tiga", c: "satu dua tiga"})
    rec.use_prompt, rec._order_prompts = False, [None]
    sure = Decoded([Hypothesis("satu dua tiga", -1.0)], enc=object())
    rec._settle(sure, np.zeros(1600, np.float32), 1.0, 30, 1)
    assert ran == []
    unsure = Decoded([Hypothesis("satu dua", -1.0)], enc=object())   # too short: no valid answer
    rec._settle(unsure, np.zeros(1600, np.float32), 1.0, 30, 1)
    assert ran == ["speed copies", "rescore"]


class _Result:
    """What CTranslate2's generate returns (and its asynchronous form's `result()`)."""

    def __init__(self, text):
        self.scores, self.sequences_ids, self.no_speech_prob = [-0.1], [[ord(ch) for ch in text]], 0.0

    def result(self):
        return self


class _Tok:
    sot_prev, sot_sequence, no_timestamps, eot = 1, (2, 3), 4, 10**6

    def encode(self, text):
        return [ord(ch) for ch in text]

    def decode(self, ids):
        return "".join(chr(i) for i in ids)


def test_prompt_orders_run_as_parallel_jobs_for_one_caller_and_one_batch_in_a_server():
    from types import SimpleNamespace

    from ivr.speech.asr.whisper_engine import PROMPT_ORDERS, WhisperRecognizer, repeat_rows

    rec = WhisperRecognizer.__new__(WhisperRecognizer)
    rec._tok, rec.beam_size, rec.nbest = _Tok(), 5, 5
    prompts = [", ".join(o) + "." for o in PROMPT_ORDERS[:2]]
    enc = repeat_rows(np.zeros((1, 4, 3), np.float32), 1)
    for side_by_side, expect in ((True, [(1, 1, True), (1, 1, True)]), (False, [(2, 2, False)])):
        calls = []

        def generate(features, ids, asynchronous=False, **opts):
            calls.append((features.shape[0], len(ids), asynchronous))
            assert opts["max_length"] == len(ids[0]) + 20   # the prompt plus the cap
            # answer with the prompt's first word, so each result traces back to its prompt
            return [_Result(_Tok().decode(p[1:]).split(",")[0].strip()) for p in ids]

        rec.model = SimpleNamespace(model=SimpleNamespace(generate=generate))
        rec.side_by_side = side_by_side
        out = rec._generate(enc, 1, prompts, 20, {})
        assert calls == expect
        assert [hyps[0].text for hyps, *_ in out] == [o[0] for o in PROMPT_ORDERS[:2]]


def test_an_answer_the_opinions_agree_on_carries_their_transcript():
    from ivr.grammar import Grammar
    from ivr.speech.asr.whisper_engine import Decoded

    rec = _voter(Grammar((), digits=True, min_digits=3, max_digits=3))
    d = Decoded([Hypothesis("satu dua tiga", -1.0)],
                opinions=[[Hypothesis("satu dua, delapan", -1.0)], [Hypothesis("satu dua delapan", -1.1)]])
    c = rec._choose(d)
    assert c.match.digits == "128" and rec._answer_text(d, c) == "satu dua, delapan"
    d = Decoded([Hypothesis("satu dua tiga", -1.0)], opinions=[[Hypothesis("satu dua tiga.", -1.0)]])
    c = rec._choose(d)
    assert c.match.digits == "123" and rec._answer_text(d, c) == "satu dua tiga"
