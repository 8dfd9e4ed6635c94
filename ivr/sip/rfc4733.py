"""Telephone events (RFC 4733): DTMF keys sent as RTP packets instead of tones.

A key press is a run of packets with the same RTP timestamp (the event's start); the last
three repeat with the E bit set. One key is reported per timestamp, at its first packet,
so retransmitted end packets and lost first packets both give exactly one key.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

EVENT_KEYS = "0123456789*#ABCD"   # event codes 0..15
RATE = 8000


@dataclass(frozen=True)
class ToneEvent:
    key: str
    end: bool
    volume: int
    duration: int      # samples since the event's start


def parse(payload: bytes) -> ToneEvent | None:
    """A DTMF event, or None for other events (flash, fax tones) and short payloads."""
    if len(payload) < 4:
        return None
    code, flags, duration = struct.unpack_from("!BBH", payload)
    if code >= len(EVENT_KEYS):
        return None
    return ToneEvent(EVENT_KEYS[code], bool(flags & 0x80), flags & 0x3F, duration)


def build(key: str, end: bool, duration: int, volume: int = 10) -> bytes:
    return struct.pack("!BBH", EVENT_KEYS.index(key.upper()), (0x80 if end else 0) | (volume & 0x3F),
                       duration & 0xFFFF)


class EventReceiver:
    """Turns the packet stream into key presses: one per event timestamp."""

    def __init__(self) -> None:
        self._seen: list[int] = []     # recent event timestamps (bounded)

    def feed(self, ts: int, ev: ToneEvent) -> bool:
        """True when this packet starts a new key press."""
        if ts in self._seen:
            return False
        self._seen.append(ts)
        del self._seen[:-16]
        return True
