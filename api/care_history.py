"""What an organisation's stored days say about the weeks around a range being planned:
who visited whom before it (for continuity of care) and the days already published in
its weeks (which the weekly rules count). The library plans the week
(``carescheduler.roster.week``); this reads what it needs from the store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from carescheduler import Plan, Problem
from carescheduler.roster import CareHistory
from carescheduler.roster.week_rules import monday_of

from . import store
from .cache import plan_of, stored_problem
from .models import Day, EventRow, PlanRow


def care_history(session: Session, org: str, before: dt.date, weeks: int) -> CareHistory:
    """The published plans of the organisation's days in the ``weeks`` weeks before
    ``before``, and those days' check-ins (not rejected): a check-in counts for its visit
    over the carer the plan sent (``CareHistory``)."""
    history = CareHistory()
    if weeks <= 0:
        return history
    since = before - dt.timedelta(weeks=weeks)
    days = list(
        session.scalars(
            select(Day)
            .where(Day.org_id == org, Day.date >= since.isoformat(), Day.date < before.isoformat())
            .order_by(Day.date)
        )
    )
    clients_of: dict[int, dict[str, str]] = {}  # day id -> visit -> client, from its plan
    for day in days:
        row = store.published(session, day)
        if row is None:
            continue
        plan = plan_of(row)
        history.add_plan(dt.date.fromisoformat(day.date), plan)
        clients_of[day.id] = {pv.visit: pv.client for route in plan.routes for pv in route.visits}
    by_id = {day.id: day for day in days}
    in_problem: dict[int, dict[str, str]] = {}  # day id -> visit -> client, from its problem when asked
    check_ins = session.scalars(
        select(EventRow)
        .where(EventRow.day_id.in_(list(by_id)), EventRow.status != "rejected", EventRow.carer_id.is_not(None))
        .order_by(EventRow.id)
    )
    for event in check_ins:
        if event.payload.get("type") != "check_in":
            continue
        day = by_id[event.day_id]
        visit = event.payload.get("visit")
        if not isinstance(visit, str) or event.carer_id is None:
            continue
        client = clients_of.get(day.id, {}).get(visit)
        if client is None:  # unassigned in the plan, or no plan published: the day says whose it is
            if day.id not in in_problem:
                in_problem[day.id] = {v.id: v.client for v in store.day_problem(day).visits}
            client = in_problem[day.id].get(visit)
        if client is not None:
            history.add_visit(dt.date.fromisoformat(day.date), event.carer_id, client, visit)
    return history


def fixed_days(session: Session, org: str, first: dt.date, last: dt.date) -> dict[dt.date, tuple[Problem, Plan]]:
    """The published days of the Monday-Sunday weeks ``first``..``last`` touches, outside
    that range: each with the problem its plan was made for (stored with the plan, else
    the day's). Planning the range counts their rest and hours and never changes them."""
    monday, sunday = monday_of(first), monday_of(last) + dt.timedelta(days=6)
    rows = session.execute(
        select(Day, PlanRow)
        .join(PlanRow, PlanRow.id == Day.published_plan_id)
        .where(Day.org_id == org, Day.date >= monday.isoformat(), Day.date <= sunday.isoformat())
        .order_by(Day.date)
    )
    fixed: dict[dt.date, tuple[Problem, Plan]] = {}
    for day, row in rows:
        date = dt.date.fromisoformat(day.date)
        if not first <= date <= last:
            fixed[date] = (stored_problem(day, row), plan_of(row))
    return fixed
