"""The service's jobs computed on a real Ray cluster (two nodes on loopback, ``ray_cluster.py``).

The worker's loop is called directly with the cluster's address (``run_pending_jobs(...,
ray_address=...)``), as ``test_api.py`` calls it without one: claiming, storing and
publishing stay in the worker; only the solve, replan or week runs on the cluster. A node
killed under a running solve must still leave one plan published once (Ray runs the task
again); a run whose job was claimed again must store nothing; a cancel must kill the task;
a sick call still goes first. One test starts the real server process with the address.
"""

from __future__ import annotations

import datetime as dt
import secrets

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

import api.worker
from api.config import Settings
from api.db import transaction
from api.models import FeedEntry, Job, PlanRow
from api.security import mint_token
from api.worker import run_pending_jobs
from carescheduler.domain import Problem
from carescheduler.formats import read_problem
from carescheduler.plan import Plan
from carescheduler.validator import validate
from conftest import SMALL
from live_server import AppServer

DATE = "2030-06-03"
NOW = dt.datetime(2030, 6, 3, 9, 0)  # the service's clock (London) stands still at 09:00 on DATE
SECRET = secrets.token_urlsafe(48)


@pytest.fixture()
def settings(tmp_path, ray_cluster) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'service.db'}",
        jwt_secret=SECRET,
        worker=False,
        solve_seconds=2.0,
        replan_seconds=1.0,
        frozen_clock=NOW,
        ray_address=ray_cluster.address,
    )


@pytest.fixture()
def client(settings):
    with AppServer(settings) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        http.app = server.app  # type: ignore[attr-defined]
        yield http


@pytest.fixture(scope="module")
def problem() -> Problem:
    return read_problem(SMALL)


def bearer(role: str = "coordinator", org: str = "north", carer: str | None = None) -> dict:
    settings = Settings(jwt_secret=SECRET, database_url="sqlite://")
    return {"Authorization": f"Bearer {mint_token(settings, org, role, carer or role, carer)}"}


def on_cluster(client, settings, **kwargs) -> int:
    """The worker's loop, computing on the cluster."""
    state = client.app.state
    return run_pending_jobs(state.sessions, clock=state.clock, ray_address=settings.ray_address, **kwargs)


def here(client) -> int:
    """The worker's loop, computing in this process (to set a day up quickly)."""
    return run_pending_jobs(client.app.state.sessions, clock=client.app.state.clock)


def load_day(client, problem: Problem, org: str = "north") -> None:
    put = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=bearer(org=org))
    assert put.status_code == 201


def queue_solve(client, time_limit: float, publish: bool = True) -> str:
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": time_limit, "publish": publish}, headers=bearer())
    assert job.status_code == 202
    return job.json()["id"]


def job_of(client, job_id: str, org: str = "north") -> dict:
    return client.get(f"/v1/jobs/{job_id}", headers=bearer(org=org)).json()


def plan_rows(client) -> list[tuple[int, str, str]]:
    with client.app.state.sessions() as session:
        return [(r.number, r.source, r.status) for r in session.scalars(select(PlanRow).order_by(PlanRow.number))]


def publishes(client, number: int) -> int:
    """How many times plan ``number`` was announced as published (one feed entry each)."""
    with client.app.state.sessions() as session:
        entries = session.scalars(select(FeedEntry).where(FeedEntry.kind == "plan"))
        return sum(1 for e in entries if e.data.get("number") == number and e.data.get("status") == "published")


def assert_published_plan_valid(client, number: int) -> None:
    now_plan = client.get(f"/v1/days/{DATE}/plan", headers=bearer()).json()
    assert now_plan["number"] == number
    day = Problem.model_validate(client.get(f"/v1/days/{DATE}/problem", headers=bearer()).json())
    report = validate(day, Plan.model_validate(now_plan["plan"]))
    assert report.valid, report


