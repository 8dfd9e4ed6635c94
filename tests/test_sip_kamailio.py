"""Scale-out: calls through Kamailio's dispatcher reach an `ivr serve` instance and complete.

`scripts/serve-cluster.sh 2` starts two instances and Kamailio on free loopback ports; a
hand-written caller (the UAC of tests/test_sip.py) places calls to Kamailio's port, gets
the IVR's 200 OK and RTP through it, and the IVR's BYE at --max-call-seconds; each call's
JSONL log shows where it ran. About 10 s; every wait has a deadline.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import time
from pathlib import Path

import pytest

from ivr.sip import rtp
from ivr.sip.message import response, tag_of

from test_sip import Uac, _offer

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    assert shutil.which("kamailio"), "kamailio is missing: run scripts/setup.sh (it installs the Debian package)"
    tmp = tmp_path_factory.mktemp("cluster")
    port, base = _free_port(), _free_port()
    while base + 2 > 65535 or port in (base, base + 1):
        base = _free_port()
    err = open(tmp / "cluster.err", "w+")
    proc = subprocess.Popen(["bash", "scripts/serve-cluster.sh", "2", "--port", str(port), "--base-port", str(base),
                             "--no-tts", "--no-queue", "--max-call-seconds", "2", "--log-dir", str(tmp / "logs")],
                            cwd=REPO, stderr=err, stdout=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "IVR_HOME": str(tmp / "home")})
    deadline = time.monotonic() + 120
    text = ""
    while time.monotonic() < deadline and proc.poll() is None:
        err.seek(0)
        text = err.read()
        if "cluster ready" in text:
            break
        time.sleep(0.1)
    assert "cluster ready" in text, text[-2000:]
    yield port, (base, base + 1), tmp / "logs", err
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _call(port: int, call_id: str) -> int:
    """One call through the proxy: 200 OK, RTP from the IVR, the IVR's BYE; RTP packets."""
    uac = Uac(port)
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    media.settimeout(0.2)
    uac.request("INVITE", call_id, body=_offer(media.getsockname()[1]))
    ok = uac.wait(lambda m: m.status == 200 and m.call_id == call_id)
    assert ok.all("Record-Route"), "Kamailio stays in the dialog's path"
    uac.request("ACK", call_id, to_tag=tag_of(ok.get("To")))
    packets = 0
    deadline = time.monotonic() + 5
    while packets < 10 and time.monotonic() < deadline:
        try:
            data, _ = media.recvfrom(2048)
        except socket.timeout:
            continue
        pkt = rtp.parse(data)
        packets += pkt is not None and len(pkt.payload) == 160
    bye = uac.wait(lambda m: m.method == "BYE" and m.call_id == call_id, timeout=10)   # --max-call-seconds 2
    uac.sock.sendto(response(bye, 200).encode(), ("127.0.0.1", port))
    return packets


def test_calls_through_kamailio_reach_an_instance_and_complete(cluster):
    from concurrent.futures import ThreadPoolExecutor

    port, instances, logs, err = cluster
    # letters only: the call log masks digit runs in what it records
    calls = ["kam-" + "".join(random.choice(string.ascii_lowercase) for _ in range(12)) for _ in range(12)]
    with ThreadPoolExecutor(len(calls)) as pool:          # at once: ~3 s for all
        assert list(pool.map(lambda c: _call(port, c), calls)) == [10] * len(calls)
    ends = {}
    deadline = time.monotonic() + 10
    while len(ends) < len(calls) and time.monotonic() < deadline:
        for p in logs.glob("call-*.jsonl"):
            recs = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
            sip = [r for r in recs if r.get("call_id") in calls]
            if sip and recs[-1].get("rec") == "end":
                ends[sip[0]["call_id"]] = recs[-1]
        time.sleep(0.1)
    assert set(ends) == set(calls)
    assert all(end["outcome"] == "max-duration" for end in ends.values())
    # the dispatcher spreads calls by a hash of the Call-ID: 12 calls all on one instance
    # would happen 2 times in 4096; each instance's stderr lines carry its port
    err.seek(0)
    text = err.read()
    per = {p: len(re.findall(rf"\[ivr {p}\] ivr serve: call \d+ from \S+ answered", text)) for p in instances}
    assert sum(per.values()) == len(calls) and all(per.values()), per
