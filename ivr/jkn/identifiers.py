"""Identifiers a caller types on the keypad (NIK, card number, dates) and virtual accounts.

The rules live in `ivr.rules.identifiers` (one definition, shared with the call engine's
validators); this module is their public name for the JKN side, and the one place where a
missing date means "the machine's date": the JKN edge may read the clock, the rules may not.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from ivr.rules import identifiers as _rules
from ivr.rules.identifiers import (  # noqa: F401  (re-exported: the public names)
    CARD_LENGTH, EARLIEST_BIRTH_YEAR, FEMALE_DAY_OFFSET, KELAS, NIK_LENGTH, VA_PREFIX, InvalidCard, InvalidDate,
    InvalidIdentifier, InvalidNik, InvalidValue, NikInfo, Province, format_ddmmyyyy, make_nik, nik_birth_digits,
    nik_matches_birth_date, parse_ddmmyyyy, provinces, validate_card, validate_kelas, validate_npwp,
    validate_phone, virtual_account,
)

#: The JKN data files (regencies for the synthetic participants).
DATA_DIR = Path(__file__).resolve().parent / "data"


def validate_nik(nik: str, today: dt.date | None = None) -> NikInfo:
    """`ivr.rules.identifiers.validate_nik` on `today` (default: the machine's date)."""
    return _rules.validate_nik(nik, today or dt.date.today())


def is_valid_nik(nik: str, today: dt.date | None = None) -> bool:
    """`ivr.rules.identifiers.is_valid_nik` on `today` (default: the machine's date)."""
    return _rules.is_valid_nik(nik, today or dt.date.today())
