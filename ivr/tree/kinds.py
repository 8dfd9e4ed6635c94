"""The node kinds: one `KindSpec` entry each, and the registry the loader, the JSON Schema,
lint and the diagram read (issue 11: a kind used to be spread over 6-8 files).

Adding a kind is one entry here (or `register_kind` from outside, as a test does) plus one
engine handler (`ivr.engine.handlers.register_handler`). Each entry's dataclass declares the
kind's own fields with their YAML type, default and doc (`fld`), so a default is written once:
a collect's `max_length` is 16 wherever it is read.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

from ivr.tree.model import VALIDATORS, Node, Option
from ivr.tree.spec import LISTEN_PROMPTS, F, KindSpec, fld


def _greet(n: Node) -> str:
    """A node's greet_long, shortened for a diagram label."""
    return textwrap.shorten(n.prompts.greet_long, 40, placeholder="...") if n.prompts.greet_long else ""


# ---- menu ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MenuData:
    options: tuple[Option, ...] = fld(
        "options", "Map of DTMF key (0-9, *, #, A-D) or `say:WORD` to {goto, say, label}.", (), required=True)


MENU = KindSpec(
    "menu", MenuData, "The caller picks an option by key or by word.",
    input="choice", options=lambda d: d.options, prompts=LISTEN_PROMPTS,
    missing_greet=("error", "has no greet_long prompt", "the caller would not know what to press or enter"),
    style={"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe"},
)


# ---- collect ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CollectData:
    var: str = fld("var", "Variable that receives the digits.", "", required=True)
    min_length: int = fld("int", "Fewest digits accepted (default 1).", 1, minimum=1)
    max_length: int = fld("int", "Most digits; input ends when reached (default 16).", 16, minimum=1)
    terminator: str = fld("key", "Key that ends the input (default #).", "#")
    validator: str = fld("enum", "Check applied to the digits.", "none", enum=VALIDATORS)
    next: str | None = fld("node", "Node after a valid value.", required=True)
    # the recovering dialogue for spoken numbers (ivr.engine.handlers.CollectHandler)
    confirm_below: float = fld(
        "number", "Read a spoken number back (prompt `readback`, {angka}) and ask ya/benar or 1 / tidak/salah "
                  "or 2 when the recogniser's confidence is below this (0: never, 1: always). Keyed digits "
                  "are never read back: DTMF is exact and the caller knows what they pressed.", 0.0, minimum=0)
    groups: int = fld(
        "int", "Take spoken digits in groups of this many (0: the whole number in one go); each group "
               "below `confirm_below` is read back on its own, and salah/ulangi after a group drops it.",
        0, minimum=0)
    keys_after: int = fld(
        "int", "Rejected read-backs of one group after which the caller is offered the keypad (prompt `use_keys`); "
               "from then on every spoken answer is read back. 0: never.", 2, minimum=0)


def _collect_detail(n: Node) -> str:
    d: CollectData = n.data
    length = str(d.min_length) if d.min_length == d.max_length else f"{d.min_length}-{d.max_length}"
    return f"{d.var}: {length} digits" + (f", {d.validator}" if d.validator != "none" else "")


def _collect_check(d: CollectData) -> list[tuple[str, str, str]]:
    if d.min_length > d.max_length:
        return [("min_length", f"min_length {d.min_length} is greater than max_length {d.max_length}", "range")]
    if d.confirm_below > 1:
        return [("confirm_below", f"confirm_below {d.confirm_below:g} is above 1 (a confidence is 0-1; 1 reads "
                                  "every spoken answer back)", "range")]
    return []


COLLECT = KindSpec(
    "collect", CollectData, "The caller keys or says a digit string, checked by a validator.",
    input="digits", prompts=LISTEN_PROMPTS + ("too_short", "readback", "reject", "use_keys"),
    missing_greet=("error", "has no greet_long prompt", "the caller would not know what to press or enter"),
    style={"shape": "parallelogram", "style": "filled", "fillcolor": "#fef9c3"},
    detail=_collect_detail, check=_collect_check,
)


