"""Reading and writing the service's rows: days, plans, jobs, events, notifications and
the audit log; each change of the live day is also posted to the feed (``feed.py``). No
HTTP here (routes call these) and no scheduling (the worker calls the library)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from carescheduler import InputError, Plan, Problem
from carescheduler.plan import carer_changes, starts_by_carer

from . import feed, plan_figures, travel_store
from .cache import plan_of, plan_problem, problem_of, remember
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
    """The organisation, created on its first write. Two first writes at the same moment
    both go on: the second insert does nothing (``ON CONFLICT DO NOTHING``)."""
    org = session.get(Organisation, org_id)
    if org is None:
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        row = {"id": org_id, "name": name or org_id, "created_at": utcnow()}
        session.execute(insert(Organisation).values(**row).on_conflict_do_nothing(index_elements=["id"]))
        org = session.get_one(Organisation, org_id)
    return org


class DayExists(Exception):
    """Someone else created the day between our look and our insert."""


def find_day(session: Session, org: str, date: str) -> Day | None:
    return session.scalar(select(Day).where(Day.org_id == org, Day.date == date))


def list_days(session: Session, org: str, after: str = "", limit: int | None = None) -> list[Day]:
    """The organisation's days in date order (after the date ``after``: ISO dates sort as text)."""
    query = select(Day).where(Day.org_id == org, Day.date > after).order_by(Day.date)
    return list(session.scalars(query.limit(limit)))


def etag(day: Day) -> str:
    """Changes whenever the day's problem or its published plan does."""
    return f'"{day.id}.{day.version}.{day.published_plan_id or 0}"'


def hold_day(session: Session, day: Day) -> bool:
    """Compare and set: hold ``day`` for this transaction if it is still as read (same
    version, same published plan); False if another writer changed it since.

    One conditional ``UPDATE`` (it changes nothing): on PostgreSQL it waits for a writer
    holding the row and then sees that writer's commit; on SQLite it waits for the one
    write lock (a read takes no lock there until the first write). Either way the row is
    then held until this transaction ends, so the change the caller makes next is made to
    the day it checked."""
    held = session.execute(
        update(Day)
        .where(
            Day.id == day.id,
            Day.version == day.version,
            func.coalesce(Day.published_plan_id, 0) == (day.published_plan_id or 0),
        )
        .values(version=Day.version)
        .execution_options(synchronize_session=False)
    )
    return held.rowcount == 1  # type: ignore[attr-defined]


def hold_current(session: Session, day_id: int) -> Day:
    """The day as it is now, held for this transaction (a worker's write, which has no
    ETag to compare: it checks what it needs on the day it holds)."""
    day = session.get_one(Day, day_id, populate_existing=True)
    for _ in range(10):
        if hold_day(session, day):
            return day
        session.refresh(day)  # another writer got in between the read and the hold
    raise RuntimeError(f"could not hold day {day_id}: it kept changing")


def sizes(problem: Problem) -> dict[str, int]:
    return {
        "carers": len(problem.carers),
        "clients": len(problem.clients),
        "visits": len(problem.visits),
        "locations": len(problem.locations),
    }


