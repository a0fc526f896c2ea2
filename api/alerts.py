"""Keeping today's alerts: the library's ``watch`` over each published plan, raised and
resolved as rows, each change posted to the feed (streamed to coordinators, sent to
webhooks).

A sweep runs in the watch process every ``alert_sweep_seconds`` (and tests call it). An
alert stands while ``watch`` still names it: a late check-in, a check-out or a replan
that moves the visit resolves it. With ``alert_replan`` on, a late start or a missed
visit also records a ``visit_not_started`` event for it and queues a replan, so the
plan stops counting the visit as done and places it again (once per alert).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carescheduler.day.alerts import Alert, watch
from carescheduler.day.events import CheckIn, CheckOut
from carescheduler.plan import format_minutes

from . import feed, store
from .cache import plan_of, problem_of
from .clock import ServiceClock
from .config import Settings
from .db import transaction
from .models import AlertRow, Day, EventRow, utcnow
from .security import Principal

WATCH = "alerts"
"""The subject the service's own events and replans are recorded under."""


def sweep(sessions: sessionmaker[Session], clock: ServiceClock, settings: Settings) -> tuple[int, int]:
    """Watch every published plan of today (the service clock's date); returns how many
    alerts were raised and resolved."""
    today = clock.now().date().isoformat()
    with sessions() as session:
        day_ids = list(session.scalars(select(Day.id).where(Day.date == today, Day.published_plan_id.is_not(None))))
    raised = resolved = 0
    for day_id in day_ids:
        with transaction(sessions) as session:
            day = session.get_one(Day, day_id)
            up, down = sweep_day(session, day, clock.minutes(day.date), settings)
        raised, resolved = raised + up, resolved + down
    return raised, resolved


def sweep_day(session: Session, day: Day, now: float, settings: Settings) -> tuple[int, int]:
    """Bring the day's alert rows in line with what stands at ``now``."""
    row = store.published(session, day)
    if row is None:
        return 0, 0
    plan = plan_of(row)
    checks = _checks(session, day)
    standing = {
        alert.key: alert
        for alert in watch(
            problem_of(day), plan, checks, now, settings.alert_late_minutes, settings.alert_overrun_minutes
        )
    }
    rows = {
        (a.kind, a.visit, a.carer_id): a for a in session.scalars(select(AlertRow).where(AlertRow.day_id == day.id))
    }
    raised: list[AlertRow] = []
    for key, alert in standing.items():
        kept = rows.get(key)
        if kept is not None and kept.status == "open":
            continue
        kept = kept or AlertRow(org_id=day.org_id, day_id=day.id, kind=alert.kind, visit=alert.visit)
        kept.carer_id, kept.client, kept.due, kept.message = alert.carer, alert.client, alert.due, alert.message
        kept.status, kept.resolution, kept.resolved_at, kept.raised_at = "open", None, None, utcnow()
        session.add(kept)
        raised.append(kept)
    resolved = 0
    for key, kept in rows.items():
        if kept.status == "open" and key not in standing:
            kept.status, kept.resolved_at = "resolved", utcnow()
            kept.resolution = _why_resolved(kept, checks, standing, plan)
            resolved += 1
            feed.post(session, day.org_id, "alert", alert_data(kept), day.date)
    session.flush()
    for kept in raised:
        feed.post(session, day.org_id, "alert", alert_data(kept), day.date)
    if settings.alert_replan:
        _replan_for(session, day, [a for a in raised if a.kind in ("late_start", "missed")], now, settings)
    return len(raised), resolved


def alert_data(row: AlertRow) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "visit": row.visit,
        "carer": row.carer_id,
        "client": row.client,
        "due": format_minutes(row.due),
        "message": row.message,
        "resolution": row.resolution,
        "job": row.job_id,
    }


def _checks(session: Session, day: Day) -> list[CheckIn | CheckOut]:
    out: list[CheckIn | CheckOut] = []
    rows = session.scalars(
        select(EventRow.payload)
        .where(EventRow.day_id == day.id, EventRow.status != "rejected", EventRow.carer_id.is_not(None))
        .order_by(EventRow.id)
    )
    for payload in rows:
        if payload.get("type") == "check_in":
            out.append(CheckIn.model_validate(payload))
        elif payload.get("type") == "check_out":
            out.append(CheckOut.model_validate(payload))
    return out


def _why_resolved(row: AlertRow, checks, standing: dict[tuple[str, str, str], Alert], plan) -> str:
    for check in reversed(checks):
        if check.visit == row.visit and check.carer == row.carer_id:
            what = "checked in" if isinstance(check, CheckIn) else "checked out"
            return f"{what} at {format_minutes(check.at)}"
    if ("missed", row.visit, row.carer_id) in standing:
        return "the visit's window closed: reported missed"
    if not any(r.carer == row.carer_id and any(s.visit == row.visit for s in r.visits) for r in plan.routes):
        return f"replanned: the visit is no longer {row.carer_id}'s"
    if any(c.visit == row.visit for c in checks if isinstance(c, CheckIn)):
        return "another carer checked in"
    return "replanned: the visit starts later"


def _replan_for(session: Session, day: Day, alerts: list[AlertRow], now: float, settings: Settings) -> None:
    """Tell the day the visits of ``alerts`` have not started, and queue a replan."""
    if not alerts:
        return
    service = Principal(subject=WATCH, org=day.org_id, role="service")
    for alert in alerts:
        payload = {"type": "visit_not_started", "visit": alert.visit, "carer": alert.carer_id, "reason": alert.kind}
        store.record_event(
            session,
            day,
            payload,
            now,
            store.actor(service),
            key=f"alert:{day.id}:{alert.kind}:{alert.visit}:{alert.carer_id}",
        )
    job = store.queue_replan(session, day, service, settings.replan_seconds, publish=True)
    for alert in alerts:
        alert.job_id = job.id
