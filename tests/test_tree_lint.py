"""`ivr lint` on the broken example trees (each states its expected finding on its first line)
and on the good ones, plus the lint rules one by one on small inline trees."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ivr.cli import main
from ivr.tree.lint import lint, lint_file
from ivr.tree.loader import load_tree_text

TREES = Path(__file__).parent / "trees"
BROKEN = sorted((TREES / "broken").glob("*.yaml"))
GOOD = sorted((TREES / "good").glob("*.yaml"))
REPO = Path(__file__).resolve().parents[1]
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (error|warning) (.+)$")


def expectation(path: Path) -> tuple[int, int, str, list[str]]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    m = EXPECT.match(first)
    assert m, f"{path.name}: first line must be '# expect: LINE:COL SEVERITY FRAGMENT[ | FRAGMENT]'"
    return int(m[1]), int(m[2]), m[3], [f.strip() for f in m[4].split(" | ")]


def run_lint(capsys, *args: str) -> tuple[int, list[str]]:
    rc = main(["lint", *args])
    out = capsys.readouterr().out
    return rc, out.splitlines()


def test_enough_kinds_of_broken_tree():
    assert len(BROKEN) >= 14
    kinds = {tuple(expectation(p)[3]) for p in BROKEN}
    assert len(kinds) == len(BROKEN), "each broken tree shows a different mistake"


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_tree_reports_exactly_the_expected_problem(path, capsys):
    line, col, severity, fragments = expectation(path)
    rc, out = run_lint(capsys, str(path))
    assert rc == 1
    problems = [o for o in out if o.startswith(str(path) + ":")]
    assert len(problems) == 1, "\n".join(out)  # one mistake, one report: no cascades
    assert problems[0].startswith(f"{path}:{line}:{col}: {severity}: "), problems[0]
    for f in fragments:
        assert f in problems[0], (f, problems[0])
    summary = out[-1]
    assert f"1 {severity}" in summary


def test_console_command_reports_positions(tmp_path):
    """The real `ivr` console script, for a loader error, a lint error and a lint warning."""
    ivr = Path(sys.executable).with_name("ivr")
    picks = [TREES / "broken" / f"{n}.yaml" for n in ("unknown_key", "global_key_clash", "unreachable")]
    r = subprocess.run([str(ivr), "lint", *map(str, picks)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 1, r.stderr
    for p in picks:
        line, col, severity, fragments = expectation(p)
        assert f"{p}:{line}:{col}: {severity}: {fragments[0]}" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == "3 files, 15 nodes: 2 errors, 1 warning (1 could not be loaded)"
    assert "Traceback" not in r.stderr


def test_vika_lints_clean_through_console_command():
    ivr = Path(sys.executable).with_name("ivr")
    r = subprocess.run([str(ivr), "lint", "menus/vika.yaml"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.fullmatch(r"1 file, \d+ nodes: 0 errors, 0 warnings\n", r.stdout)


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_good_trees_are_clean(path, capsys):
    rc, out = run_lint(capsys, str(path))
    assert rc == 0, "\n".join(out)
    assert out == [out[-1]] and "0 errors, 0 warnings" in out[-1]


def test_missing_file_is_a_usage_error(capsys):
    rc = main(["lint", "no/such/tree.yaml"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip() == "ivr: error: no/such/tree.yaml: no such file"


def test_warnings_fail_unless_allowed(capsys):
    path = str(TREES / "broken" / "unreachable.yaml")
    assert main(["lint", path]) == 1
    assert main(["lint", "--allow-warnings", path]) == 0
    assert main(["lint", "--allow-warnings", str(TREES / "broken" / "global_key_clash.yaml")]) == 1
    capsys.readouterr()


def test_json_output(capsys):
    rc = main(["lint", "--json", str(TREES / "broken" / "dangling_goto.yaml"), str(TREES / "good" / "minimal.yaml")])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    bad, good = doc["files"]
    assert (bad["loaded"], bad["errors"], good["errors"], good["warnings"]) == (False, 1, 0, 0)
    p = bad["problems"][0]
    assert (p["line"], p["col"], p["severity"], p["code"]) == (14, 11, "error", "dangling")
    assert p["hint"] == "did you mean 'main'?"


# ---- files the loader must refuse cleanly (made here rather than committed) ------------------
def test_non_utf8_file(tmp_path, capsys):
    p = tmp_path / "latin1.yaml"
    p.write_bytes("version: 1\nstart: a\nnodes:\n  a: {type: hangup, prompt: 'Terima kasih, se\xf1or'}\n".encode("latin-1"))
    rc, out = run_lint(capsys, str(p))
    assert rc == 1
    assert out[0] == f"{p}:4:1: error: file is not UTF-8 text"


def test_binary_file(tmp_path, capsys):
    p = tmp_path / "tree.yaml"
    p.write_bytes(b"version: 1\n\x00\x01\x02\x03 binary")
    rc, out = run_lint(capsys, str(p))
    assert rc == 1
    assert out[0] == f"{p}:1:1: error: file is binary, not YAML"


def test_deep_nesting_is_refused_at_its_position(tmp_path, capsys):
    p = tmp_path / "deep.yaml"
    p.write_text("version: 1\nstart: a\nnodes: " + "[" * 10000 + "]" * 10000 + "\n")
    rc, out = run_lint(capsys, str(p))
    assert rc == 1
    assert out[0] == f"{p}:3:47: error: nesting deeper than 40 levels (a call tree needs fewer than 10)"


def _libyaml_with_nesting_limit(real_parse):
    """yaml.parse as newer libyaml builds behave: the scanner looks ahead and stops at its own
    nesting limit (level 1000) before any event reaches the caller."""
    def parse(text, Loader=None):
        if Loader is yaml.CSafeLoader and text.count("[") >= 1000:
            mark = yaml.Mark("<string>", 0, 2, 1006, None, None)
            raise yaml.scanner.ScannerError(None, None, "exceeded maximum nesting depth", mark)
        return real_parse(text, Loader=Loader)
    return parse


@pytest.mark.parametrize("libyaml", ["as installed", "absent", "with a nesting limit"])
def test_deep_nesting_error_is_ours_whatever_libyaml(tmp_path, capsys, monkeypatch, libyaml):
    if libyaml == "absent":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    elif libyaml == "with a nesting limit":
        if not getattr(yaml, "__with_libyaml__", False):
            pytest.fail("pyyaml is installed without libyaml: the lock pins a build with it")
        monkeypatch.setattr(yaml, "parse", _libyaml_with_nesting_limit(yaml.parse))
    p = tmp_path / "deep.yaml"
    p.write_text("version: 1\nstart: a\nnodes: " + "[" * 10000 + "]" * 10000 + "\n")
    rc, out = run_lint(capsys, str(p))
    assert rc == 1
    assert out[0] == f"{p}:3:47: error: nesting deeper than 40 levels (a call tree needs fewer than 10)"


def test_alias_bomb_is_cheap_to_refuse():
    import time
    import tracemalloc

    text = (TREES / "broken" / "alias_bomb.yaml").read_text()
    tracemalloc.start()
    t0 = time.perf_counter()
    from ivr.tree.loader import TreeLoadError
    with pytest.raises(TreeLoadError) as ei:
        load_tree_text(text, "bomb.yaml")
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "alias bomb" in str(ei.value)
    # 9**9 strings would be gigabytes; refusing must stay far below that (generous bounds)
    assert peak < 30e6, peak
    assert elapsed < 10, elapsed


# ---- the lint rules on small inline trees ---------------------------------------------------
HEAD = """version: 1
start: main
agent_node: agent
global_words: {back: [kembali], agent: [agen]}
nodes:
  agent: {type: transfer, queue: informasi, prompt: "Mohon tunggu."}
  bye: {type: hangup, prompt: "Terima kasih."}
