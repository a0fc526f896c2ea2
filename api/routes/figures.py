"""Management figures of published plans over a date range: per day, per carer and per
client, as JSON or CSV (``/v1/figures/...``), and the coordinator's page of them with
charts (``/board/figures``). The figures are the library's (``roster.figures``), stored
when a plan is published and brought up to date with check-ins as days pass
(``plan_figures``); these routes only read them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from carescheduler import InputError
from carescheduler.roster.figures import CarerFigures, ClientFigures, DayFigures, csv_text, summarise

from ..board_page import PAGE_HEADERS
from ..clock import ServiceClock
from ..deps import Coordinator, PageCoordinator, SessionDep, csrf_for, get_clock
from ..figures_page import figures_page
from ..plan_figures import DEFAULT_DAYS, RangeFigures, date_range, figures_in_range
from ..problems import error_responses

router = APIRouter(prefix="/v1/figures", tags=["figures"], responses=error_responses(401, 403, 422))
pages = APIRouter(include_in_schema=False)
"""The figures page: registered before the board's pages (``/board/{date}`` would take it)."""

DateQuery = Annotated[str | None, Query(max_length=10, description="a day, YYYY-MM-DD", examples=["2026-11-23"])]
FormatQuery = Annotated[
    Literal["json", "csv"] | None, Query(description="csv: the table as CSV (or send Accept: text/csv)")
]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "the rows, or CSV"}
}


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: dt.date = Field(alias="from", serialization_alias="from")
    end: dt.date = Field(alias="to", serialization_alias="to")
    plans: dict[str, int] = Field(description="each day with a published plan: that plan's number")


class DaysOut(_Out):
    days: list[DayFigures]
    totals: DayFigures = Field(description="the range summed (ratios pooled, maxima the largest)")
    per_day: dict[str, float] = Field(description="means per day with a published plan")


class CarersOut(_Out):
    carers: list[CarerFigures] = Field(description="a row per carer per day")


class ClientsOut(_Out):
    clients: list[ClientFigures] = Field(description="a row per client per day")


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _csv(scope: str, first: dt.date, last: dt.date, text: str) -> Response:
    name = f"figures-{scope}-{first}-to-{last}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _read(session, principal, start, end, clock) -> tuple[dt.date, dt.date, RangeFigures]:
    first, last = date_range(start, end, clock)
    return first, last, figures_in_range(session, principal.org, first, last, clock)


@router.get("/days", response_model=DaysOut, responses=CSV_RESPONSE, summary="Figures per day")
def figures_per_day(
    request: Request,
    session: SessionDep,
    principal: Coordinator,
    clock: Annotated[ServiceClock, Depends(get_clock)],
    start: Annotated[DateQuery, Query(alias="from")] = None,
    end: Annotated[DateQuery, Query(alias="to")] = None,
    format: FormatQuery = None,
):
    """A row per day with a published plan: visits covered, unassigned and missed, late
    starts, travel, continuity and hours; with the range's totals."""
    first, last, found = _read(session, principal, start, end, clock)
    if _wants_csv(request, format):
        return _csv("days", first, last, csv_text(found.days, DayFigures))
    summary = summarise(found.days, found.carers, found.clients, start=first, end=last)
    return DaysOut(
        start=first, end=last, plans=found.plans, days=found.days, totals=summary.totals, per_day=summary.per_day
    )


@router.get("/carers", response_model=CarersOut, responses=CSV_RESPONSE, summary="Figures per carer")
def figures_per_carer(
    request: Request,
    session: SessionDep,
    principal: Coordinator,
    clock: Annotated[ServiceClock, Depends(get_clock)],
    start: Annotated[DateQuery, Query(alias="from")] = None,
    end: Annotated[DateQuery, Query(alias="to")] = None,
    format: FormatQuery = None,
):
    """A row per carer per day: visits, late starts, travel, hours against contract,
    utilisation and overtime."""
    first, last, found = _read(session, principal, start, end, clock)
    if _wants_csv(request, format):
        return _csv("carers", first, last, csv_text(found.carers, CarerFigures))
    return CarersOut(start=first, end=last, plans=found.plans, carers=found.carers)


@router.get("/clients", response_model=ClientsOut, responses=CSV_RESPONSE, summary="Figures per client")
def figures_per_client(
    request: Request,
    session: SessionDep,
    principal: Coordinator,
    clock: Annotated[ServiceClock, Depends(get_clock)],
    start: Annotated[DateQuery, Query(alias="from")] = None,
    end: Annotated[DateQuery, Query(alias="to")] = None,
    format: FormatQuery = None,
):
    """A row per client per day: visits covered and missed, late starts and continuity
    (the carers who came)."""
    first, last, found = _read(session, principal, start, end, clock)
    if _wants_csv(request, format):
        return _csv("clients", first, last, csv_text(found.clients, ClientFigures))
    return ClientsOut(start=first, end=last, plans=found.plans, clients=found.clients)


@pages.get("/board/figures")
def figures_board(
    request: Request,
    session: SessionDep,
    user: PageCoordinator,
    clock: Annotated[ServiceClock, Depends(get_clock)],
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    """The range's summary, charts and tables, with links to the CSV files (default: the
    seven days up to the service's today). A bad range is shown on the page, with the
    form to ask again."""
    try:
        first, last = date_range(start, end, clock)
    except InputError as error:
        last = clock.now().date()
        first = last - dt.timedelta(days=DEFAULT_DAYS - 1)
        text = figures_page(None, first, last, user.subject, csrf_for(request), error=str(error))
        return HTMLResponse(text, status_code=422, headers=PAGE_HEADERS)
    found = figures_in_range(session, user.org, first, last, clock)
    summary = summarise(found.days, found.carers, found.clients, start=first, end=last)
    text = figures_page(summary, first, last, user.subject, csrf_for(request), days=found.days, plans=found.plans)
    return HTMLResponse(text, headers=PAGE_HEADERS)
