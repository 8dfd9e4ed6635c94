"""Batch staffing study: run the queue model for N calls and estimate its figures with 95% CIs.

Why: the live queue and the staffing table must come from the *same* model
(:class:`ivr.queue.model.QueueModel`), and a batch figure is only useful with an honest error
bar. Confidence intervals use the method of batch means: after a warm-up (default the first
2% of calls, which start from an empty queue), the calls are cut in ``batches`` consecutive
groups by arrival order; each figure is computed per group and the interval is
mean +- t(0.975, batches-1) * sd / sqrt(batches).

Definitions (per arriving call, blocked calls included in "all arrivals"):

* P(wait): the call found no free agent who could answer it (it queued or was refused).
* mean wait: time in queue averaged over all arrivals, abandoners' time included (Erlang A
  E[Wq]; equals ASA in Erlang C where nobody abandons).
* ASA: mean time in queue of answered calls.
* service level SL(t): calls answered within t seconds / all arrivals (a call that abandons,
  even before t, or is refused counts as not answered), the same definition as the Erlang A
  figures in :mod:`ivr.queue.erlang`.
* abandonment: calls that hung up while waiting / all arrivals. blocked: refused (queue full).
* occupancy: agent busy time / agent on-duty time over the measured period.

Batch means assume a stationary process: true for M/M/c(+M) and for a config held at one
hour's arrival rate (``--hour``); with the hourly profile the intervals are indicative only.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import simpy

from .config import QueueConfig
from .model import ABANDONED, BLOCKED, SERVED, QueueModel

__all__ = ["Estimate", "BatchResult", "run_batch", "plot_results"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% confidence half-width."""

    mean: float
    half: float

    @property
    def lo(self) -> float:
        return self.mean - self.half

    @property
    def hi(self) -> float:
        return self.mean + self.half

    def contains(self, x: float) -> bool:
        return self.lo <= x <= self.hi

    def fmt(self, digits: int = 4) -> str:
        if math.isnan(self.mean):
            return "-"
        return f"{self.mean:.{digits}f} ±{self.half:.{digits}f}"


@dataclass
class BatchResult:
    """Figures of one batch run (one staffing level)."""

    label: str
    agents: int | None
    calls: int  # measured calls (after warm-up)
    warmup: int
    batches: int
    target: float
    p_wait: Estimate
    mean_wait: Estimate
    asa: Estimate
    service_level: Estimate
    p_abandon: Estimate
    p_blocked: Estimate
    occupancy: Estimate
    sim_hours: float
    wall_s: float
    waits: np.ndarray  # time in queue of every measured call (0 when answered at once)
    outcomes: np.ndarray  # SERVED / ABANDONED / BLOCKED per measured call
    queue_ids: np.ndarray  # index into queue_names per measured call
    queue_names: tuple[str, ...]

    def by_queue(self) -> dict[str, dict[str, float]]:
        """Point figures per queue (calls, P(abandon), mean wait, SL) for per-request-type views."""
        out: dict[str, dict[str, float]] = {}
        for i, name in enumerate(self.queue_names):
            sel = self.queue_ids == i
            n = int(sel.sum())
            if n == 0:
                continue
            w = np.nan_to_num(self.waits[sel], nan=0.0)
            o = self.outcomes[sel]
            out[name] = {
                "calls": float(n),
                "p_abandon": float((o == ABANDONED).mean()),
                "p_blocked": float((o == BLOCKED).mean()),
                "mean_wait": float(w.mean()),
                "service_level": float(((o == SERVED) & (w <= self.target)).mean()),
            }
        return out