"""


def findings(body: str, head: str = HEAD) -> list[tuple[int, str, str, str]]:
    tree = load_tree_text(head + body, "t.yaml")
    return [(e.pos.line, e.severity, e.code, e.message) for e in lint(tree)]


def test_option_key_on_a_disabled_global_is_fine():
    body = """  main:
    type: menu
    prompt: "Tekan 0 untuk selesai."
    globals: [back, repeat]
    options: {"0": {goto: bye}}
"""
    assert findings(body) == []


def test_back_key_clash_and_repeat_clash():
    body = """  main:
    type: menu
    prompt: "Pilih."
    options:
      "*": {goto: bye}
      "#": {goto: agent}
"""
    got = findings(body)
    assert [(line, sev, msg) for line, sev, _, msg in got] == [
        (12, "error", "key '*' clashes with global key back"),
        (13, "error", "key '#' clashes with global key repeat"),
    ]


def test_digit_global_key_in_a_collect_is_not_a_clash():
    body = """  main:
    type: collect
    var: nik
    max_length: 16
    prompt: "Masukkan NIK."
    next: bye
"""
    assert findings(body) == []


def test_digit_terminator_is_an_error():
    body = """  main:
    type: collect
    var: kode
    max_length: 5
    terminator: "5"
    prompt: "Masukkan kode."
    next: bye
