"""The service end to end over real HTTP (uvicorn on a loopback port, ``live_server.py``)
on a real database: each test runs on SQLite and on PostgreSQL (``database_url`` in
``conftest.py``: a throwaway server, see ``postgres_server.py``).

Jobs are run by calling the worker's loop directly (``run_pending_jobs``), so each test
decides when a job runs; ``test_api_process.py`` runs the real server and worker processes.
"""

from __future__ import annotations

import datetime as dt
import secrets

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.clock import ServiceClock
from api.config import Settings
from api.main import create_app
from api.models import AuditEntry, EventRow, Job
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
SECRET = secrets.token_urlsafe(48)  # a new one each run


@pytest.fixture()
def settings(database_url) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=SECRET,
        worker=False,
        solve_seconds=2.0,
        replan_seconds=1.0,
        frozen_clock=NOW,
    )


@pytest.fixture()
def client(settings):
    """An HTTP client of the service running on a real socket (``live_server``); its
    ``app`` is the running app, whose state (clock, sessions) the tests reach into."""
    with AppServer(settings) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        http.app = server.app  # type: ignore[attr-defined]
        yield http


@pytest.fixture(scope="module")
def problem():
    return read_problem(SMALL)


def bearer(settings: Settings, role: str = "coordinator", org: str = "north", carer: str | None = None) -> dict:
    return {"Authorization": f"Bearer {mint_token(settings, org, role, carer or role, carer)}"}


def run_jobs(client) -> int:
    return run_pending_jobs(client.app.state.sessions, clock=client.app.state.clock)


def set_clock(client, hhmm: str) -> float:
    """Move the service's (frozen) clock to ``hhmm`` on DATE; returns minutes."""
    hours, minutes = map(int, hhmm.split(":"))
    client.app.state.clock = ServiceClock("Europe/London", NOW.replace(hour=hours, minute=minutes))
    return hours * 60.0 + minutes


def count(client, model) -> int:
    with client.app.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def published(client, settings, problem):
    """The small day loaded, solved and its plan published; returns the plan."""
    boss = bearer(settings)
    assert client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss).status_code == 201
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 2, "publish": True}, headers=boss)
    assert job.status_code == 202 and job.json()["status"] == "queued"
    assert run_jobs(client) == 1
    done = client.get(f"/v1/jobs/{job.json()['id']}", headers=boss).json()
    assert done["status"] == "done" and done["result_plan"] == 1, done
    plan = client.get(f"/v1/days/{DATE}/plan", headers=boss)
    assert plan.status_code == 200
    return Plan.model_validate(plan.json()["plan"])


def test_days_need_if_match_to_change(client, settings, problem):
    boss = bearer(settings)
    created = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss)
    assert created.status_code == 201 and created.json()["visits"] == len(problem.visits)
    tag = created.headers["ETag"]
    again = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss)
    assert again.status_code == 428
    stale = client.put(
        f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers={**boss, "If-Match": '"1.0.0"'}
    )
    assert stale.status_code == 412
    ok = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers={**boss, "If-Match": tag})
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.headers["ETag"] != tag


def test_solve_publish_and_the_carer_sees_their_day(client, settings, problem, published):
    assert validate(problem, published).valid
    route = next(r for r in published.routes if r.visits)
    mine = client.get(f"/v1/me/days/{DATE}", headers=bearer(settings, "carer", carer=route.carer))
    assert mine.status_code == 200
    day = mine.json()
    assert [s["visit"] for s in day["visits"]] == [pv.visit for pv in route.visits]
    first = day["visits"][0]
    assert first["status"] == "planned" and first["start_hhmm"] and "tasks" in first and "address" in first
    client_ids = {pv.client for pv in route.visits}
    assert {s["client"] for s in day["visits"]} == client_ids  # their clients only
    changes = client.get(f"/v1/me/days/{DATE}/changes", headers=bearer(settings, "carer", carer=route.carer)).json()
    assert changes and set(changes[0]["changes"]["added"]) == {pv.visit for pv in route.visits}


def test_each_stop_carries_what_the_carer_needs_at_the_door(client, settings, problem, published):
    """Every carer's stops against the day itself: the client's name, address, place,
    phone, access and other notes, the visit's tasks and the double-up partner."""
    clients = {c.id: c for c in problem.clients}
    places = {x.id: x for x in problem.locations}
    names = {c.id: c.name for c in problem.carers}
    stops = []
    for route in (r for r in published.routes if r.visits):
        day = client.get(f"/v1/me/days/{DATE}", headers=bearer(settings, "carer", carer=route.carer))
        assert day.status_code == 200
        for stop, pv in zip(day.json()["visits"], route.visits, strict=True):
            who, home, visit = clients[pv.client], places[clients[pv.client].location], problem.visit(pv.visit)
            assert stop["client_name"] == who.name and who.name
            assert stop["address"] == home.address and home.address
            assert (stop["latitude"], stop["longitude"]) == (home.lat, home.lon)
            assert stop["phone"] == who.phone and who.phone
            assert (stop["access_notes"], stop["notes"]) == (who.access_notes, who.notes)
            assert stop["tasks"] == visit.tasks and visit.tasks
            assert stop["partner"] == pv.partner
            assert stop["partner_name"] == (names[pv.partner] if pv.partner else None)
            stops.append(stop)
    doubles = [s for s in stops if s["partner"] is not None]
    assert doubles and all(s["partner_name"] for s in doubles), "the small day's plan has double-handed visits"
    assert any(s["access_notes"] and "Key safe" in s["access_notes"] for s in stops)
    assert any(s["access_notes"] != s["notes"] for s in stops), "access notes are not the general notes"


def test_check_ins_are_idempotent(client, settings, published):
    route = next(r for r in published.routes if r.visits)
    phone = bearer(settings, "carer", carer=route.carer)
    visit = route.visits[0].visit
    url = f"/v1/me/days/{DATE}/visits/{visit}/check-in"
    at = min(route.visits[0].start, 9 * 60)
    first = client.post(url, json={"at": at}, headers={**phone, "Idempotency-Key": "phone-1-abc"})
    retry = client.post(url, json={"at": at}, headers={**phone, "Idempotency-Key": "phone-1-abc"})
    assert first.status_code == retry.status_code == 200
    assert first.json()["event"] == retry.json()["event"] and retry.json()["replayed"] is True
    assert count(client, EventRow) == 1
    assert client.post(url, json={}, headers=phone).status_code == 422  # the key is required
    other = next(r for r in published.routes if r.visits and r.carer != route.carer)
    foreign = client.post(
        f"/v1/me/days/{DATE}/visits/{other.visits[0].visit}/check-in",
        json={},
        headers={**phone, "Idempotency-Key": "phone-1-def"},
    )
    assert foreign.status_code == 404 and count(client, EventRow) == 1
    day = client.get(f"/v1/me/days/{DATE}", headers=phone).json()
    assert day["visits"][0]["status"] == "checked_in"


def test_an_absence_from_the_phone_is_replanned_and_the_others_told(client, settings, published):
    sick = max(published.routes, key=lambda r: len(r.visits)).carer
    phone = bearer(settings, "carer", carer=sick)
    reported = client.post(
        f"/v1/me/days/{DATE}/absence",
        json={"start": 600, "reason": "unwell"},
        headers={**phone, "Idempotency-Key": "absence-0001"},
    )
    assert reported.status_code == 200 and reported.json()["job"]
    assert run_jobs(client) == 1
    boss = bearer(settings)
    job = client.get(f"/v1/jobs/{reported.json()['job']}", headers=boss).json()
    assert job["status"] == "done", job
    now_plan = client.get(f"/v1/days/{DATE}/plan", headers=boss).json()
    assert now_plan["number"] == 2 and now_plan["source"] == "replan"
    plan = Plan.model_validate(now_plan["plan"])
    assert all(pv.end <= 600 + 1e-6 or pv.start < 600 for pv in plan.route(sick).visits)
    told = {c["carer"] for c in now_plan["changes"]["carers"]}
    assert sick in told
    for carer in told - {sick}:
        notes = client.get(f"/v1/me/days/{DATE}/changes", headers=bearer(settings, "carer", carer=carer)).json()
        assert notes[-1]["plan"] == 2
    untouched = {r.carer for r in plan.routes} - told
    for carer in untouched:
        notes = client.get(f"/v1/me/days/{DATE}/changes", headers=bearer(settings, "carer", carer=carer)).json()
        assert all(n["plan"] != 2 for n in notes)
    problem_now = client.get(f"/v1/days/{DATE}/problem", headers=boss).json()
    from carescheduler import Problem

    assert validate(Problem.model_validate(problem_now), plan).valid


