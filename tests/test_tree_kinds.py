"""A node kind is defined once (issue 11 item 1).

The `confirm` kind below (yes/no: key 1 or "ya" goes to `yes`, key 2 or "tidak" to `no`) is
added from this test alone, through the public registration APIs: one `KindSpec` entry
(ivr.tree.kinds.register_kind) and one engine handler (ivr.engine.handlers.register_handler).
The loader, the JSON Schema, lint, the edge list, the diagram, the listen grammar and the
engine then all know it, with no other file touched.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest

from ivr.engine.events import Digit, EndCall, EnterNode, Listen, Play, PromptDone, Speech, Tick
from ivr.engine.handlers import HANDLERS, KindHandler, register_handler, unregister_handler
from ivr.engine.session import CallSession
from ivr.grammar import RecognitionResult
from ivr.tree.graph import build
from ivr.tree.kinds import KINDS, register_kind, unregister_kind
from ivr.tree.lint import edges, lint
from ivr.tree.loader import TreeLoadError, load_tree_text
from ivr.tree.model import Option
from ivr.tree.schema import json_schema
from ivr.tree.spec import LISTEN_PROMPTS, KindSpec, fld


# ---- the whole `confirm` kind: one spec entry ... ---------------------------------------------
@dataclass(frozen=True)
class ConfirmData:
    yes: str | None = fld("node", "Node after yes (key 1, or 'ya').", required=True, option_target=True)
    no: str | None = fld("node", "Node after no (key 2, or 'tidak').", required=True, option_target=True)
    var: str = fld("var", "Variable set to 'ya' or 'tidak'.", "")


CONFIRM = KindSpec(
    "confirm", ConfirmData, "A yes/no question.", input="choice", prompts=LISTEN_PROMPTS,
    options=lambda d: (Option("1", d.yes, ("ya",), "ya"), Option("2", d.no, ("tidak",), "tidak")),
    missing_greet=("error", "has no greet_long prompt", "the caller would not know what to answer"),
    style={"shape": "diamond", "style": "filled", "fillcolor": "#e0e7ff"},
)


# ---- ... plus one engine handler ----------------------------------------------------------------
class ConfirmHandler(KindHandler):
    """Like a menu (the options come from the spec), and the answer is kept in `var`."""

    def choice(self, s, node, token, out):
        answer = {"1": "ya", "2": "tidak"}.get(token)
        if answer and node.data.var:
            s.vars[node.data.var] = answer
        s.choose(node, token, out)

    def key(self, s, node, key, at, out):
        self.choice(s, node, key, out)


@pytest.fixture()
def confirm_kind():
    register_kind(CONFIRM)
    register_handler("confirm", ConfirmHandler())
    yield
    unregister_kind("confirm")
    unregister_handler("confirm")


TREE = textwrap.dedent("""
    version: 1
    start: tanya
    global_keys: {agent: null}
    defaults:
      prompts: {invalid: "Salah.", nomatch: "Tidak dikenali.", timeout: "Tidak ada jawaban.", exit: "Batas."}
    nodes:
      tanya:
        type: confirm
        prompt: "Apakah data Anda benar? Tekan 1 atau ucapkan ya, tekan 2 atau ucapkan tidak."
        var: jawaban
        yes: benar
        no: salah
        on_exceeded: {goto: salah}
      benar: {type: hangup, prompt: "Terima kasih, jawaban {jawaban}."}
      salah: {type: hangup, prompt: "Silakan hubungi kami kembali."}
