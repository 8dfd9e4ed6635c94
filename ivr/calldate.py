"""The date a call runs on: `--today` (ivr call, serve, participants, test --generate) and a
scenario file's `today:`. One rule for all of them, here, because they drifted apart when each
parsed the value itself: a scenario's `today: 9999-12-31` was taken while `--today 9999-12-31`
was refused, and its calls then went down the 'gangguan' (outage) branch (the billing code
raised ValueError past year 9999, which the services report as a back-end failure).

A leaf module (imports nothing from ivr): the command line and the scenario loader each put
their own 'where' (`--today:`, `file:line: today:`) in front of the one message.
"""
from __future__ import annotations

import datetime as dt
import re

#: The years the JKN rules can compute with: due dates and periods a year or more ahead of
#: the call must stay inside the calendar (9999-12-31 is its last day).
MIN_YEAR, MAX_YEAR = 1900, 2999
EXPECTED = "YYYY-MM-DD"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class CallDateError(ValueError):
    """A value that is not a call date; the message says what it got and what was expected."""


def parse_call_date(value: object) -> dt.date:
    """`value` (text, or the date object YAML makes of an unquoted date) as the call's date.
    Only YYYY-MM-DD: Python's fromisoformat also takes 20261123 and 2026-W48-1, which nobody
    means as a date here, and a YAML date-time (2026-11-23 10:00) is not a day either."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    else:
        text = value if isinstance(value, str) else str(value)
        try:
            if not _ISO_DAY.fullmatch(text):
                raise ValueError(text)
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise CallDateError(f"'{_shown(text)}' is not a date (expected {EXPECTED})") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise CallDateError(f"'{day.isoformat()}' is out of range (years {MIN_YEAR}-{MAX_YEAR})")
    return day


def _shown(text: str, limit: int = 40) -> str:
    """The refused value on one short line (a YAML value may hold newlines or be long)."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
