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
    "log_erlang_b",
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


#: Up to this many agents Erlang B is the exact recursion (in logs); above it, closed forms.
RECURSION_MAX_AGENTS = 100_000
#: The longest birth-death tail (callers waiting) Erlang A solves before giving up.
MAX_QUEUE_TERMS = 2_000_000


def log_erlang_b(traffic: float, agents: int) -> float:
    """ln B(A, c). Why logs: for c well above A (400 agents on 10 Erl, or A = 1e-300) B
    underflows to 0.0 and Erlang A divides by it; ln B stays finite.

    Up to RECURSION_MAX_AGENTS: the stable recursion B_k = A B_{k-1} / (k + A B_{k-1}) taken
    in logs. Beyond (a billion agents would loop for minutes), closed forms: for c >= A,
    B = Poisson pmf(c; A) / Poisson cdf(c; A) with the cdf >= ~1/2, so both are accurate in
    logs; for c < A, 1/B = sum_i prod_{m<i} (c - m) / A, whose terms only fall, summed until
    they are negligible."""
    _check(traffic, agents)
    c = int(agents)
    log_a = math.log(traffic)
    if c <= RECURSION_MAX_AGENTS:
        lb = 0.0
        for k in range(1, c + 1):
            lb = log_a + lb - math.log(k + traffic * math.exp(lb))
        return lb
    from scipy.special import gammaincc, gammaln

    if c >= traffic:
        log_pmf = c * log_a - traffic - float(gammaln(c + 1.0))
        return log_pmf - math.log(float(gammaincc(c + 1.0, traffic)))
    # Overload with a huge pool: terms t_i = prod_{m<i} (c - m) / A fall at least like
    # exp(-i^2 / 2A) and like (c / A)^i: enough of them to reach e^-45 by either bound.
    by_ratio = 45.0 / math.log(traffic / c) if traffic > c * (1 + 1e-12) else math.inf
    n = int(min(c + 1, 10.0 * math.sqrt(traffic) + 50, by_ratio + 2))
    if n > MAX_QUEUE_TERMS:
        raise ValueError(f"Erlang B: {c} agents on {traffic:g} Erl is too large to compute")
    i = np.arange(n, dtype=float)
    log_t = np.concatenate([[0.0], np.cumsum(np.log((c - i[:-1]) / traffic))])
    m = float(log_t.max())
    return -(m + math.log(float(np.exp(log_t - m).sum())))


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability of M/M/c/c (Erlang B); 0.0 where it underflows."""
    return math.exp(log_erlang_b(traffic, agents))


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


def _erlang_a_log_tail(lam: float, mu: float, theta: float, agents: int) -> np.ndarray:
    """ln(pi_{c+j} / pi_c) for j = 0, 1, ... until negligible.

    In logs, because in overload the terms climb to e^hundreds before they fall. The terms
    grow while lambda > c mu + j theta, i.e. up to j* = (lambda - c mu) / theta, then fall
    like a Poisson tail: a queue that long is refused at once with a clear error rather
    than after minutes of work."""
    cmu = agents * mu
    peak = max(0.0, (lam - cmu) / theta)
    if peak + 12.0 * math.sqrt(peak) > MAX_QUEUE_TERMS:
        raise ValueError(f"Erlang A: about {peak:.3g} callers would be waiting at once; too long to solve "
                         f"(limit {MAX_QUEUE_TERMS:,}): lower the traffic or the patience")
    log_lam = math.log(lam)
    chunks = [np.zeros(1)]
    last, count, top = 0.0, 1, 0.0
    block = 4096
    while True:
        j = np.arange(count, count + block, dtype=float)
        lt = last + np.cumsum(log_lam - np.log(cmu + j * theta))
        chunks.append(lt)
        count += block
        top = max(top, float(lt.max()))
        # Past the peak and below e^-45 of the largest term (so of the total), also when
        # weighted by j theta / lambda (P(abandon) = theta E[Q] / lambda: with a tiny
        # patience the few callers who wait are all that abandon).
        last = float(lt[-1]) + max(0.0, math.log((count - 1) * theta / lam))
        if count > peak and last < top - 45.0:
            break
        if count > MAX_QUEUE_TERMS:
            raise ValueError("Erlang A: queue too long to solve (patience far too long for the load)")
        block = min(block * 2, 1 << 18)
    out = np.concatenate(chunks)
    j = np.arange(len(out), dtype=float)
    with np.errstate(divide="ignore"):
        weighted = out + np.maximum(0.0, np.log(j * theta / lam))
    keep = np.nonzero(weighted >= top - 45.0)[0]
    return out[: int(keep[-1]) + 1]


def _answered_within(p_j: np.ndarray, cmu: float, theta: float, target: float) -> float:
    """Sum over j of p_j * P(offered wait with j ahead <= target and < patience)."""
    if target <= 0:
        return 0.0
    n = len(p_j)
    out_rates = cmu + theta * np.arange(n)
    if (cmu + theta) * target >= 50.0 + 2.0 * n:
        # Every rate is >= cmu + theta, so by `target` the at most n steps are over (the
        # Gamma tail left is < e^-30): P(answered within target) = P(answered at all), the
        # product of out / (out + theta). Also why: with a tiny patience (theta = 1e300)
        # the matrix exponential below overflows.
        log_a = np.cumsum(np.log(out_rates) - np.log(out_rates + theta))
        return float(np.dot(p_j, np.exp(log_a)))
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
    log_b = log_erlang_b(traffic, agents)
    log_tail = _erlang_a_log_tail(lam, mu, theta, agents)
    # sum_{n<c} pi_n / pi_c = 1 / B - 1 = (1 - B) / B; the tail starts with pi_c / pi_c = 1.
    # All in logs: B may underflow (many agents) and the tail overflow (overload).
    top = float(log_tail.max())
    log_tail_sum = top + math.log(float(np.exp(log_tail - top).sum()))
    b = math.exp(log_b)
    log_below = (math.log1p(-b) if b < 1.0 else -math.inf) - log_b
    log_total = float(np.logaddexp(log_below, log_tail_sum))
    p_j = np.exp(log_tail - log_total)
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
