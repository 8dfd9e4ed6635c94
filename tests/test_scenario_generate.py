"""`ivr test --generate`: a covering set of scenarios per tree, stable, passing, and the
checked-in suite for menus/vika.yaml up to date with the tree."""
from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from ivr.cli import main
from ivr.scenario.generate import MARK, generate_suite
from ivr.tree.loader import load_tree

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "tests" / "trees" / "good" / "minimal.yaml"
GENERATED = REPO / "tests" / "scenarios" / "generated"
REGENERATE = "ivr test --generate menus/vika.yaml -o tests/scenarios/generated"


def _generate(tree: Path, out: Path, capsys) -> str:
    rc = main(["test", "--generate", str(tree), "-o", str(out)])
    assert rc == 0
    return capsys.readouterr().out


def test_small_tree_generates_passing_stable_scenarios(tmp_path, capsys):
    out = _generate(SMALL, tmp_path / "a", capsys)
    files = sorted(p.name for p in (tmp_path / "a").glob("*.yaml"))
    assert files == sorted(files) and "retries__main.yaml" in files and "edge__main__bye.yaml" in files
    assert "outcome__check__tidak_ditemukan.yaml" in files and "outcome__check__error.yaml" in files
    # the branch no demo participant reaches (a fixed date of birth in the tree) is reported
    assert "not reached: check: hasil layanan aktif" in out
    for f in (tmp_path / "a").glob("*.yaml"):
        text = f.read_text()
        assert text.startswith(MARK) and "ivr test --generate" in text.splitlines()[2]
    # same tree => byte-identical files
    _generate(SMALL, tmp_path / "b", capsys)
    for f in (tmp_path / "a").glob("*.yaml"):
        assert f.read_text().replace(str(tmp_path / "a"), "X") == \
            (tmp_path / "b" / f.name).read_text().replace(str(tmp_path / "b"), "X")
    # and they pass, with coverage reported for nodes and edges
    rc = main(["test", str(tmp_path / "a")])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert " 0 failed" in printed and "edge coverage" in printed and "node coverage" in printed


def test_retries_scenario_asserts_timeout_invalid_and_exceeded(tmp_path, capsys):
    _generate(SMALL, tmp_path, capsys)
    text = (tmp_path / "retries__ask_nik.yaml").read_text()
    assert "wait: 10.5" in text and "Kami belum menerima pilihan Anda." in text
    assert "Pilihan tidak tersedia." in text and "outcome: max-exceeded" in text


def test_filled_in_values_are_never_written(tmp_path, capsys):
    """A prompt with {variables} is asserted by its own words only: no name, VA or bill."""
    _generate(SMALL, tmp_path, capsys)
    for f in tmp_path.glob("*.yaml"):
        assert "Halo {nama}" not in f.read_text()
        assert "Siti" not in f.read_text()


def test_changed_tree_shows_as_a_scenario_diff(tmp_path, capsys):
    tree = tmp_path / "t.yaml"
    tree.write_text(SMALL.read_text())
    _generate(tree, tmp_path / "out", capsys)
    before = (tmp_path / "out" / "edge__main__bye.yaml").read_text()
    tree.write_text(SMALL.read_text().replace('prompt: "Terima kasih."', 'prompt: "Sampai jumpa."'))
    _generate(tree, tmp_path / "out", capsys)
    after = (tmp_path / "out" / "edge__main__bye.yaml").read_text()
    diff = [ln for ln in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
            if ln.startswith(("+ ", "- ", "+  ", "-  "))]
    assert any("Terima kasih." in ln for ln in diff) and any("Sampai jumpa." in ln for ln in diff)


def test_stale_generated_files_are_removed_hand_written_kept(tmp_path, capsys):
    (tmp_path / "edge__gone.yaml").write_text(MARK + " -- old\n")
    (tmp_path / "mine.yaml").write_text("# hand written\n")
    out = _generate(SMALL, tmp_path, capsys)
    assert not (tmp_path / "edge__gone.yaml").exists() and (tmp_path / "mine.yaml").exists()
    assert "1 stale removed" in out


def test_generate_errors_are_one_line(tmp_path, capsys):
    assert main(["test", "--generate", str(SMALL)]) == 2
    assert "--generate needs -o DIR" in capsys.readouterr().err
    assert main(["test", "--generate", str(SMALL), "-o", str(tmp_path), "--today", "2026-13-01"]) == 2
    assert "--today: '2026-13-01' is not a date (expected YYYY-MM-DD)" in capsys.readouterr().err
    assert main(["test"]) == 2
    assert "--generate TREE -o DIR" in capsys.readouterr().err


def test_min_edge_coverage_fails_a_suite_that_misses_edges(tmp_path, capsys):
    _generate(SMALL, tmp_path, capsys)
    rc = main(["test", str(tmp_path / "retries__main.yaml"), "--min-edge-coverage", "100"])
    printed = capsys.readouterr()
    assert rc == 1 and "never taken: " in printed.out and "edge coverage below 100%" in printed.err


def test_checked_in_vika_suite_is_up_to_date():
    """A stale suite fails here: the tree changed and the scenarios were not regenerated."""
    cwd = os.getcwd()
    try:
        os.chdir(REPO)
        suite = generate_suite(load_tree(Path("menus/vika.yaml")), Path("menus/vika.yaml"),
                               Path("tests/scenarios/generated"), REGENERATE)
    finally:
        os.chdir(cwd)
    # every goal reached: 100% node and edge coverage from --generate alone
    assert [g.title for g in suite.missed] == []
    have = {p.name: p.read_text(encoding="utf-8") for p in GENERATED.glob("*.yaml")
            if p.read_text(encoding="utf-8").startswith(MARK)}
    stale = sorted(n for n in set(have) | set(suite.files) if have.get(n) != suite.files.get(n))
    if stale:
        pytest.fail(f"tests/scenarios/generated is out of date with menus/vika.yaml ({len(stale)} files differ, "
                    f"e.g. {', '.join(stale[:5])}); regenerate with:\n    {REGENERATE}")


def test_candidates_come_from_what_the_request_needs():
    """A member is added to a head who can have one (self-paying, aktif), with a valid NIK
    nobody has and the date that NIK encodes; a goal the request type never returns costs
    no search."""
    import datetime as dt

    from ivr.jkn.services import JknServices
    from ivr.rules.identifiers import nik_matches_birth_date, validate_nik
    from ivr.scenario.generate import Generator, Goal

    tree = load_tree(REPO / "menus" / "vika.yaml")
    gen = Generator(tree, REPO / "menus" / "vika.yaml")
    today = gen.today
    svc = JknServices(":memory:", clock=lambda: dt.datetime(2026, 11, 23, 9, 0))
    try:
        head = svc.participants.by_nik(gen._values(tree.nodes["agen_tambah_nik"], {})[0])
        assert head.hubungan == "kepala keluarga" and head.self_paying and head.status == "aktif"
        new = gen._values(tree.nodes["agen_tambah_nik_baru"], {"nik": head.nik})[0]
        assert svc.participants.by_nik(new) is None
        date = gen._values(tree.nodes["agen_tambah_tgl"], {"nik": head.nik, "nik_anggota": new})[0]
        born = dt.datetime.strptime(date, "%d%m%Y").date()
        assert nik_matches_birth_date(validate_nik(new, today), born)
    finally:
        svc.close()
    before = gen.replays
    assert gen.realise(Goal("outcome", "agen_aduan_proses", "ditolak")) is None and gen.replays == before
