"""Synthetic JKN participants in SQLite: generation, look-up, and the rules that read them.

The generator is deterministic: the same seed and count give the same file, byte for byte in
content (row order, NIKs, cards, dates). It writes a fixed set of documented *demo*
participants first (`DEMO_PARTICIPANTS`), whose NIK and date of birth scenarios and demos
type on the keypad, then families sharing a family card (KK) until `count` is reached.

Payment state is stored as the last month paid (`iuran_lunas_sampai`), not as a number of
months in arrears, so the bill follows the date a call is made: the generator aims its
spread of arrears at `REFERENCE_DATE` (2026-11-23, the date the shipped scenarios use).
All names, numbers and addresses are invented; e-mail addresses use example.* domains.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import random
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from ivr.jkn.billing import Month, kelas_ppu
from ivr.jkn.db import (
    JknDatabaseError, OwnsConnection, check_sqlite_file, connect, default_db_path, has_table, ivr_home,
)
from ivr.jkn.identifiers import DATA_DIR, make_nik, virtual_account
from ivr.privacy import private_dir

SCHEMA_VERSION = 1
DEFAULT_SEED = 165
DEFAULT_COUNT = 400
REFERENCE_DATE = dt.date(2026, 11, 23)
JKN_START = dt.date(2014, 1, 1)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    nik TEXT PRIMARY KEY CHECK (length(nik) = 16),
    no_kartu TEXT NOT NULL UNIQUE CHECK (length(no_kartu) = 13),
    no_kk TEXT NOT NULL CHECK (length(no_kk) = 16),
    nama TEXT NOT NULL,
    jenis_kelamin TEXT NOT NULL CHECK (jenis_kelamin IN ('L', 'P')),
    tgl_lahir TEXT NOT NULL,
    hubungan TEXT NOT NULL,
    segmen TEXT NOT NULL CHECK (segmen IN ('PBI', 'PBPU', 'BP', 'PPU')),
    kelas INTEGER NOT NULL CHECK (kelas IN (1, 2, 3)),
    status TEXT NOT NULL CHECK (status IN ('aktif', 'nonaktif')),
    alasan_nonaktif TEXT,
    tgl_daftar TEXT NOT NULL,
    fktp TEXT NOT NULL,
    fktp_sejak TEXT NOT NULL,
    hp TEXT,
    email TEXT,
    alamat TEXT NOT NULL,
    kode_pos TEXT NOT NULL,
    npwp TEXT,
    upah INTEGER,
    pemberi_kerja TEXT,
    iuran_lunas_sampai TEXT,
    iuran_mulai TEXT,
    demo TEXT
);
CREATE INDEX IF NOT EXISTS participants_kk ON participants (no_kk);
"""


@dataclass(frozen=True)
class Participant:
    """One JKN participant (peserta)."""

    nik: str
    no_kartu: str
    no_kk: str
    nama: str
    jenis_kelamin: str              # L / P
    tgl_lahir: dt.date
    hubungan: str                   # kepala keluarga, istri, suami, anak
    segmen: str                     # PBI, PBPU, BP, PPU
    kelas: int                      # 1, 2, 3
    status: str                     # aktif / nonaktif (administrative status)
    alasan_nonaktif: str | None
    tgl_daftar: dt.date
    fktp: str
    fktp_sejak: dt.date
    hp: str | None
    email: str | None
    alamat: str
    kode_pos: str
    npwp: str | None = None
    upah: int | None = None                 # PPU: monthly wage
    pemberi_kerja: str | None = None        # PPU: employer
    iuran_lunas_sampai: Month | None = None  # PBPU/BP: last month paid (None: nothing yet)
    iuran_mulai: Month | None = None        # PBPU/BP: first month owed
    demo: str | None = None                 # key of a documented demo participant

    @property
    def nama_depan(self) -> str:
        return self.nama.split()[0] if self.nama.strip() else ""

    @property
    def self_paying(self) -> bool:
        return self.segmen in ("PBPU", "BP")

    def va(self, bank: str = "BRI") -> str:
        return virtual_account(self.no_kartu, bank)


