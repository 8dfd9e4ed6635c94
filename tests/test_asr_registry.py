"""A speech engine is one module plus one registry line (issue 11 item 6): every command that
recognises speech (`ivr call --speech`, `ivr asr --engine`, `ivr serve --speech`) and its
model option come from `ivr.speech.asr.engines.ENGINES`."""
from __future__ import annotations

import json
import sys
import textwrap

import numpy as np
import pytest

from ivr.cli import build_parser, main
from ivr.dsp.audio import write_wav
from ivr.speech.asr import engines
from ivr.speech.asr.base import RecognizerError

ENGINE_MODULE = textwrap.dedent('''
    from ivr.grammar import RecognitionResult
    from ivr.speech.asr.base import Recognizer

    class EchoRecognizer(Recognizer):
        """Hears every utterance as the digits of its model name (a test engine)."""
        name = "echo"

        def __init__(self, model=None, endpoint=None):
            super().__init__(endpoint)
            self.model = model or "7"

        def finish(self):
            return RecognitionResult(text=self.model, digits=self.model, confidence=1.0,
                                     nomatch=False, engine=self.name)
''')


@pytest.fixture()
def echo_engine(tmp_path, monkeypatch):
    (tmp_path / "echo_engine_mod.py").write_text(ENGINE_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    # the one registry line
    registry = dict(engines.ENGINES)
    registry["echo"] = engines.EngineSpec("echo", "echo_engine_mod:EchoRecognizer", "test engine",
                                          "the digits the echo engine hears")
    monkeypatch.setattr(engines, "ENGINES", registry)
    yield
    sys.modules.pop("echo_engine_mod", None)


def test_a_registered_engine_reaches_every_command(echo_engine, tmp_path, capsys):
    parser = build_parser()
    for argv in (["call", "--speech", "echo", "--echo-model", "42"],
                 ["asr", "--digits", "--engine", "echo", "--echo-model", "42", "x.wav"],
                 ["serve", "--speech", "echo", "--echo-model", "42"]):
        args = parser.parse_args(argv)
        rec = engines.recognizer_from_args(args)
        assert type(rec).__name__ == "EchoRecognizer" and rec.model == "42", argv
    wav = tmp_path / "u.wav"
    write_wav(str(wav), np.zeros(8000, np.float32), 8000)
    assert main(["asr", "--digits", "--engine", "echo", "--echo-model", "42", "--unmask", "--json", str(wav)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["digits"] == "42"


def test_hints_reach_only_the_engines_that_take_them(echo_engine):
    rec = engines.create_recognizer("echo", model="5", language="id", live=False)
    assert rec.model == "5"


def test_unknown_engine_is_one_line(capsys, repo):
    args = build_parser().parse_args(["call", "--speech", "nope"])
    with pytest.raises(RecognizerError, match="unknown engine 'nope' \\(choose whisper, pocketsphinx, vosk, off\\)"):
        engines.recognizer_from_args(args)
    fixture = str(repo / "audio_fixtures" / "status_aktif.wav")
    assert main(["call", "--speech", "nope", "--wav", fixture, "--no-log", "--no-tts"]) == 2
    assert "--speech nope: unknown engine 'nope'" in capsys.readouterr().err


def test_off_means_no_recogniser():
    assert engines.recognizer_from_args(build_parser().parse_args(["call", "--speech", "off"])) is None
