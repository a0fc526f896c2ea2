"""The coordinator's board: the day's pages, served beside the API (same origin, no CDN).

``/board/{date}`` shows the published plan (or a draft, ``?plan=N``, as its preview),
with the live status of each visit; the page's script acts through the JSON API with
the browser session's cookie. ``/board/{date}/runs`` gives a carer's run along the
roads for the map; ``/board/{date}/run-sheets`` prints the carers' days.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from carescheduler import Problem
from carescheduler.day.status import visit_statuses
from carescheduler.plan import Plan
from carescheduler.report import render_run_sheet, render_run_sheets, road_runs
from carescheduler.report.runs_map import Projection
from carescheduler.report.timeline import timeline_chunk
from carescheduler.report.view import DayView, esc, points_text

from .. import store
from ..board_page import PAGE_HEADERS, BoardState, board_page
from ..cache import plan_of, plan_problem
from ..clock import ServiceClock
from ..deps import DatePath, PageCoordinator, PageUser, SessionDep, csrf_for, find_day, get_clock
from ..models import Day, EventRow, Organisation

router = APIRouter(include_in_schema=False)

STATIC_FILES = {
    "report.css": ("carescheduler.report", "text/css"),
    "report.js": ("carescheduler.report", "text/javascript"),
    "board.css": ("api", "text/css"),
    "board.js": ("api", "text/javascript"),
}
"""The board's style sheets and scripts: the report's own, and the board's additions."""

PlanQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="a plan of the day (default: the published)")]

MOST_RUNS = 20
"""Runs one request may ask for (each is a search over the roads)."""


def _page(text: str, status: int = 200) -> HTMLResponse:
    """A page with its headers; a page with its style sheet inline (a run sheet: printed,
    saved, mailed as one file) has that sheet, and only it, allowed by its hash."""
    headers = dict(PAGE_HEADERS)
    inline = re.findall(r"<style>(.*?)</style>", text, flags=re.S)
    if inline:
        hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline)
        headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
            "style-src 'self';", f"style-src 'self' {hashes};"
        )
    return HTMLResponse(text, status_code=status, headers=headers)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/board", status_code=303)


@router.get("/board")
def board_home(
    session: SessionDep,
    user: PageUser,
    clock: ServiceClock = Depends(get_clock),
    date: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
) -> Response:
    """Today's board, or the day asked for, or the organisation's latest day (a carer:
    their own day)."""
    today = clock.now().date().isoformat()
    if user.role == "carer":
        return RedirectResponse(f"/me/{date or today}", status_code=303)
    if date is not None:
        return RedirectResponse(f"/board/{date}", status_code=303)
    if store.find_day(session, user.org, today) is not None:
        return RedirectResponse(f"/board/{today}", status_code=303)
    days = store.list_days(session, user.org)
    if days:
        return RedirectResponse(f"/board/{days[-1].date}", status_code=303)
    return _page(_message("No days yet", f"Organisation {user.org} has no days: load one with PUT /v1/days/{{date}}."))


@router.get("/board/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        raise HTTPException(404, f"no file {name}")
    package, media_type = STATIC_FILES[name]
    base = files(package) if package != "api" else files("api").joinpath("static")
    text = base.joinpath(name).read_text(encoding="utf-8")
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    return Response(text, media_type=media_type, headers=headers)


@router.get("/board/{date}")
def board(
    date: DatePath,
    request: Request,
    session: SessionDep,
    user: PageCoordinator,
    clock: ServiceClock = Depends(get_clock),
    plan: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="a draft to preview")] = None,
    back: Annotated[str, Query(pattern=r"^[0-9,]*$", max_length=200)] = "",
) -> Response:
    day = find_day(session, user, date)
    published = store.published(session, day)
    row = store.plan_number(session, day, plan) if plan is not None else published
    if row is None:
        detail = f"day {date} has no plan {plan}" if plan is not None else f"day {date} has no published plan yet"
        return _page(_message(f"Board — {date}", detail + ": solve it (POST /v1/days/{date}/solve)."), 404)
    problem = plan_problem(day, row)
    the_plan = plan_of(row)
    view = DayView(problem, the_plan)
    now, statuses = _live(session, day, problem, the_plan, clock)
    before = None
    if row.status == "draft" and published is not None:
        shown = plan_of(published)
        before = (shown.kpis.coverage, shown.cost.total, len(shown.unassigned))
    maps = request.app.state.road_maps
    state = BoardState(
        date=date,
        organisation=_organisation_name(session, user.org),
        user=user.subject,
        csrf=csrf_for(request),
        plan_number=row.number,
        plan_status=row.status,
        published_number=published.number if published is not None else None,
        etag=store.etag(day),
        now=now,
        statuses=statuses,
        changes=row.changes,
        back=[int(n) for n in back.split(",") if n],
        before=before,
        attribution="Map data © OpenStreetMap contributors (ODbL)" if maps.configured else None,
        days=[d.date for d in store.list_days(session, user.org)],
    )
    return _page(board_page(view, state))


@router.get("/board/{date}/rows")
def rows(
    date: DatePath,
    session: SessionDep,
    user: PageCoordinator,
    clock: ServiceClock = Depends(get_clock),
    chunk: Annotated[int, Query(ge=0, le=10_000)] = 0,
    plan: PlanQuery = None,
) -> Response:
    """Rows of the board's timeline, a chunk at a time, as the page scrolls to them (with
    the visits' statuses as they are now)."""
    day = find_day(session, user, date)
    row = store.plan_number(session, day, plan) if plan is not None else store.published(session, day)
    if row is None:
        raise HTTPException(404, f"day {date} has no such plan")
    problem, the_plan = plan_problem(day, row), plan_of(row)
    now, statuses = _live(session, day, problem, the_plan, clock)
    text = timeline_chunk(DayView(problem, the_plan), chunk, now=now, statuses=statuses, interactive=True)
    return HTMLResponse(text, headers=PAGE_HEADERS)


