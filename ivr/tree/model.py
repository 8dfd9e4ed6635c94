"""Typed call-tree model: what the loader produces and the engine runs.

Names and defaults borrow from FreeSWITCH IVR menus (greet_long / greet_short / invalid /
exit sounds, max_failures / max_timeouts, inter_digit_timeout) and VoiceXML (nomatch,
noinput), so IVR designers recognise them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ivr.engine.validators import VALIDATOR_NAMES
from ivr.grammar import Grammar

if TYPE_CHECKING:   # annotations only: ivr.tree.spec imports this module
    from ivr.tree.spec import KindSpec

PROMPT_NAMES: tuple[str, ...] = (
    "greet_long", "greet_short", "invalid", "nomatch", "timeout", "too_short", "exit",
    "queue_position", "queue_periodic", "queue_full", "readback", "reject", "use_keys",
)
VALIDATORS: tuple[str, ...] = VALIDATOR_NAMES   # one table: ivr.engine.validators
GLOBAL_ACTIONS: tuple[str, ...] = ("back", "agent", "repeat")
DTMF_KEYS = "0123456789*#ABCD"


@dataclass(frozen=True)
class Pos:
    """Where something was written: file, 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Exceeded:
    """What happens when max_failures or max_timeouts is reached: go to a node (e.g. an
    agent transfer) or hang up (after the `exit` prompt)."""

    goto: str | None = None  # None -> hang up
    pos: Pos | None = None


@dataclass(frozen=True)
class Prompts:
    greet_long: str = ""
    greet_short: str = ""
    invalid: str = ""
    nomatch: str = ""
    timeout: str = ""
    too_short: str = ""
    exit: str = ""
    queue_position: str = ""
    queue_periodic: str = ""
    queue_full: str = ""
    readback: str = ""
    reject: str = ""
    use_keys: str = ""

    def get(self, name: str) -> str:
        return getattr(self, name)


@dataclass(frozen=True)
class Option:
    """A menu option: DTMF key and/or spoken words, and where it leads."""

    key: str | None
    goto: str
    words: tuple[str, ...] = ()
    label: str = ""
    pos: Pos | None = None

    @property
    def token(self) -> str:
        """The token the engine receives for this option: its key, or its first word."""
        return self.key if self.key is not None else f"word:{self.words[0]}"


@dataclass(frozen=True)
class Node:
    """One node of a call tree.

    The fields every kind has live here (prompts, and the input rules the loader resolves
    against the tree defaults); a kind's own fields (a menu's options, a collect's var and
    lengths, a service's branches, ...) live in `data`, an instance of the dataclass its
    `KindSpec` declares (ivr.tree.kinds), and `spec` is that KindSpec (edges, grammar, diagram
    style). Read a kind's field as `node.data.var`: Node has no `__getattr__` read-through,
    since defining one makes every attribute load on a node slower (CPython cannot specialise
    it), and the engine reads nodes on every event.
    """

    id: str
    kind: str
    pos: Pos
    data: Any = None
    spec: KindSpec | None = field(default=None, compare=False, repr=False)
    prompts: Prompts = field(default_factory=Prompts)
    # input rules (resolved against tree defaults by the loader)
    timeout: float = 10.0
    inter_digit_timeout: float = 5.0
    max_failures: int = 3
    max_timeouts: int = 3
    on_exceeded: Exceeded = field(default_factory=Exceeded)
    barge_in: bool = True
    globals_enabled: tuple[str, ...] = GLOBAL_ACTIONS
    description: str = ""
    # positions of individual keys, for lint messages
    key_pos: dict = field(default_factory=dict, compare=False, hash=False)

    def targets(self) -> list[tuple[str, Pos]]:
        """Every node id this node can lead to, with where it was written."""
        return [(e.target, e.pos) for e in self.spec.edges(self)]


@dataclass(frozen=True)
class GlobalKeys:
    back: str | None = "*"
    agent: str | None = "0"
    repeat: str | None = "#"

    def action_for(self, key: str) -> str | None:
        for name in GLOBAL_ACTIONS:
            if getattr(self, name) == key:
                return name
        return None


@dataclass(frozen=True)
class Tree:
    path: str
    name: str
    start: str
    nodes: dict[str, Node]
    global_keys: GlobalKeys = field(default_factory=GlobalKeys)
    global_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    agent_node: str | None = None
    min_confidence: float = 0.5
    max_call_seconds: float = 3600.0   # a call ends ("max-duration") this long after it started
    language: str = "id"
    variables: dict[str, str] = field(default_factory=dict)
    # positions of top-level keys and of `defaults.prompts.NAME`, for lint messages
    key_pos: dict = field(default_factory=dict, compare=False, repr=False)
    _grammars: dict = field(default_factory=dict, compare=False, repr=False)

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def prompt_texts(self) -> list[str]:
        """Every distinct static prompt (no `{variables}`), in tree order: what
        `ivr tts render` pre-renders."""
        seen: dict[str, None] = {}
        for n in self.nodes.values():
            for name in PROMPT_NAMES:
                text = n.prompts.get(name)
                if text and "{" not in text:
                    seen.setdefault(text, None)
        return list(seen)

    def grammar_for(self, node_id: str) -> Grammar:
        """The `Grammar` a listen at this node accepts (its kind's `KindSpec.grammar`); built
        once per node, since a tree does not change while calls run."""
        g = self._grammars.get(node_id)
        if g is None:
            n = self.nodes[node_id]
            g = self._grammars[node_id] = n.spec.grammar(self, n)
        return g
