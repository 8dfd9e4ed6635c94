"""SIPp load bench for `ivr serve`.

    python -m bench.sip [--steps 10,50,100] [--signalling-calls 2000]

For each concurrency step N, a fresh `ivr serve` (TTS prompts, call logs in a temp dir)
takes N calls from two SIPp callers at once, half with keys as RFC 4733 events and half
with in-band tones (bench/sip/caller_*.xml playing pcaps made by bench/sip/pcap.py): demo
participant Budi's status check, ~25 s per call. Prints per step: calls completed and
failed (SIPp), calls that reached the status prompt (the server's call logs), median
setup time (INVITE to 200 OK, SIPp), the most calls up at once, RTP send jitter p50/p99
(the spread of the 20 ms send interval, per call, measured at the server's sendto) and
CPU per call (the server's CPU seconds per call, and % of a core per concurrent call).

Then the signalling ceiling, in the same run: SIPp's built-in UAC (`-sn uac`, no media,
hang up at once) against SIPp's built-in UAS (`-sn uas`) and against `ivr serve`, calls
per second each.

Then scale-out (`--cluster`, on by default when kamailio is installed): SIPp's UAC offers
calls held 2 s at a fixed rate to `scripts/serve-cluster.sh 1` and `scripts/serve-cluster.sh
2` (one and two `ivr serve` instances behind Kamailio's dispatcher); the capacity of each is
the highest rate carried with at most 0.5 % failed (bisection, a fresh cluster per probe),
printed with their ratio.

Every loop is bounded: SIPp gets -m (calls) and -timeout; each step has a deadline.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TODAY = "2026-11-23"
STATUS_NODE = "status_menunggak"


def _port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, name: str, max_calls: int, extra: list[str] | None = None):
        self.port = _port()
        self.logs = tmp / f"logs-{name}"
        self.stats = tmp / f"stats-{name}.json"
        self.err = open(tmp / f"serve-{name}.err", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ivr", "serve", "--sip", f"127.0.0.1:{self.port}", "--quiet", "--today", TODAY,
             "--max-calls", str(max_calls), "--log-dir", str(self.logs), "--stats", str(self.stats)] + (extra or []),
            cwd=REPO, stderr=self.err, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self.err.seek(0)
            if "answers SIP" in self.err.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.err.seek(0)
        raise SystemExit(f"bench.sip: ivr serve did not start: {self.err.read()[-500:]}")

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return json.loads(self.stats.read_text()) if self.stats.exists() else {}

    def reached(self, node: str) -> int:
        n = 0
        for p in self.logs.glob("call-*.jsonl"):
            lines = p.read_text().splitlines()
            if lines and f'"{node}"' in lines[-1]:
                n += 1
        return n


def _csv_last(path: Path) -> dict:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()] if path.exists() else []
    if len(lines) < 2:
        return {}
    head, last = lines[0].split(";"), lines[-1].split(";")
    return dict(zip(head, last))


def _seconds(v: str) -> float:
    """SIPp's HH:MM:SS:uuuuuu (or :mmm) as seconds."""
    parts = v.strip().split(":")
    try:
        h, m, s, frac = parts
        return int(h) * 3600 + int(m) * 60 + int(s) + int(frac) / (10 ** len(frac))
    except ValueError:
        return float("nan")


