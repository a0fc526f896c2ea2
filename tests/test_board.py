"""The board's pages over real HTTP (``live_server.AppServer``): who may open them, what
they carry (every carer's row, statuses from the phones, the "now" line, a draft's
preview), their security headers, the runs for the map and the run sheets. The browser
test (``test_board_browser.py``) drives the same pages in chromium."""

from __future__ import annotations

import secrets
from html.parser import HTMLParser

import pytest

from api import browser_sessions
from api.browser_sessions import COOKIE
from api.db import transaction
from carescheduler.plan import Plan
from test_api import DATE, bearer, client, problem, published, run_jobs, settings

__all__ = ["client", "problem", "published", "settings"]

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Elements(HTMLParser):
    """Each element's tag and attributes."""

    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def with_class(self, name: str) -> list[dict]:
        return [attrs for _, attrs in self.found if name in (attrs.get("class") or "").split()]


def signed_in(client, settings, **who) -> None:
    """The client's cookie jar holds a browser session for ``who`` (a coordinator of north)."""
    who = {"org": "north", "subject": "alice", **who}
    with transaction(client.app.state.sessions) as session:
        path = browser_sessions.create_link(session, settings, **who)
    answer = client.post(path)
    assert answer.status_code == 303, answer.text
    session_id = answer.cookies[COOKIE]
    client.cookies.clear()
    client.cookies.set(COOKIE, session_id)


