"""The durable request store: tickets, one transaction per request, crash safety."""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from ivr.jkn.db import JknDatabaseError
from ivr.jkn.participants import ParticipantStore, write_db
from ivr.jkn.requests import RequestError, RequestStore, make_ticket

AT = dt.datetime(2026, 11, 23, 10, 15, 0)
NIK = "3174054508900002"           # demo participant "aktif"


@pytest.fixture
def db(tmp_path):
    return write_db(tmp_path / "p.sqlite", count=20)


def test_tickets_are_formatted_unique_and_never_reused(db):
    with RequestStore(db) as rs:
        t1 = rs.add("ganti_nomor_hp", "selesai", {"nik": NIK, "hp": "081234567890"}, AT, nik=NIK)
        t2 = rs.add("ganti_kelas", "ditolak", {"nik": NIK}, AT + dt.timedelta(days=1), alasan="belum 1 tahun", nik=NIK)
        assert (t1, t2) == ("165-261123-00001", "165-261124-00002")
        rs.conn.execute("DELETE FROM requests WHERE ticket = ?", (t2,))
        t3 = rs.add("informasi", "selesai", {}, AT)
        assert t3 == "165-261123-00003"                       # 00002 is not handed out again
        got = rs.get(t1)
        assert (got.jenis, got.status, got.nik, got.fields, got.created_at) == (
            "ganti_nomor_hp", "selesai", NIK, {"nik": NIK, "hp": "081234567890"}, AT)
        assert [r.ticket for r in rs.list()] == [t1, t3]
        assert [r.ticket for r in rs.list(jenis="informasi")] == [t3]
        assert rs.get("165-000000-99999") is None
    assert make_ticket(dt.date(2027, 1, 2), 123456) == "165-270102-123456"


def test_bad_status_is_refused_and_nothing_stored(db):
    with RequestStore(db) as rs:
        with pytest.raises(RequestError):
            rs.add("informasi", "mungkin", {}, AT)
        assert rs.count() == 0


def test_work_inside_the_transaction_rolls_back_with_it(db):
    with RequestStore(db) as rs:
        store = ParticipantStore(db, conn=rs.conn)

        def within(conn):
            store.update(NIK, hp="081111111111")
            raise RuntimeError("agent system crashed")

        with pytest.raises(RuntimeError):
            rs.add("ganti_nomor_hp", "selesai", {"hp": "081111111111"}, AT, nik=NIK, within=within)
        assert rs.count() == 0 and store.by_nik(NIK).hp != "081111111111"
        t = rs.add("ganti_nomor_hp", "selesai", {"hp": "081111111111"}, AT, nik=NIK,
                   within=lambda conn: store.update(NIK, hp="081111111111"))
        assert store.by_nik(NIK).hp == "081111111111" and rs.get(t) is not None


def test_wal_mode(db):
    with RequestStore(db) as rs:
        assert rs.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def test_request_survives_sigkill_right_after_the_ticket_is_read_back(db):
    proc = _spawn("""
        import datetime as dt, sys, threading
        from ivr.jkn.services import JknServices
        svc = JknServices(sys.argv[1], clock=lambda: dt.datetime(2026, 11, 23, 9, 0))
        r = svc.invoke("permintaan", {"jenis": "ganti_nomor_hp", "nik": "3174054508900002",
                                      "tgl_lahir": "05081990", "hp": "081377778888"}, dt.date(2026, 11, 23))
        print(r.outcome, r.vars["tiket"], flush=True)
        threading.Event().wait()          # still "on the phone" when the process is killed
    """, str(db))
    line = proc.stdout.readline().split()
    _kill(proc)
    assert line[0] == "selesai", proc.stderr.read()
    ticket = line[1]
    with RequestStore(db) as rs:
        req = rs.get(ticket)
        assert req is not None and req.jenis == "ganti_nomor_hp" and req.fields["hp"] == "081377778888"
        assert ParticipantStore(db, conn=rs.conn).by_nik(NIK).hp == "081377778888"


def test_request_killed_before_commit_leaves_nothing(db):
    proc = _spawn("""
        import datetime as dt, sys, threading
        from ivr.jkn.participants import ParticipantStore
        from ivr.jkn.requests import RequestStore
        rs = RequestStore(sys.argv[1])
        ps = ParticipantStore(sys.argv[1], conn=rs.conn)
        def pause():
            print("before-commit", flush=True)
            threading.Event().wait()      # killed here: inserts and the update are written, not committed
        rs.add("ganti_nomor_hp", "selesai", {"hp": "081399990000"}, dt.datetime(2026, 11, 23, 9, 0),
               nik="3174054508900002", within=lambda c: ps.update("3174054508900002", hp="081399990000"),
               before_commit=pause)
        print("committed", flush=True)
    """, str(db))
    assert proc.stdout.readline().strip() == "before-commit", proc.stderr.read()
    _kill(proc)
    with RequestStore(db) as rs:
        assert rs.count() == 0 and rs.list() == []
        assert ParticipantStore(db, conn=rs.conn).by_nik(NIK).hp != "081399990000"
        assert rs.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # and the store keeps working: the next ticket is issued normally
        assert rs.add("informasi", "selesai", {}, AT).startswith("165-261123-")


def test_corrupt_or_foreign_files_are_refused_and_left_alone(tmp_path):
    junk = tmp_path / "requests.sqlite"
    junk.write_bytes(b"\x00\x01 not a database at all" * 10)
    before = junk.read_bytes()
    with pytest.raises(JknDatabaseError, match="not an SQLite database"):
        RequestStore(junk)
    assert junk.read_bytes() == before
    foreign = tmp_path / "foreign.sqlite"
    c = sqlite3.connect(foreign)
    c.execute("CREATE TABLE invoices (id INTEGER)")
    c.commit()
    c.close()
    with pytest.raises(JknDatabaseError, match="something else"):
        RequestStore(foreign)
    c = sqlite3.connect(foreign)
    assert [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["invoices"]
    c.close()


def test_a_fresh_file_gets_only_the_request_tables(tmp_path):
    with RequestStore(tmp_path / "new" / "r.sqlite") as rs:
        assert rs.add("callback", "callback", {"hp": "081234567890"}, AT) == "165-261123-00001"
