"""The working-time rules of a week, checked across the days' plans.

A day's validator sees one day. The Working Time Regulations speak of weeks and nights:
at most 48 working hours in a Monday-Sunday week (a carer's contract may say fewer) and
11 hours' rest between getting home one day and leaving home the next. ``validate_week``
runs every day through ``carescheduler.validate`` and then checks these two rules over
the days, each broken rule named with the carer, the dates and the figures.

Like the day's validator it trusts only which carer does which visit, in which order and
starting when: leaving and getting home and the working minutes are recomputed from the
days' problems. Rest is measured in real elapsed time (``local_time``), so the night the
clocks go forward is an hour shorter than the clock says.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..domain import Problem, TravelMode
from ..errors import InputError
from ..plan import Plan, Route, format_minutes, natural_key
from ..travel import travel_matrix
from ..validator import ValidationReport, validate
from .local_time import minutes_between
from .model import Roster, RosterCarer, WorkingTimeRules

__all__ = [
    "CarerWeekHours",
    "WeekReport",
    "WeekViolation",
    "hours_text",
    "monday_of",
    "route_times",
    "validate_week",
    "weekly_limit_minutes",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WeekViolation(_Model):
    """One broken rule: a day's (its validator's ``code``) or a week's (``rest``,
    ``weekly_hours``), in words a coordinator understands."""

    code: str
    message: str
    dates: list[dt.date] = Field(description="the day, or the days the weekly rule spans")
    carer: str | None = None
    visit: str | None = None
    figures: dict[str, float] = Field(
        default_factory=dict, description="rest_hours and required_hours, or worked_hours and limit_hours"
    )


class CarerWeekHours(_Model):
    """A carer's working minutes (visits and travel) in one Monday-Sunday week."""

    carer: str
    week: dt.date = Field(description="the week's Monday")
    worked_minutes: float
    limit_minutes: float = Field(description="never exceeded: the carer's max_hours or the roster's weekly limit")
    contracted_minutes: float = Field(description="the weekly contract")


class WeekReport(_Model):
    """Whether a range of days' plans keeps every rule of each day and of the week."""

    valid: bool
    violations: list[WeekViolation]
    days: dict[dt.date, ValidationReport] = Field(description="each day's own report (its costs and KPIs)")
    hours: list[CarerWeekHours] = Field(description="per carer and week touched by the days")


def monday_of(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())


def weekly_limit_minutes(carer: RosterCarer, rules: WorkingTimeRules) -> float:
    """Working minutes a week never exceeded: the roster's limit, or the carer's own if lower."""
    hours = rules.max_weekly_hours if carer.max_hours is None else min(carer.max_hours, rules.max_weekly_hours)
    return 60.0 * hours


def hours_text(minutes: float) -> str:
    """Minutes as hours and minutes: 630 -> "10 h 30 min", 2880 -> "48 h"."""
    whole = round(minutes)
    sign = "-" if whole < 0 else ""
    h, m = divmod(abs(whole), 60)
    return f"{sign}{h} h {m} min" if m else f"{sign}{h} h"


