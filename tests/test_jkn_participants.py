"""The synthetic participants database: deterministic, valid, covering every case."""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter

import pytest

from ivr.jkn.db import JknDatabaseError
from ivr.jkn.identifiers import validate_nik, validate_card, virtual_account
from ivr.jkn.participants import (DEMO_PARTICIPANTS, REFERENCE_DATE, ParticipantStore, ensure_db, generate,
                                  write_db)
from ivr.jkn.services import state_of


@pytest.fixture(scope="module")
def people():
    return generate(seed=165, count=400)


def test_generation_is_deterministic_and_seeded(people):
    assert generate(seed=165, count=400) == people
    other = generate(seed=7, count=400)
    assert other[: len(DEMO_PARTICIPANTS)] == people[: len(DEMO_PARTICIPANTS)]      # demos are fixed
    assert other[len(DEMO_PARTICIPANTS):] != people[len(DEMO_PARTICIPANTS):]
    assert len(generate(seed=1, count=37)) == 37


def test_identifiers_are_valid_unique_and_agree_with_birth_dates(people):
    assert len({p.nik for p in people}) == len(people)
    assert len({p.no_kartu for p in people}) == len(people)
    for p in people:
        info = validate_nik(p.nik, REFERENCE_DATE)
        assert info.birth_date == p.tgl_lahir and info.sex == p.jenis_kelamin, p.nik
        validate_card(p.no_kartu)
        assert len(p.no_kk) == 16 and p.no_kk.isdigit()
        assert p.tgl_lahir <= p.tgl_daftar <= REFERENCE_DATE
        assert p.tgl_daftar <= p.fktp_sejak <= REFERENCE_DATE
        assert p.hp is None or (p.hp.startswith("08") and 10 <= len(p.hp) <= 13)
        assert p.email is None or "@example." in p.email


def test_every_case_is_covered(people):
    segments = Counter(p.segmen for p in people)
    assert {"PBI", "PBPU", "PPU"} <= set(segments)
    assert {p.kelas for p in people if p.segmen == "PBPU"} == {1, 2, 3}
    assert {p.kelas for p in people if p.segmen == "PBI"} == {3}                    # PBI are Kelas III
    assert all(p.kelas == (1 if p.upah > 4_000_000 else 2) for p in people if p.segmen == "PPU" and p.upah)
    outcomes = Counter(state_of(p, REFERENCE_DATE).outcome for p in people)
    assert outcomes["aktif"] > 100 and outcomes["menunggak"] > 10 and outcomes["nonaktif"] > 5
    arrears = {state_of(p, REFERENCE_DATE).tunggakan_bulan for p in people}
    assert {0, 1, 2, 3} <= arrears and max(arrears) >= 12
    families = Counter(p.no_kk for p in people)
    assert max(families.values()) >= 4
    years = {p.tgl_daftar.year for p in people}
    assert min(years) <= 2015 and max(years) >= 2025


def test_demo_participants_are_documented_and_distinct():
    keys = [d.key for d in DEMO_PARTICIPANTS]
    assert keys == ["aktif", "menunggak", "nonaktif", "pbi", "ppu", "baru", "fktp_baru", "belum_bayar"]
    expected = {"aktif": "aktif", "menunggak": "menunggak", "nonaktif": "nonaktif", "pbi": "aktif",
                "ppu": "aktif", "baru": "aktif", "fktp_baru": "menunggak", "belum_bayar": "nonaktif"}
    for d in DEMO_PARTICIPANTS:
        assert d.expect.startswith(expected[d.key])
        assert state_of(d.participant, REFERENCE_DATE).outcome == expected[d.key]


def test_store_lookups(tmp_path):
    path = write_db(tmp_path / "p.sqlite", count=60)
    with ParticipantStore(path) as store:
        assert store.count() == 60
        budi = store.by_nik("3273011708850003")
        assert budi is not None and budi.nama == "Budi Santoso" and budi.demo == "menunggak"
        assert store.by_card("0001876543210") == budi
        assert store.lookup("0001876543210") == budi and store.lookup("3273011708850003") == budi
        assert store.by_nik("3273011708850009") is None and store.lookup("123") is None
        assert budi.va() == virtual_account("0001876543210")
        assert [p.segmen for p in store.list(segmen="pbi")] and all(p.segmen == "PBI" for p in store.list(segmen="PBI"))
        assert len(store.list(demo_only=True)) == len(DEMO_PARTICIPANTS)
        assert store.meta()["seed"] == "165"
        fam = store.family(store.list(limit=20)[-1].no_kk)
        assert fam and all(m.no_kk == fam[0].no_kk for m in fam)


def test_ensure_db_creates_once_and_keeps_existing(tmp_path):
    path = tmp_path / "sub" / "participants.sqlite"
    assert ensure_db(path) == path and path.exists()
    with ParticipantStore(path) as s:
        s.conn.execute("UPDATE participants SET nama = 'Diubah' WHERE nik = '3273011708850003'")
    ensure_db(path)
    with ParticipantStore(path) as s:
        assert s.by_nik("3273011708850003").nama == "Diubah"
    assert not list(path.parent.glob(".participants-*"))          # no temporary files left behind


def test_default_location_is_ivr_home(monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_HOME", str(tmp_path / "home"))
    with ParticipantStore() as s:
        assert s.path == tmp_path / "home" / "participants.sqlite" and s.count() == 400


def test_refuses_to_touch_files_that_are_not_its_database(tmp_path):
    junk = tmp_path / "notes.sqlite"
    junk.write_text("my notes, not a database\n")
    for action in (lambda: ParticipantStore(junk), lambda: ensure_db(junk), lambda: write_db(junk, replace_existing=True)):
        with pytest.raises(JknDatabaseError, match="not an SQLite database"):
            action()
    assert junk.read_text() == "my notes, not a database\n"
    other = tmp_path / "other.sqlite"
    c = sqlite3.connect(other)
    c.execute("CREATE TABLE mine (x)")
    c.commit()
    c.close()
    with pytest.raises(JknDatabaseError, match="not an ivr JKN database"):
        write_db(other, replace_existing=True)
    with pytest.raises(JknDatabaseError, match="no participants table"):
        ParticipantStore(other)
    with pytest.raises(JknDatabaseError, match="already exists"):
        write_db(tmp_path / "notes.sqlite")


def test_regenerate_in_place_keeps_requests(tmp_path):
    from ivr.jkn.requests import RequestStore

    path = write_db(tmp_path / "p.sqlite", count=30)
    with RequestStore(path) as rs:
        ticket = rs.add("informasi", "selesai", {}, dt.datetime(2026, 11, 23, 9, 0))
    write_db(path, seed=9, count=50, replace_existing=True)
    with ParticipantStore(path) as s:
        assert s.count() == 50 and s.meta()["seed"] == "9"
    with RequestStore(path) as rs:
        assert rs.get(ticket) is not None


def test_two_processes_creating_the_database_at_once_both_use_it(tmp_path):
    """Two `ivr serve` instances of a cluster start together on an empty IVR_HOME: one
    writes the database, the other finds it made meanwhile and uses it (no error)."""
    import subprocess
    import sys

    db = tmp_path / "home" / "participants.sqlite"
    code = "import sys; from ivr.jkn.participants import ensure_db; print(ensure_db(sys.argv[1]))"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in results]
    assert all(out.strip() == str(db) for out, _ in results)
