"""Grammar matching, phonetic keys, endpointing and prompts: pure code, no models."""
from __future__ import annotations

import numpy as np
import pytest

from ivr.grammar import DIGIT_WORDS, Choice, Grammar
from ivr.speech.asr.endpoint import EndpointConfig, EnergyEndpointer
from ivr.speech.asr.matcher import GrammarMatcher, align_loop
from ivr.speech.asr.phonetic import normalise_text, phones, similarity
from ivr.speech.asr.sphinx_engine import g2p
from ivr.speech.asr.whisper_engine import PROMPT_DIGITS, build_prompt

DIGITS = Grammar((Choice("global:repeat", ("ulangi", "ulang")), Choice("global:back", ("kembali",))),
                 digits=True, min_digits=1, max_digits=16, name="nik")
MENU = Grammar((
    Choice("1", ("status", "tagihan", "layanan mandiri", "cek status")),
    Choice("2", ("informasi", "iuran", "denda", "manfaat")),
    Choice("3", ("pendaftaran", "perubahan data", "pengaduan", "administrasi")),
    Choice("4", ("kanal lain", "pandawa", "whatsapp", "aplikasi")),
    Choice("global:agent", ("agen", "operator", "petugas")),
    Choice("global:repeat", ("ulangi", "ulang")),
    Choice("global:back", ("kembali", "sebelumnya")),
), name="menu_utama")


@pytest.mark.parametrize("text, digits", [
    ("empat sembilan dua", "492"),
    ("4,9,2", "492"),
    ("492", "492"),
    ("4 9 2.", "492"),
    ("Tiga, dua, nol, satu.", "3201"),
    ("kosong kosong tujuh", "007"),          # repeated digits stay repeated
    ("nol nol nol nol", "0000"),
    ("digadarapan dua", "382"),              # merged words, t/d and l/r swaps
    ("mpat lima", "45"),                     # dropped first vowel
    ("sembilan delapan tujuh enam lima empat tiga dua satu nol satu dua tiga empat lima enam", "9876543210123456"),
    ("3201 0155 0000 0001", "3201015500000001"),
    ("saya tiga dua", "32"),                 # filler word dropped
    ("delapan nol, lima.", "805"),           # a word that starts with the sound the last one ended with
    ("enam, empat lima", "645"),
    ("sembilan nol nol", "900"),
    ("satu, dua, lima, nine, tujuh.", "12597"),  # an English digit word
    ("tujuh dua pan satu", "781"),           # "delapan" as Whisper writes it off a phone line
    ("kosong dua ban", "08"),
    ("satu, dua milan, dua nol", "12920"),   # "sembilan" with its first syllable swallowed
    ("pat nam nono.", "4600"),               # "nol nol" said fast: two digits, not one
    ("dua, satu, tiga nono, lima", "213005"),
])
def test_digit_strings_in_words_numerals_and_mishearings(text, digits):
    m = GrammarMatcher(DIGITS).match(text)
    assert not m.nomatch, m
    assert m.digits == digits
    assert len(m.words) == len(digits)
    assert all(DIGIT_WORDS[w] == d for w, d in zip(m.words, digits))


def test_digit_grammar_accepts_a_global_phrase_alone():
    m = GrammarMatcher(DIGITS).match("Ulangi.")
    assert (m.choice, m.digits, m.nomatch) == ("global:repeat", None, False)


@pytest.mark.parametrize("text", ["halo selamat pagi", "terima kasih banyak", "apa kabar", "", "..."])
def test_digit_grammar_rejects_unrelated_speech(text):
    assert GrammarMatcher(DIGITS).match(text).nomatch


def test_digit_count_outside_the_grammar_is_nomatch_but_reported():
    g = Grammar((), digits=True, min_digits=16, max_digits=16)
    m = GrammarMatcher(g).match("tiga dua nol satu")
    assert m.nomatch and m.reason == "length" and m.digits == "3201"


@pytest.mark.parametrize("text, token", [
    ("pendaftaran", "3"), ("Pendaftaran.", "3"), ("pendaptaran", "3"), ("informasih", "2"),
    ("statis", "1"), ("tagian", "1"), ("agen", "global:agent"), ("Ulangi", "global:repeat"),
    ("saya mau tagihan", "1"), ("perubahan data", "3"), ("wasap", "4"), ("dua", "2"),
    ("kembali", "global:back"),
])
def test_menu_phrases_match_phonetically(text, token):
    m = GrammarMatcher(MENU).match(text)
    assert not m.nomatch, m
    assert m.choice == token


@pytest.mark.parametrize("text", ["halo selamat pagi", "apa kabar", "terima kasih", "selamat malam",
                                  "bayar", "kartu saya hilang", "rumah sakit", "gunaftarkan"])
def test_menu_rejects_out_of_grammar(text):
    m = GrammarMatcher(MENU).match(text)
    assert m.nomatch and m.choice is None


