"""Local wall-clock minutes as instants: what the clock shows against the time that passes.

Europe/London goes forward at 01:00 GMT on 29 March 2026 (01:00 becomes 02:00) and back at
02:00 BST on 25 October 2026 (02:00 becomes 01:00). Expected instants are written in UTC
by hand from those rules.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from carescheduler.roster.local_time import day_minutes, instant, minutes_between, skipped_minutes

LONDON = zoneinfo.ZoneInfo("Europe/London")
UTC = dt.UTC


def test_winter_and_summer_instants_are_the_clock_less_the_offset() -> None:
    assert instant(LONDON, dt.date(2026, 1, 15), 8 * 60) == dt.datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    assert instant(LONDON, dt.date(2026, 7, 15), 8 * 60) == dt.datetime(2026, 7, 15, 7, 0, tzinfo=UTC)


def test_minutes_past_midnight_run_into_the_next_date() -> None:
    assert instant(LONDON, dt.date(2026, 1, 15), 25 * 60 + 30) == dt.datetime(2026, 1, 16, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("date", "minutes"),
    [(dt.date(2026, 3, 29), 1380.0), (dt.date(2026, 3, 30), 1440.0), (dt.date(2026, 10, 25), 1500.0)],
)
def test_day_lengths(date: dt.date, minutes: float) -> None:
    assert day_minutes(LONDON, date) == minutes


def test_the_night_the_clocks_go_forward_is_an_hour_shorter() -> None:
    # 22:00 Saturday to 08:30 Sunday reads 10.5 hours on the clock; 9.5 hours pass
    assert minutes_between(LONDON, (dt.date(2026, 3, 28), 22 * 60), (dt.date(2026, 3, 29), 8 * 60 + 30)) == 570.0
    # and the night the clocks go back is an hour longer
    assert minutes_between(LONDON, (dt.date(2026, 10, 24), 22 * 60), (dt.date(2026, 10, 25), 8 * 60 + 30)) == 690.0


def test_a_skipped_time_reads_as_the_clock_shows_it() -> None:
    spring = dt.date(2026, 3, 29)
    assert skipped_minutes(LONDON, spring, 60 + 30) == 60.0  # 01:30 does not exist: the clock shows 02:30
    assert skipped_minutes(LONDON, spring, 3 * 60) == 0.0
    assert skipped_minutes(LONDON, dt.date(2026, 3, 28), 60 + 30) == 0.0
    assert instant(LONDON, spring, 60 + 30) == instant(LONDON, spring, 2 * 60 + 30)
    assert instant(LONDON, spring, 2 * 60 + 30) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_repeated_hour_reads_as_its_first_occurrence() -> None:
    autumn = dt.date(2026, 10, 25)
    assert instant(LONDON, autumn, 60 + 30) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert minutes_between(LONDON, (autumn, 60), (autumn, 3 * 60)) == 180.0
