"""One agent queue for every call of a server, seen by each call on its own clock.

`CallRuntime` drives a `LiveQueue` with times on the call's clock (0 = the call's start)
and keeps only the queue events of its own caller. With many calls on one model, two
things must be added at the edge, without changing the runtime:

* time: each call's clock is offset by the moment the call started on the server's clock,
  and a call whose audio clock lags a little behind another's never moves the model back
  (times are clamped to the model's now);
* events: `LiveQueue.advance` hands back the events of *all* live callers to whoever
  advances it; the view files them per caller, so each call still logs its own CONNECT
  even when another call's tick ran the model past it.
"""
from __future__ import annotations

import dataclasses

from ivr.queue.model import LiveQueue


class SharedQueue:
    """The server's one LiveQueue plus a mailbox of pending events per caller."""

    def __init__(self, live: LiveQueue):
        self.live = live
        self._mail: dict[str, list] = {}

    def view(self, caller_id: str, offset: float) -> "QueueView":
        return QueueView(self, caller_id, offset)

    def _file(self, events) -> None:
        for ev in events:
            self._mail.setdefault(ev.caller_id, []).append(ev)

    def _take(self, caller_id: str) -> list:
        return self._mail.pop(caller_id, [])

    def advance(self, server_t: float) -> None:
        self._file(self.live.advance(max(server_t, self.live.now)))

    def forget(self, caller_id: str) -> None:
        self._mail.pop(caller_id, None)


class QueueView:
    """The LiveQueue API `CallRuntime` uses, on one call's clock (see module docstring)."""

    def __init__(self, shared: SharedQueue, caller_id: str, offset: float):
        self.shared = shared
        self.caller_id = caller_id
        self.offset = offset

    def _shift(self, events) -> list:
        return [dataclasses.replace(ev, at=ev.at - self.offset) for ev in events]

    @property
    def announcements(self):
        return self.shared.live.announcements

    @property
    def now(self) -> float:
        return self.shared.live.now - self.offset

    def advance(self, to_time: float) -> list:
        self.shared.advance(to_time + self.offset)
        return self._shift(self.shared._take(self.caller_id))

    def next_event_at(self) -> float:
        return self.shared.live.next_event_at() - self.offset

    def enter(self, caller_id: str, queue_name: str, at: float, **kw):
        live = self.shared.live
        info = live.enter(caller_id, queue_name, max(at + self.offset, live.now), **kw)
        self.shared._file(live.advance(live.now))   # others' events enter() kept back
        own = [ev for ev in info.events if ev.caller_id == caller_id]
        self.shared._file([ev for ev in info.events if ev.caller_id != caller_id])
        return dataclasses.replace(info, events=tuple(self._shift(own)))

    def leave(self, caller_id: str, at: float, reason: str = "abandon", **kw):
        live = self.shared.live
        ev = live.leave(caller_id, max(at + self.offset, live.now), reason, **kw)
        self.shared._file(live.advance(live.now))
        return dataclasses.replace(ev, at=ev.at - self.offset)

    def connected_at(self, caller_id: str):
        t = self.shared.live.connected_at(caller_id)
        return None if t is None else t - self.offset

    def position(self, caller_id: str) -> int:
        return self.shared.live.position(caller_id)

    def estimated_wait(self, caller_id: str) -> float:
        return self.shared.live.estimated_wait(caller_id)

    def agent_of(self, caller_id: str):
        return self.shared.live.agent_of(caller_id)

    def agent_name(self, agent_id: str) -> str:
        return self.shared.live.agent_name(agent_id)

    def hour_of_day(self, at: float) -> int:
        return self.shared.live.hour_of_day(at + self.offset)

    def status(self, caller_id: str) -> str:
        return self.shared.live.status(caller_id)