def test_phonetic_beats_plain_string_ratio_on_sound_alike_spellings():
    # t/d voicing and a dropped h cost little; unrelated words stay far apart
    assert similarity(phones("delapan"), phones("telapan")) > 0.9
    assert similarity(phones("tujuh"), phones("tuju")) > 0.9
    assert similarity(phones("halo"), phones("ulangi")) < 0.5
    assert phones("nyanyi") == "YaYi"
    assert normalise_text("No. 4,9-2!") == ["no", "empat", "sembilan", "dua"]


def test_ambiguous_phrase_between_two_choices_is_nomatch():
    g = Grammar((Choice("1", ("bata",)), Choice("2", ("pada",))))
    m = GrammarMatcher(g).match("bada")
    assert m.nomatch and m.reason == "ambiguous"


def test_align_loop_segments_concatenated_items():
    vocab = [phones(w) for w in ("satu", "dua", "tiga")]
    cost, labels = align_loop(phones("tigaduasatusatu"), vocab)
    assert labels == [2, 1, 0, 0]
    assert cost == pytest.approx(0.35 * 4)


def test_whisper_prompt_lists_words_but_never_counts():
    prompt = build_prompt(GrammarMatcher(DIGITS))
    words = [w.strip(" .") for w in prompt.split(",")]
    assert set(DIGIT_WORDS) <= set(words) and "ulangi" in words
    vals = [int(DIGIT_WORDS[w]) for w in words if w in DIGIT_WORDS]
    assert all(abs(a - b) != 1 for a, b in zip(vals, vals[1:]))
    assert tuple(w for w in words if w in DIGIT_WORDS) == PROMPT_DIGITS
    menu_prompt = build_prompt(GrammarMatcher(MENU))
    assert "pendaftaran" in menu_prompt and "satu" in menu_prompt  # keys 1-4 may be said


def test_indonesian_g2p_to_en_us_phones():
    assert g2p("tujuh") == ["T", "UW", "JH", "UW"]
    assert g2p("pendaftaran") == ["P", "AH", "N", "D", "AA", "F", "T", "AA", "R", "AA", "N"]
    assert g2p("nyanyi")[:2] == ["N", "Y"] and g2p("bangku")[2] == "NG"


def _tone(seconds, amp, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_endpointer_start_pause_resume_end_on_the_audio_timeline():
    rng = np.random.default_rng(0)
    noise = lambda s: (0.001 * rng.standard_normal(int(s * 16000))).astype(np.float32)  # noqa: E731
    x = np.concatenate([noise(0.5), _tone(0.6, 0.3), noise(0.3), _tone(0.4, 0.3), noise(1.0)])
    ep = EnergyEndpointer(EndpointConfig(pause_ms=150, end_ms=600))
    events = []
    for i in range(0, len(x), 480):  # 30 ms chunks, as a sound card delivers
        events += ep.feed(x[i:i + 480])
    kinds = [e.kind for e in events]
    assert kinds == ["speech_start", "pause", "resume", "pause", "end"]
    start, p1, _, p2, end = events
    assert start.at == pytest.approx(0.5, abs=0.03)
    assert p1.at == pytest.approx(1.1, abs=0.03) and p1.detected_at - p1.at == pytest.approx(0.15, abs=0.02)
    assert end.at == pytest.approx(1.8, abs=0.03) and end.detected_at == pytest.approx(2.4, abs=0.03)
    assert ep.ended


def test_endpointer_ignores_steady_noise():
    rng = np.random.default_rng(1)
    ep = EnergyEndpointer()
    ev = ep.feed((0.05 * rng.standard_normal(16000 * 3)).astype(np.float32))
    assert ev == [] and not ep.ended


def test_acronyms_are_spelled_letter_by_letter_for_pocketsphinx():
    from ivr.speech.asr.sphinx_engine import is_acronym

    assert is_acronym("rjtp") and is_acronym("sms") and is_acronym("ritp") and is_acronym("npwp")
    assert not is_acronym("tagihan") and not is_acronym("bangku") and not is_acronym("email")
    assert g2p("sms") == g2p("es") + g2p("em") + g2p("es")


def test_acronym_phrases_match_when_spelled_out_but_prompt_keeps_the_acronym():
    g = Grammar((Choice("2", ("rawat jalan pertama", "rjtp")), Choice("5", ("sms",))))
    m = GrammarMatcher(g)
    assert m.match("er je te pe").choice == "2"
    assert m.match("RJTP.").choice == "2"
    assert m.match("es em es").choice == "5"
    assert "er je te pe" not in build_prompt(m) and "rjtp" in build_prompt(m)


def test_match_is_memoised_per_matcher_and_results_do_not_leak_between_grammars():
    """The recogniser matches the same N-best texts many times (first decode, speed copies,
    rescoring): the second match is the same object, and another grammar's matcher judges
    the same text by its own length rule."""
    five = GrammarMatcher(Grammar((), digits=True, min_digits=5, max_digits=5))
    four = GrammarMatcher(Grammar((), digits=True, min_digits=4, max_digits=4))
    a = five.match("dua satu tiga nol nol")
    assert a is five.match("dua satu tiga nol nol") and not a.nomatch
    b = four.match("dua satu tiga nol nol")
    assert b.nomatch and b.reason == "length"