_DATE_FIELDS = {"tgl_lahir", "tgl_daftar", "fktp_sejak"}
_MONTH_FIELDS = {"iuran_lunas_sampai", "iuran_mulai"}
COLUMNS = [f.name for f in fields(Participant)]


def to_row(p: Participant) -> tuple:
    out = []
    for name in COLUMNS:
        v = getattr(p, name)
        if v is not None and (name in _DATE_FIELDS):
            v = v.isoformat()
        elif v is not None and name in _MONTH_FIELDS:
            v = str(v)
        out.append(v)
    return tuple(out)


def from_row(row: sqlite3.Row) -> Participant:
    kw = {}
    for name in COLUMNS:
        v = row[name]
        if v is not None and name in _DATE_FIELDS:
            v = dt.date.fromisoformat(v)
        elif v is not None and name in _MONTH_FIELDS:
            v = Month.parse(v)
        kw[name] = v
    return Participant(**kw)


# ---- demo participants ------------------------------------------------------------------
@dataclass(frozen=True)
class Demo:
    key: str
    participant: Participant
    expect: str          # what a call on REFERENCE_DATE hears (documentation and tests)


def _demo(key, nik, kartu, nama, jk, lahir, segmen, kelas, daftar, fktp, fktp_sejak, lunas, expect,
          status="aktif", alasan=None, upah=None, pemberi_kerja=None, kota="Kota Jakarta Barat",
          kode_pos="11530") -> Demo:
    p = Participant(
        nik=nik, no_kartu=kartu, no_kk=nik[:6] + "0101150" + nik[-3:], nama=nama, jenis_kelamin=jk,
        tgl_lahir=lahir, hubungan="kepala keluarga", segmen=segmen, kelas=kelas, status=status,
        alasan_nonaktif=alasan, tgl_daftar=daftar, fktp=fktp, fktp_sejak=fktp_sejak,
        hp="0812" + nik[-7:], email=f"{nama.split()[0].lower()}.demo@example.com",
        alamat=f"Jl. Contoh No. {int(nik[-2:])}, RT 001/RW 002, {kota}", kode_pos=kode_pos,
        upah=upah, pemberi_kerja=pemberi_kerja,
        iuran_lunas_sampai=Month.parse(lunas) if lunas else None,
        iuran_mulai=Month.of(daftar) if segmen in ("PBPU", "BP") else None, demo=key)
    return Demo(key, p, expect)


