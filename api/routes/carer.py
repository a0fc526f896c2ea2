"""The carers' phones (the mobile working system): a carer's own day, check-in and
check-out, reporting an absence, and what changed in their day.

A carer's token names the carer: they see their own visits and those visits' clients
(name, address, access notes, tasks) and nothing else. Every write takes an
``Idempotency-Key``: a request retried on a flaky network is recorded once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Response
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from carescheduler.plan import format_minutes

from .. import store
from ..cache import carer_views, problem_of
from ..clock import minutes_now
from ..deps import DatePath, SessionDep, check_date, find_day, get_settings, role
from ..models import Day, EventRow, PlanRow
from ..schemas import AbsenceIn, CarerDay, CheckIn, NotificationOut, Recorded, Stop
from ..security import Principal

router = APIRouter(prefix="/v1/me", tags=["carer"])


CarerDep = Annotated[Principal, Depends(role("carer"))]
IdempotencyKey = Annotated[
    str, Header(min_length=8, max_length=200, description="unique per action; a retry sends the same key")
]


@router.get("/days/{date}", response_model=CarerDay, summary="My day: visits in order, with what I need at the door")
async def my_day(date: DatePath, session: SessionDep, principal: CarerDep) -> Response:
    """The most frequent request of all (every phone, all day): two small queries (the day
    with its published plan, the carer's check-ins) over a view built once per plan.
    ``async`` because its reads take well under a millisecond: cheaper here than a hop to
    the thread pool."""
    found = session.execute(_DAY_AND_PLAN, {"org": principal.org, "date": check_date(date)}).first()
    if found is None:
        raise HTTPException(404, f"no day {date} in organisation {principal.org}")
    day, row = found
    views = carer_views(day, row, _views) if row is not None else _views(problem_of(day), None)
    if principal.carer is None or principal.carer not in views:
        raise HTTPException(404, f"carer {principal.carer} does not work on {date}")
    view = views[principal.carer]
    status = _status(session, day.id, principal.carer)
    stops = [
        stop.model_copy(update={"status": status[stop.visit]}) if stop.visit in status else stop for stop in view.visits
    ]
    body = view.model_copy(update={"visits": stops, "date": date, "plan": row.number if row is not None else None})
    return Response(body.model_dump_json(), media_type="application/json", headers={"ETag": store.etag(day)})


# Built once: composing a statement costs more than running it on this route.
_DAY_AND_PLAN = (
    select(Day, PlanRow)
    .outerjoin(PlanRow, PlanRow.id == Day.published_plan_id)
    .where(Day.org_id == bindparam("org"), Day.date == bindparam("date"))
)
_CHECKS = (
    select(EventRow.payload)
    .where(EventRow.day_id == bindparam("day"), EventRow.carer_id == bindparam("carer"), EventRow.status != "rejected")
    .order_by(EventRow.id)
)


def _views(problem, plan) -> dict[str, CarerDay]:
    """Every carer's day of a published plan, with their clients' door details only."""
    clients = {c.id: c for c in problem.clients}
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
            stops.append(
                Stop(
                    visit=pv.visit,
                    client=client.id,
                    client_name=client.name,
                    address=place.address if place else None,
                    access_notes=client.notes,
                    tasks=list(visits[pv.visit].tasks),
                    start=pv.start,
                    end=pv.end,
                    start_hhmm=format_minutes(pv.start),
                    partner=pv.partner,
                    status="planned",
                )
            )
        out[carer.id] = CarerDay(
            carer=carer.id,
            date="",
            plan=None,
            visits=stops,
            breaks=[b.model_dump() for b in route.breaks] if route else [],
            leave_home=route.leave_home if route else None,
            return_home=route.return_home if route else None,
        )
    return out


def _status(session, day_id: int, carer: str) -> dict[str, str]:
    out: dict[str, str] = {}
    rows = session.scalars(_CHECKS, {"day": day_id, "carer": carer})
    for payload in rows:
        if payload.get("type") == "check_in":
            out.setdefault(payload["visit"], "checked_in")
        elif payload.get("type") == "check_out":
            out[payload["visit"]] = "checked_out"
    return out


def _record(session, day, principal: Principal, payload: dict, now: float, key: str) -> tuple:
    scoped = f"{principal.carer}:{key}"
    try:
        with session.begin_nested():
            return store.record_event(session, day, payload, now, store.actor(principal), scoped)
    except IntegrityError:  # the same retry arriving twice at once: the first one won
        return store.record_event(session, day, payload, now, store.actor(principal), scoped)


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
    body: CheckIn = CheckIn(),
    settings=Depends(get_settings),
) -> Recorded:
    return _check(date, visit, "check_in", session, principal, idempotency_key, body, settings)


@router.post("/days/{date}/visits/{visit}/check-out", response_model=Recorded)
def check_out(
    date: DatePath,
    visit: str,
    session: SessionDep,
    principal: CarerDep,
    idempotency_key: IdempotencyKey,
    body: CheckIn = CheckIn(),
    settings=Depends(get_settings),
) -> Recorded:
    return _check(date, visit, "check_out", session, principal, idempotency_key, body, settings)


def _check(date, visit, kind, session, principal, key, body, settings) -> Recorded:
    day = find_day(session, principal, date)
    _my_visit(day, principal, session, visit)
    now = minutes_now(day.date, settings)
    at = body.at if body.at is not None else now
    payload = {"type": kind, "visit": visit, "carer": principal.carer, "at": at}
    row, new = _record(session, day, principal, payload, max(now, at), key)
    if new:
        store.audit(session, principal, kind.replace("_", "-"), f"{date}/{visit}", at=at)
    return Recorded(event=row.id, replayed=not new)


@router.post("/days/{date}/absence", response_model=Recorded, summary="I cannot work (from now, or a window)")
def report_absence(
    date: DatePath,
    session: SessionDep,
    principal: CarerDep,
    idempotency_key: IdempotencyKey,
    body: AbsenceIn = AbsenceIn(),
    settings=Depends(get_settings),
) -> Recorded:
    """Recorded and absorbed by a replan job at once (published when done), so the
    carers taking over are told."""
    day = find_day(session, principal, date)
    if body.start is not None and body.end is not None and body.end <= body.start:
        raise HTTPException(422, "end must be after start")
    now = minutes_now(day.date, settings)
    payload = {
        "type": "carer_absent",
        "carer": principal.carer,
        "start": body.start,
        "end": body.end,
        "reason": body.reason,
    }
    row, new = _record(session, day, principal, payload, now, idempotency_key)
    job = None
    if new:
        store.audit(session, principal, "absence", date, start=body.start, end=body.end)
        if day.published_plan_id is not None:
            job = store.queue_replan(session, day, principal, settings.replan_seconds, None, True).id
    return Recorded(event=row.id, replayed=not new, job=job)


@router.get(
    "/days/{date}/changes",
    response_model=list[NotificationOut],
    summary="What changed in my day (since notification `after`)",
)
def my_changes(date: DatePath, session: SessionDep, principal: CarerDep, after: int = 0) -> list[NotificationOut]:
    day = find_day(session, principal, date)
    assert principal.carer is not None, "a carer token always names the carer (security.read_token)"
    return [
        NotificationOut(
            id=n.id, plan=session.get_one(PlanRow, n.plan_id).number, created_at=n.created_at, changes=n.changes
        )
        for n in store.notifications(session, day, principal.carer, after)
    ]
