"""Identifiers and values a caller types on the keypad: NIK, JKN-KIS card number, dates,
phone number, care class, NPWP; virtual accounts.

The one definition of each rule, shared by the call engine's validators (while the caller
types) and the JKN services (when an agent or a look-up checks the same value). Pure: nothing
here reads the clock (the date a rule needs is passed in) or a file at call time (the
province table is read once, at import).

Rules (DOMAIN.md, "Identifiers"):
  * NIK: 16 digits `PP RR SS DDMMYY NNNN`: province (from data/provinces.csv), regency/city,
    district, birth date (women: day + 40), serial from 0001.
  * card number: 13 digits, no public checksum (so only length and digits are checked).
  * virtual account: 88888 + last 11 digits of the card (BRI, BNI, BTN, BCA);
    89888 + the same 11 digits for Mandiri.
  * dates of birth are typed as DDMMYYYY.
  * phone number (Mobile JKN login, callbacks): 08..., 10 to 13 digits.
  * care class: 1, 2 or 3.  NPWP: 15 digits, or 16 (the NIK serves as NPWP since 2024).

Errors carry a short reason in Indonesian (for prompts, agents) and in English (for logs and
developers), so a caller hears *why* a NIK was refused and a test can check the exact reason.
All errors are `ValueError`s: the engine's validators treat any ValueError as "invalid".
"""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

NIK_LENGTH = 16
CARD_LENGTH = 13
VA_PREFIX = {"BRI": "88888", "BNI": "88888", "BTN": "88888", "BCA": "88888", "MANDIRI": "89888"}
FEMALE_DAY_OFFSET = 40
#: Nobody alive was born before this; a NIK or DOB claiming so is a typo.
EARLIEST_BIRTH_YEAR = 1900
PHONE_PREFIX = "08"
PHONE_LENGTHS = (10, 13)          # shortest and longest mobile number
KELAS = (1, 2, 3)
NPWP_LENGTHS = (15, 16)


class InvalidIdentifier(ValueError):
    """An identifier the rules refuse. `code` is stable (for tests and logs), `reason_id` is
    what an Indonesian prompt or agent says, `reason_en` a short English gloss."""

    kind = "identifier"

    def __init__(self, code: str, reason_id: str, reason_en: str):
        super().__init__(f"{reason_id} ({reason_en})")
        self.code = code
        self.reason_id = reason_id
        self.reason_en = reason_en


class InvalidNik(InvalidIdentifier):
    kind = "nik"


class InvalidCard(InvalidIdentifier):
    kind = "card"


class InvalidDate(InvalidIdentifier):
    kind = "date"


@dataclass(frozen=True)
class Province:
    code: str
    name: str


