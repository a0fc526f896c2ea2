"""Planning a range of days together (a week, or any range up to a month):

    POST /v1/weeks/plan?from=YYYY-MM-DD&to=YYYY-MM-DD    queue a week job (202, the job)
    POST /v1/weeks/replan?date=YYYY-MM-DD                 queue a replan of one day of its week

The days must be stored first (generated from the roster); the job plans them with the
organisation's roster, its history of published plans and check-ins, and the published
days of the same weeks (``api/week_jobs.py``). A replan keeps the week's other published
days unless a weekly rule needs one changed, and says so. Coordinators only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Response

from carescheduler import InputError

from .. import roster_store, store
from ..dates import parse_date
from ..deps import Coordinator, SessionDep, check_solves_in_hand, get_settings, job_out
from ..problems import error_responses
from ..schemas import JobOut, WeekReplanRequest, WeekRequest
from ..security import Principal
from ..week_jobs import MAX_DAYS, missing_days

router = APIRouter(prefix="/v1/weeks", tags=["weeks"], responses=error_responses(401, 403, 422))

DATE = r"^\d{4}-\d{2}-\d{2}$"


def _check_roster_and_load(session, principal: Principal, settings) -> None:
    """409 without a roster; 429 when the organisation has as many solves in hand as allowed."""
    if not roster_store.has_roster(session, principal.org):
        raise HTTPException(
            409, f"organisation {principal.org} has no roster (no carers): put it under /v1/roster first"
        )
    check_solves_in_hand(session, principal.org, settings)


def _date(value: str, name: str) -> dt.date:
    return parse_date(value, f"query.{name}")


@router.post(
    "/plan",
    response_model=JobOut,
    status_code=202,
    summary="Queue a job planning a range of days together",
    responses=error_responses(409, 429),
)
def plan_days(
    session: SessionDep,
    principal: Coordinator,
    response: Response,
    first: Annotated[str, Query(alias="from", pattern=DATE, description="the first day, YYYY-MM-DD")],
    last: Annotated[str, Query(alias="to", pattern=DATE, description="the last day, YYYY-MM-DD (inclusive)")],
    request: Annotated[WeekRequest, Body()] = WeekRequest(),
    settings=Depends(get_settings),
) -> JobOut:
    """Plans each day of the range in date order, bounded by the days before it (rest
    between days, weekly hours, fair hours against contracts, a cap on the carers a client
    sees in a week), preferring the carers each client saw in the roster's
    ``history_weeks`` weeks before. The job's ``result`` gives each date's plan number
    (a draft unless ``publish``), the week's report, notes and figures."""
    start, end = _date(first, "from"), _date(last, "to")
    if end < start:
        raise InputError("query.to", f"{end} is before from ({start})")
    if (end - start).days + 1 > MAX_DAYS:
        raise InputError("query.to", f"{start} to {end} is {(end - start).days + 1} days: at most {MAX_DAYS} a job")
    if request.time_limit_per_day > settings.solve_seconds_max:
        raise InputError("time_limit_per_day", f"at most {settings.solve_seconds_max:g} seconds on this service")
    missing = missing_days(session, principal.org, start, end)
    if missing:
        raise InputError(
            "query.from",
            f"no day stored for {', '.join(str(d) for d in missing)} (from {start} to {end}): "
            "generate them from the roster first",
        )
    _check_roster_and_load(session, principal, settings)
    day = store.find_day(session, principal.org, start.isoformat())
    assert day is not None, "every date of the range has a day (checked above)"
    params = {"first": start.isoformat(), "last": end.isoformat(), **request.model_dump()}
    job = store.add_job(session, day, "week", params, store.actor(principal))
    store.audit(session, principal, "plan week", f"{start}..{end}", job=job.id)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_out(session, job)


@router.post(
    "/replan",
    response_model=JobOut,
    status_code=202,
    summary="Queue a job replanning one day of a published week",
    responses=error_responses(404, 409, 429),
)
def replan_week_day(
    session: SessionDep,
    principal: Coordinator,
    response: Response,
    date: Annotated[str, Query(pattern=DATE, description="the day to replan, YYYY-MM-DD")],
    request: Annotated[WeekReplanRequest, Body()] = WeekReplanRequest(),
    settings=Depends(get_settings),
) -> JobOut:
    """Replans the day as it is stored now (after a change to it) between the other
    published days of its Monday-Sunday week, which bound it (rest on both sides, the
    hours left). The others keep their plans unless a weekly rule is still broken on one
    of them: that day is replanned too, and the job's notes say which, for whom and why.
    The job's ``result`` lists a draft plan per day it changed (published with
    ``publish``), and the week's report."""
    when = _date(date, "date")
    day = store.find_day(session, principal.org, when.isoformat())
    if day is None:
        raise HTTPException(404, f"no day {when} in organisation {principal.org}")
    if request.time_limit > settings.solve_seconds_max:
        raise InputError("time_limit", f"at most {settings.solve_seconds_max:g} seconds on this service")
    if not day.published_plan_id:
        raise HTTPException(409, f"{when} has no published plan to replan: plan the week first (POST /v1/weeks/plan)")
    _check_roster_and_load(session, principal, settings)
    params = {"date": when.isoformat(), **request.model_dump()}
    job = store.add_job(session, day, "week_replan", params, store.actor(principal))
    store.audit(session, principal, "replan week day", str(when), job=job.id)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_out(session, job)
