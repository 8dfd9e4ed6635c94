"""The RTP send clock: one thread sends every call's next 20 ms frame on absolute deadlines.

Why a thread of its own: the asyncio loop also runs SIP, the jitter buffers, DTMF
detection, the engine and the queue model, and a slice of that work (or a prompt being
synthesised) can take longer than 20 ms. When sends waited behind it, the send interval
of every call stretched by that much (p99 13-19 ms at 10-100 calls). Here the sends do
nothing but copy bytes: prompts are G.711-encoded once, padded to whole frames, before
they are queued (`TxStream.push`), so a tick is one header pack and one `sendto` per call.
Deadlines are absolute (`t0 + n * 20 ms`, never "sleep 20 ms"), so the clock does not
drift; after a stall longer than `SKIP_AFTER` ticks it skips ahead rather than bursting.
The server shortens the interpreter's thread switch interval so this thread gets the GIL
within about half a millisecond of its deadline. Once it has it, it keeps it for the whole
tick: `socket.sendto` releases the GIL around every datagram, and with the loop thread
busy each of 200 sends then waited up to a switch interval to get it back (p99 23 ms).
So on Linux the sends are libc `sendto` calls made through `ctypes.PyDLL` (which keeps the
GIL; a non-blocking UDP send to a local or routed address does not wait), with
`socket.sendto` as the fallback elsewhere and for IPv6.

The interval of each stream's sends is measured at the `sendto` (the server's jitter
figure): |interval - 20 ms| in 0.05 ms bins.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import random
import socket
import struct
import sys
import threading
import time
from collections import deque

FRAME = 160
TICK_S = 0.02
SKIP_AFTER = 10                 # ticks behind before the clock skips instead of catching up
BINS = 1001                     # 0.05 ms bins, the last one is ">= 50 ms"
_HEADER = struct.Struct("!BBHII")
_MSG_DONTWAIT = 0x40


def _libc_sendto():
    """libc's sendto called with the GIL held (module docstring), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.PyDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.sendto
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint]
    fn.restype = ctypes.c_ssize_t
    return fn


_SENDTO = _libc_sendto()


def _sockaddr_in(addr: tuple) -> ctypes.Array | None:
    """A struct sockaddr_in for an IPv4 (host, port), or None (IPv6, a name)."""
    try:
        packed = socket.inet_aton(addr[0])
    except (OSError, TypeError):
        return None
    raw = struct.pack("=H", socket.AF_INET) + struct.pack("!H", addr[1]) + packed + bytes(8)
    return ctypes.create_string_buffer(raw, len(raw))


