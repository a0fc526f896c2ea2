"""The feed: what happened, in order, for the streams and the webhooks.

Whatever changes the live day writes a feed entry in the same transaction (an event
recorded or rejected, a job queued, started or finished, a plan published, an alert
raised or resolved, and for each carer whose day a plan changed, what changed). Entries
written by any process of any service instance reach every stream, because the streams
read the table: one ``FeedHub`` per web process polls it while someone listens and hands
each new entry to the listeners it is for. An entry's id is its Server-Sent Events id, so
a client that lost its connection resumes with ``Last-Event-ID`` and misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from .models import Day, Delivery, EventRow, FeedEntry, Job

KINDS = ("event", "job", "plan", "alert", "day_changed")
"""What a feed entry can be about; ``day_changed`` entries are a carer's own."""

REPLAY_LIMIT = 1000
"""At most this many entries are replayed to a client resuming from ``Last-Event-ID``
(older ones: read the lists)."""


def post(
    session: Session, org: str, kind: str, data: dict, date: str | None = None, carer: str | None = None
) -> FeedEntry:
    """Add an entry (sent when the caller's transaction commits)."""
    assert kind in KINDS, kind
    entry = FeedEntry(org_id=org, kind=kind, data=data, date=date, carer_id=carer)
    session.add(entry)
    return entry


@dataclass(frozen=True)
class Audience:
    """Whom a stream is for: an organisation's coordinators (``carer`` None: everything
    but carers' own entries), or one carer (their ``day_changed`` entries); ``date``
    narrows either to one day."""

    org: str
    carer: str | None = None
    date: str | None = None

    def wants(self, entry: FeedEntry) -> bool:
        return (
            entry.org_id == self.org and entry.carer_id == self.carer and (self.date is None or entry.date == self.date)
        )


def since(session: Session, audience: Audience, after: int, limit: int = REPLAY_LIMIT) -> list[FeedEntry]:
    """The audience's entries after ``after``, oldest first."""
    query = select(FeedEntry).where(FeedEntry.org_id == audience.org, FeedEntry.id > after)
    query = query.where(
        FeedEntry.carer_id.is_(None) if audience.carer is None else FeedEntry.carer_id == audience.carer
    )
    if audience.date is not None:
        query = query.where(FeedEntry.date == audience.date)
    return list(session.scalars(query.order_by(FeedEntry.id).limit(limit)))


def prune(session: Session, before: dt.datetime) -> int:
    """Forget entries (and finished webhook deliveries) older than ``before``: the feed is
    for what is happening, the lists keep the record. Entries with deliveries still
    pending stay. Returns how many entries went."""
    session.execute(delete(Delivery).where(Delivery.status != "pending", Delivery.created_at < before))
    waiting = select(Delivery.feed_id)
    gone = session.execute(delete(FeedEntry).where(FeedEntry.created_at < before, FeedEntry.id.not_in(waiting)))
    return gone.rowcount or 0  # type: ignore[attr-defined]


def last_id(session: Session) -> int:
    return session.scalar(select(func.max(FeedEntry.id))) or 0


def as_message(entry: FeedEntry) -> dict:
    """The entry as a Server-Sent Event: its id, its kind as the event name, JSON data."""
    data = {**entry.data, "date": entry.date, "at": entry.created_at.isoformat() + "+00:00"}
    return {"id": str(entry.id), "event": entry.kind, "data": json.dumps(data)}


