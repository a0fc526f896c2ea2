"""Bank holidays of a roster: the region's public holidays plus the roster's own.

Carers who do not work bank holidays are off, and calls marked ``on_bank_holidays=False``
(a day centre's transport, a weekly shop) do not happen. The region's holidays come
from the ``holidays`` package (substitute days included: Boxing Day 2026 falls on a
Saturday, so Monday 28 December is a holiday too); ``Roster.extra_holidays`` adds local
ones. A region's holidays are computed once per year and kept, as generating a year of
days asks about every date.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from .model import BankHolidayRegion, Roster

__all__ = ["EXTRA_HOLIDAY", "REGION_CODES", "bank_holidays", "is_bank_holiday", "region_holidays"]

REGION_CODES: Mapping[str, str] = MappingProxyType(
    {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern-ireland": "NIR"}
)
"""The ``holidays`` package's subdivision of the United Kingdom for each region."""

EXTRA_HOLIDAY = "local holiday"
"""The name given to a date of ``Roster.extra_holidays`` that is not a region holiday."""


@functools.lru_cache(maxsize=256)
def region_holidays(region: BankHolidayRegion, year: int) -> Mapping[dt.date, str]:
    """The region's bank holidays in ``year``, by date (read-only; cached per region and year).

    ``holidays`` is imported here, on first use: importing it costs a twentieth of a second."""
    import holidays

    try:
        code = REGION_CODES[region]
    except KeyError:
        raise ValueError(f"unknown bank holiday region {region!r} (one of {', '.join(REGION_CODES)})") from None
    calendar = holidays.country_holidays("GB", subdiv=code, years=year)
    return MappingProxyType({day: str(name) for day, name in sorted(calendar.items()) if day.year == year})


def bank_holidays(roster: Roster, years: int | Iterable[int]) -> dict[dt.date, str]:
    """The roster's bank holidays in ``years`` with their names, in date order: its
    region's (none when ``Roster.bank_holidays`` is None) and its extra holidays."""
    wanted = {years} if isinstance(years, int) else set(years)
    found: dict[dt.date, str] = {}
    if roster.bank_holidays is not None:
        for year in wanted:
            found.update(region_holidays(roster.bank_holidays, year))
    for day in roster.extra_holidays:
        if day.year in wanted:
            found.setdefault(day, EXTRA_HOLIDAY)
    return dict(sorted(found.items()))


def is_bank_holiday(roster: Roster, date: dt.date) -> bool:
    """Whether ``date`` is one of the roster's bank holidays."""
    if date in roster.extra_holidays:
        return True
    return roster.bank_holidays is not None and date in region_holidays(roster.bank_holidays, date.year)
