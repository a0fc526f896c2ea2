"""The days generated from the roster, and each date's one-off changes kept apart from it.

    POST   /v1/roster/days?from=&to=          generate the days of a range (at most 62)
    GET    /v1/roster/days/{date}/changes     the date's changes (ETag)
    PUT    /v1/roster/days/{date}/changes     add (no If-Match) or replace (If-Match) them
    DELETE /v1/roster/days/{date}/changes     remove them (If-Match)

Coordinators write (each write audited); coordinators and integrations read; carers get
403. Which days are regenerated and which are left alone is the store's
(``api/roster_days.py``); the days themselves are the library's.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from carescheduler.roster import DayChanges

from .. import roster_days, store
from ..dates import parse_date
from ..deps import (
    CHANGES,
    Coordinator,
    DatePath,
    IfMatch,
    IfNoneMatch,
    Planner,
    SessionDep,
    check_date,
    preconditions,
)
from ..problems import error_responses
from ..roster_days import DayOutcome

router = APIRouter(prefix="/v1/roster/days", tags=["roster"], responses=error_responses(401, 403, 422))


class DaysGenerated(BaseModel):
    """What generating a range did to each of its days, in date order."""

    days: list[DayOutcome]


class ChangesWritten(BaseModel):
    """The date's changes as stored, and what became of its day."""

    changes: DayChanges | None = Field(description="the changes now (None: removed)")
    day: DayOutcome


def _date(name: str, text: str) -> dt.date:
    return parse_date(text, name)


@router.post(
    "",
    response_model=DaysGenerated,
    summary="Generate the days of a date range from the roster",
    responses=error_responses(409),
)
def generate_days(
    session: SessionDep,
    principal: Coordinator,
    start: Annotated[str, Query(alias="from", max_length=10, description="the first day, YYYY-MM-DD")],
    end: Annotated[str, Query(alias="to", max_length=10, description="the last day (inclusive), YYYY-MM-DD")],
) -> DaysGenerated:
    """Each date's day as the roster makes it, with the date's one-off changes: created,
    updated (while it follows the roster) or unchanged (its version kept); a day with a
    published plan or edited by hand is skipped. At most 62 days. All or
    nothing: a date's changes that no longer fit the roster are a 422 naming them."""
    first, last = _date("from", start), _date("to", end)
    try:
        outcomes = roster_days.generate_days(session, principal.org, first, last, principal)
    except store.DayExists as error:
        raise HTTPException(409, f"day {error} was created meanwhile: generate again") from None
    return DaysGenerated(days=outcomes)


@router.get(
    "/{date}/changes",
    response_model=DayChanges,
    summary="One date's changes to the day the roster makes",
    responses=error_responses(404),
)
def read_changes(date: DatePath, session: SessionDep, principal: Planner, response: Response) -> DayChanges:
    changes, tag = roster_days.read_changes(session, principal.org, dt.date.fromisoformat(check_date(date)))
    response.headers["ETag"] = tag
    return changes


@router.put(
    "/{date}/changes",
    response_model=ChangesWritten,
    summary="Add or replace one date's changes",
    responses={**CHANGES, 201: {"model": ChangesWritten, "description": "added"}},
)
def put_changes(
    date: DatePath,
    changes: DayChanges,
    session: SessionDep,
    principal: Coordinator,
    response: Response,
    if_match: IfMatch = None,
    if_none_match: IfNoneMatch = None,
) -> ChangesWritten:
    """Cancelled, replaced and added visits, and carers' shifts, for this date only: kept
    apart from the roster, applied each time the day is generated. Checked by applying
    them to the day the roster makes (a 422 names the field; nothing is written). The
    date's day is regenerated if it follows the roster; ``day`` says if it was not."""
    day = dt.date.fromisoformat(check_date(date))
    with preconditions():
        tag, added, outcome = roster_days.put_changes(
            session, principal.org, day, changes, principal, if_match, if_none_match
        )
    action = "add day changes" if added else "replace day changes"
    store.audit(session, principal, action, f"roster/days/{date}", etag=tag, day=outcome.outcome)
    response.headers["ETag"] = tag
    response.status_code = 201 if added else 200
    return ChangesWritten(changes=changes, day=outcome)


@router.delete(
    "/{date}/changes",
    response_model=ChangesWritten,
    summary="Remove one date's changes",
    responses={**CHANGES, **error_responses(404)},
)
def delete_changes(date: DatePath, session: SessionDep, principal: Coordinator, if_match: IfMatch = None):
    """The date's day goes back to the roster's (if it follows the roster)."""
    day = dt.date.fromisoformat(check_date(date))
    with preconditions():  # MissingEntity: 404
        outcome = roster_days.delete_changes(session, principal.org, day, principal, if_match)
    store.audit(session, principal, "remove day changes", f"roster/days/{date}", day=outcome.outcome)
    return ChangesWritten(changes=None, day=outcome)
