"""The service as it runs: a real server process and its worker process.

* A solve job runs in the worker process while the API keeps answering.
* ``kill -9`` of the server during a stream of check-ins loses none that got a 2xx: each
  check-in is committed (SQLite in WAL mode, synchronous=FULL) before the response.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from api.config import Settings
from api.models import EventRow
from api.security import mint_token
from carescheduler.formats import read_problem
from conftest import ROOT

SMALL = ROOT / "fixtures" / "scenarios" / "small.json.gz"
DATE = "2030-06-03"
NOW = f"{DATE}T10:30:00"  # the service's clock stands still here (CARESCHEDULER_FROZEN_CLOCK)
SECRET = "process-secret-" + "z" * 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(db: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "CARESCHEDULER_JWT_SECRET": SECRET,
        "CARESCHEDULER_FROZEN_CLOCK": NOW,
        "CARESCHEDULER_ALERT_SWEEP_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        cwd=db.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until it answers (or fail)
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError("the server exited") from None
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


@pytest.fixture()
def server(tmp_path):
    port = _free_port()
    process = _start(tmp_path / "service.db", port)
    yield tmp_path / "service.db", port, process
    if process.poll() is None:
        process.terminate()
        process.wait(10)


def _settings() -> Settings:
    return Settings(jwt_secret=SECRET, database_url="sqlite://")


def _headers(role="coordinator", carer=None) -> dict:
    return {"Authorization": f"Bearer {mint_token(_settings(), 'north', role, carer or role, carer)}"}


def _published_day(base: str) -> dict:
    problem = read_problem(SMALL)
    assert (
        httpx.put(
            f"{base}/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=_headers(), timeout=30
        ).status_code
        == 201
    )
    job = httpx.post(
        f"{base}/v1/days/{DATE}/solve", json={"time_limit": 2, "publish": True}, headers=_headers(), timeout=30
    ).json()
    answered = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = httpx.get(f"{base}/v1/jobs/{job['id']}", headers=_headers(), timeout=30).json()
        answered += 1
        if state["status"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.2)
    assert state["status"] == "done", state
    assert answered >= 2  # the API answered while the job ran
    return httpx.get(f"{base}/v1/days/{DATE}/plan", headers=_headers(), timeout=30).json()["plan"]


def test_a_job_runs_in_the_worker_and_kill_9_loses_no_acknowledged_check_in(server):
    db, port, process = server
    base = f"http://127.0.0.1:{port}"
    plan = _published_day(base)
    route = next(r for r in plan["routes"] if r["visits"])
    phone = _headers("carer", route["carer"])
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
    while len(acknowledged) < 30 and sender.is_alive():
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    stop.set()
    sender.join(30)
    assert len(acknowledged) >= 30
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        stored = set(connection.scalars(select(EventRow.idempotency_key)))
    engine.dispose()
    missing = [key for key in acknowledged if f"{route['carer']}:{key}" not in stored]
    assert not missing, f"{len(missing)} acknowledged check-ins lost"
    restarted = _start(db, port)  # and the service comes back on the same database
    try:
        again = httpx.post(
            f"{base}/v1/me/days/{DATE}/visits/{visit}/check-in",
            json={"at": 600},
            headers={**phone, "Idempotency-Key": acknowledged[-1]},
            timeout=5,
        )
        assert again.status_code == 200 and again.json()["replayed"] is True
    finally:
        restarted.terminate()
        restarted.wait(10)


def test_the_watch_process_raises_alerts_and_sends_webhooks(server):
    """The real watch process (spawned beside the workers): at 10:30 on the published day,
    visits planned before 10:15 with no check-in are late; a registered webhook receives
    the day's feed, signed."""
    from test_api_live import Receiver

    _, port, _ = server
    base = f"http://127.0.0.1:{port}"
    receiver = Receiver([])
    try:
        hook = httpx.post(f"{base}/v1/webhooks", json={"url": receiver.url}, headers=_headers(), timeout=30).json()
        plan = _published_day(base)
        late = {(v["visit"], r["carer"]) for r in plan["routes"] for v in r["visits"] if v["start"] <= 10 * 60 + 15}
        assert late
        deadline, listed = time.monotonic() + 60, []
        while time.monotonic() < deadline and len(listed) < len(late):
            listed = httpx.get(f"{base}/v1/days/{DATE}/alerts", headers=_headers(), timeout=30).json()
            time.sleep(0.2)
        assert {(a["visit"], a["carer"]) for a in listed} == late
        kinds = set()
        while time.monotonic() < deadline and "alert" not in kinds:
            headers, body = receiver.got.get(timeout=max(0.1, deadline - time.monotonic()))
            assert headers["webhook-signature"].startswith("v1,") and hook["secret"].startswith("whsec_")
            kinds.add(json.loads(body)["type"])
        assert {"job", "plan", "alert"} <= kinds
    finally:
        receiver.close()
