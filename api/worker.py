"""Solve and replan jobs, run in a worker process apart from the web server.

The web process only queues jobs (rows in the ``jobs`` table); the worker claims the
oldest queued one, runs the library, and writes the plan back. A solve holds a core for
its whole time limit, so it runs in its own process and the API keeps answering. The
job's progress is written as it goes, and a cancel request stops it at the next report.
Because jobs live in the database, one interrupted by a restart is found and queued
again (``store.requeue_interrupted``).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
import traceback

from sqlalchemy.orm import Session, sessionmaker

from carescheduler import InputError, Plan, replan, solve

from . import store
from .db import make_engine, session_factory, transaction
from .models import Day, EventRow, Job, utcnow

POLL_SECONDS = 0.2
"""How often an idle worker looks for a queued job."""

REPORT_SECONDS = 0.5
"""How often a running job writes its progress and looks for a cancel request."""


class Cancelled(Exception):
    """The job was cancelled while it ran."""


def run_pending_jobs(sessions: sessionmaker[Session], limit: int | None = None) -> int:
    """Run queued jobs one after another until none is left (or ``limit``); returns how
    many ran. The worker process loops on this; tests call it directly."""
    ran = 0
    while limit is None or ran < limit:
        with transaction(sessions) as session:
            job = store.claim_next_job(session)
            job_id = job.id if job is not None else None
        if job_id is None:
            return ran
        run_job(sessions, job_id)
        ran += 1
    return ran


def run_job(sessions: sessionmaker[Session], job_id: str) -> None:
    try:
        with transaction(sessions) as session:
            job = session.get_one(Job, job_id)
            kind, params = job.kind, dict(job.params)
        if kind == "solve":
            _solve(sessions, job_id, params)
        elif kind == "replan":
            _replan(sessions, job_id, params)
        else:
            raise ValueError(f"unknown job kind {kind!r}")
    except Cancelled:
        _finish(sessions, job_id, "cancelled", message="cancelled")
    except InputError as error:
        _finish(sessions, job_id, "failed", error=str(error))
    except Exception as error:
        _finish(sessions, job_id, "failed", error=f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}")


def _finish(
    sessions, job_id: str, status: str, error: str | None = None, message: str | None = None, plan_id: int | None = None
) -> None:
    with transaction(sessions) as session:
        job = session.get_one(Job, job_id)
        job.status, job.finished_at = status, utcnow()
        job.progress = 1.0 if status == "done" else job.progress
        if error is not None:
            job.error = error
        if message is not None:
            job.message = message
        if plan_id is not None:
            job.result_plan_id = plan_id


def _reporter(sessions, job_id: str, time_limit: float):
    """A progress callback for ``solve``: writes progress, and raises Cancelled when asked."""
    last = [0.0]

    def report(progress) -> None:
        now = time.monotonic()
        if now - last[0] < REPORT_SECONDS:
            return
        last[0] = now
        with transaction(sessions) as session:
            job = session.get_one(Job, job_id)
            if job.cancel_requested:
                raise Cancelled()
            job.progress = min(0.99, progress.seconds / max(time_limit, 1e-3))
            job.message = f"cost {progress.best_cost:,.1f}, {progress.unassigned} unassigned"

    return report


def _solve(sessions, job_id: str, params: dict) -> None:
    with transaction(sessions) as session:
        job = session.get_one(Job, job_id)
        day = session.get_one(Day, job.day_id)
        problem = store.day_problem(day)
        created_by = job.created_by
    time_limit = float(params["time_limit"])
    plan = solve(
        problem,
        time_limit=time_limit,
        seed=int(params.get("seed", 0)),
        progress=_reporter(sessions, job_id, time_limit),
    )
    with transaction(sessions) as session:
        job = session.get_one(Job, job_id)
        if job.cancel_requested:
            raise Cancelled()
        day = session.get_one(Day, job.day_id)
        row = store.add_plan(session, day, plan, "solve", created_by)
        if params.get("publish"):
            store.publish(session, day, row)
        plan_id = row.id
    _finish(sessions, job_id, "done", message=f"plan {row.number}", plan_id=plan_id)


def _replan(sessions, job_id: str, params: dict) -> None:
    with transaction(sessions) as session:
        job = session.get_one(Job, job_id)
        day = session.get_one(Day, job.day_id)
        current = store.published(session, day)
        if current is None:
            raise InputError("plan", "the day has no published plan to replan")
        events = store.pending_events(session, day, up_to=params.get("up_to_event"))
        problem = store.day_problem(day)
        plan = Plan.model_validate_json(current.plan)
        ids = [e.id for e in events]
        payloads = [e.payload for e in events]
        now = params.get("now")
        if now is None:
            now = max((e.now for e in events), default=0.0)
        created_by, day_id = job.created_by, job.day_id
    try:
        result = replan(problem, plan, payloads, now, time_limit=float(params["time_limit"]))
    except InputError as error:
        _reject(sessions, ids, error)
        raise
    with transaction(sessions) as session:
        day = session.get_one(Day, day_id)
        row = store.add_plan(
            session, day, result.plan, "replan", created_by, problem=result.problem, changes=result.changes.model_dump()
        )
        for event in session.query(EventRow).filter(EventRow.id.in_(ids)):
            event.status, event.job_id = "applied", job_id
        if params.get("publish", True):
            store.publish(session, day, row)
        plan_id, number = row.id, row.number
    _finish(
        sessions,
        job_id,
        "done",
        message=f"plan {number}: {len(ids)} events, {len(result.changes.carers)} carers to tell",
        plan_id=plan_id,
    )


def _reject(sessions, ids: list[int], error: InputError) -> None:
    """The event a batch failed on is rejected (with the reason); the others stay pending."""
    found = re.match(r"events\[(\d+)\]", error.field or "")
    if not found or int(found.group(1)) >= len(ids):
        return
    with transaction(sessions) as session:
        event = session.get_one(EventRow, ids[int(found.group(1))])
        event.status, event.error = "rejected", str(error)


# --- the worker process ------------------------------------------------------------------


def worker_main(database_url: str, stop) -> None:
    """The worker process: run queued jobs until ``stop`` is set or the server is gone
    (killed: then this process is adopted by another, and it leaves too)."""
    server = os.getppid()
    sessions = session_factory(make_engine(database_url))
    while not stop.is_set() and os.getppid() == server:
        if run_pending_jobs(sessions, limit=1) == 0:
            stop.wait(POLL_SECONDS)


class JobWorker:
    """Starts and stops the worker process (spawned: a clean interpreter per service)."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._process = context.Process(
            target=worker_main, args=(database_url, self._stop), daemon=True, name="carescheduler-worker"
        )

    def start(self) -> None:
        self._process.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