@pytest.fixture()
def published(client, problem) -> Plan:
    """The small day loaded, solved here and published (plan 1)."""
    load_day(client, problem)
    job = queue_solve(client, 2)
    assert here(client) == 1
    assert job_of(client, job)["status"] == "done"
    return Plan.model_validate(client.get(f"/v1/days/{DATE}/plan", headers=bearer()).json()["plan"])


def test_a_solve_on_the_cluster_is_stored_and_published_once(client, settings, problem) -> None:
    load_day(client, problem)
    job = queue_solve(client, 2)
    assert on_cluster(client, settings) == 1
    done = job_of(client, job)
    assert done["status"] == "done" and done["result_plan"] == 1, done
    assert plan_rows(client) == [(1, "solve", "published")]
    assert publishes(client, 1) == 1
    assert_published_plan_valid(client, 1)


def test_an_absence_replanned_on_the_cluster_is_applied_and_published_once(client, settings, published) -> None:
    sick = max(published.routes, key=lambda r: len(r.visits)).carer
    reported = client.post(
        f"/v1/me/days/{DATE}/absence",
        json={"start": 600, "reason": "unwell"},
        headers={**bearer("carer", carer=sick), "Idempotency-Key": "absence-cluster-1"},
    )
    assert reported.status_code == 200
    assert on_cluster(client, settings) == 1
    done = job_of(client, reported.json()["job"])
    assert done["status"] == "done" and done["result_plan"] == 2, done
    assert plan_rows(client) == [(1, "solve", "superseded"), (2, "replan", "published")]
    assert publishes(client, 2) == 1
    events = client.get(f"/v1/days/{DATE}/events", headers=bearer()).json()
    assert [(e["type"], e["status"], e["plan"]) for e in events] == [("carer_absent", "applied", 2)]
    plan = Plan.model_validate(client.get(f"/v1/days/{DATE}/plan", headers=bearer()).json()["plan"])
    assert all(pv.end <= 600 + 1e-6 or pv.start < 600 for pv in plan.route(sick).visits)  # off from 10:00
    assert_published_plan_valid(client, 2)


def test_an_event_refused_on_the_cluster_is_rejected_and_the_others_applied(client, settings, published) -> None:
    """The day's refusal (an ``InputError`` naming the event) comes back from the cluster
    as itself: the worker rejects that event with the reason and replans the others."""
    from api.clock import ServiceClock

    client.app.state.clock = ServiceClock("Europe/London", NOW)  # 09:00
    starts = [(pv.start, pv.visit) for r in published.routes for pv in r.visits if 9 * 60 + 5 < pv.start < 570]
    _, visit = min(starts)
    first = client.post(
        f"/v1/days/{DATE}/events",
        json={"events": [{"type": "visit_cancelled", "visit": visit}], "replan": False},
        headers=bearer(),
    )
    assert first.status_code == 202
    client.app.state.clock = ServiceClock("Europe/London", NOW.replace(minute=45))  # the visit has started
    other = published.routes[-1].carer
    second = client.post(
        f"/v1/days/{DATE}/events",
        json={"events": [{"type": "carer_delayed", "carer": other, "until": "11:00"}]},
        headers=bearer(),
    )
    assert second.status_code == 202, second.text
    assert on_cluster(client, settings) == 1
    job = job_of(client, second.json()["job"])
    assert job["status"] == "done", job
    events = {e["id"]: e for e in client.get(f"/v1/days/{DATE}/events", headers=bearer()).json()}
    cancelled, delayed = events[first.json()["events"][0]], events[second.json()["events"][0]]
    assert cancelled["status"] == "rejected" and "can no longer be cancelled" in cancelled["error"]
    assert delayed["status"] == "applied" and delayed["plan"] == job["result_plan"] == 2
    assert publishes(client, 2) == 1


