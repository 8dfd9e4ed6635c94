"""`ivr models` and model resolution: listing, local assembly with sha256, error paths.
Nothing here touches the network."""
from __future__ import annotations

import json

import pytest

from ivr.cli import main
from ivr.speech.asr import models


def test_list_json_names_the_packaged_default_and_downloadables(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IVR_MODELS", str(tmp_path))
    assert main(["models", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by = {r["name"]: r for r in rows}
    assert by["whisper-base"]["source"] == "packaged" and by["whisper-base"]["installed"] is False
    assert by["pocketsphinx-en-us"]["installed"] is True
    assert {r["engine"] for r in rows} == {"whisper", "vosk", "pocketsphinx"}
    assert all(r["source"] in ("packaged", "download", "builtin") for r in rows)


@pytest.mark.parametrize("argv", [["models", "download", "whisper-huge-v9"], ["models", "install", "nope"]])
def test_unknown_model_is_a_one_line_error(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unknown model" in err and "whisper-base" in err and "Traceback" not in err


def test_install_refuses_models_that_need_a_download(capsys):
    assert main(["models", "install", "whisper-small"]) == 2
    assert "ivr models download whisper-small" in capsys.readouterr().err


def test_builtin_model_needs_no_download(tmp_path):
    with pytest.raises(models.ModelError, match="ships inside"):
        models.download("pocketsphinx-en-us", root=tmp_path)


def test_whisper_base_assembled_locally_and_verified(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("IVR_MODELS", str(tmp_path))
    assert main(["models", "install", "whisper-base"]) == 0
    d = tmp_path / "whisper-base"
    assert models.sha256_of(d / "model.bin") == models.WHISPER_BASE_SHA256
    assert {p.name for p in d.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    assert models.is_installed("whisper-base", tmp_path)
    mtime = (d / "model.bin").stat().st_mtime_ns
    assert models.install_whisper_base(tmp_path) == d          # idempotent: not rebuilt
    assert (d / "model.bin").stat().st_mtime_ns == mtime


def test_wrong_checksum_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "WHISPER_BASE_SHA256", "0" * 64)
    with pytest.raises(models.ModelError, match="sha256"):
        models.install_whisper_base(tmp_path)
    assert not (tmp_path / "whisper-base" / "model.bin").exists()
    assert not list((tmp_path / "whisper-base").glob(".model.bin.*"))


def test_explicit_whisper_dir_must_hold_a_model(tmp_path):
    with pytest.raises(models.ModelError, match="no model.bin"):
        models.resolve_whisper_model(tmp_path)
