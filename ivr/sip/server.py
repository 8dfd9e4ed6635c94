"""The SIP user agent server and the 20 ms media clock, on one asyncio loop.

Why asyncio and our own RFC 3261 subset rather than a SIP library: every call here is a
`CallSession` whose clock is its caller's audio stream, processed in 100 ms slices by the
same `AudioCall` as WAV and microphone calls, and one SimPy agent queue is shared by all
calls. That needs the media loop in our hands: PJSIP (pjsua2) runs its own media threads
and clock and hands audio to Python frame by frame through callbacks across threads;
pyVoIP runs its own threads per call (aiosipua was not evaluated beyond its listing).
What a phone needs from a UAS is small (INVITE/ACK/BYE/CANCEL/OPTIONS over UDP, one SDP
answer), so it is here, in `message`, `sdp`, `rtp` and this module.

One loop, two kinds of work:
* SIP: datagrams are parsed and answered at once (100 Trying, then 200 OK with our SDP,
  retransmitted until the ACK; 486 when `max_calls` calls are up; 487 after CANCEL).
* Media in: a ticker wakes every 20 ms on absolute deadlines; each call's turn comes every
  `PROCESS_EVERY` ticks (calls spread over the phases): its frames come out of its jitter
  buffer, are decoded in one lookup and fed into the call (DTMF, speech, engine, queue).

Media out is not on this loop: `ivr.sip.pacer` sends every call's next 20 ms frame from a
thread of its own, from prompts rendered by a worker thread and G.711-encoded once, so
neither a slow slice of call processing nor a prompt being synthesised delays a send.
"""
from __future__ import annotations

import asyncio
import json
import random
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ivr.drivers.transcript import TranscriptPrinter
from ivr.sip import g711, rfc4733, rtp, sdp
from ivr.sip.call import RtpCall
from ivr.sip.pacer import Pacer, TxStream
from ivr.sip.message import SipMessage, SipParseError, parse, response, tag_of, uri_of

TICK_S = 0.02
PROCESS_EVERY = 10           # ticks per slice of caller audio fed into a call (200 ms)
SWITCH_INTERVAL_S = 0.0005   # how soon the pacer thread gets the GIL from a busy loop
T1, T2 = 0.5, 4.0            # RFC 3261 timers
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"
END_TAIL_S = 0.3             # silence after the goodbye prompt before our BYE


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 5060
    max_calls: int = 50
    answer_after: float = 0.0          # seconds of 180 Ringing before the 200 OK
    log_dir: Path | None = None        # None: no call logs
    stats_path: Path | None = None
    quiet: bool = False
    trace: bool = False                # each call's transcript lines on stderr, as they happen
    rtp_timeout: float = 30.0          # seconds without RTP from a caller that sends it: gone (0: never)


@dataclass
class Stats:
    """What the server did; written as JSON at exit for `bench.sip`."""

    answered: int = 0
    busy: int = 0
    cancelled: int = 0
    caller_hangups: int = 0
    ivr_hangups: int = 0
    rtp_timeouts: int = 0
    no_ack: int = 0
    max_concurrent: int = 0
    packets_sent: int = 0
    packets_received: int = 0
    keys_rfc4733: int = 0
    keys_inband: int = 0
    late_ticks: int = 0           # the pacer's ticks that started after their deadline
    loop_late_ticks: int = 0      # the call-processing ticks that did
    late_renders: int = 0
    rtp_late: int = 0             # caller packets that came after their playout (dropped)
    rtp_slips: int = 0            # times a call's playout moved back to a sender running behind
    pacer_priority: str = "normal"
    jitter_hist: np.ndarray = field(default_factory=lambda: np.zeros(1001, np.int64))  # 0.05 ms bins

    def jitter_ms(self, q: float) -> float:
        total = int(self.jitter_hist.sum())
        if total == 0:
            return 0.0
        i = int(np.searchsorted(np.cumsum(self.jitter_hist), q * total))
        return round(i * 0.05, 2)

    def as_dict(self, cpu_s: float, wall_s: float) -> dict:
        return {"answered": self.answered, "busy": self.busy, "cancelled": self.cancelled,
                "caller_hangups": self.caller_hangups, "ivr_hangups": self.ivr_hangups, "no_ack": self.no_ack,
                "rtp_timeouts": self.rtp_timeouts,
                "max_concurrent": self.max_concurrent, "packets_sent": self.packets_sent,
                "packets_received": self.packets_received, "keys_rfc4733": self.keys_rfc4733,
                "keys_inband": self.keys_inband, "late_ticks": self.late_ticks,
                "loop_late_ticks": self.loop_late_ticks, "late_renders": self.late_renders,
                "rtp_late": self.rtp_late, "rtp_slips": self.rtp_slips,
                "pacer_priority": self.pacer_priority,
                "send_jitter_ms": {"p50": self.jitter_ms(0.5), "p99": self.jitter_ms(0.99),
                                   "max": self.jitter_ms(1.0)},
                "cpu_s": round(cpu_s, 3), "wall_s": round(wall_s, 3)}


