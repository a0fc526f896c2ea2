"""The live day pushed to people and systems, on SQLite and PostgreSQL: alerts kept by
the service's watch, webhooks signed and retried, and the Server-Sent Events streams over
real HTTP (a uvicorn server on a free port).

The watch's sweep and the webhook sender are called directly here, at chosen moments
(the watch process calls the same functions on a timer).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import select

from api import alerts, webhooks
from api.models import EventRow
from live_server import AppServer
from test_api import (  # the service's fixtures, on both databases
    DATE,
    bearer,
    client,
    problem,
    published,
    run_jobs,
    set_clock,
    settings,
)

__all__ = ["client", "problem", "published", "settings"]


def sweep(client) -> tuple[int, int]:
    state = client.app.state
    return alerts.sweep(state.sessions, state.clock, state.settings)


def _late_at_nine(plan) -> list[tuple[str, str]]:
    """(visit, carer) of every visit planned to start by 08:45 (late at 09:00)."""
    return sorted((pv.visit, r.carer) for r in plan.routes for pv in r.visits if pv.start <= 8 * 60 + 45)


# --- alerts ------------------------------------------------------------------------------


def test_an_unstarted_visit_raises_an_alert_that_a_check_in_resolves(client, settings, published, problem):
    boss = bearer(settings)
    late = _late_at_nine(published)
    assert late, "the small day has visits before 08:45"
    set_clock(client, "09:00")
    raised, resolved = sweep(client)
    assert (raised, resolved) == (len(late), 0)
    listed = client.get(f"/v1/days/{DATE}/alerts", headers=boss).json()
    assert sorted((a["visit"], a["carer"]) for a in listed) == late
    assert all(a["status"] == "open" for a in listed)
    closed = {v.id for v in problem.visits if v.window.end is not None and v.window.end < 9 * 60}
    assert {a["visit"] for a in listed if a["kind"] == "missed"} == {v for v, _ in late if v in closed}
    assert {a["visit"] for a in listed if a["kind"] == "late_start"} == {v for v, _ in late if v not in closed}
    assert sweep(client) == (0, 0)  # the same alerts stand: nothing new

    visit, carer = next((v, c) for v, c in late if v not in closed)
    phone = bearer(settings, "carer", carer=carer)
    answer = client.post(
        f"/v1/me/days/{DATE}/visits/{visit}/check-in",
        json={"at": "08:58"},
        headers={**phone, "Idempotency-Key": "check-in-late"},
    )
    assert answer.status_code == 200, answer.text
    assert sweep(client) == (0, 1)
    done = client.get(f"/v1/days/{DATE}/alerts", params={"status": "resolved"}, headers=boss).json()
    assert [(a["visit"], a["resolution"]) for a in done] == [(visit, "checked in at 08:58")]
    assert len(client.get(f"/v1/days/{DATE}/alerts", params={"status": "open"}, headers=boss).json()) == len(late) - 1
    assert client.get(f"/v1/days/{DATE}/alerts", headers=bearer(settings, "carer", carer=carer)).status_code == 403
    walked, url = [], f"/v1/days/{DATE}/alerts?limit=2"
    while url:  # in pages of two, following the Link header
        answer = client.get(url, headers=boss)
        walked += [a["id"] for a in answer.json()]
        url = answer.links.get("next", {}).get("url")
    assert walked == [a["id"] for a in listed]


def test_a_visit_not_checked_out_and_a_missed_visit(client, settings, published, problem):
    boss = bearer(settings)
    first = next(r for r in published.routes if r.visits and r.visits[0].start <= 8 * 60 + 30)
    stop = first.visits[0]
    phone = {**bearer(settings, "carer", carer=first.carer), "Idempotency-Key": "check-in-first"}
    set_clock(client, "08:30")
    answer = client.post(f"/v1/me/days/{DATE}/visits/{stop.visit}/check-in", json={}, headers=phone)
    assert answer.status_code == 200, answer.text
    set_clock(client, "23:00")
    sweep(client)
    kinds = {(a["kind"], a["visit"], a["carer"]) for a in client.get(f"/v1/days/{DATE}/alerts", headers=boss).json()}
    assert ("not_checked_out", stop.visit, first.carer) in kinds
    closed = {v.id for v in problem.visits if v.window.end is not None and v.window.end < 23 * 60}
    missed = {(v, c) for k, v, c in kinds if k == "missed"}
    assert missed and {v for v, _ in missed} <= closed and (stop.visit, first.carer) not in missed
    assert not any(k == "late_start" and v in closed for k, v, _ in kinds)  # missed replaces late


def test_an_alert_can_queue_a_replan_that_places_the_visit_again(client, settings, published):
    client.app.state.settings = settings.model_copy(update={"alert_replan": True})
    late = _late_at_nine(published)
    set_clock(client, "09:00")
    raised, _ = sweep(client)
    assert raised == len(late)
    with client.app.state.sessions() as session:
        reported = session.scalars(select(EventRow.payload).where(EventRow.created_by == "service:alerts")).all()
    assert sorted((e["visit"], e["carer"]) for e in reported) == late
    assert all(e["type"] == "visit_not_started" for e in reported)
    assert run_jobs(client) == 1
    boss = bearer(settings)
    plan = client.get(f"/v1/days/{DATE}/plan", headers=boss).json()
    assert plan["number"] == 2 and plan["source"] == "replan"
    starts = {(pv["visit"], r["carer"]): pv["start"] for r in plan["plan"]["routes"] for pv in r["visits"]}
    # no late visit is still planned before now with no check-in: each starts at 09:00 or later, or moved
    assert all(starts.get(key, 9 * 60) >= 9 * 60 - 1e-6 for key in late)
    sweep(client)
    still = client.get(f"/v1/days/{DATE}/alerts", params={"status": "open"}, headers=boss).json()
    assert not {(a["visit"], a["carer"]) for a in still if a["kind"] == "late_start"} & set(late)
    assert sweep(client)[0] == 0 and run_jobs(client) == 0  # one replan per alert, not one per sweep


# --- webhooks ----------------------------------------------------------------------------


class Receiver:
    """An integration system's endpoint on loopback: answers the statuses it is given, in
    turn (then 200), and keeps every request it got."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.got: queue.Queue = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.got.put((dict(self.headers.items()), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture()
