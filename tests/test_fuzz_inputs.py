"""Acceptance fuzzing of what users feed `ivr`: audio files, key scripts, scenario files.
Every input either works or gives a clear one-line error (exit 2): never a traceback,
a hang or a memory blow-up. Seeded, so a failure can be replayed."""
from __future__ import annotations

import io
import os
import random
import struct
import sys
import threading
import time

import numpy as np
import pytest

from ivr.cli import main
from ivr.dsp.audio import write_wav


def run_cli(args, capsys) -> tuple[int, str, str]:
    rc = main(args)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return rc, out, err


def _wav_bytes(x: np.ndarray, rate: int, subtype: str) -> bytes:
    buf = io.BytesIO()
    write_wav(buf, x, rate, subtype=subtype)
    return buf.getvalue()


def _mutants(rng: random.Random, n: int, good: bytes | None = None):
    good = good or _wav_bytes(np.zeros(800, np.float32), 8000, "PCM_16")
    yield b""
    yield b"\0" * 44
    yield b"RIFF"
    yield good[:30]
    yield good[:44] + b"\x01"
    yield b"ID3" + bytes(rng.randrange(256) for _ in range(200))
    # a header that claims a huge rate or many channels
    hdr = bytearray(good)
    struct.pack_into("<H", hdr, 22, 65535)
    yield bytes(hdr)
    hdr = bytearray(good)
    struct.pack_into("<I", hdr, 24, 0)
    yield bytes(hdr)
    for _ in range(n):
        b = bytearray(good)
        for _ in range(rng.randrange(1, 20)):
            op = rng.randrange(3)
            if not b:
                b += good[:44]
            if op == 0:
                b[rng.randrange(len(b))] = rng.randrange(256)
            elif op == 1:
                del b[rng.randrange(len(b)):]
            else:
                b[rng.randrange(len(b) + 1):rng.randrange(len(b) + 1)] = bytes(rng.randrange(256) for _ in range(8))
        yield bytes(b)


def test_fuzzed_audio_files(tmp_path, capsys):
    rng = random.Random(165)
    for i, data in enumerate(_mutants(rng, 60)):
        p = tmp_path / f"m{i}.wav"
        p.write_bytes(data)
        t0 = time.monotonic()
        rc, _, err = run_cli(["dtmf", "detect", str(p)], capsys)
        assert rc in (0, 2), (i, err)
        if rc == 2:
            assert err.count("\n") == 1 and str(p) in err
        rc, _, err = run_cli(["call", "--wav", str(p), "--no-log", "--no-queue", "--no-tts", "--speech", "off"], capsys)
        assert rc in (0, 2), (i, err)
        assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("subtype", ["PCM_16", "FLOAT", "ULAW"])
def test_odd_but_valid_audio_runs_a_call(tmp_path, capsys, subtype):
    rng = np.random.default_rng(7)
    rate = 11025
    cases = {
        "noise": rng.standard_normal(rate * 5).astype(np.float32) * 0.5,
        "clipped": np.clip(rng.standard_normal(rate * 5) * 10, -1, 1).astype(np.float32),
        "tiny": np.zeros(3, np.float32),
    }
    if subtype == "FLOAT":
        cases["nan_inf"] = np.array([np.nan, np.inf, -np.inf, 0.5] * 2000, np.float32)
    for name, x in cases.items():
        p = tmp_path / f"{name}.wav"
        write_wav(p, x, rate, subtype=subtype)
        rc, out, err = run_cli(["call", "--wav", str(p), "--no-log", "--no-queue", "--no-tts", "--speech", "off",
                                "--json"], capsys)
        assert rc == 0, (name, err)
        assert '"outcome"' in out


def test_fuzzed_key_scripts(capsys):
    rng = random.Random(7)
    alphabet = "0123456789*#ABCDw  x?"
    for _ in range(60):
        keys = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80)))
        t0 = time.monotonic()
        rc, out, err = run_cli(["call", "--keys", keys, "--no-log", "--no-queue", "--today", "2026-11-23",
                                "--db", ":memory:"], capsys)
        assert rc in (0, 2), (keys, err)
        if rc == 2:
            assert "unexpected character" in err
        else:
            assert "SELESAI" in out
        assert time.monotonic() - t0 < 10


