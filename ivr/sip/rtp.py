"""RTP packets (RFC 3550) and the receive-side jitter buffer.

The jitter buffer is also the call's clock. For every 20 ms tick of the server's media
clock one frame comes out of it (the server takes a call's frames in slices of several
ticks): the packets that arrived for that stretch of the sender's timeline, or silence
where a packet is missing or late. So the caller's audio stream, as played out, advances
exactly 160 samples per tick whether or not the phone sends media
(a phone on mute, SIPp without a pcap), and timeouts still fire on time -- the same rule
as the microphone driver, where the input stream's sample count is the call's clock.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

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


HEADER = struct.Struct("!BBHII")


def parse(data: bytes) -> RtpPacket | None:
    """An RTP packet, or None for anything that is not RTP version 2 (RTCP on the same
    port, garbage): a stray datagram must never end a call."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    b0, b1, seq, ts, ssrc = HEADER.unpack_from(data)
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
    return HEADER.pack(0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF,
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
    """Reorders payloads by timestamp and plays them out frame by frame (module docstring).

    It holds G.711 payload bytes as they came (one sample per byte), not decoded audio: the
    receive path costs one dict insert per packet, and the call decodes its whole slice of
    audio in one table lookup. `depth` frames of delay absorb network jitter (2 = 40 ms); a
    packet later than its playout is dropped and counted, but `slip_after` late ones in a
    row with none waiting mean the sender runs behind (a load generator or phone that
    stalled and never caught up), and the playout moves back to them; a jump of more than
    `resync_s` (a new sender, a long pause) restarts the timeline at the new packet. `fill` is the
    codec's silence byte, played where a packet is missing."""

    depth: int = 2
    resync_s: float = 2.0
    fill: bytes = b"\xff"
    _pending: dict[int, bytes] = field(default_factory=dict)   # ts -> payload
    _next: int | None = None      # sender timestamp of the next sample to play
    _wait: int = 0                # frames still to wait before playout starts
    _ssrc: int | None = None
    slip_after: int = 1           # late packets in a row, nothing pending: the sender runs behind
    received: int = 0
    late: int = 0
    concealed: int = 0            # frames played as silence while media flows
    slips: int = 0                # times the playout moved back to a sender running behind
    _late_run: int = 0

    def put(self, ssrc: int, ts: int, payload: bytes) -> None:
        self.received += 1
        nxt = self._next
        if self._ssrc != ssrc or nxt is None or abs(_ts_diff(ts, nxt)) > self.resync_s * RATE:
            self._ssrc = ssrc
            self._pending.clear()
            self._next = nxt = ts
            self._wait = self.depth
        if _ts_diff(ts + len(payload), nxt) <= 0:
            self.late += 1
            self._late_run += 1
            if self._late_run >= self.slip_after and not self._pending:
                # every packet comes after its playout and none is waiting: the sender fell
                # behind our clock (a stall it never made up) and stays there; dropping
                # would silence the rest of the call, so play out from here, that much later
                self._next = ts
                self._wait = self.depth
                self._late_run = 0
                self.slips += 1
                self._pending[ts] = payload
            return
        self._late_run = 0
        self._pending[ts] = payload

    def position_of(self, ts: int) -> int:
        """Samples from the next playout position to sender timestamp `ts` (may be < 0)."""
        return 0 if self._next is None else _ts_diff(ts, self._next)

    def take(self, frames: int = 1, n: int = FRAME) -> bytes:
        """The next `frames` frames of `n` samples of the caller's audio as played out."""
        return b"".join([self._frame(n) for _ in range(frames)])

    def _frame(self, n: int) -> bytes:
        pos = self._next
        if pos is None:
            return self.fill * n
        if self._wait > 0:
            self._wait -= 1
            return self.fill * n
        self._next = (pos + n) & 0xFFFFFFFF
        pending = self._pending
        got = pending.pop(pos, None)
        if got is not None and len(got) == n:      # the usual case: in order, one frame each
            if len(pending) > 64:
                self._drop_stale()
            return got
        if got is not None:
            pending[pos] = got
        out = bytearray(self.fill * n)
        filled = 0
        for ts in sorted(pending, key=lambda t: _ts_diff(t, pos)):
            d = _ts_diff(ts, pos)
            if d >= n:
                break
            s = pending[ts]
            if d + len(s) <= 0:
                del pending[ts]
                continue
            a = max(0, -d)                       # part of the packet already played
            k = min(len(s) - a, n - max(d, 0))
            out[max(d, 0):max(d, 0) + k] = s[a:a + k]
            filled += k
            if a + k >= len(s):
                del pending[ts]
            else:                                # the rest waits under its own timestamp
                del pending[ts]
                pending[(ts + a + k) & 0xFFFFFFFF] = s[a + k:]
        if filled == 0 and self.received:
            self.concealed += 1
        return bytes(out)

    def _drop_stale(self) -> None:
        pos = self._next
        for ts in [t for t, s in self._pending.items() if _ts_diff(t + len(s), pos) <= 0]:
            del self._pending[ts]
