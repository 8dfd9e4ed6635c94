"""The agent-queue model of the 165 care center, on SimPy, and its live (in-call) API.

One model, two drivers (DESIGN.md "same SimPy model"):

* :class:`QueueModel` is the model: queues per request type with priorities and a maximum
  length, agent groups with skills and hourly shifts, service times and caller patience from
  the configured distributions, and background callers arriving as a Poisson process whose
  rate follows the hour-of-day profile. It runs on a ``simpy.Environment``.
* The batch study (:mod:`ivr.queue.simulate`) runs it as fast as possible for N calls.
* :class:`LiveQueue` wraps it for a call driver that owns the clock (wall time, audio time or
  virtual scenario time): the live caller joins a queue that background callers keep filling.

Why the model is written the way it is (speed, exactness):

* Arrivals and service completions are SimPy ``Timeout`` events with callbacks (no generator
  process per caller), so a call costs about two scheduler events. Shift changes are ordinary
  SimPy processes.
* Abandonment is handled *lazily* but exactly: each waiting caller gets a deadline (arrival +
  patience) on a heap; before any decision (an arrival, an agent becoming free, a position
  query) every deadline that has passed is settled and recorded at its deadline. Abandonments
  change nothing else in the system, so the sample path equals the one with one timer per
  caller, without the timer events.
* Random numbers come from numpy in blocks, one independent stream per purpose (arrival times,
  request types, patience, service time per queue), all derived from one seed. Patience and
  service time are drawn at arrival, so two runs with different agent counts see the same
  callers (common random numbers: staffing differences are not sampling noise).

Routing: an arriving caller goes to a free agent of the most specialised group (fewest skills)
that serves its queue; otherwise it waits (or is refused when its queue is at ``max_length``).
A freed agent takes the waiting caller with the highest queue priority among its skills,
longest-waiting first within a priority. Agents leaving at a shift change finish their call.

Live API (all times are seconds on the driver's clock; the model never reads a clock)::

    from ivr.queue.config import load_config
    from ivr.queue.model import LiveQueue

    q = LiveQueue(load_config("menus/queues.yaml"), seed=7)   # warmed up: queue not empty
    info = q.enter("call-1", "ganti_kelas", at=12.0)
    info.status            # "waiting" | "connected" | "full"
    info.position          # 1-based position in its queue (0 when connected at once)
    info.est_wait_s        # model estimate of the wait, seconds (see estimated_wait)
    events = q.advance(42.0)          # run the model up to t=42; returns QueueEvent list
    q.position("call-1"), q.estimated_wait("call-1")   # for periodic announcements
    q.connected_at("call-1")          # time of CONNECT, or None while still waiting
    q.next_event_at()                 # when the model next changes (for a driver's sleep)
    # then one of:
    q.leave("call-1", at=50.0, reason="callback", key="*")   # while waiting: EXITWITHKEY
    q.leave("call-1", at=50.0, reason="abandon")             # while waiting: ABANDON
    q.leave("call-1", at=300.0, reason="complete")   # after the agent dialogue: COMPLETECALLER

``advance`` must be called with non-decreasing times; ``enter``/``leave`` advance the model to
their ``at`` first. Each :class:`QueueEvent` has Asterisk queue_log names (ENTERQUEUE,
CONNECT, ABANDON, EXITWITHKEY, COMPLETECALLER; FULL when the queue refused the caller) and is
reported exactly once: the entering caller's own ENTERQUEUE and CONNECT/FULL in
``EnterInfo.events``, the leaving caller's event as ``leave``'s return value, everything else
(CONNECTs while waiting, model-side ABANDONs) by the next ``advance``. A live caller never abandons on its
own (the real caller decides, with ``leave``) and holds its agent until ``leave``.

The hold-time estimate (:meth:`LiveQueue.estimated_wait`) is the expected *offered* wait given
the model state: with j callers ahead (higher priority, or same priority and earlier, in the
queues the caller's agents serve) and s agents on duty who can answer it, agents free up at
rate s / AHT and each caller ahead abandons at rate 1 / mean patience, so the expected wait is
sum_{i=0..j} 1 / (s / AHT + i / patience): exact for M/M/c+M, a good approximation otherwise.
When nobody who can answer is on duty it is the time until the next shift with such agents,
plus the above for the callers who will still be ahead once those agents have taken one each.
"""
from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import simpy

