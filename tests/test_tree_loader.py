"""Loader behaviour found by the lint/fuzz work: YAML integer forms, no cascades from a broken
node, syntax-error hints, and the two composer paths (libyaml and pure Python) agreeing."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from ivr.tree import loader as loader_mod
from ivr.tree.loader import TreeLoadError, load_tree, load_tree_text
from ivr.yamlsafe import compose

REPO = Path(__file__).resolve().parents[1]
HEAD = "version: 1\nstart: a\nagent_node: a\nnodes:\n"


def errors(text: str) -> list[str]:
    with pytest.raises(TreeLoadError) as ei:
        load_tree_text(text, "t.yaml")
    return [str(e) for e in ei.value.errors]


@pytest.mark.parametrize("raw, value", [("0x4", 4), ("04", 4), ("1_0", 10), ("0b11", 3), ("+3", 3)])
def test_yaml_integer_forms(raw, value):
    tree = load_tree_text(HEAD + f"  a: {{type: menu, prompt: x, max_failures: {raw}, options: {{'1': {{goto: a}}}}}}\n")
    assert tree.nodes["a"].max_failures == value


def test_sexagesimal_integer_is_an_error_not_a_crash():
    # YAML 1.1 reads 1:20 as 80; as a version it is simply unsupported
    assert errors("version: 1:20\nstart: a\nnodes:\n  a: {type: hangup, prompt: x}\n") == [
        "t.yaml:1:10: error: unsupported version 80 (this ivr reads version 1)"]


def test_broken_node_does_not_make_gotos_to_it_dangle():
    text = HEAD + "  a: {type: say, prompt: x, next: b}\n  b: {type: hangpu, prompt: y}\n"
    assert errors(text) == ["t.yaml:6:13: error: node 'b': type: 'hangpu' is not allowed (did you mean 'hangup'?)"]


def test_dangling_goto_in_a_tree_without_nodes_has_no_empty_hint():
    assert errors("version: 1\nstart: b\nnodes:\n  a: [1]\n") == [
        "t.yaml:2:8: error: start goes to unknown node 'b'",
        "t.yaml:4:6: error: node 'a' must be a mapping (key: value), got a list",
    ]


def test_enum_type_error_reads_well():
    assert "type must be one word (a name), got a list" in errors(HEAD + "  a: {type: [menu]}\n")[-1]


def test_unclosed_quote_hint_points_at_the_opening_line():
    text = HEAD + '  a:\n    type: hangup\n    prompt: "Terima kasih\n  b:\n    type: hangup\n    prompt: "x"\n'
    (msg,) = errors(text)
    assert msg.startswith("t.yaml:10:") and "quote opened on line 7" in msg


def test_python_composer_path_matches_libyaml(monkeypatch):
    text = (REPO / "menus" / "vika.yaml").read_text(encoding="utf-8")
    fast = load_tree_text(text, "v.yaml")
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    slow = load_tree_text(text, "v.yaml")
    assert slow == fast
    assert [n.pos for n in slow.nodes.values()] == [n.pos for n in fast.nodes.values()]
    assert [n.key_pos for n in slow.nodes.values()] == [n.key_pos for n in fast.nodes.values()]
    # and it refuses deep nesting at the same place
    deep = "version: 1\nstart: a\nnodes: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(TreeLoadError) as ei:
        load_tree_text(deep, "d.yaml")
    assert str(ei.value) == "d.yaml:3:47: error: nesting deeper than 40 levels (a call tree needs fewer than 10)"


NESTED = HEAD + "  a:\n    type: menu\n    prompt: x\n    options:\n      '1': {goto: a, say: [satu]}\n"


def test_one_nesting_limit_for_call_trees(monkeypatch):
    """TREE_LIMITS.max_depth is the one number: yamlsafe refuses a deeper document with it,
    and the loader's own walk (a backstop) checks the same one, both at file:line:col."""
    assert not hasattr(loader_mod, "MAX_DEPTH") and not hasattr(loader_mod, "MAX_COMPOSE_DEPTH")
    load_tree_text(NESTED, "t.yaml")   # 6 levels: fine under the real limit
    monkeypatch.setattr(loader_mod, "TREE_LIMITS", dataclasses.replace(loader_mod.TREE_LIMITS, max_depth=4))
    assert errors(NESTED) == ["t.yaml:9:12: error: nesting deeper than 4 levels (a call tree needs fewer than 10)"]
    # the walk reads the same limit when the YAML reader lets a document through
    monkeypatch.setattr(loader_mod, "compose_yaml", lambda text, path, limits: compose(text, path))
    monkeypatch.setattr(loader_mod, "TREE_LIMITS", dataclasses.replace(loader_mod.TREE_LIMITS, max_depth=3))
    assert errors(NESTED) == ["t.yaml:9:7: error: nesting deeper than 3 levels (a call tree needs fewer than 10)"]


def test_expansion_check_spares_normal_aliases():
    # a few shared option maps are fine; the budget is for bombs
    text = HEAD + "  a: {type: menu, prompt: x, options: &o {'1': {goto: a}, '2': {goto: b}}}\n" \
                  "  b: {type: menu, prompt: y, options: *o}\n"
    tree = load_tree_text(text)
    assert [o.goto for o in tree.nodes["b"].data.options] == ["a", "b"]
    assert loader_mod.MAX_NODE_VISITS >= 100_000


def test_prompt_and_top_level_positions_are_kept():
    tree = load_tree(REPO / "menus" / "vika.yaml")
    assert tree.key_pos["start"].line > 1
    assert "defaults.prompts.invalid" in tree.key_pos
    n = tree.nodes["status_cek"]
    assert n.key_pos["args.nik"].line == n.key_pos["args"].line