def test_fuzzed_scenario_files(tmp_path, capsys, repo):
    base = (repo / "tests" / "scenarios" / "vika" / "navigasi.yaml").read_text().splitlines()
    rng = random.Random(3)
    for i in range(40):
        lines = list(base)
        for _ in range(rng.randrange(1, 4)):
            j = rng.randrange(len(lines))
            op = rng.randrange(4)
            if op == 0:
                del lines[j]
            elif op == 1:
                lines.insert(j, lines[rng.randrange(len(lines))])
            elif op == 2:
                lines[j] = " " * rng.randrange(8) + lines[j].lstrip()
            else:
                lines[j] = lines[j][: rng.randrange(len(lines[j]) + 1)]
        p = tmp_path / f"s{i}.yaml"
        p.write_text("\n".join(lines).replace("../../../menus/vika.yaml", str(repo / "menus" / "vika.yaml")))
        rc, _, err = run_cli(["test", str(p)], capsys)
        assert rc in (0, 1, 2), err
        if rc == 2:
            assert err.startswith("ivr: error:") and err.count("\n") == 1


def test_scenario_alias_bomb_is_refused_quickly(tmp_path, capsys):
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    p = tmp_path / "bomb.yaml"
    p.write_text(bomb)
    t0 = time.monotonic()
    rc, _, err = run_cli(["test", str(p)], capsys)
    assert rc == 2 and "alias bomb" in err
    assert time.monotonic() - t0 < 5


def _stdin_from(monkeypatch, write):
    """Make stdin a pipe that a thread fills with `write(w)` (endless writers stop when the
    pipe breaks); returns the read end, to close after the call."""
    r, w = os.pipe()
    reader = io.TextIOWrapper(os.fdopen(r, "rb"))

    def run():
        with os.fdopen(w, "wb", buffering=0) as f:
            try:
                write(f)
            except (BrokenPipeError, OSError, ValueError):
                pass

    threading.Thread(target=run, daemon=True).start()
    monkeypatch.setattr(sys, "stdin", reader)
    return reader


def test_fuzzed_audio_streamed_on_stdin(monkeypatch, capsys):
    """Mutants of a recording longer than the first read, piped: decoded as they arrive."""
    rng = random.Random(166)
    noise = np.random.default_rng(1).standard_normal(8000 * 6).astype(np.float32) * 0.1
    long = _wav_bytes(noise, 8000, "PCM_16")
    for i, data in enumerate(_mutants(rng, 25, long)):
        reader = _stdin_from(monkeypatch, lambda f: f.write(data))
        t0 = time.monotonic()
        rc, _, err = run_cli(["call", "--wav", "-", "--no-log", "--no-queue", "--no-tts", "--speech", "off"], capsys)
        reader.close()
        assert rc in (0, 2), (i, err)
        if rc == 2:
            assert err.count("\n") == 1 and "<stdin>" in err
        assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("head", [b"", b"RIFF\xff\xff\xff\xffWAVE", b"OggS", b"fLaC", b"ID3"])
def test_endless_audio_on_stdin_ends(monkeypatch, capsys, head):
    """A pipe that never ends: random bytes after a header (a 4 GB WAV claim, or the magic of
    another format). The call ends at its limit, or the input is refused; memory stays bounded
    (the reader holds a block at a time; a compressed format stops at the spool limit)."""
    import ivr.dsp.audio as audio

    monkeypatch.setattr(audio, "SPOOL_LIMIT", 8 << 20)
    rng = np.random.default_rng(2)
    if head.startswith(b"RIFF"):
        head += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", 0xFFFFFFFF)

    def write(f):
        f.write(head)
        while True:
            f.write((rng.standard_normal(1 << 16) * 300).astype("<i2").tobytes())

    reader = _stdin_from(monkeypatch, write)
    t0 = time.monotonic()
    rc, out, err = run_cli(["call", "--wav", "-", "--no-log", "--no-queue", "--no-tts", "--speech", "off",
                            "--max-call-seconds", "120", "--then", "silence", "--json"], capsys)
    reader.close()
    assert rc in (0, 2), err
    if rc == 2:
        assert err.count("\n") == 1 and "<stdin>" in err
    else:
        assert '"outcome"' in out and float(out.rsplit('"duration": ', 1)[1].split(",")[0]) <= 120.0
    assert time.monotonic() - t0 < 30
