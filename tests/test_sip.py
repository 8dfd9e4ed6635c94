"""The SIP endpoint's parts (codec, RTP, jitter buffer, RFC 4733, SDP, SIP syntax, the shared
queue view) and the server's signalling against a hand-written UAC over loopback."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from ivr.sip import g711, rfc4733, rtp, sdp
from ivr.sip.message import SipParseError, parse, response, tag_of

REPO = Path(__file__).resolve().parents[1]


# ---- G.711 --------------------------------------------------------------------------------
def test_g711_known_codes_and_round_trip():
    # ITU-T G.711 reference points: silence, full scale, a mid value
    assert g711.encode(np.zeros(1, np.float32), "PCMU") == b"\xff"
    assert g711.encode(np.zeros(1, np.float32), "PCMA") == b"\xd5"
    assert g711.encode(np.array([1.0], np.float32), "PCMU") == b"\x80"
    assert g711.encode(np.array([-1.0], np.float32), "PCMU") == b"\x00"
    assert g711.encode(np.array([1000 / 32768], np.float32), "PCMU") == bytes([0xCE])
    assert g711.encode(np.array([1000 / 32768], np.float32), "PCMA") == bytes([0xFA])
    x = (0.5 * np.sin(np.arange(800) * 2 * np.pi * 1000 / 8000)).astype(np.float32)
    for codec in ("PCMU", "PCMA"):
        y = g711.decode(g711.encode(x, codec), codec)
        snr = 10 * np.log10(np.sum(x ** 2) / np.sum((x - y) ** 2))
        assert snr > 30, (codec, snr)   # G.711 gives ~38 dB on a loud tone


# ---- RTP and the jitter buffer -------------------------------------------------------------
def test_rtp_round_trip_and_junk():
    pkt = rtp.parse(rtp.build(0, 65535, 4294967295, 1234, b"\x01\x02", marker=True))
    assert (pkt.pt, pkt.seq, pkt.ts, pkt.ssrc, pkt.marker, pkt.payload) == (0, 65535, 4294967295, 1234, True, b"\x01\x02")
    assert rtp.parse(b"\x00" * 20) is None and rtp.parse(b"\x80") is None
    assert rtp.parse(bytes([0x80, 200]) + b"\x00" * 10) is None     # RTCP sender report


def _frames(n, ts0=1000):
    return [(7, ts0 + i * 160, bytes([i + 1]) * 160) for i in range(n)]


def test_jitter_buffer_reorders_conceals_and_drops_late():
    jb = rtp.JitterBuffer(depth=2, fill=b"\xff")
    pk = _frames(6)
    jb.put(*pk[0])
    jb.put(*pk[2])        # 1 arrives out of order
    jb.put(*pk[1])
    out = [jb.take() for _ in range(2)]            # playout delay: silence first
    assert out == [b"\xff" * 160] * 2
    assert [jb.take()[0] for _ in range(3)] == [1, 2, 3]
    assert jb.concealed == 0
    got = jb.take()                                 # 4 lost so far: silence, counted
    assert got == b"\xff" * 160 and jb.concealed == 1
    jb.put(*pk[3])                                  # ... then too late, with nothing waiting:
    assert jb.late == 1 and jb.slips == 1           # the sender runs behind, playout moves back
    jb.put(*pk[5])
    jb.put(*pk[4])
    assert jb.take(2) == b"\xff" * 320             # the buffer's depth again
    assert jb.take(3) == bytes([4]) * 160 + bytes([5]) * 160 + bytes([6]) * 160   # three frames in one slice
    jb.put(*_frames(9)[8])                          # a packet after the ones due: waits its turn
    assert jb.take() == b"\xff" * 160 and jb.slips == 1
    late = _frames(9)[6]                            # one that comes late while another waits:
    jb.put(*late)                                   # reordered, not a sender behind: dropped
    assert jb.late == 2 and jb.slips == 1


def test_jitter_buffer_packets_off_the_frame_grid():
    # 10 ms packets, and a 30 ms one: the playout still comes in whole 20 ms frames, in order
    jb = rtp.JitterBuffer(depth=0)
    jb.put(1, 0, bytes([1]) * 80)
    jb.put(1, 80, bytes([2]) * 80)
    jb.put(1, 160, bytes([3]) * 240)
    assert jb.take(2) == bytes([1]) * 80 + bytes([2]) * 80 + bytes([3]) * 160
    assert jb.take() == bytes([3]) * 80 + b"\xff" * 80


def test_jitter_buffer_clock_runs_without_media():
    jb = rtp.JitterBuffer()
    assert len(jb.take(50)) == 8000     # one second of (silent) audio


# ---- RFC 4733 -----------------------------------------------------------------------------
def test_rfc4733_one_key_per_event_despite_retransmitted_ends():
    rx = rfc4733.EventReceiver()
    keys = []
    for ts, key in ((800, "5"), (1600, "#")):
        for dur, end in ((160, False), (320, False), (480, True), (480, True), (480, True)):
            ev = rfc4733.parse(rfc4733.build(key, end, dur))
            if rx.feed(ts, ev):
                keys.append(ev.key)
    assert keys == ["5", "#"]
    assert rfc4733.parse(bytes([16, 0x80, 0, 160])) is None     # flash: not a key


# ---- SDP ----------------------------------------------------------------------------------
OFFER = ("v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
         "m=audio 40000 RTP/AVP 9 8 0 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:8 PCMA/8000\r\n"
         "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
         "m=video 40002 RTP/AVP 96\r\nc=IN IP4 10.9.9.9\r\n")


def test_sdp_answer_takes_the_callers_first_g711_and_events():
    m = sdp.parse_offer(OFFER)
    assert (m.addr, m.port, m.codec, m.pt, m.event_pt) == ("10.0.0.5", 40000, "PCMA", 8, 101)
    ans = sdp.build("127.0.0.1", 30000, m)
    assert "m=audio 30000 RTP/AVP 8 101" in ans and "a=rtpmap:101 telephone-event/8000" in ans
    assert "video" not in ans and "c=IN IP4 127.0.0.1" in ans


def test_sdp_refuses_offers_without_g711():
    with pytest.raises(sdp.SdpError, match="G.711"):
        sdp.parse_offer(OFFER.replace(" 9 8 0 101", " 9 101"))
    with pytest.raises(sdp.SdpError, match="no audio"):
        sdp.parse_offer("v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 5 RTP/AVP 96\r\n")


# ---- SIP syntax ---------------------------------------------------------------------------
def test_sip_parse_compact_headers_lists_and_response():
    raw = ("INVITE sip:165@127.0.0.1 SIP/2.0\r\nv: SIP/2.0/UDP a:5060;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\r\n"
           "f: <sip:x@a>;tag=abc\r\nt: <sip:165@127.0.0.1>\r\ni: c1\r\nCSeq: 3 INVITE\r\nl: 4\r\n\r\nbodyEXTRA").encode()
    msg = parse(raw)
    assert msg.method == "INVITE" and len(msg.all("Via")) == 2 and msg.branch == "z9hG4bK1"
    assert msg.body == "body" and msg.cseq == (3, "INVITE")
    r = response(msg, 486, to_tag="xyz")
    text = r.encode().decode()
    assert text.startswith("SIP/2.0 486 Busy Here\r\n") and tag_of(r.get("To")) == "xyz"
    assert text.count("Via:") == 2 and "Content-Length: 0" in text
    for bad in (b"HELLO\r\n\r\n", b"INVITE sip:x SIP/2.0\r\nVia: x\r\n\r\n", b"\xff\xfe"):
        with pytest.raises(SipParseError):
            parse(bad)


# ---- the shared agent queue -----------------------------------------------------------------
def test_queue_view_keeps_each_callers_events_and_clock():
    from ivr.drivers.setup import open_queue
    from ivr.sip.sharedqueue import SharedQueue

    live = open_queue(REPO / "menus" / "vika.yaml", None, 1, 22.0)    # at night: callers wait
    shared = SharedQueue(live)
    a, b = shared.view("a", 0.0), shared.view("b", 100.0)     # b's call started 100 s later
    qname = live.model.names[0]
    ia = a.enter("a", qname, 5.0)
    ib = b.enter("b", qname, 1.0)                 # server time 101
    assert (ia.status, ib.status) == ("waiting", "waiting") and ib.position > ia.position
    assert [ev.caller_id for ev in ib.events] == ["b"] and abs(ib.events[0].at - 1.0) < 1e-6
    assert abs(b.now - 1.0) < 1e-6 and abs(a.now - 101.0) < 1e-6
    for t in range(2, 4000, 10):                   # only a's ticks advance the model...
        a.advance(t + 100.0)
        if b.status("b") != "waiting":
            break
    assert b.status("b") == "connected"
    got = b.advance(b.now)                         # ... b still gets its own CONNECT, on its clock
    assert [ev.kind for ev in got] == ["CONNECT"] and 1.0 < got[0].at <= b.now
    assert abs(b.connected_at("b") - got[0].at) < 1e-6
    # the agent greets by name, at the hour of the server's clock (b started 100 s later)
    agent = b.agent_of("b")
    assert b.agent_name(agent) == live.agent_name(agent) and b.agent_name(agent).isalpha()
    assert b.hour_of_day(0.0) == live.hour_of_day(100.0) == 22


# ---- signalling against the server -----------------------------------------------------------
class Uac:
    """A hand-written SIP caller on a UDP socket."""

    def __init__(self, port: int):
        self.server = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]

    def request(self, method: str, call_id: str, cseq: int = 1, body: str = "", branch: str | None = None,
                to_tag: str = "", extra: str = "") -> str:
        branch = branch or "z9hG4bK" + uuid.uuid4().hex[:10]
        to = "<sip:165@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
        msg = (f"{method} sip:165@127.0.0.1:{self.server[1]} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch};rport\r\n"
               f"From: <sip:test@127.0.0.1>;tag=t1\r\nTo: {to}\r\nCall-ID: {call_id}\r\n"
               f"CSeq: {cseq} {method}\r\nContact: <sip:test@127.0.0.1:{self.port}>\r\nMax-Forwards: 70\r\n"
               + extra + (f"Content-Type: application/sdp\r\n" if body else "")
               + f"Content-Length: {len(body)}\r\n\r\n{body}")
        self.sock.sendto(msg.encode(), self.server)
        return branch

    def wait(self, pred, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            msg = parse(data)
            if pred(msg):
                return msg
        raise AssertionError("no matching SIP message in time")


def _offer(port: int) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sip")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "ivr", "serve", "--sip", f"127.0.0.1:{port}", "--no-tts",
                             "--no-queue", "--answer-after", "0.5", "--max-call-seconds", "2",
                             "--log-dir", str(tmp / "logs"), "--max-calls", "3"],
                            cwd=REPO, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    assert "answers SIP" in line, line
    yield port, tmp / "logs"
    proc.terminate()
    proc.wait(10)


def test_options_and_unsupported_methods(server):
    uac = Uac(server[0])
    uac.request("OPTIONS", "opt-1")
    r = uac.wait(lambda m: m.status is not None)
    assert r.status == 200 and "INVITE" in r.get("Allow")
    uac.request("REGISTER", "reg-1", extra="Expires: 60\r\n")
    assert uac.wait(lambda m: m.status is not None).status == 405      # no registration here
    uac.request("BYE", "nobody", to_tag="x")
    assert uac.wait(lambda m: m.status is not None).status == 481


def test_offer_without_g711_is_488(server):
    uac = Uac(server[0])
    uac.request("INVITE", "inv-488", body=_offer(4000).replace("RTP/AVP 0 101", "RTP/AVP 9").replace("PCMU", "G722"))
    r = uac.wait(lambda m: m.status is not None and m.status >= 200)
    assert r.status == 488


def test_cancel_while_ringing_gives_487(server):
    uac = Uac(server[0])
    branch = uac.request("INVITE", "inv-cancel", body=_offer(4002))
    assert uac.wait(lambda m: m.status == 180).status == 180
    uac.request("CANCEL", "inv-cancel", branch=branch)
    got = {uac.wait(lambda m: m.status is not None and m.status >= 200).cseq[1] for _ in range(2)}
    assert got == {"CANCEL", "INVITE"}


def test_call_limit_ends_with_our_bye_and_a_log(server):
    port, logs = server
    uac = Uac(port)
    rtp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp_sock.bind(("127.0.0.1", 0))
    rtp_sock.settimeout(0.2)
    uac.request("INVITE", "inv-limit", body=_offer(rtp_sock.getsockname()[1]))
    ok = uac.wait(lambda m: m.status == 200)
    assert "m=audio" in ok.body and "PCMU" in ok.body
    uac.request("ACK", "inv-limit", to_tag=tag_of(ok.get("To")))
    packets = 0
    deadline = time.monotonic() + 5
    while packets < 20 and time.monotonic() < deadline:     # the IVR's RTP arrives
        try:
            data, _ = rtp_sock.recvfrom(2048)
        except socket.timeout:
            continue
        packets += rtp.parse(data) is not None and len(rtp.parse(data).payload) == 160
    assert packets == 20
    bye = uac.wait(lambda m: m.method == "BYE", timeout=10)       # --max-call-seconds 2
    assert bye.call_id == "inv-limit"
    uac.sock.sendto(response(bye, 200).encode(), ("127.0.0.1", port))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [p for p in logs.glob("call-*.jsonl") if '"inv-limit"' in p.read_text()]
        if found and '"rec": "end"' in found[0].read_text():
            break
        time.sleep(0.05)
    end = json.loads(found[0].read_text().splitlines()[-1])
    assert end["rec"] == "end" and end["outcome"] == "max-duration"


def test_a_caller_whose_rtp_stops_is_hung_up(tmp_path):
    """A caller that answers but never sends media (crashed phone, a load generator that gave
    up) is ended after --rtp-timeout with our BYE, not held until the call limit."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logs = tmp_path / "logs"
    proc = subprocess.Popen([sys.executable, "-m", "ivr", "serve", "--sip", f"127.0.0.1:{port}", "--no-tts",
                             "--no-queue", "--rtp-timeout", "1", "--max-call-seconds", "60", "--log-dir", str(logs)],
                            cwd=REPO, stderr=subprocess.PIPE, text=True)
    try:
        assert "answers SIP" in proc.stderr.readline()
        uac = Uac(port)
        rtp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp_sock.bind(("127.0.0.1", 0))
        uac.request("INVITE", "inv-silent", body=_offer(rtp_sock.getsockname()[1]))
        ok = uac.wait(lambda m: m.status == 200)
        uac.request("ACK", "inv-silent", to_tag=tag_of(ok.get("To")))
        t0 = time.monotonic()
        bye = uac.wait(lambda m: m.method == "BYE", timeout=10)
        assert bye.call_id == "inv-silent" and time.monotonic() - t0 < 8   # well before the 60 s limit
        uac.sock.sendto(response(bye, 200).encode(), ("127.0.0.1", port))
        deadline = time.monotonic() + 5
        found = []
        while time.monotonic() < deadline:
            found = [p for p in logs.glob("call-*.jsonl") if '"rec": "end"' in p.read_text()]
            if found:
                break
            time.sleep(0.05)
        end = json.loads(found[0].read_text().splitlines()[-1])
        assert end["outcome"] == "caller-hangup"
    finally:
        proc.terminate()
        proc.wait(10)


