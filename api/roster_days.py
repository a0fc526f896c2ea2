"""The days generated from the organisation's roster, and the one-off changes to single
dates kept apart from it. No HTTP here (routes call these) and no scheduling: the library
makes each day (``carescheduler.roster.day_from_roster``, then ``apply_changes`` with the
date's stored ``DayChanges``).

A generated day is marked ``from_roster``. While it is unpublished and nobody has edited
it by hand, it follows the roster: every roster write regenerates the days from today on
(``regenerate_future``), so a change to a care package reaches them. A day with a
published plan is left alone (its carers were told their visits), and so is a day written
by hand (``store.put_day`` detaches it: a hand edit wins over the roster).

Each write holds the roster first (``roster_store.hold``): roster writes, changes to a
date and generation take turns, so a day is always generated from the roster and changes
as they are when it is written. A day is regenerated only when its problem's JSON changes,
so its version (and ETag) stays while the roster's changes do not touch it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from carescheduler import InputError, Problem
from carescheduler.day.editing import MissingEntity
from carescheduler.roster import WEEKDAYS, DayChanges, Roster, RosterCarer, RosterClient, apply_changes, day_from_roster
from carescheduler.roster.model import Weekday

from . import roster_store, store, travel_store
from .models import Day, DayChangesRow, utcnow
from .roster_store import Kind, check_preconditions, etag
from .security import Principal

__all__ = [
    "MAX_RANGE_DAYS",
    "DayOutcome",
    "delete_changes",
    "generate_days",
    "put_changes",
    "read_changes",
    "regenerate_future",
    "weekdays_of",
    "weekdays_touched",
]

MAX_RANGE_DAYS = 62
"""The most days one request generates (two months: a page of a coordinator's calendar)."""

Outcome = Literal["created", "updated", "unchanged", "skipped"]
Reason = Literal["published", "detached", "not generated"]


class DayOutcome(BaseModel):
    """What generating one date did to its day."""

    date: str
    outcome: Outcome
    reason: Reason | None = Field(
        default=None,
        description="why it was skipped: published (a plan was published), detached (edited by hand), "
        "not generated (no day yet: the changes are applied when it is)",
    )
    version: int | None = Field(default=None, description="the day's version after (None: there is no day)")
    etag: str | None = Field(default=None, description="the day's ETag after (None: there is no day)")


# --- generating days ---------------------------------------------------------------------------


def dates(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def generate_days(session: Session, org: str, first: dt.date, last: dt.date, principal: Principal) -> list[DayOutcome]:
    """Generate the days ``first`` to ``last`` (inclusive) from the roster and each date's
    changes: new days are created, days still following the roster are updated (or left
    unchanged), published and hand-edited days are skipped. An ``InputError`` (a date's
    changes no longer fit the roster) names the date's changes; the caller rolls back."""
    if last < first:
        raise InputError("to", f"{last} is before from {first}")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InputError("to", f"{(last - first).days + 1} days from {first} to {last}; at most {MAX_RANGE_DAYS}")
    roster_store.hold(session, org)
    roster = roster_store.load_roster(session, org)
    changes = _changes_between(session, org, first.isoformat(), last.isoformat())
    days = {day.date: day for day in _days_between(session, org, first.isoformat(), last.isoformat())}
    outcomes = [
        _generate(session, org, roster, date, changes.get(date.isoformat()), days.get(date.isoformat()))
        for date in dates(first, last)
    ]
    summary = _summary(outcomes)
    store.audit(
        session, principal, "generate days from roster", "roster/days", first=str(first), last=str(last), **summary
    )
    return outcomes


def regenerate_future(
    session: Session, org: str, today: dt.date, principal: Principal, weekdays: Collection[str] | None = None
) -> list[DayOutcome]:
    """Regenerate the days dated ``today`` or later that still follow the roster (generated
    from it, unpublished, not edited by hand): called after every roster write, in its
    transaction, so a change to a care package reaches them. Days whose problem does not
    change keep their version. Audited when a day changed. A date's stored changes that
    the changed roster no longer fits (a cancelled call taken out of the package) are an
    ``InputError`` naming them: the roster write is refused until they are changed.

    ``weekdays``: only the days of these weekdays (and dates with changes) can have
    changed (``weekdays_touched``): a council day takes half a second to generate, and
    one carer's edit need not remake two months of days."""
    following = list(
        session.scalars(
            select(Day)
            .where(
                Day.org_id == org,
                Day.date >= today.isoformat(),
                Day.from_roster.is_(True),
                Day.published_plan_id.is_(None),
            )
            .order_by(Day.date)
        )
    )
    if not following:
        return []  # most roster writes: no roster read at all
    roster_store.hold(session, org)
    changes = _changes_between(session, org, following[0].date, following[-1].date)
    if weekdays is not None:
        following = [day for day in following if day.date in changes or _weekday(day.date) in weekdays]
        if not following:
            return []
    roster = roster_store.load_roster(session, org)
    outcomes = [
        _generate(session, org, roster, dt.date.fromisoformat(day.date), changes.get(day.date), day)
        for day in following
    ]
    updated = [o.date for o in outcomes if o.outcome == "updated"]
    if updated:
        store.audit(session, principal, "regenerate days from roster", "roster/days", updated=updated)
    return outcomes


def weekdays_touched(session: Session, org: str, kind: Kind, item_id: str) -> set[Weekday]:
    """The weekdays on which carer (or client) ``item_id`` as stored now can be on a day:
    a carer's working weekdays, a client's calls' weekdays. Read before a write and again
    after it, they hold every day the write can change (the days of a carer's clients
    that prefer them are days the carer works). The roster is held first, so no other
    write comes between this read and the caller's write."""
    roster_store.hold(session, org)
    try:
        item, _ = roster_store.read_entity(session, org, kind, item_id)
    except MissingEntity:
        return set()
    return weekdays_of(item)


def weekdays_of(item: RosterCarer | RosterClient) -> set[Weekday]:
    if isinstance(item, RosterCarer):
        return {weekday for weekday, shifts in item.availability.items() if shifts}
    return {weekday for call in item.package for weekday in call.weekdays}


def _weekday(date: str) -> Weekday:
    return WEEKDAYS[dt.date.fromisoformat(date).weekday()]


def _summary(outcomes: list[DayOutcome]) -> dict[str, list[str]]:
    kinds: dict[str, list[str]] = {}
    for o in outcomes:
        kinds.setdefault(o.outcome if o.reason is None else f"skipped_{o.reason}".replace(" ", "_"), []).append(o.date)
    return kinds


def _generated(roster: Roster, date: dt.date, changes: DayChanges | None, where: str) -> Problem:
    """The day as the roster and the date's changes make it; an ``InputError`` of the
    changes is named ``{where}.{field}``."""
    day = day_from_roster(roster, date)
    if changes is None:
        return day
    try:
        return apply_changes(roster, day, changes)
    except InputError as error:
        field = error.field.removeprefix("changes").removeprefix(".")
        raise InputError(f"{where}.{field}" if where and field else where or field, error.reason) from None


def _generate(
    session: Session, org: str, roster: Roster, date: dt.date, changes: DayChanges | None, day: Day | None
) -> DayOutcome:
    if day is not None:
        day = store.hold_current(session, day.id)  # as it is now: a hand edit may have got in first
        skipped = _why_left_alone(day)
        if skipped is not None:
            return _outcome(date, "skipped", day, skipped)
    problem = _generated(roster, date, changes, f"changes[{date}]")
    return _write(session, org, date, problem, day)


def _why_left_alone(day: Day) -> Reason | None:
    if day.published_plan_id is not None:
        return "published"
    if not day.from_roster:
        return "detached"
    return None


def _write(session: Session, org: str, date: dt.date, problem: Problem, day: Day | None) -> DayOutcome:
    """Write the generated problem unless it is the day's already (compared as stored JSON)."""
    if (
        day is not None
        and day.travel_key == travel_store.key_of(problem.travel)
        and day.problem == problem.model_dump_json(exclude={"travel"})
    ):
        return _outcome(date, "unchanged", day)
    written = store.put_day(session, org, date.isoformat(), problem, day, from_roster=True)
    return _outcome(date, "created" if day is None else "updated", written)


def _outcome(date: dt.date, outcome: Outcome, day: Day | None, reason: Reason | None = None) -> DayOutcome:
    return DayOutcome(
        date=date.isoformat(),
        outcome=outcome,
        reason=reason,
        version=day.version if day is not None else None,
        etag=store.etag(day) if day is not None else None,
    )


def _days_between(session: Session, org: str, first: str, last: str) -> list[Day]:
    query = select(Day).where(Day.org_id == org, Day.date >= first, Day.date <= last).order_by(Day.date)
    return list(session.scalars(query))


def _changes_between(session: Session, org: str, first: str, last: str) -> dict[str, DayChanges]:
    query = select(DayChangesRow).where(
        DayChangesRow.org_id == org, DayChangesRow.date >= first, DayChangesRow.date <= last
    )
    return {row.date: DayChanges.model_validate(row.changes) for row in session.scalars(query) if row.changes}


# --- one date's changes ------------------------------------------------------------------------


def _changes_row(session: Session, org: str, date: dt.date) -> DayChangesRow | None:
    query = select(DayChangesRow).where(DayChangesRow.org_id == org, DayChangesRow.date == date.isoformat())
    return session.scalar(query.execution_options(populate_existing=True))


def _etag_of(row: DayChangesRow | None) -> str | None:
    """``"changes.2030-06-04.3"``; None while the date has no changes (none yet, or removed)."""
    if row is None or row.changes is None:
        return None
    return etag(f"changes.{row.date}", row.version)


def read_changes(session: Session, org: str, date: dt.date) -> tuple[DayChanges, str]:
    """The date's one-off changes and their ETag (``MissingEntity``, a 404, when there are none)."""
    row = _changes_row(session, org, date)
    tag = _etag_of(row)
    if row is None or tag is None:
        raise MissingEntity("date", f"no changes for {date}")
    return DayChanges.model_validate(row.changes), tag


def put_changes(
    session: Session,
    org: str,
    date: dt.date,
    changes: DayChanges,
    principal: Principal,
    if_match: str | None,
    if_none_match: str | None = None,
) -> tuple[str, bool, DayOutcome]:
    """Add or replace the date's changes (If-Match: their ETag), checked by applying them
    to the day the roster makes (an ``InputError`` names the changes' field; nothing is
    written). The date's day is regenerated if it follows the roster. Returns the new
    ETag, whether the changes were added, and what happened to the day."""
    if changes.date != date:
        raise InputError("date", f"the changes are for {changes.date} but the path's date is {date}")
    roster_store.hold(session, org)
    row = _changes_row(session, org, date)
    current = _etag_of(row)
    check_preconditions(current, if_match, if_none_match, what=f"changes of {date}")
    roster = roster_store.load_roster(session, org)
    problem = _generated(roster, date, changes, "")  # the check, before anything is written
    data = changes.model_dump(mode="json")
    if row is None:
        row = DayChangesRow(
            org_id=org, date=date.isoformat(), changes=data, version=1, updated_by=store.actor(principal)
        )
        session.add(row)
    else:
        row.changes, row.version, row.updated_by, row.updated_at = (
            data,
            row.version + 1,
            store.actor(principal),
            utcnow(),
        )
    session.flush()
    tag = _etag_of(row)
    assert tag is not None, "changes were just written"
    return tag, current is None, _follow(session, org, date, problem)


def delete_changes(session: Session, org: str, date: dt.date, principal: Principal, if_match: str | None) -> DayOutcome:
    """Remove the date's changes (If-Match: their ETag; ``MissingEntity`` when there are
    none) and regenerate its day if it follows the roster."""
    roster_store.hold(session, org)
    row = _changes_row(session, org, date)
    current = _etag_of(row)
    if row is None or current is None:
        raise MissingEntity("date", f"no changes for {date}")
    check_preconditions(current, if_match, what=f"changes of {date}")
    _stamp(row, None, principal)
    session.flush()
    return _follow(session, org, date, day_from_roster(roster_store.load_roster(session, org), date))


def _stamp(row: DayChangesRow, data: dict | None, principal: Principal) -> None:
    row.changes, row.version = data, row.version + 1
    row.updated_by, row.updated_at = store.actor(principal), utcnow()


def _follow(session: Session, org: str, date: dt.date, problem: Problem) -> DayOutcome:
    """The date's day made ``problem`` if it follows the roster; else why it was not."""
    day = store.find_day(session, org, date.isoformat())
    if day is None:
        return _outcome(date, "skipped", None, "not generated")
    day = store.hold_current(session, day.id)
    skipped = _why_left_alone(day)
    if skipped is not None:
        return _outcome(date, "skipped", day, skipped)
    return _write(session, org, date, problem, day)