from .config import QueueConfig
from .erlang import offered_wait_mean

__all__ = [
    "QueueModel",
    "LiveQueue",
    "EnterInfo",
    "QueueEvent",
    "QueueSnapshot",
    "SERVED",
    "ABANDONED",
    "BLOCKED",
    "LEFT",
]

# Caller states
WAITING, SERVING, DONE, GONE = 0, 1, 2, 3
# Outcome codes recorded by the batch run
SERVED, ABANDONED, BLOCKED, LEFT = 0, 1, 2, 3

HOUR = 3600.0
DAY = 86400.0


class Caller:
    """One caller in the model (background or live)."""

    __slots__ = ("idx", "q", "arrival", "deadline", "service", "state", "start", "agent", "cid", "origpos", "endpos")

    def __init__(self, idx: int, q: int, arrival: float, deadline: float, service: float):
        self.idx = idx
        self.q = q
        self.arrival = arrival
        self.deadline = deadline
        self.service = service
        self.state = WAITING
        self.start = -1.0
        self.agent: str | None = None
        self.cid: str | None = None
        self.origpos = 0
        self.endpos = 0


class _Group:
    """Runtime state of an agent group."""

    __slots__ = ("name", "index", "skills", "queues", "by_hour", "free", "off", "on_duty", "pending_leave", "specialism")

    def __init__(self, name: str, index: int, skills: list[int], by_hour: tuple[int, ...], prio: list[int]):
        self.name = name
        self.index = index
        self.skills = frozenset(skills)
        # queues scanned when an agent frees up: highest priority first
        self.queues = tuple(sorted(skills, key=lambda q: -prio[q]))
        self.by_hour = by_hour
        self.free: list[str] = []
        self.off: list[str] = []
        self.on_duty = 0
        self.pending_leave = 0
        self.specialism = len(skills)


@dataclass(frozen=True)
class QueueEvent:
    """A queue_log-style event. ``wait_s`` is time in queue; ``position`` 1-based."""

    kind: str  # ENTERQUEUE, CONNECT, ABANDON, EXITWITHKEY, COMPLETECALLER, FULL
    caller_id: str
    queue: str
    at: float
    position: int = 0
    orig_position: int = 0
    wait_s: float = 0.0
    talk_s: float = 0.0
    agent: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class EnterInfo:
    """What a live caller learns on entering a queue."""

    status: str  # "waiting", "connected" or "full"
    position: int  # 1-based when waiting, 0 otherwise
    est_wait_s: float  # 0 when connected; inf when no agent will ever answer
    agent: str | None = None
    events: tuple[QueueEvent, ...] = ()


@dataclass(frozen=True)
class QueueSnapshot:
    """State of the whole model at one time (for logs and dashboards)."""

    at: float
    waiting: dict[str, int]
    agents_on_duty: dict[str, int]
    agents_busy: int


@dataclass
class _Record:
    """Per-call results of a batch run, indexed by arrival order."""

    n: int
    queue: list[int] = field(default_factory=list)
    arrival: list[float] = field(default_factory=list)
    wait: list[float] = field(default_factory=list)
    outcome: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.queue = [0] * self.n
        self.arrival = [0.0] * self.n
        self.wait = [0.0] * self.n
        self.outcome = [-1] * self.n


