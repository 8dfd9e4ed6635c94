"""Issue 10 §4: faults never lose what the caller was told.

* a call log that cannot be written does not end the call: the transcript (with the ticket)
  is printed, one line on stderr says the log failed, exit code 3 (EXIT_LOG_FAILED);
* every log record is flushed as it is written (and the ticket's record and `end` are
  fsync'ed): a call process SIGKILLed right after its ticket is stored still has the ticket
  in its log, one killed after its last record still has `end`;
* a damaged participants database is refused at open with one line, not used.
"""
from __future__ import annotations

import errno
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ivr.cli import EXIT_LOG_FAILED
from ivr.drivers.calllog import CallLog
from ivr.jkn.requests import RequestStore

REPO = Path(__file__).resolve().parents[1]
IVR = [sys.executable, "-m", "ivr"]
# the reproduction: agent services > perubahan data > wait for the agent > NIK > identitas
TICKET_CALL = ["call", "--today", "2026-11-23", "--queue-seed", "1", "--keys", "3 3 w 3273011708850003# 1"]
DEADLINE_S = 120


def _ivr(*args, **kw):
    return subprocess.run(IVR + list(args), capture_output=True, text=True, timeout=DEADLINE_S, cwd=REPO, **kw)


def _tickets(log: Path) -> list[str]:
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        vars_ = rec.get("vars") if isinstance(rec.get("vars"), dict) else {}
        if vars_.get("tiket"):
            out.append(vars_["tiket"])
    return out


# ---- a log that cannot be written ---------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="/dev/full is a Linux device")
def test_a_full_disk_does_not_end_the_call(tmp_path):
    r = _ivr(*TICKET_CALL, "--db", str(tmp_path / "jkn.sqlite"), "--log", "/dev/full")
    assert r.returncode == EXIT_LOG_FAILED == 3
    assert "Traceback" not in r.stderr
    assert r.stderr.splitlines() == ["ivr: error: call log /dev/full: No space left on device; "
                                     "the call went on without it (exit 3)"]
    # the caller heard the whole call, ticket included, and the ticket is stored
    assert "Nomor tiket Anda 165-261123-" in r.stdout and "SELESAI: hangup di agen_penutup" in r.stdout
    ticket = r.stdout.split("Nomor tiket Anda ")[1][:16]
    with RequestStore(tmp_path / "jkn.sqlite") as store:
        assert store.get(ticket) is not None


class _FailingStream:
    """A stream whose writes fail after `ok` of them (a disk filling up mid-call)."""

    def __init__(self, ok: int):
        self.ok, self.lines = ok, []

    def write(self, text: str) -> int:
        if len(self.lines) >= self.ok:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_write_error_is_kept_and_later_records_are_dropped():
    s = _FailingStream(ok=2)
    log = CallLog(stream=s)
    for i in range(5):
        log.write(i, "event", type="Tick")       # never raises
    log.close()
    assert len(s.lines) == 2
    assert isinstance(log.error, OSError) and log.error.errno == errno.ENOSPC
    assert log.error_text == "call log: No space left on device"


def test_each_record_reaches_the_file_before_close(tmp_path):
    p = tmp_path / "c.jsonl"
    log = CallLog(p)
    log.write(0.0, "start", tree="t")
    log.write(1.5, "event", type="ServiceDone", outcome="selesai", vars={"tiket": "165-261123-00001"})
    lines = p.read_text(encoding="utf-8").splitlines()     # read while the log is still open
    assert [json.loads(x)["rec"] for x in lines] == ["start", "event"]
    log.close()
    assert log.error is None


