"""Week jobs: a range of stored days planned together by the library's ``plan_week``, or
one day of a published week replanned between the others (``replan_day``).

The days of a range share carers' rest and weekly hours, and clients want the carers
they know; the library plans them in date order, each bounded by the ones before and by
the range's weeks' days already published (``care_history.fixed_days``), preferring the
carers the organisation's history shows (``care_history.care_history``). This module
reads what the library needs from the store and writes back what it made: a draft plan
per date (made for that date's bounded problem, published if asked) and the job's
``result`` (``schemas.WeekResult``). The worker runs them (``worker._week``,
``worker._week_replan``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carescheduler import InputError, Plan, Problem
from carescheduler.roster import CareHistory, Roster, WeekPlan, planned_week
from carescheduler.roster.week_rules import monday_of

from . import roster_store, store
from .cache import plan_of, stored_problem
from .care_history import care_history, fixed_days
from .models import Day, PlanRow
from .schemas import WeekDayResult, WeekFiguresOut, WeekResult, WeekViolationOut

MAX_DAYS = 31
"""The longest range one job plans: a month."""


def dates_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def missing_days(session: Session, org: str, first: dt.date, last: dt.date) -> list[dt.date]:
    """The dates of the range with no stored day."""
    stored = set(
        session.scalars(
            select(Day.date).where(Day.org_id == org, Day.date >= first.isoformat(), Day.date <= last.isoformat())
        )
    )
    return [d for d in dates_between(first, last) if d.isoformat() not in stored]


@dataclass
class WeekInputs:
    """What planning a range needs, read in one transaction."""

    roster: Roster
    days: dict[dt.date, Problem]
    versions: dict[dt.date, tuple[int, int]]
    """date -> (day id, its version as read): a plan is stored for the day as it was."""
    history: CareHistory
    fixed: dict[dt.date, tuple[Problem, Plan]]


def _roster(session: Session, org: str) -> Roster:
    roster = roster_store.load_roster(session, org)
    if not roster.carers:
        raise InputError("roster", f"organisation {org} has no roster (no carers): put its carers and clients first")
    return roster


def load_week(session: Session, org: str, first: dt.date, last: dt.date) -> WeekInputs:
    """The roster, the range's days, the history of the roster's ``history_weeks`` weeks
    before the range and the published days around it in its weeks."""
    roster = _roster(session, org)
    days: dict[dt.date, Problem] = {}
    versions: dict[dt.date, tuple[int, int]] = {}
    for date in dates_between(first, last):
        day = store.find_day(session, org, date.isoformat())
        if day is None:
            raise InputError("days", f"no day stored for {date}: generate it from the roster first")
        days[date], versions[date] = store.day_problem(day), (day.id, day.version)
    return WeekInputs(
        roster=roster,
        days=days,
        versions=versions,
        history=care_history(session, org, first, roster.rules.history_weeks),
        fixed=fixed_days(session, org, first, last),
    )


@dataclass
class PublishedWeek:
    """A date's Monday-Sunday week as published, read back to replan the date in."""

    roster: Roster
    week: WeekPlan
    versions: dict[dt.date, tuple[int, int]]
    history: CareHistory


def published_days(session: Session, org: str, date: dt.date) -> dict[dt.date, tuple[Day, PlanRow]]:
    """The days of ``date``'s Monday-Sunday week with a published plan, and the plan."""
    monday = monday_of(date)
    rows = session.execute(
        select(Day, PlanRow)
        .join(PlanRow, PlanRow.id == Day.published_plan_id)
        .where(
            Day.org_id == org,
            Day.date >= monday.isoformat(),
            Day.date <= (monday + dt.timedelta(days=6)).isoformat(),
        )
    )
    return {dt.date.fromisoformat(day.date): (day, row) for day, row in rows}


def load_published_week(session: Session, org: str, date: dt.date) -> PublishedWeek:
    """``date``'s week as published (each date's plan with the problem it was made for;
    each day as it is now), the roster and the history before the week."""
    roster = _roster(session, org)
    published = published_days(session, org, date)
    if date not in published:
        raise InputError("date", f"{date} has no published plan to replan: plan it first")
    days = {d: store.day_problem(day) for d, (day, _) in published.items()}
    plans = {d: (stored_problem(day, row), plan_of(row)) for d, (day, row) in published.items()}
    return PublishedWeek(
        roster=roster,
        week=planned_week(roster, days, plans),
        versions={d: (day.id, day.version) for d, (day, _) in published.items()},
        history=care_history(session, org, min(published), roster.rules.history_weeks),
    )


def store_week(
    session: Session,
    versions: dict[dt.date, tuple[int, int]],
    week: WeekPlan,
    created_by: str,
    publish: bool,
    dates: list[dt.date] | None = None,
) -> tuple[WeekResult, int, str]:
    """A draft plan per date of ``week`` (of ``dates`` only, if given: a replan's changed
    days), published if ``publish`` and its day is still as read (a day changed meanwhile
    keeps its plan as a draft, as a solve's). Returns the job's result, the first date's
    plan row id and the job's message."""
    results: list[WeekDayResult] = []
    first_plan: int | None = None
    changed: list[str] = []
    for date in sorted(week.plans if dates is None else dates):
        day_id, version = versions[date]
        day = store.hold_current(session, day_id)
        row = store.add_plan(
            session, day, week.plans[date], "week", created_by, problem=week.problems[date], day_version=version
        )
        first_plan = row.id if first_plan is None else first_plan
        published = publish and day.version == version
        if published:
            store.publish(session, day, row, week.problems[date])
        elif publish:
            changed.append(str(date))
        results.append(
            WeekDayResult(date=str(date), plan=row.number, published=published, notes=week.notes_by_date.get(date, []))
        )
    if first_plan is None:
        raise InputError("days", "the range has no days")
    result = week_result(week, results)
    planned = ", ".join(d.date for d in results) if dates is not None else f"{len(results)} days"
    message = f"{planned} planned, week {'valid' if result.valid else 'with rules broken'}"
    if changed:
        message += f"; kept as drafts (the day changed while the job ran): {', '.join(changed)}"
    return result, first_plan, message


def week_result(week: WeekPlan, days: list[WeekDayResult]) -> WeekResult:
    """What the API shows of a planned week: its plans, report, notes and figures in brief."""
    seen = list(week.figures.carers_per_client.values())
    dates = sorted(week.plans)
    return WeekResult(
        first=str(dates[0]),
        last=str(dates[-1]),
        valid=week.report.valid,
        days=days,
        violations=[
            WeekViolationOut(code=v.code, carer=v.carer, dates=[str(d) for d in v.dates], message=v.message)
            for v in week.report.violations
        ],
        notes=week.notes,
        figures=WeekFiguresOut(
            spread_std_minutes=week.figures.spread_std_minutes,
            spread_range_minutes=week.figures.spread_range_minutes,
            clients_over_cap=len(week.figures.clients_over_cap),
            mean_carers_per_client=sum(seen) / len(seen) if seen else 0.0,
        ),
    )
