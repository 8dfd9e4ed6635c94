"""A real softphone calls `ivr serve`: Debian's baresip, driven through its ctrl_tcp
command interface, on loopback.

Four calls run at once (module fixture) so the whole file takes about as long as its
longest call (~25 s):
* RFC 4733 keys, sent when the IVR asks for them (the server's --trace output says which
  prompt starts when; the phone's recording says how far the call has got), reach the status prompt of demo participant Budi;
* in-band tones: baresip plays audio_fixtures/status_aktif.wav (keys as DTMF tones in the
  audio, no RFC 4733) and reaches Siti's status prompt;
* a call hangs up during the welcome prompt;
* a second call while the one-line server is busy is refused with 486.
What baresip received is recorded by its sndfile module and checked: as long as the call,
and not silence. Every wait polls with a deadline; no sleep decides a result.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
IVR = [sys.executable, "-m", "ivr"]
TODAY = "2026-11-23"
CALL_S = 60.0          # no call in this file may take longer


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`ivr serve --trace` in a subprocess; its stderr lines collected by a thread."""

    def __init__(self, tmp: Path, max_calls: int):
        self.port = _free_port()
        self.log_dir = tmp / f"logs-{self.port}"
        self.stats = tmp / f"stats-{self.port}.json"
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            IVR + ["serve", "--sip", f"127.0.0.1:{self.port}", "--trace", "--today", TODAY, "--no-queue",
                   "--max-calls", str(max_calls), "--log-dir", str(self.log_dir), "--stats", str(self.stats)],
            cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_line(self, pattern: str, timeout: float = 30.0, start: int = 0) -> re.Match:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                m = rx.search(line)
                if m:
                    return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"server never printed /{pattern}/; last lines:\n" + "\n".join(self.lines[-15:]))

    def call_number(self, sip_port: int) -> int:
        return int(self.wait_line(rf"call (\d+) from 127\.0\.0\.1:{sip_port} answered", 10).group(1))

    def stop(self) -> dict:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return json.loads(self.stats.read_text()) if self.stats.exists() else {}


