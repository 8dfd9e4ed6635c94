"""WAV-piped calls: every fixture in audio_fixtures/ takes the path its manifest says; the
fixtures are rebuilt by their script; --out-wav writes a time-aligned stereo recording."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

from ivr.dsp.audio import read_audio
from ivr.drivers.runtime import CallRuntime
from ivr.drivers.wavfile import AudioCall, load_caller_audio
from ivr.jkn.services import JknServices
from ivr.tree.loader import load_tree

IVR = [sys.executable, "-m", "ivr"]


@pytest.fixture(scope="module")
def fixtures_dir(repo):
    return repo / "audio_fixtures"


@pytest.fixture(scope="module")
def manifest(fixtures_dir):
    return yaml.safe_load((fixtures_dir / "manifest.yaml").read_text())


@pytest.fixture(scope="module")
def vika(repo):
    return load_tree(repo / "menus" / "vika.yaml")


@pytest.fixture(scope="module")
def voice():
    from ivr.speech.voice import TtsVoice

    return TtsVoice.create()


def test_fixtures_are_rebuilt_identically(fixtures_dir, tmp_path):
    # a fresh process, as a user would run the script
    r = subprocess.run([sys.executable, str(fixtures_dir / "make_fixtures.py"), str(tmp_path)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    built = sorted(tmp_path.glob("*.wav"))
    assert {p.name for p in built} == {p.name for p in fixtures_dir.glob("*.wav")}
    for p in built:
        assert hashlib.sha256(p.read_bytes()).hexdigest() == \
            hashlib.sha256((fixtures_dir / p.name).read_bytes()).hexdigest(), p.name


@pytest.fixture(scope="module")
def recognizers():
    made = {}

    def get(engine):
        if engine not in made:
            from ivr.speech.asr.engines import create_recognizer

            made[engine] = create_recognizer(engine)
        return made[engine]

    return get


def _run(vika, path, voice, today, recognizer=None):
    from ivr.drivers.speech_input import RecognizerInput

    samples, rate = load_caller_audio(path)
    rt = CallRuntime(vika, services=JknServices(":memory:"), today=today)
    call = AudioCall(rt, rate, voice, speech=RecognizerInput(recognizer) if recognizer else None)
    call.begin()
    call.feed(samples)
    call.end_of_audio()
    return rt, call


def test_every_fixture_takes_its_manifest_path(vika, manifest, fixtures_dir, voice, recognizers):
    today = dt.date.fromisoformat(str(manifest["today"]))
    assert len(manifest["fixtures"]) >= 7
    for fx in manifest["fixtures"]:
        rec = recognizers(fx["speech"]) if fx.get("speech") else None
        rt, _ = _run(vika, fixtures_dir / fx["file"], voice, today, rec)
        stats = rt.session.stats
        said = "\n".join(line.text for line in rt.transcript if line.who == "ivr")
        for node in fx["visited"]:
            assert node in stats.path, (fx["file"], node, stats.path)
        for node in fx.get("not_visited", []):
            assert node not in stats.path, (fx["file"], node)
        for text in fx["prompt"]:
            assert text in said, (fx["file"], text)
        assert stats.end_node == fx["end_node"], fx["file"]
        assert stats.outcome == fx["outcome"], fx["file"]


def test_keys_are_not_heard_as_speech(vika, fixtures_dir, voice, recognizers):
    """With speech recognition on, a DTMF-only call goes exactly as without it."""
    rt, _ = _run(vika, fixtures_dir / "status_aktif.wav", voice, dt.date(2026, 11, 23), recognizers("whisper"))
    assert "status_aktif" in rt.session.stats.path
    assert not any(line.text.startswith('"') for line in rt.transcript if line.who == "caller")


def test_key_during_unbargeable_welcome_is_ignored(vika, fixtures_dir, voice):
    rt, _ = _run(vika, fixtures_dir / "barge_in_stereo.wav", voice, dt.date(2026, 11, 23))
    assert rt.session.stats.ignored_keys == 1
    # the 2 arrived while the main-menu prompt was still playing and stopped it
    assert any(line.text.startswith("(prompt dihentikan") for line in rt.transcript)


def test_audio_timeline_is_the_clock(vika, fixtures_dir, voice):
    """Timeouts happen at the audio time the tree says: 10 s after the NIK prompt ends."""
    rt, call = _run(vika, fixtures_dir / "diam_nik.wav", voice, dt.date(2026, 11, 23))
    nik_prompts = [p for p in call.played if p.text.startswith("Silakan masukkan 16 digit NIK")]
    timeout_prompts = [p for p in call.played if p.text.startswith("Maaf, kami belum menerima NIK")]
    assert nik_prompts and timeout_prompts
    assert timeout_prompts[0].start == pytest.approx(nik_prompts[0].end + 10.0, abs=1e-6)


def test_cli_wav_call_with_stereo_recording(fixtures_dir, tmp_path, voice):
    out = tmp_path / "call.wav"
    log = tmp_path / "call.jsonl"
    r = subprocess.run(IVR + ["call", "--wav", str(fixtures_dir / "status_aktif.wav"), "--today", "2026-11-23",
                              "--no-queue", "--out-wav", str(out), "--log", str(log), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert "status_aktif" in result["path"]
    stereo, rate = read_audio(str(out))
    assert stereo.shape[1] == 2 and rate == 16000
    caller, prompts = stereo[:, 0], stereo[:, 1]
    # the caller channel is the input (its DTMF is there), the prompt channel holds speech
    from ivr.dsp.dtmf import detect, digits_string

    assert digits_string(detect(caller, rate)) == "113174054508900002#05081990"
    assert detect(prompts, rate) == []
    # the welcome prompt sits at t=0 on the prompt channel, exactly as rendered
    welcome = voice.render("Selamat datang di BPJS Kesehatan Care Center 165, layanan Voice Interactive JKN. "
                           "Layanan ini tersedia 24 jam.", rate)
    n = min(len(welcome), rate * 5)
    assert np.allclose(prompts[:n], welcome[:n], atol=2e-4)
    assert float(np.sqrt(np.mean(prompts[:n] ** 2))) > 0.01
    # and the log masks the NIK
    text = log.read_text()
    assert "3174054508900002" not in text and "3174********0002" in text


def test_cli_wav_from_stdin(fixtures_dir):
    data = (fixtures_dir / "salah_tiga_kali.wav").read_bytes()
    r = subprocess.run(IVR + ["call", "--wav", "-", "--no-queue", "--no-log", "--no-tts", "--json"],
                       input=data, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.decode().strip().splitlines()[-1])["outcome"] == "transfer"


@pytest.mark.parametrize("content", [b"hello, not audio\n", b"RIFF\x24\x00\x00\x00WAVEfmt "])
def test_cli_wav_bad_input_is_one_line_error(tmp_path, content):
    p = tmp_path / "bad.wav"
    p.write_bytes(content)
    r = subprocess.run(IVR + ["call", "--wav", str(p), "--no-log"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "bad.wav" in r.stderr and "Traceback" not in r.stderr


def test_hold_music_between_announcements_in_the_recording(repo, tmp_path, voice):
    """A caller holding for an agent hears hold music between the announcements; the music
    never sounds like a key."""
    from ivr.dsp.dtmf import detect
    from ivr.drivers.setup import open_queue
    from ivr.dsp.dtmf_gen import generate

    tree = load_tree(repo / "menus" / "vika.yaml")
    rate = 8000
    # 3 agent services, 2 data changes, 2 class change: the night queue makes the caller wait
    caller = np.concatenate([np.zeros(int(rate * 12), np.float32), generate("3", rate), np.zeros(rate, np.float32),
                             generate("2", rate), np.zeros(rate, np.float32),
                             generate("2", rate), np.zeros(rate * 90, np.float32)])
    rt = CallRuntime(tree, services=JknServices(":memory:"), today=dt.date(2026, 11, 23),
                     queue=open_queue(repo / "menus" / "vika.yaml", None, 1, 22))
    call = AudioCall(rt, rate, voice)
    call.begin()
    call.feed(caller)
    call.end_of_audio()
    stats = rt.session.stats
    assert stats.queued_at is not None and stats.outcome == "abandon"
    rec = call.recording(caller, 16000)
    prompts = rec[:, 1]
    # between two announcements: music, quiet (under -20 dBFS) but not silence
    periodic = [p for p in call.played if p.text.startswith("Mohon tunggu")]
    assert len(periodic) >= 2
    a, b = periodic[0].end + 0.5, periodic[1].start - 0.5
    gap = prompts[int(a * 16000):int(b * 16000)]
    rms = float(np.sqrt(np.mean(gap ** 2)))
    assert 0.005 < rms < 0.1, rms
    assert detect(prompts, 16000) == []
    # written block by block (the way --out-wav writes a call as long as the call limit):
    # the same recording, hold music joined across block edges without a click
    left = rec[:, 0]
    blocks = list(call.recording_blocks(lambda k, n: left[k:k + n], len(left), 16000, block_s=7.3))
    assert len(blocks) > 5
    assert np.allclose(np.concatenate(blocks)[:len(rec)], rec, atol=1e-6)


def test_pocketsphinx_call_survives_keys_during_a_listen(vika, fixtures_dir, voice, recognizers):
    """A key tone mutes the listen and restarts the recogniser mid-utterance; PocketSphinx
    refused to switch its search inside an utterance (KeyError 'Unable to set search ivr'
    out of the call)."""
    rt, _ = _run(vika, fixtures_dir / "status_aktif.wav", voice, dt.date(2026, 11, 23), recognizers("pocketsphinx"))
    stats = rt.session.stats
    assert "status_aktif" in stats.path
    assert (stats.end_node, stats.outcome) == ("status_bayar", "caller-hangup")
