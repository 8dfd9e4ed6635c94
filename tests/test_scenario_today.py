"""A scenario file's `today:` follows the rule `--today` follows (ivr.calldate): a
YYYY-MM-DD date in years 1900-2999. `today: 9999-12-31` was taken, and the scenario's agent
requests then went quietly down the 'gangguan' (outage) branch (the billing code ran past the
calendar) where `--today 9999-12-31` is refused."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ivr.calldate import CallDateError, parse_call_date
from ivr.cli import main, parse_today
from ivr.errors import CliError
from ivr.scenario.runner import ScenarioError, load_scenarios

REPO = Path(__file__).resolve().parents[1]
VIKA = REPO / "menus" / "vika.yaml"

# kasus 1 of tests/scenarios/vika/kasus_layanan.yaml: a registration through the agent
# (services on the call's date: the new card's first payment is due a month after `today`)
AGENT_REGISTRATION = """\
scenarios:
  - name: pendaftaran lewat agen
    steps:
      - keys: "3"
      - keys: "1"
      - keys: "1"
      - keys: "3174010101900001#"
      - keys: "01011990"
      - keys: "2"
        expect:
          visited: agen_daftar_selesai
          prompt: ["Nomor kartu JKN peserta baru", "paling lambat 23 Desember 2026"]
          not_prompt: ["gangguan"]
    end: {outcome: hangup, end_node: agen_penutup}
"""


def _file(tmp_path: Path, today: str, body: str = AGENT_REGISTRATION) -> Path:
    f = tmp_path / "s.yaml"
    f.write_text(f"tree: {VIKA}\ntoday: {today}\n{body}", encoding="utf-8")
    return f


def _ivr_test(f: Path, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["test", str(f)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_a_scenario_dated_past_the_range_is_a_one_line_error_not_outage_routing(tmp_path, capsys):
    f = _file(tmp_path, "9999-12-31")
    rc, out, err = _ivr_test(f, capsys)
    assert rc == 2
    assert err.strip().splitlines() == [f"ivr: error: {f}:2: today: '9999-12-31' is out of range (years 1900-2999)"]
    assert "PASS" not in out and "FAIL" not in out   # refused when the file loads: no call ran


@pytest.mark.parametrize("value, message", [
    ('"2026-02-30"', "'2026-02-30' is not a date (expected YYYY-MM-DD)"),     # quoted: text, not a YAML date
    ("1899-12-31", "'1899-12-31' is out of range (years 1900-2999)"),
    ("20261123", "'20261123' is not a date (expected YYYY-MM-DD)"),          # fromisoformat alone took it
    ('"2026-W48-1"', "'2026-W48-1' is not a date (expected YYYY-MM-DD)"),
    ("2026-11-23 10:00:00", "'2026-11-23 10:00:00' is not a date (expected YYYY-MM-DD)"),   # a YAML date-time
    ('""', "'' is not a date (expected YYYY-MM-DD)"),
])
def test_an_impossible_or_malformed_today_names_file_line_and_what_was_expected(tmp_path, capsys, value, message):
    f = _file(tmp_path, value)
    rc, _, err = _ivr_test(f, capsys)
    assert rc == 2 and err.strip().splitlines() == [f"ivr: error: {f}:2: today: {message}"]


def test_a_scenarios_own_today_is_checked_at_its_line(tmp_path):
    f = _file(tmp_path, "2026-11-23", AGENT_REGISTRATION.replace(
        "    steps:\n", "    today: 3000-01-01\n    steps:\n", 1))
    with pytest.raises(ScenarioError) as info:
        load_scenarios(f, VIKA)
    assert str(info.value) == f"{f}:5: today: '3000-01-01' is out of range (years 1900-2999)"


def test_a_valid_today_still_runs_the_agent_request(tmp_path, capsys):
    f = _file(tmp_path, "2026-11-23")
    (sc,) = load_scenarios(f, VIKA)
    assert sc.today == dt.date(2026, 11, 23)
    rc, out, err = _ivr_test(f, capsys)
    assert rc == 0 and "PASS  pendaftaran lewat agen" in out and " 0 failed" in out, out + err
    edge = _file(tmp_path, "2999-12-31")   # the range's last day is a date the rules compute with
    assert load_scenarios(edge, VIKA)[0].today == dt.date(2999, 12, 31)


def test_no_today_is_the_machines_date(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(f"tree: {VIKA}\n{AGENT_REGISTRATION}", encoding="utf-8")
    assert load_scenarios(f, VIKA)[0].today == dt.date.today()


@pytest.mark.parametrize("value", ["9999-12-31", "2026-13-01", "kemarin", "0999-01-01", ""])
def test_today_option_and_scenario_key_say_the_same(tmp_path, value):
    """One rule, one wording: only the 'where' in front differs."""
    with pytest.raises(CliError) as cli:
        parse_today(value)
    with pytest.raises(ScenarioError) as scen:
        load_scenarios(_file(tmp_path, f'"{value}"'), VIKA)
    with pytest.raises(CallDateError) as rule:
        parse_call_date(value)
    assert str(cli.value) == f"--today: {rule.value}"
    assert str(scen.value) == f"{tmp_path / 's.yaml'}:2: today: {rule.value}"


def test_the_rule_takes_yaml_date_objects_and_keeps_errors_on_one_short_line():
    assert parse_call_date(dt.date(2026, 11, 23)) == dt.date(2026, 11, 23)
    assert parse_call_date("2026-11-23") == dt.date(2026, 11, 23)
    with pytest.raises(CallDateError, match=r"^'1000-01-01' is out of range"):
        parse_call_date(dt.date(1000, 1, 1))
    with pytest.raises(CallDateError) as info:
        parse_call_date("2026-11-23\n" + "x" * 200)
    assert "\n" not in str(info.value) and len(str(info.value)) < 90
    assert parse_today(None, default=dt.date(2026, 11, 23)) == dt.date(2026, 11, 23)