def test_bad_sip_address_is_one_line_error():
    r = subprocess.run([sys.executable, "-m", "ivr", "serve", "--sip", "nowhere"], cwd=REPO,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "HOST:PORT" in r.stderr


# ---- the send path: pacer and prompt store ---------------------------------------------------
def test_pacer_sends_queued_frames_in_order_then_silence_and_clears_on_barge_in():
    from ivr.sip.pacer import Pacer, TxStream

    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(1.0)
    tx_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx_sock.bind(("127.0.0.1", 0))
    tx_sock.setblocking(False)
    st = TxStream(tx_sock, rx.getsockname(), 0, b"\xff" * 160)
    st.push(bytes([1]) * 160 + bytes([2]) * 160)
    st.push(bytes([3]) * 160)
    with pytest.raises(ValueError):
        st.push(b"\x00" * 100)                      # only whole frames
    pacer = Pacer()
    pacer.add(st)
    pacer.start()
    try:
        got = [rtp.parse(rx.recv(2048)) for _ in range(5)]
        st.push(bytes([9]) * 1600)
        st.clear()                                  # barge-in: nothing of it goes out
        more = [rtp.parse(rx.recv(2048)) for _ in range(3)]
    finally:
        pacer.stop()
        pacer.join(1.0)
    assert [p.payload[0] for p in got] == [1, 2, 3, 0xFF, 0xFF]
    assert all(len(p.payload) == 160 for p in got + more) and 9 not in [p.payload[0] for p in more]
    assert [(b.seq - a.seq) & 0xFFFF for a, b in zip(got, got[1:])] == [1] * 4
    assert [(b.ts - a.ts) & 0xFFFFFFFF for a, b in zip(got, got[1:])] == [160] * 4
    assert got[0].marker and not got[1].marker and st.queued_frames == 0


def test_prompt_not_yet_rendered_is_estimated_then_retimed_to_its_audio():
    import datetime as dt
    import threading

    from ivr.drivers.runtime import CallRuntime
    from ivr.drivers.setup import open_services, open_tree
    from ivr.sip.call import PromptStore, RtpCall

    gate = threading.Event()

    class SlowVoice:                  # every prompt is exactly 3 s long, rendered when let go
        def duration(self, text):
            return 3.0

        def render(self, text, rate):
            gate.wait(10)
            return np.full(3 * rate, 0.1, np.float32)

    store = PromptStore(SlowVoice())
    rt = CallRuntime(open_tree(None), services=open_services(None), today=dt.date(2026, 11, 23), call_id="t")
    call = RtpCall(rt, store)
    call.begin()
    assert call.playing and call._outq[0].estimated
    first = call.played[0]
    estimated_end = first.end
    gate.set()
    call._outq[0].future.result(5)
    call.media(np.zeros(800, np.float32), [])       # 0.1 s later the call pumps its prompts
    assert not call._outq or not call._outq[0].estimated or call._outq[0].rendered is None
    assert abs((first.end - first.start) - 3.0) < 1e-6 and first.end != estimated_end
    assert call.prompt_ends[0] == first.end         # PromptDone now comes when the audio ends
    assert store.get(first.text) is not None        # public prompt: kept for the next caller
    store.close()


def test_an_ended_call_is_freed_at_once_not_left_to_the_cycle_collector():
    """A server runs calls for days: an ended call (runtime, DTMF detector buffers, prompts)
    must be freed when the server drops it. A reference cycle (the call's detector held the
    call) left each one to Python's cyclic collector, which numpy buffers do not prompt:
    `ivr serve` grew ~150 MB per 300 calls."""
    import datetime as dt
    import gc
    import weakref

    from ivr.drivers.runtime import CallRuntime
    from ivr.drivers.setup import open_services, open_tree
    from ivr.drivers.timeline import EstimatedVoice
    from ivr.sip.call import PromptStore, RtpCall

    store = PromptStore(EstimatedVoice())
    rt = CallRuntime(open_tree(None), services=open_services(None), today=dt.date(2026, 11, 23), call_id="t")
    call = RtpCall(rt, store)
    call.begin()
    call.media(np.zeros(1600, np.float32), [])     # the detector has run and holds buffers
    call.close()
    gone = weakref.ref(call)
    gc.disable()
    try:
        del call, rt
        assert gone() is None, "the ended call is still alive without a cyclic collection"
    finally:
        gc.enable()
        store.close()


def test_jitter_buffer_follows_a_sender_that_fell_behind():
    """A sender that stalls for 100 ms and never makes it up: its packets all come after
    their playout.  A late one with none waiting moves the playout back to it
    (``slip_after``); the rest of its audio plays, 100 ms + the buffer's depth later, where
    dropping every late packet silenced the call until a 2 s jump resynced it.  (In bench.sip
    runs where SIPp, sharing 2 cores with 200 calls, sent its pcaps 40 ms+ late, in-band keys
    were lost and no call reached its status prompt.)"""
    jb = rtp.JitterBuffer(depth=2)
    pk = _frames(60)
    for i in range(20):                  # on time: put as its frame is due
        jb.put(*pk[i])
        jb.take()
    jb.take(5)                            # the stall: 100 ms of frames played, nothing came
    out = []
    for i in range(20, 60):              # from now on every packet is 5 frames late
        jb.put(*pk[i])
        out.append(jb.take()[0])
    assert jb.slips == 1 and jb.late == 1
    heard = [b for b in out if b != 0xFF]
    assert heard == list(range(21, 21 + len(heard))) and len(heard) >= 35   # in order, none lost
    old = rtp.JitterBuffer(depth=2, slip_after=10**9)   # never slipping: what dropping every late packet did
    for i in range(20):
        old.put(*pk[i])
        old.take()
    old.take(5)
    assert all(old.put(*pk[i]) or old.take()[0] == 0xFF for i in range(20, 60))