def test_bad_events_name_the_field_and_write_nothing(client, settings, published):
    boss = bearer(settings)
    before = count(client, EventRow), count(client, Job)
    bad = client.post(f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent"}]}, headers=boss)
    assert bad.status_code == 422 and "carer" in str(bad.json())
    unknown = client.post(f"/v1/days/{DATE}/events", json={"events": [{"type": "teleport"}]}, headers=boss)
    assert unknown.status_code == 422
    broken = client.post(
        f"/v1/days/{DATE}/events", content=b"{not json", headers={**boss, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    assert (count(client, EventRow), count(client, Job)) == before


def test_an_event_the_day_refuses_is_refused_when_posted(client, settings, published):
    boss = bearer(settings)
    before = count(client, EventRow), count(client, Job)
    unknown = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent", "carer": "carer099"}]}, headers=boss
    )
    assert unknown.status_code == 422 and "events[0].carer" in unknown.text and "carer099" in unknown.text
    sick = published.routes[0].carer
    second_bad = client.post(
        f"/v1/days/{DATE}/events",
        json={"events": [{"type": "carer_absent", "carer": sick}, {"type": "visit_cancelled", "visit": "ghost"}]},
        headers=boss,
    )
    assert second_bad.status_code == 422 and "events[1].visit" in second_bad.text
    assert (count(client, EventRow), count(client, Job)) == before  # not even the good first one


def test_a_pending_event_time_overtook_is_rejected_and_the_others_applied(client, settings, published):
    """A cancellation checked at 09:00 and left pending; at 09:45 the visit has started
    (by plan), so the replan rejects it with why, and still applies the event sent with it."""
    boss = bearer(settings)
    now = set_clock(client, "09:00")
    starts = [(pv.start, pv.visit, r.carer) for r in published.routes for pv in r.visits if now + 5 < pv.start < 570]
    _, visit, carer = min(starts)
    first = client.post(
        f"/v1/days/{DATE}/events",
        json={"events": [{"type": "visit_cancelled", "visit": visit}], "replan": False},
        headers=boss,
    )
    assert first.status_code == 202 and first.json()["job"] is None
    set_clock(client, "09:45")
    other = next(r.carer for r in published.routes if r.carer != carer)
    second = client.post(
        f"/v1/days/{DATE}/events",
        json={"events": [{"type": "carer_delayed", "carer": other, "until": "11:00"}]},
        headers=boss,
    )
    assert second.status_code == 202, second.text
    assert run_jobs(client) == 1
    job = client.get(f"/v1/jobs/{second.json()['job']}", headers=boss).json()
    assert job["status"] == "done", job
    events = {e["id"]: e for e in client.get(f"/v1/days/{DATE}/events", headers=boss).json()}
    cancelled, delayed = events[first.json()["events"][0]], events[second.json()["events"][0]]
    assert cancelled["status"] == "rejected" and "can no longer be cancelled" in cancelled["error"]
    assert delayed["status"] == "applied" and delayed["plan"] == job["result_plan"] == 2
    assert delayed["created_by"] == "coordinator:coordinator" and delayed["received_at"] == 9 * 60 + 45
    rejected = client.get(f"/v1/days/{DATE}/events?status=rejected", headers=boss).json()
    assert [e["id"] for e in rejected] == [cancelled["id"]]
    plan = Plan.model_validate(client.get(f"/v1/days/{DATE}/plan", headers=boss).json()["plan"])
    assert any(pv.visit == visit for r in plan.routes for pv in r.visits)  # not cancelled


def test_the_service_clock_is_now_not_the_phones(client, settings, published):
    """A check-in stamped 22:00 at 08:12 is refused and records nothing; a replan after it
    runs at 08:12, so a cancellation of a later visit is still accepted and applied."""
    now = set_clock(client, "08:12")
    route = max(published.routes, key=lambda r: len(r.visits))
    phone = bearer(settings, "carer", carer=route.carer)
    visit = route.visits[0].visit
    url = f"/v1/me/days/{DATE}/visits/{visit}/check-in"
    late = client.post(url, json={"at": 22 * 60}, headers={**phone, "Idempotency-Key": "stamp-2200"})
    assert late.status_code == 422 and "at" in late.json()["detail"] and "22:00" in late.text
    assert count(client, EventRow) == 0
    ahead = client.post(url, json={"at": now + 1.5}, headers={**phone, "Idempotency-Key": "stamp-0813"})
    assert ahead.status_code == 200, ahead.text  # within the 2 minutes a phone's clock may be ahead: taken as now
    with client.app.state.sessions() as session:
        row = session.get(EventRow, ahead.json()["event"])
        assert row.payload["at"] == now and row.now == now
    boss = bearer(settings)
    later = max((pv.start, pv.visit) for r in published.routes for pv in r.visits if r.carer != route.carer)[1]
    sent = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "visit_cancelled", "visit": later}]}, headers=boss
    )
    assert sent.status_code == 202, sent.text
    assert run_jobs(client) == 1
    assert client.get(f"/v1/jobs/{sent.json()['job']}", headers=boss).json()["status"] == "done"
    events = client.get(f"/v1/days/{DATE}/events", headers=boss).json()
    assert [e["status"] for e in events] == ["applied", "applied"]
    plan = Plan.model_validate(client.get(f"/v1/days/{DATE}/plan", headers=boss).json()["plan"])
    assert all(pv.visit != later for r in plan.routes for pv in r.visits)


def test_an_idempotency_key_reused_with_another_body_is_refused(client, settings, published):
    route = next(r for r in published.routes if r.visits)
    phone = {**bearer(settings, "carer", carer=route.carer), "Idempotency-Key": "reused-key-1"}
    url = f"/v1/me/days/{DATE}/visits/{route.visits[0].visit}/check-in"
    assert client.post(url, json={"at": 500}, headers=phone).status_code == 200
    assert client.post(url, json={"at": 500}, headers=phone).json()["replayed"] is True
    other = client.post(url, json={"at": 505}, headers=phone)
    assert other.status_code == 422 and "Idempotency-Key" in other.text
    boss = {**bearer(settings), "Idempotency-Key": "batch-key-1"}
    body = {"events": [{"type": "carer_delayed", "carer": route.carer, "until": "10:00"}], "replan": False}
    first = client.post(f"/v1/days/{DATE}/events", json=body, headers=boss)
    again = client.post(f"/v1/days/{DATE}/events", json=body, headers=boss)
    assert first.status_code == again.status_code == 202 and again.json()["replayed"] is True
    assert again.json()["events"] == first.json()["events"]
    changed = client.post(f"/v1/days/{DATE}/events", json={**body, "replan": True}, headers=boss)
    assert changed.status_code == 422 and "Idempotency-Key" in changed.text
    assert count(client, EventRow) == 2 and count(client, Job) == 1  # the solve only


def test_jobs_are_listed_with_filters(client, settings, published):
    boss = bearer(settings)
    sick = published.routes[0].carer
    sent = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent", "carer": sick}]}, headers=boss
    )
    run_jobs(client)
    every = client.get("/v1/jobs", headers=boss).json()
    assert [j["kind"] for j in every] == ["replan", "solve"] and every[0]["id"] == sent.json()["job"]
    assert [j["kind"] for j in client.get("/v1/jobs?kind=solve", headers=boss).json()] == ["solve"]
    assert len(client.get("/v1/jobs?status=done&date=" + DATE, headers=boss).json()) == 2
    assert client.get("/v1/jobs?date=2030-06-04", headers=boss).json() == []
    first = client.get("/v1/jobs?limit=1", headers=boss)
    assert [j["kind"] for j in first.json()] == ["replan"] and "next" in first.links
    second = client.get(first.links["next"]["url"], headers=boss)
    assert [j["kind"] for j in second.json()] == ["solve"] and "next" not in second.links
    offset = client.get("/v1/jobs?limit=1&offset=1", headers=boss)  # gone: page one again would loop a client
    assert offset.status_code == 422 and offset.json()["field"] == "query.offset"
    assert client.get("/v1/jobs", headers=bearer(settings, org="south")).json() == []
    assert client.get("/v1/jobs?status=lost", headers=boss).status_code == 422


