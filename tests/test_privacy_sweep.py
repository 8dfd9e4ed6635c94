"""Privacy sweep (issue 10): run every shipped scenario, every caller recording in
audio_fixtures/ and every scripted demo call of scripts/demo.sh, with logs, call recordings
and JUnit written to a temporary folder; then scan every file they wrote and everything
they printed for any NIK, card number, phone number or date of birth of the participants
database, however written (see tests/privacy_scan.py). Zero hits."""
from __future__ import annotations

import os
import shlex
import time
from pathlib import Path

import pytest
import yaml

from ivr.cli import main
from privacy_scan import PiiScanner, public_prompts

REPO = Path(__file__).resolve().parents[1]


def _demo_calls(tmp: Path) -> list[list[str]]:
    """The `ivr call` command lines of scripts/demo.sh (the scripted part), each with its own
    log, and a recording written into `tmp` instead of /tmp."""
    text = (REPO / "scripts" / "demo.sh").read_text().replace("\\\n", " ")
    calls = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith('"$IVR" call') or "--keys" not in line and "--wav" not in line:
            continue
        argv = shlex.split(line)[1:]
        if "--out-wav" in argv:
            argv[argv.index("--out-wav") + 1] = str(tmp / f"demo{len(calls)}.wav")
        calls.append(argv + ["--log", str(tmp / f"demo{len(calls)}.jsonl")])
    return calls


def test_privacy_sweep_finds_no_personal_number(tmp_path, capsys, monkeypatch):
    from ivr.jkn.participants import generate

    out = tmp_path / "out"
    home = tmp_path / "home"
    monkeypatch.setenv("IVR_HOME", str(home))
    monkeypatch.chdir(REPO)
    printed: list[str] = []
    runs: list[tuple[str, int]] = []
    t0 = time.perf_counter()

    def ivr(*argv) -> int:
        rc = main([str(a) for a in argv])
        o, e = capsys.readouterr()
        printed.append(o + e)
        runs.append((" ".join(map(str, argv[:4])), rc))
        return rc

    # every shipped scenario, with JUnit
    assert ivr("test", "tests/scenarios", "--junit", out / "junit.xml") == 0, printed[-1][-2000:]
    # every caller recording, as the manifest plays it, with a log and a call recording
    manifest = yaml.safe_load((REPO / "audio_fixtures" / "manifest.yaml").read_text())
    for fx in manifest["fixtures"]:
        stem = Path(fx["file"]).stem
        rc = ivr("call", "--wav", REPO / "audio_fixtures" / fx["file"], "--today", manifest["today"], "--no-queue",
                 "--speech", fx.get("speech", "off"), "--log", out / f"{stem}.jsonl", "--out-wav", out / f"{stem}.wav")
        assert rc == 0, printed[-1][-2000:]
    # every scripted demo call
    demos = _demo_calls(out)
    assert len(demos) >= 4
    for argv in demos:
        assert ivr(*argv) == 0, printed[-1][-2000:]
    seconds_calls = time.perf_counter() - t0

    scanner = PiiScanner.for_participants(generate(), public_prompts(REPO / "menus" / "vika.yaml"))
    hits = []
    for i, text in enumerate(printed):
        hits += scanner.scan_text(text, f"output of: ivr {runs[i][0]}")
    n_files = 0
    for root in (out, home, Path(os.environ["IVR_CACHE"])):
        if not root.exists():
            continue
        for p in sorted(root.rglob("*")):
            if not p.is_file() or p.name.startswith("participants.sqlite"):
                continue   # the database is the data itself (its mode is checked in test_privacy_paths)
            n_files += 1
            hits += scanner.scan_file(p)
    took = time.perf_counter() - t0
    print(f"privacy sweep: {len(runs)} runs ({len(manifest['fixtures'])} recordings, {len(demos)} demo calls, "
          f"scenarios), {n_files} files + {len(printed)} outputs scanned, {took:.1f} s "
          f"(calls {seconds_calls:.1f} s)")
    assert n_files >= len(manifest["fixtures"]) * 2 + len(demos) + 1
    assert not hits, "\n".join(f"{h.where}: {h.kind} {h.value[:4]}... in ...{h.context!r}" for h in hits[:20])
