"""A seeded mutation fuzzer over vika.yaml: whatever the text, loading ends in a Tree or a
TreeLoadError (never another exception), and lint and the diagram builder never crash on a
tree that loads. No hypothesis needed: a fixed seed keeps failures reproducible."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from ivr.tree.graph import build
from ivr.tree.lint import lint
from ivr.tree.loader import TreeLoadError, load_tree_text

VIKA = (Path(__file__).resolve().parents[1] / "menus" / "vika.yaml").read_text(encoding="utf-8")
SEED = 165
NOISE = ["*", "&a", "*a", "!!binary", "{", "}", "[", "]", ":", "- ", "? ", "|", ">", "'", '"', "#", "\t",
         "%YAML 1.1", "---", "...", "~", "null", "0x1F", "1:20", ".inf", ".nan", "{nik}", "{ nik }", "\x00",
         "\ufeff", "é", "<<: *a", "type: menu", "goto: nowhere", "options: {}", "timeout: -1"]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not lines:
            lines = ["\n"]
        i = rng.randrange(len(lines))
        op = rng.randrange(9)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif op == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:  # indentation
            delta = rng.choice([-4, -2, -1, 1, 2, 4])
            stripped = lines[i].lstrip(" ")
            indent = max(0, len(lines[i]) - len(stripped) + delta)
            lines[i] = " " * indent + stripped
        elif op == 4:  # random bytes as text
            pos = rng.randrange(len(lines[i]) + 1)
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6))).decode("latin-1")
            lines[i] = lines[i][:pos] + junk + lines[i][pos:]
        elif op == 5:  # YAML-significant noise
            pos = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + rng.choice(NOISE) + lines[i][pos:]
        elif op == 6:  # truncate
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: rng.randrange(len(lines[-1]) + 1)]
        elif op == 7:  # swap two node ids (breaks gotos)
            words = [w for w in lines[i].replace(":", " ").split() if w.isidentifier()]
            if words:
                w = rng.choice(words)
                lines[i] = lines[i].replace(w, w[::-1], 1)
        else:  # delete a character
            if lines[i]:
                pos = rng.randrange(len(lines[i]))
                lines[i] = lines[i][:pos] + lines[i][pos + 1:]
    return "".join(lines)


@pytest.mark.parametrize("composer, mutants", [("libyaml", 400), ("python", 60)])
def test_mutants_load_or_fail_cleanly(composer, mutants, monkeypatch):
    if composer == "python":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    rng = random.Random(SEED if composer == "libyaml" else SEED + 2)
    loaded = failed = 0
    for k in range(mutants):
        text = mutate(VIKA, rng)
        try:
            tree = load_tree_text(text, f"mutant{k}.yaml")
        except TreeLoadError as exc:
            failed += 1
            assert exc.errors, k
            for e in exc.errors:
                assert e.pos.line >= 1 and e.pos.col >= 1 and e.message, (k, e)
                assert e.severity == "error"
            continue
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutant {k} (seed {SEED}) raised {type(exc).__name__}: {exc}\n---\n{text}")
        loaded += 1
        try:
            for e in lint(tree):
                assert e.severity in ("error", "warning") and e.pos.line >= 1
            build(tree)
        except Exception as exc:  # noqa: BLE001
            pytest.fail(f"lint/graph of mutant {k} (seed {SEED}) raised {type(exc).__name__}: {exc}\n---\n{text}")
    # the fuzzer must exercise both paths, or it tests nothing
    assert loaded >= mutants // 10 and failed >= mutants // 4, (loaded, failed)


def test_random_bytes_never_crash():
    rng = random.Random(SEED + 1)
    for k in range(100):
        raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))
        text = raw.decode("utf-8", "replace")
        try:
            load_tree_text(text, f"bytes{k}.yaml")
        except TreeLoadError:
            pass
