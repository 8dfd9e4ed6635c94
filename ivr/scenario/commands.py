"""`ivr test`: run scenario files against call trees, with node coverage and JUnit XML."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ivr.cli import CliError, parse_today
from ivr.privacy import mask_pii


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("test", help="run scenario tests (YAML) against call trees; --generate writes them",
                       description="Run scenario files (or every *.yaml under a directory). "
                                   "Reports pass/fail per scenario and node and edge coverage per tree. "
                                   "With --generate TREE -o DIR: write a scenario file per path of a covering "
                                   "set of the tree (not every path: loops make those infinite): every edge "
                                   "at least once, each listening node's timeout, wrong answers and exceeded "
                                   "branch once, each service outcome once (demo participants), and the "
                                   "queue outcomes served and callback per transfer, abandon and full once. "
                                   "Same tree, same files; the files say how to regenerate them.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="scenario file or directory")
    p.add_argument("--generate", metavar="TREE", help="write generated scenarios for TREE into -o DIR (then exit)")
    p.add_argument("-o", "--out", metavar="DIR", help="directory for --generate (earlier generated files in it "
                                                      "that are no longer part of the suite are removed)")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the date generated calls use (default 2026-11-23, the "
                                                          "demo participants' reference date)")
    p.add_argument("--junit", metavar="OUT.xml", help="write JUnit XML results")
    p.add_argument("--min-coverage", type=float, default=None, metavar="PCT",
                   help="fail unless every tree's node coverage is at least PCT percent")
    p.add_argument("--min-edge-coverage", type=float, default=None, metavar="PCT",
                   help="fail unless every tree's edge coverage is at least PCT percent (an edge: two nodes "
                        "an option, next, branch, default, on_exceeded, agent or callback links)")
    p.add_argument("--db", help="participants database for the services (default: a fresh in-memory copy "
                                "per scenario, so scenarios cannot affect each other)")
    p.add_argument("-v", "--verbose", action="store_true", help="print the transcript of failing scenarios")
    p.add_argument("--unmask", action="store_true",
                   help="show personal data (NIK, dates of birth, phone numbers) in clear in messages and JUnit")
    p.set_defaults(func=run_tests)


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(q for q in p.rglob("*.yaml") if q.is_file())
        elif p.is_file():
            out.append(p)
        elif p.exists():   # /dev/zero, a pipe, a socket
            raise CliError(f"{raw}: not a regular file or folder; expected a scenario file (*.yaml) or a folder of them")
        else:
            raise CliError(f"{raw}: no such file or directory")
    if not out:
        raise CliError("no scenario files found (*.yaml)")
    return out


def _shown_path(p: str) -> str:
    """A path as the regenerate command should show it: relative to here when inside."""
    import os

    rel = os.path.relpath(Path(p).resolve(), Path.cwd())
    return Path(rel if not rel.startswith("..") else Path(p).resolve()).as_posix()


def run_generate(args) -> int:
    from ivr.drivers.setup import open_tree
    from ivr.scenario.generate import DEFAULT_TODAY, generate_suite, write_suite

    if not args.out:
        raise CliError("--generate needs -o DIR (where the scenario files go)")
    if args.paths:
        raise CliError("--generate takes no scenario paths (it writes them into -o DIR)")
    today = parse_today(args.today, default=DEFAULT_TODAY)
    tree = open_tree(args.generate)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"-o {args.out}: not a directory")
    command = f"ivr test --generate {_shown_path(args.generate)} -o {_shown_path(args.out)}" + (
        f" --today {today.isoformat()}" if today != DEFAULT_TODAY else "")
    suite = generate_suite(tree, Path(args.generate), out, command, today)
    try:
        written, removed = write_suite(suite, out)
    except OSError as exc:
        raise CliError(f"-o {args.out}: {exc.strerror or exc}") from None
    print(f"{written} scenario files written to {args.out}" + (f", {removed} stale removed" if removed else "")
          + f" ({suite.replays} calls tried)")
    for g in suite.missed:
        print(f"not reached: {g.title} ({g.kind})")
    return 0


def run_tests(args) -> int:
    from ivr.drivers.setup import default_tree_path, open_services
    from ivr.scenario.runner import ScenarioError, load_scenarios, run_scenario, tree_edges

    if args.generate:
        return run_generate(args)
    if not args.paths:
        raise CliError("give scenario files or directories to run, or --generate TREE -o DIR")
    for flag, v in (("--min-coverage", args.min_coverage), ("--min-edge-coverage", args.min_edge_coverage)):
        if v is not None and not 0 <= v <= 100:
            raise CliError(f"{flag} is a percentage from 0 to 100, got {v:g}")
    default_tree = default_tree_path().resolve()
    scenarios = []
    for f in _files(args.paths):
        try:
            scenarios += load_scenarios(f, default_tree)
        except ScenarioError as exc:
            raise CliError(str(exc)) from None
    services_cache: dict = {}

    def services(db):
        key = db or args.db or ":memory:"
        if key == ":memory:":
            return open_services(key)   # a fresh copy per scenario: no state leaks between them
        if key not in services_cache:
            services_cache[key] = open_services(key)
        return services_cache[key]

    def shown(text: str) -> str:
        return text if args.unmask else mask_pii(text)

    trees: dict = {}
    results = []
    for sc in scenarios:
        r = run_scenario(sc, services, trees, unmask=args.unmask)
        results.append(r)
        mark = "PASS" if r.ok else "FAIL"
        print(f"{mark}  {sc.name}  ({Path(sc.file).name}, {r.seconds * 1000:.1f} ms)")
        if not r.ok:   # personal data masked (unless --unmask), as in the JUnit file and the logs
            for f in r.failures:
                print(f"      {shown(f)}")
            if args.verbose:
                for line in r.transcript:
                    print(f"        {shown(line)}")
    coverage: dict[str, tuple[int, int]] = {}
    edge_coverage: dict[str, tuple[int, int]] = {}
    visited: dict[str, set[str]] = {}
    taken: dict[str, set[tuple[str, str]]] = {}
    for r in results:
        visited.setdefault(str(r.scenario.tree), set()).update(r.visited)
        taken.setdefault(str(r.scenario.tree), set()).update(r.edges)
    ok_cov = ok_edges = True
    for tree_path, seen in visited.items():
        tree = trees.get(tree_path)
        if tree is None or isinstance(tree, Exception):
            continue
        total = set(tree.nodes)
        hit = len(seen & total)
        coverage[tree_path] = (hit, len(total))
        pct = 100.0 * hit / len(total)
        missing = sorted(total - seen)
        print(f"node coverage {tree_path}: {hit}/{len(total)} ({pct:.1f}%)"
              + (f"; never visited: {', '.join(missing)}" if missing else ""))
        if args.min_coverage is not None and pct + 1e-9 < args.min_coverage:
            ok_cov = False
        all_edges = tree_edges(tree)
        got = taken.get(tree_path, set()) & all_edges
        edge_coverage[tree_path] = (len(got), len(all_edges))
        epct = 100.0 * len(got) / len(all_edges) if all_edges else 100.0
        never = sorted(all_edges - got)
        print(f"edge coverage {tree_path}: {len(got)}/{len(all_edges)} ({epct:.1f}%)"
              + (f"; never taken: {', '.join(f'{a}->{b}' for a, b in never)}" if never else ""))
        if args.min_edge_coverage is not None and epct + 1e-9 < args.min_edge_coverage:
            ok_edges = False
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    if args.junit:
        from ivr.scenario.junit import write_junit

        try:
            write_junit(results, args.junit, coverage, unmask=args.unmask, edge_coverage=edge_coverage)
        except OSError as exc:
            raise CliError(f"--junit {args.junit}: {exc.strerror or exc}") from None
        print(f"JUnit XML: {args.junit}", file=sys.stderr)
    if not ok_cov:
        print(f"node coverage below {args.min_coverage:g}%", file=sys.stderr)
    if not ok_edges:
        print(f"edge coverage below {args.min_edge_coverage:g}%", file=sys.stderr)
    if not (ok_cov and ok_edges):
        return 1
    return 1 if failed else 0
