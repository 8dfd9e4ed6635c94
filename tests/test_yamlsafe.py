"""The one hardened YAML reader (ivr.yamlsafe): the same limits and error shapes for call
trees, queue configs and scenarios, whatever libyaml is installed."""
from __future__ import annotations

import pytest
import yaml

from ivr.queue.config import QueueConfigError, parse_config
from ivr.tree.loader import TreeLoadError, load_tree_text
from ivr.yamlsafe import Limits, YamlError, compose, load_yaml

DEEP = "a: " + "[" * 10000 + "]" * 10000 + "\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))


@pytest.fixture(params=["libyaml", "pure python"])
def parser(request, monkeypatch):
    if request.param == "pure python":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    return request.param


def test_deep_nesting_stops_at_the_first_level_too_many(parser):
    with pytest.raises(YamlError) as ei:
        compose(DEEP, "d.yaml", Limits(max_depth=40))
    e = ei.value
    assert (e.line, e.col, e.message, e.code) == (1, 43, "nesting deeper than 40 levels", "budget")


def test_alias_bomb_is_refused_where_it_is(parser):
    with pytest.raises(YamlError) as ei:
        load_yaml(BOMB, "s.yaml")
    assert "alias bomb" in ei.value.message and ei.value.line == 6  # key f: 9**6 values


def test_formats_refuse_with_their_own_limits_and_error_types(parser):
    with pytest.raises(TreeLoadError) as te:
        load_tree_text("version: 1\n" + DEEP, "t.yaml")
    assert str(te.value) == "t.yaml:2:43: error: nesting deeper than 40 levels (a call tree needs fewer than 10)"
    with pytest.raises(QueueConfigError) as qe:
        parse_config("version: 1\n" + DEEP, "q.yaml")
    assert str(qe.value) == "q.yaml:2:15: nesting deeper than 12 levels"
    with pytest.raises(QueueConfigError) as qa:
        parse_config(BOMB, "q.yaml")
    assert "anchors and aliases" in str(qa.value)


def test_syntax_errors_carry_the_newcomers_hint(parser):
    with pytest.raises(YamlError) as ei:
        load_yaml("keys:\n  *: back\n", "s.yaml")
    assert ei.value.line == 2 and "quote keys like '*' and '#'" in ei.value.hint


def test_duplicate_keys_and_lines_in_plain_data():
    data = load_yaml("a: 1\nb:\n  c: 2\n", "s.yaml")
    assert data == {"a": 1, "b": {"c": 2}} and data["b"].line == 3
    with pytest.raises(YamlError, match="duplicate key 'a'"):
        load_yaml("a: 1\na: 2\n", "s.yaml")


def test_size_limit():
    with pytest.raises(YamlError) as ei:
        compose("a: " + "x" * 2000, "big.yaml", Limits(max_bytes=1024))
    assert ei.value.code == "size" and "larger than 1 KiB" in ei.value.message