def receiver():
    made: list[Receiver] = []

    def make(statuses: list[int]) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _signed_by(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return headers["webhook-signature"] == f"v1,{expected}"


def test_a_webhook_is_signed_retried_after_a_failure_logged_and_replayed(client, settings, published, receiver):
    boss = bearer(settings)
    endpoint = receiver([500])
    made = client.post("/v1/webhooks", json={"url": endpoint.url, "kinds": ["event"]}, headers=boss)
    assert made.status_code == 201 and made.headers["Location"] == f"/v1/webhooks/{made.json()['id']}"
    hook = made.json()
    assert hook["secret"].startswith("whsec_")
    assert client.get("/v1/webhooks", headers=boss).json()[0]["secret"] is None  # shown once only
    carer = published.routes[0].carer
    posted = client.post(
        f"/v1/days/{DATE}/events",
        json={"events": [{"type": "carer_delayed", "carer": carer, "minutes": 20}], "replan": False},
        headers={**boss, "Idempotency-Key": "hook-1"},
    )
    assert posted.status_code == 202, posted.text

    state, now = client.app.state, dt.datetime(2030, 6, 3, 8, 0)
    assert webhooks.deliver_due(state.sessions, settings, now) == 1
    headers, body = endpoint.got.get(timeout=10)
    assert _signed_by(hook["secret"], headers, body)
    sent = json.loads(body)
    assert sent["type"] == "event" and sent["data"]["type"] == "carer_delayed" and sent["data"]["status"] == "pending"
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=boss).json()
    assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [("pending", 1, 500)]

    # not before its backoff is over; then tried again, and the receiver takes it
    assert webhooks.deliver_due(state.sessions, settings, now + dt.timedelta(seconds=1)) == 0
    later = now + dt.timedelta(seconds=settings.webhook_backoff_seconds)
    assert webhooks.deliver_due(state.sessions, settings, later) == 1
    again_headers, again_body = endpoint.got.get(timeout=10)
    assert again_headers["webhook-id"] == headers["webhook-id"] and again_body == body  # the same message
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=boss).json()
    assert [(d["status"], d["attempts"], d["last_status"]) for d in log] == [("delivered", 2, 200)]

    replayed = client.post(f"/v1/webhooks/{hook['id']}/deliveries/{log[0]['id']}/replay", headers=boss)
    assert replayed.status_code == 202 and replayed.json()["status"] == "pending"
    assert webhooks.deliver_due(state.sessions, settings, later + dt.timedelta(hours=1)) == 1
    assert endpoint.got.get(timeout=10)[0]["webhook-id"] == headers["webhook-id"]
    assert client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=boss).json()[0]["status"] == "delivered"