def test_the_time_zone_is_checked():
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(jwt_secret=SECRET, timezone="Europe/Atlantis")


@pytest.mark.parametrize(
    "weak",
    [
        "x" * 48,  # long enough, one character
        "test-secret-" + "x" * 40,
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "Password123!Password123!Password123!",
        "qwertyuiopasdfghjklzxcvbnm1234567890",  # a keyboard row
    ],
)
def test_a_secret_easy_to_guess_is_refused_without_being_echoed(weak: str):
    with pytest.raises(ValueError, match="jwt_secret") as refused:
        Settings(jwt_secret=weak, database_url="sqlite://")
    assert "too easy to guess" in str(refused.value)
    assert weak not in str(refused.value)


def test_recommendations(client, settings, published, problem):
    boss = bearer(settings)
    visit = {
        "id": "extra-call",
        "client": problem.clients[0].id,
        "duration": 20,
        "window": {"start": "13:00", "end": "15:00"},
    }
    answer = client.post(f"/v1/days/{DATE}/recommendations?top=2&now=600", json={"visit": visit}, headers=boss)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["visit"] == "extra-call" and 1 <= len(body["options"]) <= 2
    assert len(body["options"]) + len(body["unavailable"]) == len(problem.carers)
    bad = client.post(f"/v1/days/{DATE}/recommendations", json={"visit": {**visit, "client": "ghost"}}, headers=boss)
    assert bad.status_code == 422 and "unknown client" in bad.text


def test_object_level_authorisation(client, settings, published):
    route = next(r for r in published.routes if r.visits)
    phone = bearer(settings, "carer", carer=route.carer)
    assert client.get(f"/v1/days/{DATE}/plan", headers=phone).status_code == 403  # coordinators only
    assert client.get(f"/v1/days/{DATE}/problem", headers=phone).status_code == 403
    stranger = bearer(settings, "coordinator", org="south")
    assert client.get(f"/v1/days/{DATE}", headers=stranger).status_code == 404  # another organisation's
    assert client.get(f"/v1/days/{DATE}/plan", headers=stranger).status_code == 404
    south_carer = bearer(settings, "carer", org="south", carer=route.carer)
    assert client.get(f"/v1/me/days/{DATE}", headers=south_carer).status_code == 404
    nobody = bearer(settings, "carer", carer="carer999")
    assert client.get(f"/v1/me/days/{DATE}", headers=nobody).status_code == 404
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=bearer(settings)).json()
    assert client.get(f"/v1/jobs/{job['id']}", headers=stranger).status_code == 404
    assert client.get(f"/v1/days/{DATE}").status_code == 401
    forged = {
        "Authorization": "Bearer "
        + mint_token(
            Settings(jwt_secret=secrets.token_urlsafe(48), database_url="sqlite://"), "north", "coordinator", "x"
        )
    }
    assert client.get(f"/v1/days/{DATE}", headers=forged).status_code == 401


def test_publishing_needs_the_current_etag(client, settings, published):
    boss = bearer(settings)
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss).json()
    run_jobs(client)
    number = client.get(f"/v1/jobs/{job['id']}", headers=boss).json()["result_plan"]
    url = f"/v1/days/{DATE}/plans/{number}/publish"
    assert client.post(url, headers=boss).status_code == 428
    assert client.post(url, headers={**boss, "If-Match": '"0.0.0"'}).status_code == 412
    tag = client.get(f"/v1/days/{DATE}", headers=boss).headers["ETag"]
    done = client.post(url, headers={**boss, "If-Match": tag})
    assert done.status_code == 200 and done.json()["published_plan"] == number
    statuses = {p["number"]: p["status"] for p in client.get(f"/v1/days/{DATE}/plans", headers=boss).json()}
    assert statuses == {1: "superseded", number: "published"}
    with client.app.state.sessions() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"create day", "solve", "publish plan"} <= actions
    log = client.get("/v1/audit?limit=2", headers=boss).json()
    assert [e["action"] for e in log] == ["publish plan", "solve"] and log[0]["actor"] == "coordinator"
    assert (
        client.get("/v1/audit", headers=bearer(settings, "carer", carer=published.routes[0].carer)).status_code == 403
    )
    assert client.get("/v1/audit", headers=bearer(settings, org="south")).json() == []


def test_cancel_a_queued_job(client, settings, published):
    boss = bearer(settings)
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss).json()
    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel", headers=boss)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert run_jobs(client) == 0
    assert client.post(f"/v1/jobs/{job['id']}/cancel", headers=boss).status_code == 409


def test_jobs_interrupted_by_a_restart_are_resumed_or_failed(settings, problem):
    with TestClient(create_app(settings)) as client:
        boss = bearer(settings)
        client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss)
        job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss).json()
        with client.app.state.sessions() as session, session.begin():
            session.get(Job, job["id"]).status = "running"  # the worker was killed mid-job
            session.get(Job, job["id"]).attempts = 1
    with TestClient(create_app(settings)) as client:  # restart
        again = client.get(f"/v1/jobs/{job['id']}", headers=bearer(settings)).json()
        assert again["status"] == "queued" and "restart" in again["message"]
        assert run_jobs(client) == 1
        assert client.get(f"/v1/jobs/{job['id']}", headers=bearer(settings)).json()["status"] == "done"
        with client.app.state.sessions() as session, session.begin():
            session.get(Job, job["id"]).status = "running"
            session.get(Job, job["id"]).attempts = 3
    with TestClient(create_app(settings)) as client:
        gone = client.get(f"/v1/jobs/{job['id']}", headers=bearer(settings)).json()
        assert gone["status"] == "failed" and "interrupted" in gone["error"]


def test_oversized_bodies_are_refused_and_nothing_written(database_url, problem):
    small = Settings(database_url=database_url, jwt_secret=SECRET, worker=False, max_body_bytes=10_000)
    with TestClient(create_app(small)) as client:
        response = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=bearer(small))
        assert response.status_code == 413
        assert client.get("/v1/days", headers=bearer(small)).json() == []


def test_health_and_openapi(client):
    assert client.get("/health").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/v1/me/days/{date}" in spec["paths"] and "/v1/days/{date}/events" in spec["paths"]


def test_dates_are_checked(client, settings):
    for wrong in ("2026-02-30", "tomorrow"):
        answer = client.get(f"/v1/days/{wrong}", headers=bearer(settings))
        assert answer.status_code == 422 and answer.json()["field"] == "path.date", answer.text
    # a real date passes the check: the day is simply not there yet
    assert client.get("/v1/days/2026-02-28", headers=bearer(settings)).status_code == 404


def test_replacing_a_day_keeps_the_carers_view_sound(client, settings, problem, published):
    boss = bearer(settings)
    route = next(r for r in published.routes if r.visits)
    gone = route.visits[0].visit
    smaller = problem.model_copy(update={"visits": [v for v in problem.visits if v.id != gone]})
    tag = client.get(f"/v1/days/{DATE}", headers=boss).headers["ETag"]
    replaced = client.put(f"/v1/days/{DATE}", json=smaller.model_dump(mode="json"), headers={**boss, "If-Match": tag})
    assert replaced.status_code == 200 and replaced.json()["visits"] == len(problem.visits) - 1
    mine = client.get(f"/v1/me/days/{DATE}", headers=bearer(settings, "carer", carer=route.carer))
    assert mine.status_code == 200
    assert gone not in {s["visit"] for s in mine.json()["visits"]}


