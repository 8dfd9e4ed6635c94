"""RTP packets (RFC 3550) and the receive-side jitter buffer.

The jitter buffer is also the call's clock. Every 20 ms tick of the server's media clock
takes one frame out of it: the packets that arrived for that stretch of the sender's
timeline, or silence where a packet is missing or late. So the caller's audio stream, as
played out, advances exactly 160 samples per tick whether or not the phone sends media
(a phone on mute, SIPp without a pcap), and timeouts still fire on time -- the same rule
as the microphone driver, where the input stream's sample count is the call's clock.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

RATE = 8000
FRAME = 160            # samples per 20 ms packet at 8 kHz


@dataclass(frozen=True)
class RtpPacket:
    pt: int
    seq: int
    ts: int
    ssrc: int
    marker: bool
    payload: bytes


def parse(data: bytes) -> RtpPacket | None:
    """An RTP packet, or None for anything that is not RTP version 2 (RTCP on the same
    port, garbage): a stray datagram must never end a call."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
    pt = b1 & 0x7F
    if 72 <= pt <= 76:      # RTCP (RFC 5761 muxing): not media
        return None
    off = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:           # header extension
        if len(data) < off + 4:
            return None
        off += 4 + 4 * struct.unpack_from("!H", data, off + 2)[0]
    end = len(data)
    if b0 & 0x20:           # padding
        end -= data[-1]
    if off > end:
        return None
    return RtpPacket(pt, seq, ts, ssrc, bool(b1 & 0x80), bytes(data[off:end]))


def build(pt: int, seq: int, ts: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF,
                       ssrc & 0xFFFFFFFF) + payload


@dataclass
class RtpSender:
    """Sequence number and timestamp of one outgoing stream."""

    ssrc: int
    seq: int = 0
    ts: int = 0
    marker: bool = True     # first packet of a talkspurt

    def packet(self, pt: int, payload: bytes, samples: int = FRAME) -> bytes:
        out = build(pt, self.seq, self.ts, self.ssrc, payload, self.marker)
        self.marker = False
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + samples) & 0xFFFFFFFF
        return out


def _ts_diff(a: int, b: int) -> int:
    """a - b on the 32-bit timestamp circle."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d >= 1 << 31 else d


@dataclass
class JitterBuffer:
    """Reorders packets by timestamp and plays them out one frame per tick (module docstring).

    `depth` frames of delay absorb network jitter (2 = 40 ms); a packet later than its
    playout is dropped and counted; a jump of more than `resync_s` (a new sender, a long
    pause) restarts the timeline at the new packet."""

    depth: int = 2
    resync_s: float = 2.0
    _pending: dict[int, np.ndarray] = field(default_factory=dict)   # ts -> samples
    _next: int | None = None      # sender timestamp of the next sample to play
    _wait: int = 0                # ticks still to wait before playout starts
    _ssrc: int | None = None
    received: int = 0
    late: int = 0
    concealed: int = 0            # frames played as silence while media flows

    def put(self, pkt: RtpPacket, samples: np.ndarray) -> None:
        self.received += 1
        if self._ssrc != pkt.ssrc or self._next is None or \
                abs(_ts_diff(pkt.ts, self._next)) > self.resync_s * RATE:
            self._ssrc = pkt.ssrc
            self._pending.clear()
            self._next = pkt.ts
            self._wait = self.depth
        if _ts_diff(pkt.ts + len(samples), self._next) <= 0:
            self.late += 1
            return
        self._pending[pkt.ts] = samples

    def position_of(self, ts: int) -> int:
        """Samples from the next playout position to sender timestamp `ts` (may be < 0)."""
        return 0 if self._next is None else _ts_diff(ts, self._next)

    def tick(self, n: int = FRAME) -> np.ndarray:
        """The next `n` samples of the caller's audio as played out."""
        out = np.zeros(n, dtype=np.float32)
        if self._next is None:
            return out
        if self._wait > 0:
            self._wait -= 1
            return out
        got = 0
        pos = self._next
        for ts in sorted(self._pending, key=lambda t: _ts_diff(t, pos)):
            d = _ts_diff(ts, pos)
            if d >= n:
                break
            s = self._pending[ts]
            if d + len(s) <= 0:
                del self._pending[ts]
                continue
            a = max(0, -d)                       # part of the packet already played
            k = min(len(s) - a, n - max(d, 0))
            out[max(d, 0):max(d, 0) + k] = s[a:a + k]
            got += k
            if a + k >= len(s):
                del self._pending[ts]
        if got == 0 and self.received:
            self.concealed += 1
        self._next = (pos + n) & 0xFFFFFFFF
        return out