def test_a_delivery_is_given_up_after_its_tries_and_kinds_filter_what_is_sent(client, settings, published, receiver):
    boss = bearer(settings)
    endpoint = receiver([503] * 50)
    hook = client.post("/v1/webhooks", json={"url": endpoint.url, "kinds": ["job"]}, headers=boss).json()
    other = client.post("/v1/webhooks", json={"url": endpoint.url, "kinds": ["alert"]}, headers=boss).json()
    assert client.post(f"/v1/days/{DATE}/replan", json={}, headers=boss).status_code == 202
    state, now = client.app.state, dt.datetime(2030, 6, 3, 8, 0)
    quick = settings.model_copy(update={"webhook_max_attempts": 3})
    for attempt in range(3):
        webhooks.deliver_due(state.sessions, quick, now + dt.timedelta(days=attempt))
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=boss).json()
    assert [(d["kind"], d["status"], d["attempts"], d["last_status"]) for d in log] == [("job", "failed", 3, 503)]
    assert client.get(f"/v1/webhooks/{other['id']}/deliveries", headers=boss).json() == []
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=boss).status_code == 204
    assert client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=boss).status_code == 404


@pytest.mark.parametrize("url", ["ftp://example.org/x", "not a url", "/relative", "\x1f", "http://"])
def test_a_webhook_url_is_checked(client, settings, url):
    answer = client.post("/v1/webhooks", json={"url": url}, headers=bearer(settings))
    assert answer.status_code == 422 and answer.json()["field"] == "url"


# --- Server-Sent Events over real HTTP ---------------------------------------------------