class Baresip:
    """One baresip instance (own config dir, ports, audio file) under test control."""

    def __init__(self, tmp: Path, name: str, source_wav: Path, attempts: int = 3):
        self.dir = tmp / name
        (self.dir / "rec").mkdir(parents=True)
        # the ports are free when chosen but not held: another process (a parallel phone's
        # RTP) may take one before baresip binds it, and baresip then never becomes a user
        # agent. So a start counts once baresip answers on its control port with its
        # account up; otherwise it is stopped and started again on fresh ports.
        why = ""
        for _ in range(attempts):
            why = self._start(source_wav)
            if not why:
                return
            self._stop()
        raise AssertionError(f"baresip did not start in {attempts} attempts: {why}")

    def _start(self, source_wav: Path) -> str:
        """Start baresip on fresh ports; "" once it is ready, else why not."""
        self.sip_port = _free_port()
        self.ctrl_port = _free_tcp_port()
        (self.dir / "config").write_text("\n".join([
            "poll_method epoll", f"sip_listen 127.0.0.1:{self.sip_port}",
            f"audio_source aufile,{source_wav}", f"audio_player aufile,{self.dir / 'unused.wav'}",
            f"audio_alert aufile,{self.dir / 'unused.wav'}",
            "module_path /usr/lib/baresip/modules", "module g711.so", "module aufile.so", "module sndfile.so",
            "module_app account.so", "module_app menu.so", "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}", f"snd_path {self.dir / 'rec'}", ""]))
        # no registration, no credentials: a plain local account that only places calls
        (self.dir / "accounts").write_text(f"<sip:tester@127.0.0.1:{self.sip_port}>;regint=0\n")
        self.proc = subprocess.Popen(["baresip", "-f", str(self.dir)], cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sock = None
        self.events: list[dict] = []
        self._buf = b""
        try:
            self.sock = self._connect()
        except AssertionError as exc:
            return str(exc)
        self.command("reginfo")   # answered once the account is a user agent
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.proc.poll() is None:
            self._pump()
            for ev in self.events:
                if ev.get("token") == "reginfo" and f":{self.sip_port}" in str(ev.get("data", "")):
                    self.events = []
                    return ""
        return f"no user agent on port {self.sip_port} (exit code {self.proc.poll()}, replies {self.events})"

    def _stop(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + 10
        while True:
            try:
                s = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                s.settimeout(0.1)
                return s
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError("baresip's ctrl_tcp interface did not come up")
                time.sleep(0.05)

    def command(self, cmd: str, params: str = "") -> None:
        msg = json.dumps({"command": cmd, "params": params, "token": cmd}).encode()
        self.sock.sendall(str(len(msg)).encode() + b":" + msg + b",")

    def _pump(self) -> None:
        try:
            self._buf += self.sock.recv(65536)
        except (socket.timeout, BlockingIOError):
            return
        while True:       # netstrings: LEN:JSON,
            head, colon, rest = self._buf.partition(b":")
            if not colon or not head.isdigit() or len(rest) < int(head) + 1:
                return
            n = int(head)
            self.events.append(json.loads(rest[:n]))
            self._buf = rest[n + 1:]

    def wait_event(self, kind: str, timeout: float = 15.0) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            self._pump()
            for ev in self.events[seen:]:
                if ev.get("type") == kind:
                    return ev
            if self.proc.poll() is not None:
                break
        raise AssertionError(f"baresip: no {kind} event; got {[e.get('type') for e in self.events]} "
                             f"(baresip exit code {self.proc.poll()})")

    def recording(self) -> Path:
        got = sorted((self.dir / "rec").glob("*-dec.wav"))
        assert got, "baresip recorded no received audio"
        return got[-1]

    def wait_received(self, seconds: float, timeout: float = 20.0) -> None:
        """Until baresip has recorded `seconds` of what it received (the file grows as it goes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = list((self.dir / "rec").glob("*-dec.wav"))
            if got and got[0].stat().st_size >= 44 + seconds * 8000 * 2:
                return
            time.sleep(0.05)
        raise AssertionError(f"baresip did not receive {seconds} s of audio in time")

    def close(self) -> None:
        try:
            self.command("quit")
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.sock.close()


def _received(path: Path, after_s: float = 0.0) -> dict:
    x, rate = sf.read(str(path), dtype="float32")
    x = x if x.ndim == 1 else x[:, 0]
    tail = x[int(after_s * rate):]
    return {"seconds": len(x) / rate, "rms_dbfs": 20 * np.log10(np.sqrt(np.mean(x ** 2)) + 1e-12),
            "tail_rms_dbfs": 20 * np.log10(np.sqrt(np.mean(tail ** 2)) + 1e-12) if len(tail) else -120.0}


def _end_record(server: Server, n: int) -> dict:
    logs = sorted(server.log_dir.glob(f"call-*-sip{n}.jsonl"))
    assert len(logs) == 1, f"one call log for call {n}, found {logs}"
    recs = [json.loads(line) for line in logs[0].read_text().splitlines()]
    assert recs[0]["rec"] == "sip"
    return recs[-1]


# ---- the four calls --------------------------------------------------------------------------
def call_rfc4733(server: Server, tmp: Path, silence: Path) -> dict:
    phone = Baresip(tmp, "rfc4733", silence)
    try:
        phone.command("dial", f"sip:165@127.0.0.1:{server.port}")
        phone.wait_event("CALL_ESTABLISHED")
        t0 = time.monotonic()
        n = server.call_number(phone.sip_port)
        for node, keys in (("menu_utama", "1"), ("menu_mandiri", "1"), ("status_nik", "3273011708850003#"),
                           ("status_tgl_lahir", "17081985")):
            # the prompt's start on the call's clock: wait until the phone has heard that
            # far (the welcome before the main menu cannot be interrupted)
            start = float(server.wait_line(rf"^call {n} {node} \[\s*([\d.]+)\]\s+VIKA:").group(1))
            phone.wait_received(start + 0.3)
            phone.command("sndcode", keys)
        status = server.wait_line(rf"^call {n} status_menunggak .*VIKA: (.*)").group(1)
        status_at = time.monotonic() - t0
        phone.wait_received(status_at + 3.0)      # 3 s of the status prompt
        phone.command("hangup")
        phone.wait_event("CALL_CLOSED")
        hung_at = time.monotonic() - t0
        server.wait_line(rf"call {n} ended \(caller hung up\)")
        return {"status": status, "status_at": status_at, "hung_at": hung_at, "end": _end_record(server, n),
                "audio": _received(phone.recording(), status_at + 0.5)}
    finally:
        phone.close()


def call_inband(server: Server, tmp: Path, caller_wav: Path) -> dict:
    phone = Baresip(tmp, "inband", caller_wav)
    try:
        phone.command("dial", f"sip:165@127.0.0.1:{server.port}")
        phone.wait_event("CALL_ESTABLISHED")
        t0 = time.monotonic()
        n = server.call_number(phone.sip_port)
        status = server.wait_line(rf"^call {n} status_aktif .*VIKA: (.*)", timeout=CALL_S).group(1)
        status_at = time.monotonic() - t0
        phone.wait_received(status_at + 2.0)
        phone.command("hangup")
        phone.wait_event("CALL_CLOSED")
        server.wait_line(rf"call {n} ended \(caller hung up\)")
        return {"status": status, "end": _end_record(server, n),
                "audio": _received(phone.recording(), status_at + 0.5)}
    finally:
        phone.close()


def call_busy_and_hangup(server: Server, tmp: Path, silence: Path) -> dict:
    """On a one-call server: call A is up (welcome prompt); call B gets 486; A hangs up
    in the middle of the welcome."""
    a = Baresip(tmp, "first", silence)
    b = Baresip(tmp, "second", silence)
    try:
        a.command("dial", f"sip:165@127.0.0.1:{server.port}")
        a.wait_event("CALL_ESTABLISHED")
        n = server.call_number(a.sip_port)
        server.wait_line(rf"^call {n} selamat_datang .*VIKA:")
        b.command("dial", f"sip:165@127.0.0.1:{server.port}")
        refused = b.wait_event("CALL_CLOSED")
        a.wait_received(2.0)
        a.command("hangup")
        a.wait_event("CALL_CLOSED")
        server.wait_line(rf"call {n} ended \(caller hung up\)")
        return {"refused": refused, "end": _end_record(server, n), "audio": _received(a.recording()),
                "b_established": any(e.get("type") == "CALL_ESTABLISHED" for e in b.events)}
    finally:
        a.close()
        b.close()


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    assert shutil.which("baresip"), "baresip is missing: run scripts/setup.sh (it installs the Debian package)"
    tmp = tmp_path_factory.mktemp("sip-baresip")
    silence = tmp / "silence.wav"
    sf.write(str(silence), np.zeros(8000 * 90, np.float32), 8000, subtype="PCM_16")
    from ivr.dsp.audio import read_audio

    x, rate = read_audio(str(REPO / "audio_fixtures" / "status_aktif.wav"))
    caller = tmp / "status_aktif_pcm16.wav"      # baresip's aufile reads 16-bit PCM only
    sf.write(str(caller), np.concatenate([x[:, 0], np.zeros(8000 * 60, np.float32)]), rate, subtype="PCM_16")
    big, one = Server(tmp, max_calls=4), Server(tmp, max_calls=1)
    try:
        big.wait_line("answers SIP on", 60)
        one.wait_line("answers SIP on", 60)
        with ThreadPoolExecutor(3) as pool:
            futures = {"rfc4733": pool.submit(call_rfc4733, big, tmp, silence),
                       "inband": pool.submit(call_inband, big, tmp, caller),
                       "busy": pool.submit(call_busy_and_hangup, one, tmp, silence)}
            results = {k: f.exception() or f.result() for k, f in futures.items()}
    finally:
        results_stats = {"big": big.stop(), "one": one.stop()}
    results["stats"] = results_stats
    return results


def _ok(calls, key) -> dict:
    r = calls[key]
    if isinstance(r, BaseException):
        raise r
    return r


def test_rfc4733_keys_reach_the_status_prompt(calls):
    r = _ok(calls, "rfc4733")
    assert "tidak aktif" in r["status"] and "Budi" in r["status"]
    assert r["end"]["outcome"] == "caller-hangup" and "status_menunggak" in r["end"]["path"]
    assert calls["stats"]["big"]["keys_rfc4733"] >= 2 + 17 + 8
    # what the phone heard: the whole call (within a second), and speech, not silence
    assert abs(r["audio"]["seconds"] - r["hung_at"]) < 1.5
    assert r["audio"]["rms_dbfs"] > -40 and r["audio"]["tail_rms_dbfs"] > -40


def test_inband_tones_reach_the_status_prompt(calls):
    r = _ok(calls, "inband")
    assert "aktif" in r["status"] and "tidak aktif" not in r["status"] and "Siti" in r["status"]
    assert "status_aktif" in r["end"]["path"]
    assert calls["stats"]["big"]["keys_inband"] >= 2 + 17 + 8
    assert r["audio"]["seconds"] > 10 and r["audio"]["tail_rms_dbfs"] > -40


def test_hangup_during_the_welcome_prompt(calls):
    r = _ok(calls, "busy")
    end = r["end"]
    assert end["rec"] == "end" and end["outcome"] == "caller-hangup"
    assert end["path"][-1] in ("selamat_datang", "menu_utama") and end["duration"] < 8.0
    assert r["audio"]["seconds"] >= 2.0 and r["audio"]["rms_dbfs"] > -40


def test_refused_with_486_when_full(calls):
    r = _ok(calls, "busy")
    assert "486" in r["refused"].get("param", "") and not r["b_established"]
    assert calls["stats"]["one"]["busy"] == 1 and calls["stats"]["one"]["answered"] == 1
