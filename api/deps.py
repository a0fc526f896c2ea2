"""Dependencies and helpers the routes share: the database session, who is calling, their
role, the day they ask for (always within their own organisation), the day's ETag check
and how a job is shown. Routes import these, never each other."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from carescheduler import InputError, Problem

from . import store
from .clock import ServiceClock
from .config import Settings
from .models import Day, Job, PlanRow
from .schemas import JobOut
from .security import Principal, TokenError, read_token

bearer = HTTPBearer(auto_error=False, description="a token from `python -m api token`")


# The dependencies are ``async`` although they do no waiting: FastAPI runs plain ``def``
# dependencies in its thread pool, a hop per dependency per request that costs more than
# their work (checking a token, opening a session object).


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_clock(request: Request) -> ServiceClock:
    return request.app.state.clock


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with request.app.state.sessions() as session, session.begin():
        yield session


async def get_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(401, "a bearer token is needed", headers={"WWW-Authenticate": "Bearer"})
    try:
        return read_token(request.app.state.settings, credentials.credentials)
    except TokenError as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None


def role(*allowed: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only ``allowed`` roles through."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(403, f"needs the role {' or '.join(allowed)}")
        return principal

    return check


Planner = Annotated[Principal, Depends(role("coordinator", "integration"))]
"""Coordinators and integrations: they plan the organisation's days."""
Coordinator = Annotated[Principal, Depends(role("coordinator"))]

DatePath = Annotated[
    str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$", description="the day, YYYY-MM-DD", examples=["2026-11-23"])
]
MAX_ID = 2**31 - 1
"""The largest id or number the service hands out (a 32-bit integer column): larger ones
in a request are refused as invalid, not looked up."""

Number = Annotated[int, Path(ge=1, le=MAX_ID, description="a number the service gave")]
"""An id or number in a path (a plan's number, a webhook's or delivery's id)."""

SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""The request's transaction, committed when the route returns and before its answer is
sent (``scope="function"``; by default FastAPI would run the commit after sending, and
a phone could get a 2xx for a write that then failed to commit)."""


EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
"""The days a care service can plan: a date outside is a mistake (0001-01-01, 9999-12-31)."""


def check_date(date: str) -> str:
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise InputError("date", f"{date!r} is not a calendar date") from None
    if not EARLIEST <= day <= LATEST:
        raise InputError("date", f"{date} is outside the days this service plans ({EARLIEST} to {LATEST})")
    return date


def find_day(session: Session, principal: Principal, date: str) -> Day:
    """The caller's organisation's day (404 if it has none: other organisations' days do
    not exist for the caller)."""
    day = store.find_day(session, principal.org, check_date(date))
    if day is None:
        raise HTTPException(404, f"no day {date} in organisation {principal.org}")
    return day


def check_day_size(problem: Problem | Mapping, settings: Settings) -> None:
    """Refuse a day bigger than the service takes (``day_max``): a day of a hundred
    thousand visits would hold a worker for minutes and the server's memory with it.
    ``problem`` may still be the decoded JSON, so a day too big is refused before any
    of its models is built."""
    for kind, most in settings.day_max.items():
        held = problem.get(kind) if isinstance(problem, Mapping) else getattr(problem, kind, ())
        count = len(held) if isinstance(held, list) else 0
        if count > most:
            raise InputError(kind, f"{count:,} {kind}: this service takes at most {most:,} in a day")


async def raw_body(request: Request) -> bytes:
    """The request's body as bytes, not decoded: routes that take a whole day decode it
    themselves (``read_day``), in their worker thread."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]

DAY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}
"""The OpenAPI request body of a route that reads a whole day with ``read_day``."""


def read_day(body: bytes, settings: Settings) -> Problem:
    """A day's ``Problem`` from a request body. Called from a route's worker thread: a
    day of 20 MB takes seconds to validate, and FastAPI would do that on the event loop,
    where every other request waits (``/health`` took 1.2 s). Its size is checked on the
    decoded JSON first. Errors are 422s like FastAPI's own, fields under ``body``."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"not JSON: {error}", "type": "json_invalid"}]
        ) from None
    if not isinstance(data, dict):
        raise RequestValidationError([{"loc": ("body",), "msg": "a day is a JSON object", "type": "model_type"}])
    check_day_size(data, settings)
    try:
        return Problem.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors(include_url=False, include_input=False)]
        ) from None


def check_if_match(session: Session, day: Day, if_match: str | None) -> None:
    """A change to a day needs the ETag the caller last read (412 if stale, 428 if missing),
    and holds the day until the change commits: of two writers with the same ETag at the
    same moment exactly one goes on, the other gets 412 (``store.hold_day``)."""
    if if_match is None:
        raise HTTPException(428, f"send If-Match with the day's ETag ({store.etag(day)}) to change it")
    if if_match.strip() != store.etag(day) or not store.hold_day(session, day):
        raise HTTPException(412, f"the day has changed (now {store.etag(day)}); read it again")


def job_out(session: Session, job: Job) -> JobOut:
    """A job as the API shows it (the plan it made by its number in the day)."""
    number = None
    if job.result_plan_id is not None:
        row = session.get(PlanRow, job.result_plan_id)
        number = row.number if row is not None else None
    return JobOut(
        id=job.id,
        kind=job.kind,
        date=session.get_one(Day, job.day_id).date,
        status=job.status,
        progress=job.progress,
        message=job.message,
        error=job.error,
        result_plan=number,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