def test_visits_clients_and_places_one_at_a_time(client, settings, problem):
    boss = bearer(settings, "integration")
    tag = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss).headers["ETag"]
    listed = client.get(f"/v1/days/{DATE}/visits", headers=boss)
    assert listed.status_code == 200 and [v["id"] for v in listed.json()] == [v.id for v in problem.visits]
    first = problem.visits[0]
    one = client.get(f"/v1/days/{DATE}/visits/{first.id}", headers=boss)
    assert one.status_code == 200 and one.json()["client"] == first.client and one.headers["ETag"] == tag
    assert client.get(f"/v1/days/{DATE}/visits/nope", headers=boss).status_code == 404

    # a new client at a new place, then their visit: each a new version of the day
    home = {
        "id": "addr-new",
        "lat": problem.locations[1].lat + 0.01,
        "lon": problem.locations[1].lon,
        "address": "7 New Road",
    }
    assert client.put(f"/v1/days/{DATE}/locations/addr-new", json=home, headers=boss).status_code == 428
    placed = client.put(f"/v1/days/{DATE}/locations/addr-new", json=home, headers={**boss, "If-Match": tag})
    assert placed.status_code == 201 and placed.headers["ETag"] != tag
    tag = placed.headers["ETag"]
    added = client.put(
        f"/v1/days/{DATE}/clients/new-client",
        json={"id": "new-client", "location": "addr-new"},
        headers={**boss, "If-Match": tag},
    )
    assert added.status_code == 201
    tag = added.headers["ETag"]
    visit = {"id": "new-visit", "client": "new-client", "duration": 30, "window": {"start": 600, "end": 720}}
    made = client.put(f"/v1/days/{DATE}/visits/new-visit", json=visit, headers={**boss, "If-Match": tag})
    assert made.status_code == 201
    tag = made.headers["ETag"]
    day = client.get(f"/v1/days/{DATE}", headers=boss).json()
    assert day["version"] == 4 and day["visits"] == len(problem.visits) + 1

    # refused edits name the field and the reason, and change nothing
    stale = client.put(f"/v1/days/{DATE}/visits/new-visit", json=visit, headers={**boss, "If-Match": '"1.1.0"'})
    assert stale.status_code == 412
    wrong_id = client.put(f"/v1/days/{DATE}/visits/other", json=visit, headers={**boss, "If-Match": tag})
    assert wrong_id.status_code == 422 and "id" in wrong_id.json()["detail"]
    orphan = client.put(
        f"/v1/days/{DATE}/visits/new-visit", json={**visit, "client": "ghost"}, headers={**boss, "If-Match": tag}
    )
    assert orphan.status_code == 422 and "visits/new-visit" in orphan.json()["detail"]
    assert "ghost" in orphan.json()["detail"]
    in_use = client.delete(f"/v1/days/{DATE}/clients/new-client", headers={**boss, "If-Match": tag})
    assert in_use.status_code == 409 and "visits/new-visit" in in_use.json()["detail"]
    assert client.get(f"/v1/days/{DATE}", headers=boss).json()["version"] == 4

    # the next solve plans the new visit; then it can go again
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 2}, headers=boss).json()
    run_jobs(client)
    number = client.get(f"/v1/jobs/{job['id']}", headers=boss).json()["result_plan"]
    plan = Plan.model_validate(client.get(f"/v1/days/{DATE}/plans/{number}", headers=boss).json()["plan"])
    assert "new-visit" in {pv.visit for r in plan.routes for pv in r.visits} | {u.visit for u in plan.unassigned}
    assert len(client.get(f"/v1/days/{DATE}/problem", headers=boss).json()["locations"]) == len(problem.locations) + 1
    gone = client.delete(f"/v1/days/{DATE}/visits/new-visit", headers={**boss, "If-Match": tag})
    assert gone.status_code == 204
    assert client.get(f"/v1/days/{DATE}/visits/new-visit", headers=boss).status_code == 404
    with client.app.state.sessions() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"add place", "add client", "add visit", "remove visit"} <= actions


def test_only_the_organisations_planners_see_or_edit_its_people(client, settings, published, problem):
    route = next(r for r in published.routes if r.visits)
    phone = bearer(settings, "carer", carer=route.carer)
    stranger = bearer(settings, "coordinator", org="south")
    carer = problem.carers[0].model_dump(mode="json")
    for headers, status in ((phone, 403), (stranger, 404)):
        assert client.get(f"/v1/days/{DATE}/clients", headers=headers).status_code == status
        assert client.get(f"/v1/days/{DATE}/carers/{carer['id']}", headers=headers).status_code == status
        changed = client.put(f"/v1/days/{DATE}/carers/{carer['id']}", json=carer, headers={**headers, "If-Match": "*"})
        assert changed.status_code == status
    mine = client.get(f"/v1/days/{DATE}/carers/{carer['id']}", headers=bearer(settings))
    assert mine.status_code == 200 and mine.json()["id"] == carer["id"]


def test_my_organisation(client, settings, published):
    boss = bearer(settings)
    mine = client.get("/v1/organisation", headers=boss)
    assert mine.status_code == 200
    assert mine.json()["id"] == "north" and mine.json()["days"] == 1 and mine.json()["first_day"] == DATE
    renamed = client.patch("/v1/organisation", json={"name": "North Care"}, headers=boss)
    assert renamed.status_code == 200 and renamed.json()["name"] == "North Care"
    assert client.patch("/v1/organisation", json={"name": ""}, headers=boss).status_code == 422
    assert client.get("/v1/organisation", headers=bearer(settings, "integration")).json()["name"] == "North Care"
    assert (
        client.patch("/v1/organisation", json={"name": "x"}, headers=bearer(settings, "integration")).status_code == 403
    )
    assert client.get("/v1/organisation", headers=bearer(settings, "carer", carer="c")).status_code == 403
    south = client.get("/v1/organisation", headers=bearer(settings, org="south")).json()
    assert south["days"] == 0 and south["name"] == "south"


def test_a_replan_is_never_queued_behind_a_solve(client, settings, problem, published):
    """Another organisation's solve queued first, then a carer's absence here: the absence's
    replan runs first, and a worker that runs replans only never takes the solve."""
    south = bearer(settings, org="south")
    assert client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=south).status_code == 201
    solve = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=south).json()
    sick = published.routes[0].carer
    absence = client.post(
        f"/v1/me/days/{DATE}/absence",
        json={"reason": "unwell"},
        headers={**bearer(settings, "carer", carer=sick), "Idempotency-Key": "sick-call-1"},
    ).json()
    sessions, clock = client.app.state.sessions, client.app.state.clock
    assert run_pending_jobs(sessions, limit=1, clock=clock) == 1
    boss = bearer(settings)
    assert client.get(f"/v1/jobs/{absence['job']}", headers=boss).json()["status"] == "done"
    assert client.get(f"/v1/jobs/{solve['id']}", headers=south).json()["status"] == "queued"
    assert run_pending_jobs(sessions, clock=clock, kinds=("replan",)) == 0  # the replan lane leaves solves
    assert run_pending_jobs(sessions, clock=clock) == 1


def test_a_replan_supersedes_a_queued_solve_that_would_publish(client, settings, published):
    boss = bearer(settings)
    publishing = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=boss).json()
    draft = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss).json()
    sick = published.routes[0].carer
    sent = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent", "carer": sick}]}, headers=boss
    )
    gone = client.get(f"/v1/jobs/{publishing['id']}", headers=boss).json()
    assert gone["status"] == "cancelled" and sent.json()["job"] in gone["message"]
    assert client.get(f"/v1/jobs/{draft['id']}", headers=boss).json()["status"] == "queued"
    assert run_jobs(client) == 2


def test_a_solve_that_ran_while_a_replan_published_stays_a_draft(client, settings, published, monkeypatch):
    """The day changes (a replan publishes) while a solve runs: its plan of the old day is
    kept as a draft, never published over the replanned day."""
    import api.worker

    boss = bearer(settings)
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=boss).json()
    sick = published.routes[0].carer
    real_solve = api.worker.solve

    def solve_while_a_replan_publishes(*args, **kwargs):
        plan = real_solve(*args, **kwargs)
        sent = client.post(
            f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent", "carer": sick}]}, headers=boss
        )
        assert run_pending_jobs(client.app.state.sessions, clock=client.app.state.clock, kinds=("replan",)) == 1
        assert client.get(f"/v1/jobs/{sent.json()['job']}", headers=boss).json()["status"] == "done"
        return plan

    monkeypatch.setattr(api.worker, "solve", solve_while_a_replan_publishes)
    assert run_pending_jobs(client.app.state.sessions, clock=client.app.state.clock, kinds=("solve",)) == 1
    done = client.get(f"/v1/jobs/{job['id']}", headers=boss).json()
    assert done["status"] == "done" and "kept as a draft" in done["message"]
    plans = {p["number"]: p["status"] for p in client.get(f"/v1/days/{DATE}/plans", headers=boss).json()}
    assert plans[done["result_plan"]] == "draft"
    assert client.get(f"/v1/days/{DATE}/plan", headers=boss).json()["source"] == "replan"


