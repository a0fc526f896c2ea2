"""Solve, replan and week jobs, run in a worker process apart from the web server.

The web process only queues jobs (rows in the ``jobs`` table); a worker claims the most
urgent queued one (a replan absorbing events, then a coordinator's replan, then a solve;
oldest first within each), runs the library, and writes the plan back. Some workers run
replans only, so a sick-call never waits behind a solve. A solve holds a core for
its whole time limit, so it runs in its own process and the API keeps answering. The
job's progress is written as it goes, and a cancel request stops it at the next report.
Because jobs live in the database, one interrupted by a restart is found and queued
again (``store.requeue_interrupted``).

With a Ray address (``Settings.ray_address``) a worker sends the compute (``solve``,
``replan``, ``plan_week``, ``replan_day``, called by reference) to the cluster as a task
(``carescheduler.cluster.submit``) and keeps the rest: claiming, storing, publishing. The
task cannot call back, so the worker watches the job row while it runs (a cancel kills
the task; progress is the time spent). Ray runs a task again when its node is lost; the
worker stores a result once, and only while the job is still its own claim (``_ours``).
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from carescheduler import InputError, replan, solve
from carescheduler.day.apply import refused_event
from carescheduler.params import ParallelParams

from . import alerts, feed, store, webhooks
from .cache import plan_of, remember
from .clock import ServiceClock
from .config import Settings
from .db import make_engine, session_factory, transaction
from .models import Day, EventRow, Job, PlanRow, utcnow
from .problems import unexpected_error

if TYPE_CHECKING:
    from carescheduler.cluster import RemoteCall

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_SECONDS = 0.2
"""How often an idle worker looks for a queued job."""

REPORT_SECONDS = 0.5
"""How often a running job writes its progress and looks for a cancel request."""


TASK_RETRIES = ParallelParams().task_retries
"""How many times a job's task on a Ray cluster is run again when its node is lost."""

REPLAN_TRIES = 3
"""A replan whose base plan was replaced while it ran starts again from the new one."""


class Cancelled(Exception):
    """The job was cancelled while it ran."""


class Superseded(Exception):
    """The job is no longer this run's (queued again after a restart and claimed by another
    worker, or finished meanwhile): what this run computed is dropped, never stored, so a
    late result cannot write or publish a second plan."""


class JobFailed(Exception):
    """The job failed for a reason its record can say in full (not a bug: no error id)."""


@dataclass(frozen=True)
class _Run:
    """A claimed job as this worker runs it. ``attempt`` is the claim's (``Job.attempts``):
    a job queued again and claimed anew has another, so a stale run can tell. With
    ``ray_address`` the compute goes to that Ray cluster; the rest stays here."""

    sessions: sessionmaker[Session]
    job_id: str
    attempt: int
    ray_address: str | None = None


def run_pending_jobs(
    sessions: sessionmaker[Session],
    limit: int | None = None,
    clock: ServiceClock | None = None,
    kinds: Collection[str] | None = None,
    ray_address: str | None = None,
) -> int:
    """Run queued jobs, most urgent first, until none is left (or ``limit``); returns how
    many ran. Worker processes loop on this; tests call it directly. Only jobs of ``kinds``
    if given. A replan runs at ``clock``'s time when it starts (the real clock in London
    unless given). With ``ray_address``, solves and replans compute on that Ray cluster."""
    clock = clock or ServiceClock()
    ran = 0
    while limit is None or ran < limit:
        with transaction(sessions) as session:
            job = store.claim_next_job(session, kinds)
            job_id = job.id if job is not None else None
        if job_id is None:
            return ran
        run_job(sessions, job_id, clock, ray_address)
        ran += 1
    return ran


def run_job(sessions: sessionmaker[Session], job_id: str, clock: ServiceClock, ray_address: str | None = None) -> None:
    try:
        with transaction(sessions) as session:
            job = session.get_one(Job, job_id)
            kind, params = job.kind, dict(job.params)
            run = _Run(sessions, job_id, job.attempts, ray_address)
        if kind == "solve":
            _solve(run, params)
        elif kind == "replan":
            _replan(run, params, clock)
        elif kind == "week":
            _week(run, params)
        elif kind == "week_replan":
            _week_replan(run, params)
        else:
            raise ValueError(f"unknown job kind {kind!r}")
    except Superseded as stale:
        log.warning("job %s: %s", job_id, stale)  # its record is another run's now: left alone
    except Cancelled:
        _finish(sessions, job_id, "cancelled", message="cancelled")
    except (InputError, JobFailed) as error:
        _finish(sessions, job_id, "failed", error=str(error))
    except Exception as error:
        _finish(sessions, job_id, "failed", error=unexpected_error(error, f"job {job_id}"))


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
        feed.job_changed(session, job, session.get_one(PlanRow, plan_id).number if plan_id is not None else None)


