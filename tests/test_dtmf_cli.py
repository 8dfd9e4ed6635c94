"""`ivr dtmf gen` / `ivr dtmf detect` end to end, on every file format a user may have."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from ivr.cli import main
from ivr.dsp.audio import read_audio, write_wav
from ivr.dsp.dtmf_gen import generate

ALL = "0123456789*#ABCD"
WAV_SUBTYPES = ["PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE", "PCM_U8", "ULAW", "ALAW"]


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
def test_gen_then_detect_every_wav_subtype(tmp_path, capsys, subtype):
    p = tmp_path / f"{subtype}.wav"
    rc, _, err = run(capsys, "dtmf", "gen", ALL, "-o", str(p), "--subtype", subtype, "--on", "60", "--off", "60")
    assert rc == 0 and "wrote" in err
    assert sf.info(str(p)).subtype == subtype
    rc, out, _ = run(capsys, "dtmf", "detect", str(p))
    assert rc == 0 and out.strip() == ALL


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_detect_at_common_rates(tmp_path, capsys, rate):
    p = tmp_path / f"r{rate}.wav"
    assert run(capsys, "dtmf", "gen", "3201#", "-o", str(p), "--rate", str(rate))[0] == 0
    assert run(capsys, "dtmf", "detect", str(p))[1].strip() == "3201#"


@pytest.mark.parametrize("ext", ["flac", "ogg", "mp3"])
def test_compressed_containers(tmp_path, capsys, ext):
    p = tmp_path / f"x.{ext}"
    rc, _, err = run(capsys, "dtmf", "gen", ALL, "-o", str(p), "--rate", "16000", "--level", "-8")
    assert rc == 0, err
    assert sf.info(str(p)).format == {"flac": "FLAC", "ogg": "OGG", "mp3": "MP3"}[ext]
    assert run(capsys, "dtmf", "detect", str(p))[1].strip() == ALL


def test_stereo_reports_each_channel(tmp_path, capsys):
    a = generate("1234", rate=8000, seed=1)
    b = generate("#0*", rate=8000, seed=2)
    n = max(len(a), len(b))
    st = np.zeros((n, 2), np.float32)
    st[: len(a), 0], st[: len(b), 1] = a, b
    p = tmp_path / "st.wav"
    write_wav(p, st, 8000, subtype="PCM_24")
    rc, out, _ = run(capsys, "dtmf", "detect", str(p))
    assert rc == 0 and out.splitlines() == ["channel 0 (left): 1234", "channel 1 (right): #0*"]
    rc, out, _ = run(capsys, "dtmf", "detect", str(p), "--json")
    doc = json.loads(out)
    assert doc["channels"] == 2 and doc["rate"] == 8000
    assert [r["digits"] for r in doc["results"]] == ["1234", "#0*"]
    ev = doc["results"][1]["events"][0]
    assert ev["digit"] == "#" and ev["channel"] == 1 and abs(ev["start"] - 0.08) < 0.002
    assert abs(ev["end"] - 0.16) < 0.002 and abs(ev["level_dbfs"] + 10) < 0.5
    rc, out, _ = run(capsys, "dtmf", "detect", str(p), "--channel", "1")
    assert out.strip() == "channel 1 (right): #0*"


def test_json_for_mono(tmp_path, capsys):
    p = tmp_path / "m.wav"
    run(capsys, "dtmf", "gen", "95", "-o", str(p), "--level", "-20", "--twist", "-4")
    doc = json.loads(run(capsys, "dtmf", "detect", str(p), "--json")[1])
    (res,) = doc["results"]
    assert res["channel_name"] == "mono" and res["digits"] == "95"
    assert all(abs(e["low_dbfs"] + 20) < 0.5 and abs(e["high_dbfs"] + 24) < 0.5 for e in res["events"])


def test_stdin_and_stdout_pipes(tmp_path):
    """`ivr dtmf gen ... -o - | ivr dtmf detect -` works through real pipes."""
    gen = subprocess.run([sys.executable, "-m", "ivr", "dtmf", "gen", "0811#", "-o", "-"], capture_output=True, check=True)
    assert gen.stdout[:4] == b"RIFF"
    det = subprocess.run([sys.executable, "-m", "ivr", "dtmf", "detect", "-"], input=gen.stdout, capture_output=True)
    assert det.returncode == 0 and det.stdout.decode().strip() == "0811#"


def _bad_files(tmp_path):
    good = tmp_path / "good.wav"
    write_wav(good, generate("123", rate=8000), 8000)
    data = good.read_bytes()
    files = {
        "text": (b"this is not audio\n" * 20, "not an audio file"),
        "truncated": (data[: len(data) // 2], "truncated WAV"),
        "empty": (b"", "empty file"),
    }
    out = {}
    for name, (content, needle) in files.items():
        p = tmp_path / f"{name}.wav"
        p.write_bytes(content)
        out[name] = (p, needle)
    return out


@pytest.mark.parametrize("case", ["text", "truncated", "empty"])
def test_bad_files_give_one_line_error_and_exit_2(tmp_path, capsys, case):
    p, needle = _bad_files(tmp_path)[case]
    rc, out, err = run(capsys, "dtmf", "detect", str(p))
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ivr: error: ") and needle in lines[0] and str(p) in lines[0]


def test_truncated_wav_through_the_real_command(tmp_path):
    p, _ = _bad_files(tmp_path)["truncated"]
    r = subprocess.run([sys.executable, "-m", "ivr", "dtmf", "detect", str(p)], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["dtmf", "gen", "12X", "-o", "x.wav"], "not a DTMF key"),
        (["dtmf", "gen", "12", "-o", "x.wav", "--rate", "3000"], "sample rate"),
        (["dtmf", "gen", "12", "-o", "x.wav", "--on", "0"], "--on"),
        (["dtmf", "gen", "12", "-o", "x.wav", "--subtype", "BOGUS"], "cannot write"),
        (["dtmf", "detect", "missing.wav"], "no such file"),
    ],
)
def test_user_errors(tmp_path, capsys, monkeypatch, argv, needle):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, *argv)
    assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_generated_file_matches_options(tmp_path, capsys):
    p = tmp_path / "g.wav"
    run(capsys, "dtmf", "gen", "3201#", "-o", str(p), "--rate", "8000", "--on", "80", "--off", "80")
    x, rate = read_audio(p)
    assert rate == 8000 and abs(len(x) / rate - (0.08 + 5 * 0.08 + 4 * 0.08 + 0.08)) < 0.002
