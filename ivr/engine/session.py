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
    Action, Digit, EndCall, EnterNode, Event, Hangup, LeaveQueue, Listen, Play, PromptDone,
    QueueUpdate, ServiceDone, Speech, SpeechStarted, StopPlayback, Tick, Transfer,
)
from ivr.engine.handlers import HANDLERS
from ivr.engine.validators import validate
from ivr.grammar import RecognitionResult
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


#: The greeting for the hour of the day an agent answers (04-10 pagi, 10-15 siang, 15-18
#: sore, 18-04 malam): (first hour, greeting), in order.
SALAM: tuple[tuple[int, str], ...] = ((4, "Selamat pagi"), (10, "Selamat siang"), (15, "Selamat sore"),
                                      (18, "Selamat malam"))


def salam(hour: int | None) -> str:
    """"Selamat pagi/siang/sore/malam" for `hour` (0-23, the driver's clock); "Selamat datang"
    when the driver gave no hour."""
    if hour is None:
        return "Selamat datang"
    h = int(hour) % 24
    greeting = SALAM[-1][1]           # 00-04 is still malam
    for first, text in SALAM:
        if h >= first:
            greeting = text
    return greeting


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
        self.kind_state = None   # a handler's own state at the current node (reset on entering one)
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
        self.goto(self.tree.start, out)
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
        if event.at > self.now:
            self.now = event.at
        self._hops = 0
        out: list[Action] = []
        if self.ends_at is not None and event.at >= self.ends_at:
            self._time_up(out)
        elif self.holding is not None and not isinstance(event, (PromptDone, ServiceDone)):
            self._hold_event(event, out)
        elif isinstance(event, Hangup):
            self.end("caller-hangup", out)
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
        """`text` with its {variables} filled in (most prompts have none: no regex then)."""
        if "{" not in text:
            return text
        return VAR.sub(lambda m: str(self.vars.get(m.group(1), "")), text)

    def play(self, node: Node, prompt: str, out: list[Action], text: str | None = None) -> None:
        """Say one of the node's prompts (nothing when it is empty)."""
        raw = getattr(node.prompts, prompt) if text is None else text
        if not raw:
            return
        p = Play(self.render(raw), node.id, prompt, node.barge_in)
        self.pending.append(node.barge_in)
        self.stats.prompts.append(p)
        out.append(p)

    def listen(self, node: Node, out: list[Action]) -> None:
        """Start listening at `node` (the no-input timer starts when the prompts end)."""
        self.listening = _Listening(node.id, None if self.playing else self.now)
        h = HANDLERS[node.kind]
        out.append(Listen(node.id, h.grammar(self, node), node.timeout, node.inter_digit_timeout,
                          h.terminator(node),
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
        self.end("max-duration", out)

    def end(self, reason: str, out: list[Action], node: str | None = None) -> None:
        """End the call with `reason` (one of ivr.engine.events.END_REASONS)."""
        self.ended = True
        self.listening = None
        self.holding = None
        self.stats.outcome = reason
        self.stats.end_node = node or (self.node.id if self.node else None)
        self.stats.ended_at = self.now
        out.append(EndCall(reason, self.stats.end_node or ""))

    def goto(self, node_id: str, out: list[Action], *, greet: str = "greet_long", push: bool = True) -> None:
        """Enter a node: its kind's handler says what happens there."""
        self._hops += 1
        if self._hops > MAX_HOPS:
            self.end("error", out)
            return
        prev = self.node
        if push and prev is not None and prev.id != node_id and HANDLERS[prev.kind].back_returns_here:
            # back (*) returns to the previous menu, not into a number the caller already gave
            self.history.append(prev.id)
        node = self.tree.nodes[node_id]
        self.node = node
        self.failures = self.timeouts = 0
        self.listening = None
        self.kind_state = None
        self.stats.path.append(node_id)
        out.append(EnterNode(node_id, node.kind))
        HANDLERS[node.kind].enter(self, node, greet, out)

    def hold(self, node: Node) -> None:
        """The caller waits in the agent queue of transfer `node`; the driver answers with
        QueueUpdate events."""
        self.holding = _Hold(node)

    def swallow(self, key: str, until: float) -> None:
        """Ignore `key` once if it arrives by `until` (the habitual "#" after a collect that
        ended at max_length)."""
        self._swallow = (key, until)

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
                self.end("transfer", out)
            elif ev.status == "connected":
                self.holding = None
                self.stats.connected_at = ev.at
                self.stats.agent = ev.agent
                self.vars["agen"] = ev.agent_name or (ev.agent.rsplit("/", 1)[-1] if ev.agent else "")
                self.vars["salam"] = salam(ev.hour)
                self.history.clear()   # the agent's dialogue has no way back into the IVR menus
                self.goto(node.data.agent, out, push=False)
            elif ev.status == "full":
                self.holding = None
                self.play(node, "queue_full", out)
                if node.data.callback:
                    self.goto(node.data.callback, out, push=False)
                else:
                    self.end("queue-full", out)
            elif first:
                if any(h.flags):
                    self.play(node, "queue_position", out)
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
                if node.data.callback:
                    self.goto(node.data.callback, out, push=False)
                else:
                    self.end("callback", out)
            else:
                self.stats.ignored_keys += 1
        elif isinstance(ev, Hangup):
            self.holding = None
            out.append(LeaveQueue("abandon", node.id))
            self.end("abandon", out)

    def _announce_if_due(self, h: _Hold, at: float, out: list[Action]) -> None:
        """The periodic position/wait announcement, when its time has come."""
        if h.next_announce is not None and at >= h.next_announce:
            self.play(h.node, "queue_periodic", out)
            while h.next_announce <= at:
                h.next_announce += h.every

    def _tick(self, at: float, out: list[Action]) -> None:
        li = self.listening
        deadline = self.next_deadline
        if li is None or deadline is None or at < deadline:
            return
        node = self.tree.nodes[li.node]
        HANDLERS[node.kind].deadline(self, node, li.digits, out)

    def timeout(self, node: Node, out: list[Action]) -> None:
        """No input in time: count it, say so and listen again, or apply on_exceeded."""
        self.timeouts += 1
        if self.timeouts >= node.max_timeouts:
            self._exceeded(node, out)
            return
        self.play(node, "timeout", out)
        HANDLERS[node.kind].reprompt(self, node, out)
        self.listen(node, out)

    def fail(self, node: Node, prompt: str, out: list[Action], text: str | None = None) -> None:
        """A wrong answer: count it, say `prompt` (or `text`, a handler's default for it)
        and listen again, or apply on_exceeded."""
        self.failures += 1
        if self.failures >= node.max_failures:
            self._exceeded(node, out)
            return
        self.play(node, prompt, out, text=text)
        HANDLERS[node.kind].reprompt(self, node, out)
        self.listen(node, out)

    def _exceeded(self, node: Node, out: list[Action]) -> None:
        self.listening = None
        self.play(node, "exit", out)
        if node.on_exceeded.goto:
            self.goto(node.on_exceeded.goto, out, push=False)
        else:
            self.end("max-exceeded", out)

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
        node = self.tree.nodes[self.listening.node]
        HANDLERS[node.kind].key(self, node, ev.key, ev.at, out)

    def choose(self, node: Node, token: str, out: list[Action]) -> None:
        """The caller picked `token` (a key, or a recogniser's choice): one of the node's
        options, a global action, or a wrong answer."""
        spec = node.spec
        for o in spec.options(node.data) if spec.options is not None else ():
            if o.token == token:
                self.goto(o.goto, out)
                return
        action = None
        if token.startswith("global:"):
            action = token[7:]
        else:
            action = self.tree.global_keys.action_for(token)
        if action and action in node.globals_enabled:
            self.global_action(node, action, out)
            return
        self.fail(node, "invalid", out)

    def global_action(self, node: Node, action: str, out: list[Action]) -> None:
        """repeat, back or agent, asked for at `node`."""
        if action == "repeat":
            self.listening = None
            self.play(node, "greet_long", out)
            self.listen(node, out)
        elif action == "back":
            target = self.history.pop() if self.history else node.id
            self.goto(target, out, push=False)
        elif action == "agent" and self.tree.agent_node:
            self.goto(self.tree.agent_node, out)
        else:
            self.fail(node, "invalid", out)

    def finish_digits(self, node: Node, digits: str, out: list[Action]) -> None:
        """A digit string is complete: check its length and validator, store it in the
        node's var and go on (a collect's `data`: var, min_length, validator, next)."""
        self.listening = None
        d = node.data
        if len(digits) < d.min_length:
            self.fail(node, "too_short", out)
            return
        ok, extra = validate(d.validator, digits, self.today)
        if not ok:
            self.vars.update(extra)   # why, for the invalid prompt ({alasan_tidak_valid})
            self.fail(node, "invalid", out)
            return
        self.vars[d.var] = digits
        self.vars.update(extra)
        self.goto(d.next, out)

    def _speech(self, ev: Speech, out: list[Action]) -> None:
        r: RecognitionResult = ev.result
        if not self._barge(out, "speech"):
            self.stats.ignored_keys += 1
            return
        node = self.tree.nodes[self.listening.node]
        if r.nomatch or r.confidence < self.tree.min_confidence:
            self.listening = None
            self.fail(node, "nomatch", out)
            return
        if r.choice is not None:
            self.listening = None
            HANDLERS[node.kind].choice(self, node, r.choice, out)
            return
        if r.digits is not None:
            HANDLERS[node.kind].spoken_digits(self, node, r.digits, ev.at, out, r.confidence)
            return
        self.listening = None
        self.fail(node, "nomatch", out)

    def _service_done(self, ev: ServiceDone, out: list[Action]) -> None:
        node = self.waiting_service
        if node is None:
            return
        self.waiting_service = None
        self.vars.update({k: str(v) for k, v in ev.vars.items()})
        outcome = "error" if ev.error else ev.outcome
        target = dict(node.data.branches).get(outcome, node.data.default)
        if target is None:
            self.end("error", out)
            return
        self.goto(target, out, push=False)