class FeedHub:
    """Reads new feed entries once for all of a process's listeners, every
    ``poll_seconds`` while anyone listens, and queues each for the listeners it is for.

    Ids are handed out in commit order on SQLite (one writer at a time) but not always
    on PostgreSQL, where a transaction that started earlier can commit a smaller id
    later; the hub reads again from ``lag`` entries back and skips what it has sent, so
    a late commit is still delivered (in the order it became visible)."""

    lag = 200
    queue_size = 10_000
    """Entries waiting for one slow listener: beyond that its stream is closed (it resumes
    with ``Last-Event-ID`` and misses nothing), rather than entries dropped unseen."""

    def __init__(self, sessions: sessionmaker[Session], poll_seconds: float = 0.5):
        self._sessions = sessions
        self.poll_seconds = poll_seconds
        self._listeners: dict[int, tuple[Audience, asyncio.Queue]] = {}
        self._next_listener = 0
        self._task: asyncio.Task | None = None
        self._cursor: int | None = None
        self._sent: set[int] = set()
        self._overflowed: set[int] = set()

    async def listen(self, audience: Audience) -> tuple[int, asyncio.Queue]:
        """A queue that receives the audience's entries from now on (and a handle to stop)."""
        if self._cursor is None:
            self._cursor, self._sent = await run_in_threadpool(self._read_recent)
        queue: asyncio.Queue = asyncio.Queue(maxsize=self.queue_size)
        handle = self._next_listener
        self._next_listener += 1
        self._listeners[handle] = (audience, queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        return handle, queue

    def stop_listening(self, handle: int) -> None:
        self._listeners.pop(handle, None)
        self._overflowed.discard(handle)

    def overflowed(self, handle: int) -> bool:
        """Whether the listener fell so far behind that its stream must end."""
        return handle in self._overflowed

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _read_recent(self) -> tuple[int, set[int]]:
        """Where listening starts: the last entry, and those within ``lag`` of it (sent
        before anyone listened, so not to be sent as late commits)."""
        with self._sessions() as session:
            last = last_id(session)
            recent = set(session.scalars(select(FeedEntry.id).where(FeedEntry.id > last - self.lag)))
        return last, recent

    def _read_new(self) -> list[FeedEntry]:
        """Entries not sent yet: the ids of the last ``lag`` first (cheap), then the rows."""
        assert self._cursor is not None
        with self._sessions() as session:
            ids = session.scalars(select(FeedEntry.id).where(FeedEntry.id > self._cursor - self.lag)).all()
            fresh = sorted(i for i in ids if i not in self._sent)[:5000]
            if not fresh:
                return []
            rows = list(session.scalars(select(FeedEntry).where(FeedEntry.id.in_(fresh)).order_by(FeedEntry.id)))
            session.expunge_all()
        return rows

    async def _poll(self) -> None:
        while self._listeners:
            try:
                fresh = await run_in_threadpool(self._read_new)
            except Exception:  # the database is away for a moment: try again next time
                fresh = []
            for entry in fresh:
                self._sent.add(entry.id)
                for handle, (audience, queue) in list(self._listeners.items()):
                    if not audience.wants(entry) or handle in self._overflowed:
                        continue
                    if queue.full():
                        self._overflowed.add(handle)
                    else:
                        queue.put_nowait(entry)
            if fresh:
                self._cursor = max(self._cursor or 0, max(e.id for e in fresh))
                floor = self._cursor - self.lag
                self._sent = {i for i in self._sent if i > floor}
            await asyncio.sleep(self.poll_seconds)
        self._task, self._cursor = None, None  # the next listener starts from its own now


def stream(
    hub: FeedHub,
    sessions: sessionmaker[Session],
    audience: Audience,
    last_event_id: int | None,
    is_disconnected: Callable,
):
    """The Server-Sent Events of ``audience``: first what it missed after
    ``last_event_id`` (if given), then each new entry as it comes."""

    async def events():
        handle, queue = await hub.listen(audience)  # listening first: nothing slips between
        try:
            replayed: set[int] = set()
            if last_event_id is not None:

                def missed() -> list[FeedEntry]:
                    with sessions() as session:
                        rows = since(session, audience, last_event_id)
                        session.expunge_all()
                    return rows

                for entry in await run_in_threadpool(missed):
                    replayed.add(entry.id)
                    yield as_message(entry)
            while not await is_disconnected():
                if hub.overflowed(handle) and queue.empty():
                    return  # it fell behind: the client resumes from its last event
                try:
                    entry = await asyncio.wait_for(queue.get(), timeout=hub.poll_seconds * 4)
                except TimeoutError:
                    continue
                if entry.id not in replayed:
                    yield as_message(entry)
        finally:
            hub.stop_listening(handle)

    return events()


# --- what the rest of the service posts ------------------------------------------------


def job_changed(session: Session, job: Job, plan: int | None = None) -> None:
    """A job was queued, started, or ended (``plan``: the number of the plan it made)."""
    error = job.error.splitlines()[0][:300] if job.error else None
    data: dict = {"id": job.id, "kind": job.kind, "status": job.status, "message": job.message, "error": error}
    if plan is not None:
        data["plan"] = plan
    post(session, job.org_id, "job", data, _date_of(session, job.day_id))


def event_changed(session: Session, event: EventRow, plan: int | None = None) -> None:
    """An event was recorded (pending), applied (by plan ``plan``) or rejected."""
    data: dict = {
        "id": event.id,
        "type": event.payload.get("type"),
        "carer": event.carer_id,
        "visit": event.payload.get("visit") if isinstance(event.payload.get("visit"), str) else None,
        "status": event.status,
        "error": event.error,
        "job": event.job_id,
        "created_by": event.created_by,
    }
    if plan is not None:
        data["plan"] = plan
    post(session, event.org_id, "event", data, _date_of(session, event.day_id))


def _date_of(session: Session, day_id: int) -> str | None:
    return session.scalar(select(Day.date).where(Day.id == day_id))