@dataclass
class Leg:
    """One call: the dialog (RFC 3261 section 12) and its media."""

    server: "SipServer"
    n: int
    invite: SipMessage
    addr: tuple
    local_ip: str
    local_tag: str
    media: sdp.Media | None
    state: str = "early"          # early -> confirmed -> ended
    sock: socket.socket | None = None
    tx: TxStream | None = None
    rtp_port: int = 0
    call: RtpCall | None = None
    log: object = None
    last_response: bytes = b""
    acked: bool = False
    cseq_out: int = 1
    jb: rtp.JitterBuffer = field(default_factory=rtp.JitterBuffer)
    events: rfc4733.EventReceiver = field(default_factory=rfc4733.EventReceiver)
    keys: list = field(default_factory=list)   # (stream sample, key) from RFC 4733 / INFO
    played: int = 0               # caller samples taken out of the jitter buffer
    taken_tick: int = 0           # the server tick up to which its audio went into the call
    printer: TranscriptPrinter | None = None   # --trace: prints the call's transcript as it grows
    ended_at_tick: int | None = None
    retransmit: asyncio.TimerHandle | None = None
    last_rtp_tick: int = 0        # the server tick of the caller's last RTP packet

    @property
    def call_id(self) -> str:
        return self.invite.call_id

    # ---- media in --------------------------------------------------------------------------
    def rtp_in(self, data: bytes) -> None:
        media = self.media
        if self.state != "confirmed" or media is None:
            return
        self.server.stats.packets_received += 1
        self.last_rtp_tick = self.server._tick_n
        # the usual packet (version 2, no CSRC, extension or padding, our codec): its payload
        # goes into the jitter buffer as it is, no packet object made
        if len(data) > 12 and data[0] == 0x80 and data[1] & 0x7F == media.pt:
            _, _, _, ts, ssrc = rtp.HEADER.unpack_from(data)
            self.jb.put(ssrc, ts, data[12:])
            return
        pkt = rtp.parse(data)
        if pkt is None:
            return
        if pkt.pt == media.pt:
            self.jb.put(pkt.ssrc, pkt.ts, pkt.payload)
        elif media.event_pt is not None and pkt.pt == media.event_pt:
            ev = rfc4733.parse(pkt.payload)
            if ev is not None and self.events.feed(pkt.ts, ev):
                self.key_at(self.played + max(0, self.jb.position_of(pkt.ts)), ev.key)

    def key_at(self, sample: int, key: str) -> None:
        done = self.call.samples_in if self.call else 0
        self.keys.append((max(sample, done), key))   # never before audio already fed
        self.keys.sort()

    def drain(self) -> None:
        """Read every datagram waiting on the call's RTP socket. The socket is read here, at
        the call's turn, not by a loop callback per packet: 200 calls send 10,000 packets a
        second, and the kernel's buffer holds a turn's 10 (+ events) with room to spare."""
        sock, rtp_in = self.sock, self.rtp_in
        if sock is None:
            return
        for _ in range(1000):
            try:
                rtp_in(sock.recv(2048))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:          # ICMP unreachable reported on the socket, closed socket
                return

    def process(self, frames: int) -> None:
        """Play `frames` frames out of the jitter buffer and feed them into the call."""
        call = self.call
        if call is None:
            return
        self.drain()
        codec = self.media.codec if self.media is not None else "PCMU"
        audio = g711.decode(self.jb.take(frames), codec)
        self.played += frames * rtp.FRAME
        base = call.samples_in
        end = base + len(audio)
        if self.keys:
            now = [(s - base, k) for s, k in self.keys if s < end]
            self.keys = [(s, k) for s, k in self.keys if s >= end]
        else:
            now = []
        call.media(audio, now)