class TxStream:
    """One call's outgoing RTP: queued G.711 frames (bytes, whole frames) sent one per tick,
    silence when nothing is queued. `push` and `clear` come from the loop thread, `_next`
    from the pacer; a lock keeps the two apart (held for a few bytecodes each)."""

    def __init__(self, sock: socket.socket, addr: tuple, pt: int, silence: bytes):
        self.sock = sock
        self.fd = sock.fileno()
        self.pt = pt
        self.silence = silence
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self.ts = random.getrandbits(32)
        self.marker = True
        self.sending = True             # False on hold (sendonly/inactive offer): no packets
        self._chunks: deque[memoryview] = deque()
        self._pos = 0
        self._frames = 0                # frames queued
        self._lock = threading.Lock()
        self._pkt = bytearray(12 + FRAME)
        self._cpkt = (ctypes.c_char * len(self._pkt)).from_buffer(self._pkt)
        self.addr = addr
        self.last_send: float | None = None
        self.sent = 0

    @property
    def addr(self) -> tuple:
        return self._addr

    @addr.setter
    def addr(self, addr: tuple) -> None:
        self._addr = addr
        self._caddr = _sockaddr_in(addr) if _SENDTO is not None and self.sock.family == socket.AF_INET else None

    def send(self) -> bool:
        """Send the next frame now (pacer thread); False if it could not go."""
        pkt = self._next()
        caddr = self._caddr
        if caddr is not None:
            return _SENDTO(self.fd, ctypes.addressof(self._cpkt), len(pkt), _MSG_DONTWAIT,
                           ctypes.addressof(caddr), len(caddr)) >= 0
        try:
            self.sock.sendto(pkt, self._addr)
        except OSError:
            return False
        return True

    def push(self, payload: bytes) -> None:
        """Queue encoded audio; its length must be a whole number of frames."""
        if len(payload) % FRAME:
            raise ValueError("TxStream.push takes whole 160-byte frames")
        if payload:
            with self._lock:
                self._chunks.append(memoryview(payload))
                self._frames += len(payload) // FRAME

    def clear(self) -> None:
        """Barge-in: drop what is queued (the frame on the wire is already gone)."""
        with self._lock:
            self._chunks.clear()
            self._pos = 0
            self._frames = 0

    @property
    def queued_frames(self) -> int:
        return self._frames

    def _next(self) -> bytearray:
        pkt = self._pkt
        with self._lock:
            if self._chunks:
                cur = self._chunks[0]
                p = self._pos
                pkt[12:] = cur[p:p + FRAME]
                p += FRAME
                self._frames -= 1
                if p >= len(cur):
                    self._chunks.popleft()
                    p = 0
                self._pos = p
            else:
                pkt[12:] = self.silence
        _HEADER.pack_into(pkt, 0, 0x80, (0x80 if self.marker else 0) | self.pt, self.seq, self.ts, self.ssrc)
        self.marker = False
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + FRAME) & 0xFFFFFFFF
        return pkt


class Pacer(threading.Thread):
    """Sends one frame per stream every 20 ms (module docstring)."""

    def __init__(self):
        super().__init__(name="rtp-pacer", daemon=True)
        self._streams: tuple[TxStream, ...] = ()
        self._stop_ev = threading.Event()
        self.hist = [0] * BINS          # send-interval deviation histogram, 0.05 ms bins
        self.late_ticks = 0
        self.packets_sent = 0
        self.priority = "normal"

    def add(self, stream: TxStream) -> None:
        self._streams = self._streams + (stream,)      # a new tuple: the pacer reads a snapshot

    def remove(self, stream: TxStream) -> None:
        self._streams = tuple(s for s in self._streams if s is not stream)

    def stop(self) -> None:
        self._stop_ev.set()

    def _raise_priority(self) -> None:
        """Real-time scheduling for this thread where allowed (root, CAP_SYS_NICE), else a
        lower nice value, else as it is: on a busy machine the kernel otherwise lets other
        processes run past a send deadline. The thread uses little CPU (~2 ms a tick at 200
        calls), so it cannot starve anything."""
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            self.priority = "SCHED_FIFO 10"
            return
        except (AttributeError, OSError):
            pass
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), -10)
            self.priority = "nice -10"
        except (AttributeError, OSError):
            pass

    def run(self) -> None:
        self._raise_priority()
        mono, perf, sleep = time.monotonic, time.perf_counter, time.sleep
        hist, top = self.hist, BINS - 1
        t0 = mono()
        n = 0
        while not self._stop_ev.is_set():
            n += 1
            delay = t0 + n * TICK_S - mono()
            if delay > 0:
                sleep(delay)
            else:
                self.late_ticks += 1
                if -delay > SKIP_AFTER * TICK_S:          # a stall: skip, do not burst
                    t0 = mono() - n * TICK_S
            sent = 0
            for st in self._streams:
                if not st.sending or not st.send():   # a full buffer: this frame is dropped
                    continue
                now = perf()
                last = st.last_send
                if last is not None:
                    d = now - last - TICK_S
                    i = int((d if d >= 0 else -d) * 20000)
                    hist[i if i < top else top] += 1
                st.last_send = now
                sent += 1
            self.packets_sent += sent
