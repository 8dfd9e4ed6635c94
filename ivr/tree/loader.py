"""Load and validate a call tree written in YAML.

Every problem is reported as `file:line:col: message (hint)`, using the positions that
PyYAML's composer keeps on each node. The loader works on the composed node graph rather than
on plain Python objects so that it can (a) point at the exact line, (b) find duplicate keys,
which `yaml.safe_load` silently drops, and (c) refuse alias bombs and absurd nesting before
they cost memory: every node visit is counted, and each file is size-capped.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.yamlsafe import Limits, YamlError
from ivr.yamlsafe import read_text as read_yaml_text
from ivr.yamlsafe import compose as compose_yaml
from ivr.tree.kinds import KINDS, type_field
from ivr.tree.model import (
    DTMF_KEYS, GLOBAL_ACTIONS, PROMPT_NAMES, Exceeded, GlobalKeys, Node, Option, Pos, Prompts, Tree,
)
from ivr.tree.spec import (
    COMMON_NODE_FIELDS, DEFAULTS_FIELDS, GLOBAL_KEYS_FIELDS, GLOBAL_WORDS_FIELDS, OPTION_FIELDS, TREE_FIELDS,
    F, KindSpec,
)

MAX_BYTES = 2 * 1024 * 1024
MAX_NODE_VISITS = 200_000
#: What a call-tree file may contain (ivr.yamlsafe reads every user YAML file with its limits).
#: `max_depth` is the one nesting limit for call trees: yamlsafe refuses a deeper document at
#: the line:col where it gets too deep, and the loader's own walk checks the same number.
TREE_LIMITS = Limits(max_bytes=MAX_BYTES, max_depth=40, max_values=MAX_NODE_VISITS,
                     what="call trees", depth_hint="a call tree needs fewer than 10",
                     values_hint="a call tree needs no nested aliases")
NODE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VAR_REF = re.compile(r"\{([^{}]*)\}")
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

T_STR = "tag:yaml.org,2002:str"
T_INT = "tag:yaml.org,2002:int"
T_FLOAT = "tag:yaml.org,2002:float"
T_BOOL = "tag:yaml.org,2002:bool"
T_NULL = "tag:yaml.org,2002:null"


@dataclass(frozen=True)
class TreeError:
    pos: Pos
    message: str
    hint: str = ""
    severity: str = "error"  # "error" | "warning"
    code: str = ""

    def __str__(self) -> str:
        s = f"{self.pos}: {self.severity}: {self.message}"
        if self.hint:
            s += f" ({self.hint})"
        return s


class TreeLoadError(Exception):
    """The tree has errors; `errors` lists every one found, in file order."""

    def __init__(self, errors: list[TreeError]):
        self.errors = sorted(errors, key=lambda e: (e.pos.line, e.pos.col))
        super().__init__("\n".join(str(e) for e in self.errors))

    def summary(self) -> str:
        """The first error, and how many more there are (for one-line CLI messages)."""
        first = self.errors[0]
        if len(self.errors) == 1:
            return str(first)
        return f"{first} (+{len(self.errors) - 1} more; run `ivr lint {first.pos.file}`)"


class _Budget(Exception):
    """The walk went past TREE_LIMITS, at `pos` (a backstop: yamlsafe checks the same limits
    on the YAML itself first)."""

    def __init__(self, pos: Pos, message: str, hint: str):
        super().__init__(message)
        self.pos, self.message, self.hint = pos, message, hint


def _did_you_mean(word: str, choices) -> str:
    choices = [str(c) for c in choices]
    if not choices:
        return ""
    m = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if m:
        return f"did you mean '{m[0]}'?"
    if len(choices) > 12:
        return "expected one of: " + ", ".join(sorted(choices)[:12]) + ", ..."
    return "expected one of: " + ", ".join(sorted(choices))


def _yaml_int(vnode) -> int:
    """The integer YAML 1.1 means by an int-tagged scalar (1_000, 0x1F, 0o17, 0b1, 1:20)."""
    return yaml.constructor.SafeConstructor().construct_yaml_int(vnode)


#: Why an unquoted `#` or `*` goes wrong in YAML (a comment; an alias), said wherever a key
#: field or menu option comes out empty because of it.
QUOTE_KEYS_HINT = ('YAML reads an unquoted # as a comment and * as an alias: quote * and # '
                   '(repeat: "#", back: "*", "#": {goto: ...})')
#: A line in a menu's options that looks like option `#` but is a YAML comment.
_COMMENTED_OPTION = re.compile(r"^\s*#\s*:(\s|$)")


class _Loader:
    def __init__(self, path: str, text: str = ""):
        self.path = path
        self.lines = text.splitlines()
        self.errors: list[TreeError] = []
        self.visits = 0
        self.broken_ids: set[str] = set()

    # ---- helpers -------------------------------------------------------------------------
    def pos(self, node) -> Pos:
        m = node.start_mark
        return Pos(self.path, m.line + 1, m.column + 1)

    def err(self, node_or_pos, msg: str, hint: str = "", code: str = "") -> None:
        p = node_or_pos if isinstance(node_or_pos, Pos) else self.pos(node_or_pos)
        self.errors.append(TreeError(p, msg, hint, code=code))

    def visit(self, depth: int, node) -> None:
        """Count one YAML node the walk reads, `depth` levels down, against TREE_LIMITS."""
        self.visits += 1
        limits = TREE_LIMITS
        if self.visits > limits.max_values:
            raise _Budget(self.pos(node), f"the document expands to more than {limits.max_values} values (alias bomb?)",
                          limits.values_hint)
        if depth > limits.max_depth:
            raise _Budget(self.pos(node), f"nesting deeper than {limits.max_depth} levels", limits.depth_hint)

    def mapping(self, node, what: str, depth: int) -> list[tuple[str, object, object]] | None:
        """(key, key_node, value_node) of a mapping, reporting duplicates; None if not a map."""
        self.visit(depth, node)
        if not isinstance(node, yaml.MappingNode):
            self.err(node, f"{what} must be a mapping (key: value), got {self.kind(node)}", code="type")
            return None
        seen: dict[str, object] = {}
        out = []
        for k, v in node.value:
            self.visit(depth + 1, k)
            if not isinstance(k, yaml.ScalarNode):
                self.err(k, f"{what}: keys must be plain scalars", code="type")
                continue
            key = k.value
            if k.tag == T_NULL:
                key = ""
            if key in seen:
                first = self.pos(seen[key])
                self.err(k, f"duplicate key '{key}' in {what}", f"first defined at line {first.line}", code="duplicate")
                continue
            seen[key] = k
            out.append((key, k, v))
        return out

    @staticmethod
    def kind(node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return {T_STR: "a string", T_INT: "an integer", T_FLOAT: "a number", T_BOOL: "a boolean",
                T_NULL: "nothing (null)"}.get(node.tag, f"'{node.value}'")

    def check_fields(self, items, fields: dict[str, F], what: str, node) -> dict[str, tuple[object, object]]:
        out: dict[str, tuple[object, object]] = {}
        for key, knode, vnode in items:
            if key not in fields:
                self.err(knode, f"unknown key '{key}' in {what}", _did_you_mean(key, fields), code="unknown-key")
                continue
            out[key] = (knode, vnode)
        for key, f in fields.items():
            if f.required and key not in out:
                self.err(node, f"{what} is missing required key '{key}'", f.doc, code="missing")
        return out

    def scalar(self, vnode, f: F, what: str, depth: int):
        """Convert a scalar per field type; report and return None on a wrong type."""
        self.visit(depth, vnode)
        t = f.type
        if not isinstance(vnode, yaml.ScalarNode):
            self.err(vnode, f"{what} must be {self._want(t)}, got {self.kind(vnode)}", code="type")
            return None
        tag, val = vnode.tag, vnode.value
        if t in ("str", "node"):
            if tag not in (T_STR, T_INT, T_FLOAT) or (t == "node" and tag != T_STR):
                self.err(vnode, f"{what} must be {self._want(t)}, got {self.kind(vnode)}", code="type")
                return None
            if t == "node" and not NODE_ID.match(val):
                self.err(vnode, f"{what}: '{val}' is not a valid node id", "letters, digits and _ only", code="type")
                return None
            return val
        if t == "enum":
            if val not in f.enum:
                self.err(vnode, f"{what}: '{val}' is not allowed", _did_you_mean(val, f.enum), code="enum")
                return None
            return val
        if t == "int":
            if tag != T_INT:
                self.err(vnode, f"{what} must be an integer, got {self.kind(vnode)}", code="type")
                return None
            try:
                num = _yaml_int(vnode)
            except (ValueError, TypeError):
                self.err(vnode, f"{what} must be an integer, got '{val}'", code="type")
                return None
        elif t == "number":
            if tag not in (T_INT, T_FLOAT):
                self.err(vnode, f"{what} must be a number, got {self.kind(vnode)}", code="type")
                return None
            try:
                num = float(val)
            except ValueError:
                self.err(vnode, f"{what} must be a finite number, got '{val}'", code="type")
                return None
            if num != num or num in (float("inf"), float("-inf")):
                self.err(vnode, f"{what} must be a finite number, got '{val}'", code="type")
                return None
        elif t == "bool":
            if tag != T_BOOL:
                self.err(vnode, f"{what} must be true or false, got {self.kind(vnode)}", code="type")
                return None
            return val.lower() in ("true", "yes", "on")
        elif t == "key":
            if tag == T_NULL:
                if val == "" and not vnode.style:   # `repeat: #`, `repeat:`: not a written null
                    self.err(vnode, f"{what} is empty, so the key is off",
                             QUOTE_KEYS_HINT + "; write null to turn a key off on purpose", code="empty-key")
                return None
            if val not in DTMF_KEYS or len(val) != 1:
                self.err(vnode, f"{what}: '{val}' is not a DTMF key", "use one of 0-9 * # A-D, quoted", code="key")
                return None
            return val
        else:  # pragma: no cover
            raise AssertionError(t)
        if f.minimum is not None and num < f.minimum:
            self.err(vnode, f"{what} must be at least {f.minimum:g}, got {val}", code="range")
            return None
        return num

    @staticmethod
    def _want(t: str) -> str:
        return {"str": "a string", "node": "a node id", "int": "an integer", "number": "a number",
                "bool": "true or false", "enum": "one word (a name)", "key": "a DTMF key"}.get(t, t)

    def strlist(self, vnode, what: str, depth: int) -> tuple[str, ...]:
        self.visit(depth, vnode)
        if isinstance(vnode, yaml.ScalarNode) and vnode.tag == T_STR:
            items = [vnode]
        elif isinstance(vnode, yaml.SequenceNode):
            items = vnode.value
        else:
            self.err(vnode, f"{what} must be a word or a list of words, got {self.kind(vnode)}", code="type")
            return ()
        out = []
        for it in items:
            self.visit(depth + 1, it)
            if not isinstance(it, yaml.ScalarNode) or it.tag not in (T_STR, T_INT):
                self.err(it, f"{what}: each item must be a string, got {self.kind(it)}", code="type")
                continue
            if not it.value.strip():
                self.err(it, f"{what}: empty word", code="empty")
                continue
            out.append(it.value.strip().lower())
        return tuple(out)

    def strmap(self, vnode, what: str, depth: int, nodes_ok: bool = False) -> list[tuple[str, str, Pos]]:
        items = self.mapping(vnode, what, depth)
        if items is None:
            return []
        out = []
        for key, knode, v in items:
            self.visit(depth + 1, v)
            if not isinstance(v, yaml.ScalarNode) or v.tag not in (T_STR, T_INT, T_FLOAT):
                self.err(v, f"{what}.{key} must be a string, got {self.kind(v)}", code="type")
                continue
            out.append((key, v.value, self.pos(v)))
        return out

    def prompts(self, vnode, what: str, depth: int) -> dict[str, tuple[str, Pos]]:
        items = self.mapping(vnode, what, depth)
        if items is None:
            return {}
        out = {}
        for key, knode, v in items:
            if key not in PROMPT_NAMES:
                self.err(knode, f"unknown prompt '{key}' in {what}", _did_you_mean(key, PROMPT_NAMES), code="unknown-key")
                continue
            text = self.scalar(v, F("str", ""), f"{what}.{key}", depth + 1)
            if text is not None:
                self.check_vars(text, v)
                out[key] = (str(text), self.pos(v))
        return out

    def check_vars(self, text: str, vnode) -> None:
        for m in VAR_REF.finditer(str(text)):
            if not VAR_NAME.match(m.group(1)):
                self.err(vnode, f"bad variable reference '{{{m.group(1)}}}' in prompt",
                         "variables look like {nama}", code="variable")

    def exceeded(self, vnode, what: str, depth: int) -> Exceeded | None:
        self.visit(depth, vnode)
        if isinstance(vnode, yaml.ScalarNode) and vnode.value == "hangup":
            return Exceeded(None, self.pos(vnode))
        if isinstance(vnode, yaml.MappingNode):
            items = self.mapping(vnode, what, depth)
            got = self.check_fields(items or [], {"goto": F("node", "Node to go to.", required=True)}, what, vnode)
            if "goto" in got:
                target = self.scalar(got["goto"][1], F("node", ""), f"{what}.goto", depth + 1)
                if target:
                    return Exceeded(target, self.pos(got["goto"][1]))
            return None
        self.err(vnode, f"{what} must be 'hangup' or {{goto: NODE}}, got {self.kind(vnode)}", code="type")
        return None

    # ---- document ------------------------------------------------------------------------
    def load(self, root) -> Tree | None:
        if root is None:
            self.err(Pos(self.path, 1, 1), "the file is empty", "a tree needs version, start and nodes", code="empty")
            return None
        items = self.mapping(root, "the tree", 0)
        if items is None:
            return None
        got = self.check_fields(items, TREE_FIELDS, "the tree", root)
        g = lambda k: got[k][1] if k in got else None  # noqa: E731

        if g("version") is not None:
            v = self.scalar(g("version"), TREE_FIELDS["version"], "version", 1)
            if v is not None and v != 1:
                self.err(g("version"), f"unsupported version {v}", "this ivr reads version 1", code="version")
        name = self.scalar(g("name"), TREE_FIELDS["name"], "name", 1) if g("name") else Path(self.path).stem
        language = self.scalar(g("language"), TREE_FIELDS["language"], "language", 1) if g("language") else "id"
        start = self.scalar(g("start"), TREE_FIELDS["start"], "start", 1) if g("start") else None
        agent_node = self.scalar(g("agent_node"), TREE_FIELDS["agent_node"], "agent_node", 1) if g("agent_node") else None

        gk = {"back": "*", "agent": "0", "repeat": "#"}
        if g("global_keys") is not None:
            gitems = self.mapping(g("global_keys"), "global_keys", 1) or []
            for key, (kn, vn) in self.check_fields(gitems, GLOBAL_KEYS_FIELDS, "global_keys", g("global_keys")).items():
                gk[key] = self.scalar(vn, GLOBAL_KEYS_FIELDS[key], f"global_keys.{key}", 2)
            used: dict[str, str] = {}
            for a in GLOBAL_ACTIONS:
                k = gk[a]
                if k is not None and k in used:
                    self.err(g("global_keys"), f"global key '{k}' is used for both {used[k]} and {a}", code="duplicate")
                elif k is not None:
                    used[k] = a
        global_keys = GlobalKeys(**gk)
        global_words: dict[str, tuple[str, ...]] = {}
        if g("global_words") is not None:
            witems = self.mapping(g("global_words"), "global_words", 1) or []
            for key, (kn, vn) in self.check_fields(witems, GLOBAL_WORDS_FIELDS, "global_words", g("global_words")).items():
                global_words[key] = self.strlist(vn, f"global_words.{key}", 2)

        variables = {}
        if g("variables") is not None:
            variables = {k: v for k, v, _ in self.strmap(g("variables"), "variables", 1)}

        defaults: dict[str, object] = {}
        default_prompts: dict[str, tuple[str, Pos]] = {}
        min_conf = 0.5
        max_call = Tree.max_call_seconds
        if g("defaults") is not None:
            ditems = self.mapping(g("defaults"), "defaults", 1) or []
            for key, (kn, vn) in self.check_fields(ditems, DEFAULTS_FIELDS, "defaults", g("defaults")).items():
                if key == "prompts":
                    default_prompts = self.prompts(vn, "defaults.prompts", 2)
                elif key == "on_exceeded":
                    defaults[key] = self.exceeded(vn, "defaults.on_exceeded", 2)
                elif key == "min_confidence":
                    mc = self.scalar(vn, DEFAULTS_FIELDS[key], "defaults.min_confidence", 2)
                    if mc is not None:
                        min_conf = float(mc)
                elif key == "max_call_seconds":
                    mcs = self.scalar(vn, DEFAULTS_FIELDS[key], "defaults.max_call_seconds", 2)
                    if mcs is not None:
                        max_call = float(mcs)
                else:
                    defaults[key] = self.scalar(vn, DEFAULTS_FIELDS[key], f"defaults.{key}", 2)

        nodes: dict[str, Node] = {}
        if g("nodes") is not None:
            nitems = self.mapping(g("nodes"), "nodes", 1) or []
            if not nitems and isinstance(g("nodes"), yaml.MappingNode):
                self.err(g("nodes"), "nodes is empty", "a tree needs at least one node", code="empty")
            for nid, knode, vnode in nitems:
                if not NODE_ID.match(nid):
                    self.err(knode, f"'{nid}' is not a valid node id", "letters, digits and _ only, not starting with a digit", code="node-id")
                    continue
                node = self.node(nid, knode, vnode, defaults, default_prompts)
                if node is not None:
                    nodes[nid] = node
                else:
                    self.broken_ids.add(nid)  # reported already; gotos to it are not dangling

        tree = Tree(path=self.path, name=str(name or ""), start=start or "", nodes=nodes,
                    global_keys=global_keys, global_words=global_words, agent_node=agent_node,
                    min_confidence=min_conf, max_call_seconds=max_call, language=str(language or "id"), variables=variables,
                    key_pos={**{k: self.pos(v) for k, (_, v) in got.items()},
                             **{f"defaults.prompts.{k}": p for k, (_, p) in default_prompts.items()}})
        self.check_refs(tree, got)
        return tree

    def node(self, nid: str, knode, vnode, defaults: dict, default_prompts: dict) -> Node | None:
        what = f"node '{nid}'"
        items = self.mapping(vnode, what, 2)
        if items is None:
            return None
        kind_item = next((v for k, _, v in items if k == "type"), None)
        if kind_item is None:
            self.err(vnode, f"{what} is missing required key 'type'", "one of: " + ", ".join(KINDS), code="missing")
            return None
        kind = self.scalar(kind_item, type_field(), f"{what}: type", 3)
        if kind is None:
            return None
        spec = KINDS[kind]
        fields = {"type": type_field(), **COMMON_NODE_FIELDS, **spec.yaml_fields()}
        got = self.check_fields(items, fields, f"{what} ({kind})", vnode)
        kw: dict = {"id": nid, "kind": kind, "pos": self.pos(knode), "spec": spec}
        key_pos: dict[str, Pos] = {k: self.pos(v) for k, (_, v) in got.items()}
        kw["key_pos"] = key_pos

        # prompts: node prompts over tree defaults; `prompt` is greet_long shorthand
        ptexts: dict[str, str] = {k: v[0] for k, v in default_prompts.items() if k not in ("greet_long", "greet_short")}
        if "prompt" in got:
            t = self.scalar(got["prompt"][1], F("str", ""), f"{what}: prompt", 3)
            if t is not None:
                self.check_vars(t, got["prompt"][1])
                ptexts["greet_long"] = str(t)
                key_pos["prompts.greet_long"] = self.pos(got["prompt"][1])
        if "prompts" in got:
            pp = self.prompts(got["prompts"][1], f"{what}: prompts", 3)
            key_pos.update({f"prompts.{k}": v[1] for k, v in pp.items()})
            if "prompt" in got and "greet_long" in pp:
                self.err(got["prompts"][1], f"{what} sets both prompt and prompts.greet_long", "keep one", code="duplicate")
            ptexts.update({k: v[0] for k, v in pp.items()})
        ptexts.setdefault("greet_short", ptexts.get("greet_long", ""))
        ptexts.setdefault("nomatch", ptexts.get("invalid", ""))
        ptexts.setdefault("too_short", ptexts.get("invalid", ""))
        kw["prompts"] = Prompts(**{k: ptexts.get(k, "") for k in PROMPT_NAMES})

        # input rules with tree defaults
        rules = dict(defaults)
        for key in ("timeout", "inter_digit_timeout", "max_failures", "max_timeouts", "barge_in"):
            if key in got:
                val = self.scalar(got[key][1], fields[key], f"{what}: {key}", 3)
                if val is not None:
                    rules[key] = val
        if "on_exceeded" in got:
            rules["on_exceeded"] = self.exceeded(got["on_exceeded"][1], f"{what}: on_exceeded", 3)
        timeout = float(rules.get("timeout") or 10.0)
        kw["timeout"] = timeout
        kw["inter_digit_timeout"] = float(rules.get("inter_digit_timeout") or timeout / 2)
        kw["max_failures"] = int(rules.get("max_failures") or 3)
        kw["max_timeouts"] = int(rules.get("max_timeouts") or 3)
        kw["barge_in"] = bool(rules.get("barge_in", True))
        kw["on_exceeded"] = rules.get("on_exceeded") or Exceeded()
        if "description" in got:
            kw["description"] = str(self.scalar(got["description"][1], F("str", ""), f"{what}: description", 3) or "")
        if "globals" in got:
            gl = self.strlist(got["globals"][1], f"{what}: globals", 3)
            for w in gl:
                if w not in GLOBAL_ACTIONS:
                    self.err(got["globals"][1], f"{what}: unknown global action '{w}'", _did_you_mean(w, GLOBAL_ACTIONS), code="enum")
            kw["globals_enabled"] = tuple(w for w in gl if w in GLOBAL_ACTIONS)

        data = self.kind_data(spec, got, what, key_pos)
        for key, message, code in spec.check(data) if spec.check else ():
            self.err(got[key][1] if key in got else (vnode if key else kw["pos"]), f"{what}: {message}"
                     if key else f"node '{nid}' {message}", code=code)
        return Node(data=data, **kw)

    def kind_data(self, spec: KindSpec, got: dict, what: str, key_pos: dict[str, Pos]):
        """The kind's own fields (its spec's dataclass), each read by its declared type; a
        missing field keeps its declared default (or the field named by `default_from`)."""
        kw: dict = {}
        later: list[tuple[str, str]] = []
        for key, (attr, f, default) in spec.own_fields().items():
            if key not in got:
                if f.default_from:
                    later.append((attr, f.default_from))
                continue
            vnode = got[key][1]
            name = f"{what}: {key}"
            if f.type == "options":
                kw[attr] = self.options(vnode, what)
            elif f.type in ("strmap", "nodemap"):
                pairs = []
                for k, v, p in self.strmap(vnode, name, 3):
                    if f.type == "nodemap" and not NODE_ID.match(v):
                        self.err(p, f"{what}: {'branch' if key == 'branches' else key} '{k}': '{v}' is not a valid "
                                    "node id", code="node-id")
                        continue
                    pairs.append((k, v))
                    if f.type == "strmap":
                        key_pos[f"{key}.{k}"] = p
                kw[attr] = tuple(pairs)
            elif f.type == "strlist":
                kw[attr] = self.strlist(vnode, name, 3)
            else:
                val = self.scalar(vnode, F("str", f.doc) if f.type == "var" else f, name, 3)
                if f.type == "var":
                    if val is not None and not VAR_NAME.match(str(val)):
                        self.err(vnode, f"{what}: '{val}' is not a valid variable name", code="variable")
                    kw[attr] = str(val or "")
                elif f.type == "key":
                    kw[attr] = val or ""   # null turns the key off
                elif val is None or (f.type == "str" and not str(val)):
                    if f.default_from:
                        later.append((attr, f.default_from))
                    continue               # reported, or empty: the default stands
                elif f.type == "str":
                    kw[attr] = str(val)
                elif f.type == "int":
                    kw[attr] = int(val)
                else:
                    kw[attr] = val
        attrs = {a: k for k, (a, _, _) in spec.own_fields().items()}
        for attr, source in later:
            kw[attr] = kw.get(attrs.get(source, source), spec.own_fields()[source][2])
        return spec.data(**kw)

    def options(self, vnode, what: str) -> tuple[Option, ...]:
        items = self.mapping(vnode, f"{what}: options", 3)
        if items is None:
            return ()
        if not items:
            self.err(vnode, f"{what}: options is empty", "a menu needs at least one option", code="empty")
        self.commented_options(vnode, what)
        out: list[Option] = []
        words_seen: dict[str, Pos] = {}
        for key, knode, v in items:
            key = str(key)
            okey: str | None
            if key.startswith("say:"):
                okey = None
                first_word = key[4:].strip().lower()
                if not first_word:
                    self.err(knode, f"{what}: option 'say:' needs a word", code="key")
                    continue
            elif len(key) == 1 and key in DTMF_KEYS:
                okey = key
                first_word = ""
            else:
                self.err(knode, f"{what}: option key '{key}' is not a DTMF key",
                         "use 0-9, '*', '#', A-D (quote * and #) or say:WORD", code="key")
                continue
            oitems = self.mapping(v, f"{what}: option {key}", 4)
            if oitems is None:
                continue
            got = self.check_fields(oitems, OPTION_FIELDS, f"{what}: option {key}", v)
            goto = self.scalar(got["goto"][1], OPTION_FIELDS["goto"], f"{what}: option {key}: goto", 5) if "goto" in got else None
            words = self.strlist(got["say"][1], f"{what}: option {key}: say", 5) if "say" in got else ()
            if first_word:
                words = (first_word, *words)
            label = str(self.scalar(got["label"][1], F("str", ""), f"{what}: option {key}: label", 5) or "") if "label" in got else ""
            for w in words:
                if w in words_seen:
                    self.err(knode, f"{what}: spoken word '{w}' chooses two options",
                             f"already used at line {words_seen[w].line}", code="duplicate")
                words_seen.setdefault(w, self.pos(knode))
            if goto:
                out.append(Option(okey, goto, words, label, self.pos(knode)))
        return tuple(out)

    def commented_options(self, vnode, what: str) -> None:
        """`#: {goto: x}` inside options is a YAML comment: the option silently does not exist
        (while the prompt may still say "tekan pagar"). Report each such line."""
        if not vnode.value or vnode.flow_style:
            return
        indent = vnode.value[0][0].start_mark.column   # where the option keys start
        first, last = vnode.start_mark.line, vnode.end_mark.line
        for i in range(first, min(last + 1, len(self.lines))):
            if _COMMENTED_OPTION.match(self.lines[i]) and self.lines[i].index("#") == indent:
                col = indent
                self.err(Pos(self.path, i + 1, col + 1),
                         f"{what}: this line looks like option '#' but YAML reads it as a comment, "
                         "so the menu has no such option", QUOTE_KEYS_HINT, code="empty-key")

    def check_refs(self, tree: Tree, got: dict) -> None:
        ids = tree.nodes.keys()

        def ref(target: str | None, pos: Pos, what: str) -> None:
            if target and target not in ids and target not in self.broken_ids:
                self.err(pos, f"{what} goes to unknown node '{target}'", _did_you_mean(target, ids), code="dangling")

        if tree.start:
            ref(tree.start, self.pos(got["start"][1]), "start")
        if tree.agent_node:
            ref(tree.agent_node, self.pos(got["agent_node"][1]), "agent_node")
        for n in tree.nodes.values():
            for target, pos in n.targets():
                ref(target, pos, f"node '{n.id}'")
        if tree.global_keys.agent and not tree.agent_node and any(
                "agent" in n.globals_enabled for n in tree.nodes.values() if n.spec.listens):
            pos = self.pos(got["global_keys"][1]) if "global_keys" in got else Pos(self.path, 1, 1)
            self.errors.append(TreeError(pos, "global key 'agent' is set but the tree has no agent_node",
                                         "add agent_node: NODE or set global_keys.agent: null", "error", "missing"))



def load_tree_text(text: str, path: str = "<string>") -> Tree:
    """Parse and validate tree YAML from a string; raises TreeLoadError."""
    loader = _Loader(path, text)
    try:
        root = compose_yaml(text, path, TREE_LIMITS)
    except YamlError as exc:
        raise TreeLoadError([TreeError(Pos(path, exc.line, exc.col), exc.message, exc.hint, code=exc.code)]) from None
    try:
        tree = loader.load(root)
    except _Budget as exc:
        raise TreeLoadError([TreeError(exc.pos, exc.message, exc.hint, code="budget")]) from None
    except RecursionError:
        raise TreeLoadError([TreeError(Pos(path, 1, 1), "nesting is too deep to read", code="budget")]) from None
    if loader.errors or tree is None:
        raise TreeLoadError(loader.errors or [TreeError(Pos(path, 1, 1), "not a call tree", code="type")])
    return tree


def load_tree(path: str | Path) -> Tree:
    """Load a tree file; raises TreeLoadError (with file:line:col) on any problem."""
    p = Path(path)
    try:
        text = read_yaml_text(p, TREE_LIMITS)
    except YamlError as exc:
        message = "cannot read tree" + exc.message[len("cannot read file"):] if exc.code == "io" else exc.message
        raise TreeLoadError([TreeError(Pos(str(p), exc.line, exc.col), message, exc.hint, code=exc.code)]) from None
    if "\x00" in text:
        raise TreeLoadError([TreeError(Pos(str(p), 1, 1), "file is binary, not YAML", code="text")])
    return load_tree_text(text, str(p))