def _ci(values: np.ndarray) -> Estimate:
    from scipy.stats import t as student_t

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return Estimate(float("nan"), float("nan"))
    if len(v) == 1:
        return Estimate(float(v[0]), float("inf"))
    half = float(student_t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return Estimate(float(v.mean()), half)


def run_batch(
    config: QueueConfig,
    calls: int,
    seed: int | None = 0,
    *,
    target: float = 20.0,
    warmup: int | None = None,
    batches: int = 20,
    label: str = "",
    agents: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Simulate ``calls`` arrivals of ``config`` and return figures with 95% CIs."""
    if batches < 2:
        raise ValueError("need at least 2 batches for a confidence interval")
    if warmup is None:
        warmup = calls // 50
    if calls - warmup < batches * 10:
        raise ValueError(f"too few calls ({calls}) for {batches} batches after a warm-up of {warmup}")
    size = (calls - warmup) // batches
    bounds = [warmup + b * size for b in range(batches)] + [warmup + batches * size - 1]
    env = simpy.Environment()
    model = QueueModel(env, config, seed, max_calls=calls, record=True, marks=bounds, progress=progress)
    t0 = time.perf_counter()
    model.start()
    env.run()
    model._purge(math.inf)  # anyone still waiting when events ran out hangs up at its deadline
    wall = time.perf_counter() - t0
    if progress is not None:
        progress(calls)
    rec = model.rec
    assert rec is not None
    end = warmup + batches * size
    outcome = np.asarray(rec.outcome[warmup:end], dtype=np.int8)
    wait = np.asarray(rec.wait[warmup:end], dtype=float)
    served = outcome == SERVED
    abandoned = outcome == ABANDONED
    blocked = outcome == BLOCKED
    unfinished = outcome < 0  # only if nobody could ever answer and patience is infinite
    waited = abandoned | blocked | unfinished | (served & (wait > 0.0))
    within = served & (wait <= target)

    def per_batch(x: np.ndarray) -> np.ndarray:
        return x.reshape(batches, size).mean(axis=1)

    served_b = served.reshape(batches, size)
    wait_b = np.where(served, wait, 0.0).reshape(batches, size)
    with np.errstate(invalid="ignore", divide="ignore"):
        asa_b = wait_b.sum(axis=1) / served_b.sum(axis=1)
    marks = {m[0]: m for m in model.mark_values}
    occ = []
    for b in range(batches):
        a, z = marks.get(bounds[b]), marks.get(bounds[b + 1])
        if a and z and z[3] > a[3]:
            occ.append((z[2] - a[2]) / (z[3] - a[3]))
    wait_all = np.where(unfinished, np.nan, wait)
    return BatchResult(
        label=label or (f"{agents} agents" if agents else "configured shifts"),
        agents=agents,
        calls=int(end - warmup),
        warmup=warmup,
        batches=batches,
        target=target,
        p_wait=_ci(per_batch(waited)),
        mean_wait=_ci(per_batch(np.nan_to_num(wait_all, nan=0.0))),
        asa=_ci(asa_b),
        service_level=_ci(per_batch(within)),
        p_abandon=_ci(per_batch(abandoned | unfinished)),
        p_blocked=_ci(per_batch(blocked)),
        occupancy=_ci(np.asarray(occ)),
        sim_hours=env.now / 3600.0,
        wall_s=wall,
        waits=wait_all,
        outcomes=outcome,
        queue_ids=np.asarray(rec.queue[warmup:end], dtype=np.int16),
        queue_names=tuple(model.names),
    )


def plot_results(results: list[BatchResult], path: str, *, title: str = "",
                 theory: dict[int, float] | None = None) -> None:
    """Two panels: P(time in queue > t) per staffing level, and SL(target) vs agents with 95%
    CIs (and the Erlang value per agent count when ``theory`` is given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    tmax = 1.0
    for r in results:
        w = np.sort(r.waits[np.isfinite(r.waits)])
        if len(w) == 0:
            continue
        tmax = max(tmax, float(np.quantile(w, 0.995)))
        ccdf = 1.0 - np.arange(1, len(w) + 1) / len(w)
        step = max(1, len(w) // 2000)
        ax1.step(w[::step], ccdf[::step], where="post", label=r.label)
    ax1.set_xlim(0, tmax)
    ax1.set_xlabel("time in queue t (s)")
    ax1.set_ylabel("P(time in queue > t), all arrivals")
    ax1.set_title("Wait-time distribution")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)

    xs = [r.agents if r.agents is not None else i for i, r in enumerate(results)]
    target = results[0].target if results else 20.0
    ax2.errorbar(xs, [r.service_level.mean for r in results],
                 yerr=[r.service_level.half for r in results], fmt="o-", capsize=3, label="simulated (95% CI)")
    if theory:
        tx = sorted(theory)
        ax2.plot(tx, [theory[x] for x in tx], "k--", lw=1, label="Erlang")
    from matplotlib.ticker import MaxNLocator

    ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_xlabel("agents")
    ax2.set_ylabel(f"answered within {target:g} s / all arrivals")
    ax2.set_title(f"Service level SL({target:g})")
    ax2.set_ylim(0, 1.02)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
