"""One matcher (issue 11 item 3): typed text, Vosk output and free transcripts meet the same
answers. `GrammarMatcher.match_exact` is the literal mode; `scripted.match_text` uses it."""
from __future__ import annotations

import pytest

from ivr.drivers.scripted import match_text
from ivr.grammar import Choice, Grammar
from ivr.speech.asr.matcher import GrammarMatcher, exact_words

MENU = Grammar((Choice("1", ("status", "cek status")), Choice("2", ("tagihan",)),
                Choice("global:back", ("kembali",))), name="menu")
DIGITS = Grammar((Choice("global:repeat", ("ulangi",)),), digits=True, min_digits=4, max_digits=6, name="pin")
KOREAN = Grammar((Choice("hello", ("안녕하세요",)),), name="ko")


@pytest.mark.parametrize("text, token", [
    ("status", "1"), ("Cek status!", "1"), ("saya mau tagihan", "2"),
    ("dua", "2"), ("satu", "1"), ("kembali", "global:back"),
])
def test_menu_answers_in_exact_mode_are_the_phonetic_ones(text, token):
    m = GrammarMatcher(MENU)
    exact, fuzzy = m.match_exact(text), m.match(text)
    assert not exact.nomatch and exact.choice == token and exact.similarity == 1.0
    assert not fuzzy.nomatch and fuzzy.choice == token


@pytest.mark.parametrize("text", ["tiga", "statu", "status tagihan", "", "saya mau"])
def test_exact_mode_has_no_phonetic_tolerance(text):
    m = GrammarMatcher(MENU).match_exact(text)
    assert m.nomatch and m.choice is None


@pytest.mark.parametrize("text, digits", [
    ("satu dua tiga empat", "1234"), ("1234", "1234"), ("12-34", "1234"), ("kosong 1 2 3 4", "01234"),
])
def test_digit_strings_in_words_or_numerals(text, digits):
    m = GrammarMatcher(DIGITS).match_exact(text)
    assert not m.nomatch and m.digits == digits


def test_digit_string_length_rule_is_the_recognisers_one():
    m = GrammarMatcher(DIGITS)
    for text in ("satu dua", "1234567"):
        exact, fuzzy = m.match_exact(text), m.match(text)
        assert exact.nomatch and exact.reason == "length"
        assert fuzzy.nomatch and fuzzy.reason == "length"


def test_global_phrase_in_a_collect_and_mixed_input():
    m = GrammarMatcher(DIGITS)
    assert m.match_exact("ulangi").choice == "global:repeat"
    assert m.match_exact("satu ulangi").nomatch


def test_any_script_survives_exact_normalisation():
    assert exact_words("안녕하세요!") == ["안녕하세요"]
    m = GrammarMatcher(KOREAN)
    assert m.exact_vocab == {"안녕하세요"}
    assert m.match_exact("안녕하세요").choice == "hello"


def test_match_text_is_the_exact_matcher_as_a_recognition_result():
    r = match_text("dua", MENU)
    assert (r.choice, r.nomatch, r.engine, r.confidence) == ("2", False, "text", 1.0)
    r = match_text("3174 0545", DIGITS)
    assert r.nomatch                     # 8 digits where at most 6 fit: as a recogniser says
    r = match_text("halo", Grammar())
    assert r.nomatch and r.choice is None and r.digits is None
