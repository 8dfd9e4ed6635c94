"""Safe YAML reading for user files other than call trees (scenarios, configs).

`yaml.safe_load` is safe from code execution but not from alias bombs (a few hundred bytes
that expand to billions of values) or from nesting deep enough to exhaust the stack. This
reader composes the document first, counts every value an alias would expand to and the
nesting depth, and only then builds Python objects -- mappings as `LineDict`, which
remember their line so errors can say where.
"""
from __future__ import annotations

import yaml

MAX_VALUES = 200_000
MAX_DEPTH = 40
MAX_BYTES = 4 * 1024 * 1024


class YamlError(ValueError):
    def __init__(self, path: str, line: int, col: int, message: str):
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path, self.line, self.col, self.message = path, line, col, message


class LineDict(dict):
    """A dict that knows where it was written (1-based line and column)."""

    line: int = 0
    col: int = 0


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        keys = set()
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in keys:
                    raise YamlError(self.name, k.start_mark.line + 1, k.start_mark.column + 1,
                                    f"duplicate key '{k.value}'")
                keys.add(k.value)
        d = LineDict(super().construct_mapping(node, deep=True))
        d.line, d.col = node.start_mark.line + 1, node.start_mark.column + 1
        return d


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)


def _count(node, depth: int, budget: list[int], path: str) -> None:
    budget[0] += 1
    if budget[0] > MAX_VALUES:
        raise YamlError(path, 1, 1, f"document expands to more than {MAX_VALUES} values (alias bomb?)")
    if depth > MAX_DEPTH:
        m = node.start_mark
        raise YamlError(path, m.line + 1, m.column + 1, f"nesting deeper than {MAX_DEPTH} levels")
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _count(k, depth + 1, budget, path)
            _count(v, depth + 1, budget, path)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            _count(v, depth + 1, budget, path)


def load_yaml(text: str, path: str = "<string>"):
    """Parse YAML text safely; raises YamlError with file:line:col."""
    if len(text) > MAX_BYTES:
        raise YamlError(path, 1, 1, f"file is larger than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None
        _count(node, 0, [0], path)
        loader = _Loader(text)
        loader.name = path
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        m = exc.problem_mark or exc.context_mark
        raise YamlError(path, (m.line + 1) if m else 1, (m.column + 1) if m else 1,
                        f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, 1, f"YAML error: {exc}") from None
    except RecursionError:
        raise YamlError(path, 1, 1, "nesting is too deep to read") from None


def load_yaml_file(path) -> object:
    from pathlib import Path

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise YamlError(str(p), 1, 1, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise YamlError(str(p), 1, 1, f"file is larger than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(str(p), raw[: exc.start].count(b"\n") + 1, 1, "file is not UTF-8 text") from None
    return load_yaml(text, str(p))
