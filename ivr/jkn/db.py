"""Opening the JKN SQLite file safely.

One file holds the synthetic participants and the requests agents complete, so that a
registration (new participant + its request record) commits in one transaction: SQLite only
makes a transaction atomic across *attached* files when not in WAL mode, and the store must
be WAL. Default location: `$IVR_HOME/participants.sqlite`, else
`$XDG_DATA_HOME/ivr/participants.sqlite` (`~/.local/share/ivr/...`).

A path that exists but is not an SQLite database, or is one without our tables, is refused
with a clear message and never touched: it may be someone's data.
"""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ivr.privacy import make_private, private_umask

SQLITE_MAGIC = b"SQLite format 3\x00"
DB_FILENAME = "participants.sqlite"


class JknDatabaseError(ValueError):
    """The database file cannot be used (missing, not SQLite, foreign schema, locked)."""


def ivr_home() -> Path:
    """`$IVR_HOME`, else `$XDG_DATA_HOME/ivr`, else `~/.local/share/ivr` (not created here)."""
    home = os.environ.get("IVR_HOME")
    if home:
        return Path(home)
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "ivr"


def default_db_path() -> Path:
    return ivr_home() / DB_FILENAME


def check_sqlite_file(path: Path) -> None:
    """Raise JknDatabaseError unless `path` is an SQLite file (an empty file is refused too:
    we never adopt a file we did not create)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except IsADirectoryError:
        raise JknDatabaseError(f"{path} is a directory, not a database file") from None
    except PermissionError:
        raise JknDatabaseError(f"{path}: permission denied") from None
    if head != SQLITE_MAGIC:
        raise JknDatabaseError(f"{path} is not an SQLite database (left untouched; "
                               "pass another --db or move the file away)")


def connect(path: str | Path, *, must_exist: bool = True, wal: bool = True) -> sqlite3.Connection:
    """Open the file in autocommit mode (transactions are explicit `BEGIN IMMEDIATE`),
    WAL journal, synchronous=FULL (a commit survives a crash of the process and of the
    machine), and a busy timeout so concurrent writers wait instead of failing."""
    p = Path(path)
    existed = p.exists()
    if existed:
        check_sqlite_file(p)
    elif must_exist:
        raise JknDatabaseError(f"{p} does not exist")
    conn = None
    try:
        # a new file is created 0600 (its journal, WAL and -shm files follow its mode)
        with private_umask():
            conn = sqlite3.connect(str(p), isolation_level=None, timeout=10.0)
            conn.execute("PRAGMA schema_version").fetchone()   # SQLite creates the file lazily
        make_private(p)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 10000")
        if wal:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JknDatabaseError(f"{p}: cannot switch to WAL journal (got {mode})")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        if existed:
            verify_intact(conn, p)
    except sqlite3.DatabaseError as exc:
        if conn is not None:
            conn.close()
        raise JknDatabaseError(f"{p} is damaged ({exc}); {_DAMAGED_HINT}") from None
    except JknDatabaseError:
        if conn is not None:
            conn.close()
        raise
    return conn


#: Files up to this size get a full `PRAGMA quick_check` when opened (about 7 ms for the
#: default 190 KB database; it is linear in the file size); bigger ones only the schema.
QUICK_CHECK_MAX_BYTES = 256 << 20
_DAMAGED_HINT = ("restore a copy, or move it away and run `ivr participants generate` "
                 "(requests stored in it would be lost)")


def verify_intact(conn: sqlite3.Connection, path: Path) -> None:
    """Raise JknDatabaseError when the file is damaged. Why at open: a corrupt page would
    otherwise surface mid-call as a service error the caller hears as "gangguan", while the
    operator sees nothing (exit 0). `quick_check` reads every page and checks the b-tree
    structure (not index contents), so torn or overwritten pages are caught; files larger
    than QUICK_CHECK_MAX_BYTES only have their schema read."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size <= QUICK_CHECK_MAX_BYTES:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
        if rows != ["ok"]:
            lines = [ln.strip() for r in rows for ln in str(r).splitlines()
                     if ln.strip() and not ln.startswith("*** in database")]
            first = lines[0] if lines else "no result"
            raise JknDatabaseError(f"{path} is damaged (sqlite quick_check: {first}); {_DAMAGED_HINT}")
    else:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


class OwnsConnection:
    """A store that owns one SQLite connection (`self.conn`): `close()` it, or use it as a
    context manager."""

    conn: sqlite3.Connection

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
