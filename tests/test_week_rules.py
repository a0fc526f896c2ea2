"""The weekly rules: 11 hours' rest between days, in real time, and 48 hours a week.

Plans are written by hand on small days where travel is planar (x/y units are minutes), so
every leaving and getting home, rest and weekly total below is worked out from the
coordinates and the visit times, not taken from running the code.
"""

from __future__ import annotations

import datetime as dt

import pytest

from carescheduler.domain import Problem
from carescheduler.errors import InputError
from carescheduler.plan import Plan, PlannedVisit, Route
from carescheduler.roster import Roster, validate_week
from carescheduler.roster.history import CareHistory
from carescheduler.roster.week_rules import route_times

FRI, SAT, SUN = dt.date(2026, 3, 27), dt.date(2026, 3, 28), dt.date(2026, 3, 29)  # clocks go forward on SUN
TRAVEL = 10.0  # the client lives 10 minutes from the carer's home


def roster(**rules: float) -> Roster:
    home = {"lat": 51.5, "lon": -0.1}
    return Roster.model_validate(
        {
            "carers": [
                {"id": "ann", "home": home, "contracted_hours": 30},
                {"id": "bob", "home": home, "contracted_hours": 30, "max_hours": 20},
            ],
            "clients": [{"id": "cat", "home": home}],
            "rules": rules,
        }
    )


def day(date: dt.date, visits: list[tuple[str, float, float]]) -> Problem:
    """A day of client cat (10 minutes from both carers' home), visits (id, start, duration)."""
    return Problem.model_validate(
        {
            "name": str(date),
            "day": date.isoformat(),
            "locations": [{"id": "home", "x": 0, "y": 0}, {"id": "cat-home", "x": TRAVEL, "y": 0}],
            "carers": [
                {"id": c, "start_location": "home", "shifts": [{"start": 0, "end": 1440}]} for c in ("ann", "bob")
            ],
            "clients": [{"id": "cat", "location": "cat-home"}],
            "visits": [
                {"id": v, "client": "cat", "duration": d, "window": {"start": s, "end": s}} for v, s, d in visits
            ],
        }
    )


def plan(carer: str, visits: list[tuple[str, float, float]]) -> Plan:
    stops = [
        PlannedVisit(visit=v, client="cat", start=s, end=s + d, travel_before=TRAVEL if i == 0 else 0.0)
        for i, (v, s, d) in enumerate(visits)
    ]
    return Plan(routes=[Route(carer=carer, visits=stops)])


def week(items: dict[dt.date, tuple[str, list[tuple[str, float, float]]]]):
    days = {d: day(d, visits) for d, (_, visits) in items.items()}
    plans = {d: plan(carer, visits) for d, (carer, visits) in items.items()}
    return days, plans


def test_ten_hours_rest_is_invalid_and_names_the_carer() -> None:
    # Friday: 20:50-21:50 and home at 22:00; Saturday: leaves home 08:00 for 08:10. Rest: 10 h.
    days, plans = week({FRI: ("ann", [("late", 1250, 60)]), SAT: ("ann", [("early", 490, 30)])})
    report = validate_week(roster(), days, plans)
    assert not report.valid
    assert all(day_report.valid for day_report in report.days.values())
    [violation] = report.violations
    assert violation.code == "rest"
    assert violation.carer == "ann"
    assert violation.dates == [FRI, SAT]
    assert violation.figures == {"rest_hours": 10.0, "required_hours": 11.0}
    assert "ann" in violation.message and "22:00" in violation.message and "08:00" in violation.message


def test_eleven_hours_rest_is_valid() -> None:
    days, plans = week({FRI: ("ann", [("late", 1250, 60)]), SAT: ("ann", [("early", 550, 30)])})  # leaves 09:00
    assert validate_week(roster(), days, plans).valid


def test_the_short_night_of_the_clocks_going_forward_is_counted_in_real_time() -> None:
    # Saturday home at 22:00, Sunday leaving home at 08:30: 10.5 h on the clock, 9.5 h real.
    days, plans = week({SAT: ("ann", [("late", 1250, 60)]), SUN: ("ann", [("early", 520, 30)])})
    [violation] = validate_week(roster(), days, plans).violations
    assert (violation.code, violation.carer, violation.figures["rest_hours"]) == ("rest", "ann", 9.5)
    # with a 10-hour rule the clock (10.5 h) would pass it; the hours that really pass do not
    [violation] = validate_week(roster(min_daily_rest_hours=10), days, plans).violations
    assert (violation.code, violation.carer) == ("rest", "ann")


def test_the_long_night_of_the_clocks_going_back_counts_its_extra_hour() -> None:
    sat, sun = dt.date(2026, 10, 24), dt.date(2026, 10, 25)
    days, plans = week({sat: ("ann", [("late", 1250, 60)]), sun: ("ann", [("early", 520, 30)])})
    assert validate_week(roster(), days, plans).valid  # 10.5 h on the clock, 11.5 h real


def test_rest_is_between_working_days_not_calendar_neighbours() -> None:
    # bob has no visits on Saturday: his rest runs from Friday night to Sunday morning
    days, plans = week(
        {FRI: ("bob", [("late", 1250, 60)]), SAT: ("ann", [("noon", 720, 30)]), SUN: ("bob", [("early", 490, 30)])}
    )
    assert validate_week(roster(), days, plans).valid
    # a day with an empty route is not a working day either
    plans[SAT] = Plan(routes=[Route(carer="bob"), *plans[SAT].routes])
    assert validate_week(roster(), days, plans).valid


def shift_day(visit: str, start: float) -> tuple[str, list[tuple[str, float, float]]]:
    """ann works one 480-minute visit: 500 working minutes with the 10 minutes each way."""
    return "ann", [(visit, start, 480)]


