"""schemathesis over the service's OpenAPI spec: whatever it sends, never a 5xx, and every
error as problem details (``application/problem+json``).

Every operation is called with requests generated from the spec (valid and invalid),
as a coordinator and as a carer, against a database holding a solved and published day,
on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from api.config import Settings
from api.main import create_app
from api.security import mint_token
from api.worker import run_pending_jobs
from carescheduler.formats import read_problem
from conftest import SMALL

SECRET = secrets.token_urlsafe(48)
CONFIG = Settings(database_url="sqlite://", jwt_secret=SECRET)
DATE = "2026-11-23"


class ServedApp:
    """An ASGI app that hands each request to the app of the database under test (set by
    ``service``): the schema is read once, the calls go to each database's app in turn."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None

    async def __call__(self, scope, receive, send) -> None:
        assert self.app is not None, "no database's app is being served"
        await self.app(scope, receive, send)


SERVED = ServedApp()
schema = schemathesis.openapi.from_dict(create_app(CONFIG).openapi()).exclude(
    operation_id=["coordinator_stream", "my_stream"]
)
schema.app = SERVED
"""The Server-Sent Events streams are left out: a stream a request opens never ends (their
errors are tested in ``test_api_live.py``)."""


@pytest.fixture(scope="module", autouse=True, params=["sqlite", "postgresql"])
def service(request, tmp_path_factory, postgres) -> Iterator[FastAPI]:
    """The app started (database migrated) with a solved, published day in it, on SQLite
    and on PostgreSQL: every test here runs on each."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('schema') / 'service.db'}"
    elif postgres is None:
        pytest.skip("PostgreSQL's server is not installed here (make test installs it as root with apt-get)")
    else:
        url = postgres.new_database()
    app = create_app(Settings(database_url=url, jwt_secret=SECRET, worker=False))
    with TestClient(app) as client:
        boss = {"Authorization": f"Bearer {mint_token(CONFIG, 'north', 'coordinator', 'boss')}"}
        problem = read_problem(SMALL)
        put = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss)
        assert put.status_code == 201, put.text
        job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=boss)
        assert job.status_code == 202, job.text
        assert run_pending_jobs(app.state.sessions) == 1
        published = client.get(f"/v1/days/{DATE}/plan", headers=boss)
        assert published.status_code == 200 and published.json()["plan"]["routes"], published.text
        SERVED.app = app
        yield app


TOKENS = {
    "coordinator": mint_token(CONFIG, "north", "coordinator", "boss"),
    "carer": mint_token(CONFIG, "north", "carer", "carer001", "carer001"),
}


SETTINGS = settings(
    max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


def _no_server_error(case, role: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKENS[role]}"})
    where = (case.method, case.formatted_path, response.status_code, response.text[:500])
    assert response.status_code < 500, where
    if response.status_code >= 400:  # every error as RFC 9457 problem details
        kind = response.headers["content-type"]
        assert (kind[0] if isinstance(kind, list) else kind) == "application/problem+json", where
        body = response.json()
        assert body["status"] == response.status_code and body["title"] and body["detail"], where


@schema.parametrize()
@SETTINGS
def test_no_server_errors_for_a_coordinator(case):
    _no_server_error(case, "coordinator")


@schema.parametrize()
@SETTINGS
def test_no_server_errors_for_a_carer(case):
    _no_server_error(case, "carer")