"""
    assert [(f[0], f[1], f[2]) for f in findings(body)] == [(12, "error", "terminator")]


COLLECT_DIALOGUE = """  main:
    type: collect
    var: nik
    min_length: {length}
    max_length: {length}
    confirm_below: 1
    groups: {groups}
    prompt: "Sebutkan nomor Anda."
    prompts: {{readback: "{readback}"}}
    next: bye
"""


@pytest.mark.parametrize("length, groups", [(16, 4), (8, 4), (13, 4), (16, 16), (16, 0)])
def test_collect_groups_that_fit_are_fine(length, groups):
    """The engine takes min(groups, digits missing): a shorter last group (13 in fours) works."""
    body = COLLECT_DIALOGUE.format(length=length, groups=groups, readback="{angka}. Benar?")
    assert findings(body) == []


def test_collect_groups_longer_than_the_number_is_a_warning():
    body = COLLECT_DIALOGUE.format(length=8, groups=16, readback="{angka}. Benar?")
    assert findings(body) == [(14, "warning", "groups", "node 'main': groups 16 is more than max_length 8")]


def test_readback_without_angka_is_a_warning():
    body = COLLECT_DIALOGUE.format(length=16, groups=4, readback="Apakah nomor Anda benar?")
    assert findings(body) == [(16, "warning", "readback", "node 'main': prompt 'readback' does not say {angka}")]
    # from the tree defaults: reported where the default is written, once per collect using it
    head = HEAD.replace("nodes:\n", 'defaults: {prompts: {readback: "Benar?"}}\nnodes:\n')
    body = COLLECT_DIALOGUE.replace("    prompts: {{readback: \"{readback}\"}}\n", "").format(length=16, groups=4)
    assert findings(body, head) == [(5, "warning", "readback", "node 'main': prompt 'readback' does not say {angka}")]
    # never read back (no confirm_below): the prompt is never played, nothing to report
    body = COLLECT_DIALOGUE.replace("confirm_below: 1", "confirm_below: 0").format(
        length=16, groups=4, readback="Benar?")
    assert findings(body) == []


def test_loop_left_by_hangup_on_exceeded_or_back_is_fine():
    # on_exceeded defaults to hangup: a way out
    body = """  main:
    type: menu
    prompt: "Pilih."
    globals: []
    options: {"1": {goto: main2}}
  main2:
    type: menu
    prompt: "Pilih lagi."
    globals: []
    options: {"1": {goto: main}}
"""
    head = HEAD.replace('  bye: {type: hangup, prompt: "Terima kasih."}\n', "")
    assert findings(body, head) == []
    stuck = body.replace("globals: []", "globals: []\n    on_exceeded: {goto: main}")
    assert [(f[0], f[2], f[3]) for f in findings(stuck, head)] == [
        (7, "loop", "loop with no way out: main -> main2 -> main")]
    # on_exceeded inside the loop, but the back key returns to the menu before it
    body = """  main:
    type: menu
    prompt: "Pilih."
    options: {"1": {goto: sub}, "9": {goto: bye}}
  sub:
    type: menu
    prompt: "Pilih lagi."
    globals: [back]
    on_exceeded: {goto: sub}
    options: {"1": {goto: sub}}