def test_pages_need_a_signed_in_browser(client, settings, published):
    for path in ("/", "/board", f"/board/{DATE}", f"/board/{DATE}/run-sheets"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"] in ("/board", "/sign-in"), path
    # a bearer token opens the API, not the pages (a browser never sends one)
    assert client.get(f"/board/{DATE}", headers=bearer(settings)).headers["location"] == "/sign-in"


def test_the_board_shows_every_carer_and_is_served_safely(client, settings, published: Plan):
    signed_in(client, settings)
    assert client.get("/board").headers["location"] == f"/board/{DATE}"
    answer = client.get(f"/board/{DATE}")
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    page = Elements(answer.text)
    scripts = [attrs for tag, attrs in page.found if tag == "script"]
    assert scripts and all(attrs.get("src", "").startswith("/board/static/") for attrs in scripts)  # none inline
    csrf = next(attrs["content"] for tag, attrs in page.found if tag == "meta" and attrs.get("name") == "csrf-token")
    assert browser_sessions.csrf_matches(settings, next(iter(client.cookies.values())), csrf)
    rows = {attrs["data-carer-id"] for attrs in page.with_class("row") if "data-carer-id" in attrs}
    assert rows == {r.carer for r in published.routes if r.visits}
    blocks = {(attrs["data-visit"]) for attrs in page.with_class("visit") if "open" not in attrs["class"]}
    assert blocks == {pv.visit for r in published.routes for pv in r.visits}
    assert page.with_class("now"), "the day is today on the service's clock: a now line"
    for name in ("board.js", "board.css", "report.js", "report.css"):
        asset = client.get(f"/board/static/{name}")
        assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"
    assert client.get("/board/static/secrets.txt").status_code == 404


def test_statuses_follow_what_the_phones_report(client, settings, published: Plan):
    signed_in(client, settings)
    route = next(r for r in published.routes if r.visits)
    first, second = route.visits[0], route.visits[1]
    phone = bearer(settings, "carer", carer=route.carer)
    assert client.post(f"/v1/me/days/{DATE}/visits/{first.visit}/check-in", json={}, headers=key(phone)).is_success
    assert client.post(f"/v1/me/days/{DATE}/visits/{first.visit}/check-out", json={}, headers=key(phone)).is_success
    assert client.post(f"/v1/me/days/{DATE}/visits/{second.visit}/check-in", json={}, headers=key(phone)).is_success

    board = client.get(f"/board/{DATE}")
    assert board.status_code == 200, board.text
    classes, row = {}, None
    for _, attrs in Elements(board.text).found:  # each visit block under the row it follows
        names = (attrs.get("class") or "").split()
        if "row" in names:
            row = attrs.get("data-carer-id")
        elif "visit" in names and row == route.carer:
            classes[attrs["data-visit"]] = names
    assert "st-done" in classes[first.visit]
    assert "st-checked_in" in classes[second.visit]


def key(headers: dict) -> dict:
    """A phone's request, with the key that makes its retries harmless."""
    return {**headers, "Idempotency-Key": secrets.token_hex(8)}


def test_a_coordinator_sees_only_their_organisation(client, settings, published):
    signed_in(client, settings, org="south", subject="bob")
    assert client.get(f"/board/{DATE}").status_code == 404
    assert client.get(f"/board/{DATE}/runs", params={"carer": published.routes[0].carer}).status_code == 404


def test_a_carer_gets_their_own_day_not_the_board(client, settings, published: Plan):
    route = next(r for r in published.routes if r.visits)
    signed_in(client, settings, subject=route.carer, role="carer", carer=route.carer)
    assert client.get(f"/board/{DATE}").status_code == 403
    assert client.get("/board").headers["location"] == f"/me/{DATE}"
    mine = client.get(f"/me/{DATE}")
    assert mine.status_code == 200
    shown = [attrs["data-visit"] for tag, attrs in Elements(mine.text).found if tag == "tr" and "data-visit" in attrs]
    assert shown == [pv.visit for pv in route.visits]
    assert "sha256-" in mine.headers["content-security-policy"]  # its inline style sheet, by hash only


def test_a_draft_is_previewed_against_the_published_plan(client, settings, published: Plan):
    boss = bearer(settings)

    def another_carer(carer: str, visit: str) -> str | None:
        answer = client.post(f"/v1/days/{DATE}/recommendations", json={"visit": visit}, headers=boss).json()
        return next((o["carer"] for o in answer.get("options", []) if o["carer"] != carer and not o["partner"]), None)

    route, visit, taker = next(
        (r, pv.visit, taker)
        for r in published.routes
        for pv in reversed(r.visits)
        if pv.partner is None and (taker := another_carer(r.carer, pv.visit)) is not None
    )
    draft = client.post(f"/v1/days/{DATE}/plans/1/moves", json={"visit": visit, "carer": taker}, headers=boss)
    assert draft.status_code == 201, draft.text
    number = draft.json()["number"]
    signed_in(client, settings)
    page = client.get(f"/board/{DATE}", params={"plan": number}).text
    assert f"Preview of draft plan {number}" in page
    changed = {attrs["data-changed-carer"] for tag, attrs in Elements(page).found if "data-changed-carer" in attrs}
    assert changed == {route.carer, taker}
    assert client.get(f"/board/{DATE}", params={"plan": 99}).status_code == 404


def test_runs_for_the_map_follow_the_plan(client, settings, published: Plan):
    signed_in(client, settings)
    route = next(r for r in published.routes if r.visits)
    answer = client.get(f"/board/{DATE}/runs", params={"carer": route.carer})
    assert answer.status_code == 200
    run = answer.json()["runs"][route.carer]
    assert [stop[2] for stop in run["stops"]] == [pv.visit for pv in route.visits]
    assert run["roads"] is False  # this service has no road network: straight from stop to stop
    assert len(run["points"].split()) == len(route.visits) + 2  # home, the stops, home
    assert client.get(f"/board/{DATE}/runs", params={"carer": "nobody"}).json()["runs"] == {}
    too_many = [("carer", f"c{i}") for i in range(21)]
    assert client.get(f"/board/{DATE}/runs", params=too_many).status_code == 422


def test_run_sheets_print_every_carer(client, settings, published: Plan):
    signed_in(client, settings)
    sheets = client.get(f"/board/{DATE}/run-sheets")
    assert sheets.status_code == 200
    working = [r.carer for r in published.routes if r.visits]
    assert all(carer in sheets.text for carer in working)
    one = client.get(f"/board/{DATE}/run-sheets/{working[0]}")
    assert one.status_code == 200
    assert client.get(f"/board/{DATE}/run-sheets/nobody").status_code == 404


def test_names_are_escaped(client, settings, problem):
    hostile = '<img src=x onerror="alert(1)">'
    data = problem.model_dump(mode="json")
    data["carers"][0]["name"] = hostile
    data["clients"][0]["name"] = hostile
    boss = bearer(settings)
    assert client.put(f"/v1/days/{DATE}", json=data, headers=boss).status_code == 201
    client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 1, "publish": True}, headers=boss)
    assert run_jobs(client) == 1
    signed_in(client, settings)
    page = client.get(f"/board/{DATE}").text
    assert hostile not in page and "&lt;img src=x" in page