D = dt.date
#: Fixed participants for demos and scenarios; expectations hold on REFERENCE_DATE (2026-11-23).
DEMO_PARTICIPANTS: tuple[Demo, ...] = (
    _demo("aktif", "3174054508900002", "0001987654321", "Siti Rahmawati", "P", D(1990, 8, 5), "PBPU", 3,
          D(2015, 3, 2), "Puskesmas Kecamatan Kebon Jeruk", D(2019, 4, 1), "2026-11",
          "aktif; Kelas 3 PBPU; tagihan Rp0; iuran Rp35.000; jatuh tempo 10 Desember 2026"),
    _demo("menunggak", "3273011708850003", "0001876543210", "Budi Santoso", "L", D(1985, 8, 17), "PBPU", 2,
          D(2016, 5, 10), "Klinik Pratama Sehat Sentosa", D(2020, 1, 6), "2026-08",
          "menunggak 3 bulan (Sep-Nov 2026); status tidak aktif; Kelas 2; tagihan Rp300.000; "
          "jatuh tempo 10 Desember 2026; VA 8888801876543210",
          kota="Kota Bandung", kode_pos="40111"),
    _demo("nonaktif", "3578020201780004", "0001765432109", "Agus Wijaya", "L", D(1978, 1, 2), "PBPU", 1,
          D(2014, 6, 2), "dr. Hendra Gunawan (praktik dokter)", D(2018, 2, 1), "2026-11",
          "nonaktif (data kependudukan belum diperbarui, GILANG); Kelas 1; tagihan Rp0",
          status="nonaktif", alasan="data kependudukan belum diperbarui (GILANG)",
          kota="Kota Surabaya", kode_pos="60111"),
    _demo("pbi", "5171031203620005", "0001654321098", "Wayan Sudarma", "L", D(1962, 3, 12), "PBI", 3,
          D(2014, 1, 1), "Puskesmas Denpasar Selatan I", D(2014, 1, 1), None,
          "aktif; Kelas 3; Penerima Bantuan Iuran; iuran ditanggung pemerintah; tagihan Rp0",
          kota="Kota Denpasar", kode_pos="80221"),
    _demo("ppu", "3201066104880006", "0001543210987", "Dewi Lestari", "P", D(1988, 4, 21), "PPU", 1,
          D(2017, 9, 4), "Klinik Pratama Medika Cibinong", D(2021, 3, 1), None,
          "aktif; Kelas 1 PPU, upah Rp6.000.000: iuran Rp300.000 (pemberi kerja Rp240.000, "
          "pekerja Rp60.000); tagihan Rp0",
          upah=6_000_000, pemberi_kerja="PT Sinar Nusantara Logistik", kota="Kabupaten Bogor", kode_pos="16914"),
    _demo("baru", "3471020911000007", "0001432109876", "Rizky Pratama", "L", D(2000, 11, 9), "PBPU", 2,
          D(2026, 6, 15), "Puskesmas Gondokusuman I", D(2026, 6, 15), "2026-11",
          "aktif; Kelas 2; terdaftar 15 Juni 2026 (< 1 tahun): ganti kelas ditolak; ganti FKTP boleh",
          kota="Kota Yogyakarta", kode_pos="55221"),
    _demo("fktp_baru", "7371056303950008", "0001321098765", "Nur Aini", "P", D(1995, 3, 23), "PBPU", 3,
          D(2018, 2, 12), "Klinik Pratama Ananda", D(2026, 10, 5), "2026-10",
          "menunggak 1 bulan (November 2026, masih dijamin s.d. akhir bulan): status aktif; Kelas 3; "
          "tagihan Rp35.000; FKTP sejak 5 Oktober 2026 (< 3 bulan): ganti FKTP ditolak",
          kota="Kota Makassar", kode_pos="90111"),
    _demo("belum_bayar", "3172031507990009", "0001210987654", "Fajar Hidayat", "L", D(1999, 7, 15), "PBPU", 2,
          D(2026, 11, 23), "Puskesmas Kecamatan Koja", D(2026, 11, 23), None,
          "nonaktif (baru mendaftar 23 November 2026, menunggu iuran pertama); Kelas 2; tagihan Rp100.000, "
          "iuran pertama paling lambat 23 Desember 2026, tidak menunggak",
          status="nonaktif", alasan="menunggu pembayaran iuran pertama", kota="Kota Jakarta Utara",
          kode_pos="14260"),
)


def demo_participants() -> list[Participant]:
    return [d.participant for d in DEMO_PARTICIPANTS]


# ---- generator --------------------------------------------------------------------------
MALE = ("Budi", "Agus", "Andi", "Rudi", "Joko", "Eko", "Hendra", "Dedi", "Bambang", "Slamet", "Ahmad",
        "Muhammad", "Rizky", "Fajar", "Dimas", "Yusuf", "Hadi", "Wahyu", "Arif", "Bayu", "Putu", "Made",
        "Komang", "Yohanes", "Daniel", "Rahmat", "Iwan", "Teguh", "Gilang", "Aditya")
FEMALE = ("Siti", "Sri", "Dewi", "Ani", "Rina", "Nur", "Ratna", "Wulan", "Lestari", "Indah", "Fitri",
          "Ayu", "Putri", "Maya", "Yuni", "Dian", "Rahma", "Kartika", "Novi", "Intan", "Ketut", "Maria",
          "Desi", "Eka", "Tuti", "Wati", "Nabila", "Aisyah", "Citra", "Anisa")
FAMILY = ("Santoso", "Wijaya", "Saputra", "Pratama", "Hidayat", "Kusuma", "Nugroho", "Setiawan",
          "Siregar", "Nasution", "Simanjuntak", "Hutapea", "Lubis", "Harahap", "Sinaga", "Wibowo",
          "Susanto", "Gunawan", "Halim", "Rahman", "Hakim", "Firmansyah", "Kurniawan", "Permana")
