"""`ivr call --keys`: scripted calls through the console command, their transcripts, call
logs (masked), and requests stored by the simulated agent. The calls run in-process
(`ivr.cli.main` with capsys: same parser, same exit codes, no interpreter start per call);
one test runs the real `python -m ivr` in a subprocess."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest

from ivr.cli import main

IVR = [sys.executable, "-m", "ivr"]
AKTIF = ("3174054508900002", "05081990")
MENUNGGAK = ("3273011708850003", "17081985")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture()
def ivr(capsys):
    """Run `ivr ARGS...` in this process; its exit code and captured output."""
    def run(*args) -> Run:
        capsys.readouterr()
        try:
            rc = main(list(args))
        except SystemExit as exc:   # argparse usage errors
            rc = exc.code
        out = capsys.readouterr()
        return Run(rc, out.out, out.err)
    return run


def ivr_process(*args, timeout=120, **kw):
    """The real console command in a subprocess."""
    return subprocess.run(IVR + list(args), capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture()
def db(tmp_path):
    return str(tmp_path / "jkn.sqlite")


def test_status_kepesertaan_for_participant_in_arrears(ivr, db, tmp_path):
    log = tmp_path / "call.jsonl"
    r = ivr("call", "--today", "2026-11-23", "--db", db, "--log", str(log), "--json",
            "--keys", f"1 1 {MENUNGGAK[0]}# {MENUNGGAK[1]} 9")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "atas nama Budi" in out and "tunggakan iuran 3 bulan" in out and "sudah lewat jatuh tempo" in out
    assert "Tagihan Rp300.000 sudah lewat jatuh tempo" in out and "45 hari" in out
    res = json.loads(out.strip().splitlines()[-1])
    assert res["outcome"] == "hangup" and "status_menunggak" in res["path"]
    # transcript and log mask the NIK and the date of birth
    assert MENUNGGAK[0] not in out and "Penelepon: ****************#" in out   # a NIK collect: all hidden
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[0]["rec"] == "start" and records[-1]["rec"] == "end"
    assert records[-1]["outcome"] == "hangup" and "status_menunggak" in records[-1]["path"]
    assert records[-1]["duration"] > 30
    raw = log.read_text()
    assert MENUNGGAK[0] not in raw and "8888801876543210" not in raw
    keys = [r for r in records if r["rec"] == "event" and r.get("type") == "Digit"]
    assert keys and any(k.get("masked") for k in keys)       # NIK keys are not logged one by one


def test_invalid_nik_gets_retry_prompt_and_three_failures_offer_an_agent(ivr, db):
    bad = "1234567890123456"
    r = ivr("call", "--db", db, "--no-log", "--json", "--keys", f"1 1 {bad}# {bad}# {bad}# 9")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("NIK yang Anda masukkan tidak valid") == 2
    assert "Silakan masukkan 16 digit NIK Anda" in r.stdout
    assert "melebihi batas percobaan" in r.stdout
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert "Untuk dibantu agen, tekan 0" in r.stdout   # issue 12: an agent, not a hang-up
    assert res["outcome"] == "hangup" and "gagal_verifikasi" in res["path"] and res["end_node"] == "penutup"


def test_keys_script_spaces_and_waits(ivr, db):
    # w waits a whole timeout at the main menu: the timeout prompt plays, then 2 still works
    r = ivr("call", "--db", db, "--no-log", "--no-queue", "--keys", "w2 1 9")
    assert r.returncode == 0, r.stderr
    assert "Maaf, kami belum menerima jawaban Anda" in r.stdout
    assert "Kelas 1 Rp150.000" in r.stdout and "Terima kasih telah menghubungi" in r.stdout


def test_ganti_nomor_hp_ticket_is_stored_and_shown(ivr, db):
    r = ivr("call", "--today", "2026-11-23", "--db", db, "--no-log", "--queue-seed", "0",
            "--keys", f"3 2 3 1 {AKTIF[0]}# {AKTIF[1]} 081234567890#")
    assert r.returncode == 0, r.stderr
    m = re.search(r"Nomor tiket Anda (165-\d{6}-\d{5})", r.stdout)
    assert m, r.stdout
    ticket = m.group(1)
    shown = ivr("requests", "show", ticket, "--db", db)
    assert shown.returncode == 0, shown.stderr
    assert "ganti_nomor_hp" in shown.stdout and "081234567890" not in shown.stdout
    unmasked = ivr("requests", "show", ticket, "--db", db, "--unmask")
    assert "081234567890" in unmasked.stdout


def test_bad_arguments_are_one_line_errors(ivr, tmp_path):
    r = ivr("call", "--keys", "1x2", "--no-log")
    assert r.returncode == 2 and "unexpected character" in r.stderr and "Traceback" not in r.stderr
    r = ivr_process("call", "--no-log", stdin=subprocess.DEVNULL)   # the real command, stdin not a terminal
    assert r.returncode == 2 and "not a terminal" in r.stderr
    broken = tmp_path / "t.yaml"
    broken.write_text("version: 1\nstart: a\nnodes:\n  a: {type: say, prompt: x, next: nowhere}\n")
    r = ivr("call", "--tree", str(broken), "--keys", "1", "--no-log")
    assert r.returncode == 2 and "t.yaml:4" in r.stderr and "nowhere" in r.stderr
    r = ivr("call", "--today", "23-11-2026", "--keys", "1", "--no-log")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr


def _queue_events(log):
    return [(r["event"], r) for r in map(json.loads, log.read_text().splitlines()) if r["rec"] == "queue"]


@pytest.mark.parametrize("keys,expected", [
    # waits at night, is served, is refused (registered < 1 year)
    ("3 2 2 w 3471020911000007# 1", ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"]),
    # waits, then presses * for a callback (said in every announcement; a digit could be
    # part of a NIK typed while waiting)
    ("3 2 2 *", ["ENTERQUEUE", "EXITWITHKEY"]),
])
def test_queue_log_in_asterisk_style(ivr, db, tmp_path, keys, expected):
    log = tmp_path / "q.jsonl"
    r = ivr("call", "--today", "2026-11-23", "--db", db, "--log", str(log), "--hour", "22", "--queue-seed", "1",
            "--keys", keys)
    assert r.returncode == 0, r.stderr
    events = _queue_events(log)
    assert [e for e, _ in events] == expected
    assert events[0][1]["queue"] == "ganti_kelas" and events[0][1]["position"] >= 1
    if "CONNECT" in expected:
        assert events[1][1]["wait_s"] > 0 and events[1][1]["agent"]
    else:
        assert events[1][1]["key"] == "*"


def test_queue_log_abandon(ivr, db, tmp_path):
    log = tmp_path / "a.jsonl"
    # the key script ends while the caller holds: the caller hangs up, an ABANDON
    r = ivr("call", "--today", "2026-11-23", "--db", db, "--log", str(log), "--hour", "22", "--queue-seed", "1",
            "--keys", "3 2 2", "--json")
    assert r.returncode == 0, r.stderr
    assert [e for e, _ in _queue_events(log)] == ["ENTERQUEUE", "ABANDON"]
    assert json.loads(r.stdout.strip().splitlines()[-1])["outcome"] == "abandon"


def test_partial_numbers_typed_into_a_collect_are_masked(ivr, db):
    r = ivr("call", "--db", db, "--no-log", "--no-queue", "--keys", "1 1 32730117 17081985")
    assert r.returncode == 0, r.stderr
    assert "32730117" not in r.stdout and "0117" not in r.stdout and "Penelepon: ********\n" in r.stdout
    r = ivr("call", "--db", db, "--no-log", "--no-queue", "--unmask", "--keys", "1 1 32730117 17081985")
    assert "32730117" in r.stdout


@pytest.mark.parametrize("hour,greeting", [("22", "Selamat malam"), ("9", "Selamat pagi"),
                                           ("12", "Selamat siang"), ("16", "Selamat sore")])
def test_agent_greets_by_name_and_the_hour_of_the_call(ivr, db, repo, hour, greeting):
    """--hour sets the queue's clock; the hour the agent answers picks the greeting, and the
    agent's name comes from the queue file's agent_names."""
    from ivr.queue.config import load_config

    names = load_config(repo / "menus" / "queues.yaml").agent_names
    r = ivr("call", "--today", "2026-11-23", "--db", db, "--no-log", "--hour", hour, "--queue-seed", "1",
            "--keys", "3 2 2 w")
    assert r.returncode == 0, r.stderr
    said = re.search(r"(Selamat \w+), dengan (\w+)\. Untuk ganti kelas", r.stdout)
    assert said, r.stdout
    assert said.group(1) == greeting and said.group(2) in names


def test_a_voice_call_listens_in_the_trees_language(ivr, tmp_path):
    """The tree's `language:` reaches the recogniser (it was dropped: a tree in another
    language was still heard as Indonesian). A code Whisper does not know is a one-line
    error that names the tree's field, before any audio is read."""
    import shutil
    from pathlib import Path

    menus = Path(__file__).resolve().parents[1] / "menus"
    tree = tmp_path / "vika.yaml"
    text = (menus / "vika.yaml").read_text(encoding="utf-8")
    assert "\nlanguage: id\n" in text
    tree.write_text(text.replace("\nlanguage: id\n", "\nlanguage: xx\n"), encoding="utf-8")
    shutil.copy(menus / "queues.yaml", tmp_path / "queues.yaml")
    wav = Path(__file__).resolve().parents[1] / "audio_fixtures" / "suara_status.wav"
    r = ivr("call", "--tree", str(tree), "--wav", str(wav), "--speech", "whisper", "--no-tts", "--no-log")
    assert r.returncode == 2, r
    (line,) = r.stderr.strip().splitlines()
    assert "'xx' is not a Whisper language code" in line and "the tree's language: 'xx'" in line
