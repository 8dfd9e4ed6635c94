"""Issue 10 §5: inputs that used to give a traceback or a silent wrong answer -- each now a
clear one-line error (or a sensible result). The queue extremes are in test_queue_extremes,
the unquoted `#`/`*` keys in tests/trees/broken/ (commented_option, unquoted_hash_key,
unquoted_star_global) and below."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ivr.cli import main, version
from ivr.jkn.requests import RequestStore, make_ticket
from ivr.speech.verbalize import MAX_QUANTITY_DIGITS, quantity_words, verbalize
from ivr.tree.loader import TreeLoadError, load_tree_text

REPO = Path(__file__).resolve().parents[1]


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"ivr {version()}\n"
    assert version()[0].isdigit()


# ---- requests ------------------------------------------------------------------------------
@pytest.fixture()
def db(tmp_path) -> str:
    path = str(tmp_path / "jkn.sqlite")
    assert main(["participants", "generate", "--db", path]) == 0
    return path


def test_unknown_request_type_is_an_error_listing_the_known_ones(db, capsys):
    capsys.readouterr()
    assert main(["requests", "list", "--db", db, "--type", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unknown request type 'nope'; known: callback, ganti_alamat" in err and "perubahan_data" in err
    assert main(["requests", "list", "--db", db, "--type", "ganti_kelas"]) == 0   # a known one, none stored yet
    assert "Permintaan (0)" in capsys.readouterr().out


def test_tickets_stay_unique_across_days(db):
    day1 = dt.datetime(2026, 11, 23, 9, 0)
    day2 = dt.datetime(2026, 11, 24, 9, 0)
    with RequestStore(db) as store:
        tickets = [store.add("informasi", "selesai", {}, when) for when in (day1, day1, day2, day2, day1)]
    # the number after the date is the database's sequence: it does not restart on a new day
    assert tickets == ["165-261123-00001", "165-261123-00002", "165-261124-00003", "165-261124-00004",
                       "165-261123-00005"]
    assert len(set(t.rsplit("-", 1)[1] for t in tickets)) == len(tickets)
    assert make_ticket(day1, 123456) == "165-261123-123456"        # wider, still unique, past 99999


def test_requests_help_documents_the_ticket_format(capsys):
    with pytest.raises(SystemExit):
        main(["requests", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "165-YYMMDD-NNNNN" in out and "does not restart each day" in out


# ---- scenario files ------------------------------------------------------------------------
@pytest.mark.parametrize("expect, message", [
    ("{vars: [1, 2]}", "vars must be a mapping of variable: value"),
    ("{transfer: [informasi]}", "transfer must be a mapping"),
    ("{transfer: {fields: [nik]}}", "transfer fields must be a mapping"),
    ("{node: [a, b]}", "node must be one name"),
    ("{prompt: {a: 1}}", "prompt must be a text or a list of texts"),
])
def test_a_badly_shaped_expectation_is_a_file_line_error(tmp_path, capsys, expect, message):
    f = tmp_path / "s.yaml"
    f.write_text(f"tree: {REPO / 'menus' / 'vika.yaml'}\ntoday: 2026-11-23\nqueue: off\nscenarios:\n"
                 f"  - name: x\n    steps:\n      - keys: \"1\"\n        expect: {expect}\n", encoding="utf-8")
    assert main(["test", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ivr: error: {f}:8: {message}") and err.count("\n") == 1 and "Traceback" not in err


# ---- verbalizer ----------------------------------------------------------------------------
def test_absurdly_long_numbers_are_read_digit_by_digit(capsys):
    huge = "1" * 5000
    spoken = verbalize(f"Rp{huge}")
    assert spoken.startswith("satu satu satu satu, satu satu") and spoken.endswith("rupiah")
    assert spoken.count("satu") == 5000
    for text in (f"{huge}%", f"ke-{huge}", f"{huge}x3", f"Rp1.000,{'0' * 5000}", "Rp" + "1." + "000." * 2000 + "000"):
        assert verbalize(text)                                # no ValueError
    assert quantity_words("9" * MAX_QUANTITY_DIGITS).startswith("sembilan ratus sembilan puluh sembilan triliun")
    assert quantity_words("1" + "0" * MAX_QUANTITY_DIGITS) == "satu nol nol nol, " + ", ".join(["nol nol nol nol"] * 3)
    assert main(["tts", "verbalize", f"Rp{huge}"]) == 0
    assert capsys.readouterr().out.startswith("satu satu")


# ---- unquoted * and # in a tree ------------------------------------------------------------
TREE = """version: 1
start: m
agent_node: m
global_keys:
  back: "*"
  agent: "0"
  repeat: {repeat}
nodes:
  m:
    type: menu
    prompt: "Tekan 1 untuk selesai, pagar untuk mengulang."
    options:
      "1": {{goto: bye}}
  c:
    type: collect
    var: x
    terminator: {terminator}
    prompt: "Masukkan angka."
    next: bye
  bye:
    type: hangup
    prompt: "Terima kasih."
"""


@pytest.mark.parametrize("repeat, terminator, where", [
    ("#", '"#"', "7:10: error: global_keys.repeat is empty"),
    ("", '"#"', "7:10: error: global_keys.repeat is empty"),
    ('"#"', "#", "17:16: error: node 'c': terminator is empty"),
])
def test_a_key_yaml_read_as_empty_is_reported_with_the_quote_hint(repeat, terminator, where):
    with pytest.raises(TreeLoadError) as exc:
        load_tree_text(TREE.format(repeat=repeat, terminator=terminator), "t.yaml")
    errors = [str(e) for e in exc.value.errors]
    assert len(errors) == 1 and errors[0].startswith(f"t.yaml:{where}"), errors
    assert "quote * and #" in errors[0] and "write null to turn a key off" in errors[0]


def test_a_key_turned_off_on_purpose_is_fine():
    tree = load_tree_text(TREE.format(repeat="null", terminator='"#"'), "t.yaml")
    assert tree.global_keys.repeat is None
    tree = load_tree_text(TREE.format(repeat="~", terminator='"#"'), "t.yaml")
    assert tree.global_keys.repeat is None


def test_vika_has_no_commented_out_option(repo):
    assert main(["lint", str(repo / "menus" / "vika.yaml")]) == 0
