"""`ivr participants ...` and `ivr requests ...`: the JKN data behind the line.

Personal data (NIK, card, phone, e-mail, names, addresses, dates of birth) is masked in
everything these commands print unless `--unmask` is given.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path


def _cli_error():
    from ivr.cli import CliError
    return CliError


def _console():
    """A rich console; when not a terminal (pipes, tests), wide enough not to wrap rows."""
    import sys

    from rich.console import Console
    return Console() if sys.stdout.isatty() else Console(width=220)


def _today(value: str | None) -> dt.date:
    from ivr.cli import parse_today

    return parse_today(value)


def _db_path(value: str | None) -> Path:
    from ivr.jkn.db import default_db_path
    return Path(value).expanduser() if value else default_db_path()


def _guard(fn):
    """Turn database problems into one clear line (exit 2) instead of a traceback."""
    def run(args) -> int:
        import sqlite3

        from ivr.jkn.db import JknDatabaseError
        try:
            return fn(args)
        except JknDatabaseError as exc:
            raise _cli_error()(str(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise _cli_error()(f"database error: {exc}") from None
        except OSError as exc:
            raise _cli_error()(f"{exc.filename or ''}: {exc.strerror or exc}") from None
    return run


def register(sub: argparse._SubParsersAction) -> None:
    """Add `participants` and `requests` to `ivr`."""
    db_help = "database file (default: $IVR_HOME/participants.sqlite, else ~/.local/share/ivr/participants.sqlite)"

    p = sub.add_parser("participants", help="synthetic JKN participants (generate, list, show)",
                       description="Synthetic JKN participants in SQLite. Personal data is masked unless --unmask.")
    psub = p.add_subparsers(dest="participants_cmd", metavar="ACTION")
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])

    g = psub.add_parser("generate", help="create the participants database (deterministic from --seed)")
    g.add_argument("--db", help=db_help)
    g.add_argument("--seed", type=int, default=None, help="random seed (default 165)")
    g.add_argument("--count", type=int, default=None, help="number of participants (default 400)")
    g.add_argument("--force", action="store_true",
                   help="replace the participants of an existing ivr database (its requests are kept)")
    g.set_defaults(func=_guard(_participants_generate))

    ls = psub.add_parser("list", help="list participants (masked)")
    ls.add_argument("--db", help=db_help)
    ls.add_argument("--segment", type=str.upper, choices=["PBI", "PBPU", "BP", "PPU"], help="only this segment")
    ls.add_argument("--status", choices=["aktif", "menunggak", "nonaktif"], help="only this status (on --today)")
    ls.add_argument("--demo", action="store_true", help="only the documented demo participants")
    ls.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50, 0 = all)")
    ls.add_argument("--today", help="date for status and bills, YYYY-MM-DD (default: today)")
    ls.add_argument("--unmask", action="store_true", help="show personal data in clear")
    ls.set_defaults(func=_guard(_participants_list))

    sh = psub.add_parser("show", help="one participant by NIK (16 digits) or card number (13 digits)")
    sh.add_argument("key", metavar="NIK_OR_CARD")
    sh.add_argument("--db", help=db_help)
    sh.add_argument("--today", help="date for status and bills, YYYY-MM-DD (default: today)")
    sh.add_argument("--unmask", action="store_true", help="show personal data in clear")
    sh.set_defaults(func=_guard(_participants_show))

    r = sub.add_parser("requests", help="requests completed by agents (list, show)",
                       description="Requests stored by the simulated agents, with ticket numbers. "
                                   "Personal data is masked unless --unmask.",
                       epilog="Tickets look like 165-YYMMDD-NNNNN: the line (165), the date the request was "
                              "made, and a sequence number of the whole database that does not restart each "
                              "day and is never reused (165-261123-00007 may be followed by 165-261124-00008; "
                              "more than five digits after 99999). Each scenario of `ivr test` has its own "
                              "fresh database, so its tickets start at 00001.")
    rsub = r.add_subparsers(dest="requests_cmd", metavar="ACTION")
    r.set_defaults(func=lambda a: (r.print_help(), 2)[1])
    rl = rsub.add_parser("list", help="list stored requests")
    rl.add_argument("--db", help=db_help)
    rl.add_argument("--type", dest="jenis", help="only this request type (e.g. ganti_kelas; "
                    "an unknown type is an error that lists the known ones)")
    rl.add_argument("--status", choices=["selesai", "ditolak", "callback"], help="only this status")
    rl.add_argument("--limit", type=int, default=0, help="at most this many rows (default: all)")
    rl.add_argument("--unmask", action="store_true", help="show personal data in clear")
    rl.set_defaults(func=_guard(_requests_list))
    rs = rsub.add_parser("show", help="one request by ticket number")
    rs.add_argument("ticket", metavar="TICKET")
    rs.add_argument("--db", help=db_help)
    rs.add_argument("--unmask", action="store_true", help="show personal data in clear")
    rs.add_argument("--json", action="store_true", help="print JSON")
    rs.set_defaults(func=_guard(_requests_show))


# ---- participants -------------------------------------------------------------------------
def _participants_generate(args) -> int:
    from ivr.jkn.participants import DEFAULT_COUNT, DEFAULT_SEED, DEMO_PARTICIPANTS, write_db

    seed = DEFAULT_SEED if args.seed is None else args.seed
    count = DEFAULT_COUNT if args.count is None else args.count
    if count < len(DEMO_PARTICIPANTS) or count > 100_000:
        raise _cli_error()(f"--count must be between {len(DEMO_PARTICIPANTS)} and 100000")
    path = write_db(_db_path(args.db), seed=seed, count=count, replace_existing=args.force)
    print(f"{count} participants (seed {seed}, {len(DEMO_PARTICIPANTS)} demo) written to {path}")
    return 0


def _open_participants(db: str | None):
    from ivr.jkn.services import JknServices

    path = _db_path(db)
    if db and not path.exists():
        raise _cli_error()(f"{path} does not exist (create it with `ivr participants generate --db {path}`)")
    return JknServices(path)


def _mask(kind: str, value, unmask: bool) -> str:
    from ivr.privacy import mask_value

    if value is None or value == "":
        return "-"
    return str(value) if unmask else mask_value(kind, str(value))


def _participants_list(args) -> int:
    from rich.table import Table

    from ivr.jkn.services import state_of

    today = _today(args.today)
    with _open_participants(args.db) as svc:
        people = svc.participants.list(segmen=args.segment, demo_only=args.demo)
        rows = []
        for p in people:
            st = state_of(p, today)
            if args.status and st.outcome != args.status:
                continue
            rows.append((p, st))
            if args.limit and len(rows) >= args.limit:
                break
        t = Table(title=f"Peserta JKN ({len(rows)} shown, status on {today.isoformat()})")
        for col in ("NIK", "Kartu", "Nama", "JK", "Lahir", "Segmen", "Kelas", "Status", "Tunggakan", "Demo"):
            t.add_column(col)
        for p, st in rows:
            t.add_row(_mask("nik", p.nik, args.unmask), _mask("card", p.no_kartu, args.unmask),
                      _mask("name", p.nama, args.unmask), p.jenis_kelamin,
                      _mask("dob", p.tgl_lahir.isoformat(), args.unmask), p.segmen, str(p.kelas), st.outcome,
                      str(st.tunggakan_bulan) if st.tagihan else "-", p.demo or "")
        _console().print(t)
    return 0


def _participants_show(args) -> int:
    from ivr.jkn.billing import SEGMENTS, format_rupiah, format_tanggal
    from ivr.jkn.services import can_change_class, can_change_fktp

    today = _today(args.today)
    key = args.key.strip()
    if not key.isdigit() or len(key) not in (13, 16):
        raise _cli_error()("give a NIK (16 digits) or a card number (13 digits)")
    with _open_participants(args.db) as svc:
        p = svc.participants.lookup(key)
        if p is None:
            raise _cli_error()(f"no participant with {'NIK' if len(key) == 16 else 'card number'} "
                               f"{_mask('nik', key, args.unmask)}")
        outcome, v = svc.describe(p, today)
        u = args.unmask
        rows = [
            ("NIK", _mask("nik", p.nik, u)), ("Nomor kartu", _mask("card", p.no_kartu, u)),
            ("Nomor KK", _mask("nik", p.no_kk, u)), ("Nama", _mask("name", p.nama, u)),
            ("Jenis kelamin", p.jenis_kelamin), ("Tanggal lahir", _mask("dob", p.tgl_lahir.isoformat(), u)),
            ("Hubungan", p.hubungan), ("Segmen", f"{p.segmen} ({SEGMENTS[p.segmen]})"), ("Kelas", str(p.kelas)),
            ("Status (administrasi)", p.status + (f" - {p.alasan_nonaktif}" if p.alasan_nonaktif else "")),
            ("Terdaftar sejak", format_tanggal(p.tgl_daftar)),
            ("FKTP", f"{p.fktp} (sejak {format_tanggal(p.fktp_sejak)})"),
            ("HP", _mask("phone", p.hp, u)), ("Email", _mask("email", p.email, u)),
            ("Alamat", _mask("address", p.alamat, u)), ("Kode pos", p.kode_pos), ("NPWP", _mask("npwp", p.npwp, u)),
        ]
        if p.upah is not None:
            rows += [("Upah", format_rupiah(p.upah)), ("Pemberi kerja", p.pemberi_kerja or "-")]
        if p.self_paying:
            rows.append(("Iuran lunas sampai", str(p.iuran_lunas_sampai) if p.iuran_lunas_sampai else "belum ada"))
        rows += [
            (f"Status pada {today.isoformat()}", f"{outcome} (status {v['status']})"),
            ("Iuran", v["iuran"]), ("Tunggakan", f"{v['tunggakan_bulan']} bulan"),
            ("Tagihan", f"{v['tagihan']} (keluarga, {v['jumlah_anggota']} orang; peserta {v['tagihan_peserta']})"),
            ("Jatuh tempo", v["jatuh_tempo"]), ("Virtual account", _mask("va", v["va"], u)),
            ("Ganti kelas", "boleh" if can_change_class(p, today)[0] else can_change_class(p, today)[1]),
            ("Ganti FKTP", "boleh" if can_change_fktp(p, today)[0] else can_change_fktp(p, today)[1]),
        ]
        if p.demo:
            rows.append(("Demo", p.demo))
        width = max(len(k) for k, _ in rows)
        for k, val in rows:
            print(f"{k:<{width}}  {val}")
    return 0


# ---- requests -----------------------------------------------------------------------------
def _open_requests(db: str | None):
    from ivr.jkn.requests import RequestStore

    path = _db_path(db)
    if not path.exists():
        raise _cli_error()(f"no requests yet: {path} does not exist")
    return RequestStore(path)


def _check_type(store, jenis: str) -> None:
    """An unknown --type is a mistake (a typo would print an empty table and exit 0): the
    known types are the agents' request types, plus any already stored in this file."""
    from ivr.jkn.services import REQUEST_ARGS

    known = set(REQUEST_ARGS) | {r[0] for r in store.conn.execute("SELECT DISTINCT jenis FROM requests")}
    if jenis not in known:
        raise _cli_error()(f"--type: unknown request type {jenis!r}; known: {', '.join(sorted(known))}")