def _load_provinces(path: Path) -> dict[str, Province]:
    out: dict[str, Province] = {}
    with open(path, encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            code = row["code"].strip()
            out[code] = Province(code, row["name"].strip())
    return out


#: Read once at import: validating a NIK never touches the disk.
PROVINCES: dict[str, Province] = _load_provinces(DATA_DIR / "provinces.csv")


def provinces() -> dict[str, Province]:
    """Province table keyed by the 2-digit Kemendagri code (the NIK's first two digits)."""
    return PROVINCES


@dataclass(frozen=True)
class NikInfo:
    """What a valid NIK tells about its holder."""

    nik: str
    province: Province
    regency_code: str       # PPRR
    district_code: str      # PPRRSS
    birth_date: dt.date
    sex: str                # "L" (laki-laki) or "P" (perempuan)
    serial: int

    @property
    def is_female(self) -> bool:
        return self.sex == "P"


def _digits(value: str, length: int, exc: type[InvalidIdentifier], what_id: str, what_en: str) -> str:
    s = (value or "").strip()
    if not s:
        raise exc("kosong", f"{what_id} belum diisi", f"{what_en} is empty")
    if not s.isascii() or not s.isdigit():
        raise exc("bukan_angka", f"{what_id} hanya boleh berisi angka", f"{what_en} must contain digits only")
    if len(s) != length:
        raise exc("panjang", f"{what_id} harus {length} digit, bukan {len(s)}",
                  f"{what_en} must be {length} digits, got {len(s)}")
    return s


def _resolve_year(yy: int, month: int, day: int, today: dt.date) -> dt.date | None:
    """A NIK holds a 2-digit year: take the latest century that gives a real date not after
    `today` (a 2024 birth, not 1924; a 1990 birth, not 2090)."""
    for century in (2000, 1900):
        year = century + yy
        try:
            d = dt.date(year, month, day)
        except ValueError:
            continue
        if d <= today and year >= EARLIEST_BIRTH_YEAR:
            return d
    return None


def validate_nik(nik: str, today: dt.date | None = None) -> NikInfo:
    """Check a NIK and decode it, or raise `InvalidNik` with the specific reason.

    `today` decides the century of the 2-digit birth year and rejects births in the future.
    Without it (a caller that knows no date) only the calendar is checked, and the decoded
    year is the latest the two digits allow: pass the date whenever the birth date matters.
    """
    today = today or dt.date.max
    s = _digits(nik, NIK_LENGTH, InvalidNik, "NIK", "NIK")
    prov = PROVINCES.get(s[:2])
    if prov is None:
        raise InvalidNik("provinsi", f"kode provinsi {s[:2]} tidak dikenal", f"unknown province code {s[:2]}")
    if s[2:4] == "00":
        raise InvalidNik("kabupaten", "kode kabupaten/kota tidak boleh 00", "regency code must not be 00")
    if s[4:6] == "00":
        raise InvalidNik("kecamatan", "kode kecamatan tidak boleh 00", "district code must not be 00")
    day, month, yy = int(s[6:8]), int(s[8:10]), int(s[10:12])
    sex = "L"
    if day > FEMALE_DAY_OFFSET:
        sex, day = "P", day - FEMALE_DAY_OFFSET
    if not 1 <= month <= 12:
        raise InvalidNik("bulan_lahir", f"bulan lahir {s[8:10]} tidak valid", f"birth month {s[8:10]} is invalid")
    if not 1 <= day <= 31:
        raise InvalidNik("tanggal_lahir", f"tanggal lahir {s[6:8]} tidak valid "
                         "(perempuan: tanggal ditambah 40)", f"birth day {s[6:8]} is invalid (women: day + 40)")
    birth = _resolve_year(yy, month, day, today)
    if birth is None:
        # the date does not exist (31 April, 29 February of a non-leap year) or lies in the future
        exists = any(_exists(c + yy, month, day) for c in (1900, 2000))
        if exists:
            raise InvalidNik("tanggal_masa_depan", "tanggal lahir pada NIK belum terjadi",
                             "birth date in the NIK is in the future")
        raise InvalidNik("tanggal_lahir", f"tanggal lahir {day:02d}-{month:02d} tidak ada di kalender",
                         f"birth date {day:02d}-{month:02d} does not exist")
    serial = int(s[12:])
    if serial < 1:
        raise InvalidNik("nomor_urut", "nomor urut NIK dimulai dari 0001", "NIK serial starts at 0001")
    return NikInfo(s, prov, s[:4], s[:6], birth, sex, serial)


def _exists(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
        return True
    except ValueError:
        return False


def is_valid_nik(nik: str, today: dt.date | None = None) -> bool:
    try:
        validate_nik(nik, today)
        return True
    except InvalidNik:
        return False


def nik_birth_digits(birth_date: dt.date, sex: str) -> str:
    """The DDMMYY block of a NIK for this birth date and sex (women: day + 40)."""
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == "P" else 0)
    return f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"


def make_nik(district_code: str, birth_date: dt.date, sex: str, serial: int) -> str:
    """Build a NIK (used by the synthetic data generator and tests)."""
    if len(district_code) != 6 or not district_code.isdigit():
        raise ValueError(f"district code must be 6 digits: {district_code!r}")
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1..9999: {serial}")
    return f"{district_code}{nik_birth_digits(birth_date, sex)}{serial:04d}"


def nik_matches_birth_date(info: NikInfo, birth_date: dt.date) -> bool:
    """Whether a typed date of birth agrees with the one encoded in the NIK (day, month and
    the 2-digit year: the century in the NIK is ambiguous)."""
    b = info.birth_date
    return (b.day, b.month, b.year % 100) == (birth_date.day, birth_date.month, birth_date.year % 100)


def validate_card(card: str) -> str:
    """A JKN-KIS card number: 13 digits. There is no public checksum, so nothing more can be
    checked offline; the look-up decides whether it exists."""
    return _digits(card, CARD_LENGTH, InvalidCard, "Nomor kartu JKN", "card number")


def virtual_account(card: str, bank: str = "BRI") -> str:
    """The payment virtual account for a card: 88888 + last 11 digits (BRI, BNI, BTN, BCA),
    89888 + last 11 digits (Mandiri)."""
    s = validate_card(card)
    prefix = VA_PREFIX.get(bank.strip().upper())
    if prefix is None:
        raise ValueError(f"unknown bank {bank!r}; known: {', '.join(sorted(VA_PREFIX))}")
    return prefix + s[-11:]


def parse_ddmmyyyy(value: str, today: dt.date | None = None) -> dt.date:
    """A date typed on the keypad as DDMMYYYY. With `today`, a date after today is refused
    (nobody is born tomorrow); years before 1900 are always refused."""
    s = (value or "").strip()
    if not s:
        raise InvalidDate("kosong", "tanggal belum diisi", "date is empty")
    if not s.isascii() or not s.isdigit():
        raise InvalidDate("bukan_angka", "tanggal hanya boleh berisi angka", "date must contain digits only")
    if len(s) != 8:
        raise InvalidDate("panjang", f"tanggal harus 8 digit (DDMMYYYY), bukan {len(s)}",
                          f"date must be 8 digits DDMMYYYY, got {len(s)}")
    day, month, year = int(s[:2]), int(s[2:4]), int(s[4:])
    if not 1 <= month <= 12:
        raise InvalidDate("bulan", f"bulan {s[2:4]} tidak valid", f"month {s[2:4]} is invalid")
    try:
        d = dt.date(year, month, day)
    except ValueError:
        raise InvalidDate("tanggal", f"tanggal {s[:2]}-{s[2:4]}-{s[4:]} tidak ada di kalender",
                          f"{s[:2]}-{s[2:4]}-{s[4:]} is not a calendar date") from None
    if year < EARLIEST_BIRTH_YEAR:
        raise InvalidDate("tahun", f"tahun {year} terlalu lampau", f"year {year} is too early")
    if today is not None and d > today:
        raise InvalidDate("masa_depan", "tanggal belum terjadi", "date is in the future")
    return d


def format_ddmmyyyy(d: dt.date) -> str:
    return f"{d.day:02d}{d.month:02d}{d.year:04d}"


# ---- values typed for agents ---------------------------------------------------------------
class InvalidValue(InvalidIdentifier):
    kind = "value"


def validate_phone(hp: str) -> str:
    """A mobile number: digits, starting 08, 10 to 13 digits long."""
    s = (hp or "").strip()
    lo, hi = PHONE_LENGTHS
    if not (s.isascii() and s.isdigit() and s.startswith(PHONE_PREFIX) and lo <= len(s) <= hi):
        raise InvalidValue("hp", f"nomor HP harus diawali {PHONE_PREFIX}, {lo} sampai {hi} digit",
                           f"phone number must start with {PHONE_PREFIX} and have {lo}-{hi} digits")
    return s


def validate_kelas(value: str | int) -> int:
    """A care class typed as one key: 1, 2 or 3."""
    s = str(value).strip()
    if s not in {str(k) for k in KELAS}:
        raise InvalidValue("kelas", "kelas perawatan harus 1, 2 atau 3", f"care class must be 1, 2 or 3, not {s!r}")
    return int(s)


def validate_npwp(npwp: str) -> str:
    """NPWP: 15 digits, or 16 (the NIK serves as NPWP since 2024)."""
    s = (npwp or "").strip()
    if not (s.isascii() and s.isdigit() and len(s) in NPWP_LENGTHS):
        raise InvalidValue("npwp", "NPWP harus 15 atau 16 digit", "NPWP must have 15 or 16 digits")
    return s