def test_workers_claiming_at_once_never_run_a_job_twice(client, settings, problem):
    """Four workers claim from one queue of 40 jobs at the same time (threads, each with
    its own connection): every job is claimed exactly once."""
    import threading

    from api import store
    from api.db import transaction
    from api.models import Day

    boss = bearer(settings)
    put = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss)
    assert put.status_code == 201, put.text
    sessions = client.app.state.sessions
    with transaction(sessions) as session:
        day = session.scalars(select(Day)).one()
        for _ in range(40):
            store.add_job(session, day, "solve", {"time_limit": 1}, "test")
    claimed: list[str] = []
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        while True:
            with transaction(sessions) as session:
                job = store.claim_next_job(session)
                if job is None:
                    return
                claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 40 and len(set(claimed)) == 40
    assert count(client, Job) == 40


def test_a_days_replans_run_one_at_a_time(client, settings, published):
    from api import store
    from api.db import transaction

    boss = bearer(settings)
    sick = [r.carer for r in published.routes[:2]]
    first = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent", "carer": sick[0]}]}, headers=boss
    )
    with transaction(client.app.state.sessions) as session:
        running = store.claim_next_job(session)
        assert running is not None and running.id == first.json()["job"]
    second = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent", "carer": sick[1]}]}, headers=boss
    )
    assert second.json()["job"] != first.json()["job"]  # the first had started: a replan of its own
    with transaction(client.app.state.sessions) as session:
        assert store.claim_next_job(session) is None  # the day's other replan waits
    with transaction(client.app.state.sessions) as session:
        session.get_one(Job, first.json()["job"]).status = "queued"  # let the worker run both in order
    assert run_jobs(client) == 2
    plan = client.get(f"/v1/days/{DATE}/plan", headers=boss).json()
    assert plan["number"] == 3
    events = client.get(f"/v1/days/{DATE}/events", headers=boss).json()
    assert [e["status"] for e in events] == ["applied", "applied"] and [e["plan"] for e in events] == [2, 3]


def test_every_error_is_problem_details(client, settings, published):
    boss = bearer(settings)
    missing = client.get("/v1/days/2030-01-01", headers=boss)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    body = missing.json()
    assert body["status"] == 404 and body["title"] == "Not Found" and "2030-01-01" in body["detail"]
    assert body["instance"] == "/v1/days/2030-01-01"
    invalid = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_delayed", "carer": 7}]}, headers=boss
    )
    assert invalid.status_code == 422 and invalid.headers["content-type"] == "application/problem+json"
    assert invalid.json()["field"].startswith("body.events[0]") and invalid.json()["errors"]
    refused = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent", "carer": "carer099"}]}, headers=boss
    )
    assert (
        refused.json()["field"] == "events[0].carer" and refused.headers["content-type"] == "application/problem+json"
    )
    assert client.get("/v1/days").json()["status"] == 401
    spec = client.get("/openapi.json").json()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)) and {"check_in", "my_day", "post_events", "list_jobs"} <= set(ids)
    responses = spec["paths"]["/v1/me/days/{date}/visits/{visit}/check-in"]["post"]["responses"]
    assert {"401", "404", "422"} <= set(responses) and "application/problem+json" in responses["422"]["content"]


def test_jobs_are_located_and_timestamps_carry_their_offset(client, settings, published):
    boss = bearer(settings)
    queued = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss)
    assert queued.status_code == 202 and queued.headers["Location"] == f"/v1/jobs/{queued.json()['id']}"
    job = client.get(queued.headers["Location"], headers=boss).json()
    assert dt.datetime.fromisoformat(job["created_at"]).utcoffset() == dt.timedelta(0)
    assert job["date"] == DATE


def test_a_phone_polling_its_day_gets_304_until_it_changes(client, settings, published):
    route = next(r for r in published.routes if r.visits)
    phone = bearer(settings, "carer", carer=route.carer)
    first = client.get(f"/v1/me/days/{DATE}", headers=phone)
    tag = first.headers["ETag"]
    stop = first.json()["visits"][0]
    assert isinstance(stop["start"], int) and stop["start_hhmm"] and stop["end_hhmm"]
    same = client.get(f"/v1/me/days/{DATE}", headers={**phone, "If-None-Match": tag})
    assert same.status_code == 304 and same.headers["ETag"] == tag and same.content == b""
    client.post(
        f"/v1/me/days/{DATE}/visits/{stop['visit']}/check-in",
        json={"at": min(stop["start"], 9 * 60)},
        headers={**phone, "Idempotency-Key": "etag-check-in"},
    )
    changed = client.get(f"/v1/me/days/{DATE}", headers={**phone, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json()["visits"][0]["status"] == "checked_in"
    boss = bearer(settings)
    plan = client.get(f"/v1/days/{DATE}/plan", headers=boss)
    again = client.get(f"/v1/days/{DATE}/plan", headers={**boss, "If-None-Match": plan.headers["ETag"]})
    assert again.status_code == 304


@pytest.fixture()
def identity_provider(tmp_path):
    """An identity provider's RSA key (made here) and its JWKS file; returns (sign, jwks path)."""
    import json

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "council-1", "use": "sig", "alg": "RS256"}]}))

    def sign(claims: dict, minutes: float = 30, signer=key, kid: str = "council-1") -> str:
        now = dt.datetime.now(dt.UTC)
        body = {"iss": "https://login.council.example", "aud": "carescheduler", "iat": now, **claims}
        body.setdefault("exp", now + dt.timedelta(minutes=minutes))
        return jwt.encode(body, signer, algorithm="RS256", headers={"kid": kid})

    return sign, path


