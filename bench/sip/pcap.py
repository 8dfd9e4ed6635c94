"""The SIPp caller's media: G.711 RTP in a pcap file, keys in band or as RFC 4733 events.

SIPp's `play_pcap_audio` replays the UDP payloads of a capture at their recorded pace to
the media address the IVR answered with, so the capture holds the caller's whole side of
the call: silence while the welcome plays, then the keys of demo participant Budi's status
check (same timing for both variants), then silence while the status prompt plays.
In-band: the keys are DTMF tones (ivr.dsp.dtmf_gen) in the PCMU audio. RFC 4733: the audio
stays silent and each key is a run of telephone-event packets (payload type 101), three
end packets included, as a phone sends them.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ivr.sip import g711, rfc4733, rtp

# (pause before, keys): the welcome (with its pause) takes ~10 s and cannot be interrupted; later prompts can.
SCRIPT = [(11.0, "1"), (1.5, "1"), (1.5, "3273011708850003#"), (1.5, "17081985")]
TAIL_S = 5.0            # after the last key: the status prompt starts playing
KEY_ON_S, KEY_OFF_S = 0.08, 0.08
EVENT_PT = 101


def _timeline() -> list[tuple[float, str]]:
    """(start time, key) of every key press."""
    out, t = [], 0.0
    for pause, keys in SCRIPT:
        t += pause
        for k in keys:
            out.append((t, k))
            t += KEY_ON_S + KEY_OFF_S
    return out


def duration_s() -> float:
    return _timeline()[-1][0] + KEY_ON_S + TAIL_S


def _audio(inband: bool) -> np.ndarray:
    from ivr.dsp.dtmf_gen import generate

    n = int(duration_s() * rtp.RATE)
    x = np.zeros(n, np.float32)
    if inband:
        for t, k in _timeline():
            tone = generate(k, rtp.RATE, on_ms=KEY_ON_S * 1000, off_ms=0, level_dbfs=-12.0, lead_ms=0,
                            trail_ms=0).astype(np.float32)
            i = int(t * rtp.RATE)
            x[i:i + len(tone)] += tone[: n - i]
    return x


def _udp(payload: bytes, sport: int = 6000, dport: int = 6002) -> bytes:
    """Ethernet + IPv4 + UDP around an RTP packet (addresses are rewritten by SIPp)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    return b"\x00" * 12 + b"\x08\x00" + ip + udp


def packets(inband: bool) -> list[tuple[float, bytes]]:
    """(send time, RTP packet) of the whole call, in time order."""
    return audio_packets(_audio(inband), [] if inband else _timeline())


def audio_packets(x: np.ndarray, events: list[tuple[float, str]]) -> list[tuple[float, bytes]]:
    """(send time, RTP packet) of caller audio `x` (8 kHz), with `events` ((start, key)) sent
    as RFC 4733 telephone-events instead of the audio at their time."""
    snd = rtp.RtpSender(ssrc=0x165165, seq=1, ts=0)
    out: list[tuple[float, bytes]] = []
    events = list(events)
    for i in range(0, len(x) - rtp.FRAME + 1, rtp.FRAME):
        t = i / rtp.RATE
        ts = snd.ts
        ev = next(((te, k) for te, k in events if te <= t < te + KEY_ON_S + 0.04), None)
        if ev is not None:
            te, k = ev
            start_ts = int(round(te * rtp.RATE / rtp.FRAME)) * rtp.FRAME
            dur = ts - start_ts + rtp.FRAME
            end = t + 0.02 >= te + KEY_ON_S
            payload = rfc4733.build(k, end, dur)
            for _ in range(3 if end else 1):      # end packets three times (RFC 4733 2.5.1.4)
                out.append((t, rtp.build(EVENT_PT, snd.seq, start_ts, snd.ssrc, payload, marker=dur == rtp.FRAME)))
                snd.seq = (snd.seq + 1) & 0xFFFF
            snd.ts = (snd.ts + rtp.FRAME) & 0xFFFFFFFF
            if end:
                events.remove(ev)
            continue
        out.append((t, snd.packet(0, g711.encode(x[i:i + rtp.FRAME], "PCMU"))))
    return out


def write_pcap(path: str | Path, inband: bool) -> Path:
    """A libpcap file (Ethernet link type) of the caller's RTP."""
    return write_packets(path, packets(inband))


def write_packets(path: str | Path, pkts: list[tuple[float, bytes]]) -> Path:
    """A libpcap file (Ethernet link type) of RTP packets ((send time, packet))."""
    path = Path(path)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, pkt in pkts:
            frame = _udp(pkt)
            sec, usec = int(t), int(round((t - int(t)) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    return path


def key_count() -> int:
    return len(_timeline())
