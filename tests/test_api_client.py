"""A typed client generated from the service's OpenAPI spec (``openapi-python-client``, at test
time, offline) drives a carer's whole day against the real server over HTTP: what an
integrator or the mobile working system's developers would do with the spec.

The coordinator loads the small day and publishes a plan; a carer reads their day (304 when
asked again with its ETag), checks in and out, and reports an absence; the worker processes
replan; and the carers taking over the visits hear of it through their changes. Names the
generated code uses (``check_in``, ``CheckTime``, ``ProblemDetails``) are the spec's, so an
awkward one is fixed in the spec, not here.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import secrets
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from types import ModuleType

import httpx
import pytest

from api.config import Settings
from api.main import create_app
from live_server import DATE, NOW, LiveServer, wait_for

PACKAGE = "carescheduler_client"
_clock = dt.datetime.fromisoformat(NOW)
NOW_MINUTES = _clock.hour * 60 + _clock.minute
"""The service's time of day (its clock stands still)."""


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Iterator[ModuleType]:
    """The client package, generated from the spec into a temporary folder and imported."""
    out = tmp_path_factory.mktemp("client")
    spec = out / "openapi.json"
    spec.write_text(
        json.dumps(create_app(Settings(jwt_secret=secrets.token_urlsafe(48), database_url="sqlite://")).openapi())
    )
    python = shlex.quote(sys.executable)  # this environment's ruff, not one looked up (or fetched) elsewhere
    config = out / "config.json"  # the generator reads YAML, which JSON is
    config.write_text(
        json.dumps(
            {
                "package_name_override": PACKAGE,
                "post_hooks": [f"{python} -m ruff check --fix-only --extend-select=I .", f"{python} -m ruff format ."],
            }
        )
    )
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec)]
    command += ["--output-path", str(out / PACKAGE), "--meta", "none", "--config", str(config)]
    result = subprocess.run(command, cwd=out, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr  # nothing skipped
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _operations(tag: str, *names: str) -> list[ModuleType]:
    """The generated modules of operations (``sync``, ``sync_detailed``, ...), by tag and id."""
    return [importlib.import_module(f"{PACKAGE}.api.{tag}.{name}") for name in names]


def test_a_carers_day_through_a_client_generated_from_the_spec(generated, live_server: LiveServer, small_day):
    models = importlib.import_module(f"{PACKAGE}.models")
    put_day, solve_day, get_published = _operations("days", "put_day", "solve_day", "get_published")
    [get_job] = _operations("jobs", "get_job")
    my_day, check_in, check_out, report_absence, my_changes = _operations(
        "carer", "my_day", "check_in", "check_out", "report_absence", "my_changes"
    )

    def client(role: str = "coordinator", carer: str | None = None):
        return generated.AuthenticatedClient(
            base_url=live_server.url, token=live_server.token(role, carer), timeout=httpx.Timeout(60.0)
        )

    def finished(job_id: str):
        job = get_job.sync(job_id, client=boss)
        return job if job.status in ("done", "failed", "cancelled") else None

    # the coordinator loads the day and has a plan made and published
    boss = client()
    put = put_day.sync_detailed(DATE, client=boss, body=models.Problem.from_dict(small_day.model_dump(mode="json")))
    assert put.status_code == HTTPStatus.CREATED and isinstance(put.parsed, models.DayOut), put.content
    assert put.parsed.visits == len(small_day.visits)
    job = solve_day.sync(DATE, client=boss, body=models.SolveRequest(time_limit=2, publish=True))
    assert isinstance(job, models.JobOut) and job.status == models.JobStatus.QUEUED
    solved = wait_for(lambda: finished(job.id), 180, "the solve job")  # run by the server's worker process
    assert solved.status == models.JobStatus.DONE and solved.result_plan == 1, solved
    plan = get_published.sync(DATE, client=boss).plan

    # a carer with a visit behind them and more to come after now
    def after_now(route) -> list[str]:
        return [pv.visit for pv in route.visits if pv.start > NOW_MINUTES]

    routes = [r for r in plan.routes if after_now(r) and r.visits[0].start <= NOW_MINUTES - 15]
    assert routes, "no carer mid-way through their day at the frozen clock"
    route = max(routes, key=lambda r: len(after_now(r)))
    carer = route.carer
    others = {r.carer: client("carer", r.carer) for r in plan.routes if r.carer != carer}
    phone = client("carer", carer)

    # their day, and 304 while it has not changed
    day = my_day.sync_detailed(DATE, client=phone)
    assert day.status_code == HTTPStatus.OK and [s.visit for s in day.parsed.visits] == [v.visit for v in route.visits]
    etag = day.headers["etag"]
    assert my_day.sync_detailed(DATE, client=phone, if_none_match=etag).status_code == HTTPStatus.NOT_MODIFIED

    # check in (at the visit's planned start) and out (now) of the last visit begun before now
    visit = [pv for pv in route.visits if pv.start <= NOW_MINUTES - 15][-1]
    checked_in = check_in.sync(
        DATE, visit.visit, client=phone, idempotency_key=uuid.uuid4().hex, body=models.CheckTime(at=visit.start)
    )
    assert isinstance(checked_in, models.Recorded) and not checked_in.replayed, checked_in
    checked_out = check_out.sync(DATE, visit.visit, client=phone, idempotency_key=uuid.uuid4().hex)
    assert isinstance(checked_out, models.Recorded) and checked_out.event > checked_in.event
    again = my_day.sync_detailed(DATE, client=phone, if_none_match=etag)
    assert again.status_code == HTTPStatus.OK and again.headers["etag"] != etag  # their own check-ins changed it
    assert {s.visit: s.status for s in again.parsed.visits}[visit.visit] == models.StopStatus.CHECKED_OUT
    someone_elses = next(r.visits[0].visit for r in plan.routes if r.carer != carer and r.visits)
    refused = check_in.sync_detailed(DATE, someone_elses, client=phone, idempotency_key=uuid.uuid4().hex)
    assert refused.status_code == HTTPStatus.NOT_FOUND and isinstance(refused.parsed, models.ProblemDetails)
    assert someone_elses in refused.parsed.detail  # the error, read as the spec says it comes

    # what the others have seen so far (the published plan)
    seen = {}
    for other, other_phone in others.items():
        notes = my_changes.sync(DATE, client=other_phone)
        seen[other] = notes[-1].id if notes else 0

    # the carer falls ill: the replan runs in the worker and publishes
    absence = report_absence.sync(
        DATE, client=phone, idempotency_key=uuid.uuid4().hex, body=models.AbsenceIn(reason="unwell")
    )
    assert isinstance(absence, models.Recorded) and absence.job, absence
    replanned = wait_for(lambda: finished(absence.job), 120, "the replan job")
    assert replanned.status == models.JobStatus.DONE and replanned.result_plan == 2, replanned

    # the ill carer is told their remaining visits went; those who took them are told they came
    mine = my_changes.sync(DATE, client=phone)
    assert mine[-1].plan == 2 and set(after_now(route)) <= set(mine[-1].changes.removed), mine[-1]
    before = {r.carer: {pv.visit for pv in r.visits} for r in plan.routes}
    now = {r.carer: {pv.visit for pv in r.visits} for r in get_published.sync(DATE, client=boss).plan.routes}
    took = {other: (now[other] - before[other]) & set(after_now(route)) for other in others}
    assert any(took.values()), "the replan gave none of the ill carer's visits to anyone"
    for other, visits in took.items():
        if visits:  # asked after the last change they had seen: this one
            news = my_changes.sync(DATE, client=others[other], after=seen[other])
            assert [n.plan for n in news] == [2] and visits <= set(news[0].changes.added), (other, news)
