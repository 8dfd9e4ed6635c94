"""The collect validators: one table, the call's date injected, no JKN import in the engine."""
from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path

from ivr.engine.events import Digit, EnterNode, PromptDone
from ivr.engine.session import CallSession
from ivr.engine.validators import VALIDATOR_NAMES, VALIDATORS, validate
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
    assert VALIDATORS["date"].sets == ("tanggal",)


def test_the_engine_imports_no_jkn_and_reads_no_clock():
    engine = Path(__file__).resolve().parents[1] / "ivr" / "engine"
    for f in engine.glob("*.py"):
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"\bivr\.jkn\b", text), f.name
        assert "date.today()" not in text and "datetime.now()" not in text, f.name
    rules = (engine.parent / "rules" / "identifiers.py").read_text(encoding="utf-8")
    assert "date.today()" not in rules and "import ivr" not in rules and "from ivr" not in rules