def _ours(session: Session, run: _Run) -> Job:
    """The job's row, if it is still this run's: running, on this run's claim."""
    job = session.get_one(Job, run.job_id)
    if job.status != "running" or job.attempts != run.attempt:
        raise Superseded(f"{job.status} on attempt {job.attempts} (this run was attempt {run.attempt}): result dropped")
    return job


def _compute(
    run: _Run, seconds: float, function: Callable[..., T], *args: Any, callbacks: dict | None = None, **kwargs: Any
) -> T:
    """``function(*args, **kwargs)``: here (with ``callbacks``, e.g. a progress report), or,
    with a Ray address, as a task on the cluster (which cannot call back), watched every
    ``REPORT_SECONDS`` (``_watch``) until it is done and killed if the job is cancelled.
    ``seconds`` is the time the call is expected to take, for the progress."""
    if run.ray_address is None:
        return function(*args, **kwargs, **(callbacks or {}))
    from carescheduler.cluster import submit  # Ray is imported only when an address is set
    from carescheduler.cluster.remote import TaskLost

    call = submit(run.ray_address, function, *args, retries=TASK_RETRIES, **kwargs)
    started = time.monotonic()
    try:
        while not call.wait(REPORT_SECONDS):
            _watch(run, call, time.monotonic() - started, seconds)
    except BaseException:
        call.cancel()  # cancelled, superseded, or this worker stopping: the task must not run on
        raise
    try:
        return call.result()
    except TaskLost as lost:
        log.warning("job %s: %s", run.job_id, lost)
        runs = "the one time it ran" if TASK_RETRIES == 0 else f"all {TASK_RETRIES + 1} times it ran"
        raise JobFailed(
            f"the Ray cluster lost this job's {call.what} {runs} (its node or worker died); queue the job again"
        ) from None


def _watch(run: _Run, call: RemoteCall, elapsed: float, seconds: float) -> None:
    """One look at the job while its task runs on the cluster: ``Cancelled`` when a cancel
    is asked for, ``Superseded`` if the job is no longer this run's, otherwise its progress
    written (the time spent, of the time it should take)."""
    with transaction(run.sessions) as session:
        job = _ours(session, run)
        if job.cancel_requested:
            raise Cancelled()
        job.progress = min(0.99, elapsed / max(seconds, 1e-3))
        job.message = f"{call.what} on the cluster: {elapsed:.0f} s of {seconds:g} s"


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


def _solve(run: _Run, params: dict) -> None:
    sessions, job_id = run.sessions, run.job_id
    with transaction(sessions) as session:
        job = session.get_one(Job, job_id)
        day = session.get_one(Day, job.day_id)
        problem = store.day_problem(day)
        created_by, version = job.created_by, day.version
    time_limit = float(params["time_limit"])
    plan = _compute(
        run,
        time_limit,
        solve,
        problem,
        time_limit=time_limit,
        seed=int(params.get("seed", 0)),
        callbacks={"progress": _reporter(sessions, job_id, time_limit)},
    )
    with transaction(sessions) as session:
        job = _ours(session, run)
        if job.cancel_requested:
            raise Cancelled()
        day = store.hold_current(session, job.day_id)  # published or not, on the day as it is now
        row = store.add_plan(session, day, plan, "solve", created_by, day_version=version)
        message = f"plan {row.number}"
        if params.get("publish") and day.version != version:
            # A replan published the day's events while this ran: publishing a plan of the
            # day as it was would undo them. Kept as a draft.
            message += f" kept as a draft: the day changed while it ran (version {version} -> {day.version})"
        elif params.get("publish"):
            store.publish(session, day, row, problem)
        plan_id = row.id
    _finish(sessions, job_id, "done", message=message, plan_id=plan_id)


