"""The dates the service plans: one reading of a date in a path or query, one range.

A date outside the range is a mistake (0001-01-01, 9999-12-31), and a date that is not
YYYY-MM-DD (2027-1-4, 20270104) is refused rather than guessed.
"""

from __future__ import annotations

import datetime as dt

from carescheduler import InputError

EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
"""The days a care service can plan."""


def parse_date(text: str, field: str) -> dt.date:
    """``text`` as a date the service plans; an ``InputError`` naming ``field`` otherwise."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(field, f"{text!r} is not a calendar date (YYYY-MM-DD)") from None
    if len(text) != 10:
        raise InputError(field, f"{text!r} is not written YYYY-MM-DD")
    if not EARLIEST <= day <= LATEST:
        raise InputError(field, f"{day} is outside the days this service plans ({EARLIEST} to {LATEST})")
    return day