def test_tokens_from_the_councils_identity_provider(database_url, identity_provider, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import rsa

    sign, jwks = identity_provider
    revoked = tmp_path / "revoked.txt"
    revoked.write_text("# revoked tokens\n")
    config = Settings(
        database_url=database_url,
        jwt_secret=SECRET,
        worker=False,
        idp_jwks=str(jwks),
        idp_issuer="https://login.council.example",
        idp_audience="carescheduler",
        idp_org_claim="tenant",
        idp_role_claim="groups_role",
        idp_carer_claim="employee_id",
        idp_roles={"CareCoordinator": "coordinator", "CareWorker": "carer"},
        revoked_tokens=str(revoked),
    )

    def call(token: str, path: str = "/v1/days"):
        return client.get(path, headers={"Authorization": f"Bearer {token}"})

    with TestClient(create_app(config)) as client:
        amy = sign({"sub": "amy", "tenant": "north", "groups_role": "CareCoordinator", "jti": "t-1"})
        assert call(amy).status_code == 200 and call(amy).json() == []
        worker = sign({"sub": "bo", "tenant": "north", "groups_role": "CareWorker", "employee_id": "carer003"})
        assert call(worker, f"/v1/me/days/{DATE}").status_code == 404  # signed in as carer003: no such day yet
        assert call(worker).status_code == 403  # a carer, not a planner
        assert call(mint_token(config, "north", "coordinator", "amy")).status_code == 200  # minted here: still good
        expired = sign({"sub": "amy", "tenant": "north", "groups_role": "CareCoordinator"}, minutes=-5)
        assert call(expired).status_code == 401 and "expired" in call(expired).json()["detail"]
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = sign({"sub": "amy", "tenant": "north", "groups_role": "CareCoordinator"}, signer=stranger)
        assert call(forged).status_code == 401
        other_key = sign({"sub": "amy", "tenant": "north", "groups_role": "CareCoordinator"}, kid="council-9")
        assert call(other_key).status_code == 401
        wrong_audience = sign({"sub": "amy", "tenant": "north", "groups_role": "CareCoordinator", "aud": "payroll"})
        assert call(wrong_audience).status_code == 401
        unknown_role = sign({"sub": "amy", "tenant": "north", "groups_role": "Auditor"})
        assert call(unknown_role).status_code == 401
        carer_without_id = sign({"sub": "bo", "tenant": "north", "groups_role": "CareWorker"})
        assert call(carer_without_id).status_code == 401
        revoked.write_text("t-1\nsub:bo\n")
        assert call(amy).status_code == 401 and "revoked" in call(amy).json()["detail"]
        assert call(worker, f"/v1/me/days/{DATE}").status_code == 401
        fresh = sign({"sub": "amy", "tenant": "north", "groups_role": "CareCoordinator", "jti": "t-2"})
        assert call(fresh).status_code == 200  # only the revoked token (and bo's) are refused


def test_identity_provider_settings_are_checked():
    with pytest.raises(ValueError, match="idp_issuer"):
        Settings(jwt_secret=SECRET, idp_jwks="/etc/keys.json")
    with pytest.raises(ValueError, match="https"):
        Settings(jwt_secret=SECRET, idp_jwks="http://login.example/keys", idp_issuer="x")


def test_a_drafted_replan_applies_its_events_only_when_published(client, settings, published):
    """A replan that does not publish leaves its events pending (the next replan still
    absorbs them); publishing its draft applies them."""
    boss = bearer(settings)
    carer = max(published.routes, key=lambda r: len(r.visits)).carer
    posted = client.post(
        f"/v1/days/{DATE}/events",
        json={"events": [{"type": "carer_absent", "carer": carer, "start": "11:00"}], "publish": False},
        headers={**boss, "Idempotency-Key": "draft-absence-1"},
    )
    assert posted.status_code == 202 and run_jobs(client) == 1
    [event] = client.get(f"/v1/days/{DATE}/events", headers=boss).json()
    assert event["status"] == "pending" and event["plan"] is None and event["job"] == posted.json()["job"]
    assert client.get(f"/v1/days/{DATE}/plan", headers=boss).json()["number"] == 1  # the draft is not published
    tag = client.get(f"/v1/days/{DATE}", headers=boss).headers["ETag"]
    done = client.post(f"/v1/days/{DATE}/plans/2/publish", headers={**boss, "If-Match": tag})
    assert done.status_code == 200, done.text
    [event] = client.get(f"/v1/days/{DATE}/events", headers=boss).json()
    assert event["status"] == "applied" and event["plan"] == 2


def test_a_stale_replan_draft_cannot_be_published(client, settings, published):
    boss = bearer(settings)
    routes = sorted(published.routes, key=lambda r: -len(r.visits))
    for i, publish in enumerate([False, True]):
        body = {"events": [{"type": "carer_delayed", "carer": routes[i].carer, "minutes": 10}], "publish": publish}
        assert client.post(f"/v1/days/{DATE}/events", json=body, headers={**boss, "Idempotency-Key": f"stale-{i}-key"})
        assert run_jobs(client) == 1
    assert client.get(f"/v1/days/{DATE}/plan", headers=boss).json()["number"] == 3
    tag = client.get(f"/v1/days/{DATE}", headers=boss).headers["ETag"]
    stale = client.post(f"/v1/days/{DATE}/plans/2/publish", headers={**boss, "If-Match": tag})
    assert stale.status_code == 409 and "version" in stale.json()["detail"]


def test_travel_matrices_are_stored_once_per_content(client, settings, published, problem):
    """A replan writes the day's problem without its travel matrices (they have not
    changed); a new place grows them, stored once under their new key."""
    from api.models import Day, TravelRow

    boss = bearer(settings)
    assert count(client, TravelRow) == 1
    carer = published.routes[0].carer
    body = {"events": [{"type": "carer_delayed", "carer": carer, "minutes": 15}]}
    assert client.post(f"/v1/days/{DATE}/events", json=body, headers={**boss, "Idempotency-Key": "travel-1"})
    assert run_jobs(client) == 1 and count(client, TravelRow) == 1
    home = problem.locations[1]
    new_client = {
        "type": "client_added",
        "client": {"id": "newcomer", "location": "newcomer-home"},
        "location": {"id": "newcomer-home", "lat": home.lat + 0.002, "lon": home.lon},
        "visits": [{"id": "newcomer-tea", "client": "newcomer", "duration": 30, "window": {"start": "16:00"}}],
    }
    answer = client.post(
        f"/v1/days/{DATE}/events", json={"events": [new_client]}, headers={**boss, "Idempotency-Key": "travel-2"}
    )
    assert answer.status_code == 202, answer.text
    assert run_jobs(client) == 1 and count(client, TravelRow) == 2
    assert client.get(f"/v1/days/{DATE}", headers=boss).json()["clients"] == len(problem.clients) + 1
    with client.app.state.sessions() as session:
        day = session.scalar(select(Day))
        assert '"travel":[' not in day.problem and day.travel_key is not None
    whole = client.get(f"/v1/days/{DATE}/problem", headers=boss).json()
    assert [len(m["minutes"]) for m in whole["travel"]] == [len(problem.locations) + 1] * len(problem.travel)


def test_a_write_is_committed_before_its_answer_is_sent(client, settings, published):
    """A phone that got its 2xx may hang up at once: what it sent must already be in the
    database (a commit after the answer could still fail, or lose the race with a read)."""
    route = next(r for r in published.routes if r.visits)
    phone = {**bearer(settings, "carer", carer=route.carer)}
    for i, stop in enumerate(route.visits[:5]):
        answer = client.post(
            f"/v1/me/days/{DATE}/visits/{stop.visit}/check-in",
            json={"at": "08:30"},
            headers={**phone, "Idempotency-Key": f"committed-{i:04d}"},
        )
        assert answer.status_code == 200, answer.text
        with client.app.state.sessions() as session:
            assert session.get(EventRow, answer.json()["event"]) is not None


def walk(client, url: str, headers: dict, limit: int) -> list[dict]:
    """Every item of a list, page by page, following the Link headers to the end."""
    items: list[dict] = []
    following: str | None = url + ("&" if "?" in url else "?") + f"limit={limit}"
    while following is not None:
        response = client.get(following, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        following = response.links.get("next", {}).get("url")
        assert len(page) == limit if following else len(page) <= limit, (following, len(page))
        items += page
    return items


def test_walking_the_pages_of_every_list_gives_each_item_once_in_order(client, settings, problem, published):
    boss = bearer(settings)
    sick = max(published.routes, key=lambda r: len(r.visits)).carer
    absent = client.post(
        f"/v1/days/{DATE}/events", json={"events": [{"type": "carer_absent", "carer": sick}]}, headers=boss
    ).json()
    assert run_jobs(client) == 1  # plan 2, and the jobs: a solve and a replan
    others = [r.carer for r in published.routes if r.carer != sick][:3]
    delays = [{"type": "carer_delayed", "carer": carer, "until": "11:00"} for carer in others]
    delayed = client.post(f"/v1/days/{DATE}/events", json={"events": delays, "replan": False}, headers=boss).json()
    later = ["2030-06-05", "2030-06-04"]
    for date in later:
        assert client.put(f"/v1/days/{date}", json=problem.model_dump(mode="json"), headers=boss).status_code == 201
    [solve] = [j["id"] for j in client.get("/v1/jobs?kind=solve", headers=boss).json()]
    with client.app.state.sessions() as session:
        audit = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id.desc())))
    cases = [  # each list, the key its cursor takes, and the order it must come in
        ("/v1/days", boss, "date", [DATE, *sorted(later)]),
        (f"/v1/days/{DATE}/plans", boss, "number", [1, 2]),
        (f"/v1/days/{DATE}/events", boss, "id", absent["events"] + delayed["events"]),
        (f"/v1/days/{DATE}/events?status=pending", boss, "id", delayed["events"]),  # the filter goes on
        ("/v1/jobs", boss, "id", [absent["job"], solve]),  # newest first
        ("/v1/audit", boss, "id", audit),  # newest first
        (f"/v1/days/{DATE}/visits", boss, "id", [v.id for v in problem.visits]),  # the day's order
        (f"/v1/days/{DATE}/carers", boss, "id", [c.id for c in problem.carers]),
        (f"/v1/days/{DATE}/clients", boss, "id", [c.id for c in problem.clients]),
        (f"/v1/days/{DATE}/locations", boss, "id", [x.id for x in problem.locations]),
        (f"/v1/me/days/{DATE}/changes", bearer(settings, "carer", carer=sick), "plan", [1, 2]),
    ]
    for url, headers, key, expected in cases:
        assert len(expected) >= 2, url
        whole = client.get(url, headers=headers)
        assert "next" not in whole.links and [item[key] for item in whole.json()] == expected, url
        for limit in {1, 2, 7, len(expected) - 1, len(expected)}:
            assert walk(client, url, headers, limit) == whole.json(), (url, limit)