def put_day(
    session: Session, org: str, date: str, problem: Problem, existing: Day | None, from_roster: bool = False
) -> Day:
    """Create or replace the day's problem. Written by hand (``from_roster`` False) a day
    generated from the roster is detached from it: the roster no longer regenerates it."""
    text, travel_key = travel_store.store(session, problem)
    if existing is None:
        day = Day(
            org_id=org,
            date=date,
            problem=text,
            travel_key=travel_key,
            sizes=sizes(problem),
            version=1,
            from_roster=from_roster,
        )
        session.add(day)
        try:
            session.flush()
        except IntegrityError:
            raise DayExists(date) from None  # the caller's transaction rolls back whole
        return day
    existing.problem, existing.travel_key, existing.sizes = text, travel_key, sizes(problem)
    existing.version += 1
    existing.from_roster = from_roster
    session.flush()
    return existing


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
    day_version: int | None = None,
) -> PlanRow:
    """A draft plan of ``day`` (as it was at ``day_version``, by default as it is now)."""
    number = (session.scalar(select(func.max(PlanRow.number)).where(PlanRow.day_id == day.id)) or 0) + 1
    text, travel_key = travel_store.store(session, problem) if problem is not None else (None, None)
    row = PlanRow(
        day_id=day.id,
        number=number,
        status="draft",
        source=source,
        plan=plan.model_dump_json(),
        problem=text,
        travel_key=travel_key,
        sizes=sizes(problem) if problem is not None else None,
        day_version=day.version if day_version is None else day_version,
        changes=changes,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def plans_of(session: Session, day: Day, after: int = 0, limit: int | None = None) -> list[PlanRow]:
    query = select(PlanRow).where(PlanRow.day_id == day.id, PlanRow.number > after).order_by(PlanRow.number)
    return list(session.scalars(query.limit(limit)))


def plan_number(session: Session, day: Day, number: int) -> PlanRow | None:
    return session.scalar(select(PlanRow).where(PlanRow.day_id == day.id, PlanRow.number == number))


def published(session: Session, day: Day) -> PlanRow | None:
    return session.get(PlanRow, day.published_plan_id) if day.published_plan_id else None


def publish(session: Session, day: Day, row: PlanRow, problem: Problem | None = None) -> list[Notification]:
    """Make ``row`` the day's plan (and its day the day's problem), tell each carer whose
    day changed what changed, and store the plan's management figures
    (``plan_figures``). The day's other move drafts were edits of the plan this one
    replaces: they are superseded with it. ``problem`` is the day the plan is for, when
    the caller has it parsed (a replan's); else it is read (and kept in the cache)."""
    parsed = problem is None and row.problem is not None
    problem = problem if problem is not None else plan_problem(day, row)
    before = published(session, day)
    old_starts = starts_by_carer(plan_of(before)) if before is not None else {}
    new_starts = starts_by_carer(plan_of(row))
    if before is not None:
        before.status = "superseded"
        session.flush()  # before the new one is published: one published plan per day (an index)
    session.execute(
        update(PlanRow)
        .where(PlanRow.day_id == day.id, PlanRow.status == "draft", PlanRow.source == "move", PlanRow.id != row.id)
        .values(status="superseded")
        .execution_options(synchronize_session="fetch")
    )
    if row.problem is not None:
        day.problem, day.travel_key = row.problem, row.travel_key
        day.sizes = row.sizes or day.sizes
        day.version += 1
    row.status = "published"
    day.published_plan_id = row.id
    _apply_drafted_events(session, row)
    plan = plan_of(row)
    summary = {"number": row.number, "source": row.source, "cost": plan.cost.total, "unassigned": len(plan.unassigned)}
    feed.post(session, day.org_id, "plan", {**summary, "status": "published"}, day.date)
    notes = []
    for change in carer_changes(old_starts, new_starts, TOLERANCE_MINUTES):
        note = Notification(
            org_id=day.org_id, day_id=day.id, carer_id=change.carer, plan_id=row.id, changes=change.model_dump()
        )
        session.add(note)
        notes.append(note)
        feed.post(
            session, day.org_id, "day_changed", {"plan": row.number, "changes": note.changes}, day.date, change.carer
        )
    plan_figures.store(session, day, row, problem, plan)
    session.flush()
    if parsed:
        remember(day, problem, row, plan)  # the board and the phones read this day next
    return notes


def discard(session: Session, day: Day, row: PlanRow) -> str:
    """Set a draft aside: it can no longer be published (or moved from). Returns the
    plan's status after: ``discarded``, or what it is if it was no draft. Events a replan
    drafted it from (``publish`` false) stay pending: the next replan absorbs them."""
    hold_current(session, day.id)  # waits for a publish under way, which then wins
    session.refresh(row)
    if row.status == "draft":
        row.status = "discarded"
        session.flush()
    return row.status


def _apply_drafted_events(session: Session, row: PlanRow) -> None:
    """Events a replan drafted ``row`` from (``publish`` false) are applied once it is
    published; until then they stay pending, and the next replan still absorbs them."""
    made_by = select(Job.id).where(Job.result_plan_id == row.id)
    for event in session.scalars(select(EventRow).where(EventRow.status == "pending", EventRow.job_id.in_(made_by))):
        event.status = "applied"
        feed.event_changed(session, event, row.number)


def notifications(session: Session, day: Day, carer: str, after: int = 0) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.day_id == day.id, Notification.carer_id == carer, Notification.id > after)
            .order_by(Notification.id)
        )
    )


# --- jobs ------------------------------------------------------------------------------------


URGENT, REPLAN, SOLVE = 0, 1, 2
"""Job priorities, most urgent first: a replan absorbing events (a carer off sick, a new
client), a coordinator's replan, a solve. A worker takes the most urgent queued job."""


def add_job(session: Session, day: Day, kind: str, params: dict, created_by: str, priority: int = SOLVE) -> Job:
    job = Job(org_id=day.org_id, day_id=day.id, kind=kind, params=params, created_by=created_by, priority=priority)
    session.add(job)
    session.flush()
    feed.job_changed(session, job)
    return job