def _sipp(args: list[str], cwd: Path, timeout: float) -> subprocess.Popen:
    return subprocess.Popen(["sipp"] + args + ["-nostdin", "-timeout", f"{int(timeout)}s", "-timeout_error"],
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def load_step(tmp: Path, n: int, priority: str = "normal") -> dict:
    from bench.sip import pcap

    server = Server(tmp, f"load{n}", max_calls=n + 10, extra=["--priority", priority])
    half = [n - n // 2, n // 2]
    rate = max(5, n // 5)                  # calls/s per caller: all N up within ~5 s
    call_s = pcap.duration_s() + 1
    limit = call_s + n / rate + 60
    procs = []
    for i, (kind, k) in enumerate(zip(("rfc4733", "inband"), half)):
        if k == 0:
            continue
        stf = tmp / f"sipp-{kind}-{n}.csv"
        procs.append((stf, _sipp(["-sf", str(HERE / f"caller_{kind}.xml"), f"127.0.0.1:{server.port}",
                                  "-p", str(_port()), "-mp", str(20000 + 4000 * i), "-m", str(k), "-l", str(k),
                                  "-r", str(rate), "-trace_stat", "-stf", str(stf), "-fd", "1"], tmp, limit)))
    t0 = time.monotonic()
    for _, p in procs:
        try:
            p.wait(max(1.0, limit + 10 - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    wall = time.monotonic() - t0
    stats = server.stop()
    ok = failed = 0
    setup = []
    for stf, _ in procs:
        row = _csv_last(stf)
        ok += int(row.get("SuccessfulCall(C)", 0) or 0)
        failed += int(row.get("FailedCall(C)", 0) or 0)
        for k, v in row.items():
            if k.startswith("ResponseTime") and k.endswith("(C)") and "StDev" not in k:
                setup.append(_seconds(v))
    answered = max(1, stats.get("answered", 0))
    return {"n": n, "completed": ok, "failed": failed, "lost": n - ok - failed, "reached_status": server.reached(STATUS_NODE),
            "setup_ms": round(1000 * max(setup), 1) if setup else float("nan"),
            "max_concurrent": stats.get("max_concurrent", 0), "jitter": stats.get("send_jitter_ms", {}),
            "late_ticks": stats.get("late_ticks", 0),
            "cpu_per_call_s": round(stats.get("cpu_s", 0) / answered, 3),
            "core_pct_per_call": round(100 * stats.get("cpu_s", 0) / max(stats.get("wall_s", 1), 1e-9)
                                       / max(1, stats.get("max_concurrent", 1)), 2),
            "keys": (stats.get("keys_rfc4733", 0), stats.get("keys_inband", 0)), "wall_s": round(wall, 1)}


def voice_step(tmp: Path, n: int) -> dict:
    """N voice callers at once against a fresh `ivr serve --speech whisper` (bench/sip/voice.py)."""
    from bench.sip import voice
    from ivr.speech.asr.engines import usable_cores

    tree = tmp / "voice-tree.yaml"
    tree.write_text(voice.TREE)
    if not (tmp / "voice.pcap").exists():
        voice.write_pcap(tmp / "voice.pcap")
    xml = voice.scenario(HERE, tmp)
    shutil.rmtree(tmp / f"logs-voice{n}", ignore_errors=True)   # a step of the same size ran before
    server = Server(tmp, f"voice{n}", max_calls=n + 2, extra=["--speech", "whisper", "--tree", str(tree)])
    stf = tmp / f"sipp-voice-{n}.csv"
    limit = voice.call_seconds() + voice.SLOT_S + 60
    t0 = time.monotonic()
    p = _sipp(["-sf", str(xml), f"127.0.0.1:{server.port}", "-p", str(_port()), "-mp", "24000", "-m", str(n),
               "-l", str(n), "-r", str(n), "-rp", str(int(voice.SLOT_S * 1000)),   # starts spread over a slot
               "-trace_stat", "-stf", str(stf), "-fd", "1"], tmp, limit)
    try:
        p.wait(limit + 10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    wall = time.monotonic() - t0
    stats = server.stop()
    row = _csv_last(stf)
    out = voice.summary(n, voice.answers(server.logs), stats.get("cpu_s", 0.0), stats.get("wall_s", wall),
                        usable_cores())   # the cores the server's decodes share
    out["completed"] = int(row.get("SuccessfulCall(C)", 0) or 0)
    return out


def signalling_rate(tmp: Path, target: str, calls: int, limit: int = 500, hold_ms: int = 0) -> float:
    stf = tmp / f"uac-{target.replace(':', '_')}.csv"
    stf.unlink(missing_ok=True)
    p = _sipp(["-sn", "uac", target, "-p", str(_port()), "-m", str(calls), "-r", "5000", "-l", str(limit), "-d", str(hold_ms),
               "-trace_stat", "-stf", str(stf), "-fd", "100", "-mp", "30000"], tmp, 120)
    t0 = time.monotonic()
    try:
        p.wait(150)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    row = _csv_last(stf)
    done = int(row.get("SuccessfulCall(C)", 0) or 0)
    return round(done / max(1e-9, time.monotonic() - t0), 1)


class Cluster:
    """scripts/serve-cluster.sh N on free loopback ports, stopped with its process group."""

    def __init__(self, tmp: Path, n: int, extra: list[str]):
        self.port = _port()
        base = _port()
        while base + n > 65535 or self.port in range(base, base + n):
            base = _port()
        self.err = open(tmp / f"cluster-{n}.err", "w+")
        self.proc = subprocess.Popen(["bash", str(REPO / "scripts" / "serve-cluster.sh"), str(n), "--port", str(self.port),
                                      "--base-port", str(base)] + extra, cwd=REPO, stderr=self.err,
                                     stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            self.err.seek(0)
            if "cluster ready" in self.err.read():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        self.err.seek(0)
        raise SystemExit(f"bench.sip: serve-cluster.sh {n} did not start: {self.err.read()[-800:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# The scale-out load: calls that stay up CLUSTER_HOLD_MS (no media from the caller; each
# instance still runs every call's audio clock, RTP sender and DTMF detector), offered at a
# fixed rate for CLUSTER_SECONDS. A set-up's capacity is the highest offered rate it carries
# with at most CLUSTER_MAX_FAILED of the calls failed, found by bisection with a fresh
# cluster per probe (an overloaded instance must not carry its backlog into the next one).
# The concurrency limit is set well above rate x hold so that it never binds: an earlier
# version held 400 calls at once for 2 s, which capped every set-up at 200 calls/s, and one
# instance already reached 172 -- the ratio measured that cap, not the instances.
CLUSTER_HOLD_MS = 2000
CLUSTER_SECONDS = 8
CLUSTER_MAX_FAILED = 0.005
CLUSTER_RANGE = (25.0, 1600.0)   # calls/s searched
CLUSTER_STEP = 1.06              # bisection stops when hi/lo is within this


def offered_load(tmp: Path, target: str, rate: float, hold_ms: int = CLUSTER_HOLD_MS,
                 seconds: float = CLUSTER_SECONDS) -> tuple[int, int]:
    """(calls placed, calls completed) for `rate` calls/s held `hold_ms`, `seconds` long."""
    calls = max(1, int(round(rate * seconds)))
    limit = int(rate * (hold_ms / 1000 + 1) * 3) + 50
    stf = tmp / f"offered-{target.replace(':', '_')}.csv"
    stf.unlink(missing_ok=True)
    p = _sipp(["-sn", "uac", target, "-p", str(_port()), "-m", str(calls), "-r", f"{rate:.3f}", "-l", str(limit),
               "-d", str(hold_ms), "-trace_stat", "-stf", str(stf), "-fd", "100", "-mp", "30000"],
              tmp, seconds + hold_ms / 1000 + 60)
    try:
        p.wait(seconds + hold_ms / 1000 + 90)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    row = _csv_last(stf)
    if not row:
        # no statistics at all: SIPp did not run (a port taken between choosing and binding,
        # a crash) -- that is no verdict on the server, so it must not lower the capacity
        raise ProbeError(f"SIPp wrote no statistics for {rate:.0f} calls/s to {target} (exit code {p.returncode})")
    return calls, int(row.get("SuccessfulCall(C)", 0) or 0)


class ProbeError(RuntimeError):
    """A scale-out probe that measured nothing."""


def _carries(tmp: Path, start, label: str, rate: float, hold_ms: int, log=None) -> bool:
    """Whether a fresh set-up from `start()` (anything with `.port` and `.stop()`) carries
    `rate` calls/s held `hold_ms` with at most CLUSTER_MAX_FAILED failed (an overloaded
    instance must not carry its backlog into the next probe)."""
    for attempt in (1, 2):   # one retry when SIPp measured nothing
        target = start()
        try:
            signalling_rate(tmp, f"127.0.0.1:{target.port}", 20, 20)     # warm-up calls
            placed, done = offered_load(tmp, f"127.0.0.1:{target.port}", rate, hold_ms=hold_ms)
            break
        except ProbeError as exc:
            if attempt == 2:
                raise SystemExit(f"bench.sip: {exc}") from None
        finally:
            target.stop()
    ok = placed - done <= CLUSTER_MAX_FAILED * placed
    if log:
        log(f"  {label} at {rate:.0f} calls/s: {done}/{placed} completed -> {'carried' if ok else 'not carried'}")
    return ok


def capacity(tmp: Path, n: int, log=None) -> float:
    """Highest offered rate (calls/s) that N instances behind Kamailio carry with at most
    CLUSTER_MAX_FAILED failed (geometric bisection over CLUSTER_RANGE)."""
    def start() -> Cluster:
        return Cluster(tmp, n, ["--no-tts", "--no-log", "--quiet", "--max-calls", "5000", "--today", TODAY])

    label = f"{n} instance{'s' if n > 1 else ''}"
    return highest_carried(lambda rate: _carries(tmp, start, label, rate, CLUSTER_HOLD_MS, log), *CLUSTER_RANGE,
                           CLUSTER_STEP)


def server_capacity(tmp: Path, log=None) -> float:
    """Highest rate (calls/s, no media, hung up at once) one `ivr serve` carries with at most
    CLUSTER_MAX_FAILED failed, a fresh server per probe.  The burst figure (SIPp at 5,000
    calls/s, 500 at once) is what the SIPp UAS is measured with, but an instance offered more
    than it carries falls behind and fails calls wholesale (retransmissions add load), so
    that figure went from 12 to 822 calls/s between runs on the same code; this one holds."""
    def start() -> Server:
        return Server(tmp, "capacity", max_calls=5000, extra=["--no-tts", "--no-log"])

    return highest_carried(lambda rate: _carries(tmp, start, "ivr serve", rate, 0, log), *CLUSTER_RANGE,
                           CLUSTER_STEP)


def highest_carried(carries, lo: float, hi: float, step: float) -> float:
    """Geometric bisection for the highest rate in [lo, hi) that `carries(rate)` accepts,
    to within a factor `step`; 0 when even `lo` is not carried."""
    if not carries(lo):
        return 0.0
    while hi / lo > step:
        mid = (lo * hi) ** 0.5
        if carries(mid):
            lo = mid
        else:
            hi = mid
    return round(lo, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.sip", description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", default="10,50,100", help="concurrent calls per step (default 10,50,100)")
    ap.add_argument("--signalling-calls", type=int, default=2000, help="calls for the signalling ceiling")
    ap.add_argument("--cluster", choices=("auto", "yes", "no"), default="auto",
                    help="one vs two instances behind Kamailio (auto: when kamailio is installed)")
    ap.add_argument("--no-load", action="store_true", help="skip the load steps (signalling and cluster only)")
    ap.add_argument("--verbose", action="store_true", help="print each scale-out probe")
    ap.add_argument("--cluster-rounds", type=int, default=2, choices=range(1, 6), metavar="{1..5}",
                    help="scale-out: alternating rounds, each set-up keeps its best (a burst of other work on a "
                         "shared machine fails a probe; default 2, ~5 min a round)")
    ap.add_argument("--voice", default="", metavar="N,N",
                    help="voice callers at once per step (e.g. 1,2,4,8): Whisper answers over SIP, answer delay "
                         "and lost groups (bench/sip/voice.py; ~1 min a step)")
    ap.add_argument("--priority", choices=("normal", "high"), default="normal",
                    help="ivr serve --priority for the load steps (high: nice -10, for a shared machine)")
    args = ap.parse_args(argv)
    if not shutil.which("sipp"):
        print("bench.sip: sipp is missing (Debian package sip-tester; scripts/setup.sh installs it)", file=sys.stderr)
        return 2
    try:
        steps = [int(s) for s in args.steps.split(",") if s.strip()]
        voices = [int(s) for s in args.voice.split(",") if s.strip()]
    except ValueError:
        print(f"bench.sip: --steps / --voice: expected numbers like 10,50,100, got '{args.steps}' / '{args.voice}'",
              file=sys.stderr)
        return 2
    if not steps or min(steps) < 1 or max(steps) > 2000:
        print("bench.sip: --steps must be from 1 to 2000 calls", file=sys.stderr)
        return 2
    if voices and (min(voices) < 1 or max(voices) > 64):
        print("bench.sip: --voice must be from 1 to 64 callers", file=sys.stderr)
        return 2
    from bench.sip import pcap
    from ivr.speech.asr.engines import usable_cores

    with tempfile.TemporaryDirectory(prefix="ivr-bench-sip-") as d:
        tmp = Path(d)
        os.environ.setdefault("IVR_HOME", str(tmp / "home"))
        pcap.write_pcap(tmp / "rfc4733.pcap", inband=False)
        pcap.write_pcap(tmp / "inband.pcap", inband=True)
        print(f"bench.sip: {usable_cores()} CPUs; each call {pcap.duration_s():.1f} s, {pcap.key_count()} keys "
              f"(half RFC 4733, half in band), TTS prompts, G.711 PCMU")
        print(f"{'calls':>6} {'done':>5} {'fail':>5} {'lost':>5} {'status':>7} {'setup ms':>9} {'max up':>7} "
              f"{'jit p50':>8} {'jit p99':>8} {'late':>5} {'CPU s/call':>10} {'%core/call':>10}")
        for n in ([] if args.no_load else steps):
            r = load_step(tmp, n, args.priority)
            j = r["jitter"]
            print(f"{n:>6} {r['completed']:>5} {r['failed']:>5} {r['lost']:>5} {r['reached_status']:>7} "
                  f"{r['setup_ms']:>9} {r['max_concurrent']:>7} {j.get('p50', float('nan')):>8} "
                  f"{j.get('p99', float('nan')):>8} {r['late_ticks']:>5} {r['cpu_per_call_s']:>10} "
                  f"{r['core_pct_per_call']:>10}", flush=True)
        if voices:
            from bench.sip import voice

            print(f"voice callers (--speech whisper; each reads {voice.GROUPS} groups of {voice.GROUP} digits, one "
                  f"every {voice.SLOT_S:g} s; delay = end of speech -> answer, on the call's clock; fits: every group "
                  f"answered, p90 <= {voice.FIT_P90_S:g} s)")
            print(f"{'callers':>7} {'done':>5} {'groups':>6} {'answered':>8} {'lost':>5} {'split':>5} {'no-match':>8} "
                  f"{'delay p50':>9} {'p90':>6} {'max':>6} {'CPU %':>6} {'fits':>5}")
            for n in voices:
                r = voice_step(tmp, n)
                print(f"{n:>7} {r['completed']:>5} {r['expected']:>6} {r['answered']:>8} {r['lost']:>5} {r['split']:>5} "
                      f"{r['nomatch']:>8} {r['p50']:>8}s {r['p90']:>5}s {r['max']:>5}s {r['cpu_pct']:>6} "
                      f"{'yes' if r['fits'] else 'no':>5}", flush=True)
        uas_port = _port()
        uas = subprocess.Popen(["sipp", "-sn", "uas", "-p", str(uas_port), "-nostdin", "-timeout", "300s"],
                               cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while signalling_rate(tmp, f"127.0.0.1:{uas_port}", 1) <= 0 and time.monotonic() < deadline:
                pass          # until it answers: its start-up is not its call rate
            uas_cps = signalling_rate(tmp, f"127.0.0.1:{uas_port}", args.signalling_calls)
        finally:
            uas.terminate()
            uas.wait(10)
        server = Server(tmp, "signalling", max_calls=600, extra=["--no-tts", "--no-log"])
        try:
            ivr_cps = signalling_rate(tmp, f"127.0.0.1:{server.port}", args.signalling_calls)
        finally:
            server.stop()
        carried = server_capacity(tmp, (lambda line: print(line, flush=True)) if args.verbose else None)
        print(f"signalling ceiling (SIPp -sn uac, {args.signalling_calls} calls, no media): "
              f"SIPp -sn uas {uas_cps} calls/s; ivr serve {ivr_cps} calls/s as that burst, and carries "
              f"{carried:.0f} calls/s (highest rate offered for {CLUSTER_SECONDS} s with <= {CLUSTER_MAX_FAILED:.1%} "
              f"failed)", flush=True)
        if args.cluster == "yes" or (args.cluster == "auto" and shutil.which("kamailio")):
            if not shutil.which("kamailio"):
                print("bench.sip: kamailio is missing (Debian package kamailio; scripts/setup.sh installs it)",
                      file=sys.stderr)
                return 2
            log = (lambda line: print(line, flush=True)) if args.verbose else None
            best = {1: 0.0, 2: 0.0}
            for _ in range(args.cluster_rounds):   # alternating, each keeps its best round
                for n in (1, 2):
                    best[n] = max(best[n], capacity(tmp, n, log))
            one, two = best[1], best[2]
            print(f"scale-out through Kamailio (calls held {CLUSTER_HOLD_MS / 1000:g} s, offered at a fixed rate for "
                  f"{CLUSTER_SECONDS} s; capacity = highest rate with <= {CLUSTER_MAX_FAILED:.1%} failed, best of "
                  f"{args.cluster_rounds} alternating rounds): "
                  f"1 instance {one:.0f} calls/s; 2 instances {two:.0f} calls/s; ratio {two / max(one, 1e-9):.2f}x",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
