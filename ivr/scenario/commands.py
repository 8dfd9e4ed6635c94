"""`ivr test`: run scenario files against call trees, with node coverage and JUnit XML."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ivr.cli import CliError
from ivr.privacy import mask_pii


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("test", help="run scenario tests (YAML) against call trees",
                       description="Run scenario files (or every *.yaml under a directory). "
                                   "Reports pass/fail per scenario and node coverage per tree.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="scenario file or directory")
    p.add_argument("--junit", metavar="OUT.xml", help="write JUnit XML results")
    p.add_argument("--min-coverage", type=float, default=None, metavar="PCT",
                   help="fail unless every tree's node coverage is at least PCT percent")
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
        else:
            raise CliError(f"{raw}: no such file or directory")
    if not out:
        raise CliError("no scenario files found (*.yaml)")
    return out


def run_tests(args) -> int:
    from ivr.drivers.setup import default_tree_path, open_services
    from ivr.scenario.runner import ScenarioError, load_scenarios, run_scenario

    if args.min_coverage is not None and not 0 <= args.min_coverage <= 100:
        raise CliError(f"--min-coverage is a percentage from 0 to 100, got {args.min_coverage:g}")
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
    visited: dict[str, set[str]] = {}
    for r in results:
        visited.setdefault(str(r.scenario.tree), set()).update(r.visited)
    ok_cov = True
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
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} passed, {failed} failed")
    if args.junit:
        from ivr.scenario.junit import write_junit

        try:
            write_junit(results, args.junit, coverage, unmask=args.unmask)
        except OSError as exc:
            raise CliError(f"--junit {args.junit}: {exc.strerror or exc}") from None
        print(f"JUnit XML: {args.junit}", file=sys.stderr)
    if not ok_cov:
        print(f"node coverage below {args.min_coverage:g}%", file=sys.stderr)
        return 1
    return 1 if failed else 0