def solves_in_hand(session: Session, org: str) -> int:
    """How many solves (a day's or a week's) the organisation has queued or running."""
    return (
        session.scalar(
            select(func.count()).where(
                Job.org_id == org, Job.kind.in_(["solve", "week", "week_replan"]), Job.status.in_(["queued", "running"])
            )
        )
        or 0
    )


def claim_next_job(session: Session, kinds: Collection[str] | None = None) -> Job | None:
    """The most urgent queued job (oldest first within a priority), of ``kinds`` if given,
    marked running. Several workers, even in several service instances, may ask at once:
    the claim is one ``UPDATE ... WHERE id = (SELECT ...)`` statement, which on PostgreSQL
    locks the row it picks and skips rows others hold (``FOR UPDATE SKIP LOCKED``), and on
    SQLite takes the single write lock before it reads. A day's replans run one at a time
    (each starts from the plan the last one published). Within a priority, the
    organisation with the fewest jobs running goes first (a fair share of the workers)."""
    busy_days = select(Job.day_id).where(Job.status == "running", Job.kind == "replan")
    pick = select(Job.id).where(Job.status == "queued", or_(Job.kind != "replan", Job.day_id.not_in(busy_days)))
    if kinds is not None:
        pick = pick.where(Job.kind.in_(list(kinds)))
    running = aliased(Job)
    share = (  # jobs the same organisation has running: the fewest go first, so no one crowds others out
        select(func.count()).where(running.org_id == Job.org_id, running.status == "running").scalar_subquery()
    )
    pick = pick.order_by(Job.priority, share, Job.created_at, Job.id).limit(1).with_for_update(skip_locked=True)
    won = session.execute(
        update(Job)
        .where(Job.id == pick.scalar_subquery(), Job.status == "queued")
        .values(status="running", started_at=utcnow(), attempts=Job.attempts + 1)
        .returning(Job.id)
    ).scalar()
    if won is None:
        return None
    job = session.get_one(Job, won, populate_existing=True)
    feed.job_changed(session, job)
    return job


def requeue_interrupted(session: Session, max_attempts: int = 3) -> tuple[int, int]:
    """After a restart: jobs left running are queued again, or failed after
    ``max_attempts`` tries. Returns (queued again, failed)."""
    again = failed = 0
    for job in session.scalars(select(Job).where(Job.status == "running")):
        if job.cancel_requested:  # cancelled while it ran: it stays cancelled
            job.status, job.finished_at, job.message = "cancelled", utcnow(), "cancelled"
            feed.job_changed(session, job)
        elif job.attempts >= max_attempts:
            job.status, job.finished_at = "failed", utcnow()
            job.error = f"interrupted {job.attempts} times (the server restarted while it ran)"
            failed += 1
        else:
            job.status, job.message = "queued", "interrupted by a restart: queued again"
            again += 1
    return again, failed


# --- events ------------------------------------------------------------------------------


def request_hash(*parts: object) -> str:
    """A fingerprint of a request (its route and body): a retry must send the same."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def caller_key(principal: Principal, key: str | None, part: int | None = None) -> str | None:
    """The stored form of a caller's ``Idempotency-Key`` (of one event of a batch, with
    ``part``): scoped to the caller, so no one can send a key that matches another's, and
    hashed, so it fits the column however long the caller's id and key are."""
    if key is None:
        return None
    return hashlib.sha256(json.dumps([actor(principal), key, part]).encode()).hexdigest()


def keyed_event(session: Session, org: str, key: str | None, fingerprint: str) -> EventRow | None:
    """The event already recorded under the idempotency ``key`` (the request is a retry),
    or None. Raises ``InputError`` when the key was used for another request: replaying
    the first answer to a different request would hide that it was never recorded."""
    if key is None:
        return None
    seen = session.scalar(select(EventRow).where(EventRow.org_id == org, EventRow.idempotency_key == key))
    if seen is not None and seen.request_hash is not None and seen.request_hash != fingerprint:
        raise InputError(
            "Idempotency-Key",
            f"already used at {seen.created_at:%H:%M:%S} for another request; a retry sends the same "
            "request with the same key, a new request a new key",
        )
    return seen