def test_more_than_48_hours_in_a_week_is_invalid_naming_the_carer_and_the_hours() -> None:
    mon = dt.date(2026, 3, 23)
    dates = [mon + dt.timedelta(days=i) for i in range(6)]  # 6 x 500 minutes = 50 h
    days, plans = week({d: shift_day(f"v{i}", 480) for i, d in enumerate(dates)})
    report = validate_week(roster(), days, plans)
    [violation] = report.violations
    assert violation.code == "weekly_hours"
    assert violation.carer == "ann"
    assert violation.dates == dates
    assert violation.figures == {"worked_hours": 50.0, "limit_hours": 48.0}
    assert "50 h" in violation.message and "48 h" in violation.message and "2026-03-23" in violation.message
    [ann] = [h for h in report.hours if h.carer == "ann"]
    assert (ann.week, ann.worked_minutes, ann.limit_minutes, ann.contracted_minutes) == (mon, 3000, 2880, 1800)


def test_five_such_days_are_a_valid_week() -> None:
    mon = dt.date(2026, 3, 23)
    days, plans = week({mon + dt.timedelta(days=i): shift_day(f"v{i}", 480) for i in range(5)})  # 41 h 40 min
    report = validate_week(roster(), days, plans)
    assert report.valid, report.violations
    assert report.violations == []


def test_a_carer_may_have_a_lower_weekly_limit() -> None:
    mon = dt.date(2026, 3, 23)
    days, plans = week({mon + dt.timedelta(days=i): ("bob", [(f"v{i}", 480, 480)]) for i in range(3)})  # 25 h
    [violation] = validate_week(roster(), days, plans).violations
    assert (violation.code, violation.carer, violation.figures["limit_hours"]) == ("weekly_hours", "bob", 20.0)


def test_weeks_are_monday_to_sunday_and_days_before_the_range_count() -> None:
    # Thursday to Monday: 4 days in one week, 1 in the next; 2,000 minutes planned in the first
    thu = dt.date(2026, 3, 26)
    days, plans = week({thu + dt.timedelta(days=i): shift_day(f"v{i}", 480) for i in range(5)})
    assert validate_week(roster(), days, plans).valid
    mon = dt.date(2026, 3, 23)
    report = validate_week(roster(), days, plans, worked_before={("ann", mon): 900.0})  # 2,900 > 2,880
    [violation] = report.violations
    assert violation.code == "weekly_hours" and violation.dates == [thu + dt.timedelta(days=i) for i in range(4)]
    assert violation.figures["worked_hours"] == pytest.approx(2900 / 60)
    assert "15 h of it on days before these" in violation.message


def test_a_days_own_violations_are_kept_with_its_date() -> None:
    days, plans = week({FRI: ("ann", [("late", 1250, 60)])})
    plans[FRI].routes[0].visits[0].start = 1200.0  # outside its window (20:50 exactly)
    plans[FRI].routes[0].visits[0].end = 1260.0
    report = validate_week(roster(), days, plans)
    assert not report.valid
    assert {v.code for v in report.violations} == {"window"}
    assert all(v.dates == [FRI] and v.message.startswith("2026-03-27") for v in report.violations)
    assert not report.days[FRI].valid


def test_days_and_plans_must_match_and_carers_be_in_the_roster() -> None:
    days, plans = week({FRI: ("ann", [("late", 1250, 60)]), SAT: ("ann", [("early", 550, 30)])})
    with pytest.raises(InputError, match="no plan for 2026-03-28"):
        validate_week(roster(), days, {FRI: plans[FRI]})
    small = Roster.model_validate({"carers": [{"id": "ann", "home": {"lat": 51.5, "lon": -0.1}}]})
    with pytest.raises(InputError) as error:
        validate_week(small, days, plans)
    assert error.value.field == "days[2026-03-27].carers[1].id" and "bob" in error.value.reason


def test_route_times_are_recomputed_from_the_visits_and_travel() -> None:
    days, plans = week({FRI: ("ann", [("a", 600, 30), ("b", 700, 60)])})
    # leaves 09:50, visits 30 + 60 minutes at the same house, 10 minutes each way, home 12:10
    assert route_times(days[FRI], plans[FRI]) == {"ann": (590.0, 770.0, 110.0)}


def test_history_counts_checkins_over_the_plan_and_ranks_by_visits_then_recency() -> None:
    history = CareHistory()
    mon = dt.date(2026, 3, 23)
    history.add_plan(mon, plan("ann", [("a", 600, 30), ("b", 700, 30)]))
    history.add_plan(mon + dt.timedelta(days=1), plan("bob", [("a", 600, 30)]))
    history.add_plan(mon + dt.timedelta(days=2), plan("ann", [("a", 600, 30)]))
    # bob went instead of ann on Wednesday, and dan on Thursday (not in a plan)
    history.add_visit(mon + dt.timedelta(days=2), "bob", "cat", visit="a")
    history.add_visit(mon + dt.timedelta(days=3), "dan", "cat")
    before = mon + dt.timedelta(days=7)
    # ann 2 visits (Monday), bob 2 (Tuesday, Wednesday: more recent), dan 1
    assert history.recent_carers("cat", before, weeks=1) == ["bob", "ann", "dan"]
    assert history.recent_carers("cat", mon + dt.timedelta(days=2), weeks=1) == ["ann", "bob"]  # before Wednesday
    assert history.recent_carers("cat", before + dt.timedelta(days=7), weeks=1) == []  # out of the window
    assert history.recent_carers("nobody", before, weeks=4) == []
    # publishing Monday again replaces its plan
    history.add_plan(mon, plan("dan", [("a", 600, 30)]))
    assert history.recent_carers("cat", before, weeks=1) == ["dan", "bob"]