# ---- SIGKILL mid-call -----------------------------------------------------------------------
# Run `ivr call` in a child that stops at a chosen point (deterministic: a patched method
# prints STOPPED and blocks on stdin), then SIGKILL it there -- no sleeps, no timing.
CHILD = r'''
import sys
from ivr.drivers import calllog
from ivr.engine import session
from ivr.engine.events import ServiceDone

def stop(what):
    print("STOPPED", what, flush=True)
    sys.stdin.read()          # blocks until the test kills this process

if sys.argv[1] == "ticket":   # the request is committed and its result logged; the engine has not seen it yet
    handle = session.CallSession.handle
    def patched(self, event):
        if isinstance(event, ServiceDone) and event.vars.get("tiket"):
            stop(event.vars["tiket"])
        return handle(self, event)
    session.CallSession.handle = patched
else:                          # the call is over and logged; the log file is not closed yet
    calllog.CallLog.close = lambda self: stop("close")

from ivr.cli import main
sys.exit(main(sys.argv[2:]))
'''


def _kill_at(stop_at: str, argv: list[str]) -> str:
    """Run the call until it stops at `stop_at`, SIGKILL it, return what it printed after STOPPED."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, stop_at, *argv], cwd=REPO, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout] + [lines.put(None)], daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=DEADLINE_S)     # bounded: a child that never stops fails the test
            assert line is not None, f"the call ended without reaching {stop_at}: {proc.stderr.read()}"
            if line.startswith("STOPPED"):
                return line.split(maxsplit=1)[1].strip()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=DEADLINE_S)
        assert proc.returncode == -signal.SIGKILL
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()


def test_sigkill_after_the_ticket_is_stored_keeps_it_in_the_log(tmp_path):
    db, log = tmp_path / "jkn.sqlite", tmp_path / "call.jsonl"
    ticket = _kill_at("ticket", [*TICKET_CALL, "--db", str(db), "--log", str(log)])
    assert ticket.startswith("165-261123-")
    with RequestStore(db) as store:
        assert store.get(ticket) is not None          # stored ...
    assert _tickets(log) == [ticket]                  # ... and in the call's log
    records = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert records[0]["rec"] == "start" and all(r["rec"] != "end" for r in records)


def test_sigkill_before_the_log_is_closed_keeps_its_end(tmp_path):
    db, log = tmp_path / "jkn.sqlite", tmp_path / "call.jsonl"
    _kill_at("close", [*TICKET_CALL, "--db", str(db), "--log", str(log)])
    records = [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
    assert records[-1]["rec"] == "end" and records[-1]["outcome"] == "hangup"
    assert len(_tickets(log)) == 1


# ---- a damaged participants database -------------------------------------------------------
def _damaged_db(tmp_path) -> Path:
    db = tmp_path / "jkn.sqlite"
    r = _ivr("participants", "generate", "--db", str(db))
    assert r.returncode == 0, r.stderr
    with open(db, "r+b") as f:       # overwrite pages 4 and 5 (participants rows)
        f.seek(4096 * 3)
        f.write(b"\xa5" * 8192)
    return db


def test_a_damaged_database_is_refused_with_one_line(tmp_path):
    db = _damaged_db(tmp_path)
    r = _ivr("call", "--today", "2026-11-23", "--db", str(db), "--no-queue", "--no-log",
             "--keys", "1 1 3273011708850003# 17081985 9")
    assert r.returncode == 2
    assert r.stdout == ""                               # no call on a broken back end
    err = r.stderr.splitlines()
    assert len(err) == 1 and err[0].startswith(f"ivr: error: participants database: {db} is damaged (sqlite")
    assert "ivr participants generate" in err[0]
    for cmd in (["requests", "list"], ["participants", "list"]):
        r = _ivr(*cmd, "--db", str(db))
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "is damaged" in r.stderr, cmd


def test_an_intact_database_opens_as_before(tmp_path):
    db = tmp_path / "jkn.sqlite"
    assert _ivr("participants", "generate", "--db", str(db)).returncode == 0
    r = _ivr("call", "--today", "2026-11-23", "--db", str(db), "--no-queue", "--no-log",
             "--keys", "1 1 3273011708850003# 17081985 9")
    assert r.returncode == 0 and "atas nama Budi" in r.stdout
