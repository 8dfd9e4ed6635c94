"""Durable store of the requests agents complete, with ticket numbers.

Each request is written in exactly one SQLite transaction (`BEGIN IMMEDIATE` ... `COMMIT`)
on a WAL database with synchronous=FULL: once `add` returns a ticket, the request survives a
killed process (and a power cut); a process killed before the commit leaves nothing. Work
that belongs to the request (a registration inserting the new participant, a phone-number
change) runs inside the same transaction through `within`, so it commits or vanishes with it.

Ticket numbers look like `165-YYMMDD-NNNNN`: the line, the date the request was made, and a
sequence number from an AUTOINCREMENT key, which SQLite never hands out twice even after
rows are deleted, so a ticket is never reused. Time is passed in (`created_at`); nothing
here reads the clock.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.jkn.db import JknDatabaseError, OwnsConnection, connect, default_db_path, has_table, ivr_home
from ivr.privacy import private_dir

STATUSES = ("selesai", "ditolak", "callback")
TICKET_PREFIX = "165"

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket TEXT UNIQUE,
    jenis TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('selesai', 'ditolak', 'callback')),
    alasan TEXT,
    nik TEXT,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_jenis ON requests (jenis);
"""


class RequestError(ValueError):
    """A request that cannot be stored as given (bad status, unknown ticket)."""


@dataclass(frozen=True)
class Request:
    ticket: str
    jenis: str                  # request type: pendaftaran, ganti_kelas, ganti_nomor_hp, ...
    status: str                 # selesai / ditolak / callback
    alasan: str | None          # why refused (ditolak), or a note
    nik: str | None
    fields: dict[str, str]
    created_at: dt.datetime


def make_ticket(created_at: dt.datetime | dt.date, seq: int) -> str:
    return f"{TICKET_PREFIX}-{created_at:%y%m%d}-{seq:05d}"


def _row(r: sqlite3.Row) -> Request:
    return Request(r["ticket"], r["jenis"], r["status"], r["alasan"], r["nik"], json.loads(r["fields"]),
                   dt.datetime.fromisoformat(r["created_at"]))


class RequestStore(OwnsConnection):
    """Requests in the JKN database file (default: the participants file, see ivr.jkn.db)."""

    def __init__(self, path: str | Path | None = None, conn: sqlite3.Connection | None = None):
        self.path = Path(path) if path else default_db_path()
        if conn is None:
            private_dir(self.path.parent, tighten=self.path.parent == ivr_home())   # personal data: 0700
            conn = connect(self.path, must_exist=False)
        self.conn = conn
        if not has_table(conn, "requests"):
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            if tables and not has_table(conn, "participants"):
                raise JknDatabaseError(f"{self.path} is an SQLite database of something else "
                                       f"(tables: {', '.join(sorted(tables)[:5])}); left untouched")
            try:
                conn.executescript(SCHEMA)
            except sqlite3.DatabaseError as exc:
                raise JknDatabaseError(f"{self.path}: {exc}") from None

    def add(self, jenis: str, status: str, fields: Mapping[str, str], created_at: dt.datetime,
            alasan: str | None = None, nik: str | None = None,
            within: Callable[[sqlite3.Connection], Mapping[str, str] | None] | None = None,
            before_commit: Callable[[], None] | None = None) -> str:
        """Store one request and return its ticket, all in one transaction.

        `within(conn)` runs inside the transaction (its writes commit with the request; a
        mapping it returns is merged into the stored fields, e.g. a new card number);
        `before_commit()` is a hook for tests that interrupt the process just before COMMIT.
        Any exception rolls everything back and no ticket is issued.
        """
        if status not in STATUSES:
            raise RequestError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if not jenis:
            raise RequestError("request type (jenis) is required")
        payload = json.dumps({str(k): str(v) for k, v in fields.items()}, ensure_ascii=False, sort_keys=True)
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            cur = c.execute("INSERT INTO requests (jenis, status, alasan, nik, fields, created_at) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            (jenis, status, alasan, nik, payload, created_at.isoformat(timespec="seconds")))
            seq = cur.lastrowid
            ticket = make_ticket(created_at, seq)
            c.execute("UPDATE requests SET ticket = ? WHERE seq = ?", (ticket, seq))
            if within is not None:
                extra = within(c)
                if extra:
                    merged = dict(json.loads(payload), **{str(k): str(v) for k, v in extra.items()})
                    c.execute("UPDATE requests SET fields = ? WHERE seq = ?",
                              (json.dumps(merged, ensure_ascii=False, sort_keys=True), seq))
            if before_commit is not None:
                before_commit()
            c.execute("COMMIT")
        except BaseException:
            if c.in_transaction:
                c.execute("ROLLBACK")
            raise
        return ticket

    def get(self, ticket: str) -> Request | None:
        r = self.conn.execute("SELECT * FROM requests WHERE ticket = ?", (ticket.strip(),)).fetchone()
        return _row(r) if r else None

    def list(self, jenis: str | None = None, status: str | None = None, nik: str | None = None,
             limit: int | None = None) -> list[Request]:
        sql, args = "SELECT * FROM requests WHERE ticket IS NOT NULL", []
        for col, val in (("jenis", jenis), ("status", status), ("nik", nik)):
            if val:
                sql += f" AND {col} = ?"
                args.append(val)
        sql += " ORDER BY seq"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [_row(r) for r in self.conn.execute(sql, args)]

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
