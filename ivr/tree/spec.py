"""The call-tree format, described once.

Both the loader's validation and the published JSON Schema (`ivr schema`) are derived from
these tables, so the editor completion and the error messages can never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass

from ivr.tree.model import GLOBAL_ACTIONS, NODE_KINDS, PROMPT_NAMES, VALIDATORS


@dataclass(frozen=True)
class F:
    """One field: `type` is one of str, int, number, bool, key, node, prompts, options,
    strmap, nodemap, strlist, exceeded, globalkeys, globalwords, defaults, enum."""

    type: str
    doc: str
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: float | None = None


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
}

INPUT_FIELDS: dict[str, F] = {
    "timeout": F("number", "Seconds to wait for the first input after the prompt ends (default 10).", minimum=0.5),
    "inter_digit_timeout": F("number", "Seconds allowed between digits of a collect (default timeout/2).", minimum=0.1),
    "max_failures": F("int", "Invalid/no-match answers allowed before `on_exceeded` (default 3).", minimum=1),
    "max_timeouts": F("int", "Timeouts allowed before `on_exceeded` (default 3), counted apart from failures.", minimum=1),
    "on_exceeded": F("exceeded", "What happens when a limit is reached: `hangup` or `{goto: NODE}`."),
    "barge_in": F("bool", "May a key (or speech) interrupt the prompt? (default true)"),
}

COMMON_NODE_FIELDS: dict[str, F] = {
    "type": F("enum", "Node kind.", required=True, enum=NODE_KINDS),
    "description": F("str", "Free text for designers; not spoken."),
    "prompt": F("str", "Shorthand for prompts.greet_long."),
    "prompts": F("prompts", "Prompts by name: " + ", ".join(PROMPT_NAMES) + "."),
}

NODE_FIELDS: dict[str, dict[str, F]] = {
    "menu": {
        "options": F("options", "Map of DTMF key (0-9, *, #, A-D) or `say:WORD` to {goto, say, label}.", required=True),
        "globals": F("strlist", "Which global keys work here (back, agent, repeat); default all."),
        **INPUT_FIELDS,
    },
    "collect": {
        "var": F("str", "Variable that receives the digits.", required=True),
        "min_length": F("int", "Fewest digits accepted (default 1).", minimum=1),
        "max_length": F("int", "Most digits; input ends when reached (default 16).", minimum=1),
        "terminator": F("key", "Key that ends the input (default #)."),
        "validator": F("enum", "Check applied to the digits.", enum=VALIDATORS),
        "next": F("node", "Node after a valid value.", required=True),
        "globals": F("strlist", "Which global keys work here (back, agent, repeat); default all."),
        **INPUT_FIELDS,
    },
    "say": {
        "next": F("node", "Node after the prompt.", required=True),
        "barge_in": F("bool", "May a key interrupt the prompt? (default true)"),
    },
    "service": {
        "service": F("str", "Service name (e.g. cek_peserta).", required=True),
        "args": F("strmap", "Arguments; values may use {variables}."),
        "branches": F("nodemap", "Service outcome -> node.", required=True),
        "default": F("node", "Node for an outcome not in branches (required unless branches cover all)."),
    },
    "transfer": {
        "queue": F("str", "Agent queue (request type) to transfer to.", required=True),
        "request": F("str", "Request type recorded with the transfer (default: the queue)."),
        "fields": F("strmap", "Request fields; values may use {variables}."),
        "agent": F("node", "Node where the call goes on when an agent answers (the simulated agent's dialogue). "
                           "Without it, the call ends at the transfer."),
        "callback": F("node", "Node for a caller who presses the callback key while waiting (or meets a full queue)."),
    },
    "hangup": {},
}

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


def _json_type(f: F) -> dict:
    t = f.type
    base: dict
    if t == "str":
        base = {"type": "string"}
    elif t == "int":
        base = {"type": "integer"}
    elif t == "number":
        base = {"type": "number"}
    elif t == "bool":
        base = {"type": "boolean"}
    elif t == "enum":
        base = {"enum": list(f.enum)}
    elif t == "key":
        base = {"type": ["string", "integer", "null"], "pattern": "^[0-9*#A-D]$"}
    elif t == "node":
        base = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
    elif t == "strlist":
        base = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    elif t in ("strmap", "nodemap"):
        base = {"type": "object", "additionalProperties": {"type": ["string", "number"]}}
    elif t == "prompts":
        base = {"type": "object", "additionalProperties": False,
                "properties": {p: {"type": "string", "description": d} for p, d in PROMPT_DOCS.items()}}
    elif t == "exceeded":
        base = {"anyOf": [{"const": "hangup"},
                          {"type": "object", "additionalProperties": False, "required": ["goto"],
                           "properties": {"goto": {"type": "string"}}}]}
    elif t == "options":
        base = {"type": "object", "minProperties": 1,
                "propertyNames": {"pattern": "^([0-9*#A-D]|say:.+)$"},
                "additionalProperties": _object(OPTION_FIELDS)}
    elif t == "globalkeys":
        base = _object(GLOBAL_KEYS_FIELDS)
    elif t == "globalwords":
        base = _object(GLOBAL_WORDS_FIELDS)
    elif t == "defaults":
        base = _object(DEFAULTS_FIELDS)
    elif t == "nodemap_nodes":
        base = {"type": "object", "minProperties": 1,
                "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                "additionalProperties": {"$ref": "#/$defs/node"}}
    else:  # pragma: no cover - spec typo
        raise ValueError(t)
    if f.minimum is not None:
        base["minimum"] = f.minimum
    base["description"] = f.doc
    return base


def _object(fields: dict[str, F]) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [k for k, f in fields.items() if f.required],
        "properties": {k: _json_type(f) for k, f in fields.items()},
    }


def json_schema() -> dict:
    """JSON Schema (draft 2020-12) of the call-tree format."""
    variants = []
    for kind, fields in NODE_FIELDS.items():
        obj = _object({**COMMON_NODE_FIELDS, **fields})
        obj["properties"]["type"] = {"const": kind, "description": f"A `{kind}` node."}
        variants.append(obj)
    schema = _object(TREE_FIELDS)
    schema.update({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ivr.invalid/schema/call-tree-v1.json",
        "title": "ivr call tree",
        "$defs": {"node": {"oneOf": variants}},
    })
    return schema
