"""Benchmark: batch queue simulation speed, our model vs a plain SimPy model, same process.

    python -m bench.queue [--calls 1000000] [--agents 12] [--seed 1]

Both simulate M/M/12+M (traffic 10 Erl, AHT 180 s, mean patience 120 s) for the same number
of calls. The reference is the straightforward SimPy textbook model: one process per caller,
a ``simpy.Resource`` for the agents and ``yield request | env.timeout(patience)`` for
abandonment. Ours is :func:`ivr.queue.simulate.run_batch` on the full queue model (skills,
priorities, shifts, recording every call, batch-means statistics), the same code that runs
behind live calls. Goal: ours no slower than the plain SimPy model. Both results are printed
next to the Erlang A values so a fast-but-wrong run would show.
"""
from __future__ import annotations

import argparse
import random
import time

import simpy

from ivr.queue.config import single_queue_config
from ivr.queue.erlang import erlang_a
from ivr.queue.simulate import run_batch

TRAFFIC, AHT, PATIENCE = 10.0, 180.0, 120.0


def simpy_reference(calls: int, agents: int, seed: int) -> dict[str, float]:
    """Plain SimPy M/M/c+M: Resource + patience via ``yield req | env.timeout(patience)``."""
    env = simpy.Environment()
    staff = simpy.Resource(env, capacity=agents)
    rng = random.Random(seed)
    lam = TRAFFIC / AHT
    stats = {"waited": 0, "abandoned": 0, "wait_sum": 0.0}

    def caller(env: simpy.Environment):
        arrival = env.now
        patience = rng.expovariate(1.0 / PATIENCE)
        with staff.request() as req:
            got = yield req | env.timeout(patience)
            wait = env.now - arrival
            stats["wait_sum"] += wait
            if wait > 0:
                stats["waited"] += 1
            if req in got:
                yield env.timeout(rng.expovariate(1.0 / AHT))
            else:
                stats["abandoned"] += 1

    def source(env: simpy.Environment):
        for _ in range(calls):
            yield env.timeout(rng.expovariate(lam))
            env.process(caller(env))

    env.process(source(env))
    env.run()
    return {
        "p_wait": stats["waited"] / calls,
        "mean_wait": stats["wait_sum"] / calls,
        "p_abandon": stats["abandoned"] / calls,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.queue", description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=float, default=1_000_000, help="calls per model (default 1e6)")
    ap.add_argument("--agents", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    calls = int(args.calls)
    theory = erlang_a(TRAFFIC, AHT, args.agents, PATIENCE)
    cfg = single_queue_config(TRAFFIC, AHT, args.agents, PATIENCE)

    print(f"M/M/{args.agents}+M, {TRAFFIC:g} Erl, AHT {AHT:g} s, patience {PATIENCE:g} s, {calls:,} calls")
    run_batch(cfg, 2000, args.seed)  # import / first-call warm-up (scipy, numpy)
    t0 = time.perf_counter()
    ours = run_batch(cfg, calls, args.seed)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = simpy_reference(calls, args.agents, args.seed)
    t_ref = time.perf_counter() - t0

    print(f"{'model':<28}{'wall s':>9}{'us/call':>9}{'P(wait)':>10}{'mean wait':>11}{'P(abandon)':>12}")
    print(f"{'Erlang A (exact)':<28}{'':>9}{'':>9}{theory.p_wait:>10.4f}{theory.mean_wait:>11.2f}{theory.p_abandon:>12.4f}")
    print(f"{'ivr queue model (run_batch)':<28}{t_ours:>9.2f}{t_ours / calls * 1e6:>9.2f}"
          f"{ours.p_wait.mean:>10.4f}{ours.mean_wait.mean:>11.2f}{ours.p_abandon.mean:>12.4f}")
    print(f"{'plain SimPy reference':<28}{t_ref:>9.2f}{t_ref / calls * 1e6:>9.2f}"
          f"{ref['p_wait']:>10.4f}{ref['mean_wait']:>11.2f}{ref['p_abandon']:>12.4f}")
    ratio = t_ref / t_ours
    print(f"speed-up vs plain SimPy: {ratio:.2f}x ({'goal met' if ratio >= 1.0 else 'SLOWER than plain SimPy'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