class SipServer(asyncio.DatagramProtocol):
    """Answers calls and runs their media (module docstring)."""

    def __init__(self, opts: ServeOptions, new_call: Callable[["Leg"], RtpCall]):
        self.opts = opts
        self.new_call = new_call       # builds the RtpCall (runtime, log, queue view) of a leg
        self.legs: dict[str, Leg] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.stats = Stats()
        self._n = 0
        self._tick_n = 0
        self._recent: dict[tuple[str, str], tuple[bytes, float]] = {}   # final non-2xx responses
        self._byes: dict[str, tuple[bytes, tuple, int, asyncio.TimerHandle | None]] = {}
        self._closing = False
        self._silence: dict[str, bytes] = {c: g711.silence(c, rtp.FRAME) for c in g711.CODECS}
        self.pacer = Pacer()
        self.t0 = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self, fn) -> None:
        """Run `fn` on the loop thread soon (from any thread: a rendering finished)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)

    # ---- transport -------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self, data: bytes, addr) -> None:
        if self.transport is not None:
            self.transport.sendto(data, addr)

    def datagram_received(self, data: bytes, addr) -> None:
        if not data.strip():
            return                      # CRLF keep-alive
        try:
            msg = parse(data)
        except SipParseError:
            return
        try:
            if msg.is_request:
                self._request(msg, addr)
            else:
                self._response(msg)
        except Exception as exc:        # one bad message must not stop the server
            self._say(f"error handling {msg.method or msg.status}: {type(exc).__name__}: {exc}")
            if msg.is_request and msg.method != "ACK":
                self.send(response(msg, 500).encode(), addr)

    def _say(self, text: str) -> None:
        if not self.opts.quiet:
            print(f"ivr serve: {text}", file=sys.stderr, flush=True)

    @property
    def clock(self) -> float:
        """Seconds since the server started (the shared agent queue's clock)."""
        return asyncio.get_running_loop().time() - self.t0

    @property
    def active(self) -> int:
        return sum(1 for leg in self.legs.values() if leg.state != "ended")

    def _trace(self, leg: Leg, final: bool = False) -> None:
        """With `trace`: the call's new transcript lines (masked, labelled with the call and
        node), once complete (keys still being typed wait for the end of the entry)."""
        if not self.opts.trace or leg.call is None:
            return
        if leg.printer is None:
            leg.printer = TranscriptPrinter(leg.call.rt, sys.stderr, tag=lambda line, n=leg.n: f"call {n} {line.node or '-'} ")
        leg.printer.show(final)

    # ---- requests --------------------------------------------------------------------------
    def _request(self, msg: SipMessage, addr) -> None:
        m = msg.method
        leg = self.legs.get(msg.call_id)
        if m == "INVITE":
            if leg is not None:
                if tag_of(msg.get("To") or "") and msg.branch != leg.invite.branch:
                    self._reinvite(leg, msg, addr)
                elif leg.last_response:
                    self.send(leg.last_response, addr)     # a retransmitted INVITE
                return
            cached = self._recent.get((msg.call_id, msg.branch))
            if cached is not None:
                self.send(cached[0], addr)
                return
            self._invite(msg, addr)
        elif m == "ACK":
            if leg is not None and msg.cseq[0] == leg.invite.cseq[0]:
                leg.acked = True
                if leg.retransmit is not None:
                    leg.retransmit.cancel()
                    leg.retransmit = None
                if leg.media is None and msg.body:       # our offer, their answer
                    try:
                        leg.media = sdp.parse_offer(msg.body)
                    except sdp.SdpError:
                        self._hangup(leg, "no usable media in the ACK")
                        return
                    self._start_media(leg)
        elif m == "BYE":
            self.send(response(msg, 200 if leg is not None else 481).encode(), addr)
            if leg is not None and leg.state != "ended":
                self.stats.caller_hangups += 1
                if leg.call is not None:
                    leg.call.hangup()
                self._end(leg, "caller hung up")
        elif m == "CANCEL":
            if leg is None or msg.branch != leg.invite.branch:
                self.send(response(msg, 481).encode(), addr)
                return
            self.send(response(msg, 200, to_tag=leg.local_tag).encode(), addr)
            if leg.state == "early":
                final = response(leg.invite, 487, to_tag=leg.local_tag).encode()
                self._remember(leg.invite, final)
                self.send(final, leg.addr)
                self.stats.cancelled += 1
                self._end(leg, "cancelled")
        elif m == "OPTIONS":
            self.send(response(msg, 200, to_tag=_tag(), extra=[
                ("Allow", ALLOW), ("Accept", "application/sdp, application/dtmf-relay"),
                ("Supported", "")]).encode(), addr)
        elif m == "INFO" and leg is not None:
            key = _info_key(msg)
            self.send(response(msg, 200).encode(), addr)
            if key and leg.call is not None:
                leg.key_at(leg.played, key)
        elif m == "INFO":
            self.send(response(msg, 481).encode(), addr)
        else:   # REGISTER, SUBSCRIBE, MESSAGE...: this line takes calls, nothing else
            self.send(response(msg, 405, extra=[("Allow", ALLOW)]).encode(), addr)

    def _remember(self, req: SipMessage, final: bytes) -> None:
        now = time.monotonic()
        self._recent[(req.call_id, req.branch)] = (final, now + 32 * T1)
        if len(self._recent) > 1000:
            self._recent = {k: v for k, v in self._recent.items() if v[1] > now}

    def _invite(self, msg: SipMessage, addr) -> None:
        if self._closing or self.active >= self.opts.max_calls:
            status = 503 if self._closing else 486
            if status == 486:
                self.stats.busy += 1
            final = response(msg, status, to_tag=_tag()).encode()
            self._remember(msg, final)
            self.send(final, addr)
            return
        media = None
        if msg.body.strip():
            try:
                media = sdp.parse_offer(msg.body)
            except sdp.SdpError as exc:
                final = response(msg, 488, reason=f"Not Acceptable Here ({exc})", to_tag=_tag()).encode()
                self._remember(msg, final)
                self.send(final, addr)
                return
        self._n += 1
        leg = Leg(self, self._n, msg, addr, _local_ip_for(self.opts.host, addr), _tag(), media)
        self.legs[msg.call_id] = leg
        leg.last_response = response(msg, 100).encode()
        self.send(leg.last_response, addr)
        asyncio.ensure_future(self._answer(leg))

    async def _answer(self, leg: Leg) -> None:
        try:
            # one socket both ways, as phones behind NAT expect: read at the call's turns
            # (`Leg.drain`), written by the pacer thread
            fam = socket.AF_INET6 if ":" in self.opts.host else socket.AF_INET
            sock = socket.socket(fam, socket.SOCK_DGRAM)
            try:
                sock.bind((self.opts.host, 0))
                sock.setblocking(False)
            except BaseException:
                sock.close()
                raise
            leg.sock = sock
            leg.rtp_port = sock.getsockname()[1]
            if self.opts.answer_after > 0:
                leg.last_response = response(leg.invite, 180, to_tag=leg.local_tag,
                                             extra=[("Contact", self._contact(leg))]).encode()
                self.send(leg.last_response, leg.addr)
                await asyncio.sleep(self.opts.answer_after)
            if leg.state != "early":     # cancelled while ringing
                return
            leg.call = self.new_call(leg)
            body = sdp.build(leg.local_ip, leg.rtp_port, leg.media)
            ok = response(leg.invite, 200, to_tag=leg.local_tag, body=body,
                          extra=[("Contact", self._contact(leg)), ("Allow", ALLOW),
                                 ("Content-Type", "application/sdp")])
            leg.last_response = ok.encode()
            leg.state = "confirmed"
            self.stats.answered += 1
            self.stats.max_concurrent = max(self.stats.max_concurrent, self.active)
            self.send(leg.last_response, leg.addr)
            self._retransmit_ok(leg, T1)
            leg.taken_tick = self._tick_n
            self._start_media(leg)
            leg.call.begin()
            self._trace(leg)
            self._say(f"call {leg.n} from {leg.addr[0]}:{leg.addr[1]} answered "
                      f"({leg.media.codec if leg.media else 'offer sent'}, {self.active} up)")
        except Exception as exc:   # a port that cannot be bound, a tree that fails at start
            self._say(f"call {leg.n}: cannot answer: {type(exc).__name__}: {exc}")
            if leg.state == "early":
                self.send(response(leg.invite, 500, to_tag=leg.local_tag).encode(), leg.addr)
            self._end(leg, "failed")

    def _start_media(self, leg: Leg) -> None:
        """Once the caller's media address and codec are known: the call's send stream."""
        m = leg.media
        if m is None or leg.sock is None or leg.call is None:
            return
        leg.jb.fill = self._silence[m.codec][:1]
        leg.last_rtp_tick = leg.last_rtp_tick or self._tick_n   # the timeout counts from here
        if leg.tx is None:
            leg.tx = TxStream(leg.sock, (m.addr, m.port), m.pt, self._silence[m.codec])
            self.pacer.add(leg.tx)
        leg.tx.addr, leg.tx.pt, leg.tx.silence = (m.addr, m.port), m.pt, self._silence[m.codec]
        leg.tx.sending = m.direction not in ("sendonly", "inactive")
        call = leg.call
        if call.tx is None:
            call.codec = m.codec
            call.tx = leg.tx
            call.pump()

    def _retransmit_ok(self, leg: Leg, interval: float, elapsed: float = 0.0) -> None:
        """200 OK again until the ACK comes (RFC 3261 13.3.1.4); no ACK in 32 s: hang up."""
        loop = asyncio.get_running_loop()

        def again() -> None:
            if leg.acked or leg.state == "ended":
                return
            if elapsed + interval >= 64 * T1:
                self.stats.no_ack += 1
                self._hangup(leg, "no ACK")
                return
            self.send(leg.last_response, leg.addr)
            self._retransmit_ok(leg, min(interval * 2, T2), elapsed + interval)

        leg.retransmit = loop.call_later(interval, again)

    def _reinvite(self, leg: Leg, msg: SipMessage, addr) -> None:
        """A re-INVITE (hold, new address): take its media, answer with ours."""
        if msg.body.strip():
            try:
                leg.media = sdp.parse_offer(msg.body)
            except sdp.SdpError:
                self.send(response(msg, 488).encode(), addr)
                return
        body = sdp.build(leg.local_ip, leg.rtp_port, leg.media)
        self.send(response(msg, 200, to_tag=leg.local_tag, body=body,
                           extra=[("Contact", self._contact(leg)),
                                  ("Content-Type", "application/sdp")]).encode(), addr)
        self._start_media(leg)

    def _contact(self, leg: Leg) -> str:
        host = f"[{leg.local_ip}]" if ":" in leg.local_ip else leg.local_ip
        return f"<sip:ivr@{host}:{self.opts.port}>"

    # ---- our BYE ----------------------------------------------------------------------------
    def _hangup(self, leg: Leg, why: str) -> None:
        """We end the call: BYE (retransmitted until answered, at most 7 times)."""
        if leg.state == "ended":
            return
        if leg.state == "confirmed":
            inv = leg.invite
            host = f"[{leg.local_ip}]" if ":" in leg.local_ip else leg.local_ip
            hdrs = [("Via", f"SIP/2.0/UDP {host}:{self.opts.port};branch=z9hG4bK{_tag()};rport"),
                    ("Max-Forwards", "70")]
            hdrs += [("Route", r) for r in inv.all("Record-Route")]
            to = inv.get("To") or ""
            hdrs += [("From", to if tag_of(to) else f"{to};tag={leg.local_tag}"), ("To", inv.get("From") or ""),
                     ("Call-ID", inv.call_id), ("CSeq", f"{leg.cseq_out + 1} BYE"), ("User-Agent", "ivr-sip")]
            target = uri_of(inv.get("Contact") or "") or uri_of(inv.get("From") or "")
            bye = SipMessage(method="BYE", uri=target, headers=hdrs).encode()
            self._send_bye(inv.call_id, bye, leg.addr, 0)
        self._end(leg, why)

    def _send_bye(self, call_id: str, bye: bytes, addr, tries: int) -> None:
        self.send(bye, addr)
        if tries >= 6:
            self._byes.pop(call_id, None)
            return
        h = asyncio.get_running_loop().call_later(min(T1 * 2 ** tries, T2),
                                                  lambda: self._send_bye(call_id, bye, addr, tries + 1)
                                                  if call_id in self._byes else None)
        self._byes[call_id] = (bye, addr, tries, h)

    def _response(self, msg: SipMessage) -> None:
        if msg.cseq[1] == "BYE" and msg.status and msg.status >= 200:
            got = self._byes.pop(msg.call_id, None)
            if got is not None and got[3] is not None:
                got[3].cancel()

    def _end(self, leg: Leg, why: str) -> None:
        if leg.state == "ended":
            return
        leg.state = "ended"
        if leg.retransmit is not None:
            leg.retransmit.cancel()
        if leg.tx is not None:
            self.pacer.remove(leg.tx)
        if leg.sock is not None:
            # closed a moment later: the pacer may be sending on it during this tick
            asyncio.get_running_loop().call_later(2 * TICK_S, leg.sock.close)
        if leg.call is not None:
            st = self.stats
            st.keys_rfc4733 += leg.call.keys_rfc4733
            st.keys_inband += leg.call.keys_inband
            st.late_renders += leg.call.late_renders
            st.rtp_late += leg.jb.late
            st.rtp_slips += leg.jb.slips
            leg.call.close()
            rt = leg.call.rt
            rt.finish(max(leg.call.t, leg.call.pos))
            self._trace(leg, final=True)
            if leg.log is not None:
                leg.log.close()
            res = rt.result()
            self._say(f"call {leg.n} ended ({why}): {res.outcome} at {res.end_node}, {res.duration:.1f} s")
            done = getattr(self.new_call, "done", None)
            if done is not None:
                done(leg)
        self.legs.pop(leg.call_id, None)

    # ---- media clock ------------------------------------------------------------------------
    async def run_clock(self) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        n = 0
        while not self._closing:
            n += 1
            due = t0 + n * TICK_S
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:                            # behind: catch up turn by turn (the calls' audio
                self.stats.loop_late_ticks += 1   # clocks follow the wall clock), I/O in between
                await asyncio.sleep(0)
            self._tick_n = n
            self._tick(n)

    def _tick(self, n: int) -> None:
        """Each call in its turn: the caller audio of the last `PROCESS_EVERY` ticks into the
        call; the IVR's BYE once the call is over and its last prompt has been heard."""
        phase = n % PROCESS_EVERY
        for leg in [leg for leg in self.legs.values() if leg.n % PROCESS_EVERY == phase]:
            if leg.state != "confirmed" or leg.call is None:
                continue
            frames, leg.taken_tick = n - leg.taken_tick, n
            if frames > 0:
                leg.process(frames)
            if self._rtp_silent(leg, n):
                # a caller whose phone sends media has gone quiet on the network (crashed, cut
                # off, a load generator that gave up): end the call instead of holding it for ever
                self.stats.rtp_timeouts += 1
                leg.call.hangup()
                self._hangup(leg, f"no RTP for {self.opts.rtp_timeout:g} s")
                continue
            self._trace(leg)
            call = leg.call
            if call.rt.ended and leg.ended_at_tick is None:
                leg.ended_at_tick = n
            if leg.ended_at_tick is not None and not call.playing and \
                    n - leg.ended_at_tick >= END_TAIL_S / TICK_S:
                self.stats.ivr_hangups += 1
                self._hangup(leg, call.rt.session.stats.outcome or "ended")

    def _rtp_silent(self, leg: Leg, n: int) -> bool:
        """Has a caller that should send media sent none for `rtp_timeout`? (A sendonly or
        inactive offer from the IVR's side, i.e. the caller's recvonly/inactive, sends none.)"""
        t = self.opts.rtp_timeout
        m = leg.media
        if not t or m is None or m.direction in ("recvonly", "inactive"):
            return False
        return (n - leg.last_rtp_tick) * TICK_S >= t

    # ---- shutdown ---------------------------------------------------------------------------
    async def close(self) -> None:
        """Hang up every call (BYE), wait a little for the answers, stop."""
        self._closing = True
        for leg in list(self.legs.values()):
            if leg.call is not None and not leg.call.rt.ended:
                leg.call.hangup()
            self._hangup(leg, "server stopping")
        deadline = time.monotonic() + 2.0
        while self._byes and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


def _tag() -> str:
    return "%08x" % random.getrandbits(32)


def _info_key(msg: SipMessage) -> str:
    """The key in a SIP INFO (application/dtmf-relay `Signal=5`, or application/dtmf `5`)."""
    ctype = (msg.get("Content-Type") or "").lower()
    body = msg.body.strip()
    if "dtmf-relay" in ctype:
        for line in body.splitlines():
            k, _, v = line.partition("=")
            if k.strip().lower() == "signal":
                body = v.strip()
                break
        else:
            return ""
    elif "application/dtmf" not in ctype:
        return ""
    key = body[:1].upper()
    return key if key and key in rfc4733.EVENT_KEYS else ""


SIP_RCVBUF = 4 << 20


def _grow_receive_buffer(sock) -> None:
    """A burst of INVITEs (a load test starting 500 calls at once, a trunk failing over)
    must not overflow the SIP socket's default ~200 kB buffer: every datagram dropped there
    costs its caller a 0.5-4 s retransmission timer (the call rate fell to ~30 calls/s).
    Asks for 4 MB; the kernel caps it at net.core.rmem_max."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SIP_RCVBUF)
    except (OSError, AttributeError):
        pass


def _local_ip_for(host: str, addr) -> str:
    """Our address as the caller sees it: the listen address, or with a wildcard listen
    address the one the kernel routes to the caller from."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    fam = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        try:
            s.connect(addr[:2])
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


async def serve(opts: ServeOptions, new_call, ready: Callable[[SipServer], None] | None = None) -> Stats:
    """Run the server until SIGINT/SIGTERM; return its statistics."""
    loop = asyncio.get_running_loop()
    server = SipServer(opts, new_call)
    server._loop = loop
    server.t0 = loop.time()
    cpu0, wall0 = time.process_time(), time.monotonic()
    transport, _ = await loop.create_datagram_endpoint(lambda: server, local_addr=(opts.host, opts.port))
    _grow_receive_buffer(transport.get_extra_info("socket"))
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    clock = asyncio.ensure_future(server.run_clock())
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    server.pacer.start()
    if ready is not None:
        ready(server)
    try:
        await stop.wait()
    finally:
        await server.close()
        clock.cancel()
        transport.close()
        server.pacer.stop()
        server.pacer.join(1.0)
        sys.setswitchinterval(switch)
        st = server.stats
        st.jitter_hist = np.asarray(server.pacer.hist, np.int64)
        st.packets_sent = server.pacer.packets_sent
        st.late_ticks = server.pacer.late_ticks
        st.pacer_priority = server.pacer.priority
    stats = server.stats.as_dict(time.process_time() - cpu0, time.monotonic() - wall0)
    if opts.stats_path is not None:
        Path(opts.stats_path).write_text(json.dumps(stats) + "\n")
    return server.stats
