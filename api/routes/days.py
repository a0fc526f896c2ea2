"""Coordinators' and integrations' routes: days, plans, jobs to solve and replan, events,
recommendations, and moves of visits from carer to carer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Response
from sqlalchemy.orm import object_session

from carescheduler import InputError, Problem
from carescheduler.day.recommend import Recommendation, VisitRequest
from carescheduler.day.replan import PlanChanges

from .. import store
from ..cache import plan_of, remember_plan
from ..clock import ServiceClock
from ..config import Settings
from ..deps import (
    DAY_BODY,
    MAX_ID,
    Coordinator,
    DatePath,
    Number,
    Planner,
    RawBody,
    SessionDep,
    check_date,
    check_if_match,
    check_solves_in_hand,
    find_day,
    get_clock,
    get_settings,
    job_out,
    read_day,
)
from ..event_checks import check_events, on_service_clock
from ..models import Day, PlanRow
from ..pagination import PageDep
from ..problems import error_responses
from ..recommenders import recommender_for
from ..schemas import (
    DayOut,
    EventOut,
    EventsAccepted,
    EventsIn,
    EventStatus,
    JobOut,
    MoveIn,
    PlanOut,
    PlanSummary,
    ReplanRequest,
    SolveRequest,
)

router = APIRouter(prefix="/v1/days", tags=["days"], responses=error_responses(401, 403, 404, 422))


def day_out(day, response: Response | None = None) -> DayOut:
    counts = day.sizes or store.sizes(store.day_problem(day))  # stored since migration 0006
    if response is not None:
        response.headers["ETag"] = store.etag(day)
    return DayOut(
        date=day.date,
        version=day.version,
        etag=store.etag(day),
        published_plan=_number_of(day),
        carers=counts["carers"],
        clients=counts["clients"],
        visits=counts["visits"],
        from_roster=day.from_roster,
    )


def _number_of(day: Day) -> int | None:
    if not day.published_plan_id:
        return None
    session = object_session(day)
    assert session is not None, "the day was just read in this request's session"
    row = session.get(PlanRow, day.published_plan_id)
    return row.number if row is not None else None


def plan_summary(row: PlanRow, with_plan: bool = False):
    plan = plan_of(row)
    fields = dict(
        number=row.number,
        status=row.status,
        source=row.source,
        created_by=row.created_by,
        created_at=row.created_at,
        cost=plan.cost.total,
        visits_assigned=plan.kpis.visits_assigned,
        unassigned=len(plan.unassigned),
    )
    if not with_plan:
        return PlanSummary(**fields)
    changes = PlanChanges.model_validate(row.changes) if row.changes else None
    return PlanOut(**fields, plan=plan, changes=changes)


@router.get("", response_model=list[DayOut], summary="The organisation's days, in date order")
def list_days(
    session: SessionDep,
    principal: Planner,
    page: PageDep,
    after: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="the date of the last day you have")
    ] = None,
) -> list[DayOut]:
    days = store.list_days(session, principal.org, after or "", page.fetch)
    return [day_out(day) for day in page.of(days, lambda day: day.date)]


@router.put(
    "/{date}",
    response_model=DayOut,
    summary="Create or replace a day's problem",
    responses={201: {"model": DayOut, "description": "the day was created"}, **error_responses(409, 412, 428)},
    openapi_extra=DAY_BODY,
)
def put_day(
    date: DatePath,
    body: RawBody,
    session: SessionDep,
    principal: Planner,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
    settings: Settings = Depends(get_settings),
) -> DayOut:
    """The day's carers, clients, visits and travel, as a ``Problem``. Replacing an
    existing day needs ``If-Match`` with its ETag (someone else may have changed it). A
    day generated from the roster is detached from it: the roster no longer regenerates it."""
    check_date(date)  # before the body: a bad date costs no parse
    problem = read_day(body, settings)
    existing = store.find_day(session, principal.org, date)
    if existing is not None:
        check_if_match(session, existing, if_match)
    store.ensure_org(session, principal.org)
    detached = existing is not None and existing.from_roster
    try:
        day = store.put_day(session, principal.org, date, problem, existing)  # by hand: detached from the roster
    except store.DayExists:
        raise HTTPException(412, f"day {date} was created meanwhile: read it and send its ETag to replace it") from None
    detail = {"detached_from_roster": True} if detached else {}
    store.audit(session, principal, "replace day" if existing else "create day", date, version=day.version, **detail)
    if existing is None:
        response.status_code = 201
    return day_out(day, response)


@router.get("/{date}", response_model=DayOut)
def get_day(date: DatePath, session: SessionDep, principal: Planner, response: Response) -> DayOut:
    return day_out(find_day(session, principal, date), response)


@router.get("/{date}/problem", response_model=Problem, summary="The day's whole problem")
def get_problem(date: DatePath, session: SessionDep, principal: Planner, response: Response) -> Problem:
    day = find_day(session, principal, date)
    response.headers["ETag"] = store.etag(day)
    return store.day_problem(day)


@router.get("/{date}/plans", response_model=list[PlanSummary], summary="The day's plans, in the order they were made")
def list_plans(
    date: DatePath,
    session: SessionDep,
    principal: Planner,
    page: PageDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the number of the last plan you have")] = 0,
) -> list[PlanSummary]:
    day = find_day(session, principal, date)
    return [
        plan_summary(row) for row in page.of(store.plans_of(session, day, after, page.fetch), lambda row: row.number)
    ]


@router.get("/{date}/plans/{number}", response_model=PlanOut)
def get_plan(date: DatePath, number: Number, session: SessionDep, principal: Planner) -> PlanOut:
    day = find_day(session, principal, date)
    row = store.plan_number(session, day, number)
    if row is None:
        raise HTTPException(404, f"day {date} has no plan {number}")
    return plan_summary(row, with_plan=True)


@router.get(
    "/{date}/plan",
    response_model=PlanOut,
    summary="The published plan",
    responses={304: {"description": "unchanged since the ETag sent in If-None-Match"}},
)
def get_published(
    date: DatePath,
    session: SessionDep,
    principal: Planner,
    response: Response,
    if_none_match: Annotated[str | None, Header(description="the ETag of the plan last read")] = None,
):
    """With the day's ETag in ``If-None-Match``: 304 while neither the day nor its published
    plan changed (a council day's plan is large; a board polling it need not fetch it again)."""
    day = find_day(session, principal, date)
    row = store.published(session, day)
    if row is None:
        raise HTTPException(404, f"day {date} has no published plan")
    tag = store.etag(day)
    if if_none_match is not None and tag in (part.strip() for part in if_none_match.split(",")):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    return plan_summary(row, with_plan=True)


@router.post(
    "/{date}/plans/{number}/publish",
    response_model=DayOut,
    responses=error_responses(409, 412, 428),
)
def publish_plan(
    date: DatePath,
    number: Number,
    session: SessionDep,
    principal: Coordinator,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> DayOut:
    """Publish a draft: carers whose day changes are told what changed."""
    day = find_day(session, principal, date)
    check_if_match(session, day, if_match)
    row = store.plan_number(session, day, number)
    if row is None:
        raise HTTPException(404, f"day {date} has no plan {number}")
    if row.status == "published":
        raise HTTPException(409, f"plan {number} is already published")
    if row.status == "discarded":
        raise HTTPException(409, f"plan {number} was discarded")
    if row.day_version != day.version:  # publishing it would undo what changed the day since
        raise HTTPException(
            409, f"plan {number} was made for version {row.day_version} of the day, which is now version {day.version}"
        )
    notes = store.publish(session, day, row)
    store.audit(session, principal, "publish plan", date, plan=number, carers_told=len(notes))
    return day_out(day, response)


@router.post(
    "/{date}/plans/{number}/discard",
    response_model=PlanSummary,
    responses=error_responses(409),
)
def discard_plan(date: DatePath, number: Number, session: SessionDep, principal: Coordinator) -> PlanSummary:
    """Set a draft aside (say, a move undone): it can no longer be published or moved from.
    Events a replan drafted it from stay pending; the next replan absorbs them. Discarding
    a discarded draft again changes nothing."""
    day = find_day(session, principal, date)
    row = store.plan_number(session, day, number)
    if row is None:
        raise HTTPException(404, f"day {date} has no plan {number}")
    status = store.discard(session, day, row)
    if status != "discarded":
        raise HTTPException(409, f"plan {number} is {status}: only a draft can be discarded")
    store.audit(session, principal, "discard plan", date, plan=number)
    return plan_summary(row)


@router.post(
    "/{date}/plans/{number}/moves",
    response_model=PlanOut,
    status_code=201,
    summary="Move a visit to another carer: a new draft (no CP-SAT call; milliseconds once the day is loaded)",
    responses=error_responses(409),
)
def move_visit(
    date: DatePath,
    number: Number,
    body: MoveIn,
    session: SessionDep,
    principal: Coordinator,
    response: Response,
    clock: ServiceClock = Depends(get_clock),
) -> PlanOut:
    """The visit goes to ``carer`` (with ``partner``, or the cheapest who can join, for a
    double-handed visit) at the cheapest place in their day; the rest of plan ``number``
    stays as it is, at the service's clock. Plan ``number`` is the published plan or a
    move draft of it, so moves chain (and undoing one is going back to the draft before).
    The new draft's ``changes`` are against the published plan: what publishing it would
    change. A carer who cannot take the visit is a 422 naming ``carer`` (or ``partner``)
    with the reason the recommendations give; nothing is written then."""
    day = find_day(session, principal, date)
    row = store.plan_number(session, day, number)
    if row is None:
        raise HTTPException(404, f"day {date} has no plan {number}")
    published = store.published(session, day)
    stale = _not_movable(day, row, published)
    if stale is not None:
        raise HTTPException(409, stale)
    assert published is not None  # _not_movable says so otherwise
    recommender = recommender_for(day, row, clock.minutes(day.date))
    result = recommender.move(body.visit, body.carer, body.partner, since=plan_of(published))  # InputError: 422
    draft = store.add_plan(
        session,
        day,
        result.plan,
        "move",
        store.actor(principal),
        problem=result.problem,
        changes=result.changes.model_dump(),
        day_version=day.version,
    )
    remember_plan(draft, result.plan)
    store.audit(
        session,
        principal,
        "move visit",
        date,
        plan=draft.number,
        base=number,
        visit=body.visit,
        carer=body.carer,
        partner=body.partner,
    )
    response.headers["Location"] = f"/v1/days/{date}/plans/{draft.number}"
    return plan_summary(draft, with_plan=True)


def _not_movable(day: Day, row: PlanRow, published: PlanRow | None) -> str | None:
    """Why visits cannot be moved in plan ``row`` (None: they can)."""
    if published is None:
        return f"day {day.date} has no published plan to move visits in"
    if row.id == published.id:
        return None
    start = f"moves start from the published plan ({published.number}) or a move draft of it"
    if row.status != "draft":
        return f"plan {row.number} is {row.status}: {start}"
    if row.source != "move":
        return f"plan {row.number} is a draft of a {row.source}: {start}"
    if row.day_version != day.version:  # (a publish since supersedes move drafts; this is a day replaced)
        return (
            f"plan {row.number} was made for version {row.day_version} of the day, which is now version "
            f"{day.version}: {start}"
        )
    return None


@router.post(
    "/{date}/solve",
    response_model=JobOut,
    status_code=202,
    summary="Queue a solve job",
    responses=error_responses(429),
)
def solve_day(
    date: DatePath,
    session: SessionDep,
    principal: Planner,
    response: Response,
    request: Annotated[SolveRequest, Body()] = SolveRequest(),
    settings=Depends(get_settings),
) -> JobOut:
    day = find_day(session, principal, date)
    if request.publish and principal.role != "coordinator" and not settings.integrations_publish:
        raise HTTPException(403, "publishing a plan is a coordinator's: queue the solve without publish")
    if request.time_limit is not None and request.time_limit > settings.solve_seconds_max:
        raise InputError("time_limit", f"at most {settings.solve_seconds_max:g} seconds on this service")
    check_solves_in_hand(session, principal.org, settings)
    params = {
        "time_limit": min(request.time_limit or settings.solve_seconds, settings.solve_seconds_max),
        "seed": request.seed,
        "publish": request.publish,
    }
    job = store.add_job(session, day, "solve", params, store.actor(principal))
    store.audit(session, principal, "solve", date, job=job.id)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_out(session, job)


@router.post(
    "/{date}/replan",
    response_model=JobOut,
    status_code=202,
    summary="Queue a replan of the published plan with the pending events",
)
def replan_day(
    date: DatePath,
    session: SessionDep,
    principal: Coordinator,
    response: Response,
    request: Annotated[ReplanRequest, Body()] = ReplanRequest(),
    settings=Depends(get_settings),
) -> JobOut:
    day = find_day(session, principal, date)
    if day.published_plan_id is None:
        raise HTTPException(409, f"day {date} has no published plan to replan")
    job = store.queue_replan(session, day, principal, settings.replan_seconds, request.publish)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job_out(session, job)


@router.post(
    "/{date}/events",
    response_model=EventsAccepted,
    status_code=202,
    summary="Report events (absences, new clients, cancellations, delays, ...)",
)
def post_events(
    date: DatePath,
    body: EventsIn,
    session: SessionDep,
    principal: Planner,
    response: Response,
    settings=Depends(get_settings),
    clock: ServiceClock = Depends(get_clock),
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> EventsAccepted:
    """Checked against the day as it stands (its pending events, then these, at the
    service's clock): the first one the day refuses gets a 422 naming its index and field,
    and nothing is recorded. Stored in order; a replan job then absorbs them into the
    published plan (unless ``replan`` is false: they wait for the next one). With
    ``Idempotency-Key`` a retried request records nothing twice."""
    day = find_day(session, principal, date)
    payloads = [event.model_dump(mode="json") for event in body.events]
    keys = [store.caller_key(principal, idempotency_key, i) for i in range(len(payloads))]
    fingerprint = store.request_hash("events", date, body.model_dump(mode="json"))
    seen = [store.keyed_event(session, principal.org, key, fingerprint) for key in keys]
    if all(row is not None for row in seen):  # a retry: answer as the first time
        return EventsAccepted(events=[row.id for row in seen if row is not None], job=None, replayed=True)
    now = clock.minutes(day.date)
    payloads = on_service_clock(payloads, now, settings.clock_drift_minutes)
    check_events(session, day, payloads, now)
    ids = []
    for payload, key in zip(payloads, keys, strict=True):
        row, _ = store.record_event(session, day, payload, now, store.actor(principal), key, fingerprint)
        ids.append(row.id)
    store.audit(session, principal, "events", date, events=ids)
    job = None
    if body.replan and day.published_plan_id is not None:
        job = store.queue_replan(session, day, principal, settings.replan_seconds, body.publish).id
    response.headers["Location"] = f"/v1/jobs/{job}" if job else f"/v1/days/{date}/events?after={ids[0] - 1}"
    return EventsAccepted(events=ids, job=job)


@router.get(
    "/{date}/events",
    response_model=list[EventOut],
    summary="The day's events in the order they came: pending, applied (by which plan) or rejected (why)",
)
def list_events(
    date: DatePath,
    session: SessionDep,
    principal: Planner,
    page: PageDep,
    status: Annotated[EventStatus | None, Query()] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the id of the last event you have")] = 0,
) -> list[EventOut]:
    day = find_day(session, principal, date)
    events = page.of(store.events_of(session, day, status, after, page.fetch), lambda found: found[0].id)
    return [
        EventOut(
            id=row.id,
            type=str(row.payload.get("type", "")),
            payload=row.payload,
            status=row.status,
            plan=number,
            job=row.job_id,
            error=row.error,
            received_at=round(row.now, 2),
            created_by=row.created_by,
            created_at=row.created_at,
        )
        for row, number in events
    ]


@router.post(
    "/{date}/recommendations",
    response_model=Recommendation,
    summary="Carers who could take a visit (no CP-SAT call; milliseconds once the day is loaded)",
)
def recommend(
    date: DatePath,
    request: VisitRequest,
    session: SessionDep,
    principal: Coordinator,
    top: int = 5,
    now: Annotated[
        float | None, Query(ge=0, le=48 * 60, description="time of day to ask at (default: the service's clock)")
    ] = None,
    clock: ServiceClock = Depends(get_clock),
) -> Recommendation:
    if not 1 <= top <= 50:
        raise HTTPException(422, "top must be between 1 and 50")
    day = find_day(session, principal, date)
    row = store.published(session, day)
    if row is None:
        raise HTTPException(409, f"day {date} has no published plan")
    at = now if now is not None else clock.minutes(day.date)
    return recommender_for(day, row, at).recommend(request, top)  # an InputError is a 422 (main.py)
