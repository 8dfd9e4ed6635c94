"""Validators a `collect` node can apply to the digits it gathered: the one table of them.

They are pure functions (no I/O, no clock), so the engine stays a pure state machine: the
call's date is passed in (`CallSession(tree, today=...)`). The domain rules themselves live in
`ivr.rules.identifiers`, shared with the JKN services; this module maps the tree's validator
names onto them and says which extra variables each sets (e.g. a formatted date). The tree
model, the JSON schema and lint read their names and variables from `VALIDATORS`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ivr.rules.identifiers import (parse_ddmmyyyy, validate_card, validate_kelas, validate_nik, validate_npwp,
                                   validate_phone)

Check = Callable[[str, "dt.date | None"], dict[str, str]]


#: The variable a failed check sets: the rule's reason in Indonesian ("kode provinsi 20 tidak
#: dikenal"), so an `invalid` prompt can say why (`{alasan_tidak_valid}`).
REASON_VAR = "alasan_tidak_valid"


@dataclass(frozen=True)
class Validator:
    """A check on a collect's digits (raises ValueError when they are invalid) and the
    variables it sets beside the collect's own."""

    check: Check
    sets: tuple[str, ...] = ()


def _date(digits: str, today: dt.date | None) -> dict[str, str]:
    return {"tanggal": parse_ddmmyyyy(digits, today).isoformat()}


def _no_vars(rule: Callable[..., object], dated: bool = False) -> Check:
    def check(digits: str, today: dt.date | None) -> dict[str, str]:
        rule(digits, today) if dated else rule(digits)
        return {}
    return check


def _choice(*allowed: str) -> Check:
    def check(digits: str, today: dt.date | None) -> dict[str, str]:
        if digits not in allowed:
            raise ValueError(f"pilihan {digits} tidak tersedia, pilih {', '.join(allowed[:-1])} atau {allowed[-1]}")
        return {}
    return check


VALIDATORS: dict[str, Validator] = {
    "none": Validator(lambda d, today: {}),
    "nik": Validator(_no_vars(validate_nik, dated=True), sets=(REASON_VAR,)),
    "card": Validator(_no_vars(validate_card), sets=(REASON_VAR,)),
    "date": Validator(_date, sets=("tanggal", REASON_VAR)),
    "phone": Validator(_no_vars(validate_phone), sets=(REASON_VAR,)),
    "kelas": Validator(_no_vars(validate_kelas), sets=(REASON_VAR,)),
    "npwp": Validator(_no_vars(validate_npwp), sets=(REASON_VAR,)),
    # a one-key choice among 1-4 inside a collect (the complaint category)
    "pilihan_1_4": Validator(_choice("1", "2", "3", "4"), sets=(REASON_VAR,)),
}
VALIDATOR_NAMES: tuple[str, ...] = tuple(VALIDATORS)


def validate(name: str, digits: str, today: dt.date | None = None) -> tuple[bool, dict[str, str]]:
    """(ok, variables): the extra variables when valid; when invalid, `REASON_VAR` with the
    rule's reason (its `reason_id`, the Indonesian text the identifier rules carry). Any
    ValueError from the domain rule means 'invalid'. `today` is the call's date (a birth date
    after it is invalid); without it only the calendar is checked."""
    try:
        return True, VALIDATORS[name].check(digits, today)
    except ValueError as exc:
        reason = getattr(exc, "reason_id", None) or (str(exc) if name.startswith("pilihan") else "")
        return False, {REASON_VAR: reason}