def _week(run: _Run, params: dict) -> None:
    """A range of days planned together (``week_jobs``): progress is the days done, and a
    cancel stops the job after the day being solved (on a cluster: the time spent, and a
    cancel stops it at once)."""
    from carescheduler.roster import plan_week

    from . import week_jobs  # see _week_replan

    sessions, job_id = run.sessions, run.job_id
    first, last = dt.date.fromisoformat(params["first"]), dt.date.fromisoformat(params["last"])
    with transaction(sessions) as session:
        job = session.get_one(Job, job_id)
        org, created_by = job.org_id, job.created_by
        inputs = week_jobs.load_week(session, org, first, last)

    def day_planned(date: dt.date, done: int, total: int) -> None:
        with transaction(sessions) as session:
            job = session.get_one(Job, job_id)
            if job.cancel_requested:
                raise Cancelled()
            job.progress = min(0.99, done / total)
            job.message = f"{done} of {total} days planned (last {date})"

    per_day = float(params["time_limit_per_day"])
    week = _compute(
        run,
        per_day * max(1, len(inputs.days)),
        plan_week,
        inputs.roster,
        inputs.days,
        inputs.history,
        time_limit_per_day=per_day,
        weekly=bool(params.get("weekly", True)),
        fixed=inputs.fixed,
        seed=int(params.get("seed", 0)),
        callbacks={"on_day_planned": day_planned},
    )
    with transaction(sessions) as session:
        job = _ours(session, run)
        if job.cancel_requested:
            raise Cancelled()
        result, plan_id, message = week_jobs.store_week(
            session, inputs.versions, week, created_by, bool(params.get("publish"))
        )
        job.result = result.model_dump(mode="json")
    _finish(sessions, job_id, "done", message=message, plan_id=plan_id)


def _week_replan(run: _Run, params: dict) -> None:
    """One day of a published week replanned between the others (``replan_day``): a draft
    of it, and of each other day a weekly rule made replan too (said in the notes)."""
    # Imported when a week job runs, not when a worker starts: imported at the start, the
    # first one-second replan of a fresh worker came out worse in test_api_client (4 runs
    # of 4; none when imported here). A fresh process's first solve spends most of a
    # short time limit loading the kernels; why the import tips it is not pinned down.
    from carescheduler.roster import replan_day

    from . import week_jobs

    sessions, job_id = run.sessions, run.job_id
    date = dt.date.fromisoformat(params["date"])
    with transaction(sessions) as session:
        job = session.get_one(Job, job_id)
        created_by = job.created_by
        published = week_jobs.load_published_week(session, job.org_id, date)
    before = published.week
    time_limit = float(params["time_limit"])
    week = _compute(
        run,
        time_limit,
        replan_day,
        published.roster,
        before,
        date,
        before.days[date],
        published.history,
        time_limit=time_limit,
        seed=int(params.get("seed", 0)),
    )
    if run.ray_address is None:
        changed = [d for d in sorted(week.plans) if week.plans[d] is not before.plans[d]]
    else:  # from a cluster the week comes back a copy: a day it left alone is an equal plan
        changed = [d for d in sorted(week.plans) if week.plans[d] != before.plans[d]]
    with transaction(sessions) as session:
        job = _ours(session, run)
        if job.cancel_requested:
            raise Cancelled()
        result, plan_id, message = week_jobs.store_week(
            session, published.versions, week, created_by, bool(params.get("publish")), dates=changed
        )
        job.result = result.model_dump(mode="json")
    _finish(sessions, job_id, "done", message=message, plan_id=plan_id)


def _replan(run: _Run, params: dict, clock: ServiceClock) -> None:
    for _ in range(REPLAN_TRIES):
        if _replan_once(run, params, clock):
            return
    raise RuntimeError(f"the day's plan kept changing while this replan ran ({REPLAN_TRIES} tries)")


def _replan_once(run: _Run, params: dict, clock: ServiceClock) -> bool:
    """One try: False (nothing written) if another plan was published meanwhile, so the
    replan must start again from that one."""
    sessions, job_id = run.sessions, run.job_id
    with transaction(sessions) as session:
        job = session.get_one(Job, job_id)
        day = session.get_one(Day, job.day_id)
        current = store.published(session, day)
        if current is None:
            raise InputError("plan", "the day has no published plan to replan")
        events = store.pending_events(session, day, up_to=params.get("up_to_event"))
        problem = store.day_problem(day)
        plan = plan_of(current)
        ids = [e.id for e in events]
        payloads = [e.payload for e in events]
        now = clock.minutes(day.date)
        created_by, day_id, base = job.created_by, job.day_id, current.id
    time_limit = float(params["time_limit"])
    while True:
        try:
            result = _compute(run, time_limit, replan, problem, plan, payloads, now, time_limit=time_limit)
            break
        except InputError as error:
            # An event the day refuses now (time has passed since it was checked) is
            # rejected with the reason; the others are replanned without it.
            at = refused_event(error)
            if at is None or at >= len(ids):
                raise
            _reject(sessions, ids.pop(at), error, job_id)
            payloads.pop(at)
    with transaction(sessions) as session:
        _ours(session, run)
        day = store.hold_current(session, day_id)
        if day.published_plan_id != base:
            return False
        row = store.add_plan(
            session, day, result.plan, "replan", created_by, problem=result.problem, changes=result.changes.model_dump()
        )
        publish = params.get("publish", True)
        for event in session.scalars(select(EventRow).where(EventRow.id.in_(ids))):
            event.job_id = job_id  # applied when its plan is published (now, or the draft later)
            if publish:
                event.status = "applied"
                feed.event_changed(session, event, row.number)
        if publish:
            store.publish(session, day, row, result.problem)
            session.flush()
            remember(day, result.problem, row, result.plan)  # the day's next replan starts here
        plan_id, number = row.id, row.number
    _finish(
        sessions,
        job_id,
        "done",
        message=f"plan {number}: {len(ids)} events, {len(result.changes.carers)} carers to tell",
        plan_id=plan_id,
    )
    return True


