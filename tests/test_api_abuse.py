"""The service under abuse, as it runs: its own process, its worker processes, real HTTP,
on SQLite and PostgreSQL.

One organisation floods the queue with the longest solves it may ask for while another's
carers phone in sick twenty at a time: the flood is held to the organisation's quota and
time limit, every sick call is answered (no "database is locked"), and the replans are
published while the flood's solves still run.
"""

from __future__ import annotations

import httpx
import pytest

from carescheduler.formats import read_problem
from conftest import MEDIUM, SMALL
from live_server import DATE, LiveServer, wait_for
from test_api import _at_once


@pytest.fixture()
def server(tmp_path, database_url):
    with LiveServer(tmp_path, {"DATABASE_URL": database_url}) as live:
        yield live


def _job(base: str, headers: dict, job_id: str) -> dict:
    return httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=30).json()


def _finished(base: str, headers: dict, job_id: str) -> dict | None:
    job = _job(base, headers, job_id)
    return job if job["status"] in ("done", "failed", "cancelled") else None


def test_a_flood_of_long_solves_neither_starves_sick_calls_nor_locks_the_database(server: LiveServer):
    base, boss = server.url, server.headers()
    medium = read_problem(MEDIUM)
    put = httpx.put(f"{base}/v1/days/{DATE}", json=medium.model_dump(mode="json"), headers=boss, timeout=60)
    assert put.status_code == 201, put.text
    first = httpx.post(f"{base}/v1/days/{DATE}/solve", json={"time_limit": 3, "publish": True}, headers=boss).json()
    assert wait_for(lambda: _finished(base, boss, first["id"]), 120, "the first plan")["status"] == "done"

    # Another organisation's integration asks for twenty hour-long solves: refused (the
    # time limit is capped), then twenty of the longest allowed: its quota is queued.
    south = server.headers("integration", org="south")
    small = read_problem(SMALL).model_dump(mode="json")
    assert httpx.put(f"{base}/v1/days/{DATE}", json=small, headers=server.headers(org="south")).status_code == 201
    hour = [httpx.post(f"{base}/v1/days/{DATE}/solve", json={"time_limit": 3600}, headers=south) for _ in range(20)]
    assert {r.status_code for r in hour} == {422}
    assert all("time_limit" in r.text for r in hour)
    flood = [httpx.post(f"{base}/v1/days/{DATE}/solve", json={"time_limit": 300}, headers=south) for _ in range(20)]
    accepted = [r.json()["id"] for r in flood if r.status_code == 202]
    refused = [r for r in flood if r.status_code != 202]
    assert 0 < len(accepted) < 20
    assert {r.status_code for r in refused} == {429} and all(r.headers.get("Retry-After") for r in refused)
    wait_for(lambda: _job(base, south, accepted[0])["status"] == "running" or None, 60, "the flood's first solve")

    # Twenty of this organisation's carers phone in sick at the same moment.
    carers = [c.id for c in medium.carers][:20]

    def sick(carer: str):
        phone = {**server.headers("carer", carer), "Idempotency-Key": f"sick-{carer}"}
        return lambda http: http.post(f"{base}/v1/me/days/{DATE}/absence", json={"reason": "unwell"}, headers=phone)

    answers = _at_once(base, [sick(c) for c in carers])
    assert [a.status_code for a in answers] == [200] * 20, [(a.status_code, a.text[:200]) for a in answers]
    jobs = {a.json()["job"] for a in answers}
    for job_id in jobs:
        done = wait_for(lambda job_id=job_id: _finished(base, boss, job_id), 300, f"replan {job_id}")
        assert done["status"] == "done", done
    published = httpx.get(f"{base}/v1/days/{DATE}/plan", headers=boss).json()
    assert published["source"] == "replan"
    away = set(carers)
    still = [  # visits of the absent carers after now (10:30)
        (r["carer"], v["visit"], v["start"])
        for r in published["plan"]["routes"]
        if r["carer"] in away
        for v in r["visits"]
        if v["start"] > 630
    ]
    events = httpx.get(f"{base}/v1/days/{DATE}/events", headers=boss).json()
    assert [e["status"] for e in events] == ["applied"] * 20, events
    assert not still, still
    # ...while the flood's solve was still running: the sick calls did not wait for it.
    assert _job(base, south, accepted[0])["status"] == "running"
    for job_id in accepted:
        httpx.post(f"{base}/v1/jobs/{job_id}/cancel", headers=south)
    for job_id in accepted:
        assert wait_for(lambda job_id=job_id: _finished(base, south, job_id), 60, "cancel")["status"] == "cancelled"
