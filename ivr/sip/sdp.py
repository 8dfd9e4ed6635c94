"""SDP offer/answer (RFC 3264) for one audio stream: G.711 at 8 kHz plus telephone-event.

Only what a telephone line needs: the caller's address and port for RTP, the codec
(PCMU or PCMA, in the caller's order of preference) and the payload type of RFC 4733
events. Anything else in the offer (video, other codecs, ICE, crypto) is declined by
leaving it out of the answer, as RFC 3264 allows.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from ivr.sip.g711 import CODECS

EVENT_PT_DEFAULT = 101


class SdpError(ValueError):
    """The offer cannot be answered (no audio, no G.711)."""


@dataclass(frozen=True)
class Media:
    """What was agreed for the call's audio."""

    addr: str               # where to send RTP
    port: int
    codec: str              # PCMU or PCMA
    pt: int                 # its payload type
    event_pt: int | None    # telephone-event payload type, None if not offered
    ptime: int = 20
    direction: str = "sendrecv"


def parse_offer(body: str) -> Media:
    """The media we will use, from an offer (or from an answer to our own offer)."""
    session_addr = None
    addr = None
    port = None
    pts: list[int] = []
    rtpmap: dict[int, str] = {}
    direction = "sendrecv"
    in_audio = False
    seen_audio = False
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        k, v = line[0], line[2:]
        if k == "m":
            in_audio = False
            parts = v.split()
            if parts and parts[0] == "audio" and not seen_audio and len(parts) >= 4:
                seen_audio = in_audio = True
                try:
                    port = int(parts[1].split("/")[0])
                    pts = [int(p) for p in parts[3:] if p.isdigit()]
                except ValueError:
                    raise SdpError(f"bad m= line: {v}") from None
                if not 0 < port <= 65535:    # 0: the caller declines the stream (RFC 3264)
                    raise SdpError(f"bad m= line (port {port}): {v}")
        elif k == "c":
            parts = v.split()
            if len(parts) >= 3 and parts[0] == "IN" and parts[1] in ("IP4", "IP6"):
                a = parts[2].split("/")[0]
                if in_audio:
                    addr = a
                elif not seen_audio:
                    session_addr = a
        elif k == "a" and in_audio:
            if v.startswith("rtpmap:"):
                head, _, enc = v[7:].partition(" ")
                if head.isdigit():
                    rtpmap[int(head)] = enc.strip()
            elif v in ("sendrecv", "sendonly", "recvonly", "inactive"):
                direction = v
    if not seen_audio or port is None:
        raise SdpError("no audio stream offered")
    addr = addr or session_addr
    if not addr:
        raise SdpError("no connection address (c=) in the offer")
    codec = pt = None
    for p in pts:
        name = rtpmap.get(p, "").split("/")[0].upper()
        if p in (0, 8) and not name:
            name = "PCMU" if p == 0 else "PCMA"
        if name in CODECS and (rtpmap.get(p, "/8000").split("/")[1:2] or ["8000"])[0] == "8000":
            codec, pt = name, p
            break
    if codec is None:
        raise SdpError("no G.711 (PCMU/PCMA) codec offered")
    event_pt = None
    for p in pts:
        if rtpmap.get(p, "").lower().startswith("telephone-event/8000"):
            event_pt = p
            break
    return Media(addr, port, codec, pt, event_pt, direction=direction)


_ANSWER_DIR = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


def build(local_addr: str, port: int, media: Media | None, session_id: int | None = None) -> str:
    """Our SDP: the answer to `media`, or with `media=None` an offer of everything we take."""
    sid = session_id if session_id is not None else int(time.time())
    ip = "IP6" if ":" in local_addr else "IP4"
    if media is None:
        fmts = [(0, "PCMU/8000"), (8, "PCMA/8000"), (EVENT_PT_DEFAULT, "telephone-event/8000")]
        direction = "sendrecv"
    else:
        fmts = [(media.pt, f"{media.codec}/8000")]
        if media.event_pt is not None:
            fmts.append((media.event_pt, "telephone-event/8000"))
        direction = _ANSWER_DIR.get(media.direction, "sendrecv")
    lines = ["v=0", f"o=ivr {sid} {sid} IN {ip} {local_addr}", "s=ivr", f"c=IN {ip} {local_addr}", "t=0 0",
             f"m=audio {port} RTP/AVP {' '.join(str(p) for p, _ in fmts)}"]
    for p, enc in fmts:
        lines.append(f"a=rtpmap:{p} {enc}")
        if enc.startswith("telephone-event"):
            lines.append(f"a=fmtp:{p} 0-16")
    lines += ["a=ptime:20", f"a={direction}"]
    return "\r\n".join(lines) + "\r\n"
