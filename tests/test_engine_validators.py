"""The collect validators: one table, the call's date injected, no JKN import in the engine."""
from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import re
import textwrap
from pathlib import Path

from ivr.engine.events import Digit, EnterNode, PromptDone
from ivr.engine.session import CallSession
from ivr.engine.validators import REASON_VAR, VALIDATOR_NAMES, VALIDATORS, validate
from ivr.tree import model
from ivr.tree.loader import load_tree_text

TODAY = dt.date(2026, 11, 23)

TREE = textwrap.dedent("""
    version: 1
    start: dob
    global_keys: {agent: null}
    nodes:
      dob:
        type: collect
        var: tgl
        min_length: 8
        max_length: 8
        validator: date
        prompts: {greet_long: "Tanggal lahir.", invalid: "Tidak valid."}
        next: bye
      bye: {type: hangup, prompt: "Terima kasih."}
""")


def _type(call: CallSession, digits: str) -> list:
    acts = call.start(at=0.0)
    acts += call.handle(PromptDone(at=1.0))
    for i, d in enumerate(digits):
        acts += call.handle(Digit(d, at=2.0 + i * 0.1))
    return acts


def test_a_birth_date_after_the_calls_date_is_refused_while_typing():
    tree = load_tree_text(TREE)
    refused = _type(CallSession(tree, today=TODAY), "24112026")
    assert EnterNode("bye", "hangup") not in refused and any("Tidak valid." in str(a) for a in refused)
    accepted = _type(CallSession(tree, today=dt.date(2026, 11, 24)), "24112026")
    assert EnterNode("bye", "hangup") in accepted


def test_validators_take_the_date_they_are_given():
    assert not validate("date", "24112026", TODAY)[0]
    assert validate("date", "23112026", TODAY) == (True, {"tanggal": "2026-11-23"})
    assert validate("date", "24112026")[0]             # no date: only the calendar is checked
    assert not validate("phone", "0712345678")[0] and validate("phone", "081234567890")[0]
    assert not validate("kelas", "4")[0] and validate("kelas", "3")[0]
    assert not validate("npwp", "1234")[0] and validate("npwp", "012345678901000")[0]


def test_one_table_of_validator_names():
    assert model.VALIDATORS == VALIDATOR_NAMES == tuple(VALIDATORS)
    assert VALIDATORS["date"].sets == ("tanggal", REASON_VAR)


def test_a_refused_identifier_says_why():
    """The rule's Indonesian reason reaches the invalid prompt as {alasan_tidak_valid}."""
    assert validate("nik", "2074054508900002") == (False, {REASON_VAR: "kode provinsi 20 tidak dikenal"})
    assert validate("pilihan_1_4", "7")[0] is False and "7 tidak tersedia" in validate("pilihan_1_4", "7")[1][REASON_VAR]
    assert validate("pilihan_1_4", "4") == (True, {})


#: Packages the engine must not import (it is pure: events in, actions out; no I/O, no clock).
ENGINE_FORBIDDEN = ("drivers", "cli", "speech", "queue", "jkn", "dsp", "scenario", "sip")
CLOCK_CALLS = {("date", "today"), ("datetime", "now"), ("datetime", "today"), ("datetime", "utcnow"),
               ("time", "time"), ("time", "monotonic"), ("time", "perf_counter")}


def engine_violations(root: Path) -> list[str]:
    """Every import of a forbidden package (module level or inside a function) and every
    clock read in the .py files under `root`, as 'file:line: what'."""
    out = []
    for f in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"), str(f))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = "ivr.engine" if node.level else (node.module or "")   # relative: inside the engine
                names = [base] + [f"{base}.{a.name}" for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "ivr" and len(parts) > 1 and parts[1] in ENGINE_FORBIDDEN:
                    out.append(f"{f.name}:{node.lineno}: imports {name}")
                    break   # once per import statement
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                if (owner_name, node.func.attr) in CLOCK_CALLS:
                    out.append(f"{f.name}:{node.lineno}: calls {owner_name}.{node.func.attr}()")
    return out


def test_the_engine_imports_no_io_package_and_reads_no_clock():
    engine = Path(__file__).resolve().parents[1] / "ivr" / "engine"
    assert engine_violations(engine) == []
    rules = (engine.parent / "rules" / "identifiers.py").read_text(encoding="utf-8")
    assert "date.today()" not in rules and "import ivr" not in rules and "from ivr" not in rules


def test_the_engine_purity_check_finds_what_it_looks_for(tmp_path):
    (tmp_path / "bad.py").write_text(textwrap.dedent("""
        import datetime as dt
        import time
        from ivr.engine.events import Play
        from ivr import jkn

        def f():
            from ivr.drivers.runtime import CallRuntime
            import ivr.speech.tts
            return dt.date.today(), dt.datetime.now(), time.time()
    """), encoding="utf-8")
    assert engine_violations(tmp_path) == [
        "bad.py:5: imports ivr.jkn", "bad.py:8: imports ivr.drivers.runtime", "bad.py:9: imports ivr.speech.tts",
        "bad.py:10: calls date.today()", "bad.py:10: calls datetime.now()", "bad.py:10: calls time.time()"]


def test_grammar_is_a_leaf_the_tree_and_the_engine_share():
    # issue 11: engine -> tree.model -> engine.grammar was a cycle hidden by a lazy import
    root = Path(__file__).resolve().parents[1] / "ivr"
    tree_model = ast.parse((root / "tree" / "model.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree_model) if isinstance(n, ast.ImportFrom)}
    assert "ivr.grammar" in imported and "ivr.engine.grammar" not in imported
    grammar = ast.parse((root / "grammar.py").read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(grammar) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("ivr")]
    # one home: the old ivr.engine.grammar re-export is gone, so nothing can import a twin
    assert importlib.util.find_spec("ivr.engine.grammar") is None
