"""Scripted keypad calls per second through the engine on menus/vika.yaml.

    python -m bench.calls [--calls 20000]

Three figures, measured in the same run on one core:
  * baseline: replaying the same event lists into a no-op handler (the floor any driver pays);
  * engine: CallSession fed the events directly (what the state machine itself costs);
  * driver: the full scripted driver (virtual clock, runtime, transcript, services) as
    `ivr call --keys` and `ivr test` use it, with an in-memory participant service.
Goal (issue 2): >= 5,000 calls/s single core.

A last line compares a short and a long call in the same run (keys pressed during prompts,
"1*" repeated, with no call limit): the time per key must not grow with the call's length
(issue 10: barge-in once scanned every prompt played so far, so long calls went quadratic).
Ratio ~1 is linear; a quadratic driver gives about short/long.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from pathlib import Path

from ivr.drivers.runtime import CallRuntime
from ivr.drivers.scripted import ScriptedCall
from ivr.engine.events import ServiceDone
from ivr.engine.session import CallSession
from ivr.tree.loader import load_tree

TREE = Path(__file__).resolve().parents[1] / "menus" / "vika.yaml"
SCRIPTS = ["2 1 9", "3 4", "3 5 1", "4 1 1 9", "9 8 7", "1 2 www", "2 3 5 1 9", "0 7"]
NIK_SCRIPT = "1 1 3174054508900002# 08091990 9"


class _Res:
    def __init__(self, outcome, vars):
        self.outcome, self.vars = outcome, vars


class MemoryServices:
    """A participant service with one fixed answer: the bench measures the engine, not SQLite."""

    def invoke(self, name, args, today=None):
        return _Res("aktif", {"nama": "Budi", "status": "aktif", "kelas": "Kelas 3", "segmen": "PBPU",
                              "fktp": "Puskesmas", "tagihan": "Rp0", "iuran": "Rp35.000",
                              "jatuh_tempo": "10 Desember 2026", "va": "8888801234567890",
                              "tunggakan_bulan": "0"})


def record_events(tree, script: str) -> list:
    """Run a script once through the driver and record the events it sent."""
    events: list = []
    rt = CallRuntime(tree, services=MemoryServices(), today=dt.date(2026, 11, 23))
    orig = rt.feed

    def feed(ev):
        events.append(ev)
        return orig(ev)

    rt.feed = feed
    call = ScriptedCall(rt)
    call.start()
    call.press(script)
    call.finish_input()
    call.hangup()
    return [e for e in events if not isinstance(e, ServiceDone)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--tree", type=Path, default=TREE,
                    help="call tree (default: menus/vika.yaml); give an older tree to compare code on the same tree")
    args = ap.parse_args(argv)
    if args.calls < 1:
        ap.error("--calls must be at least 1")
    tree = load_tree(args.tree)
    scripts = SCRIPTS + [NIK_SCRIPT]
    recorded = [record_events(tree, s) for s in scripts]
    n = args.calls
    svc = MemoryServices()

    def run_engine(i: int) -> None:
        s = CallSession(tree)
        s.start(0.0)
        for ev in recorded[i % len(recorded)]:
            for a in s.handle(ev):
                if type(a).__name__ == "Invoke":
                    r = svc.invoke(a.service, a.args)
                    s.handle(ServiceDone(r.outcome, r.vars, at=ev.at))

    def run_baseline(i: int) -> None:
        sink = []
        for ev in recorded[i % len(recorded)]:
            sink.append(ev)

    def run_driver(i: int) -> None:
        rt = CallRuntime(tree, services=svc, today=dt.date(2026, 11, 23))
        c = ScriptedCall(rt)
        c.start()
        c.press(scripts[i % len(scripts)])
        c.finish_input()
        c.hangup()

    figures = {}
    for name, fn in (("baseline (event replay, no engine)", run_baseline),
                     ("engine (CallSession only)", run_engine),
                     ("driver (scripted keys, full runtime)", run_driver)):
        fn(0)
        t0 = time.perf_counter()
        for i in range(n):
            fn(i)
        dt_s = time.perf_counter() - t0
        figures[name] = n / dt_s
    events_per_call = sum(map(len, recorded)) / len(recorded)
    print(f"tree: {args.tree.name} ({len(tree.nodes)} nodes); {n} calls; {len(scripts)} scripts, "
          f"{events_per_call:.1f} events/call on average")
    base = figures["baseline (event replay, no engine)"]
    for name, cps in figures.items():
        print(f"  {name:40s} {cps:12,.0f} calls/s   ({base / cps:6.1f}x the baseline's time per call)")
    eng = figures["driver (scripted keys, full runtime)"]
    print(f"goal >= 5,000 calls/s single core: driver reaches {eng:,.0f} calls/s "
          f"({'met' if eng >= 5000 else 'NOT met'})")
    call_length_line(tree, svc)
    return 0


def call_length_line(tree, svc, short_keys: int = 200, long_keys: int = 16000) -> float:
    """Keys/s of a short and a long call (no call limit): the ratio shows linearity."""
    unlimited = dataclasses.replace(tree, max_call_seconds=1e12)

    def keys_per_s(n_pairs: int, repeat: int) -> float:
        t0 = time.perf_counter()
        for _ in range(repeat):
            rt = CallRuntime(unlimited, services=svc, today=dt.date(2026, 11, 23))
            c = ScriptedCall(rt)
            c.start()
            c.press("1*" * n_pairs, barge=True)
            assert not rt.ended, "the bench call ended early"
        return 2 * n_pairs * repeat / (time.perf_counter() - t0)

    short = keys_per_s(short_keys // 2, max(1, long_keys // short_keys))
    long = keys_per_s(long_keys // 2, 1)
    ratio = long / short
    print(f"call length: {short_keys}-key calls {short:,.0f} keys/s ({short / short_keys:,.1f} calls/s), "
          f"one {long_keys}-key call {long:,.0f} keys/s; long/short = {ratio:.2f} "
          f"({'linear' if ratio >= 0.7 else 'SLOWS with call length'})")
    return ratio


if __name__ == "__main__":
    raise SystemExit(main())
