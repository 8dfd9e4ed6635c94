"""Runs a CallSession's actions at the edge: services, transcript, call log, renderers.

Drivers (keypad, scripted keys, WAV file, microphone) own time and I/O; they all use this
one runtime so that a call behaves the same whichever way it is driven. The runtime never
decides what the call does -- it executes the engine's actions and reports back the results
(e.g. a service's outcome) as events.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ivr.drivers.calllog import CallLog
from ivr.engine.events import (
    Action, EndCall, EnterNode, Event, Invoke, Listen, Play, ServiceDone, StopPlayback, Transfer,
)
from ivr.engine.session import CallSession
from ivr.privacy import mask_pii
from ivr.tree.model import Tree

TRANSFER_NOTICE = "Anda akan dihubungkan dengan agen."


@dataclass
class Line:
    """One transcript line."""

    t: float
    who: str        # "ivr", "caller", "call"
    text: str
    node: str = ""

    def format(self, unmask: bool = False) -> str:
        text = self.text if unmask else mask_pii(self.text)
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
                 log: CallLog | None = None, on_action: Callable[[Action, float], None] | None = None):
        self.tree = tree
        self.session = CallSession(tree)
        self.services = services
        self.today = today or dt.date.today()
        self.log = log
        self.on_action = on_action
        self.transcript: list[Line] = []
        self.started_at = 0.0
        self.now = 0.0
        self.listen: Listen | None = None

    # ---- driving -------------------------------------------------------------------------
    def start(self, at: float = 0.0) -> list[Action]:
        self.started_at = self.now = at
        if self.log:
            self.log.write(at, "start", tree=self.tree.path, name=self.tree.name, today=self.today.isoformat())
        return self._run(self.session.start(at=at), at)

    def feed(self, event: Event) -> list[Action]:
        self.now = max(self.now, event.at)
        if self.log:
            sensitive = self.listen is not None and self.listen.grammar.digits and not self.session.ended
            self.log.event(event, sensitive=sensitive)
        return self._run(self.session.handle(event), event.at)

    @property
    def ended(self) -> bool:
        return self.session.ended

    def caller(self, text: str, at: float) -> None:
        self.transcript.append(Line(at, "caller", text, self.session.node.id if self.session.node else ""))

    def result(self) -> CallResult:
        s = self.session.stats
        return CallResult(s.outcome, s.end_node, list(s.path), s.transfer,
                          (s.ended_at if s.ended_at is not None else self.now) - self.started_at,
                          list(self.transcript), dict(self.session.vars))

    # ---- actions -------------------------------------------------------------------------
    def _run(self, actions: list[Action], at: float) -> list[Action]:
        done: list[Action] = []
        queue = list(actions)
        while queue:
            a = queue.pop(0)
            done.append(a)
            if self.log:
                self.log.action(a, at)
            if self.on_action:
                self.on_action(a, at)
            if isinstance(a, Play):
                self.transcript.append(Line(at, "ivr", a.text, a.node))
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
            elif isinstance(a, EndCall):
                self.transcript.append(Line(at, "call", f"SELESAI: {a.reason} di {a.node}", a.node))
                if self.log:
                    s = self.session.stats
                    self.log.write(at, "end", outcome=a.reason, node=a.node, path=s.path,
                                   duration=round(at - self.started_at, 3),
                                   transfer=(None if s.transfer is None else
                                             {"queue": s.transfer.queue, "request": s.transfer.request_type,
                                              "fields": s.transfer.fields}))
        return done

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
