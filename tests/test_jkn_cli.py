"""`ivr participants ...` and `ivr requests ...`: output masked by default, clear errors."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from ivr.cli import main
from ivr.jkn.services import JknServices


@pytest.fixture
def home(monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_HOME", str(tmp_path))
    return tmp_path


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_generate_list_show(home, capsys):
    db = home / "x.sqlite"
    rc, out, _ = run(capsys, "participants", "generate", "--db", str(db), "--seed", "3", "--count", "40")
    assert rc == 0 and "40 participants" in out and db.exists()
    rc, _, err = run(capsys, "participants", "generate", "--db", str(db))
    assert rc == 2 and "already exists" in err and "--force" in err
    assert run(capsys, "participants", "generate", "--db", str(db), "--force", "--count", "41")[0] == 0

    rc, out, _ = run(capsys, "participants", "list", "--db", str(db), "--demo", "--today", "2026-11-23")
    assert rc == 0 and "3273********0003" in out and "menunggak" in out
    assert "3273011708850003" not in out and "Santoso" not in out
    rc, out, _ = run(capsys, "participants", "list", "--db", str(db), "--demo", "--unmask", "--today", "2026-11-23")
    assert "3273011708850003" in out and "Budi Santoso" in out
    rc, out, _ = run(capsys, "participants", "list", "--db", str(db), "--segment", "pbi", "--limit", "0")
    assert rc == 0 and "PBI" in out and "PBPU" not in out and "PPU " not in out

    rc, out, _ = run(capsys, "participants", "show", "0001876543210", "--db", str(db), "--today", "2026-11-23")
    assert rc == 0 and "Rp300.000" in out and "menunggak" in out and "8888********3210" in out
    assert "0001876543210" not in out and "17081985" not in out and "1985-08-17" not in out
    rc, out, _ = run(capsys, "participants", "show", "3273011708850003", "--db", str(db), "--unmask")
    assert "0001876543210" in out and "Budi Santoso" in out


def test_show_errors_are_one_line(home, capsys):
    rc, _, err = run(capsys, "participants", "show", "12345")
    assert rc == 2 and "16 digits" in err
    rc, _, err = run(capsys, "participants", "show", "3273011708850099")
    assert rc == 2 and "no participant" in err and "3273011708850099" not in err
    rc, _, err = run(capsys, "participants", "list", "--db", str(home / "missing.sqlite"))
    assert rc == 2 and "does not exist" in err
    bad = home / "bad.sqlite"
    bad.write_text("hello")
    rc, _, err = run(capsys, "participants", "list", "--db", str(bad))
    assert rc == 2 and "not an SQLite database" in err and bad.read_text() == "hello"
    rc, _, err = run(capsys, "requests", "show", "165-261123-00001", "--db", str(bad))
    assert rc == 2 and "not an SQLite database" in err
    rc, _, err = run(capsys, "participants", "list", "--today", "kemarin")
    assert rc == 2 and err.strip() == "ivr: error: --today: 'kemarin' is not a date (expected YYYY-MM-DD)"


def test_requests_list_and_show(home, capsys):
    rc, _, err = run(capsys, "requests", "list")
    assert rc == 2 and "no requests yet" in err
    with JknServices(clock=lambda: dt.datetime(2026, 1, 1, 8, 30)) as svc:
        t1 = svc.invoke("permintaan", {"jenis": "ganti_nomor_hp", "nik": "3174054508900002", "tgl_lahir": "05081990",
                                       "hp": "081377778888"},
                        dt.date(2026, 11, 23)).vars["tiket"]
        t2 = svc.invoke("permintaan", {"jenis": "ganti_kelas", "nik": "3471020911000007", "kelas": "1"},
                        dt.date(2026, 11, 23)).vars["tiket"]
    rc, out, _ = run(capsys, "requests", "list")
    assert rc == 0 and t1 in out and t2 in out and "ditolak" in out
    assert "081377778888" not in out and "3174054508900002" not in out and "0813*****888" in out
    rc, out, _ = run(capsys, "requests", "list", "--type", "ganti_kelas")
    assert t2 in out and t1 not in out
    rc, out, _ = run(capsys, "requests", "show", t1)
    assert rc == 0 and "ganti_nomor_hp" in out and "2026-11-23 08:30:00" in out and "081377778888" not in out
    rc, out, _ = run(capsys, "requests", "show", t1, "--unmask", "--json")
    data = json.loads(out)
    assert data["fields"]["hp"] == "081377778888" and data["nik"] == "3174054508900002"
    rc, out, _ = run(capsys, "requests", "show", t2)
    assert "minimal 1 tahun" in out
    rc, _, err = run(capsys, "requests", "show", "165-261123-99999")
    assert rc == 2 and "no request" in err