STREETS = ("Melati", "Mawar", "Kenanga", "Flamboyan", "Merdeka", "Sudirman", "Diponegoro", "Gatot Subroto",
           "Pahlawan", "Cempaka", "Anggrek", "Veteran", "Ahmad Yani", "Kartini", "Pemuda", "Raya Pasar")
FKTP_KINDS = ("Puskesmas {area}", "Klinik Pratama {name}", "dr. {person} (praktik dokter)",
              "Klinik Pratama {name} {area}", "drg. {person} (praktik dokter gigi)", "RS Kelas D {name}")
CLINIC_NAMES = ("Sehat Sentosa", "Medika", "Bunda", "Husada", "Sejahtera", "Harapan Kita", "Mitra Keluarga",
                "Ananda", "Permata", "Kasih Ibu")
EMPLOYERS = ("PT Sinar Nusantara Logistik", "PT Maju Jaya Abadi", "CV Berkah Mandiri", "PT Bank Sentosa",
             "Dinas Kesehatan", "PT Karya Tekstil Indonesia", "Pemerintah Kota", "PT Telekomunikasi Prima",
             "Sekolah Dasar Negeri", "PT Agro Lestari")
PHONE_PREFIXES = ("0811", "0812", "0813", "0821", "0822", "0852", "0853", "0857", "0878", "0896", "0838", "0881")
NONAKTIF_REASONS = {
    "PBI": "PBI dinonaktifkan oleh Kementerian Sosial",
    "PPU": "pemutusan hubungan kerja, belum beralih segmen",
    "PBPU": "data kependudukan belum diperbarui (GILANG)",
}


