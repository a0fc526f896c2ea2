"""What the service stores (SQLAlchemy 2): organisations, days, plans, jobs, events,
carers' notifications, the audit log, alerts, the feed the streams and webhooks send,
webhooks with their deliveries, the browser's sign-in links and sessions, each
organisation's roster (its carers and clients, a row each, and its settings), and the
management figures of published plans, and the one-off changes to single dates of the
days generated from the roster.

A day's problem and its plans are kept as the library's own JSON (``Problem`` and
``Plan``), so carers, clients and visits are read from the day's problem rather than
copied into tables of their own; everything that happens to a day (jobs, events,
check-ins, who changed what) has its own rows.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    """A care provider (tenant): every other row belongs to one."""

    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Day(Base):
    """One organisation's care day: the problem (carers, clients, visits, travel) and which
    plan is published. ``version`` counts changes to the problem (the ETag)."""

    __tablename__ = "days"
    __table_args__ = (UniqueConstraint("org_id", "date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    date: Mapped[str] = mapped_column(String(10))
    problem: Mapped[str] = mapped_column(Text, deferred=True)  # read only when not cached: see cache.py
    travel_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The problem's travel matrices, stored apart (``travel_store``); None: inside ``problem``."""
    sizes: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    """How many carers, clients, visits and locations the problem holds: lists show them
    without parsing any problem."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    published_plan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    from_roster: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Generated from the roster (``roster_days``) and never edited by hand since: a change
    to the roster regenerates it while it is unpublished. A hand edit detaches it."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlanRow(Base):
    """A plan of a day, numbered per day: a draft, the published one, superseded, or a
    draft discarded. ``problem`` is the day the plan is valid for when it differs from the
    day's current one (a replan's or a move's updated day); publishing the plan makes it
    the day's."""

    __tablename__ = "plans"
    __table_args__ = (
        UniqueConstraint("day_id", "number"),
        Index(  # at most one published plan per day, whoever publishes
            "one_published_plan_per_day",
            "day_id",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    source: Mapped[str] = mapped_column(String(16))
    plan: Mapped[str] = mapped_column(Text, deferred=True)
    problem: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
    travel_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sizes: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    day_version: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TravelRow(Base):
    """Travel matrices of days' problems, once per content (``travel_store``)."""

    __tablename__ = "travel"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    matrices: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """A solve, replan or week's planning run in the worker process. A job interrupted by
    a restart is queued again (``attempts`` counts tries) and fails for good after a few."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    priority: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    """0 a replan absorbing events, 1 a coordinator's replan, 2 a solve (``store.URGENT``...)."""
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(400), default="")
    result_plan_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    """What a job made beyond one plan: a week's plans by date, its report and figures
    (``schemas.WeekResult``); None for a solve or replan."""
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class EventRow(Base):
    """An event reported for a day (absence, new client, check-in, ...), in the library's
    event JSON. ``idempotency_key`` makes a request retried from a phone record once."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("org_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    carer_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    now: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 of the request that recorded the event: a retry must send the same."""
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """What changed in one carer's day when a plan was published: their phone's message."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id"), index=True)
    carer_id: Mapped[str] = mapped_column(String(200), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    changes: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who changed what, and when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FeedEntry(Base):
    """Something that happened, for the streams and webhooks: an event recorded or
    rejected, a job queued or finished, a plan published, an alert raised or resolved
    (``carer_id`` empty: the coordinators'), or a carer's day changed (``carer_id``: that
    carer's). Its id is the Server-Sent Events id a client resumes from."""

    __tablename__ = "feed"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    carer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AlertRow(Base):
    """A visit not going to plan (``carescheduler.day.alerts``): raised by the service's
    watch, resolved when it no longer stands (a late check-in, a replan moving the visit)."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("day_id", "kind", "visit", "carer_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    visit: Mapped[str] = mapped_column(String(200))
    carer_id: Mapped[str] = mapped_column(String(200))
    client: Mapped[str] = mapped_column(String(200))
    due: Mapped[float] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class Webhook(Base):
    """An integration system's endpoint: the organisation's feed is POSTed to it, signed
    with ``secret`` (HMAC-SHA256). ``cursor`` is the last feed entry queued for it."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One feed entry sent (or to send) to one webhook: tried until the receiver answers
    2xx, with growing waits between tries, then given up; a replay sends it again."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "feed_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feed.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SignInLink(Base):
    """A one-time link that signs a coordinator (or a carer) in to a browser
    (``browser_sessions``). Only the SHA-256 of its token is kept: the database never
    holds a link anyone could use. ``used_at`` is set by the one sign-in it allows."""

    __tablename__ = "sign_in_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    carer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class BrowserSession(Base):
    """A browser signed in (the board's cookie): by a sign-in link or a bearer token pasted
    into the sign-in page. Only the SHA-256 of the session id (the cookie's value) is kept.
    It ends at ``expires_at`` (``session_hours`` after sign-in) or when signed out."""

    __tablename__ = "browser_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    carer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class RosterState(Base):
    """An organisation's roster as a whole: its settings (``RosterSettings`` JSON; None: the
    defaults) and its version. ``version`` counts changes to the roster (its settings, a
    carer, a client, an import): the whole roster's ETag, and the order writers take (a
    change holds this row first). Each part records the version it last changed at, so
    an ETag is never reused, even for a carer removed and added again."""

    __tablename__ = "roster_state"
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    settings: Mapped[str | None] = mapped_column(Text, nullable=True)
    settings_version: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RosterCarerRow(Base):
    """One carer of an organisation's roster (``RosterCarer`` JSON), changed at ``version``
    of the roster (its ETag)."""

    __tablename__ = "roster_carers"
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RosterClientRow(Base):
    """One client of an organisation's roster with their care package (``RosterClient``
    JSON), changed at ``version`` of the roster (its ETag)."""

    __tablename__ = "roster_clients"
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FigureRow(Base):
    """Management figures of a day's published plan (``carescheduler.roster.figures``): one
    row for the day (``scope`` "day", ``subject`` empty), one per carer and one per client,
    their figures as JSON. Written when a plan is published (``plan_figures.store``),
    replacing the day's earlier rows. Missed visits need the phones' check-ins, which come
    after: once the day has passed the rows are computed again with the visits' statuses
    (``after_day``), and again whenever a newer event of the day is stored
    (``events_up_to``: the last event they include)."""

    __tablename__ = "plan_figures"
    __table_args__ = (
        UniqueConstraint("plan_id", "scope", "subject"),
        Index("ix_plan_figures_org_id_date", "org_id", "date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64))
    date: Mapped[str] = mapped_column(String(10))
    day_id: Mapped[int] = mapped_column(ForeignKey("days.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    scope: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(200))
    figures: Mapped[dict] = mapped_column(JSON)
    after_day: Mapped[bool] = mapped_column(Boolean, default=False)
    events_up_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DayChangesRow(Base):
    """The one-off changes to one date of the days generated from the roster
    (``DayChanges`` JSON), kept apart from the roster so that a change to a care package
    still reaches the day. ``version`` counts writes of the date's changes (the ETag);
    removing them keeps the row with ``changes`` None, so an ETag is never given twice."""

    __tablename__ = "day_changes"
    __table_args__ = (UniqueConstraint("org_id", "date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    date: Mapped[str] = mapped_column(String(10))
    changes: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