"""
    assert findings(body) == []
    # ... and without back, the caller is stuck
    got = findings(body.replace("globals: [back]", "globals: [repeat]"))
    assert [(f[0], f[2]) for f in got] == [(12, "loop")]


def test_service_loop_that_may_end_is_a_warning():
    body = """  main:
    type: say
    prompt: "Mencoba."
    next: svc
  svc:
    type: service
    service: cek_peserta
    args: {nik: "1", tgl_lahir: "1"}
    branches: {aktif: bye, error: main}
    default: main
"""
    got = findings(body)
    assert [(f[1], f[2]) for f in got] == [("warning", "loop")]
    assert "main -> svc -> main never waits" in got[0][3]


def test_service_outcomes_checked_against_known_services():
    body = """  main:
    type: service
    service: cek_peserta
    args: {nik: "1", tgl_lahir: "1"}
    branches: {aktif: bye, lunas: bye}
"""
    got = findings(body)
    msgs = [f[3] for f in got]
    assert any("never returns outcome 'lunas'" in m for m in msgs)
    assert any("outcome(s) menunggak, nonaktif, tidak_ditemukan, tgl_lahir_salah, error have no branch" in m for m in msgs)


def test_variables_from_validators_engine_and_tree_are_known():
    head = HEAD.replace("nodes:", "variables: {kota: Jakarta}\nnodes:")
    body = """  main:
    type: collect
    var: lahir
    min_length: 8
    max_length: 8
    validator: date
    prompt: "Masukkan tanggal lahir, {kota}."
    next: said
  said:
    type: say
    prompt: "Tanggal {tanggal}, antrean {antrean}, kode {kode_pos}."
    next: bye
"""
    got = findings(body, head)
    assert [(f[0], f[3]) for f in got] == [(19, "variable '{kode_pos}' is never set")]


def test_unknown_service_silences_variable_check_but_is_reported():
    body = """  main:
    type: service
    service: cuaca
    branches: {ok: said}
    default: bye
  said: {type: say, prompt: "Cuaca {cuaca}.", next: bye}
"""
    got = findings(body)
    assert [(f[1], f[2]) for f in got] == [("warning", "service")]


def test_unreachable_includes_whole_islands_but_not_agent_side():
    body = """  main:
    type: menu
    prompt: "Pilih."
    options: {"9": {goto: bye}}
  island_a: {type: say, prompt: "A.", next: island_b}
  island_b: {type: say, prompt: "B.", next: bye}
"""
    got = findings(body)
    assert [(f[1], f[3]) for f in got] == [("warning", "node 'island_a' is unreachable"),
                                           ("warning", "node 'island_b' is unreachable")]


def test_whitespace_prompts():
    body = """  main:
    type: menu
    prompts: {greet_long: "Pilih.", invalid: "  "}
    options: {"9": {goto: bye}}
  quiet: {type: say, prompt: " ", next: bye}
"""
    got = findings(body.replace('next: bye}', 'next: bye}\n') + '  x: {type: hangup}\n')
    msgs = [(f[1], f[3]) for f in got if f[2] == "empty-prompt"]
    assert ("error", "node 'main': prompt 'invalid' is empty") in msgs
    assert ("error", "node 'quiet' (say) has an empty prompt") in msgs
    assert ("warning", "node 'x' (hangup) has no prompt") in msgs


def test_lint_file_reports_loader_errors_as_problems():
    r = lint_file(TREES / "broken" / "unknown_key.yaml")
    assert not r.loaded and r.errors == 1 and r.problems[0].code == "unknown-key"


def test_directory_lints_every_tree_in_it(capsys, tmp_path):
    rc, out = run_lint(capsys, str(TREES))
    assert rc == 1
    warnings = sum(1 for p in BROKEN if expectation(p)[2] == "warning")
    files = len(BROKEN) + len(GOOD)
    assert f"{files} files" in out[-1]
    assert f"{len(BROKEN) - warnings} errors, {warnings} warnings" in out[-1]
    assert main(["lint", str(tmp_path)]) == 2
    assert "no .yaml files" in capsys.readouterr().err
