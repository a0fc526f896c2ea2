"""Reading and writing the service's rows: days, plans, jobs, events, notifications and
the audit log. No HTTP here (routes call these) and no scheduling (the worker calls the
library)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from carescheduler import Plan, Problem
from carescheduler.plan import carer_changes, starts_by_carer

from .cache import plan_of, problem_of
from .models import AuditEntry, Day, EventRow, Job, Notification, Organisation, PlanRow, utcnow
from .security import Principal

TOLERANCE_MINUTES = 15.0
"""A start moved by more than this is news to the carer."""


def actor(principal: Principal) -> str:
    return f"{principal.role}:{principal.subject}"


def audit(session: Session, principal: Principal, action: str, target: str, **detail) -> None:
    session.add(
        AuditEntry(
            org_id=principal.org,
            actor=principal.subject,
            role=principal.role,
            action=action,
            target=target,
            detail=detail,
        )
    )


# --- organisations and days ----------------------------------------------------------------


def ensure_org(session: Session, org_id: str, name: str | None = None) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        org = Organisation(id=org_id, name=name or org_id)
        session.add(org)
        session.flush()
    return org


def find_day(session: Session, org: str, date: str) -> Day | None:
    return session.scalar(select(Day).where(Day.org_id == org, Day.date == date))


def list_days(session: Session, org: str) -> list[Day]:
    return list(session.scalars(select(Day).where(Day.org_id == org).order_by(Day.date)))


def etag(day: Day) -> str:
    """Changes whenever the day's problem or its published plan does."""
    return f'"{day.id}.{day.version}.{day.published_plan_id or 0}"'


def put_day(session: Session, org: str, date: str, problem: Problem, existing: Day | None) -> Day:
    text = problem.model_dump_json()
    if existing is None:
        day = Day(org_id=org, date=date, problem=text, version=1)
        session.add(day)
    else:
        day = existing
        day.problem = text
        day.version += 1
    session.flush()
    return day


def day_problem(day: Day) -> Problem:
    """The day's problem (parsed once per version: see ``cache``)."""
    return problem_of(day)


# --- plans ------------------------------------------------------------------------------------


def add_plan(
    session: Session,
    day: Day,
    plan: Plan,
    source: str,
    created_by: str,
    problem: Problem | None = None,
    changes: dict | None = None,
) -> PlanRow:
    number = (session.scalar(select(func.max(PlanRow.number)).where(PlanRow.day_id == day.id)) or 0) + 1
    row = PlanRow(
        day_id=day.id,
        number=number,
        status="draft",
        source=source,
        plan=plan.model_dump_json(),
        problem=problem.model_dump_json() if problem is not None else None,
        day_version=day.version,
        changes=changes,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def plans_of(session: Session, day: Day) -> list[PlanRow]:
    return list(session.scalars(select(PlanRow).where(PlanRow.day_id == day.id).order_by(PlanRow.number)))


def plan_number(session: Session, day: Day, number: int) -> PlanRow | None:
    return session.scalar(select(PlanRow).where(PlanRow.day_id == day.id, PlanRow.number == number))


def published(session: Session, day: Day) -> PlanRow | None:
    return session.get(PlanRow, day.published_plan_id) if day.published_plan_id else None


def publish(session: Session, day: Day, row: PlanRow) -> list[Notification]:
    """Make ``row`` the day's plan (and its day the day's problem), and tell each carer
    whose day changed what changed."""
    before = published(session, day)
    old_starts = starts_by_carer(plan_of(before)) if before is not None else {}
    new_starts = starts_by_carer(plan_of(row))
    if before is not None:
        before.status = "superseded"
    if row.problem is not None:
        day.problem = row.problem
        day.version += 1
    row.status = "published"
    day.published_plan_id = row.id
    notes = []
    for change in carer_changes(old_starts, new_starts, TOLERANCE_MINUTES):
        note = Notification(
            org_id=day.org_id, day_id=day.id, carer_id=change.carer, plan_id=row.id, changes=change.model_dump()
        )
        session.add(note)
        notes.append(note)
    session.flush()
    return notes


def notifications(session: Session, day: Day, carer: str, after: int = 0) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.day_id == day.id, Notification.carer_id == carer, Notification.id > after)
            .order_by(Notification.id)
        )
    )


# --- jobs ------------------------------------------------------------------------------------


def add_job(session: Session, day: Day, kind: str, params: dict, created_by: str) -> Job:
    job = Job(org_id=day.org_id, day_id=day.id, kind=kind, params=params, created_by=created_by)
    session.add(job)
    session.flush()
    return job


def claim_next_job(session: Session) -> Job | None:
    """The oldest queued job, marked running (only one worker can win it)."""
    for job in session.scalars(select(Job).where(Job.status == "queued").order_by(Job.created_at).limit(5)):
        # An UPDATE's result is a CursorResult (it has a rowcount); Session.execute is typed as any Result.
        won = cast(
            CursorResult[Any],
            session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "queued")
                .values(status="running", started_at=utcnow(), attempts=Job.attempts + 1)
            ),
        )
        if won.rowcount == 1:
            session.flush()
            session.refresh(job)
            return job
    return None


def requeue_interrupted(session: Session, max_attempts: int = 3) -> tuple[int, int]:
    """After a restart: jobs left running are queued again, or failed after
    ``max_attempts`` tries. Returns (queued again, failed)."""
    again = failed = 0
    for job in session.scalars(select(Job).where(Job.status == "running")):
        if job.attempts >= max_attempts:
            job.status, job.finished_at = "failed", utcnow()
            job.error = f"interrupted {job.attempts} times (the server restarted while it ran)"
            failed += 1
        else:
            job.status, job.message = "queued", "interrupted by a restart: queued again"
            again += 1
    return again, failed


# --- events ------------------------------------------------------------------------------


def record_event(
    session: Session, day: Day, payload: dict, now: float, created_by: str, key: str | None
) -> tuple[EventRow, bool]:
    """Store an event; with an idempotency key already used, the first one (and False)."""
    if key is not None:
        seen = session.scalar(select(EventRow).where(EventRow.org_id == day.org_id, EventRow.idempotency_key == key))
        if seen is not None:
            return seen, False
    carer = payload.get("carer")  # an id, except in carer_added (the whole carer)
    row = EventRow(
        org_id=day.org_id,
        day_id=day.id,
        payload=payload,
        carer_id=carer if isinstance(carer, str) else None,
        now=now,
        idempotency_key=key,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row, True


def queue_replan(
    session: Session, day: Day, principal: Principal, time_limit: float, now: float | None, publish: bool
) -> Job:
    """A replan job over the day's pending events (up to the last one stored now)."""
    pending = pending_events(session, day)
    params = {
        "time_limit": time_limit,
        "now": now,
        "publish": publish,
        "up_to_event": pending[-1].id if pending else None,
    }
    job = add_job(session, day, "replan", params, actor(principal))
    audit(session, principal, "replan", day.date, job=job.id, events=len(pending))
    return job


def pending_events(session: Session, day: Day, up_to: int | None = None) -> list[EventRow]:
    query = select(EventRow).where(EventRow.day_id == day.id, EventRow.status == "pending")
    if up_to is not None:
        query = query.where(EventRow.id <= up_to)
    return list(session.scalars(query.order_by(EventRow.id)))