def kill_the_second_node_under_the_task(ray_cluster, monkeypatch, seen: list | None = None) -> list[bool]:
    """Kill the second node once the job's task holds its core, and add another. The head's
    core is held (until the returned list's owner kills ``held``), so the cluster has no
    core free only while the task runs on the second node. Returns, once killed, whether
    the task had finished by then ([False]: it was running); ``seen`` gets the job's
    progress at each look."""
    import ray

    doomed = ray_cluster.workers[0]
    killed: list[bool] = []
    real_watch = api.worker._watch

    def watch(run, call, elapsed, seconds) -> None:
        real_watch(run, call, elapsed, seconds)
        if seen is not None:
            with transaction(run.sessions) as session:
                job = session.get_one(Job, run.job_id)
                seen.append((job.progress, job.message))
        if not killed and ray.available_resources().get("CPU", 0) == 0:
            killed.append(call.done())
            ray_cluster.kill_node(doomed)
            ray_cluster.add_node()  # where the task may run again (and the next test's second node)

    monkeypatch.setattr(api.worker, "_watch", watch)
    return killed


def solve_with_the_second_node_killed(client, settings, problem, ray_cluster, monkeypatch, seen=None) -> str:
    """Queue a solve and run it on the cluster with the head's core held, so its task runs
    on the second node, which is killed under it; returns the job's id."""
    import ray

    load_day(client, problem)
    job = queue_solve(client, 2)
    killed = kill_the_second_node_under_the_task(ray_cluster, monkeypatch, seen)
    held = ray_cluster.hold_core(ray_cluster.head_id())
    try:
        assert on_cluster(client, settings) == 1
    finally:
        ray.kill(held)
    assert killed == [False], "the task was never seen running on the second node"
    return job


def test_a_node_lost_under_a_running_solve_still_publishes_one_plan_once(
    client, settings, problem, ray_cluster, monkeypatch
) -> None:
    """Ray runs the task again on another node; the worker stores and publishes its result
    once."""
    seen: list[tuple[float, str]] = []
    job = solve_with_the_second_node_killed(client, settings, problem, ray_cluster, monkeypatch, seen)
    # while it ran the job said so: progress by the time spent, short of done
    assert all(0 < progress < 1 and "on the cluster" in message for progress, message in seen)
    done = job_of(client, job)
    assert done["status"] == "done" and done["result_plan"] == 1, done
    assert plan_rows(client) == [(1, "solve", "published")]
    assert publishes(client, 1) == 1
    assert_published_plan_valid(client, 1)


def test_a_solve_lost_more_often_than_retried_fails_saying_so(
    client, settings, problem, ray_cluster, monkeypatch
) -> None:
    monkeypatch.setattr(api.worker, "TASK_RETRIES", 0)
    job = solve_with_the_second_node_killed(client, settings, problem, ray_cluster, monkeypatch)
    failed = job_of(client, job)
    assert failed["status"] == "failed" and plan_rows(client) == []
    assert "the Ray cluster lost this job's solve the one time it ran" in failed["error"], failed


def test_a_job_cancelled_on_the_cluster_kills_its_task_and_stores_nothing(
    client, settings, problem, monkeypatch
) -> None:
    load_day(client, problem)
    job = queue_solve(client, 60)
    calls: list = []
    real_watch = api.worker._watch

    def watch(run, call, elapsed, seconds) -> None:
        if not calls:  # the first look while the task runs: a coordinator cancels
            calls.append(call)
            assert client.post(f"/v1/jobs/{job}/cancel", headers=bearer()).status_code == 200
        real_watch(run, call, elapsed, seconds)

    monkeypatch.setattr(api.worker, "_watch", watch)
    assert on_cluster(client, settings) == 1
    assert job_of(client, job)["status"] == "cancelled"
    assert plan_rows(client) == []
    with pytest.raises(RuntimeError, match="cancelled"):
        calls[0].result(timeout=120)  # the task was killed, not left to run its 60 s


