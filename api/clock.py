"""The service's one clock: "now" for every day, in the days' time zone.

Phones stamp check-ins with their own clocks, which drift and are sometimes simply
wrong; the service never takes their word for what time it is. Events are recorded at
the service's time, a stamp later than it (beyond ``clock_drift_minutes``) is refused,
and a replan runs at the service's time when it starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .config import Settings


@dataclass(frozen=True)
class ServiceClock:
    """The real clock in ``timezone``, or one standing still at ``frozen_at`` (tests,
    training, demonstrations). Small and picklable: the worker process gets a copy."""

    timezone: str = "Europe/London"
    frozen_at: dt.datetime | None = None

    @classmethod
    def of(cls, settings: Settings) -> ServiceClock:
        return cls(settings.timezone, settings.frozen_clock)

    def now(self) -> dt.datetime:
        """Now, with the time zone's offset."""
        zone = ZoneInfo(self.timezone)
        if self.frozen_at is None:
            return dt.datetime.now(zone)
        frozen = self.frozen_at if self.frozen_at.tzinfo is not None else self.frozen_at.replace(tzinfo=zone)
        return frozen.astimezone(zone)

    def minutes(self, date: str) -> float:
        """Now, for events on ``date``: the time of day if it is today, the day's start if
        it is still to come, its end if it has passed."""
        now = self.now()
        day = dt.date.fromisoformat(date)
        if day > now.date():
            return 0.0
        if day < now.date():
            return 24 * 60.0
        return now.hour * 60 + now.minute + now.second / 60