""")


def _call(tree, *events):
    s = CallSession(tree)
    acts = s.start(0.0)
    for ev in events:
        acts += s.handle(ev)
    return s, acts


def test_the_engine_runs_a_registered_kind_by_key_and_by_word(confirm_kind):
    tree = load_tree_text(TREE, "t.yaml")
    s, acts = _call(tree, PromptDone(at=5.0), Digit("1", at=6.0))
    assert EnterNode("tanya", "confirm") in acts and s.stats.path == ["tanya", "benar"]
    assert s.stats.outcome == "hangup" and s.vars["jawaban"] == "ya"
    assert acts[-2] == Play("Terima kasih, jawaban ya.", "benar", "greet_long", True)

    g = tree.grammar_for("tanya")
    assert g.phrases()["tidak"] == "2" and g.phrases()["ya"] == "1"
    heard = RecognitionResult("tidak", choice=g.phrases()["tidak"], confidence=0.9, nomatch=False)
    s, _ = _call(tree, PromptDone(at=5.0), Speech(heard, at=6.0))
    assert s.stats.path == ["tanya", "salah"] and s.vars["jawaban"] == "tidak"


def test_a_registered_kind_listens_with_the_common_input_rules(confirm_kind):
    tree = load_tree_text(TREE, "t.yaml")
    s, acts = _call(tree, PromptDone(at=5.0), Digit("7", at=6.0))
    assert [a.prompt for a in acts if isinstance(a, Play)][-2:] == ["invalid", "greet_short"]
    assert isinstance(acts[-1], Listen) and acts[-1].retries_left == 2 and not s.ended
    # three timeouts: on_exceeded goes to `salah`
    s, acts = _call(tree, PromptDone(at=5.0), Tick(at=15.0), PromptDone(at=16.0), PromptDone(at=17.0),
                    Tick(at=27.0), PromptDone(at=28.0), PromptDone(at=29.0), Tick(at=39.0))
    assert s.stats.path == ["tanya", "salah"] and acts[-1] == EndCall("hangup", "salah")


def test_loader_schema_lint_edges_and_diagram_know_the_kind(confirm_kind):
    with pytest.raises(TreeLoadError) as exc:
        load_tree_text(TREE.replace("no: salah", "tidak: salah"), "t.yaml")
    msgs = [e.message for e in exc.value.errors]
    assert "unknown key 'tidak' in node 'tanya' (confirm)" in msgs
    assert "node 'tanya' (confirm) is missing required key 'no'" in msgs
    with pytest.raises(TreeLoadError) as exc:
        load_tree_text(TREE.replace("no: salah", "no: slah"), "t.yaml")
    assert str(exc.value).startswith("t.yaml:13:9: error: node 'tanya' goes to unknown node 'slah'")

    tree = load_tree_text(TREE, "t.yaml")
    assert lint(tree) == []   # both answers' targets are reachable through the kind's edges
    assert edges(tree)["tanya"] == [("benar", "option 1"), ("salah", "option 2"), ("salah", "on_exceeded")]
    no_prompt = lint(load_tree_text(TREE.replace('    prompt: "Apakah', '    description: "Apakah'), "t.yaml"))
    assert [(p.severity, p.message) for p in no_prompt] == [("error", "node 'tanya' (confirm) has no greet_long prompt")]

    src = build(tree).source
    assert "shape=diamond" in src and 'tanya -> benar [label="1 ya"]' in src

    variant = next(v for v in json_schema()["$defs"]["node"]["oneOf"] if v["properties"]["type"]["const"] == "confirm")
    assert variant["required"] == ["type", "yes", "no"] and "on_exceeded" in variant["properties"]


def test_a_kind_without_an_engine_handler_is_a_clear_error(confirm_kind):
    tree = load_tree_text(TREE, "t.yaml")
    unregister_handler("confirm")
    with pytest.raises(LookupError, match="no handler for node kind 'confirm'"):
        CallSession(tree).start(0.0)


def test_the_registry_is_back_to_the_built_in_kinds_without_the_fixture():
    assert list(KINDS) == ["menu", "collect", "say", "service", "transfer", "hangup"]
    assert set(HANDLERS) == set(KINDS)
    with pytest.raises(TreeLoadError, match="'confirm' is not allowed"):
        load_tree_text(TREE, "t.yaml")
    with pytest.raises(ValueError, match="already registered"):
        register_kind(KINDS["menu"])


def test_a_collect_default_is_written_once():
    # model.py said max_length=1 and loader.py 16; now the kind's dataclass says it, once
    tree = load_tree_text(textwrap.dedent("""
        version: 1
        start: c
        global_keys: {agent: null}
        nodes:
          c: {type: collect, prompt: "Nomor?", var: nomor, next: b}
          b: {type: hangup, prompt: "Ok."}
    """), "t.yaml")
    c = tree.nodes["c"]
    assert (c.data.min_length, c.data.max_length, c.data.terminator, c.data.validator) == (1, 16, "#", "none")
    assert tree.grammar_for("c").max_digits == 16
