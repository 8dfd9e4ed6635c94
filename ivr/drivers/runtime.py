"""Runs a CallSession's actions at the edge: services, transcript, call log, renderers.

Drivers (keypad, scripted keys, WAV file, microphone) own time and I/O; they all use this
one runtime so that a call behaves the same whichever way it is driven. The runtime never
decides what the call does -- it executes the engine's actions and reports back the results
(e.g. a service's outcome) as events.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ivr.drivers.calllog import CallLog
from ivr.engine.events import (
    Action, EndCall, EnterNode, Event, Invoke, LeaveQueue, Listen, Play, QueueUpdate, ServiceDone,
    Speech, StopPlayback, Tick, Transfer,
)
from ivr.engine.session import VAR, CallSession
from ivr.privacy import input_is_public, mask_input, mask_pii, mask_readback, prompt_is_private, spoken_number
from ivr.tree.model import Tree

BURST_GAP_S = 1.0   # keys closer than this in time are one entry in the transcript
_QUEUE_VARS = frozenset({"posisi", "waktu_tunggu", "agen", "salam"})   # filled by the queue, about nobody


@dataclass
class Line:
    """One transcript line."""

    t: float
    who: str        # "ivr", "caller", "call"
    text: str
    node: str = ""

    sensitive: bool = False   # caller input where it is personal data (see CallRuntime.private_input),
    #                           or a prompt that reads it back (ivr.privacy.prompt_is_private)
    heard: bool = True        # False: a prompt queued behind one the caller cut, never started

    def format(self, unmask: bool = False) -> str:
        if unmask:
            text = self.text
        else:
            text = (mask_pii(self.text) if not self.sensitive else
                    mask_readback(self.text) if self.who == "ivr" else mask_input(self.text))
        who = {"ivr": "VIKA", "caller": "Penelepon", "call": "--"}.get(self.who, self.who)
        return f"[{self.t:7.2f}] {who:>9}: {text}"


@dataclass
class CallResult:
    outcome: str | None
    end_node: str | None
    path: list[str]
    transfer: Transfer | None
    duration: float
    transcript: list[Line] = field(default_factory=list)
    vars: dict = field(default_factory=dict)


class CallRuntime:
    """Feeds events to a session and carries out what comes back."""

    def __init__(self, tree: Tree, services=None, today: dt.date | None = None,
                 log: CallLog | None = None, queue=None, call_id: str = "caller"):
        self.tree = tree
        self.queue = queue          # ivr.queue.model.LiveQueue, or None: transfers end the call
        self.call_id = call_id
        self.queue_state: str | None = None   # None, "waiting", "connected", "left"
        self.services = services
        self.today = today or dt.date.today()
        self.session = CallSession(tree, today=self.today)
        self.log = log
        self.transcript: list[Line] = []
        self.started_at = 0.0
        self.now = 0.0
        self.listen: Listen | None = None
        self._play_lines: dict[int, Line] = {}
        self.defer_end = False            # a driver that times prompts calls finish() itself
        self._ending: EndCall | None = None
        self.finished_at: float | None = None
        self._burst: Line | None = None
        self._burst_last = 0.0
        self._personal_texts: set[str] = set()

    # ---- driving -------------------------------------------------------------------------
    def start(self, at: float = 0.0) -> list[Action]:
        self.started_at = self.now = at
        if self.log:
            self.log.write(at, "start", tree=self.tree.path, name=self.tree.name, today=self.today.isoformat())
        return self._run(self.session.start(at=at), at)

    def feed(self, event: Event) -> list[Action]:
        self.now = max(self.now, event.at)
        if self.log:
            spoken = isinstance(event, Speech) and spoken_number(event.result.text, event.result.digits)
            self.log.event(event, sensitive=self.private_input or spoken)
        return self._run(self.session.handle(event), event.at)

    @property
    def ended(self) -> bool:
        return self.session.ended

    @property
    def private_input(self) -> bool:
        """Is what the caller types or says now personal data? Yes unless the call listens at
        a menu or a collect of a public value (`ivr.privacy.input_is_public`): keys typed
        into a NIK collect, while holding for an agent or during a prompt that does not
        listen could all be a NIK, so only menu choices are logged and shown in clear."""
        s = self.session   # its attributes, not the `status` snapshot: this runs for every key
        if s.ended or s.holding is not None or s.listening is None:
            return True
        return not input_is_public(self.tree.nodes.get(s.listening.node))

    @property
    def hold_music(self) -> bool:
        """Should a caller holding for an agent hear music between announcements?"""
        return self.queue is not None and self.queue.announcements.hold_music

    @property
    def music_on_hold(self) -> bool:
        """Is the caller holding for an agent with hold music configured? A live driver then
        plays `ivr.speech.holdmusic.HoldMusicFeed` whenever no announcement is playing."""
        return self.hold_music and self.session.status.holding and not self.ended

    @property
    def next_deadline(self) -> float | None:
        """When the driver should call `tick` next: the engine's deadline, or while the
        caller holds for an agent, also the queue model's next event."""
        dl = self.session.next_deadline
        if self.queue is not None and self.queue_state == "waiting":
            nxt = self.queue.next_event_at()
            if nxt != float("inf"):
                dl = nxt if dl is None else min(dl, nxt)
        return dl

    def tick(self, at: float) -> list[Action]:
        """Time has reached `at`: fire due timeouts, or bring the queue up to date."""
        if self.queue is not None and self.queue_state == "waiting" and not self.ended:
            self._queue_events(self.queue.advance(self._qt(at)))
            if self.queue.next_event_at() <= at:
                # SimPy's run(until=t) leaves events scheduled exactly at t for later: take
                # them now, or the driver would be woken for the same instant forever.
                self._queue_events(self.queue.advance(at + 1e-6))
            status = self.queue.status(self.call_id)
            if status == "connected":
                self.queue_state = "connected"
                at_c = self.queue.connected_at(self.call_id)
                return self.feed(self._connected(max(self.now, at_c if at_c is not None else at),
                                                 self.queue.agent_of(self.call_id) or ""))
            return self.feed(self._update("waiting", at, self.queue.position(self.call_id),
                                          self.queue.estimated_wait(self.call_id)))
        return self.feed(Tick(at=at))

    def caller(self, text: str, at: float, burst: bool = False, said=None) -> None:
        """Note what the caller did. With `burst`, keys typed in a row join one line
        (stamped with the first key's time) until `end_burst`. `said`: the recognition
        result of speech, hidden even where input is public when it holds a number
        (`ivr.privacy.spoken_number`: a NIK read out at a menu)."""
        sensitive = said is not None and spoken_number(said.text, said.digits)
        if burst and self._burst is not None and at - self._burst_last <= BURST_GAP_S:
            self._burst.text += text
            self._burst.sensitive |= self.private_input   # one private key hides the whole burst
            self._burst_last = at
            return
        line = Line(at, "caller", text, self.session.node.id if self.session.node else "")
        line.sensitive = self.private_input or sensitive
        self.transcript.append(line)
        self._burst = line if burst else None
        self._burst_last = at

    def end_burst(self) -> None:
        self._burst = None

    @property
    def typing(self) -> Line | None:
        """The transcript line of keys being typed right now (a burst still open)."""
        return self._burst if self._burst is not None and self.now - self._burst_last <= BURST_GAP_S else None

    def played_at(self, action: Play, start: float) -> Line | None:
        """A driver that schedules prompts reports when this one really started; returns
        its transcript line."""
        line = self._play_lines.pop(id(action), None)
        if line is not None:
            line.t = start
        return line

    def not_played(self, line: Line | None) -> None:
        """A prompt queued behind one the caller cut short never started: the transcript
        does not say it was heard. (Marked, not removed: printers and scenario steps hold
        positions in `transcript`.)"""
        if line is not None:
            line.heard = False

    def lines(self) -> list[Line]:
        """The transcript in time order (prompts are stamped when they really started)."""
        return sorted((line for line in self.transcript if line.heard), key=lambda line: line.t)

    def result(self) -> CallResult:
        s = self.session.stats
        end = self.finished_at if self.finished_at is not None else (s.ended_at if s.ended_at is not None else self.now)
        return CallResult(s.outcome, s.end_node, list(s.path), s.transfer, end - self.started_at,
                          self.lines(), dict(self.session.vars))

    # ---- actions -------------------------------------------------------------------------
    def _run(self, actions: list[Action], at: float) -> list[Action]:
        done: list[Action] = []
        queue = list(actions)
        while queue:
            a = queue.pop(0)
            done.append(a)
            private = isinstance(a, Play) and prompt_is_private(self.tree.nodes.get(a.node), a.prompt)
            if self.log:
                self.log.action(a, at, private=private)
            if isinstance(a, Play):
                if self._personalised(a):
                    self._personal_texts.add(a.text)
                line = Line(at, "ivr", a.text, a.node, sensitive=private)
                self.transcript.append(line)
                self._play_lines[id(a)] = line
            elif isinstance(a, Listen):
                self.listen = a
            elif isinstance(a, EnterNode):
                pass
            elif isinstance(a, StopPlayback):
                self.transcript.append(Line(at, "call", f"(prompt dihentikan: {a.reason})"))
            elif isinstance(a, Invoke):
                queue.extend(self._invoke(a, at))
            elif isinstance(a, Transfer):
                fields = ", ".join(f"{k}={v}" for k, v in a.fields.items() if v)
                self.transcript.append(Line(at, "call", f"TRANSFER ke antrean '{a.queue}' (permintaan {a.request_type}"
                                                        + (f"; {fields}" if fields else "") + ")", a.node))
                if self.session.holding is not None:
                    queue.extend(self._enter_queue(a, at))
            elif isinstance(a, LeaveQueue):
                if self.queue is not None and self.queue_state == "waiting":
                    ev = self.queue.leave(self.call_id, self._qt(at), a.reason, key=a.key)
                    self.queue_state = "left"
                    self._queue_events([ev])
            elif isinstance(a, EndCall):
                self._ending = a
                if not self.defer_end:
                    self.finish(at)
        return done

    def personal_text(self, text: str) -> bool:
        """Was `text` said with a caller's data filled in (name, class, bill, card)? Then its
        rendering is not cached on disk (`TtsVoice.personal`)."""
        return text in self._personal_texts

    def _personalised(self, a: Play) -> bool:
        """A prompt is personalised when its template uses a variable other than the tree's
        constants and the queue's own (position, wait, agent): one a collect or a service
        filled in for this caller. A prompt without a template (an engine message) is
        treated as personalised if it holds a digit, to be safe."""
        node = self.tree.nodes.get(a.node)
        try:
            raw = node.prompts.get(a.prompt) if node is not None else ""
        except AttributeError:
            raw = ""
        if not raw:
            return any(c.isdigit() for c in a.text)
        names = set(VAR.findall(raw)) - set(self.tree.variables) - _QUEUE_VARS
        return bool(names)

    def finish(self, t: float) -> None:
        """The call is over at `t`, once its last prompt has been heard (drivers that time
        prompts set `defer_end` and call this; others end at the EndCall itself): the agent
        is freed, the transcript and the log get their final record. Idempotent."""
        a = self._ending
        if a is None or self.finished_at is not None:
            return
        self.finished_at = t
        if self.queue is not None and self.queue_state == "connected":
            self._queue_events([self.queue.leave(self.call_id, self._qt(t), "complete")])
            self.queue_state = "left"
        self.transcript.append(Line(t, "call", f"SELESAI: {a.reason} di {a.node}", a.node))
        if self.log:
            s = self.session.stats
            self.log.write(t, "end", outcome=a.reason, node=a.node, path=s.path,
                           duration=round(t - self.started_at, 3),
                           transfer=(None if s.transfer is None else
                                     {"queue": s.transfer.queue, "request": s.transfer.request_type,
                                      "fields": s.transfer.fields}))

    def _qt(self, at: float) -> float:
        """A time for the queue model: never before the model's own clock (which a tick may
        have nudged a microsecond ahead)."""
        return max(at, self.queue.now) if self.queue is not None else at

    # ---- agent queue -------------------------------------------------------------------
    def _update(self, status: str, at: float, position: int = 0, est: float = 0.0, agent: str = "",
                **answered) -> QueueUpdate:
        ann = self.queue.announcements if self.queue is not None else None
        if ann is None:
            return QueueUpdate(status, at=at, position=position, est_wait_s=est, agent=agent, **answered)
        return QueueUpdate(status, at=at, position=position, est_wait_s=est, agent=agent, **answered,
                           announce_every=ann.periodic_announce_s, announce_position=ann.announce_position,
                           announce_holdtime=ann.announce_holdtime, callback_key=ann.callback_key)

    def _connected(self, at: float, agent: str) -> QueueUpdate:
        """The event for an agent answering: their id, the name they greet with and the hour
        of the day on the queue's clock (the config's start_hour or the driver's --hour, plus
        the call's time), for the engine's {agen} and {salam}. A queue that cannot tell
        (name or hour) leaves them out: the engine then says the id's number / "Selamat datang"."""
        name_of = getattr(self.queue, "agent_name", None)
        hour_of = getattr(self.queue, "hour_of_day", None)
        return self._update("connected", at, agent=agent,
                            agent_name=name_of(agent) if name_of and agent else "",
                            hour=hour_of(at) if hour_of else None)

    def _enter_queue(self, a: Transfer, at: float) -> list[Action]:
        if self.queue is None:
            ev = QueueUpdate("unavailable", at=at)
        else:
            try:
                info = self.queue.enter(self.call_id, a.queue, self._qt(at))
            except KeyError as exc:
                self.transcript.append(Line(at, "call", f"(antrean tidak dikenal: {exc.args[0]})", a.node))
                info = None
            if info is None:
                ev = QueueUpdate("unavailable", at=at)
            else:
                self._queue_events(list(info.events))
                self.queue_state = {"waiting": "waiting", "connected": "connected"}.get(info.status, "left")
                ev = (self._connected(at, info.agent or "") if info.status == "connected" else
                      self._update(info.status, at, info.position, info.est_wait_s, info.agent or ""))
        if self.log:
            self.log.event(ev)
        return self.session.handle(ev)

    def _queue_events(self, events) -> None:
        """Queue events in Asterisk queue_log style, to the log and the transcript."""
        for ev in events:
            if ev.caller_id != self.call_id:
                continue
            if self.log:
                self.log.write(ev.at, "queue", event=ev.kind, queue=ev.queue,
                               **{k: v for k, v in (("position", max(1, ev.position) if ev.kind == "ENTERQUEUE"
                                                     else getattr(ev, "position", None)),
                                                    ("wait_s", getattr(ev, "wait_s", None)),
                                                    ("talk_s", getattr(ev, "talk_s", None)),
                                                    ("agent", getattr(ev, "agent", None)),
                                                    ("key", getattr(ev, "key", None))) if v is not None})
            detail = {"ENTERQUEUE": f"posisi {max(1, getattr(ev, 'position', 1))}",
                      "CONNECT": f"agen {getattr(ev, 'agent', '')}, menunggu {getattr(ev, 'wait_s', 0):.0f} s",
                      "ABANDON": f"menunggu {getattr(ev, 'wait_s', 0):.0f} s",
                      "EXITWITHKEY": f"tombol {getattr(ev, 'key', '')}",
                      "COMPLETECALLER": f"bicara {getattr(ev, 'talk_s', 0) or 0:.0f} s"}.get(ev.kind, "")
            self.transcript.append(Line(ev.at, "call", f"[antrean {ev.queue}] {ev.kind} {detail}".rstrip()))

    def _invoke(self, a: Invoke, at: float) -> list[Action]:
        if self.services is None:
            ev = ServiceDone("error", {}, at=at, error="no services configured")
        else:
            try:
                res = self.services.invoke(a.service, a.args, today=self.today)
                ev = ServiceDone(res.outcome, dict(res.vars), at=at)
            except Exception as exc:  # a broken service must not crash the call
                ev = ServiceDone("error", {}, at=at, error=f"{type(exc).__name__}: {exc}")
        if self.log:
            self.log.event(ev)
        out = self.session.handle(ev)
        return out