def test_a_walk_goes_on_after_an_edit_but_not_from_a_removed_item(client, settings, problem):
    boss = bearer(settings)
    tag = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss).headers["ETag"]
    first = client.get(f"/v1/days/{DATE}/visits?limit=5", headers=boss)
    seen = [v["id"] for v in first.json()]
    assert seen == [v.id for v in problem.visits[:5]]
    gone = client.delete(f"/v1/days/{DATE}/visits/{seen[0]}", headers={**boss, "If-Match": tag})
    assert gone.status_code == 204  # an item already read goes: the rest stay where they were
    rest = walk(client, first.links["next"]["url"], boss, 100)
    assert seen + [v["id"] for v in rest] == [v.id for v in problem.visits]
    tag = gone.headers["ETag"]
    assert client.delete(f"/v1/days/{DATE}/visits/{seen[-1]}", headers={**boss, "If-Match": tag}).status_code == 204
    lost = client.get(first.links["next"]["url"], headers=boss)
    assert lost.status_code == 422 and lost.json()["field"] == "query.after" and seen[-1] in lost.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/v1/days",
        f"/v1/days/{DATE}/plans",
        f"/v1/days/{DATE}/events",
        "/v1/jobs",
        "/v1/audit",
        f"/v1/days/{DATE}/visits",
        f"/v1/me/days/{DATE}/changes",
        f"/v1/days/{DATE}/alerts",
        "/v1/webhooks",
    ],
)
def test_a_page_size_out_of_range_is_refused_naming_the_field(client, settings, problem, url):
    boss = bearer(settings)
    assert client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss).status_code == 201
    headers = bearer(settings, "carer", carer=problem.carers[0].id) if "/me/" in url else boss
    assert client.get(f"{url}?limit=500", headers=headers).status_code == 200
    for limit in ("0", "501", "-1", "many"):
        refused = client.get(f"{url}?limit={limit}", headers=headers)
        assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json", limit
        assert refused.json()["field"] == "query.limit", refused.json()
    stranger = client.get("/v1/jobs?after=no-such-job", headers=boss)
    assert stranger.status_code == 422 and stranger.json()["field"] == "query.after"


def test_an_unexpected_error_shows_no_internals(client, settings, published, monkeypatch):
    """A failure nobody planned for answers problem details with an error id (the
    traceback goes to the log), in a route and in a job alike."""
    from api import store as store_module

    def broken(*args, **kwargs):
        raise RuntimeError("disk full at /srv/carescheduler/secret.db")

    boss = bearer(settings)
    monkeypatch.setattr(store_module, "list_days", broken)
    answer = client.get("/v1/days", headers=boss)
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["detail"].startswith("unexpected error ")
    assert "/srv" not in answer.text and "Traceback" not in answer.text

    monkeypatch.setattr("api.worker.solve", broken)
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss).json()
    assert run_jobs(client) == 1
    failed = client.get(f"/v1/jobs/{job['id']}", headers=boss).json()
    assert failed["status"] == "failed" and failed["error"].startswith("unexpected error ")
    assert "/srv" not in failed["error"] and "Traceback" not in failed["error"]


def test_one_organisation_cannot_crowd_out_the_others(client, settings, problem):
    """Solves ask for at most the service's longest time limit; an organisation may have
    only so many queued or running (429 beyond); and the next job a worker takes is from
    the organisation with the fewest running, so another's solve does not wait behind a
    queue of the first's."""
    from api import store
    from api.db import transaction

    greedy, other = bearer(settings, org="north"), bearer(settings, org="south")
    for headers in (greedy, other):
        assert client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=headers).status_code == 201
    long = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 3600}, headers=greedy)
    assert long.status_code == 422 and long.json()["field"] == "time_limit"
    queued = [client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 300}, headers=greedy) for _ in range(5)]
    assert [r.status_code for r in queued] == [202] * settings.solves_per_organisation + [429]
    refused = queued[-1]
    assert refused.headers["content-type"] == "application/problem+json" and refused.headers["Retry-After"]
    theirs = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=other)
    assert theirs.status_code == 202
    with transaction(client.app.state.sessions) as session:
        first = store.claim_next_job(session)
        assert first is not None and first.org_id == "north"  # oldest first while no one runs
    with transaction(client.app.state.sessions) as session:
        second = store.claim_next_job(session)
        assert second is not None and second.id == theirs.json()["id"]  # south runs nothing yet: it goes next


def test_a_job_cancelled_while_it_ran_stays_cancelled_after_a_restart(client, settings, published):
    from api import store
    from api.db import transaction

    boss = bearer(settings)
    job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss).json()
    with transaction(client.app.state.sessions) as session:
        assert store.claim_next_job(session).id == job["id"]
    assert client.post(f"/v1/jobs/{job['id']}/cancel", headers=boss).status_code == 200
    with transaction(client.app.state.sessions) as session:
        store.requeue_interrupted(session)  # what start-up does after a crash
    assert client.get(f"/v1/jobs/{job['id']}", headers=boss).json()["status"] == "cancelled"
    assert run_jobs(client) == 0


def test_an_idempotency_key_belongs_to_its_caller(client, settings, published):
    """An integration sending the key a carer's phone used (even spelled as the stored form
    used to be, ``carer001:key``) records its own event: it never gets the carer's back."""
    route = next(r for r in published.routes if r.visits)
    phone = {**bearer(settings, "carer", carer=route.carer), "Idempotency-Key": "squat-key-1"}
    mine = client.post(f"/v1/me/days/{DATE}/visits/{route.visits[0].visit}/check-in", json={}, headers=phone)
    assert mine.status_code == 200
    system = bearer(settings, "integration")
    body = {"events": [{"type": "carer_delayed", "carer": route.carer, "minutes": 5}], "replan": False}
    for key in ("squat-key-1", f"{route.carer}:squat-key-1"):
        theirs = client.post(f"/v1/days/{DATE}/events", json=body, headers={**system, "Idempotency-Key": key})
        assert theirs.status_code == 202 and theirs.json()["replayed"] is False, theirs.text
        assert mine.json()["event"] not in theirs.json()["events"]


def _at_once(base_url, calls: list) -> list:
    """Run the calls, each with its own connection, in threads released together (a
    barrier): truly concurrent requests."""
    import threading

    start, answers = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i: int) -> None:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            start.wait()
            answers[i] = calls[i](http)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_of_two_writers_with_the_same_etag_exactly_one_wins(client, settings, problem):
    """Two changes of the same visit sent at the same moment with the same If-Match: one
    is made, the other gets 412, and the day's version rises by one (ten rounds)."""
    boss = bearer(settings)
    tag = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss).headers["ETag"]
    visit = problem.visits[0].model_dump(mode="json")
    for round_ in range(10):
        version = client.get(f"/v1/days/{DATE}", headers=boss).json()["version"]

        def change(duration: int, tag: str = tag):
            body = {**visit, "duration": duration}
            return lambda http: http.put(
                f"/v1/days/{DATE}/visits/{visit['id']}", json=body, headers={**boss, "If-Match": tag}
            )

        answers = _at_once(client.base_url, [change(20 + round_), change(40 + round_)])
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 412], [(a.status_code, a.text[:200]) for a in answers]
        winner = next(a for a in answers if a.status_code == 200)
        day = client.get(f"/v1/days/{DATE}", headers=boss)
        assert day.json()["version"] == version + 1
        stored = client.get(f"/v1/days/{DATE}/visits/{visit['id']}", headers=boss).json()
        assert stored["duration"] == winner.json()["duration"]  # the winner's change, not lost
        tag = day.headers["ETag"]


def test_of_two_publishes_at_the_same_moment_exactly_one_wins(client, settings, published):
    boss = bearer(settings)
    for _ in range(2):  # two drafts
        client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=boss)
    assert run_jobs(client) == 2
    for _ in range(3):
        tag = client.get(f"/v1/days/{DATE}", headers=boss).headers["ETag"]
        plans = client.get(f"/v1/days/{DATE}/plans", headers=boss).json()
        drafts = [p["number"] for p in plans if p["status"] != "published"]

        def publish(number: int, tag: str = tag):
            return lambda http: http.post(f"/v1/days/{DATE}/plans/{number}/publish", headers={**boss, "If-Match": tag})

        answers = _at_once(client.base_url, [publish(n) for n in drafts[:2]])
        assert sorted(a.status_code for a in answers) == [200, 412], [a.text[:200] for a in answers]
        plans = client.get(f"/v1/days/{DATE}/plans", headers=boss).json()
        assert [p["status"] for p in plans].count("published") == 1


