"""`ivr schema`: the published JSON Schema accepts the real tree and rejects broken ones, so
an editor using it flags the same mistakes the loader does."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from ivr.cli import main
from ivr.tree.schema import json_schema

REPO = Path(__file__).resolve().parents[1]
TREES = Path(__file__).parent / "trees"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_is_valid_draft_2020_12(validator):
    assert validator.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", [REPO / "menus" / "vika.yaml", *sorted((TREES / "good").glob("*.yaml"))],
                         ids=lambda p: p.name)
def test_real_trees_validate(validator, path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]
    assert errors == []


# (broken tree, the JSON path the schema must complain about)
SCHEMA_CATCHES = {
    "unknown_key": "$.nodes.welcome",
    "wrong_type": "$.nodes.ask_nik",
    "bad_dtmf_key": "$.nodes.main",
    "missing_required": "$.nodes.ask_nik",
    "negative_timeout": "$.nodes.main",
    "unknown_node_type": "$.nodes.bye",
    "unknown_validator": "$.nodes.ask_nik",
}


@pytest.mark.parametrize("name", sorted(SCHEMA_CATCHES))
def test_broken_trees_are_rejected(validator, name):
    data = yaml.safe_load((TREES / "broken" / f"{name}.yaml").read_text(encoding="utf-8"))
    errors = list(validator.iter_errors(data))
    assert errors, f"{name} should not validate"
    assert {e.json_path for e in errors} == {SCHEMA_CATCHES[name]}


def test_schema_rejects_wrong_top_level(validator):
    assert not validator.is_valid({"version": 1, "start": "a"})  # no nodes
    assert not validator.is_valid({"version": 1, "start": "a", "nodes": {}})  # empty nodes
    ok = {"version": 1, "start": "a", "nodes": {"a": {"type": "hangup", "prompt": "x"}}}
    assert validator.is_valid(ok)
    assert not validator.is_valid({**ok, "defaults": {"on_exceeded": "transfer"}})
    assert validator.is_valid({**ok, "defaults": {"on_exceeded": {"goto": "a"}}})


def test_schema_command_prints_the_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema()


def test_schema_command_writes_a_file(tmp_path, capsys):
    out = tmp_path / "ivr-tree.schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json_schema()
    assert main(["schema", "-o", str(tmp_path / "missing" / "x.json")]) == 2
    assert "x.json" in capsys.readouterr().err