def _fields_text(fields: dict, unmask: bool) -> str:
    return ", ".join(f"{k}={_mask(k, v, unmask)}" for k, v in sorted(fields.items()))


def _requests_list(args) -> int:
    from rich.table import Table

    from ivr.privacy import mask_pii

    with _open_requests(args.db) as store:
        if args.jenis is not None:
            _check_type(store, args.jenis)
        reqs = store.list(jenis=args.jenis, status=args.status, limit=args.limit or None)
        t = Table(title=f"Permintaan ({len(reqs)})")
        for col in ("Tiket", "Waktu", "Jenis", "Status", "NIK", "Data", "Alasan"):
            t.add_column(col)
        for r in reqs:
            t.add_row(r.ticket, r.created_at.isoformat(sep=" "), r.jenis, r.status, _mask("nik", r.nik, args.unmask),
                      _fields_text({k: v for k, v in r.fields.items() if k != "nik"}, args.unmask),
                      (r.alasan or "") if args.unmask else mask_pii(r.alasan or ""))
        _console().print(t)
    return 0


def _requests_show(args) -> int:
    from ivr.privacy import mask_pii

    with _open_requests(args.db) as store:
        r = store.get(args.ticket)
        if r is None:
            raise _cli_error()(f"no request with ticket {args.ticket.strip()}")
        fields = {k: (v if args.unmask else _mask(k, v, False)) for k, v in r.fields.items()}
        alasan = (r.alasan or "") if args.unmask else mask_pii(r.alasan or "")
        if args.json:
            print(json.dumps({"ticket": r.ticket, "jenis": r.jenis, "status": r.status, "alasan": alasan or None,
                              "nik": _mask("nik", r.nik, args.unmask) if r.nik else None, "fields": fields,
                              "created_at": r.created_at.isoformat()}, ensure_ascii=False, indent=2))
            return 0
        print(f"Tiket       {r.ticket}")
        print(f"Waktu       {r.created_at.isoformat(sep=' ')}")
        print(f"Jenis       {r.jenis}")
        print(f"Status      {r.status}")
        if r.nik:
            print(f"NIK         {_mask('nik', r.nik, args.unmask)}")
        if alasan:
            print(f"Alasan      {alasan}")
        for k, v in sorted(fields.items()):
            print(f"  {k:<10}{v}")
    return 0
