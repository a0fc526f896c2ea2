"""The live day pushed: Server-Sent Events streams for coordinators and carers, and
today's alerts.

A stream sends each feed entry (``feed.py``) as an event named by its kind, with the
entry's id: a client that reconnects with ``Last-Event-ID`` gets what it missed first.
Coordinators' stream: events recorded, applied or rejected, jobs, published plans and
alerts. A carer's stream: ``day_changed`` each time a published plan changes their day,
with what changed (then read the day again).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy import select
from sse_starlette import EventSourceResponse

from carescheduler import InputError
from carescheduler.plan import format_minutes

from .. import feed
from ..alerts import alert_data
from ..deps import MAX_ID, Coordinator, DatePath, SessionDep, check_date, find_day, role
from ..models import AlertRow
from ..pagination import PageDep
from ..problems import error_responses
from ..schemas import AlertOut
from ..security import Principal

router = APIRouter(tags=["live"], responses=error_responses(401, 403, 404, 422))

STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "a Server-Sent Events stream (endless): `id` (resume with Last-Event-ID), `event` "
        "(event, job, plan, alert or day_changed) and JSON `data`",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}
LastEventId = Annotated[
    str | None, Header(description="the id of the last event received: what came after it is sent first")
]
DateFilter = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="only this day's entries")]


def _resume_from(last_event_id: str | None) -> int | None:
    if last_event_id is None or not last_event_id.strip():
        return None
    if not last_event_id.strip().isdigit():
        raise InputError("Last-Event-ID", f"{last_event_id!r} is not an event id this service sent")
    return int(last_event_id)


def _stream(request: Request, audience: feed.Audience, last_event_id: str | None) -> EventSourceResponse:
    state = request.app.state
    events = feed.stream(state.feed_hub, state.sessions, audience, _resume_from(last_event_id), request.is_disconnected)
    return EventSourceResponse(events, ping=15, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/v1/stream", summary="Coordinators' stream: events, jobs, plans and alerts", responses=STREAM)
async def coordinator_stream(
    request: Request,
    principal: Annotated[Principal, Depends(role("coordinator", "integration"))],
    date: DateFilter = None,
    last_event_id: LastEventId = None,
) -> EventSourceResponse:
    return _stream(request, feed.Audience(principal.org, None, date), last_event_id)


@router.get("/v1/me/stream", summary="My stream: my day changed, with what changed", responses=STREAM)
async def my_stream(
    request: Request,
    principal: Annotated[Principal, Depends(role("carer"))],
    date: DateFilter = None,
    last_event_id: LastEventId = None,
) -> EventSourceResponse:
    return _stream(request, feed.Audience(principal.org, principal.carer, date), last_event_id)


@router.get(
    "/v1/days/{date}/alerts",
    response_model=list[AlertOut],
    summary="The day's alerts: late starts, visits not checked out, missed visits",
)
def list_alerts(
    date: DatePath,
    session: SessionDep,
    principal: Coordinator,
    page: PageDep,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="the id of the last alert you have")] = 0,
) -> list[AlertOut]:
    """Kept by the service's watch (every ``alert_sweep_seconds``), oldest first."""
    day = find_day(session, principal, check_date(date))
    query = select(AlertRow).where(AlertRow.day_id == day.id, AlertRow.id > after)
    if status is not None:
        query = query.where(AlertRow.status == status)
    rows = session.scalars(query.order_by(AlertRow.id).limit(page.fetch))
    return [_alert_out(row) for row in page.of(rows, lambda row: row.id)]


def _alert_out(row: AlertRow) -> AlertOut:
    """The alert as its feed entry says it (``alerts.alert_data``), with its times."""
    due = round(row.due)
    return AlertOut.model_validate(
        {
            **alert_data(row),
            "due": due,
            "due_hhmm": format_minutes(due),
            "raised_at": row.raised_at,
            "resolved_at": row.resolved_at,
        }
    )
