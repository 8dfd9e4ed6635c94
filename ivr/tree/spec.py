"""The call-tree format, described once: the vocabulary of fields and of node kinds.

A node kind is one `KindSpec` (registered in ivr.tree.kinds): the dataclass of its own fields
(each declared with `fld`: YAML type, doc, default, how its edge is drawn), whether and how it
listens, the prompts it speaks, its diagram style. The loader's validation, the published JSON
Schema (`ivr schema`, ivr.tree.schema), the edges lint and the diagram follow (`KindSpec.edges`),
the listen grammar (`KindSpec.grammar`) and the diagram are all derived from it, so they can
never disagree; the engine runs a kind with one handler (ivr.engine.handlers).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.grammar import Choice, Grammar
from ivr.tree.model import GLOBAL_ACTIONS, PROMPT_NAMES, Node, Option, Pos, Tree


@dataclass(frozen=True)
class F:
    """One field: `type` is one of str, int, number, bool, key, node, var, prompts, options,
    strmap, nodemap, strlist, exceeded, globalkeys, globalwords, defaults, enum.

    For a kind's own fields (declared with `fld`): `key` is the YAML key when it differs from
    the attribute name; `default_from` names the field whose value is the default; `edge` is
    how a `node` field's edge is drawn (label and Graphviz attributes); `after_agent` marks
    edges a call follows only once an agent answered (drawn apart); `option_target` marks a
    `node` field that is the target of one of the kind's fixed options (its edge is that
    option's, and points at this field's line)."""

    type: str
    doc: str
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: float | None = None
    key: str = ""
    default_from: str = ""
    edge: tuple[tuple[str, str], ...] = ()
    after_agent: bool = False
    option_target: bool = False


def fld(type: str, doc: str, default: Any = None, **spec: Any) -> Any:
    """A kind's field: a dataclass field whose metadata is its `F` (see `F` for `spec`)."""
    return field(default=default, metadata={"spec": F(type, doc, **spec)})


PROMPT_DOCS = {
    "greet_long": "Said the first time the node is entered.",
    "greet_short": "Said when the node is repeated (after an error, a repeat key, or coming back).",
    "invalid": "Said after a key that is not an option, or a collected value the validator rejects.",
    "nomatch": "Said when speech was not understood (out of grammar or low confidence). Defaults to `invalid`.",
    "timeout": "Said when the caller gives no input within `timeout` seconds.",
    "too_short": "Collect only: said when fewer than `min_length` digits were entered. Defaults to `invalid`.",
    "exit": "Said when max_failures or max_timeouts is reached, before `on_exceeded` applies.",
    "queue_position": "Transfer only: said on entering the agent queue; may use {posisi} and {waktu_tunggu}.",
    "queue_periodic": "Transfer only: said periodically while waiting; may use {posisi} and {waktu_tunggu}.",
    "queue_full": "Transfer only: said when the queue is full.",
    "readback": "Collect with `confirm_below`: reads a spoken number (or group) back, {angka}, and asks "
                "ya/benar (1) or tidak/salah (2). Defaults to '{angka}. Benar? ...'.",
    "reject": "Collect with `confirm_below`/`groups`: said when the caller rejects a read-back or says "
              "salah/ulangi after a group. Defaults to 'Baik, silakan ulangi.'.",
    "use_keys": "Collect with `keys_after`: said after that many rejected read-backs, offering the keypad. "
                "Defaults to 'Silakan tekan nomor Anda pada keypad, diakhiri tanda pagar.'.",
}

INPUT_FIELDS: dict[str, F] = {
    "timeout": F("number", "Seconds to wait for the first input after the prompt ends (default 10).", minimum=0.5),
    "inter_digit_timeout": F("number", "Seconds allowed between digits of a collect (default timeout/2).", minimum=0.1),
    "max_failures": F("int", "Invalid/no-match answers allowed before `on_exceeded` (default 3).", minimum=1),
    "max_timeouts": F("int", "Timeouts allowed before `on_exceeded` (default 3), counted apart from failures.", minimum=1),
    "on_exceeded": F("exceeded", "What happens when a limit is reached: `hangup` or `{goto: NODE}`."),
    "barge_in": F("bool", "May a key (or speech) interrupt the prompt? (default true)"),
}