# ---- say -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SayData:
    next: str | None = fld("node", "Node after the prompt.", required=True)


SAY = KindSpec(
    "say", SayData, "Says its prompt and moves on.", rules=("barge_in",), instant=True,
    missing_greet=("error", "has no prompt", "a say node exists to say something"),
    style={"shape": "note", "style": "filled", "fillcolor": "#f3f4f6"}, detail=_greet,
)


# ---- service ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceData:
    service: str = fld("str", "Service name (e.g. cek_peserta).", "", required=True)
    args: tuple[tuple[str, str], ...] = fld("strmap", "Arguments; values may use {variables}.", ())
    branches: tuple[tuple[str, str], ...] = fld("nodemap", "Service outcome -> node.", (), required=True)
    default: str | None = fld("node", "Node for an outcome not in branches (required unless branches cover all).",
                              edge=(("label", "other"), ("style", "dotted")))


def _service_check(d: ServiceData) -> list[tuple[str, str, str]]:
    return [] if d.default or d.branches else [("", "has no branches and no default", "missing")]


SERVICE = KindSpec(
    "service", ServiceData, "Asks a service (participant data, requests) and branches on its outcome.",
    style={"shape": "component", "style": "filled", "fillcolor": "#dcfce7"},
    detail=lambda n: f"service {n.data.service}", check=_service_check,
)


# ---- transfer --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TransferData:
    queue: str = fld("str", "Agent queue (request type) to transfer to.", "", required=True)
    request_type: str = fld("str", "Request type recorded with the transfer (default: the queue).", "",
                            key="request", default_from="queue")
    fields: tuple[tuple[str, str], ...] = fld("strmap", "Request fields; values may use {variables}.", ())
    agent: str | None = fld("node", "Node where the call goes on when an agent answers (the simulated agent's "
                                    "dialogue). Without it, the call ends at the transfer.",
                            edge=(("label", "agent answers"), ("color", "#b45309"), ("penwidth", "1.5")),
                            after_agent=True)
    callback: str | None = fld("node", "Node for a caller who presses the callback key while waiting (or meets "
                                       "a full queue).",
                               edge=(("label", "callback"), ("style", "dotted")), after_agent=True)


TRANSFER = KindSpec(
    "transfer", TransferData, "Hands the call to an agent queue.",
    prompts=("greet_long", "queue_position", "queue_periodic", "queue_full"), ends=True,
    missing_greet=("warning", "has no prompt", "tell the caller what happens next"),
    style={"shape": "house", "style": "filled", "fillcolor": "#fde68a", "peripheries": "2"},
    detail=lambda n: f"queue {n.data.queue}",
)


# ---- hangup ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class HangupData:
    pass


HANGUP = KindSpec(
    "hangup", HangupData, "Says its prompt and ends the call.", ends=True,
    missing_greet=("warning", "has no prompt", "tell the caller what happens next"),
    style={"shape": "doubleoctagon", "style": "filled", "fillcolor": "#fecaca"}, detail=_greet,
)


# ---- the registry ----------------------------------------------------------------------------
KINDS: dict[str, KindSpec] = {k.name: k for k in (MENU, COLLECT, SAY, SERVICE, TRANSFER, HANGUP)}


def register_kind(spec: KindSpec) -> KindSpec:
    """Add a node kind (its engine handler is registered apart, in ivr.engine.handlers)."""
    if spec.name in KINDS:
        raise ValueError(f"node kind '{spec.name}' is already registered")
    spec.own_fields()   # every field declared with fld(), or a TypeError now
    KINDS[spec.name] = spec
    return spec


def unregister_kind(name: str) -> None:
    """Remove a kind added with `register_kind` (tests)."""
    KINDS.pop(name, None)


def type_field() -> F:
    """The `type` key of a node: one of the registered kinds."""
    return F("enum", "Node kind.", required=True, enum=tuple(KINDS))