@router.get("/board/{date}/runs")
async def runs(
    date: DatePath,
    request: Request,
    session: SessionDep,
    user: PageCoordinator,
    carer: Annotated[list[str], Query(max_length=MOST_RUNS)],
    plan: PlanQuery = None,
) -> dict:
    """The runs of ``carer`` (one or more) in the map's coordinates: along the roads when
    the service has the area's network, else straight; with their stops in order."""
    day = find_day(session, user, date)
    row = store.plan_number(session, day, plan) if plan is not None else store.published(session, day)
    if row is None:
        raise HTTPException(404, f"day {date} has no such plan")
    problem, the_plan = plan_problem(day, row), plan_of(row)
    maps = request.app.state.road_maps
    loading = maps.configured and not maps.ready
    return await run_in_threadpool(_runs, problem, the_plan, set(carer), maps.networks(), loading)


def _runs(problem: Problem, plan: Plan, carers: set[str], networks: dict, loading: bool) -> dict:
    chosen = plan.model_copy(update={"routes": [r for r in plan.routes if r.carer in carers and r.visits]})
    along = road_runs(problem, chosen, networks) if networks else {}
    projection = Projection(problem.locations)
    places = {x.id: x for x in problem.locations}
    clients = {c.id: c for c in problem.clients}
    people = {c.id: c for c in problem.carers}
    out = {}
    for route in chosen.routes:
        person = people[route.carer]
        stops = [(projection.of(places.get(clients[pv.client].location)), pv.visit) for pv in route.visits]
        ends = [projection.of(places.get(person.start_location)), projection.of(places.get(person.home_end))]
        if route.carer in along:
            line = [projection.point(float(a), float(b)) for a, b in along[route.carer]]
        else:
            line = [p for p in [ends[0], *(at for at, _ in stops), ends[1]] if p is not None]
        out[route.carer] = {
            "points": points_text(line),
            "stops": [[round(at[0], 1), round(at[1], 1), visit] for at, visit in stops if at is not None],
            "roads": route.carer in along,
        }
    return {"runs": out, "roads_loading": loading}


@router.get("/me/{date}")
def my_day_page(date: DatePath, session: SessionDep, user: PageUser) -> Response:
    """A carer's own day on their phone: their run sheet as published (signed in with a
    carer's link)."""
    if user.role != "carer" or user.carer is None:
        return RedirectResponse(f"/board/{date}", status_code=303)
    day = find_day(session, user, date)
    row = store.published(session, day)
    if row is None:
        return _page(_message(f"My day — {date}", "No plan has been published for this day yet."), 404)
    problem, plan = plan_problem(day, row), plan_of(row)
    if user.carer not in {c.id for c in problem.carers}:
        return _page(_message(f"My day — {date}", f"{user.carer} does not work on {date}."), 404)
    return _page(render_run_sheet(problem, plan, user.carer, date=dt.date.fromisoformat(date)))


@router.get("/board/{date}/run-sheets")
def run_sheets(date: DatePath, session: SessionDep, user: PageCoordinator, plan: PlanQuery = None) -> Response:
    """Every working carer's day, a printed page each."""
    problem, the_plan = _shown(session, user, date, plan)
    return _page(render_run_sheets(problem, the_plan, date=dt.date.fromisoformat(date)))


@router.get("/board/{date}/run-sheets/{carer}")
def run_sheet(
    date: DatePath,
    carer: str,
    session: SessionDep,
    user: PageCoordinator,
    plan: PlanQuery = None,
) -> Response:
    problem, the_plan = _shown(session, user, date, plan)
    if carer not in {c.id for c in problem.carers}:
        raise HTTPException(404, f"no carer {carer} on {date}")
    return _page(render_run_sheet(problem, the_plan, carer, date=dt.date.fromisoformat(date)))


def _shown(session: Session, user, date: str, plan: int | None) -> tuple[Problem, Plan]:
    day = find_day(session, user, date)
    row = store.plan_number(session, day, plan) if plan is not None else store.published(session, day)
    if row is None:
        raise HTTPException(404, f"day {date} has no such plan")
    return plan_problem(day, row), plan_of(row)


def _live(session: Session, day: Day, problem: Problem, plan: Plan, clock: ServiceClock):
    """Now and each visit's status, on the day that is today (another day has neither)."""
    if clock.now().date().isoformat() != day.date:
        return None, None
    now = clock.minutes(day.date)
    return now, visit_statuses(problem, plan, _day_events(session, day), now)


def _day_events(session: Session, day: Day) -> list[dict]:
    return list(
        session.scalars(
            select(EventRow.payload)
            .where(EventRow.day_id == day.id, EventRow.status != "rejected")
            .order_by(EventRow.id)
        )
    )


def _organisation_name(session: Session, org: str) -> str:
    found = session.get(Organisation, org)
    return found.name if found is not None and found.name else org


def _message(title: str, text: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        '<link rel="stylesheet" href="/board/static/report.css"></head><body><main class="message">'
        f'<h1>{esc(title)}</h1><p>{esc(text)}</p><p><a href="/board">Back to the board</a></p></main></body></html>'
    )
