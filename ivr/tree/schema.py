"""The JSON Schema of the call-tree format (`ivr schema`), derived from ivr.tree.spec's field
tables and the registered node kinds (ivr.tree.kinds), so editor completion and the loader's
error messages can never disagree."""
from __future__ import annotations

from ivr.tree.kinds import KINDS, type_field
from ivr.tree.spec import (
    COMMON_NODE_FIELDS, DEFAULTS_FIELDS, GLOBAL_KEYS_FIELDS, GLOBAL_WORDS_FIELDS, OPTION_FIELDS, PROMPT_DOCS,
    TREE_FIELDS, F,
)


def _json_type(f: F) -> dict:
    t = f.type
    base: dict
    if t in ("str", "var"):
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
    for kind, spec in KINDS.items():
        obj = _object({"type": type_field(), **COMMON_NODE_FIELDS, **spec.yaml_fields()})
        obj["properties"]["type"] = {"const": kind, "description": f"A `{kind}` node. {spec.doc}"}
        variants.append(obj)
    schema = _object(TREE_FIELDS)
    schema.update({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ivr.invalid/schema/call-tree-v1.json",
        "title": "ivr call tree",
        "$defs": {"node": {"oneOf": variants}},
    })
    return schema
