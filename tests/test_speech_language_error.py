"""A speech engine that refuses the tree's `language:` says so as UnsupportedLanguage, and
`ivr call` / `ivr serve` name the tree's field from the error's type, not from the wording of
the engine's message (it was found by matching "language code" in the text: an engine with
other words lost the pointer to the tree, and any message with those words got it)."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import ivr.drivers.commands as drv
import ivr.sip.commands as sipcmd
from ivr.cli import main
from ivr.errors import CliError
from ivr.speech.asr import RecognizerError, UnsupportedLanguage

REPO = Path(__file__).resolve().parents[1]


def _refuses(exc: Exception):
    def fake(_args, **options):
        raise exc
    return fake


def test_whisper_refuses_an_unknown_code_with_the_typed_error():
    from ivr.speech.asr.whisper_engine import check_language

    with pytest.raises(UnsupportedLanguage) as info:
        check_language("xx")
    assert info.value.language == "xx" and isinstance(info.value, RecognizerError)


def test_the_typed_error_names_the_trees_field_whatever_the_engine_wrote(monkeypatch):
    """The engine's message has no 'language code' in it: the tree's field is still named."""
    monkeypatch.setattr(drv, "recognizer_from_args", _refuses(UnsupportedLanguage("no acoustic model for Klingon", "tlh")))
    args = argparse.Namespace(speech_engine="vosk")
    with pytest.raises(CliError) as info:
        drv.speech_recognizer(args, language="tlh")
    assert str(info.value) == ("--speech vosk: no acoustic model for Klingon (the tree's language: 'tlh') "
                               "(or use --speech off)")
    # ivr serve builds its first recogniser at start through the same helper
    with pytest.raises(CliError, match=r"no acoustic model for Klingon \(the tree's language: 'tlh'\)"):
        sipcmd._speech(args, "tlh")


def test_other_engine_errors_do_not_blame_the_tree_even_if_they_say_language_code(monkeypatch):
    monkeypatch.setattr(drv, "recognizer_from_args",
                        _refuses(RecognizerError("model dir holds no language code file")))
    with pytest.raises(CliError) as info:
        drv.speech_recognizer(argparse.Namespace(speech_engine="vosk"), language="id")
    assert "the tree's language" not in str(info.value)
    assert str(info.value) == "--speech vosk: model dir holds no language code file (or use --speech off)"


def test_ivr_call_prints_the_typed_error_as_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    seen: list[str] = []

    def fake(_args, **options):
        seen.append(options["language"])
        raise UnsupportedLanguage("this model only knows English", options["language"])

    monkeypatch.setattr(drv, "recognizer_from_args", fake)
    wav = REPO / "audio_fixtures" / "suara_status.wav"
    assert main(["call", "--wav", str(wav), "--speech", "vosk", "--no-tts", "--no-log"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert seen == ["id"]   # menus/vika.yaml's language
    assert line == ("ivr: error: --speech vosk: this model only knows English (the tree's language: 'id') "
                    "(or use --speech off)")
