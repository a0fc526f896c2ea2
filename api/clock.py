"""The service's sense of "now" for a day: minutes after midnight in its time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from .config import Settings


def minutes_now(date: str, settings: Settings) -> float:
    """Now, for events on ``date``: the time of day if it is today, the day's start if it
    is still to come, its end if it has passed."""
    now = dt.datetime.now(ZoneInfo(settings.timezone))
    day = dt.date.fromisoformat(date)
    if day > now.date():
        return 0.0
    if day < now.date():
        return 24 * 60.0
    return now.hour * 60 + now.minute + now.second / 60
