"""Events fed into a CallSession and actions it returns.

Every event carries its own timestamp (`at`, seconds on the driver's clock: wall time for a
keypad call, the audio timeline for a WAV call, virtual time in scenarios). The session never
reads a clock itself, so the same events always give the same actions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ivr.grammar import Grammar, RecognitionResult


# ---- events (driver -> engine) ------------------------------------------------------------
@dataclass(frozen=True)
class Digit:
    key: str
    at: float


@dataclass(frozen=True)
class Speech:
    """A final recognition result for one utterance."""

    result: RecognitionResult
    at: float


@dataclass(frozen=True)
class SpeechStarted:
    """The caller started speaking (voice activity): stops a barge-in prompt."""

    at: float


@dataclass(frozen=True)
class PromptDone:
    """Every Play issued so far has finished playing (or was stopped)."""

    at: float


@dataclass(frozen=True)
class Tick:
    """Time has passed; due timeouts fire. Send one at `CallSession.next_deadline`."""

    at: float


@dataclass(frozen=True)
class ServiceDone:
    """Result of an `Invoke` action."""

    outcome: str
    vars: dict = field(default_factory=dict)
    at: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class Hangup:
    at: float


@dataclass(frozen=True)
class QueueUpdate:
    """The agent queue's state for this caller, sent by the driver after a `Transfer` and
    whenever time passes while the caller holds (the queue model lives at the edge; the
    engine only decides what the caller hears).

    status: "waiting", "connected", "full", or "unavailable" (no queue model: the call ends
    at the transfer, as a plain IVR hand-off would).

    When an agent answers ("connected"): `agent` is the model's id ("kepesertaan/3"),
    `agent_name` the name they greet with ("Rina") and `hour` the hour of the day (0-23) on
    the driver's clock, from which the engine picks "Selamat pagi/siang/sore/malam" -- the
    engine itself never reads a clock."""

    status: str
    at: float
    position: int = 0
    est_wait_s: float = 0.0
    agent: str = ""
    agent_name: str = ""
    hour: int | None = None
    announce_every: float = 30.0     # seconds between periodic announcements (0: never)
    announce_position: bool = True
    announce_holdtime: bool = True
    callback_key: str | None = "*"


Event = Digit | Speech | SpeechStarted | PromptDone | Tick | ServiceDone | Hangup | QueueUpdate


# ---- actions (engine -> driver) -----------------------------------------------------------
@dataclass(frozen=True)
class Play:
    text: str
    node: str
    prompt: str  # greet_long, invalid, ... or "say"
    barge_in: bool = True


@dataclass(frozen=True)
class StopPlayback:
    reason: str = "barge-in"


@dataclass(frozen=True)
class Listen:
    """Start listening once the prompts end: keys and/or speech per `grammar`."""

    node: str
    grammar: Grammar
    timeout: float
    inter_digit_timeout: float
    terminator: str = ""
    retries_left: int = 0
    timeouts_left: int = 0


@dataclass(frozen=True)
class Invoke:
    service: str
    args: dict
    node: str


@dataclass(frozen=True)
class Transfer:
    queue: str
    request_type: str
    fields: dict
    node: str


@dataclass(frozen=True)
class LeaveQueue:
    """The caller leaves the queue: "callback" (pressed the callback key) or "abandon"."""

    reason: str
    node: str
    key: str | None = None


#: Why a call ended (`EndCall.reason`, the log's `end` record, `CallResult.outcome`).
END_REASONS: dict[str, str] = {
    "hangup": "a hangup node ended the call",
    "transfer": "handed to an agent queue (no queue model, or the queue is unavailable)",
    "max-exceeded": "max_failures or max_timeouts reached with on_exceeded: hangup",
    "caller-hangup": "the caller hung up",
    "abandon": "the caller hung up while holding for an agent",
    "callback": "the caller pressed the callback key and no callback node follows",
    "queue-full": "the agent queue was full and no callback node follows",
    "max-duration": "the call reached its maximum duration (defaults.max_call_seconds, "
                    "`ivr call --max-call-seconds`)",
    "error": "a service failed with no branch for it, or a loop ran past the engine's hop limit",
}


@dataclass(frozen=True)
class EndCall:
    reason: str   # one of END_REASONS
    node: str


@dataclass(frozen=True)
class EnterNode:
    """Informational: the call entered a node (logs, status lines, coverage)."""

    node: str
    kind: str


Action = Play | StopPlayback | Listen | Invoke | Transfer | LeaveQueue | EndCall | EnterNode