def _regencies() -> list[tuple[str, str, int]]:
    with open(DATA_DIR / "regencies.csv", encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return [(r["code"], r["name"], int(r["weight"])) for r in rows]


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:          # 29 February in a non-leap year
        return d.replace(year=d.year + years, day=28)


def _rand_date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    if hi <= lo:
        return lo
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


class _Generator:
    def __init__(self, seed: int, as_of: dt.date):
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.regencies = _regencies()
        self.niks: set[str] = set()
        self.cards: set[str] = set()
        self.kks: set[str] = set()
        for p in demo_participants():
            self.niks.add(p.nik)
            self.cards.add(p.no_kartu)
            self.kks.add(p.no_kk)

    def nik(self, district: str, birth: dt.date, sex: str) -> str:
        for _ in range(10000):
            n = make_nik(district, birth, sex, self.rng.randint(1, 9999))
            if n not in self.niks:
                self.niks.add(n)
                return n
        raise RuntimeError("NIK space exhausted")  # pragma: no cover

    def card(self) -> str:
        # 000 + 10 digits; generated cards start 0001..0008, 0009 is left to new registrations
        while True:
            c = "000" + str(self.rng.randint(1, 8)) + f"{self.rng.randint(0, 999_999_999):09d}"
            if c not in self.cards:
                self.cards.add(c)
                return c

    def kk(self, district: str, issued: dt.date) -> str:
        while True:
            k = f"{district}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{self.rng.randint(1, 9999):04d}"
            if k not in self.kks:
                self.kks.add(k)
                return k

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + "".join(str(self.rng.randint(0, 9))
                                                         for _ in range(self.rng.choice((7, 8))))

    def family(self) -> list[Participant]:
        rng, as_of = self.rng, self.as_of
        code, city, _ = rng.choices(self.regencies, weights=[w for *_, w in self.regencies])[0]
        district = code + f"{rng.randint(1, 30):02d}"
        segmen = rng.choices(("PBI", "PBPU", "PPU"), weights=(35, 35, 30))[0]
        size = rng.choices((1, 2, 3, 4, 5), weights=(30, 20, 20, 20, 10))[0]
        head_sex = "L" if rng.random() < 0.8 else "P"
        head_birth = _rand_date(rng, _add_years(as_of, -70), _add_years(as_of, -25))
        fam_name = rng.choice(FAMILY)
        registered = _rand_date(rng, max(JKN_START, _add_years(head_birth, 18)), as_of - dt.timedelta(days=30))
        kk = self.kk(district, _rand_date(rng, _add_years(head_birth, 20), registered))
        area = city.replace("Kota ", "").replace("Kabupaten ", "")
        fktp = rng.choice(FKTP_KINDS).format(area=f"{area} {rng.choice(('I', 'II', 'Utara', 'Selatan', 'Timur'))}",
                                             name=rng.choice(CLINIC_NAMES),
                                             person=f"{rng.choice(MALE + FEMALE)} {rng.choice(FAMILY)}")
        fktp_since = registered if rng.random() < 0.6 else _rand_date(rng, registered, as_of)
        street = f"Jl. {rng.choice(STREETS)} No. {rng.randint(1, 200)}, RT {rng.randint(1, 15):03d}/RW {rng.randint(1, 12):03d}, {city}"
        kode_pos = f"{rng.randint(10, 99)}{rng.randint(100, 999)}"
        upah = pemberi = None
        if segmen == "PPU":
            upah = rng.choice((2_500_000, 3_000_000, 3_500_000, 4_000_000, 4_500_000, 5_000_000, 6_500_000,
                               8_000_000, 10_000_000, 15_000_000))
            pemberi = rng.choice(EMPLOYERS)
            kelas = kelas_ppu(upah)
        elif segmen == "PBI":
            kelas = 3
        else:
            kelas = rng.choices((1, 2, 3), weights=(20, 30, 50))[0]
        lunas: Month | None = None
        current = Month.of(as_of)
        if segmen == "PBPU":
            r = rng.random()
            if r < 0.50:
                lunas = current
            elif r < 0.60:
                lunas = current.add(rng.randint(1, 3))          # paid ahead
            elif r < 0.70:
                lunas = current.add(-1)                         # this month overdue, still covered
            else:
                lunas = current.add(-rng.choice((2, 2, 3, 3, 4, 5, 6, 9, 12, 18, 24)))  # arrears, suspended
            lunas = max(lunas, Month.of(registered).add(-1))
        status, alasan = "aktif", None
        if rng.random() < 0.08:
            status, alasan = "nonaktif", NONAKTIF_REASONS[segmen]

        members: list[tuple[str, str, dt.date]] = [("kepala keluarga", head_sex, head_birth)]
        if size >= 2:
            spouse_sex = "P" if head_sex == "L" else "L"
            members.append(("istri" if spouse_sex == "P" else "suami", spouse_sex,
                            _rand_date(rng, _add_years(head_birth, -6), min(_add_years(head_birth, 6), _add_years(as_of, -19)))))
        for _ in range(size - len(members)):
            lo = max(_add_years(head_birth, 20), _add_years(as_of, -25))
            members.append(("anak", rng.choice("LP"), _rand_date(rng, lo, as_of - dt.timedelta(days=20))))

        out = []
        for hubungan, sex, birth in members:
            first = rng.choice(MALE if sex == "L" else FEMALE)
            nama = first if rng.random() < 0.25 else f"{first} {fam_name if hubungan != 'istri' else rng.choice(FAMILY)}"
            adult = (as_of - birth).days >= 17 * 365
            daftar = max(registered, birth)
            out.append(Participant(
                nik=self.nik(district, birth, sex), no_kartu=self.card(), no_kk=kk, nama=nama,
                jenis_kelamin=sex, tgl_lahir=birth, hubungan=hubungan, segmen=segmen, kelas=kelas,
                status=status, alasan_nonaktif=alasan, tgl_daftar=daftar, fktp=fktp,
                fktp_sejak=max(fktp_since, daftar), hp=self.phone() if adult else None,
                email=(f"{first.lower()}.{fam_name.lower()}{rng.randint(1, 99)}@example.{rng.choice(('com', 'net', 'org'))}"
                       if adult and rng.random() < 0.6 else None),
                alamat=street, kode_pos=kode_pos,
                npwp=(f"{rng.randint(10**14, 10**15 - 1)}" if hubungan == "kepala keluarga" and segmen == "PPU" else None),
                upah=upah if hubungan == "kepala keluarga" else None,
                pemberi_kerja=pemberi if hubungan == "kepala keluarga" else None,
                iuran_lunas_sampai=lunas, iuran_mulai=Month.of(registered) if segmen == "PBPU" else None))
        return out


def generate(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT, as_of: dt.date = REFERENCE_DATE) -> list[Participant]:
    """The demo participants, then generated families, `count` people in all."""
    demos = demo_participants()
    if count < len(demos):
        raise ValueError(f"count must be at least {len(demos)} (the demo participants)")
    gen = _Generator(seed, as_of)
    people = list(demos)
    while len(people) < count:
        fam = gen.family()
        people.extend(fam[: count - len(people)])
    return people


# ---- storage ----------------------------------------------------------------------------
def _insert_all(conn: sqlite3.Connection, people: list[Participant], meta: dict[str, str]) -> None:
    marks = ", ".join("?" for _ in COLUMNS)
    conn.executemany(f"INSERT INTO participants ({', '.join(COLUMNS)}) VALUES ({marks})", [to_row(p) for p in people])
    conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items()))