class QueueModel:
    """The queue model on a SimPy environment (see module docstring).

    ``max_calls``: stop generating background arrivals after that many (batch runs); None
    keeps them coming. ``record``: keep per-call results (batch runs; needs ``max_calls``).
    ``marks``: arrival indices at which to snapshot the busy/on-duty time integrals (batch
    means of occupancy). ``progress``: called with the number of arrivals every
    ``progress_every`` arrivals.
    """

    def __init__(
        self,
        env: simpy.Environment,
        config: QueueConfig,
        seed: int | None = 0,
        *,
        start_hour: float | None = None,
        max_calls: int | None = None,
        record: bool = False,
        marks: Iterable[int] = (),
        progress: Callable[[int], None] | None = None,
        progress_every: int = 8192,
    ):
        self.env = env
        self.config = config
        self.start_hour = float(config.start_hour if start_hour is None else start_hour) % 24.0
        self.names = list(config.queues)
        qi = {n: i for i, n in enumerate(self.names)}
        self.qindex = qi
        nq = len(self.names)
        self.prio = [config.queues[n].priority for n in self.names]
        self.max_len = [config.queues[n].max_length for n in self.names]

        ss = np.random.SeedSequence(seed)
        children = ss.spawn(3 + nq)
        gen = [np.random.Generator(np.random.PCG64(c)) for c in children]
        block = 16384

        def unit_exp(rng):
            def g():
                while True:
                    yield from rng.standard_exponential(block).tolist()
            return g().__next__

        self._next_e = unit_exp(gen[0])
        mix_q = np.array([qi[q] for q, _ in config.traffic.mix])
        mix_p = np.array([s for _, s in config.traffic.mix])
        mix_p = mix_p / mix_p.sum()
        rng_mix = gen[1]
        if len(mix_q) == 1:
            only = int(mix_q[0])
            self._next_type = lambda: only
        else:
            def types():
                while True:
                    yield from mix_q[rng_mix.choice(len(mix_q), size=block, p=mix_p)].tolist()
            self._next_type = types().__next__
        self._svc = [config.queues[n].service.sampler(gen[3 + i]) for i, n in enumerate(self.names)]
        # patience: one stream; each queue may have its own distribution (None: never abandons)
        self._pat: list[Callable[[], float] | None] = []
        pat_rng = gen[2]
        shared: dict = {}
        for n in self.names:
            d = config.queues[n].patience
            if d is None:
                self._pat.append(None)
            else:
                if d not in shared:
                    shared[d] = d.sampler(pat_rng)
                self._pat.append(shared[d])
        self.mean_patience = [
            (config.queues[n].patience.mean if config.queues[n].patience else math.inf) for n in self.names
        ]

        # arrival rates per hour of day, calls per second
        self._rates = [config.traffic.rate_per_hour(h) / HOUR for h in range(24)]
        self._flat_rate = self._rates[0] if len(set(self._rates)) == 1 else None
        self._tod0 = self.start_hour * HOUR  # time of day at env time 0, seconds

        # agents
        self.groups: list[_Group] = []
        for gi, (gname, g) in enumerate(config.groups.items()):
            self.groups.append(_Group(gname, gi, [qi[s] for s in g.skills], g.agents_by_hour, self.prio))
        # groups that can answer each queue: most specialised first (keep generalists free)
        self.eligible: list[tuple[_Group, ...]] = [
            tuple(sorted((g for g in self.groups if q in g.skills), key=lambda g: (g.specialism, g.index)))
            for q in range(nq)
        ]
        # AHT seen by the agents who can answer queue q (traffic-weighted over their skills)
        share = {qi[q]: s for q, s in config.traffic.mix}
        self._aht_for: list[float] = []
        for q in range(nq):
            served = set().union(*(g.skills for g in self.eligible[q])) if self.eligible[q] else {q}
            w = sum(share.get(x, 0.0) for x in served)
            if w > 0:
                self._aht_for.append(sum(share.get(x, 0.0) * config.queues[self.names[x]].service.mean for x in served) / w)
            else:
                self._aht_for.append(config.queues[self.names[q]].service.mean)

        # state
        self.waiting: list[deque[Caller]] = [deque() for _ in range(nq)]
        self.nwait = [0] * nq
        self._heap: list[tuple[float, int, Caller]] = []
        self.busy = 0
        self.duty = 0
        self._area_busy = 0.0
        self._area_duty = 0.0
        self._last = 0.0
        self.arrivals = 0
        self.counts = {"served": 0, "abandoned": 0, "blocked": 0, "left": 0}
        self.max_calls = max_calls
        self.rec = _Record(max_calls) if (record and max_calls) else None
        self._marks = sorted(set(int(m) for m in marks))
        self._mark_i = 0
        self.mark_values: list[tuple[int, float, float, float]] = []  # (index, time, busy area, duty area)
        self._progress = progress
        self._progress_every = max(1, int(progress_every))
        self._live_hook: Callable[[Caller, str, float], None] | None = None
        self._seq = 0
        self._started = False

    # ------------------------------------------------------------------ set-up
    def start(self) -> None:
        """Put the agents of hour 0 on duty, start shift changes and the arrival stream."""
        if self._started:
            return
        self._started = True
        h0 = int(self.start_hour) % 24
        for g in self.groups:
            self._set_duty(g, g.by_hour[h0], 0.0)
            if len(set(g.by_hour)) > 1:
                self.env.process(self._shifts(g))
        self._schedule_arrival(0.0)

    def _shifts(self, g: _Group):
        env = self.env
        # first boundary: the next whole hour of the day
        tod = self._tod0
        first = (math.floor(tod / HOUR) + 1) * HOUR - tod
        hour = int(math.floor(tod / HOUR) + 1) % 24
        yield env.timeout(first)
        while True:
            self._set_duty(g, g.by_hour[hour], env.now)
            if self._heap and self._heap[0][0] <= env.now:
                self._purge(env.now)
            if self.max_calls is not None and self.arrivals >= self.max_calls and self.nwait_total() == 0 and self.busy == 0:
                return  # batch finished: stop ticking so env.run() can end
            hour = (hour + 1) % 24
            yield env.timeout(HOUR)

    def nwait_total(self) -> int:
        return sum(self.nwait)

    def _tick(self, now: float) -> None:
        dt = now - self._last
        if dt > 0.0:
            self._area_busy += self.busy * dt
            self._area_duty += self.duty * dt
            self._last = now

    def _set_duty(self, g: _Group, target: int, now: float) -> None:
        self._tick(now)
        working = g.on_duty - g.pending_leave
        if target > working:
            add = target - working
            cancel = min(add, g.pending_leave)
            g.pending_leave -= cancel
            add -= cancel
            for _ in range(add):
                aid = g.off.pop() if g.off else f"{g.name}/{g.on_duty + len(g.off) + 1}"
                g.on_duty += 1
                self.duty += 1
                self._agent_free(g, aid, now)
        elif target < working:
            remove = working - target
            while remove and g.free:
                g.off.append(g.free.pop())
                g.on_duty -= 1
                self.duty -= 1
                remove -= 1
            g.pending_leave += remove  # busy agents leave when their call ends

    # ------------------------------------------------------------------ arrivals
    def _next_arrival_time(self, t: float) -> float:
        e = self._next_e()
        if self._flat_rate is not None:
            return t + e / self._flat_rate
        # piecewise-constant rate by hour of day: invert the cumulative hazard exactly
        tod = self._tod0 + t
        k = math.floor(tod / HOUR)
        while True:
            r = self._rates[k % 24]
            boundary = (k + 1) * HOUR - self._tod0
            span = boundary - t
            if r > 0.0 and e <= r * span:
                return t + e / r
            e -= r * span
            t = boundary
            k += 1

    def _schedule_arrival(self, now: float) -> None:
        if self.max_calls is not None and self.arrivals >= self.max_calls:
            return
        t = self._next_arrival_time(now)
        ev = self.env.timeout(t - now)
        ev.callbacks.append(self._on_arrival)

    def _on_arrival(self, _ev) -> None:
        now = self.env.now
        q = self._next_type()
        idx = self.arrivals
        self.arrivals = idx + 1
        pat = self._pat[q]
        c = Caller(idx, q, now, now + pat() if pat is not None else math.inf, self._svc[q]())
        if self._marks and self._mark_i < len(self._marks) and idx == self._marks[self._mark_i]:
            self._tick(now)
            self.mark_values.append((idx, now, self._area_busy, self._area_duty))
            self._mark_i += 1
        if self.rec is not None:
            self.rec.queue[idx] = q
            self.rec.arrival[idx] = now
        self._arrive(c, now)
        if self._progress is not None and self.arrivals % self._progress_every == 0:
            self._progress(self.arrivals)
        self._schedule_arrival(now)

    def _arrive(self, c: Caller, now: float) -> int:
        """Route an arriving caller; returns its 1-based queue position (0: connected, -1: full)."""
        q = c.q
        if self._heap and self._heap[0][0] <= now:
            self._purge(now)
        for g in self.eligible[q]:
            if g.free:
                self._start(g, g.free.pop(), c, now)
                return 0
        ml = self.max_len[q]
        if ml is not None and self.nwait[q] >= ml:
            c.state = GONE
            self._finish(c, now, BLOCKED, 0.0)
            return -1
        self.waiting[q].append(c)
        self.nwait[q] += 1
        c.origpos = self.nwait[q]
        if c.deadline != math.inf:
            self._seq += 1
            heapq.heappush(self._heap, (c.deadline, self._seq, c))
        return c.origpos

    def _purge(self, now: float) -> None:
        """Settle every abandonment whose deadline has passed (recorded at the deadline)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            d, _, c = heapq.heappop(heap)
            if c.state == WAITING:
                if c.cid is not None:
                    c.endpos = self.position(c)
                c.state = GONE
                self.nwait[c.q] -= 1
                self._finish(c, d, ABANDONED, d - c.arrival)

    def _finish(self, c: Caller, at: float, outcome: int, wait: float) -> None:
        if outcome == ABANDONED:
            self.counts["abandoned"] += 1
        elif outcome == BLOCKED:
            self.counts["blocked"] += 1
        elif outcome == LEFT:
            self.counts["left"] += 1
        rec = self.rec
        if rec is not None and c.cid is None:
            rec.wait[c.idx] = wait
            rec.outcome[c.idx] = outcome
        if c.cid is not None and self._live_hook is not None:
            self._live_hook(c, {ABANDONED: "ABANDON", BLOCKED: "FULL", LEFT: "LEFT"}[outcome], at)

    # ------------------------------------------------------------------ agents
    def _start(self, g: _Group, aid: str, c: Caller, now: float) -> None:
        self._tick(now)
        self.busy += 1
        c.state = SERVING
        c.start = now
        c.agent = aid
        self.counts["served"] += 1
        if c.cid is not None:
            if self._live_hook is not None:
                self._live_hook(c, "CONNECT", now)
            return  # a live caller holds its agent until LiveQueue.leave()
        rec = self.rec
        if rec is not None:
            rec.wait[c.idx] = now - c.arrival
            rec.outcome[c.idx] = SERVED
        ev = self.env.timeout(c.service, (g, aid, c))
        ev.callbacks.append(self._on_done)

    def _on_done(self, ev) -> None:
        g, aid, c = ev._value
        now = self.env.now
        c.state = DONE
        self._tick(now)
        self.busy -= 1
        self._agent_free(g, aid, now)

    def _agent_free(self, g: _Group, aid: str, now: float) -> None:
        if g.pending_leave:
            g.pending_leave -= 1
            g.on_duty -= 1
            self._tick(now)
            self.duty -= 1
            g.off.append(aid)
            return
        if self._heap and self._heap[0][0] <= now:
            self._purge(now)
        best: Caller | None = None
        bestp = 0
        prio = self.prio
        waiting = self.waiting
        for q in g.queues:
            if best is not None and prio[q] < bestp:
                break  # queues are sorted by priority; nothing better follows
            dq = waiting[q]
            while dq and dq[0].state != WAITING:
                dq.popleft()
            if dq:
                c = dq[0]
                if best is None or c.arrival < best.arrival:
                    best = c
                    bestp = prio[q]
        if best is None:
            g.free.append(aid)
            return
        waiting[best.q].popleft()
        self.nwait[best.q] -= 1
        self._start(g, aid, best, now)

    # ------------------------------------------------------------------ queries (live)
    def hour_of_day(self, t: float) -> int:
        return int(((self._tod0 + t) % DAY) // HOUR)

    def position(self, c: Caller) -> int:
        """1-based position of a waiting caller in its own queue (Asterisk semantics)."""
        if c.state != WAITING:
            return 0
        n = 0
        for x in self.waiting[c.q]:
            if x.state == WAITING:
                n += 1
                if x is c:
                    return n
        return 0

    def ahead_of(self, c: Caller) -> tuple[int, float]:
        """Callers an agent would answer before ``c`` and their mean abandonment rate."""
        if c.state != WAITING:
            return 0, 0.0
        p = self.prio[c.q]
        served = set().union(*(g.skills for g in self.eligible[c.q]))
        ahead = 0
        theta = 0.0
        for q in served:
            pq = self.prio[q]
            if pq < p:
                continue
            mp = self.mean_patience[q]
            for x in self.waiting[q]:
                if x is c or x.state != WAITING:
                    continue
                if pq > p or x.arrival < c.arrival or (x.arrival == c.arrival and x.idx < c.idx):
                    ahead += 1
                    if x.cid is None and mp != math.inf:
                        theta += 1.0 / mp
        return ahead, (theta / ahead if ahead else 0.0)

    def estimated_wait(self, c: Caller, now: float) -> float:
        """Expected offered wait of a waiting caller from the model state (module docstring)."""
        if c.state != WAITING:
            return 0.0
        ahead, theta = self.ahead_of(c)
        aht = self._aht_for[c.q]
        groups = self.eligible[c.q]
        s = sum(g.on_duty - g.pending_leave for g in groups)
        delay = 0.0
        if s <= 0:
            # nobody who can answer is on duty: wait for the next shift that has someone
            tod = self._tod0 + now
            k = math.floor(tod / HOUR)
            for step in range(1, 25):
                h = (k + step) % 24
                s = sum(g.by_hour[h] for g in groups)
                if s > 0:
                    delay = (k + step) * HOUR - tod
                    break
            else:
                return math.inf
            # the s agents arrive free: the first s callers in line are answered at once
            if ahead < s:
                return delay
            ahead -= s
        return delay + offered_wait_mean(ahead, s / aht, theta)

    def snapshot(self) -> QueueSnapshot:
        now = self.env.now
        if self._heap and self._heap[0][0] <= now:
            self._purge(now)
        return QueueSnapshot(
            at=now,
            waiting={n: self.nwait[i] for i, n in enumerate(self.names)},
            agents_on_duty={g.name: g.on_duty for g in self.groups},
            agents_busy=self.busy,
        )

    def occupancy_areas(self, now: float) -> tuple[float, float]:
        self._tick(now)
        return self._area_busy, self._area_duty


class LiveQueue:
    """The queue model behind one or more live calls (API in the module docstring).

    ``warmup_s`` of model time run before time 0 so the caller meets a queue in its usual
    state, not an empty one. ``start_hour`` is the time of day at the live time 0 (default: the
    config's ``start_hour``).
    """

    REASONS = {"abandon": "ABANDON", "callback": "EXITWITHKEY", "exitwithkey": "EXITWITHKEY",
               "hangup": "ABANDON", "complete": "COMPLETECALLER"}

    def __init__(self, config: QueueConfig, seed: int | None = 0, *, start_hour: float | None = None,
                 warmup_s: float = 1800.0):
        if warmup_s < 0:
            raise ValueError("warmup_s must be >= 0")
        sh = float(config.start_hour if start_hour is None else start_hour)
        self.offset = float(warmup_s)
        self.env = simpy.Environment()
        self.model = QueueModel(self.env, config, seed, start_hour=(sh - warmup_s / HOUR) % 24.0)
        self.model._live_hook = self._hook
        self._callers: dict[str, Caller] = {}
        self._events: list[QueueEvent] = []
        self._seq = 0
        self.model.start()
        if warmup_s > 0:
            self.env.run(until=self.offset)

    @property
    def announcements(self):
        """What waiting callers hear (ivr.queue.config.Announcements)."""
        return self.model.config.announcements

    # -- time ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Current time on the driver's clock."""
        return self.env.now - self.offset

    def advance(self, to_time: float) -> list[QueueEvent]:
        """Run the model up to ``to_time`` (driver clock); return the live callers' events."""
        target = float(to_time) + self.offset
        if not math.isfinite(target):
            raise ValueError("time must be finite")
        if target < self.env.now - 1e-9:
            raise ValueError(f"time went backwards: {to_time} < {self.now}")
        if target > self.env.now:
            self.env.run(until=target)
            # SimPy 4.1 re-queues the spent `until` event (no callbacks left, priority -1) at the
            # stop time; drop it so env.peek() / next_event_at() show the model's real next event.
            sq = self.env._queue
            while sq and sq[0][0] <= self.env.now and sq[0][1] < 0 and not sq[0][3].callbacks:
                heapq.heappop(sq)
        m = self.model
        if m._heap and m._heap[0][0] <= self.env.now:
            m._purge(self.env.now)
        out, self._events = self._events, []
        return out

    def next_event_at(self) -> float:
        """Driver-clock time of the model's next scheduled change (an arrival, a call ending, a
        shift change or an abandonment deadline); inf if none. A driver that wants to announce
        every change can sleep until then; periodic announcements need not."""
        nxt = self.env.peek()
        heap = self.model._heap
        if heap:
            nxt = min(nxt, heap[0][0])
        return nxt - self.offset

    # -- callers ---------------------------------------------------------------------------
    def enter(self, caller_id: str, queue_name: str, at: float, *, patience_s: float | None = None) -> EnterInfo:
        """Put a live caller in ``queue_name``. ``patience_s``: let the model hang up for the
        caller after that long (default: never; the driver calls ``leave``)."""
        m = self.model
        if queue_name not in m.qindex:
            raise KeyError(f"unknown queue '{queue_name}'; known: {', '.join(m.names)}")
        if caller_id in self._callers and self._callers[caller_id].state in (WAITING, SERVING):
            raise ValueError(f"caller '{caller_id}' is already in a queue")
        pending = self.advance(at)
        now = self.env.now
        q = m.qindex[queue_name]
        self._seq += 1
        deadline = now + patience_s if patience_s is not None else math.inf
        c = Caller(-self._seq, q, now, deadline, 0.0)
        c.cid = caller_id
        self._callers[caller_id] = c
        pos = m._arrive(c, now)
        new = self._events  # this caller's CONNECT or FULL, if any
        if pos >= 0:
            new = [QueueEvent("ENTERQUEUE", caller_id, queue_name, self.now, position=pos)] + new
        self._events = pending  # other callers' events stay for the next advance()
        if pos < 0:
            return EnterInfo("full", 0, 0.0, None, tuple(new))
        if pos == 0:
            return EnterInfo("connected", 0, 0.0, c.agent, tuple(new))
        return EnterInfo("waiting", pos, m.estimated_wait(c, now), None, tuple(new))

    def _caller(self, caller_id: str) -> Caller:
        try:
            return self._callers[caller_id]
        except KeyError:
            raise KeyError(f"unknown caller '{caller_id}'") from None

    def position(self, caller_id: str) -> int:
        """1-based position in its queue; 0 when connected or gone."""
        c = self._caller(caller_id)
        m = self.model
        if m._heap and m._heap[0][0] <= self.env.now:
            m._purge(self.env.now)
        return m.position(c)

    def estimated_wait(self, caller_id: str) -> float:
        """Expected remaining wait in seconds (0 when connected; inf if nobody will answer)."""
        c = self._caller(caller_id)
        m = self.model
        if m._heap and m._heap[0][0] <= self.env.now:
            m._purge(self.env.now)
        return m.estimated_wait(c, self.env.now)

    def connected_at(self, caller_id: str) -> float | None:
        """Driver-clock time the caller was connected to an agent, or None."""
        c = self._caller(caller_id)
        return c.start - self.offset if c.start >= 0.0 else None

    def agent_of(self, caller_id: str) -> str | None:
        return self._caller(caller_id).agent

    def agent_name(self, agent_id: str) -> str:
        """The name agent `agent_id` greets with (the config's `agent_names`)."""
        return self.model.config.agent_name(agent_id)

    def hour_of_day(self, at: float) -> int:
        """The hour of the day (0-23) at driver-clock time `at`: the queue's clock starts at
        the config's `start_hour` or the driver's `--hour`."""
        return self.model.hour_of_day(float(at) + self.offset)

    def status(self, caller_id: str) -> str:
        """"waiting", "connected", "done" or "gone"."""
        return ("waiting", "connected", "done", "gone")[self._caller(caller_id).state]

    def leave(self, caller_id: str, at: float, reason: str = "abandon", *, key: str | None = None) -> QueueEvent:
        """The live caller leaves: while waiting (``abandon``/``hangup``: ABANDON; ``callback``
        or ``exitwithkey``: EXITWITHKEY with ``key``) or after talking to the agent
        (``complete``/``hangup``: COMPLETECALLER, which frees the agent)."""
        if reason not in self.REASONS:
            raise ValueError(f"unknown reason '{reason}'; use one of {', '.join(self.REASONS)}")
        c = self._caller(caller_id)
        pending = self.advance(at)
        self._events = pending
        m = self.model
        now = self.env.now
        qname = m.names[c.q]
        if c.state == WAITING:
            if reason == "complete":
                raise ValueError(f"caller '{caller_id}' is still waiting; it cannot complete")
            pos = m.position(c)
            c.state = GONE
            m.nwait[c.q] -= 1
            m.counts["left"] += 1
            kind = "EXITWITHKEY" if reason in ("callback", "exitwithkey") else "ABANDON"
            return QueueEvent(kind, caller_id, qname, self.now, position=pos, orig_position=c.origpos,
                              wait_s=now - c.arrival, key=key if kind == "EXITWITHKEY" else None)
        if c.state == SERVING:
            if reason not in ("complete", "hangup"):
                raise ValueError(f"caller '{caller_id}' is talking to an agent; use reason 'complete' or 'hangup'")
            c.state = DONE
            g = next(g for g in m.eligible[c.q] if c.agent and c.agent.startswith(g.name + "/"))
            m._tick(now)
            m.busy -= 1
            m._agent_free(g, c.agent, now)  # type: ignore[arg-type]
            ev = QueueEvent("COMPLETECALLER", caller_id, qname, self.now, orig_position=c.origpos,
                            wait_s=c.start - c.arrival, talk_s=now - c.start, agent=c.agent)
            return ev
        raise ValueError(f"caller '{caller_id}' already left the queue")

    def snapshot(self) -> QueueSnapshot:
        s = self.model.snapshot()
        return QueueSnapshot(s.at - self.offset, s.waiting, s.agents_on_duty, s.agents_busy)

    # -- model hook ------------------------------------------------------------------------
    def _hook(self, c: Caller, kind: str, at: float) -> None:
        qname = self.model.names[c.q]
        if kind == "CONNECT":
            self._events.append(QueueEvent("CONNECT", c.cid or "", qname, at - self.offset,
                                           orig_position=c.origpos, wait_s=at - c.arrival, agent=c.agent))
        elif kind == "ABANDON":  # model-side patience (enter(..., patience_s=...))
            self._events.append(QueueEvent("ABANDON", c.cid or "", qname, at - self.offset,
                                           position=c.endpos, orig_position=c.origpos, wait_s=at - c.arrival))
        elif kind == "FULL":
            self._events.append(QueueEvent("FULL", c.cid or "", qname, at - self.offset))
