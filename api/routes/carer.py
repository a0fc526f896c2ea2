"""The carers' phones (the mobile working system): a carer's own day, check-in and
check-out, reporting an absence, and what changed in their day.

A carer's token names the carer: they see their own visits, those visits' clients (name,
address, phone, access notes, other notes, tasks) and their double-up partners' names,
and nothing else. Every write takes an ``Idempotency-Key``: a request retried on a flaky
network is recorded once.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response
from sqlalchemy import bindparam, select

from carescheduler import InputError
from carescheduler.plan import format_minutes

from .. import store
from ..cache import carer_views, problem_of
from ..clock import ServiceClock
from ..deps import MAX_ID, DatePath, SessionDep, check_date, find_day, get_clock, get_settings, role
from ..event_checks import check_events, on_service_clock
from ..models import Day, EventRow, PlanRow
from ..pagination import PageDep
from ..problems import error_responses
from ..schemas import AbsenceIn, CarerDay, CheckTime, NotificationOut, Recorded, Stop
from ..security import Principal

router = APIRouter(prefix="/v1/me", tags=["carer"], responses=error_responses(401, 403, 404, 422))


CarerDep = Annotated[Principal, Depends(role("carer"))]
IdempotencyKey = Annotated[
    str, Header(min_length=8, max_length=200, description="unique per action; a retry sends the same key")
]


@router.get(
    "/days/{date}",
    response_model=CarerDay,
    summary="My day: visits in order, with what I need at the door",
    responses={304: {"description": "unchanged since the ETag sent in If-None-Match"}},
)
async def my_day(
    date: DatePath,
    session: SessionDep,
    principal: CarerDep,
    if_none_match: Annotated[str | None, Header(description="the ETag of the day last read")] = None,
) -> Response:
    """The ETag changes with the plan and with the carer's own check-ins: a phone sending
    it back in ``If-None-Match`` gets 304 while nothing changed."""
    # The most frequent request of all (every phone, all day): two small queries (the day
    # with its published plan, the carer's check-ins) over a view built once per plan;
    # ``async`` because its reads take well under a millisecond: cheaper here than a hop
    # to the thread pool.
    found = session.execute(_DAY_AND_PLAN, {"org": principal.org, "date": check_date(date)}).first()
    if found is None:
        raise HTTPException(404, f"no day {date} in organisation {principal.org}")
    day, row = found
    views = carer_views(day, row, _views) if row is not None else _views(problem_of(day), None)
    if principal.carer is None or principal.carer not in views:
        raise HTTPException(404, f"carer {principal.carer} does not work on {date}")
    status, last = _status(session, day.id, principal.carer)
    tag = f'{store.etag(day)[:-1]}.{last}"'
    if if_none_match is not None and tag in (part.strip() for part in if_none_match.split(",")):
        return Response(status_code=304, headers={"ETag": tag})
    view = views[principal.carer]
    stops = [
        stop.model_copy(update={"status": status[stop.visit]}) if stop.visit in status else stop for stop in view.visits
    ]
    body = view.model_copy(update={"visits": stops, "date": date, "plan": row.number if row is not None else None})
    return Response(body.model_dump_json(), media_type="application/json", headers={"ETag": tag})


# Built once: composing a statement costs more than running it on this route.
_DAY_AND_PLAN = (
    select(Day, PlanRow)
    .outerjoin(PlanRow, PlanRow.id == Day.published_plan_id)
    .where(Day.org_id == bindparam("org"), Day.date == bindparam("date"))
)
_CHECKS = (
    select(EventRow.id, EventRow.payload)
    .where(EventRow.day_id == bindparam("day"), EventRow.carer_id == bindparam("carer"), EventRow.status != "rejected")
    .order_by(EventRow.id)
)


def _views(problem, plan) -> dict[str, CarerDay]:
    """Every carer's day of a published plan, with their clients' door details only."""
    clients = {c.id: c for c in problem.clients}
    carers = {c.id: c for c in problem.carers}
    places = {x.id: x for x in problem.locations}
    visits = {v.id: v for v in problem.visits}
    routes = {r.carer: r for r in plan.routes} if plan is not None else {}
    out = {}
    for carer in problem.carers:
        route = routes.get(carer.id)
        stops = []
        for pv in route.visits if route else []:
            client = clients.get(pv.client)
            if client is None or pv.visit not in visits:  # the day was replaced since this plan was made
                continue
            place = places.get(client.location)
            partner = carers.get(pv.partner) if pv.partner is not None else None
            stops.append(
                Stop(
                    visit=pv.visit,
                    client=client.id,
                    client_name=client.name,
                    address=place.address if place else None,
                    phone=client.phone,
                    access_notes=client.access_notes,
                    notes=client.notes,
                    tasks=list(visits[pv.visit].tasks),
                    start=round(pv.start),
                    end=round(pv.end),
                    start_hhmm=format_minutes(round(pv.start)),
                    end_hhmm=format_minutes(round(pv.end)),
                    latitude=place.lat if place else None,
                    longitude=place.lon if place else None,
                    partner=pv.partner,
                    partner_name=partner.name if partner is not None else None,
                    status="planned",
                )
            )
        out[carer.id] = CarerDay(
            carer=carer.id,
            date="",
            plan=None,
            visits=stops,
            breaks=[b.model_dump() for b in route.breaks] if route else [],
            leave_home=round(route.leave_home) if route and route.leave_home is not None else None,
            return_home=round(route.return_home) if route and route.return_home is not None else None,
        )
    return out


def _status(session, day_id: int, carer: str) -> tuple[dict[str, str], int]:
    """Each visit the carer checked in or out of, and the id of their last event (0: none)."""
    out: dict[str, str] = {}
    last = 0
    for event_id, payload in session.execute(_CHECKS, {"day": day_id, "carer": carer}):
        last = event_id
        if payload.get("type") == "check_in":
            out.setdefault(payload["visit"], "checked_in")
        elif payload.get("type") == "check_out":
            out[payload["visit"]] = "checked_out"
    return out, last


def _record(session, day, principal: Principal, payload: dict, key: str, request: tuple, settings, clock) -> tuple:
    """Check ``payload`` on the service's clock and against the day, then record it once
    (a retry with the same key and request gets the first event back, unchecked)."""
    scoped = store.caller_key(principal, key)
    fingerprint = store.request_hash(*request)
    seen = store.keyed_event(session, principal.org, scoped, fingerprint)
    if seen is not None:
        return seen, False
    now = clock.minutes(day.date)
    try:
        [payload] = on_service_clock([payload], now, settings.clock_drift_minutes)
        check_events(session, day, [payload], now)
    except InputError as error:  # the phone sent one event: name its field, not events[0]
        raise InputError(re.sub(r"^events\[0\]\.?", "", error.field), error.reason) from None
    return store.record_event(session, day, payload, now, store.actor(principal), scoped, fingerprint)


def _my_visit(day, principal: Principal, session, visit: str) -> None:
    row = store.published(session, day)
    view = carer_views(day, row, _views).get(principal.carer) if row is not None else None
    if view is None or not any(stop.visit == visit for stop in view.visits):
        raise HTTPException(404, f"visit {visit} is not in {principal.carer}'s day")


@router.post("/days/{date}/visits/{visit}/check-in", response_model=Recorded)
def check_in(
    date: DatePath,
    visit: str,
    session: SessionDep,
    principal: CarerDep,
    idempotency_key: IdempotencyKey,
    body: CheckTime = CheckTime(),
    settings=Depends(get_settings),
    clock: ServiceClock = Depends(get_clock),
) -> Recorded:
    return _check(date, visit, "check_in", session, principal, idempotency_key, body, (settings, clock))


@router.post("/days/{date}/visits/{visit}/check-out", response_model=Recorded)
def check_out(
    date: DatePath,
    visit: str,
    session: SessionDep,
    principal: CarerDep,
    idempotency_key: IdempotencyKey,
    body: CheckTime = CheckTime(),
    settings=Depends(get_settings),
    clock: ServiceClock = Depends(get_clock),
) -> Recorded:
    return _check(date, visit, "check_out", session, principal, idempotency_key, body, (settings, clock))


def _check(date, visit, kind, session, principal, key, body, service) -> Recorded:
    settings, clock = service
    day = find_day(session, principal, date)
    _my_visit(day, principal, session, visit)
    at = body.at if body.at is not None else clock.minutes(day.date)
    payload = {"type": kind, "visit": visit, "carer": principal.carer, "at": at}
    request = (kind, date, visit, body.model_dump())
    row, new = _record(session, day, principal, payload, key, request, settings, clock)
    if new:
        store.audit(session, principal, kind.replace("_", "-"), f"{date}/{visit}", at=row.payload["at"])
    return Recorded(event=row.id, replayed=not new)


@router.post("/days/{date}/absence", response_model=Recorded, summary="I cannot work (from now, or a window)")
def report_absence(
    date: DatePath,
    session: SessionDep,
    principal: CarerDep,
    idempotency_key: IdempotencyKey,
    body: AbsenceIn = AbsenceIn(),
    settings=Depends(get_settings),
    clock: ServiceClock = Depends(get_clock),
) -> Recorded:
    """Recorded and absorbed by a replan job at once (published when done), so the
    carers taking over are told."""
    day = find_day(session, principal, date)
    if principal.carer not in {carer.id for carer in problem_of(day).carers}:
        raise HTTPException(404, f"carer {principal.carer} does not work on {date}")
    if body.start is not None and body.end is not None and body.end <= body.start:
        raise HTTPException(422, "end must be after start")
    payload = {
        "type": "carer_absent",
        "carer": principal.carer,
        "start": body.start,
        "end": body.end,
        "reason": body.reason,
    }
    request = ("absence", date, body.model_dump())
    row, new = _record(session, day, principal, payload, idempotency_key, request, settings, clock)
    job = None
    if new:
        store.audit(session, principal, "absence", date, start=body.start, end=body.end)
        if day.published_plan_id is not None:
            job = store.queue_replan(session, day, principal, settings.replan_seconds, True).id
    return Recorded(event=row.id, replayed=not new, job=job)


@router.get(
    "/days/{date}/changes",
    response_model=list[NotificationOut],
    summary="What changed in my day (since notification `after`)",
)
def my_changes(
    date: DatePath,
    session: SessionDep,
    principal: CarerDep,
    page: PageDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the id of the last change you have")] = 0,
) -> list[NotificationOut]:
    day = find_day(session, principal, date)
    assert principal.carer is not None, "a carer token always names the carer (security.read_token)"
    # a carer has a handful a day (one per plan that changed their day): paged here, not in SQL
    notes = page.of(store.notifications(session, day, principal.carer, after), lambda n: n.id)
    return [
        NotificationOut(
            id=n.id, plan=session.get_one(PlanRow, n.plan_id).number, created_at=n.created_at, changes=n.changes
        )
        for n in notes
    ]
