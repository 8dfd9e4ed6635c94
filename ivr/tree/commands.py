"""`ivr lint`, `ivr graph` and `ivr schema`: check, draw and describe call trees."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ivr.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ivr`."""
    p = sub.add_parser(
        "lint", help="check call trees (loader errors, unreachable nodes, loops, clashes...)",
        description="Load each tree and report every problem as file:line:col: severity: message (hint). "
                    "Exit 0 only when there is nothing to report (warnings count, unless --allow-warnings); "
                    "1 when a tree has problems; 2 when a file is missing.")
    p.add_argument("trees", nargs="+", metavar="TREE", help="call tree YAML file(s), or directories of them")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--allow-warnings", action="store_true", help="exit 0 when there are warnings but no errors")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.add_argument("--max-prompt-seconds", type=float, default=20.0, metavar="S",
                   help="warn about prompts longer than this many seconds of speech (rendered with the "
                        "offline TTS; filled-in prompts with the worst case of their variables; default 20)")
    p.add_argument("--max-options", type=int, default=5, metavar="N",
                   help="a menu with more options than this is an error (default 5)")
    p.set_defaults(func=cmd_lint)

    g = sub.add_parser(
        "graph", help="draw a call tree (svg, png, pdf or dot)",
        description="Draw the tree with Graphviz: node shapes by kind, option keys and service outcomes "
                    "on the edges, dashed edges where max failures/timeouts lead.")
    g.add_argument("tree", metavar="TREE", help="call tree YAML file")
    g.add_argument("-o", "--output", required=True, help="output file; the format follows the suffix (.svg .png .pdf .dot)")
    g.add_argument("--no-labels", action="store_true", help="node ids only, no edge labels")
    g.add_argument("--rankdir", choices=("LR", "TB"), default="LR", help="layout direction (default LR)")
    g.set_defaults(func=cmd_graph)

    s = sub.add_parser("schema", help="print the JSON Schema of the call-tree format",
                       description="The JSON Schema (draft 2020-12) of call-tree YAML, for editor completion "
                                   "(e.g. `# yaml-language-server: $schema=ivr-tree.schema.json`).")
    s.add_argument("-o", "--output", help="write to this file instead of stdout")
    s.set_defaults(func=cmd_schema)


def cmd_lint(args: argparse.Namespace) -> int:
    from ivr.tree.budget import Budget
    from ivr.tree.lint import lint_file

    if not (0 < args.max_prompt_seconds < float("inf")):
        raise CliError(f"--max-prompt-seconds must be a positive number of seconds, got {args.max_prompt_seconds}")
    if args.max_options < 1:
        raise CliError(f"--max-options must be at least 1, got {args.max_options}")
    budget = Budget(args.max_prompt_seconds, args.max_options)

    results = []
    missing = []
    paths: list[str] = []
    for path in args.trees:
        if Path(path).is_dir():
            found = sorted(str(f) for f in Path(path).rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file())
            if not found:
                missing.append(f"{path}: no .yaml files in this directory")
            paths.extend(found)
        else:
            paths.append(path)
    for path in paths:
        try:
            results.append(lint_file(path, budget))
        except FileNotFoundError:
            missing.append(f"{path}: no such file")
        except IsADirectoryError:
            missing.append(f"{path}: is a directory, not a tree file")
    if args.json:
        doc = {
            "files": [{"path": r.path, "loaded": r.loaded, "nodes": r.nodes, "errors": r.errors,
                       "warnings": r.warnings,
                       "problems": [{"file": e.pos.file, "line": e.pos.line, "col": e.pos.col,
                                     "severity": e.severity, "code": e.code, "message": e.message,
                                     "hint": e.hint} for e in r.problems]} for r in results],
            "missing": missing,
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for r in results:
            for e in r.problems:
                print(e)
        if not args.quiet and results:
            errors = sum(r.errors for r in results)
            warnings = sum(r.warnings for r in results)
            unread = sum(1 for r in results if not r.loaded)
            files = f"{len(results)} file" + ("s" if len(results) != 1 else "")
            nodes = sum(r.nodes for r in results)
            line = f"{files}, {nodes} nodes: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
            if unread:
                line += f" ({unread} could not be loaded)"
            print(line)
    for note in dict.fromkeys(r.note for r in results if r.note):
        print(f"ivr: note: {note}", file=sys.stderr)
    if missing:
        for m in missing:
            print(f"ivr: error: {m}", file=sys.stderr)
        return 2
    failed = any(r.errors or (r.warnings and not args.allow_warnings) for r in results)
    return 1 if failed else 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def cmd_graph(args: argparse.Namespace) -> int:
    from ivr.tree.graph import GraphError, output_format, render
    from ivr.tree.loader import TreeLoadError, load_tree

    try:
        output_format(args.output)
    except GraphError as exc:
        raise CliError(str(exc)) from None
    if not Path(args.tree).is_file():
        raise CliError(f"{args.tree}: no such file")
    try:
        tree = load_tree(args.tree)
    except TreeLoadError as exc:
        raise CliError(exc.summary()) from None
    try:
        out = render(tree, args.output, labels=not args.no_labels, rankdir=args.rankdir)
    except GraphError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{args.output}: {exc.strerror or exc}") from None
    print(f"wrote {out} ({len(tree.nodes)} nodes)")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from ivr.tree.schema import json_schema

    text = json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{args.output}: {exc.strerror or exc}") from None
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0