def claimed_again(client, job_id: str) -> None:
    """What a restarted service instance does to a job it finds running: queue it again
    (``requeue_interrupted``), and its worker claims it (attempt 2)."""
    from api import store
    from api.db import transaction

    with transaction(client.app.state.sessions) as session:
        store.requeue_interrupted(session)
        claimed = store.claim_next_job(session)
        assert claimed is not None and claimed.id == job_id and claimed.attempts == 2


def test_a_run_whose_job_was_claimed_again_drops_its_task_and_the_new_run_publishes_once(
    client, settings, problem, monkeypatch
) -> None:
    """Two runs of one job (the first thought lost by a restart): the first stops its task
    at its next look and writes nothing; the second stores and publishes the one plan."""
    load_day(client, problem)
    job = queue_solve(client, 60)
    calls: list = []
    real_watch = api.worker._watch

    def watch(run, call, elapsed, seconds) -> None:
        if not calls:
            calls.append(call)
            claimed_again(client, job)
        real_watch(run, call, elapsed, seconds)

    monkeypatch.setattr(api.worker, "_watch", watch)
    assert on_cluster(client, settings) == 1
    left = job_of(client, job)
    assert left["status"] == "running" and plan_rows(client) == []  # the second claim's, untouched
    with pytest.raises(RuntimeError, match="cancelled"):
        calls[0].result(timeout=120)
    monkeypatch.setattr(api.worker, "_watch", real_watch)
    with client.app.state.sessions() as session:  # the job's shorter time limit, for the second run
        row = session.get_one(Job, job)
        row.params = {**row.params, "time_limit": 1}
        session.commit()
    api.worker.run_job(client.app.state.sessions, job, client.app.state.clock, settings.ray_address)
    assert job_of(client, job)["status"] == "done"
    assert plan_rows(client) == [(1, "solve", "published")]
    assert publishes(client, 1) == 1


def test_a_result_that_comes_back_after_its_job_was_claimed_again_is_dropped(
    client, settings, problem, monkeypatch
) -> None:
    """The same, with the result already computed when the job is claimed again (here, in
    this process): it is not stored, so the job's plan can only be the second run's."""
    load_day(client, problem)
    job = queue_solve(client, 1)
    real_solve = api.worker.solve

    def solve_then_lose_the_claim(*args, **kwargs):
        plan = real_solve(*args, **kwargs)
        claimed_again(client, job)
        return plan

    monkeypatch.setattr(api.worker, "solve", solve_then_lose_the_claim)
    assert here(client) == 1
    assert job_of(client, job)["status"] == "running" and plan_rows(client) == []
    assert publishes(client, 1) == 0


def test_a_sick_call_still_goes_before_a_solve(client, settings, problem, published) -> None:
    """The claiming is the worker's, whatever computes: an absence queued after another
    organisation's solve is run first, and the replan lane leaves the solve."""
    load_day(client, problem, org="south")
    solve = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=bearer(org="south")).json()
    sick = published.routes[0].carer
    absence = client.post(
        f"/v1/me/days/{DATE}/absence",
        json={"reason": "unwell"},
        headers={**bearer("carer", carer=sick), "Idempotency-Key": "sick-call-cluster"},
    ).json()
    assert on_cluster(client, settings, limit=1) == 1
    assert job_of(client, absence["job"])["status"] == "done"
    assert job_of(client, solve["id"], org="south")["status"] == "queued"
    assert on_cluster(client, settings, kinds=("replan",)) == 0
    assert on_cluster(client, settings) == 1
    assert job_of(client, solve["id"], org="south")["status"] == "done"