def test_sse_clients_receive_a_plan_change_and_resume_from_their_last_event(settings, problem):
    with AppServer(settings.model_copy(update={"stream_poll_seconds": 0.05})) as server:
        boss = bearer(settings)
        put = httpx.put(f"{server.url}/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss)
        assert put.status_code == 201
        with server.stream("/v1/stream", boss) as stream:
            solve = httpx.post(
                f"{server.url}/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=boss
            )
            assert solve.status_code == 202
            server.run_jobs()
            seen = stream.until(lambda e: e["event"] == "job" and e["data"]["status"] == "done")
        assert [e["data"]["status"] for e in seen if e["event"] == "job"] == ["queued", "running", "done"]
        [plan_event] = [e for e in seen if e["event"] == "plan"]  # published before the job is done
        assert plan_event["data"]["number"] == 1 and plan_event["data"]["status"] == "published"

        # a carer's phone, offline until now: resuming from event 0 it gets its day_changed
        routes = httpx.get(f"{server.url}/v1/days/{DATE}/plan", headers=boss).json()["plan"]["routes"]
        route = next(r for r in routes if r["visits"])
        phone = bearer(settings, "carer", carer=route["carer"])
        with server.stream("/v1/me/stream", {**phone, "Last-Event-ID": "0"}) as mine:
            changed = mine.until(lambda e: e["event"] == "day_changed")
        assert [e["event"] for e in changed] == ["day_changed"]  # only the carer's own
        assert changed[0]["data"]["plan"] == 1
        assert set(changed[0]["data"]["changes"]["added"]) == {v["visit"] for v in route["visits"]}

        # resuming the coordinators' stream after the plan event sends only what came later
        with server.stream("/v1/stream", {**boss, "Last-Event-ID": plan_event["id"]}) as resumed:
            posted = httpx.post(
                f"{server.url}/v1/days/{DATE}/events",
                json={"events": [{"type": "carer_absent", "carer": route["carer"]}]},
                headers={**boss, "Idempotency-Key": "sse-absence-1"},
            )
            assert posted.status_code == 202
            after = resumed.until(lambda e: e["event"] == "event")
        assert all(int(e["id"]) > int(plan_event["id"]) for e in after)
        bad = httpx.get(f"{server.url}/v1/stream", headers={**boss, "Last-Event-ID": "yesterday"})
        assert bad.status_code == 422 and bad.json()["field"] == "Last-Event-ID"


def test_old_feed_entries_are_forgotten_unless_a_delivery_waits(client, settings, published, receiver):
    from api import feed
    from api.db import transaction
    from api.models import Delivery, FeedEntry

    boss = bearer(settings)
    client.post("/v1/webhooks", json={"url": receiver([500]).url, "kinds": ["plan"]}, headers=boss)
    assert client.post(f"/v1/days/{DATE}/replan", json={}, headers=boss).status_code == 202
    assert run_jobs(client) == 1
    state = client.app.state
    webhooks.deliver_due(state.sessions, settings, dt.datetime(2030, 6, 3, 8, 0))  # fails: stays pending
    with transaction(state.sessions) as session:
        waiting = session.scalars(select(Delivery.feed_id)).all()
        assert len(waiting) == 1
        total = len(session.scalars(select(FeedEntry.id)).all())
        gone = feed.prune(session, dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1))
    assert gone == total - 1
    with state.sessions() as session:
        assert session.scalars(select(FeedEntry.id)).all() == waiting


def test_a_stream_too_far_behind_is_closed_and_resumes_without_a_gap(settings, problem, monkeypatch):
    """A listener whose queue fills is cut off rather than sent a stream with holes; it
    reconnects with its last id and gets the rest."""
    from api.feed import FeedHub

    monkeypatch.setattr(FeedHub, "queue_size", 1)
    with AppServer(settings.model_copy(update={"stream_poll_seconds": 0.05})) as server:
        boss = bearer(settings)
        assert httpx.put(f"{server.url}/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=boss)
        httpx.post(f"{server.url}/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=boss)
        server.run_jobs()
        carers = [c.id for c in problem.carers[:3]]
        events = [{"type": "carer_delayed", "carer": c, "minutes": 5} for c in carers]
        with server.stream("/v1/stream", boss) as stream:
            posted = httpx.post(  # three entries in one transaction: one poll finds them together
                f"{server.url}/v1/days/{DATE}/events", json={"events": events, "replan": False}, headers=boss
            )
            assert posted.status_code == 202, posted.text
            got = [stream.until(lambda e: True, timeout=10)[-1]]
            assert stream.ended.wait(10)  # then the server ends the stream: nothing missed unseen
            assert stream.events.empty()
        with server.stream("/v1/stream", {**boss, "Last-Event-ID": got[-1]["id"]}) as resumed:
            rest = [resumed.until(lambda e: True, timeout=10)[-1] for _ in range(2)]
        assert [e["data"]["carer"] for e in got + rest] == carers
