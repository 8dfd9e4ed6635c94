"""Typed call-tree model: what the loader produces and the engine runs.

Names and defaults borrow from FreeSWITCH IVR menus (greet_long / greet_short / invalid /
exit sounds, max_failures / max_timeouts, inter_digit_timeout) and VoiceXML (nomatch,
noinput), so IVR designers recognise them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ivr.engine.validators import VALIDATOR_NAMES

NodeKind = Literal["menu", "collect", "say", "service", "transfer", "hangup"]
NODE_KINDS: tuple[str, ...] = ("menu", "collect", "say", "service", "transfer", "hangup")
PROMPT_NAMES: tuple[str, ...] = (
    "greet_long", "greet_short", "invalid", "nomatch", "timeout", "too_short", "exit",
    "queue_position", "queue_periodic", "queue_full",
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
    id: str
    kind: str
    pos: Pos
    prompts: Prompts = field(default_factory=Prompts)
    # menu
    options: tuple[Option, ...] = ()
    # collect
    var: str = ""
    min_length: int = 1
    max_length: int = 1
    terminator: str = "#"
    validator: str = "none"
    # say / collect / transfer
    next: str | None = None
    # service
    service: str = ""
    args: tuple[tuple[str, str], ...] = ()
    branches: tuple[tuple[str, str], ...] = ()
    default: str | None = None
    # transfer
    queue: str = ""
    request_type: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    agent: str | None = None       # where the call goes on when an agent answers
    callback: str | None = None    # where it goes when the caller asks for a callback
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
        out: list[tuple[str, Pos]] = []
        kp = self.key_pos
        for o in self.options:
            out.append((o.goto, o.pos or self.pos))
        if self.next:
            out.append((self.next, kp.get("next", self.pos)))
        for _, target in self.branches:
            out.append((target, kp.get("branches", self.pos)))
        if self.default:
            out.append((self.default, kp.get("default", self.pos)))
        for name in ("agent", "callback"):
            target = getattr(self, name)
            if target:
                out.append((target, kp.get(name, self.pos)))
        if self.kind in ("menu", "collect") and self.on_exceeded.goto:
            out.append((self.on_exceeded.goto, self.on_exceeded.pos or self.pos))
        return out


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

    def grammar_for(self, node_id: str):
        """The `Grammar` a listen at this node accepts (see ivr.engine.grammar); built once
        per node, since a tree does not change while calls run."""
        g = self._grammars.get(node_id)
        if g is None:
            g = self._grammars[node_id] = self._build_grammar(node_id)
        return g

    def _build_grammar(self, node_id: str):
        from ivr.engine.grammar import Choice, Grammar

        n = self.nodes[node_id]
        choices: list[Choice] = []
        if n.kind == "menu":
            for o in n.options:
                choices.append(Choice(o.token, tuple(w.lower() for w in o.words)))
        for action in n.globals_enabled:
            key = getattr(self.global_keys, action)
            if n.kind == "collect" and key is not None and (key.isdigit() or key == n.terminator):
                key = None  # digits and the terminator belong to the collect
            words = self.global_words.get(action, ())
            if key is not None or words:
                choices.append(Choice(f"global:{action}", tuple(words)))
        if n.kind == "collect":
            return Grammar(tuple(choices), digits=True, min_digits=n.min_length,
                           max_digits=n.max_length, name=n.id, validator=n.validator)
        return Grammar(tuple(choices), name=n.id)
