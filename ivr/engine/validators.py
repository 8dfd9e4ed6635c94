"""Validators a `collect` node can apply to the digits it gathered.

They are pure functions (no I/O), so the engine stays a pure state machine. The domain
rules themselves live in `ivr.jkn.identifiers`; this module only maps the tree's validator
names onto them and returns extra variables a prompt may use (e.g. a formatted date).
"""
from __future__ import annotations

from collections.abc import Callable


def _nik(digits: str) -> dict[str, str]:
    from ivr.jkn.identifiers import validate_nik

    validate_nik(digits)
    return {}


def _card(digits: str) -> dict[str, str]:
    from ivr.jkn.identifiers import validate_card

    validate_card(digits)
    return {}


def _date(digits: str) -> dict[str, str]:
    from ivr.jkn.identifiers import parse_ddmmyyyy

    d = parse_ddmmyyyy(digits)
    return {"tanggal": d.isoformat()}


def _phone(digits: str) -> dict[str, str]:
    if not (digits.startswith("08") and 10 <= len(digits) <= 13):
        raise ValueError("nomor HP harus diawali 08, 10-13 digit")
    return {}


def _kelas(digits: str) -> dict[str, str]:
    if digits not in ("1", "2", "3"):
        raise ValueError("kelas perawatan 1, 2 atau 3")
    return {}


def _npwp(digits: str) -> dict[str, str]:
    # NPWP: 15 digits, or 16 (the NIK serves as NPWP since 2024)
    if len(digits) not in (15, 16):
        raise ValueError("NPWP 15 atau 16 digit")
    return {}


VALIDATORS: dict[str, Callable[[str], dict[str, str]]] = {
    "none": lambda d: {},
    "nik": _nik,
    "card": _card,
    "date": _date,
    "phone": _phone,
    "kelas": _kelas,
    "npwp": _npwp,
}


def validate(name: str, digits: str) -> tuple[bool, dict[str, str]]:
    """(ok, extra variables). Any ValueError from the domain rule means 'invalid'."""
    try:
        return True, VALIDATORS[name](digits)
    except ValueError:
        return False, {}