def _meta(seed: int, count: int, as_of: dt.date) -> dict[str, str]:
    return {"schema_version": str(SCHEMA_VERSION), "seed": str(seed), "count": str(count),
            "as_of": as_of.isoformat(), "generator": "ivr.jkn.participants"}


def write_db(path: str | Path, seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT,
             as_of: dt.date = REFERENCE_DATE, replace_existing: bool = False) -> Path:
    """Create the participants database at `path`.

    A new file is built beside the target and linked into place, so a reader never sees a
    half-written file and two processes creating it at once cannot clobber each other.
    With `replace_existing`, an existing *JKN* database has its participants replaced in one
    transaction (requests stored in it are kept); any other existing file is refused.
    """
    p = Path(path)
    people = generate(seed, count, as_of)
    meta = _meta(seed, count, as_of)
    if p.exists():
        if not replace_existing:
            raise JknDatabaseError(f"{p} already exists (use --force to regenerate its participants)")
        conn = connect(p)
        try:
            if not has_table(conn, "participants"):
                raise JknDatabaseError(f"{p} is an SQLite file but not an ivr JKN database; left untouched")
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM participants")
                _insert_all(conn, people, meta)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()
        return p
    private_dir(p.parent, tighten=p.parent == ivr_home())   # personal data: a 0700 folder
    fd, tmp = tempfile.mkstemp(prefix=".participants-", suffix=".sqlite.tmp", dir=p.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        conn = connect(tmp, must_exist=False, wal=False)
        try:
            _populate(conn, people, meta)
        finally:
            conn.close()
        try:
            os.link(tmp, p)                 # atomic, and fails if someone created p meanwhile
        except FileExistsError:
            pass
        except OSError:                     # file system without hard links
            if not p.exists():
                os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def _populate(conn: sqlite3.Connection, people: list[Participant], meta: dict[str, str]) -> None:
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    _insert_all(conn, people, meta)
    conn.execute("COMMIT")


def memory_db(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT, as_of: dt.date = REFERENCE_DATE) -> sqlite3.Connection:
    """A private in-memory database with the same content as `write_db` would write: for
    tests and scenario runs that must not see (or leave) changes from earlier runs."""
    key = (seed, count, as_of)
    template = _MEMORY_TEMPLATES.get(key)
    if template is None:   # built once per process; each caller gets a copy (0.2 ms, not 40)
        template = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        _populate(template, generate(seed, count, as_of), _meta(seed, count, as_of))
        _MEMORY_TEMPLATES[key] = template
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    template.backup(conn)
    return conn


#: (seed, count, as_of) -> a populated in-memory database that is only ever copied from
#: (scenario runs and the scenario generator open hundreds of private copies).
_MEMORY_TEMPLATES: dict[tuple, sqlite3.Connection] = {}


def ensure_db(path: str | Path | None = None) -> Path:
    """The database path, created with the default seed and count if missing."""
    p = Path(path) if path else default_db_path()
    if not p.exists():
        try:
            write_db(p)
            return p
        except JknDatabaseError:
            if not p.exists():
                raise
            # another process (a second `ivr serve` of a cluster) created it meanwhile: use it
    check_sqlite_file(p)
    return p


class ParticipantStore(OwnsConnection):
    """Look-ups (and the few updates agents make) on the participants table."""

    def __init__(self, path: str | Path | None = None, conn: sqlite3.Connection | None = None):
        if conn is None:
            self.path = ensure_db(path)
            conn = connect(self.path)
        else:
            self.path = Path(path) if path else None
        self.conn = conn
        if not has_table(conn, "participants"):
            raise JknDatabaseError(f"{self.path}: no participants table (not an ivr JKN database?)")

    def _one(self, sql: str, args: tuple) -> Participant | None:
        row = self.conn.execute(sql, args).fetchone()
        return from_row(row) if row else None

    def by_nik(self, nik: str) -> Participant | None:
        return self._one("SELECT * FROM participants WHERE nik = ?", (nik.strip(),))

    def by_card(self, card: str) -> Participant | None:
        return self._one("SELECT * FROM participants WHERE no_kartu = ?", (card.strip(),))

    def lookup(self, key: str) -> Participant | None:
        """By NIK (16 digits) or card number (13 digits)."""
        k = key.strip()
        return self.by_nik(k) if len(k) == 16 else self.by_card(k) if len(k) == 13 else None

    def family(self, no_kk: str) -> list[Participant]:
        rows = self.conn.execute("SELECT * FROM participants WHERE no_kk = ? ORDER BY rowid", (no_kk,))
        return [from_row(r) for r in rows]

    def head_of(self, p: Participant) -> Participant:
        for m in self.family(p.no_kk):
            if m.hubungan == "kepala keluarga":
                return m
        return p

    def list(self, segmen: str | None = None, status: str | None = None, demo_only: bool = False,
             limit: int | None = None) -> list[Participant]:
        sql, args = "SELECT * FROM participants WHERE 1 = 1", []
        if segmen:
            sql += " AND segmen = ?"
            args.append(segmen.upper())
        if status:
            sql += " AND status = ?"
            args.append(status)
        if demo_only:
            sql += " AND demo IS NOT NULL"
        sql += " ORDER BY rowid"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [from_row(r) for r in self.conn.execute(sql, args)]

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM participants").fetchone()[0]

    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM meta")}

    # -- writes: callers own the transaction (see RequestStore.add(within=...)) ----------
    def insert(self, p: Participant) -> None:
        marks = ", ".join("?" for _ in COLUMNS)
        self.conn.execute(f"INSERT INTO participants ({', '.join(COLUMNS)}) VALUES ({marks})", to_row(p))

    def update(self, nik: str, **changes) -> None:
        bad = set(changes) - set(COLUMNS) - {"nik"}
        if bad or "nik" in changes:
            raise ValueError(f"cannot update {sorted(bad | ({'nik'} & set(changes)))}")
        current = self.by_nik(nik)
        if current is None:
            raise ValueError(f"no participant with NIK {nik[:4]}********{nik[-4:]}")
        dummy = replace(current, **changes)
        row = dict(zip(COLUMNS, to_row(dummy)))
        sets = ", ".join(f"{k} = ?" for k in changes)
        self.conn.execute(f"UPDATE participants SET {sets} WHERE nik = ?", [row[k] for k in changes] + [nik])

    def next_card_number(self) -> str:
        """A card number never issued: new registrations use the 0009 block, counting up."""
        row = self.conn.execute("SELECT MAX(no_kartu) FROM participants WHERE no_kartu LIKE '0009%'").fetchone()
        n = int(row[0][4:]) + 1 if row and row[0] else 1
        return f"0009{n:09d}"


def participant_dict(p: Participant) -> dict:
    d = asdict(p)
    for k in _DATE_FIELDS:
        d[k] = d[k].isoformat()
    for k in _MONTH_FIELDS:
        d[k] = str(getattr(p, k)) if getattr(p, k) else None
    return d