#: Fields every node has besides `type` (whose values come from the registry of kinds).
COMMON_NODE_FIELDS: dict[str, F] = {
    "description": F("str", "Free text for designers; not spoken."),
    "prompt": F("str", "Shorthand for prompts.greet_long."),
    "prompts": F("prompts", "Prompts by name: " + ", ".join(PROMPT_NAMES) + "."),
}
GLOBALS_FIELD = F("strlist", "Which global keys work here (back, agent, repeat); default all.")
#: Prompts a node that listens speaks (plus `too_short` for digit input).
LISTEN_PROMPTS: tuple[str, ...] = ("greet_long", "greet_short", "invalid", "nomatch", "timeout", "exit")

GLOBAL_KEYS_FIELDS = {a: F("key", f"Key for `{a}` (null to disable).") for a in GLOBAL_ACTIONS}
GLOBAL_WORDS_FIELDS = {a: F("strlist", f"Spoken words for `{a}`.") for a in GLOBAL_ACTIONS}
OPTION_FIELDS = {
    "goto": F("node", "Node this option leads to.", required=True),
    "say": F("strlist", "Words or short phrases that choose this option by voice."),
    "label": F("str", "Short name shown in diagrams and transcripts."),
}

DEFAULTS_FIELDS: dict[str, F] = {
    **INPUT_FIELDS,
    "prompts": F("prompts", "Default prompts for every node (invalid, timeout, exit, ...)."),
    "min_confidence": F("number", "Speech results below this confidence are a no-match (default 0.5).", minimum=0),
    "max_call_seconds": F("number", "A call ends (outcome max-duration) this many seconds after it started, "
                                    "whatever the caller does (default 3600; `ivr call --max-call-seconds` overrides it).",
                          minimum=1),
}

TREE_FIELDS: dict[str, F] = {
    "version": F("int", "Format version; must be 1.", required=True),
    "name": F("str", "Name of the line."),
    "language": F("str", "Language of prompts and speech (default id)."),
    "start": F("node", "First node of a call.", required=True),
    "agent_node": F("node", "Where the global `agent` key goes."),
    "global_keys": F("globalkeys", "Keys that work everywhere: back (*), agent (0), repeat (#)."),
    "global_words": F("globalwords", "Spoken words for the global actions."),
    "defaults": F("defaults", "Defaults for every node."),
    "variables": F("strmap", "Constants usable in prompts as {name}."),
    "nodes": F("nodemap_nodes", "The nodes, by id.", required=True),
}


@dataclass(frozen=True)
class Edge:
    """One way a call can move on from a node: what lint walks and the diagram draws.

    `role` is option, field (a `node` field such as next), branch (a service outcome) or
    exceeded (max failures/timeouts reached); `why` names it in lint messages; `label` and
    `attrs` are how the diagram draws it; edges of one `group` to one target are drawn as one."""

    target: str
    why: str
    pos: Pos
    role: str
    label: str = ""
    attrs: tuple[tuple[str, str], ...] = ()
    group: str = ""
    after_agent: bool = False


Check = Callable[[Any], list[tuple[str, str, str]]]