def record_event(
    session: Session,
    day: Day,
    payload: dict,
    now: float,
    created_by: str,
    key: str | None = None,
    fingerprint: str | None = None,
) -> tuple[EventRow, bool]:
    """Store an event once: with an idempotency key already used by the same request, the
    event it recorded (and False). The database's unique key decides (callers look a retry
    up first with ``keyed_event``; two copies arriving together: one gets in, the other
    gets the winner's event)."""
    fingerprint = fingerprint or request_hash(payload)
    carer = payload.get("carer")  # an id, except in carer_added (the whole carer)
    row = EventRow(
        org_id=day.org_id,
        day_id=day.id,
        payload=payload,
        carer_id=carer if isinstance(carer, str) else None,
        now=now,
        idempotency_key=key,
        request_hash=fingerprint,
        created_by=created_by,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        seen = keyed_event(session, day.org_id, key, fingerprint)
        if seen is None:
            raise
        return seen, False
    feed.event_changed(session, row)
    return row, True


def events_of(
    session: Session, day: Day, status: str | None = None, after: int = 0, limit: int = 100
) -> list[tuple[EventRow, int | None]]:
    """The day's events in the order they came (after event ``after``), each with the
    number of the plan that applied it (None while pending or if rejected)."""
    query = (
        select(EventRow, PlanRow.number)
        .outerjoin(Job, Job.id == EventRow.job_id)
        .outerjoin(PlanRow, PlanRow.id == Job.result_plan_id)
        .where(EventRow.day_id == day.id, EventRow.id > after)
    )
    if status is not None:
        query = query.where(EventRow.status == status)
    rows = session.execute(query.order_by(EventRow.id).limit(limit))
    return [(row, number if row.status == "applied" else None) for row, number in rows]


def queue_replan(session: Session, day: Day, principal: Principal, time_limit: float, publish: bool) -> Job:
    """A replan job over the day's pending events (up to the last one stored now), run at
    the service's clock when it starts. With events to absorb it is urgent (before a
    coordinator's replan of a quiet day); either comes before any solve. A queued solve of the day that was
    to publish is cancelled: the carers are told this replan, and a plan made from scratch
    published after it would move their visits again."""
    pending = pending_events(session, day)
    params = {
        "time_limit": time_limit,
        "publish": publish,
        "up_to_event": pending[-1].id if pending else None,
    }
    priority = URGENT if pending else REPLAN
    job = _join_queued_replan(session, day, params, priority) or add_job(
        session, day, "replan", params, actor(principal), priority
    )
    superseded = [
        solve.id
        for solve in session.scalars(
            select(Job).where(Job.day_id == day.id, Job.kind == "solve", Job.status == "queued")
        )
        if solve.params.get("publish")
    ]
    if superseded:
        cancelled = session.scalars(
            update(Job)
            .where(Job.id.in_(superseded), Job.status == "queued")
            .values(
                status="cancelled",
                cancel_requested=True,
                finished_at=utcnow(),
                message=f"superseded by replan {job.id} (it would have published over the replanned day)",
            )
            .returning(Job.id)
        ).all()
        for solve_id in cancelled:
            feed.job_changed(session, session.get_one(Job, solve_id, populate_existing=True))
    audit(session, principal, "replan", day.date, job=job.id, events=len(pending), superseded=superseded)
    return job


def _join_queued_replan(session: Session, day: Day, params: dict, priority: int) -> Job | None:
    """A replan of the day already queued (not yet started) with the same settings, now
    reaching the newest events: a burst of events (twenty sick calls at once, or a
    client's flood) makes one replan, not one each. The job's row is locked while it is
    changed (``FOR UPDATE``; SQLite has one writer at a time anyway), so of requests
    joining at once none undoes another's reach (it only grows), and a worker that
    claimed the job meanwhile runs it as it was while a new job takes these events."""
    same = [
        job.id
        for job in session.scalars(
            select(Job).where(Job.day_id == day.id, Job.kind == "replan", Job.status == "queued")
        )
        if job.params.get("publish") == params["publish"] and job.params.get("time_limit") == params["time_limit"]
    ]
    for job_id in same:
        job = session.scalar(
            select(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if job is None:
            continue
        reach = [r for r in (job.params.get("up_to_event"), params["up_to_event"]) if r is not None]
        job.params = {**params, "up_to_event": max(reach, default=None)}
        job.priority = min(job.priority, priority)
        session.flush()
        return job
    return None


def pending_events(session: Session, day: Day, up_to: int | None = None) -> list[EventRow]:
    query = select(EventRow).where(EventRow.day_id == day.id, EventRow.status == "pending")
    if up_to is not None:
        query = query.where(EventRow.id <= up_to)
    return list(session.scalars(query.order_by(EventRow.id)))
