"""Local wall-clock times as instants, across daylight-saving changes.

A day's problem counts minutes after local midnight, which is what carers and clients
read on a clock. Rules that span days (11 hours' rest between one day's end and the
next day's start) must count the hours that really pass: the night the clocks go
forward is an hour shorter. On that day local times in the skipped hour do not exist and
are read as the clock shows them (an hour later); on the day the clocks go back the
repeated hour is read at its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

__all__ = ["day_minutes", "instant", "minutes_between", "skipped_minutes"]

UTC = dt.UTC


def instant(zone: zoneinfo.ZoneInfo, date: dt.date, minutes: float) -> dt.datetime:
    """The UTC instant of ``minutes`` after local midnight of ``date`` on the local clock
    (minutes past 24:00 run into the next date)."""
    days, rest = divmod(float(minutes), 24 * 60)
    local = dt.datetime.combine(date + dt.timedelta(days=int(days)), dt.time(), tzinfo=zone) + dt.timedelta(
        minutes=rest
    )
    # Adding a timedelta to an aware datetime is wall-clock arithmetic; normalise through
    # UTC so a time in the skipped hour lands where the clock shows it (fold=0 otherwise).
    return local.astimezone(UTC)


def minutes_between(zone: zoneinfo.ZoneInfo, first: tuple[dt.date, float], second: tuple[dt.date, float]) -> float:
    """Real minutes from one local (date, minutes) to another (negative if earlier)."""
    return (instant(zone, *second) - instant(zone, *first)).total_seconds() / 60.0


def day_minutes(zone: zoneinfo.ZoneInfo, date: dt.date) -> float:
    """How long ``date`` really lasts: 1,440 minutes, 1,380 when the clocks go forward,
    1,500 when they go back."""
    return minutes_between(zone, (date, 0.0), (date + dt.timedelta(days=1), 0.0))


def skipped_minutes(zone: zoneinfo.ZoneInfo, date: dt.date, minutes: float) -> float:
    """How far the clock moves a local time that does not exist on ``date`` (the hour the
    clocks go forward): 0 for an ordinary time, else the minutes to add to it."""
    days, rest = divmod(float(minutes), 24 * 60)
    naive = dt.datetime.combine(date + dt.timedelta(days=int(days)), dt.time()) + dt.timedelta(minutes=rest)
    shown = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return (shown - naive).total_seconds() / 60.0
