"""SIP message syntax (RFC 3261 section 7): parse a datagram, build responses and requests.

Header names are kept canonical (compact forms expanded), values in order, so Via and
Record-Route lists survive a round trip. Anything malformed raises `SipParseError`; the
server drops such datagrams (a stray packet must not disturb calls in progress).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_MESSAGE = 65000

COMPACT = {"v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact", "l": "Content-Length",
           "c": "Content-Type", "k": "Supported", "s": "Subject", "e": "Content-Encoding"}
CANON = {n.lower(): n for n in ("Via", "From", "To", "Call-ID", "CSeq", "Contact", "Content-Length",
                                 "Content-Type", "Max-Forwards", "Record-Route", "Route", "Supported",
                                 "Allow", "Accept", "User-Agent", "Server", "Subject", "Expires")}
REASONS = {100: "Trying", 180: "Ringing", 200: "OK", 400: "Bad Request", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 415: "Unsupported Media Type",
           481: "Call/Transaction Does Not Exist", 486: "Busy Here", 487: "Request Terminated",
           488: "Not Acceptable Here", 500: "Server Internal Error", 501: "Not Implemented",
           503: "Service Unavailable"}
# headers that may hold several comma-separated values
_LIST = {"Via", "Route", "Record-Route", "Allow", "Supported", "Accept"}


class SipParseError(ValueError):
    pass


def canon(name: str) -> str:
    n = name.strip()
    low = n.lower()
    if low in COMPACT:
        return COMPACT[low]
    return CANON.get(low, "-".join(p.capitalize() for p in n.split("-")))


def _split_commas(value: str) -> list[str]:
    """Split a header list at commas outside <...> and quotes."""
    out, cur, depth, quote = [], [], 0, False
    for ch in value:
        if ch == '"':
            quote = not quote
        elif not quote and ch == "<":
            depth += 1
        elif not quote and ch == ">":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


@dataclass
class SipMessage:
    method: str | None = None          # requests
    uri: str | None = None
    status: int | None = None          # responses
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""

    @property
    def is_request(self) -> bool:
        return self.method is not None

    def get(self, name: str, default: str | None = None) -> str | None:
        name = canon(name)
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def all(self, name: str) -> list[str]:
        name = canon(name)
        return [v for k, v in self.headers if k == name]

    @property
    def call_id(self) -> str:
        return self.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        num, _, method = (self.get("CSeq") or "").partition(" ")
        try:
            return int(num), method.strip().upper()
        except ValueError:
            raise SipParseError("bad CSeq") from None

    @property
    def branch(self) -> str:
        m = re.search(r";\s*branch=([^;,\s]+)", self.get("Via") or "", re.I)
        return m.group(1) if m else ""

    def encode(self) -> bytes:
        first = (f"{self.method} {self.uri} SIP/2.0" if self.is_request
                 else f"SIP/2.0 {self.status} {self.reason or REASONS.get(self.status or 0, '')}")
        body = self.body.encode()
        lines = [first] + [f"{k}: {v}" for k, v in self.headers if k != "Content-Length"]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def parse(data: bytes) -> SipMessage:
    if len(data) > MAX_MESSAGE:
        raise SipParseError("message too large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("not UTF-8") from None
    head, sep, body = text.partition("\r\n\r\n")
    if not sep:
        head, sep, body = text.partition("\n\n")
    lines = head.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():     # keep-alive CRLFs before a message
        lines.pop(0)
    if not lines:
        raise SipParseError("empty")
    first = lines[0].strip()
    msg = SipMessage()
    if first.startswith("SIP/2.0 "):
        parts = first.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise SipParseError(f"bad status line: {first[:60]}")
        msg.status, msg.reason = int(parts[1]), parts[2] if len(parts) > 2 else ""
    else:
        parts = first.split(" ")
        if len(parts) != 3 or parts[2] != "SIP/2.0" or not re.fullmatch(r"[A-Za-z]+", parts[0]):
            raise SipParseError(f"bad request line: {first[:60]}")
        msg.method, msg.uri = parts[0].upper(), parts[1]
    cur: list[str] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and cur:          # folded continuation
            cur[-1] += " " + line.strip()
        elif line.strip():
            cur.append(line)
    for line in cur:
        name, colon, value = line.partition(":")
        if not colon:
            raise SipParseError(f"bad header line: {line[:60]}")
        key = canon(name)
        value = value.strip()
        if key in _LIST:
            msg.headers.extend((key, v) for v in _split_commas(value))
        else:
            msg.headers.append((key, value))
    length = msg.get("Content-Length")
    if length is not None:
        try:
            n = int(length)
        except ValueError:
            raise SipParseError("bad Content-Length") from None
        raw = body.encode()
        if n > len(raw):
            raise SipParseError("truncated body")
        body = raw[:n].decode("utf-8", "replace")
    msg.body = body
    for required in ("Via", "From", "To", "Call-ID", "CSeq"):
        if msg.get(required) is None:
            raise SipParseError(f"missing {required}")
    msg.cseq  # validates
    return msg


def tag_of(value: str) -> str:
    m = re.search(r";\s*tag=([^;>\s]+)", value or "", re.I)
    return m.group(1) if m else ""


def uri_of(value: str) -> str:
    """The URI in a name-addr (`"x" <sip:a@b>;tag=1`) or addr-spec header value."""
    m = re.search(r"<([^>]*)>", value or "")
    if m:
        return m.group(1)
    return (value or "").split(";")[0].strip()


def response(req: SipMessage, status: int, reason: str = "", to_tag: str = "",
             extra: list[tuple[str, str]] | None = None, body: str = "") -> SipMessage:
    """A response to `req` (RFC 3261 8.2.6): Via, From, To (+ our tag), Call-ID, CSeq copied."""
    hdrs = [("Via", v) for v in req.all("Via")]
    to = req.get("To") or ""
    if to_tag and not tag_of(to):
        to = f"{to};tag={to_tag}"
    hdrs += [("From", req.get("From") or ""), ("To", to), ("Call-ID", req.call_id),
             ("CSeq", req.get("CSeq") or "")]
    if status >= 200 or status == 180:
        hdrs += [("Record-Route", v) for v in req.all("Record-Route")] if 180 <= status < 300 else []
    hdrs += extra or []
    hdrs.append(("Server", "ivr-sip"))
    return SipMessage(status=status, reason=reason or REASONS.get(status, ""), headers=hdrs, body=body)
