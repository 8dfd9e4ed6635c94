"""The one hardened YAML reader for every file a user gives `ivr`: call trees, queue configs,
scenarios.

`yaml.safe_load` is safe from code execution but not from alias bombs (a few hundred bytes
that expand to billions of values) or from nesting deep enough to exhaust the stack. `compose`
reads a document in three guarded steps, each with the file's own `Limits`:

1. the event stream, once: nesting depth, anchors and aliases (refused where a format has no
   use for them), the number of events -- before any node graph is built;
2. the node graph (libyaml's composer when installed, about 4x faster);
3. a walk of the graph counting what the aliases expand to, before anything else walks it.

Whatever libyaml is installed, an error is ours, with its line and column: libyaml's scanner
reads ahead and newer builds stop at their own nesting limit (level 1000) before step 1 sees
level 41, so any error on the libyaml path is re-read by the pure-Python parser. Errors are
`YamlError(path, line, col, message, hint, code)`; each format turns them into its own error
type. `load_yaml` builds plain Python data (mappings as `LineDict`, which remember their line).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Limits:
    """What one kind of file may contain."""

    max_bytes: int = 4 * 1024 * 1024
    max_depth: int = 40
    max_values: int = 200_000          # values after alias expansion (events when aliases are refused)
    aliases: bool = True               # False: anchors and aliases are an error
    what: str = "YAML files"           # for messages: "queue files"
    depth_hint: str = ""
    values_hint: str = ""


DEFAULT_LIMITS = Limits()


class YamlError(ValueError):
    """A document refused: where (1-based line and column), why, and a hint when there is one.
    `code` is stable for callers: size, syntax, budget, alias, text, duplicate."""

    def __init__(self, path: str, line: int, col: int, message: str, hint: str = "", code: str = "syntax"):
        super().__init__(f"{path}:{line}:{col}: {message}" + (f" ({hint})" if hint else ""))
        self.path, self.line, self.col = path, line, col
        self.message, self.hint, self.code = message, hint, code


class LineDict(dict):
    """A dict that knows where it was written (1-based line and column), and the line of
    each of its keys (so an error about one value can point at that value's line)."""

    line: int = 0
    col: int = 0
    key_lines: dict[str, int] = {}   # replaced per instance by the loader; never mutated

    def line_of(self, key: str) -> int:
        """The line `key:` is written on; the mapping's own line when unknown."""
        return self.key_lines.get(key, self.line)


# ---- step 1: the event stream ------------------------------------------------------------
def _scan(text: str, loader, path: str, limits: Limits) -> None:
    depth = 0
    count = 0
    for ev in yaml.parse(text, Loader=loader):
        count += 1
        m = ev.start_mark
        if count > limits.max_values:
            raise YamlError(path, m.line + 1, m.column + 1,
                            f"the document has more than {limits.max_values} values", limits.values_hint, "budget")
        if not limits.aliases and (isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None)):
            raise YamlError(path, m.line + 1, m.column + 1,
                            f"YAML anchors and aliases (& and *) are not allowed in {limits.what}; write the values out",
                            code="alias")
        if isinstance(ev, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise YamlError(path, m.line + 1, m.column + 1, f"nesting deeper than {limits.max_depth} levels",
                                limits.depth_hint, "budget")
        elif isinstance(ev, yaml.CollectionEndEvent):
            depth -= 1


def _syntax_error(exc: yaml.YAMLError, text: str, path: str) -> YamlError:
    """A YAML syntax error with the hint a newcomer needs most often."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc).splitlines()[0]
    if mark is None:
        return YamlError(path, 1, 1, f"YAML syntax error: {problem}")
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    hint = ""
    context = str(getattr(exc, "context", "") or "")
    if re.search(r"^\s*[*#&!]", line) or "alias" in str(problem) or "alias" in context:   # back: *
        hint = "quote keys like '*' and '#' (\"*\": ...)"
    elif "\\t" in str(problem) or (mark.column < len(line) and line[mark.column] == "\t"):
        hint = "indent with spaces, not tabs"
    else:
        hint = _unclosed_quote_hint(lines, mark.line)
    return YamlError(path, mark.line + 1, mark.column + 1, f"YAML syntax error: {problem}", hint)


def _unclosed_quote_hint(lines: list[str], error_line: int) -> str:
    """PyYAML reports an unclosed quote where the string finally ends, often lines later;
    point at the line that opened it."""
    for i in range(max(0, error_line - 30), min(error_line, len(lines))):
        body = lines[i].split(" #", 1)[0]
        if body.replace('\\"', "").count('"') % 2 == 1:
            return f"is the quote opened on line {i + 1} closed?"
    return ""


# ---- step 3: what aliases expand to ------------------------------------------------------
def _check_expansion(root, path: str, limits: Limits) -> None:
    """Refuse a graph whose aliases expand to more than `max_values` values, wherever in the
    file the bomb is (reported at the top-level key that holds it). PyYAML's composer shares
    aliased nodes, so composing was cheap; walking would not be."""
    tops = root.value if isinstance(root, yaml.MappingNode) else [(root, root)]
    count = 0
    for knode, vnode in tops:
        stack = [vnode]
        while stack:
            node = stack.pop()
            count += 1
            if count > limits.max_values:
                m = knode.start_mark
                raise YamlError(path, m.line + 1, m.column + 1,
                                f"the document expands to more than {limits.max_values} values (alias bomb?)",
                                limits.values_hint, "budget")
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    stack.append(k)
                    stack.append(v)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)


def compose(text: str, path: str = "<string>", limits: Limits = DEFAULT_LIMITS):
    """The document's node graph (with line/column marks), or None for an empty document.
    Raises YamlError for anything the limits refuse or YAML cannot read."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise YamlError(path, 1, 1, f"file is larger than {_size(limits.max_bytes)}", code="size")
    root = None
    done = False
    if getattr(yaml, "__with_libyaml__", False):
        try:
            _scan(text, yaml.CSafeLoader, path, limits)
            root = yaml.compose(text, Loader=yaml.CSafeLoader)
            done = True
        except yaml.YAMLError:
            pass  # re-read below: our own check, or the syntax error with Python's marks
    if not done:
        try:
            _scan(text, yaml.SafeLoader, path, limits)
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise _syntax_error(exc, text, path) from None
        except RecursionError:  # cannot happen below max_depth; kept as the last guard
            raise YamlError(path, 1, 1, "nesting is too deep to read", limits.depth_hint, "budget") from None
    if root is not None and limits.aliases:
        _check_expansion(root, path, limits)
    if root is not None and _SURROGATE.search(text):
        _check_surrogates(root, path)
    return root


_SURROGATE = re.compile(r"[\ud800-\udfff]|\\[uU]0*[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_surrogates(root, path: str) -> None:
    """A double-quoted "\\ud800" is a lone surrogate: not text, and it raised
    UnicodeEncodeError wherever a prompt was hashed, rendered or written."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if re.search(r"[\ud800-\udfff]", node.value):
                m = node.start_mark
                raise YamlError(path, m.line + 1, m.column + 1, "text holds a lone surrogate (\\ud800-\\udfff), not a character",
                                code="text")
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack += [k, v]
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _size(n: int) -> str:
    return f"{n // 1024 // 1024} MiB" if n % (1024 * 1024) == 0 else f"{n // 1024} KiB"


def read_text(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> str:
    """A file's text, refusing one that is too large or not UTF-8, with a YamlError."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.max_bytes:
            raise YamlError(str(p), 1, 1, f"file is larger than {_size(limits.max_bytes)}", code="size")
        with p.open("rb") as f:     # at most one byte over: /dev/zero has no size and no end
            raw = f.read(limits.max_bytes + 1)
    except OSError as exc:
        raise YamlError(str(p), 1, 1, f"cannot read file: {exc.strerror or exc}", code="io") from None
    if len(raw) > limits.max_bytes:   # a file that grew, or a device without a size
        raise YamlError(str(p), 1, 1, f"file is larger than {_size(limits.max_bytes)}", code="size")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(str(p), raw[: exc.start].count(b"\n") + 1, 1, "file is not UTF-8 text", code="text") from None


# ---- plain data for scenarios and other simple files -------------------------------------
class _Constructor(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        keys = set()
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in keys:
                    raise YamlError(self.name, k.start_mark.line + 1, k.start_mark.column + 1,
                                    f"duplicate key '{k.value}'", code="duplicate")
                keys.add(k.value)
        d = LineDict(super().construct_mapping(node, deep=True))
        d.line, d.col = node.start_mark.line + 1, node.start_mark.column + 1
        d.key_lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
        return d

    def construct_yaml_timestamp(self, node):  # noqa: D401 - PyYAML hook
        # an unquoted date YAML cannot build (2026-02-30, hour 25) raised a bare ValueError
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise YamlError(self.name, node.start_mark.line + 1, node.start_mark.column + 1,
                            f"not a valid date or time: {node.value}") from None


_Constructor.add_constructor("tag:yaml.org,2002:map", _Constructor.construct_mapping)
_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_yaml_timestamp)


def load_yaml(text: str, path: str = "<string>", limits: Limits = DEFAULT_LIMITS):
    """Parse YAML text safely into Python data; raises YamlError with file:line:col."""
    node = compose(text, path, limits)
    if node is None:
        return None
    loader = _Constructor("")
    loader.name = path
    try:
        return loader.construct_document(node)
    except yaml.YAMLError as exc:   # e.g. an unknown tag
        raise _syntax_error(exc, text, path) from None
    finally:
        loader.dispose()


def load_yaml_file(path, limits: Limits = DEFAULT_LIMITS) -> object:
    return load_yaml(read_text(path, limits), str(path), limits)
