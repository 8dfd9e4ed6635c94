"""Events fed into a CallSession and actions it returns.

Every event carries its own timestamp (`at`, seconds on the driver's clock: wall time for a
keypad call, the audio timeline for a WAV call, virtual time in scenarios). The session never
reads a clock itself, so the same events always give the same actions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ivr.engine.grammar import Grammar, RecognitionResult


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


Event = Digit | Speech | SpeechStarted | PromptDone | Tick | ServiceDone | Hangup


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
class EndCall:
    reason: str   # hangup node, max-exceeded, caller-hangup, transfer, error
    node: str


@dataclass(frozen=True)
class EnterNode:
    """Informational: the call entered a node (logs, status lines, coverage)."""

    node: str
    kind: str


Action = Play | StopPlayback | Listen | Invoke | Transfer | EndCall | EnterNode
