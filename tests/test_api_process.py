"""The service as it runs: a real server process and its worker processes, on SQLite and
on PostgreSQL.

* A solve job runs in a worker process while the API keeps answering.
* ``kill -9`` of the server during a stream of check-ins loses none that got a 2xx: each
  check-in is committed before the response. (``kill -9`` leaves the machine's page cache
  intact: that the commit is also synced to disk is ``test_durability.py``'s.)
* The watch process raises alerts and sends webhooks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from api.db import make_engine
from api.models import EventRow
from api.security import Principal
from api.store import caller_key
from carescheduler.formats import read_problem
from conftest import SMALL
from live_server import DATE, LiveServer, wait_for


def _published_day(server: LiveServer) -> dict:
    base, boss = server.url, server.headers()
    problem = read_problem(SMALL)
    assert (
        httpx.put(f"{base}/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss, timeout=30).status_code
        == 201
    )
    job = httpx.post(
        f"{base}/v1/days/{DATE}/solve", json={"time_limit": 2, "publish": True}, headers=boss, timeout=30
    ).json()
    seen: set[str] = set()

    def finished() -> dict | None:
        state = httpx.get(f"{base}/v1/jobs/{job['id']}", headers=boss, timeout=30).json()
        seen.add(state["status"])
        return state if state["status"] in ("done", "failed", "cancelled") else None

    state = wait_for(finished, 120, "the solve job", every=0.1)
    assert state["status"] == "done", state
    assert "running" in seen, seen  # the API answered while the worker process ran the 2 s solve
    return httpx.get(f"{base}/v1/days/{DATE}/plan", headers=boss, timeout=30).json()["plan"]


@pytest.fixture()
def live_server(tmp_path, database_url) -> Iterator[LiveServer]:
    """The server on SQLite and on PostgreSQL, watching the day every second."""
    env = {"DATABASE_URL": database_url, "CARESCHEDULER_ALERT_SWEEP_SECONDS": "1"}
    with LiveServer(tmp_path, env) as server:
        yield server


def test_a_job_runs_in_the_worker_and_kill_9_loses_no_acknowledged_check_in(live_server: LiveServer, database_url):
    base = live_server.url
    plan = _published_day(live_server)
    route = next(r for r in plan["routes"] if r["visits"])
    phone = live_server.headers("carer", route["carer"])
    visit = route["visits"][0]["visit"]
    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        for i in range(100_000):
            if stop.is_set():
                return
            key = f"stream-{i:06d}"
            try:
                response = httpx.post(
                    f"{base}/v1/me/days/{DATE}/visits/{visit}/check-in",
                    json={"at": 600},
                    headers={**phone, "Idempotency-Key": key},
                    timeout=5,
                )
            except httpx.TransportError:
                return
            if 200 <= response.status_code < 300:
                acknowledged.append(key)

    sender = threading.Thread(target=stream)
    sender.start()
    wait_for(lambda: True if len(acknowledged) >= 30 or not sender.is_alive() else None, 120, "30 check-ins", 0.01)
    live_server.kill()
    stop.set()
    sender.join(30)
    assert len(acknowledged) >= 30
    engine = make_engine(database_url)
    with engine.connect() as connection:
        stored = set(connection.scalars(select(EventRow.idempotency_key)))
    engine.dispose()
    phone_of = Principal(subject=route["carer"], org="north", role="carer", carer=route["carer"])
    missing = [key for key in acknowledged if caller_key(phone_of, key) not in stored]
    assert not missing, f"{len(missing)} acknowledged check-ins lost"
    live_server.start()  # and the service comes back on the same database (stopped by the fixture)
    again = httpx.post(
        f"{base}/v1/me/days/{DATE}/visits/{visit}/check-in",
        json={"at": 600},
        headers={**phone, "Idempotency-Key": acknowledged[-1]},
        timeout=5,
    )
    assert again.status_code == 200 and again.json()["replayed"] is True


def test_the_watch_process_raises_alerts_and_sends_webhooks(live_server: LiveServer):
    """The real watch process (spawned beside the workers): at 10:30 on the published day,
    visits planned before 10:15 with no check-in are late (or missed); a registered webhook
    receives the day's feed, signed."""
    from test_api_live import Receiver

    base, boss = live_server.url, live_server.headers()
    receiver = Receiver([])
    try:
        hook = httpx.post(f"{base}/v1/webhooks", json={"url": receiver.url}, headers=boss, timeout=30).json()
        plan = _published_day(live_server)
        late = {(v["visit"], r["carer"]) for r in plan["routes"] for v in r["visits"] if v["start"] <= 10 * 60 + 15}
        assert late
        listed = wait_for(
            lambda: (
                found
                if len(found := httpx.get(f"{base}/v1/days/{DATE}/alerts", headers=boss, timeout=30).json())
                >= len(late)
                else None
            ),
            60,
            "the alerts of the late visits",
        )
        assert {(a["visit"], a["carer"]) for a in listed} == late
        kinds = set()
        deadline = time.monotonic() + 60
        while "alert" not in kinds:
            headers, body = receiver.got.get(timeout=max(0.1, deadline - time.monotonic()))
            assert headers["webhook-signature"].startswith("v1,") and hook["secret"].startswith("whsec_")
            kinds.add(json.loads(body)["type"])
        assert {"job", "plan", "alert"} <= kinds
    finally:
        receiver.close()
