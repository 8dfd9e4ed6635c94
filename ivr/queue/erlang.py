"""Erlang B, Erlang C and Erlang A (M/M/c+M) formulas for the 165 agent queue.

Why this module exists: the simulator's batch figures are only trustworthy if they agree with
closed-form queueing theory where theory applies (Poisson arrivals, exponential handle times,
one pool of identical agents). These functions are that yardstick, and they also give quick
staffing answers (`ivr queue erlang`).

Notation: ``traffic`` A in Erlangs (arrival rate x mean handle time), ``aht`` mean handle time
in seconds, ``agents`` c, ``patience`` mean caller patience in seconds (exponential), ``target``
the answer-time target t in seconds.

* Erlang B by the stable recursion B_k = A B_{k-1} / (k + A B_{k-1}).
* Erlang C: C = c B / (c - A (1 - B)); ASA = C AHT / (c - A);
  SL(t) = 1 - C exp(-(c - A) t / AHT).
* Erlang A (Garnett, Mandelbaum and Reiman 2002): the birth-death chain with birth rate
  lambda and death rate min(n, c) mu + max(n - c, 0) theta is solved exactly (truncated where
  the stationary terms fall below 1e-18 of the total). P(wait) = P(N >= c) (PASTA);
  E[Q] from the chain; P(abandon) = theta E[Q] / lambda; E[Wq] = E[Q] / lambda (time in queue
  averaged over *all* arrivals, abandoners included).
  Service level under abandonment is defined here as **answered within t divided by all
  arrivals** (a caller who abandons, even before t, counts as not answered). It is computed
  exactly: an arrival who finds j callers waiting has an offered wait that is a sum of
  exponentials with rates c mu + i theta (i = j..0), and is answered within t when that wait
  ends before both t and its own patience; this is the absorption probability of a small
  Markov chain, evaluated with a sparse matrix exponential. (pyqueueing's Erlang A service
  level uses an approximation and disagrees with this in the 3rd decimal.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "erlang_b",
    "erlang_c",
    "erlang_c_asa",
    "erlang_c_service_level",
    "ErlangC",
    "ErlangA",
    "erlang_c_figures",
    "erlang_a",
    "offered_wait_mean",
]


def _check(traffic: float, agents: int) -> None:
    if not (isinstance(agents, (int, np.integer)) and agents >= 1):
        raise ValueError(f"agents must be a whole number >= 1, got {agents!r}")
    if not (math.isfinite(traffic) and traffic > 0):
        raise ValueError(f"traffic must be a positive number of Erlangs, got {traffic!r}")


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability of M/M/c/c (Erlang B), by the numerically stable recursion."""
    _check(traffic, agents)
    b = 1.0
    for k in range(1, int(agents) + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C). Needs traffic < agents."""
    _check(traffic, agents)
    if traffic >= agents:
        raise ValueError(
            f"Erlang C needs traffic < agents (queue is unstable: {traffic:g} Erl on {agents} agents)"
        )
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1.0 - b))


def erlang_c_asa(traffic: float, aht: float, agents: int) -> float:
    """Average speed of answer (mean wait of all calls) in M/M/c."""
    return erlang_c(traffic, agents) * aht / (agents - traffic)


def erlang_c_service_level(traffic: float, aht: float, agents: int, target: float) -> float:
    """P(wait <= target) in M/M/c."""
    c = erlang_c(traffic, agents)
    return 1.0 - c * math.exp(-(agents - traffic) * target / aht)


@dataclass(frozen=True)
class ErlangC:
    """Erlang B/C figures for one staffing level."""

    traffic: float
    aht: float
    agents: int
    target: float
    erlang_b: float
    p_wait: float
    asa: float
    service_level: float
    occupancy: float


def erlang_c_figures(traffic: float, aht: float, agents: int, target: float = 20.0) -> ErlangC:
    """All Erlang B / C figures at once (what `ivr queue erlang` prints)."""
    _check_aht(aht)
    return ErlangC(
        traffic=traffic,
        aht=aht,
        agents=agents,
        target=target,
        erlang_b=erlang_b(traffic, agents),
        p_wait=erlang_c(traffic, agents),
        asa=erlang_c_asa(traffic, aht, agents),
        service_level=erlang_c_service_level(traffic, aht, agents, target),
        occupancy=traffic / agents,
    )


def _check_aht(aht: float) -> None:
    if not (math.isfinite(aht) and aht > 0):
        raise ValueError(f"mean handle time must be a positive number of seconds, got {aht!r}")


@dataclass(frozen=True)
class ErlangA:
    """Erlang A (M/M/c+M) figures for one staffing level.

    ``service_level`` is answered within ``target`` / all arrivals.
    ``mean_wait`` is E[Wq] over all arrivals (abandoners' time in queue included).
    """

    traffic: float
    aht: float
    agents: int
    patience: float
    target: float
    p_wait: float
    p_abandon: float
    mean_wait: float
    mean_queue: float
    service_level: float
    occupancy: float
    p_abandon_given_wait: float


def _erlang_a_tail(lam: float, mu: float, theta: float, agents: int) -> np.ndarray:
    """pi_{c+j} / pi_c for j = 0, 1, ... until negligible."""
    terms = [1.0]
    total = 1.0
    j = 0
    cmu = agents * mu
    while True:
        j += 1
        x = terms[-1] * lam / (cmu + j * theta)
        terms.append(x)
        total += x
        if x < 1e-18 * total and j * theta > lam - cmu:
            break
        if j > 2_000_000:
            raise ValueError("Erlang A: queue too long to solve (patience far too long for the load)")
    return np.asarray(terms)


def _answered_within(p_j: np.ndarray, cmu: float, theta: float, target: float) -> float:
    """Sum over j of p_j * P(offered wait with j ahead <= target and < patience)."""
    if target <= 0:
        return 0.0
    n = len(p_j)
    from scipy.sparse import diags
    from scipy.sparse.linalg import expm_multiply

    # States 0..n-1: j callers ahead; state n: answered. (Abandon is the leftover mass.)
    out = cmu + theta * np.arange(n)
    diag = np.concatenate([-(out + theta), [0.0]])
    # Transposed generator: flow j -> j-1 with rate out[j]; j=0 -> answered (state n).
    sub_t = np.concatenate([out[1:], [0.0]])  # Q^T[j-1, j] = Q[j, j-1]
    qt = diags([diag, sub_t], [0, 1], shape=(n + 1, n + 1), format="lil")
    qt[n, 0] = out[0]
    v0 = np.concatenate([p_j, [0.0]])
    v = expm_multiply(qt.tocsr() * target, v0)
    return float(v[n])


def erlang_a(
    traffic: float, aht: float, agents: int, patience: float, target: float = 20.0
) -> ErlangA:
    """Exact Erlang A (M/M/c+M) figures; ``patience`` is the mean of exponential patience."""
    _check(traffic, agents)
    _check_aht(aht)
    if not (math.isfinite(patience) and patience > 0):
        raise ValueError(f"mean patience must be a positive number of seconds, got {patience!r}")
    lam = traffic / aht
    mu = 1.0 / aht
    theta = 1.0 / patience
    b = erlang_b(traffic, agents)
    tail = _erlang_a_tail(lam, mu, theta, agents)
    # sum_{n<=c} pi_n / pi_c = 1 / B; the tail starts with pi_c / pi_c = 1.
    total = 1.0 / b - 1.0 + float(tail.sum())
    p_j = tail / total
    p_wait = float(p_j.sum())
    mean_queue = float(np.dot(np.arange(len(p_j)), p_j))
    p_abandon = theta * mean_queue / lam
    answered_now = 1.0 - p_wait
    sl = answered_now + _answered_within(p_j, agents * mu, theta, target)
    return ErlangA(
        traffic=traffic,
        aht=aht,
        agents=agents,
        patience=patience,
        target=target,
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_wait=mean_queue / lam,
        mean_queue=mean_queue,
        service_level=sl,
        occupancy=traffic * (1.0 - p_abandon) / agents,
        p_abandon_given_wait=p_abandon / p_wait if p_wait > 0 else 0.0,
    )


def offered_wait_mean(ahead: int, service_rate: float, abandon_rate: float) -> float:
    """Expected time until an infinitely patient caller with ``ahead`` callers waiting in front
    is answered, when agents free up at ``service_rate`` (busy agents / AHT) and each caller
    ahead abandons at ``abandon_rate`` (1 / mean patience).

    Exact for M/M/c+M with FCFS: the offered wait is a sum of exponentials with rates
    service_rate + i * abandon_rate, i = ahead..0. Used by the live queue's hold-time estimate.
    """
    if ahead < 0:
        raise ValueError("ahead must be >= 0")
    if service_rate <= 0:
        return math.inf
    return sum(1.0 / (service_rate + i * abandon_rate) for i in range(ahead + 1))
