"""Storing and reading the management figures of published plans (``FigureRow``); the
figures themselves are the library's (``carescheduler.roster.figures``). No HTTP here.

When: ``store.publish`` stores a plan's figures as it publishes it (the day's earlier
rows go), from the plan alone, so before the day missed visits are not known (None).
Missed visits come from the phones' check-ins after publishing, so reading a range
(``figures_in_range``) brings each day that has passed up to date first: the figures are
computed again with the visits' statuses at the day's end and stored, once, and again
only when a newer event of that day is stored (a check-out entered late). Today's rows
are computed on read with the statuses as they stand (not stored: they change by the
minute). A day with no check-in, check-out or not-started report at all is taken as not
tracked by phones: its missed visits stay unknown rather than all counted as missed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carescheduler import InputError, Plan, Problem
from carescheduler.day.status import visit_statuses
from carescheduler.roster.figures import CarerFigures, ClientFigures, DayFigures, PlanFigures, plan_figures

from .cache import plan_of, plan_problem
from .clock import ServiceClock
from .dates import parse_date
from .models import Day, EventRow, FigureRow, PlanRow

__all__ = ["DEFAULT_DAYS", "MOST_DAYS", "RangeFigures", "date_range", "figures_in_range", "store"]

MOST_DAYS = 92
"""The longest range one request reads (a quarter): a council day is 2,000 rows."""

DEFAULT_DAYS = 7
"""Without ``from``: the week up to ``to`` (default: the service's today)."""

TRACKING = frozenset({"check_in", "check_out", "visit_not_started"})
"""Events that say what happened at a door: a day with none was not tracked by phones."""


@dataclass
class RangeFigures:
    """A range's rows, in date order, and each day's published plan number."""

    days: list[DayFigures] = field(default_factory=list)
    carers: list[CarerFigures] = field(default_factory=list)
    clients: list[ClientFigures] = field(default_factory=list)
    plans: dict[str, int] = field(default_factory=dict)


def date_range(start: str | None, end: str | None, clock: ServiceClock) -> tuple[dt.date, dt.date]:
    """The range asked for: ``to`` defaults to today, ``from`` to the week up to ``to``.
    Errors name the parameter: not a date, outside the days served, from after to, or
    longer than ``MOST_DAYS``."""
    last = _date("to", end) if end else clock.now().date()
    first = _date("from", start) if start else last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InputError("from", f"{first} is after to ({last})")
    if (last - first).days + 1 > MOST_DAYS:
        raise InputError("to", f"the range {first} to {last} is {(last - first).days + 1} days; at most {MOST_DAYS}")
    return first, last


def _date(name: str, text: str) -> dt.date:
    return parse_date(text, name)


def store(
    session: Session,
    day: Day,
    row: PlanRow,
    problem: Problem,
    plan: Plan,
    *,
    statuses: dict | None = None,
    after_day: bool = False,
    events_up_to: int | None = None,
) -> PlanFigures:
    """Compute ``plan``'s figures and store them as the day's (replacing any earlier rows),
    in one bulk insert. Returns them."""
    figures = plan_figures(problem, plan, statuses, date=dt.date.fromisoformat(day.date))
    session.execute(delete(FigureRow).where(FigureRow.day_id == day.id))
    common = {
        "org_id": day.org_id,
        "date": day.date,
        "day_id": day.id,
        "plan_id": row.id,
        "after_day": after_day,
        "events_up_to": events_up_to,
    }
    rows = [{**common, "scope": "day", "subject": "", "figures": figures.day.model_dump(mode="json")}]
    rows += [
        {**common, "scope": "carer", "subject": c.carer, "figures": c.model_dump(mode="json")} for c in figures.carers
    ]
    rows += [
        {**common, "scope": "client", "subject": c.client, "figures": c.model_dump(mode="json")}
        for c in figures.clients
    ]
    table = FigureRow.__table__
    assert isinstance(table, Table)
    session.execute(insert(table), rows)  # Core: no ORM bookkeeping for 2,000 rows
    return figures


def figures_in_range(session: Session, org: str, start: dt.date, end: dt.date, clock: ServiceClock) -> RangeFigures:
    """The figures of the organisation's published plans from ``start`` to ``end``
    (inclusive), days that have passed brought up to date with their statuses first."""
    days = list(
        session.scalars(
            select(Day)
            .where(
                Day.org_id == org,
                Day.date >= start.isoformat(),
                Day.date <= end.isoformat(),
                Day.published_plan_id.is_not(None),
            )
            .order_by(Day.date)
        )
    )
    out = RangeFigures()
    if not days:
        return out
    ids = [d.id for d in days]
    stored: dict[int, list[FigureRow]] = defaultdict(list)
    for figure in session.scalars(select(FigureRow).where(FigureRow.day_id.in_(ids)).order_by(FigureRow.id)):
        stored[figure.day_id].append(figure)
    latest = dict(
        session.execute(
            select(EventRow.day_id, func.max(EventRow.id))
            .where(EventRow.day_id.in_(ids), EventRow.status != "rejected")
            .group_by(EventRow.day_id)
        ).all()
    )
    today = clock.now().date().isoformat()
    for day in days:
        rows = [f for f in stored[day.id] if f.plan_id == day.published_plan_id]
        last_event = latest.get(day.id, 0)
        figures: PlanFigures | None
        if day.date > today:
            figures = None if rows else _refresh(session, day, clock, last_event, store_them=True, after_day=False)
        elif day.date == today:
            figures = _refresh(session, day, clock, last_event, store_them=not rows, after_day=False)
        elif rows and rows[0].after_day and rows[0].events_up_to == last_event:
            figures = None
        else:
            figures = _refresh(session, day, clock, last_event, store_them=True, after_day=True)
        row = session.get_one(PlanRow, day.published_plan_id)
        out.plans[day.date] = row.number
        if figures is None:
            _read(rows, out)
        else:
            out.days.append(figures.day)
            out.carers += figures.carers
            out.clients += figures.clients
    return out


def _read(rows: list[FigureRow], out: RangeFigures) -> None:
    for figure in rows:
        if figure.scope == "day":
            out.days.append(DayFigures.model_validate(figure.figures))
        elif figure.scope == "carer":
            out.carers.append(CarerFigures.model_validate(figure.figures))
        elif figure.scope == "client":
            out.clients.append(ClientFigures.model_validate(figure.figures))


def _refresh(
    session: Session, day: Day, clock: ServiceClock, last_event: int, *, store_them: bool, after_day: bool
) -> PlanFigures:
    """The day's figures computed again, with the visits' statuses at ``clock``'s now when
    the day is not still to come and phones tracked it; stored if ``store_them`` (in a
    savepoint: another reader refreshing the same day at once wins, and these are the
    same)."""
    row = session.get_one(PlanRow, day.published_plan_id)
    problem, plan = plan_problem(day, row), plan_of(row)
    statuses = None
    if day.date <= clock.now().date().isoformat():
        events = list(
            session.scalars(
                select(EventRow.payload)
                .where(EventRow.day_id == day.id, EventRow.status != "rejected")
                .order_by(EventRow.id)
            )
        )
        if any(isinstance(e, dict) and e.get("type") in TRACKING for e in events):
            statuses = visit_statuses(problem, plan, events, clock.minutes(day.date))
    if not store_them:
        return plan_figures(problem, plan, statuses, date=dt.date.fromisoformat(day.date))
    try:
        with session.begin_nested():
            return store(
                session,
                day,
                row,
                problem,
                plan,
                statuses=statuses,
                after_day=after_day,
                events_up_to=last_event if after_day else None,
            )
    except IntegrityError:
        return plan_figures(problem, plan, statuses, date=dt.date.fromisoformat(day.date))