@dataclass(frozen=True)
class KindSpec:
    """Everything about one node kind except how the engine runs it (ivr.engine.handlers).

    * `data`: the dataclass of the kind's own fields, each declared with `fld`; a node keeps
      an instance in `Node.data`.
    * `input`: None (the node does not wait for the caller), "choice" (the caller picks one
      of `options`) or "digits" (a digit string; `data` has var, min_length, max_length,
      terminator, validator and next). A node that listens takes the input rules
      (timeout, max_failures, on_exceeded, ...) and `globals`; `rules` lists the rules
      a node that does not listen accepts (a say node's barge_in).
    * `options(data)`: the choices of a "choice" kind (a menu's options; fixed ones for a
      yes/no kind), as `Option`s: the grammar, the edges and the lint clash check read them.
    * `prompts`: the prompts it speaks; `ends`: a call may end here (a loop through it has a
      way out); `instant`: it enters its `next` in the same engine step (say chains).
    * `missing_greet`: (severity, message, hint) when it has no greet_long prompt.
    * `style`, `detail(node)`: the diagram's node attributes and the label's second line.
    * `check(data)`: (field key, message, code) problems the loader reports beyond types.
    """

    name: str
    data: type
    doc: str
    input: str | None = None
    rules: tuple[str, ...] = ()
    options: Callable[[Any], tuple[Option, ...]] | None = None
    prompts: tuple[str, ...] = ("greet_long",)
    ends: bool = False
    instant: bool = False
    missing_greet: tuple[str, str, str] | None = None
    style: dict[str, str] = field(default_factory=dict)
    detail: Callable[[Node], str] | None = None
    check: Check | None = None

    @property
    def listens(self) -> bool:
        """Does a node of this kind wait for the caller (and take the input rules)?"""
        return self.input is not None

    def own_fields(self) -> dict[str, tuple[str, F, Any]]:
        """YAML key -> (attribute, F, default) of the kind's own fields, in declaration order."""
        out = {}
        for f in dataclasses.fields(self.data):
            spec = f.metadata.get("spec")
            if not isinstance(spec, F):
                raise TypeError(f"node kind '{self.name}': declare field '{f.name}' with ivr.tree.spec.fld")
            out[spec.key or f.name] = (f.name, spec, f.default)
        return out

    def yaml_fields(self) -> dict[str, F]:
        """Every key a node of this kind may have besides the common ones."""
        out = {k: spec for k, (_, spec, _) in self.own_fields().items()}
        if self.listens:
            out["globals"] = GLOBALS_FIELD
            out.update(INPUT_FIELDS)
        else:
            out.update({k: INPUT_FIELDS[k] for k in self.rules})
        return out

    def choices(self, node: Node) -> tuple[Option, ...]:
        return self.options(node.data) if self.options is not None else ()

    def edges(self, node: Node) -> list[Edge]:
        """Every way the call can move on from `node`, with where each was written."""
        kp = node.key_pos
        out: list[Edge] = []
        fields = self.own_fields()
        written = {getattr(node.data, a): kp.get(k, node.pos) for k, (a, f, _) in fields.items() if f.option_target}
        for o in self.choices(node):
            key = o.key if o.key is not None else f'"{o.words[0]}"'
            out.append(Edge(o.goto, f"option {o.key or 'say:' + o.words[0]}", o.pos or written.get(o.goto, node.pos),
                            "option", f"{key} {o.label}" if o.label else key))
        for key, (attr, spec, _) in fields.items():
            value = getattr(node.data, attr)
            if spec.type == "node" and value and not spec.option_target:
                attrs = dict(spec.edge)
                label = attrs.pop("label", "")
                out.append(Edge(value, key, kp.get(key, node.pos), "field", label, tuple(attrs.items()),
                                after_agent=spec.after_agent))
            elif spec.type == "nodemap":
                for outcome, target in value:
                    out.append(Edge(target, f"branch {outcome}", kp.get(key, node.pos), "branch", outcome,
                                    group=key))
        if self.listens and node.on_exceeded.goto:
            out.append(Edge(node.on_exceeded.goto, "on_exceeded", node.on_exceeded.pos or node.pos, "exceeded",
                            "timeout/invalid", (("style", "dashed"), ("color", "#dc2626"), ("fontcolor", "#dc2626"))))
        return out

    def grammar(self, tree: Tree, node: Node) -> Grammar:
        """What the caller may answer at `node`: its options, or a digit string, and the
        global actions that work there (a digit or terminator key belongs to the digits)."""
        choices = [Choice(o.token, tuple(w.lower() for w in o.words)) for o in self.choices(node)]
        digits = self.input == "digits"
        for action in node.globals_enabled:
            key = getattr(tree.global_keys, action)
            if digits and key is not None and (key.isdigit() or key == node.data.terminator):
                key = None
            words = tree.global_words.get(action, ())
            if key is not None or words:
                choices.append(Choice(f"global:{action}", tuple(words)))
        if digits:
            d = node.data
            return Grammar(tuple(choices), digits=True, min_digits=d.min_length, max_digits=d.max_length,
                           name=node.id, validator=d.validator)
        return Grammar(tuple(choices), name=node.id)