def test_publishing_is_the_coordinators(client, settings, published):
    system = bearer(settings, "integration")
    refused = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=system)
    assert refused.status_code == 403 and "coordinator" in refused.json()["detail"]
    assert client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1}, headers=system).status_code == 202
    client.app.state.settings = settings.model_copy(update={"integrations_publish": True})
    allowed = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=system)
    assert allowed.status_code == 202


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/days/{DATE}/plans/99999999999999999999",
        f"/v1/days/{DATE}/events?after=99999999999999999999",
        "/v1/webhooks?after=9223372036854775808",
        "/v1/webhooks/99999999999999999999/deliveries",
    ],
)
def test_numbers_beyond_any_id_are_refused_not_looked_up(client, settings, published, url):
    answer = client.get(url, headers=bearer(settings))
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json", answer.text


def test_lists_of_days_parse_no_problem_and_a_day_too_big_is_refused(client, settings, problem, published, monkeypatch):
    from api import store as store_module

    boss = bearer(settings)
    monkeypatch.setattr(store_module, "day_problem", lambda day: pytest.fail("a list of days parsed a problem"))
    [day] = client.get("/v1/days", headers=boss).json()
    assert (day["carers"], day["clients"], day["visits"]) == (
        len(problem.carers),
        len(problem.clients),
        len(problem.visits),
    )
    monkeypatch.undo()
    client.app.state.settings = settings.model_copy(update={"day_max": {"visits": len(problem.visits) - 1}})
    # refused on the decoded JSON, before any of its models is built
    monkeypatch.setattr(Problem, "model_validate", lambda *a, **k: pytest.fail("a day too big was validated"))
    refused = client.put("/v1/days/2030-06-04", json=problem.model_dump(mode="json"), headers=boss)
    assert refused.status_code == 422 and refused.json()["field"] == "visits"
    monkeypatch.undo()
    assert client.get("/v1/days/2030-06-04", headers=boss).status_code == 404  # nothing written


def test_tokens_live_no_longer_than_the_service_allows(client, settings):
    """A token claiming to live until the year 9999, one with no issue time, and one whose
    carer claim is a list are refused (401)."""
    import jwt

    secret = settings.jwt_secret.get_secret_value()
    now = dt.datetime.now(dt.UTC)
    base = {"iss": settings.jwt_issuer, "sub": "amy", "org": "north", "role": "coordinator", "iat": now}
    forever = jwt.encode({**base, "exp": dt.datetime(9999, 1, 1, tzinfo=dt.UTC)}, secret, algorithm="HS256")
    undated = jwt.encode(
        {k: v for k, v in base.items() if k != "iat"} | {"exp": now + dt.timedelta(hours=1)}, secret, algorithm="HS256"
    )
    listed = jwt.encode(
        {**base, "role": "carer", "carer": ["carer001"], "exp": now + dt.timedelta(hours=1)}, secret, algorithm="HS256"
    )
    for token in (forever, undated, listed):
        answer = client.get("/v1/days", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
    with pytest.raises(ValueError, match="at most"):
        mint_token(settings, "north", "coordinator", "amy", hours=settings.token_max_hours + 1)


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_a_day_outside_any_plausible_date_is_refused(client, settings, problem, date):
    answer = client.put(f"/v1/days/{date}", json=problem.model_dump(mode="json"), headers=bearer(settings))
    assert answer.status_code == 422 and answer.json()["field"] == "path.date"
    assert client.get("/v1/days", headers=bearer(settings)).json() == []  # nothing written


def test_only_a_carer_of_the_day_reports_an_absence_and_reasons_are_bounded(client, settings, published):
    stranger = {**bearer(settings, "carer", carer="carer999"), "Idempotency-Key": "stranger-absence"}
    assert client.post(f"/v1/me/days/{DATE}/absence", json={}, headers=stranger).status_code == 404
    assert run_jobs(client) == 0  # and no replan queued
    carer = published.routes[0].carer
    body = {"events": [{"type": "carer_absent", "carer": carer, "reason": "x" * 5_000_000}]}
    long = client.post(f"/v1/days/{DATE}/events", json=body, headers=bearer(settings))
    assert long.status_code == 422 and "reason" in long.json()["field"]


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("client notes", "n" * 2001, "notes"),
        ("client name", "N" * 201, "name"),
        ("visit task", "t" * 201, "tasks"),
        ("visit id", "v" * 201, "id"),
    ],
)
def test_every_string_of_a_day_is_bounded(client, settings, problem, where, value, field):
    """A day whose client notes run to megabytes (or a name, a task or an id) is refused
    naming the field, and nothing is written; one entity put alone is bounded the same."""
    day = problem.model_dump(mode="json")
    if where.startswith("client"):
        day["clients"][0][field] = value
    elif where == "visit task":
        day["visits"][0]["tasks"] = [value]
    else:
        day["visits"][0]["id"] = value
    boss = bearer(settings)
    answer = client.put(f"/v1/days/{DATE}", json=day, headers=boss)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["field"] and "at most" in answer.json()["detail"]
    assert client.get("/v1/days", headers=boss).json() == []
    if where.startswith("client"):
        tag = client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss).headers["ETag"]
        one = {**problem.clients[0].model_dump(mode="json"), field: value}
        answer = client.put(f"/v1/days/{DATE}/clients/{one['id']}", json=one, headers={**boss, "If-Match": tag})
        assert answer.status_code == 422 and field in answer.json()["field"]


@pytest.mark.parametrize("now", ["nan", "inf", "-inf", "1e309"])
def test_a_time_that_is_not_a_number_is_refused(client, settings, published, now):
    visit = {"id": "extra", "client": published.routes[0].visits[0].client, "duration": 30}
    answer = client.post(f"/v1/days/{DATE}/recommendations?now={now}", json={"visit": visit}, headers=bearer(settings))
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json", answer.text
    assert answer.json()["field"] == "query.now"


def test_two_callers_creating_the_same_new_day_at_once_get_one_day(client, settings, problem):
    """Two PUTs of a day that does not exist yet, at the same moment: one creates it
    (201), the other is told the day now exists and needs its ETag, never a 500."""
    boss = bearer(settings)
    body = problem.model_dump(mode="json")
    for round_ in range(5):
        date = f"2030-07-{round_ + 1:02d}"
        answers = _at_once(
            client.base_url, [lambda http, d=date: http.put(f"/v1/days/{d}", json=body, headers=boss)] * 2
        )
        codes = sorted(a.status_code for a in answers)
        # 412 if it looked before the other's day was there, 428 (send If-Match) if after
        assert codes in ([201, 412], [201, 428]), [(a.status_code, a.text[:200]) for a in answers]
        assert client.get(f"/v1/days/{date}", headers=boss).json()["version"] == 1


def test_a_burst_of_events_makes_one_replan_not_one_each(client, settings, published):
    """Ten event posts before any replan starts join one queued replan, which absorbs all
    of them; a post after it started gets a replan of its own."""
    boss = bearer(settings)
    routes = [r for r in published.routes if r.visits]
    jobs = set()
    for i, route in enumerate(routes[:5]):
        for minutes in (5, 10):
            sent = client.post(
                f"/v1/days/{DATE}/events",
                json={"events": [{"type": "carer_delayed", "carer": route.carer, "minutes": minutes + i}]},
                headers={**boss, "Idempotency-Key": f"burst-{i}-{minutes}"},
            )
            assert sent.status_code == 202, sent.text
            jobs.add(sent.json()["job"])
    assert len(jobs) == 1
    assert run_jobs(client) == 1
    [job] = jobs
    assert client.get(f"/v1/jobs/{job}", headers=boss).json()["status"] == "done"
    events = client.get(f"/v1/days/{DATE}/events", headers=boss).json()
    assert len(events) == 10 and {e["status"] for e in events} == {"applied"}
    later = client.post(
        f"/v1/days/{DATE}/events",
        json={"events": [{"type": "carer_delayed", "carer": routes[0].carer, "minutes": 30}]},
        headers=boss,
    )
    assert later.json()["job"] not in jobs
