"""schemathesis over the service's OpenAPI spec: whatever it sends, never a 5xx, and every
error as problem details (``application/problem+json``).

Every operation is called with requests generated from the spec (valid and invalid),
as a coordinator and as a carer, against a database holding a solved and published day.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import pytest
import schemathesis
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


APP = create_app(
    Settings(
        database_url=f"sqlite:///{Path(tempfile.mkdtemp(prefix='schema-')) / 'service.db'}",
        jwt_secret=SECRET,
        worker=False,
    )
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(operation_id=["coordinator_stream", "my_stream"])
"""The Server-Sent Events streams are left out: a stream a request opens never ends (their
errors are tested in ``test_api_live.py``)."""


@pytest.fixture(scope="module", autouse=True)
def live_app():
    """The app started (database migrated) with a solved, published day in it."""
    with TestClient(APP) as client:
        boss = {"Authorization": f"Bearer {mint_token(CONFIG, 'north', 'coordinator', 'boss')}"}
        problem = read_problem(SMALL)
        client.put("/v1/days/2026-11-23", json=problem.model_dump(mode="json"), headers=boss)
        client.post("/v1/days/2026-11-23/solve", json={"time_limit": 1, "publish": True}, headers=boss)
        run_pending_jobs(APP.state.sessions)
        yield APP


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