def test_a_week_and_a_day_of_it_replanned_on_the_cluster(client, settings) -> None:
    """Week jobs compute there too; a week replan's days left alone come back as copies,
    and only the day replanned is stored."""
    from carescheduler.roster import day_from_roster
    from test_api_week import FIRST, LAST, RANGE, put_day, put_roster

    roster = put_roster(client, settings)
    for date in RANGE:
        put_day(client, settings, roster, date)
    body = {"time_limit_per_day": 1.0, "publish": True}
    week = client.post(f"/v1/weeks/plan?from={FIRST}&to={LAST}", json=body, headers=bearer())
    assert week.status_code == 202 and on_cluster(client, settings) == 1
    done = job_of(client, week.json()["id"])
    assert done["status"] == "done", done
    assert [(d["plan"], d["published"]) for d in done["result"]["days"]] == [(1, True)] * 3
    middle = RANGE[1]
    changed = day_from_roster(roster, middle)
    changed = changed.model_copy(update={"visits": [v for v in changed.visits if v.id != "y:evening"]})
    tag = client.get(f"/v1/days/{middle}", headers=bearer()).headers["ETag"]
    put = client.put(f"/v1/days/{middle}", json=changed.model_dump(mode="json"), headers={**bearer(), "If-Match": tag})
    assert put.status_code == 200, put.text
    queued = client.post(f"/v1/weeks/replan?date={middle}", json={"time_limit": 1.0, "publish": True}, headers=bearer())
    assert queued.status_code == 202 and on_cluster(client, settings) == 1
    replanned = job_of(client, queued.json()["id"])
    assert replanned["status"] == "done", replanned
    assert [(d["date"], d["plan"], d["published"]) for d in replanned["result"]["days"]] == [(str(middle), 2, True)]
    for date in (FIRST, LAST):  # kept as they were
        assert client.get(f"/v1/days/{date}", headers=bearer()).json()["published_plan"] == 1


def test_the_service_started_with_an_address_computes_its_jobs_there(tmp_path, ray_cluster, problem) -> None:
    """The real server process and its workers, told the address by the environment: with
    every core of the cluster held, a solve waits there, its job saying so; freed, it ends."""
    import ray

    from live_server import DATE as LIVE_DATE
    from live_server import LiveServer, wait_for

    holders = [ray_cluster.hold_core(node) for node in (ray_cluster.head_id(), ray_cluster.workers[0].node_id)]
    try:
        with LiveServer(tmp_path, {"CARESCHEDULER_RAY_ADDRESS": ray_cluster.address}) as server:
            base, boss = server.url, server.headers()
            day = problem.model_dump(mode="json")
            assert httpx.put(f"{base}/v1/days/{LIVE_DATE}", json=day, headers=boss, timeout=30).status_code == 201
            body = {"time_limit": 1, "publish": True}
            job = httpx.post(f"{base}/v1/days/{LIVE_DATE}/solve", json=body, headers=boss, timeout=30).json()

            def state(until) -> dict | None:
                now = httpx.get(f"{base}/v1/jobs/{job['id']}", headers=boss, timeout=30).json()
                return now if until(now) else None

            waiting = wait_for(lambda: state(lambda j: "on the cluster" in (j["message"] or "")), 120, "the task")
            assert waiting["status"] == "running" and waiting["progress"] < 1
            for holder in holders:
                ray.kill(holder)
            holders = []
            done = wait_for(lambda: state(lambda j: j["status"] != "running"), 120, "the solve")
            assert done["status"] == "done" and done["result_plan"] == 1, (done, server.output())
    finally:
        for holder in holders:
            ray.kill(holder)


def test_an_empty_ray_address_is_refused_naming_the_setting(monkeypatch) -> None:
    monkeypatch.setenv("CARESCHEDULER_RAY_ADDRESS", "")
    with pytest.raises(ValidationError, match="ray_address") as refused:
        Settings(jwt_secret=SECRET, database_url="sqlite://")
    assert "is empty" in str(refused.value)


def test_without_an_address_the_worker_never_imports_ray() -> None:
    """Ray is an optional extra: the service's worker must not need it."""
    import subprocess
    import sys

    code = "import sys, api.worker, api.main; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
