"""CallSession: the call engine as a pure state machine (sans-I/O, like h11).

It is fed timestamped events and returns actions. It never plays audio, reads keys, prints,
sleeps or reads a clock; a driver does those things and tells the session what happened.
That makes every timeout, retry and barge-in rule testable in microseconds with a fake clock,
and makes a WAV-driven call deterministic.

Timing model: prompts are played by the driver, one after another; the driver sends one
`PromptDone` as each `Play` finishes, so the session always knows which prompt is playing
(barge-in is a property of that prompt). Listening (and the no-input timer) starts when
the prompts end. A key pressed while a prompt plays stops it and counts as input when
barge-in is on, and is ignored when it is off.

Every call has a maximum duration (`Tree.max_call_seconds`, counted from `start`): it is one
more deadline in `next_deadline`, and any event at or past it ends the call with the reason
"max-duration", so no key script, recording or pair of menus that send the caller to each
other can keep a call going for ever.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ivr.engine.events import (
    Action, Digit, EndCall, EnterNode, Event, Hangup, Invoke, LeaveQueue, Listen, Play, PromptDone,
    QueueUpdate, ServiceDone, Speech, SpeechStarted, StopPlayback, Tick, Transfer,
)
from ivr.engine.grammar import RecognitionResult
from ivr.engine.validators import validate
from ivr.tree.model import Node, Tree

VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_HOPS = 200  # node entries without waiting for the caller: a loop with no exit


@dataclass
class _Listening:
    node: str
    started_at: float | None = None   # None while prompts still play
    digits: str = ""
    last_digit_at: float | None = None


@dataclass
class _Hold:
    """The caller waits in an agent queue after a transfer node."""

    node: Node
    next_announce: float | None = None
    every: float = 0.0
    callback_key: str | None = None
    position: int = 0
    est_wait_s: float = 0.0
    flags: tuple[bool, bool] = (True, True)


def spoken_wait(seconds: float) -> str:
    """An estimated wait as a caller should hear it ("sekitar 3 menit")."""
    if seconds != seconds or seconds == float("inf"):
        return "belum dapat diperkirakan"
    if seconds < 60:
        return "kurang dari 1 menit"
    return f"sekitar {max(1, round(seconds / 60))} menit"


@dataclass
class CallStats:
    """What happened, for logs, coverage and scenario assertions."""

    path: list[str] = field(default_factory=list)
    prompts: list[Play] = field(default_factory=list)
    outcome: str | None = None        # one of ivr.engine.events.END_REASONS
    end_node: str | None = None
    transfer: Transfer | None = None
    ended_at: float | None = None
    ignored_keys: int = 0
    queued_at: float | None = None
    connected_at: float | None = None
    agent: str = ""


@dataclass(frozen=True)
class CallStatus:
    """Where the call stands, for drivers (status lines, hold music, masking decisions): the
    public view of the session, so no driver reads its internals."""

    node: str | None             # the node the call is in
    kind: str | None             # its kind (menu, collect, transfer, ...)
    listening: str | None        # the node whose answer is awaited (prompts done or not)
    typed: int                   # keys entered so far at a collect
    retries_left: int | None     # wrong answers left at the listening node (None: not listening)
    timeouts_left: int | None    # silences left at the listening node
    holding: bool                # waiting in an agent queue
    queue_position: int | None   # position in that queue, as last reported
    ended: bool


class CallSession:
    """One call through a tree. See the module docstring for the timing model."""

    def __init__(self, tree: Tree, variables: dict[str, str] | None = None, today: dt.date | None = None):
        self.tree = tree
        self.today = today   # the call's date, for validators (a birth date after it is invalid)
        self.ends_at: float | None = None   # start + tree.max_call_seconds, set by start()
        self.vars: dict[str, str] = {**tree.variables, **(variables or {})}
        self.stats = CallStats()
        self.node: Node | None = None
        self.failures = 0
        self.timeouts = 0
        self.pending: list[bool] = []   # barge-in flag of each prompt still playing, in order
        self.listening: _Listening | None = None
        self.waiting_service: Node | None = None
        self.holding: _Hold | None = None
        self.history: list[str] = []
        # A collect that ends at max_length leaves the caller's habitual "#" in flight; it
        # is swallowed if it arrives within the inter-digit timeout, instead of counting
        # as an empty answer (or a repeat request) at the next node.
        self._swallow: tuple[str, float] | None = None
        self.ended = False
        self.now = 0.0
        self._hops = 0

    # ---- public API ------------------------------------------------------------------------
    def start(self, at: float = 0.0) -> list[Action]:
        self.now = at
        self.ends_at = at + self.tree.max_call_seconds
        out: list[Action] = []
        self._enter(self.tree.start, out)
        return out

    @property
    def next_deadline(self) -> float | None:
        """When the driver should send the next Tick (None: nothing is due): the next
        timeout or announcement, or the end of the call's maximum duration."""
        if self.ended:
            return None
        dl = self._input_deadline()
        if self.ends_at is None:
            return dl
        return self.ends_at if dl is None else min(dl, self.ends_at)

    @property
    def status(self) -> CallStatus:
        """A snapshot of where the call stands (see `CallStatus`)."""
        li, node, hold = self.listening, self.node, self.holding
        at = self.tree.nodes[li.node] if li is not None else None
        return CallStatus(
            node=node.id if node is not None else None, kind=node.kind if node is not None else None,
            listening=li.node if li is not None else None, typed=len(li.digits) if li is not None else 0,
            retries_left=at.max_failures - self.failures if at is not None else None,
            timeouts_left=at.max_timeouts - self.timeouts if at is not None else None,
            holding=hold is not None, queue_position=hold.position if hold is not None else None,
            ended=self.ended)

    def _input_deadline(self) -> float | None:
        if self.holding is not None:
            return self.holding.next_announce
        li = self.listening
        if li is None or li.started_at is None:
            return None
        node = self.tree.nodes[li.node]
        if li.digits and li.last_digit_at is not None:
            return li.last_digit_at + node.inter_digit_timeout
        return li.started_at + node.timeout

    @property
    def playing(self) -> bool:
        return bool(self.pending)

    @property
    def waiting_for_input(self) -> bool:
        return self.listening is not None and not self.ended

    def handle(self, event: Event) -> list[Action]:
        if self.ended:
            return []
        self.now = max(self.now, event.at)
        self._hops = 0
        out: list[Action] = []
        if self.ends_at is not None and event.at >= self.ends_at:
            self._time_up(out)
        elif self.holding is not None and not isinstance(event, (PromptDone, ServiceDone)):
            self._hold_event(event, out)
        elif isinstance(event, Hangup):
            self._end("caller-hangup", out)
        elif isinstance(event, PromptDone):
            if self.pending:
                self.pending.pop(0)
            if not self.pending and self.listening and self.listening.started_at is None:
                self.listening.started_at = event.at
        elif isinstance(event, Tick):
            self._tick(event.at, out)
        elif isinstance(event, Digit):
            self._digit(event, out)
        elif isinstance(event, SpeechStarted):
            if self.pending and self.pending[0] and self.listening:
                out.append(StopPlayback("speech"))
                self.pending.clear()
                self.listening.started_at = event.at
        elif isinstance(event, Speech):
            self._speech(event, out)
        elif isinstance(event, ServiceDone):
            self._service_done(event, out)
        return out

    # ---- helpers -----------------------------------------------------------------------------
    def render(self, text: str) -> str:
        return VAR.sub(lambda m: str(self.vars.get(m.group(1), "")), text)

    def _play(self, node: Node, prompt: str, out: list[Action], text: str | None = None) -> None:
        raw = node.prompts.get(prompt) if text is None else text
        if not raw:
            return
        p = Play(self.render(raw), node.id, prompt, node.barge_in)
        self.pending.append(node.barge_in)
        self.stats.prompts.append(p)
        out.append(p)

    def _listen(self, node: Node, out: list[Action]) -> None:
        self.listening = _Listening(node.id, None if self.playing else self.now)
        out.append(Listen(node.id, self.tree.grammar_for(node.id), node.timeout, node.inter_digit_timeout,
                          node.terminator if node.kind == "collect" else "",
                          node.max_failures - self.failures, node.max_timeouts - self.timeouts))

    def _time_up(self, out: list[Action]) -> None:
        """The maximum call duration is reached: the line is cut where the call stands
        (a prompt stops mid-word; a caller holding for an agent leaves the queue)."""
        self.now = self.ends_at
        if self.pending:
            out.append(StopPlayback("max-duration"))
            self.pending.clear()
        if self.holding is not None:
            out.append(LeaveQueue("abandon", self.holding.node.id))
        self._end("max-duration", out)

    def _end(self, reason: str, out: list[Action], node: str | None = None) -> None:
        self.ended = True
        self.listening = None
        self.holding = None
        self.stats.outcome = reason
        self.stats.end_node = node or (self.node.id if self.node else None)
        self.stats.ended_at = self.now
        out.append(EndCall(reason, self.stats.end_node or ""))

    def _enter(self, node_id: str, out: list[Action], *, greet: str = "greet_long", push: bool = True) -> None:
        self._hops += 1
        if self._hops > MAX_HOPS:
            self._end("error", out)
            return
        prev = self.node
        if push and prev is not None and prev.kind == "menu" and prev.id != node_id:
            # back (*) returns to the previous menu, not into a number the caller already gave
            self.history.append(prev.id)
        node = self.tree.nodes[node_id]
        self.node = node
        self.failures = self.timeouts = 0
        self.listening = None
        self.stats.path.append(node_id)
        out.append(EnterNode(node_id, node.kind))
        kind = node.kind
        if kind in ("menu", "collect"):
            self._play(node, greet, out)
            self._listen(node, out)
        elif kind == "say":
            self._play(node, "greet_long", out)
            self._enter(node.next, out)
        elif kind == "service":
            self._play(node, "greet_long", out)
            args = {k: self.render(v) for k, v in node.args}
            self.waiting_service = node
            out.append(Invoke(node.service, args, node.id))
        elif kind == "transfer":
            self._play(node, "greet_long", out)
            fields = {k: self.render(v) for k, v in node.fields}
            t = Transfer(node.queue, node.request_type, fields, node.id)
            self.stats.transfer = t
            self.vars["antrean"] = node.queue
            out.append(t)
            if node.agent:
                self.holding = _Hold(node)   # the driver answers with QueueUpdate events
            else:
                self._end("transfer", out)
        elif kind == "hangup":
            self._play(node, "greet_long", out)
            self._end("hangup", out)

    # ---- agent queue ---------------------------------------------------------------------
    def _hold_event(self, ev: Event, out: list[Action]) -> None:
        h = self.holding
        node = h.node
        if isinstance(ev, QueueUpdate):
            first = h.next_announce is None and self.stats.queued_at is None
            if first:
                self.stats.queued_at = ev.at
                h.every, h.callback_key = ev.announce_every, ev.callback_key
                h.flags = (ev.announce_position, ev.announce_holdtime)
            h.position, h.est_wait_s = ev.position, ev.est_wait_s
            self.vars["posisi"] = str(ev.position)
            self.vars["waktu_tunggu"] = spoken_wait(ev.est_wait_s)
            if ev.status == "unavailable":
                self.holding = None
                self._end("transfer", out)
            elif ev.status == "connected":
                self.holding = None
                self.stats.connected_at = ev.at
                self.stats.agent = ev.agent
                self.vars["agen"] = ev.agent.rsplit("/", 1)[-1] if ev.agent else ""
                self.history.clear()   # the agent's dialogue has no way back into the IVR menus
                self._enter(node.agent, out, push=False)
            elif ev.status == "full":
                self.holding = None
                self._play(node, "queue_full", out)
                if node.callback:
                    self._enter(node.callback, out, push=False)
                else:
                    self._end("queue-full", out)
            elif first:
                if any(h.flags):
                    self._play(node, "queue_position", out)
                h.next_announce = ev.at + h.every if h.every > 0 else None
            else:
                self._announce_if_due(h, ev.at, out)
        elif isinstance(ev, Tick):
            self._announce_if_due(h, ev.at, out)
        elif isinstance(ev, Digit):
            if h.callback_key and ev.key == h.callback_key:
                if self.pending:
                    out.append(StopPlayback("dtmf"))
                    self.pending.clear()
                self.holding = None
                out.append(LeaveQueue("callback", node.id, ev.key))
                if node.callback:
                    self._enter(node.callback, out, push=False)
                else:
                    self._end("callback", out)
            else:
                self.stats.ignored_keys += 1
        elif isinstance(ev, Hangup):
            self.holding = None
            out.append(LeaveQueue("abandon", node.id))
            self._end("abandon", out)

    def _announce_if_due(self, h: _Hold, at: float, out: list[Action]) -> None:
        """The periodic position/wait announcement, when its time has come."""
        if h.next_announce is not None and at >= h.next_announce:
            self._play(h.node, "queue_periodic", out)
            while h.next_announce <= at:
                h.next_announce += h.every

    def _tick(self, at: float, out: list[Action]) -> None:
        li = self.listening
        deadline = self.next_deadline
        if li is None or deadline is None or at < deadline:
            return
        node = self.tree.nodes[li.node]
        if li.digits:
            self._finish_collect(node, li.digits, out)
        else:
            self._timeout(node, out)

    def _timeout(self, node: Node, out: list[Action]) -> None:
        self.timeouts += 1
        if self.timeouts >= node.max_timeouts:
            self._exceeded(node, out)
            return
        self._play(node, "timeout", out)
        self._play(node, "greet_short", out)
        self._listen(node, out)

    def _failure(self, node: Node, prompt: str, out: list[Action]) -> None:
        self.failures += 1
        if self.failures >= node.max_failures:
            self._exceeded(node, out)
            return
        self._play(node, prompt, out)
        self._play(node, "greet_short", out)
        self._listen(node, out)

    def _exceeded(self, node: Node, out: list[Action]) -> None:
        self.listening = None
        self._play(node, "exit", out)
        if node.on_exceeded.goto:
            self._enter(node.on_exceeded.goto, out, push=False)
        else:
            self._end("max-exceeded", out)

    def _barge(self, out: list[Action], reason: str = "dtmf") -> bool:
        """Input arrived: may it count? Stops a playing prompt when barge-in allows."""
        li = self.listening
        if li is None:
            return False
        if self.pending:
            if not self.pending[0]:
                return False
            out.append(StopPlayback(reason))
            self.pending.clear()
        if li.started_at is None:
            li.started_at = self.now
        return True

    def _digit(self, ev: Digit, out: list[Action]) -> None:
        if self._swallow is not None:
            key, until = self._swallow
            self._swallow = None
            if ev.key == key and ev.at <= until:
                return
        if not self._barge(out):
            self.stats.ignored_keys += 1
            return
        li = self.listening
        node = self.tree.nodes[li.node]
        key = ev.key
        if node.kind == "collect":
            if key == node.terminator and node.terminator:
                self._finish_collect(node, li.digits, out)
                return
            if key.isdigit():
                li.digits += key
                li.last_digit_at = ev.at
                if len(li.digits) >= node.max_length:
                    if node.terminator:
                        self._swallow = (node.terminator, ev.at + node.inter_digit_timeout)
                    self._finish_collect(node, li.digits, out)
                return
            action = self.tree.global_keys.action_for(key)
            if action and action in node.globals_enabled:
                self._global(node, action, out)
            else:
                self._failure(node, "invalid", out)
            return
        self._choose(node, key, out)

    def _choose(self, node: Node, token: str, out: list[Action]) -> None:
        for o in node.options:
            if o.token == token:
                self._enter(o.goto, out)
                return
        action = None
        if token.startswith("global:"):
            action = token[7:]
        else:
            action = self.tree.global_keys.action_for(token)
        if action and action in node.globals_enabled:
            self._global(node, action, out)
            return
        self._failure(node, "invalid", out)

    def _global(self, node: Node, action: str, out: list[Action]) -> None:
        if action == "repeat":
            self.listening = None
            self._play(node, "greet_long", out)
            self._listen(node, out)
        elif action == "back":
            target = self.history.pop() if self.history else node.id
            self._enter(target, out, push=False)
        elif action == "agent" and self.tree.agent_node:
            self._enter(self.tree.agent_node, out)
        else:
            self._failure(node, "invalid", out)

    def _finish_collect(self, node: Node, digits: str, out: list[Action]) -> None:
        self.listening = None
        if len(digits) < node.min_length:
            self._failure(node, "too_short", out)
            return
        ok, extra = validate(node.validator, digits, self.today)
        if not ok:
            self._failure(node, "invalid", out)
            return
        self.vars[node.var] = digits
        self.vars.update(extra)
        self._enter(node.next, out)

    def _speech(self, ev: Speech, out: list[Action]) -> None:
        r: RecognitionResult = ev.result
        if not self._barge(out, "speech"):
            self.stats.ignored_keys += 1
            return
        node = self.tree.nodes[self.listening.node]
        if r.nomatch or r.confidence < self.tree.min_confidence:
            self.listening = None
            self._failure(node, "nomatch", out)
            return
        if r.choice is not None:
            self.listening = None
            if node.kind == "collect":
                action = r.choice[7:] if r.choice.startswith("global:") else None
                if action and action in node.globals_enabled:
                    self._global(node, action, out)
                else:
                    self._failure(node, "nomatch", out)
            else:
                self._choose(node, r.choice, out)
            return
        if r.digits is not None and node.kind == "collect":
            # spoken digits add to what was keyed or said before: a caller may read a
            # 16-digit NIK in groups, pausing between them (the inter-digit timeout applies)
            # It ends at max_length (or by the inter-digit timeout once min_length is reached,
            # since a longer number may still be on its way).
            li = self.listening
            li.digits += r.digits
            li.last_digit_at = ev.at
            if len(li.digits) > node.max_length:
                self.listening = None
                self._failure(node, "invalid", out)
            elif len(li.digits) == node.max_length:
                self._finish_collect(node, li.digits, out)
            return
        self.listening = None
        self._failure(node, "nomatch", out)

    def _service_done(self, ev: ServiceDone, out: list[Action]) -> None:
        node = self.waiting_service
        if node is None:
            return
        self.waiting_service = None
        self.vars.update({k: str(v) for k, v in ev.vars.items()})
        outcome = "error" if ev.error else ev.outcome
        branches = dict(node.branches)
        target = branches.get(outcome, node.default)
        if target is None:
            self._end("error", out)
            return
        self._enter(target, out, push=False)
