"""PocketSphinx engine: Indonesian G2P lexicon on the en-us model, JSGF from the grammar."""
from __future__ import annotations

import pytest

from bench.speech_set import synth
from ivr.grammar import Choice, Grammar


@pytest.fixture(scope="module")
def rec():
    from ivr.speech.asr import create_recognizer

    r = create_recognizer("pocketsphinx")
    yield r
    r.close()


MENU = Grammar((Choice("1", ("status", "tagihan")), Choice("2", ("informasi", "iuran")),
                Choice("3", ("pendaftaran", "pengaduan")), Choice("global:agent", ("agen",))))


def test_digit_string_from_jsgf_with_partials(rec):
    g = Grammar((), digits=True, min_digits=1, max_digits=8)
    x = synth("tiga dua nol satu lima")
    rec.start(g)
    partials = [p for i in range(0, len(x), 1600) if (p := rec.feed(x[i:i + 1600])) is not None]
    res = rec.finish()
    assert res.engine == "pocketsphinx"
    assert res.digits == "32015" and not res.nomatch
    assert partials and partials[-1].text.split()[0] == "tiga"


@pytest.mark.parametrize("phrase, token", [("pendaftaran", "3"), ("tagihan", "1"), ("agen", "global:agent")])
def test_keywords(rec, phrase, token):
    res = rec.recognize(synth(phrase), MENU)
    assert res.choice == token and not res.nomatch


def test_out_of_grammar_lands_on_the_garbage_path(rec):
    res = rec.recognize(synth("halo selamat pagi"), MENU)
    assert res.nomatch and res.choice is None


def test_restart_inside_an_utterance(rec):
    """start() again before finish() (a DTMF tone mutes the listen): a fresh utterance, not
    KeyError 'Unable to set search ivr' from the decoder."""
    g = Grammar((), digits=True, min_digits=1, max_digits=8)
    x = synth("tiga dua nol satu lima")
    rec.start(g)
    rec.feed(x[:8000])
    rec.start(g)
    res = rec.recognize(x, g)
    assert res.digits == "32015" and not res.nomatch