def validate_week(
    roster: Roster,
    days: Mapping[dt.date, Problem],
    plans: Mapping[dt.date, Plan],
    *,
    worked_before: Mapping[tuple[str, dt.date], float] | None = None,
    tolerance: float = 1e-3,
) -> WeekReport:
    """Check each day's plan and the weekly rules over the days.

    ``worked_before`` holds working minutes a carer already has in a week from days not
    given, keyed by carer and the week's Monday. Working minutes are the day's measure
    (visits and travel, as ``Carer.max_working_minutes`` caps them; waiting and breaks
    are not work); a week's are at most ``weekly_limit_minutes``. Between two consecutive
    working days of a carer (a day with at least one visit) at least
    ``rules.min_daily_rest_hours`` of real time pass from getting home to leaving home.
    Raises ``InputError`` when days and plans do not match or a day's carer is not in
    the roster.
    """
    for date in plans:
        if date not in days:
            raise InputError("plans", f"a plan for {date}, which has no day")
    for date in days:
        if date not in plans:
            raise InputError("plans", f"no plan for {date}")
    carers = {c.id: c for c in roster.carers}
    for date, problem in days.items():
        for i, carer in enumerate(problem.carers):
            if carer.id not in carers:
                raise InputError(f"days[{date}].carers[{i}].id", f"carer {carer.id!r} is not in the roster")

    violations: list[WeekViolation] = []
    reports: dict[dt.date, ValidationReport] = {}
    spans: dict[str, list[tuple[dt.date, float, float]]] = {}  # carer -> (date, leave, home) of working days
    worked: dict[tuple[str, dt.date], float] = dict(worked_before or {})
    seen: set[tuple[str, dt.date]] = set(worked)
    for date in sorted(days):
        problem, plan = days[date], plans[date]
        report = validate(problem, plan, tolerance)
        reports[date] = report
        violations.extend(
            WeekViolation(code=v.code, message=f"{date}: {v.message}", dates=[date], carer=v.carer, visit=v.visit)
            for v in report.violations
        )
        monday = monday_of(date)
        for carer in problem.carers:
            if carer.shifts:
                seen.add((carer.id, monday))
        for carer_id, minutes in report.kpis.working_minutes.items():
            worked[(carer_id, monday)] = worked.get((carer_id, monday), 0.0) + minutes
            seen.add((carer_id, monday))
        for carer_id, (leave, home, _) in route_times(problem, plan).items():
            spans.setdefault(carer_id, []).append((date, leave, home))

    rest_minutes = 60.0 * roster.rules.min_daily_rest_hours
    for carer_id in sorted(spans, key=natural_key):
        for (d1, _, home), (d2, leave, _) in itertools.pairwise(spans[carer_id]):
            rest = minutes_between(roster.zone, (d1, home), (d2, leave))
            if rest < rest_minutes - tolerance:
                violations.append(
                    WeekViolation(
                        code="rest",
                        message=(
                            f"carer {carer_id} rests {hours_text(rest)} between getting home at {format_minutes(home)} "
                            f"on {d1} and leaving home at {format_minutes(leave)} on {d2}, less than the "
                            f"{hours_text(rest_minutes)} required"
                        ),
                        dates=[d1, d2],
                        carer=carer_id,
                        figures={"rest_hours": rest / 60.0, "required_hours": rest_minutes / 60.0},
                    )
                )

    hours = []
    for carer_id, monday in sorted(seen, key=lambda key: (key[1], natural_key(key[0]))):
        if carer_id not in carers:
            continue  # worked_before may name carers who have left the roster
        roster_carer = carers[carer_id]
        limit = weekly_limit_minutes(roster_carer, roster.rules)
        minutes = worked.get((carer_id, monday), 0.0)
        hours.append(
            CarerWeekHours(
                carer=carer_id,
                week=monday,
                worked_minutes=minutes,
                limit_minutes=limit,
                contracted_minutes=60.0 * roster_carer.contracted_hours,
            )
        )
        if minutes > limit + tolerance:
            dates = sorted(
                d for d in days if monday_of(d) == monday and reports[d].kpis.working_minutes.get(carer_id, 0.0) > 0
            )
            before = (worked_before or {}).get((carer_id, monday), 0.0)
            earlier = f", {hours_text(before)} of it on days before these" if before > 0 else ""
            violations.append(
                WeekViolation(
                    code="weekly_hours",
                    message=(
                        f"carer {carer_id} works {hours_text(minutes)} (visits and travel) in the week of Monday "
                        f"{monday}{earlier}, more than their {hours_text(limit)} limit"
                    ),
                    dates=dates,
                    carer=carer_id,
                    figures={"worked_hours": minutes / 60.0, "limit_hours": limit / 60.0},
                )
            )
    return WeekReport(valid=not violations, violations=violations, days=reports, hours=hours)


def route_times(problem: Problem, plan: Plan) -> dict[str, tuple[float, float, float]]:
    """Per carer with visits: when they leave home (their first visit's start less the
    travel to it), when they get home (their last visit's end plus the travel home) and
    their working minutes (visits and travel), recomputed from the problem as the day's
    validator does."""
    carers = {c.id: c for c in problem.carers}
    visits = {v.id: v for v in problem.visits}
    index = problem.location_index()
    homes = {c.id: index[c.location] for c in problem.clients}
    matrices: dict[TravelMode, np.ndarray] = {}
    out: dict[str, tuple[float, float, float]] = {}
    for route in plan.routes:
        carer = carers.get(route.carer)
        if carer is None:
            continue  # the day's validator reports it
        stops = _known_stops(route, visits, homes)
        if not stops:
            continue
        mode = carer.travel_mode
        if mode not in matrices:
            matrices[mode] = travel_matrix(problem, mode)
        travel = matrices[mode]
        places = [index[carer.start_location], *(place for _, place, _ in stops), index[carer.home_end]]
        legs = [float(travel[a, b]) for a, b in itertools.pairwise(places)]
        first_start, last_start, last_duration = stops[0][0], stops[-1][0], stops[-1][2]
        leave = first_start - legs[0]
        home = last_start + last_duration + legs[-1]
        out[carer.id] = (leave, home, sum(legs) + sum(duration for _, _, duration in stops))
    return out


def _known_stops(route: Route, visits: dict, homes: dict[str, int]) -> list[tuple[float, int, float]]:
    """(start, location index, duration) of the route's visits the problem knows, in route order."""
    stops = []
    for planned in route.visits:
        visit = visits.get(planned.visit)
        if visit is None or planned.part >= visit.carers_needed:
            continue
        stops.append((planned.start, homes[visit.client], visit.part_duration(planned.part)))
    return stops