def _reject(sessions, event_id: int, error: InputError, job_id: str) -> None:
    with transaction(sessions) as session:
        event = session.get_one(EventRow, event_id)
        event.status, event.error, event.job_id = "rejected", str(error), job_id
        feed.event_changed(session, event)


# --- the worker process ------------------------------------------------------------------


def worker_main(
    database_url: str, clock: ServiceClock, kinds: Collection[str] | None, stop, ray_address: str | None = None
) -> None:
    """A worker process: run queued jobs (of ``kinds``, or any) until ``stop`` is set or
    the server is gone (killed: then this process is adopted by another, and it leaves too).
    With ``ray_address`` it joins that cluster once, now, and computes jobs there."""
    server = os.getppid()
    sessions = session_factory(make_engine(database_url))
    if ray_address is not None:
        from carescheduler.cluster import connect

        try:
            connect(ray_address)
        except InputError as error:  # not fatal: each job tries again, and fails saying this
            log.error("worker: %s", error)
    while not stop.is_set() and os.getppid() == server:
        if run_pending_jobs(sessions, limit=1, clock=clock, kinds=kinds, ray_address=ray_address) == 0:
            stop.wait(POLL_SECONDS)


WATCH_SECONDS = 1.0
"""How often the watch process looks for webhook deliveries due."""

PRUNE_SECONDS = 3600.0
"""How often it forgets feed entries older than ``feed_keep_days``."""


def watch_main(database_url: str, clock: ServiceClock, settings: Settings, stop) -> None:
    """The watch process: today's alerts every ``alert_sweep_seconds``, webhook
    deliveries as they fall due, old feed entries forgotten hourly. A failure is printed
    and tried again next round."""
    server = os.getppid()
    sessions = session_factory(make_engine(database_url))
    next_sweep = next_prune = time.monotonic()
    while not stop.is_set() and os.getppid() == server:
        try:
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + settings.alert_sweep_seconds
                alerts.sweep(sessions, clock, settings)
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_SECONDS
                with transaction(sessions) as session:
                    feed.prune(session, utcnow() - dt.timedelta(days=settings.feed_keep_days))
            webhooks.deliver_due(sessions, settings)
        except Exception:
            traceback.print_exc()
        stop.wait(WATCH_SECONDS)


class JobWorkers:
    """Starts and stops the worker processes (spawned: a clean interpreter each).

    ``replan_workers`` processes run replans only, so a carer's absence never waits behind
    a solve however long; ``solve_workers`` processes run any job, the most urgent first;
    with ``settings``, one more process keeps alerts and sends webhooks (``watch_main``).
    With ``ray_address``, the workers send the jobs' compute to that Ray cluster.
    """

    def __init__(
        self,
        database_url: str,
        clock: ServiceClock,
        replan_workers: int = 1,
        solve_workers: int = 1,
        settings: Settings | None = None,
        ray_address: str | None = None,
    ):
        self.database_url = database_url
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        lanes: list[tuple[str, tuple[str, ...] | None]] = [("replan", ("replan",))] * replan_workers
        lanes += [("any", None)] * solve_workers
        self._processes = [
            context.Process(
                target=worker_main,
                args=(database_url, clock, kinds, self._stop, ray_address),
                daemon=True,
                name=f"carescheduler-worker-{i}-{lane}",
            )
            for i, (lane, kinds) in enumerate(lanes)
        ]
        if settings is not None:
            self._processes.append(
                context.Process(
                    target=watch_main,
                    args=(database_url, clock, settings, self._stop),
                    daemon=True,
                    name="carescheduler-watch",
                )
            )

    def start(self) -> None:
        for process in self._processes:
            process.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for process in self._processes:
            process.join(timeout)
            if process.is_alive():
                process.terminate()
                process.join(timeout)
