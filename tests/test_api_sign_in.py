"""Signing a browser in (the coordinator's board): one-time links, the session cookie, its
CSRF token and origin checks, signing in with a bearer token, signing out, and the pages'
dependency; over real HTTP (``live_server.AppServer``) on SQLite and PostgreSQL.

Time is never waited for: a link or session that has already expired is made by passing
``now`` to ``browser_sessions``.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from http.cookies import SimpleCookie

import httpx
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from api import browser_sessions
from api.browser_sessions import COOKIE
from api.cli import service_url
from api.config import Settings
from api.db import transaction
from api.deps import PageCoordinator, PageUser, csrf_for
from api.main import create_app
from api.models import AuditEntry, SignInLink, utcnow
from api.security import Principal, mint_token
from conftest import ROOT
from test_api import (  # the service's fixtures, on both databases
    DATE,
    SECRET,
    _at_once,
    bearer,
    client,
    identity_provider,
    problem,
    settings,
)

__all__ = ["client", "identity_provider", "problem", "settings"]

ALICE = Principal(subject="alice", org="north", role="coordinator")


def make_link(client, settings: Settings, now: dt.datetime | None = None, **who) -> str:
    """A sign-in link's path, made as ``python -m api sign-in-link`` makes it."""
    who = {"org": "north", "subject": "alice", **who}
    with transaction(client.app.state.sessions) as session:
        return browser_sessions.create_link(session, settings, now=now, **who)


def session_of(answer: httpx.Response) -> str:
    """The session id the answer's cookie carries (checked for its attributes)."""
    cookie = SimpleCookie(answer.headers["set-cookie"])[COOKIE]
    assert cookie["httponly"] and cookie["samesite"].lower() == "lax" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http (the demo on 127.0.0.1): a Secure cookie would never come back
    return cookie.value


def sign_in(client, path: str) -> str:
    """Use the link; returns the session id (the client keeps no cookie: each call says)."""
    answer = client.post(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/", answer.text
    client.cookies.clear()
    return session_of(answer)


def cookie(session_id: str, **headers: str | bytes) -> dict[str, str | bytes]:
    return {"Cookie": f"{COOKIE}={session_id}", **headers}


def audited(client, action: str) -> list[AuditEntry]:
    with client.app.state.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_link_shows_a_button_and_signs_in_once(client, settings):
    path = make_link(client, settings)
    for _ in range(2):  # a link previewer opening it first uses nothing
        page = client.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f'<form method="post" action="{path}">' in page.text and ">Sign in</button>" in page.text
        assert '<html lang="en">' in page.text and "<h1>" in page.text and "alice" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY" and page.headers["referrer-policy"] == "no-referrer"
        assert "set-cookie" not in page.headers
    assert client.get("/v1/days").status_code == 401
    signed_in = client.post(path)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    assert "Max-Age=43200" in signed_in.headers["set-cookie"]  # session_hours: 12
    client.cookies.clear()
    session_id = session_of(signed_in)
    days = client.get("/v1/days", headers=cookie(session_id))
    assert days.status_code == 200 and days.json() == []
    again = client.post(path)
    assert again.status_code == 410 and "used already" in again.json()["detail"] and "set-cookie" not in again.headers
    assert client.get(path).status_code == 410
    [entry] = audited(client, "sign in")
    assert (entry.org_id, entry.actor, entry.role, entry.detail["via"]) == ("north", "alice", "coordinator", "link")
    with client.app.state.sessions() as session:  # what is stored signs nobody in
        stored = session.scalars(select(SignInLink.token_hash)).all()
    assert path.rsplit("/", 1)[1] not in stored and session_id not in str(stored)


def test_an_expired_or_unknown_link_is_refused(client, settings):
    expired = make_link(client, settings, now=utcnow() - dt.timedelta(minutes=16))  # 15 minutes to use it
    for answer in (client.get(expired), client.post(expired)):
        assert answer.status_code == 410 and "expired" in answer.json()["detail"]
    unknown = "/sign-in/" + "x" * 43
    assert client.post(unknown).status_code == 404 and "no such sign-in link" in client.get(unknown).json()["detail"]
    fresh = make_link(client, settings, now=utcnow() - dt.timedelta(minutes=14))
    assert client.post(fresh).status_code == 303


def test_of_two_uses_of_a_link_at_the_same_moment_exactly_one_signs_in(client, settings):
    for _ in range(5):
        path = make_link(client, settings)
        answers = _at_once(client.base_url, [lambda http, path=path: http.post(path).status_code] * 2)
        assert sorted(answers) == [303, 410], answers
    assert len(audited(client, "sign in")) == 5


def test_changes_by_cookie_need_the_csrf_token_and_this_origin(client, settings):
    session_id = sign_in(client, make_link(client, settings))
    csrf = browser_sessions.csrf_token(settings, session_id)
    own = str(client.base_url).rstrip("/")

    def rename(name: str, **headers: str | bytes) -> httpx.Response:
        return client.patch("/v1/organisation", json={"name": name}, headers=cookie(session_id, **headers))

    refused = {
        "no token": rename("A"),
        "another's token": rename("B", **{"X-CSRF-Token": browser_sessions.csrf_token(settings, "another")}),
        "not ascii": rename("C", **{"X-CSRF-Token": "é".encode("latin-1") * 64}),
        "another site": rename("D", **{"X-CSRF-Token": csrf, "Origin": "https://evil.example"}),
        "another port": rename("E", **{"X-CSRF-Token": csrf, "Origin": own.rsplit(":", 1)[0] + ":1"}),
        "cross-site": rename("F", **{"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"}),
        "same-site": rename("G", **{"X-CSRF-Token": csrf, "Sec-Fetch-Site": "same-site"}),
        "hidden origin": rename("H", **{"X-CSRF-Token": csrf, "Origin": "null"}),
    }
    for why, answer in refused.items():
        assert answer.status_code == 403, why
        assert answer.headers["content-type"] == "application/problem+json", why
    assert "X-CSRF-Token" in refused["no token"].json()["detail"]
    assert "evil.example" in refused["another site"].json()["detail"]
    assert client.get("/v1/organisation", headers=cookie(session_id)).json()["name"] == "north"  # nothing changed
    browser = {"X-CSRF-Token": csrf, "Origin": own, "Sec-Fetch-Site": "same-origin"}
    assert rename("North Care", **browser).status_code == 200
    assert rename("North Care 2", **{"X-CSRF-Token": csrf}).status_code == 200  # no Origin sent: the token suffices
    # a page sending no Referer (Referrer-Policy: no-referrer) posts with Origin: null, but same-origin
    assert rename("North Care 3", **{**browser, "Origin": "null"}).status_code == 200
    assert client.get("/v1/organisation", headers=cookie(session_id)).json()["name"] == "North Care 3"
    # a bearer token is no ambient credential: no CSRF token, any origin
    boss = {**bearer(settings), "Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"}
    assert client.patch("/v1/organisation", json={"name": "North"}, headers=boss).status_code == 200


def test_a_browser_sees_only_its_own_organisation(client, settings, problem):
    south = bearer(settings, org="south")
    assert client.put(f"/v1/days/{DATE}", json=problem.model_dump(mode="json"), headers=south).status_code == 201
    session_id = sign_in(client, make_link(client, settings, org="north"))
    assert client.get(f"/v1/days/{DATE}", headers=cookie(session_id)).status_code == 404
    assert client.get("/v1/days", headers=cookie(session_id)).json() == []
    southern = sign_in(client, make_link(client, settings, org="south", subject="sam"))
    assert client.get(f"/v1/days/{DATE}", headers=cookie(southern)).status_code == 200


def test_signing_out_ends_the_session(client, settings):
    session_id = sign_in(client, make_link(client, settings))
    assert client.post("/sign-out", headers=cookie(session_id)).status_code == 403  # no CSRF token
    assert client.get("/v1/days", headers=cookie(session_id)).status_code == 200
    csrf = browser_sessions.csrf_token(settings, session_id)
    out = client.post("/sign-out", headers=cookie(session_id, **{"X-CSRF-Token": csrf}))
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    cleared = SimpleCookie(out.headers["set-cookie"])[COOKIE]
    assert cleared.value == "" and cleared["max-age"] == "0"
    gone = client.get("/v1/days", headers=cookie(session_id))
    assert gone.status_code == 401 and "signed out" in gone.json()["detail"]
    [entry] = audited(client, "sign out")
    assert (entry.org_id, entry.actor) == ("north", "alice")
    # a plain HTML form sends the token as a field
    other = sign_in(client, make_link(client, settings))
    form = {"csrf_token": browser_sessions.csrf_token(settings, other)}
    assert client.post("/sign-out", data=form, headers=cookie(other)).status_code == 303
    assert client.get("/v1/days", headers=cookie(other)).status_code == 401
    assert client.post("/sign-out").status_code == 303  # not signed in: on to the sign-in page


def test_an_expired_or_revoked_session_signs_nobody_in(client, settings, tmp_path):
    with transaction(client.app.state.sessions) as session:
        old = browser_sessions.open_session(session, settings, ALICE, "test", now=utcnow() - dt.timedelta(hours=12))
        live = browser_sessions.open_session(session, settings, ALICE, "test")
    expired = client.get("/v1/days", headers=cookie(old))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert client.get("/v1/days", headers=cookie("not-a-session")).status_code == 401
    assert client.get("/v1/days", headers=cookie(live)).status_code == 200
    revoked = tmp_path / "revoked.txt"
    revoked.write_text("sub:alice\n")  # alice has left: her browser sessions end with her tokens
    client.app.state.settings = settings.model_copy(update={"revoked_tokens": str(revoked)})
    refused = client.get("/v1/days", headers=cookie(live))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]


def test_a_bearer_token_signs_a_browser_in_but_not_an_integrations(client, settings):
    token = mint_token(settings, "north", "coordinator", "amy")
    signed_in = client.post("/sign-in/token", data={"token": f"Bearer {token}\n"})
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    client.cookies.clear()
    session_id = session_of(signed_in)
    assert client.get("/v1/days", headers=cookie(session_id)).status_code == 200
    carer = client.post("/sign-in/token", data={"token": mint_token(settings, "north", "carer", "bo", "carer003")})
    assert carer.status_code == 303
    client.cookies.clear()
    phone = cookie(session_of(carer))
    assert client.get(f"/v1/me/days/{DATE}", headers=phone).status_code == 404  # their day: none yet
    assert client.get("/v1/days", headers=phone).status_code == 403  # not a planner
    system = client.post("/sign-in/token", data={"token": mint_token(settings, "north", "integration", "erp")})
    assert system.status_code == 403 and "integration" in system.json()["detail"] and "set-cookie" not in system.headers
    forged = client.post("/sign-in/token", data={"token": token[:-4] + "AAAA"})
    assert forged.status_code == 401 and "set-cookie" not in forged.headers
    assert client.post("/sign-in/token", data={"token": " "}).status_code == 422
    assert [e.detail["via"] for e in audited(client, "sign in")] == ["token", "token"]


def test_another_site_cannot_sign_a_browser_in(client, settings):
    """Login CSRF: a page elsewhere posting its own link or token would sign the browser in
    as someone else. The link it tried stays unused."""
    path = make_link(client, settings)
    token = mint_token(settings, "north", "coordinator", "mallory")
    assert client.post(path, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post(path, headers={"Origin": "https://evil.example"}).status_code == 403
    assert (
        client.post("/sign-in/token", data={"token": token}, headers={"Origin": "https://evil.example"}).status_code
        == 403
    )
    assert audited(client, "sign in") == []
    own = str(client.base_url).rstrip("/")
    assert client.post(path, headers={"Origin": own, "Sec-Fetch-Site": "same-origin"}).status_code == 303


def test_a_browser_gets_refusals_as_pages(client, settings):
    path = make_link(client, settings)
    sign_in(client, path)
    used = client.post(path, headers={"Accept": "text/html,application/xhtml+xml"})
    assert used.status_code == 410 and used.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in used.text and "used already" in used.text and 'href="/sign-in"' in used.text
    assert used.headers["x-frame-options"] == "DENY"
    page = client.get("/sign-in")
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "python -m api sign-in-link --org" in page.text and "make serve" in page.text
    assert '<label for="token">' in page.text and 'action="/sign-in/token"' in page.text
    assert ":focus-visible" in page.text and "http" not in page.text.split("<body>")[0]  # nothing from elsewhere


def test_pages_take_the_cookie_or_send_the_browser_to_sign_in(database_url):
    """What the board's pages use: ``PageUser``/``PageCoordinator`` and ``csrf_for``."""
    config = Settings(database_url=database_url, jwt_secret=SECRET, worker=False)
    app = create_app(config)

    @app.get("/test-page")
    def page(user: PageUser, request: Request) -> dict:
        return {"who": user.subject, "role": user.role, "csrf": csrf_for(request)}

    @app.get("/test-coordinators-page")
    def coordinators_page(user: PageCoordinator) -> dict:
        return {"who": user.subject}

    with TestClient(app, follow_redirects=False) as browser:
        away = browser.get("/test-page")
        assert away.status_code == 303 and away.headers["location"] == "/sign-in"
        assert browser.get("/test-page", headers=bearer(config)).status_code == 303  # pages go by the cookie
        with transaction(app.state.sessions) as session:
            alice = browser_sessions.open_session(session, config, ALICE, "test")
            old = browser_sessions.open_session(session, config, ALICE, "test", now=utcnow() - dt.timedelta(days=1))
            bo = browser_sessions.open_session(
                session, config, Principal(subject="bo", org="north", role="carer", carer="carer003"), "test"
            )
        shown = browser.get("/test-page", headers=cookie(alice))
        assert shown.status_code == 200
        assert shown.json() == {
            "who": "alice",
            "role": "coordinator",
            "csrf": browser_sessions.csrf_token(config, alice),
        }
        ended = browser.get("/test-page", headers=cookie(old))
        assert ended.status_code == 303 and ended.headers["location"] == "/sign-in"
        assert SimpleCookie(ended.headers["set-cookie"])[COOKIE].value == ""  # the stale cookie is dropped
        assert browser.get("/test-coordinators-page", headers=cookie(alice)).json() == {"who": "alice"}
        assert browser.get("/test-coordinators-page", headers=cookie(bo)).status_code == 403


def test_identity_provider_tokens_sign_a_browser_in(database_url, identity_provider):
    sign, jwks = identity_provider
    config = Settings(
        database_url=database_url,
        jwt_secret=SECRET,
        worker=False,
        idp_jwks=str(jwks),
        idp_issuer="https://login.council.example",
        idp_audience="carescheduler",
        idp_org_claim="tenant",
        idp_role_claim="groups_role",
        idp_roles={"CareCoordinator": "coordinator"},
    )
    with TestClient(create_app(config), follow_redirects=False) as browser:
        amy = sign({"sub": "amy", "tenant": "north", "groups_role": "CareCoordinator"})
        signed_in = browser.post("/sign-in/token", data={"token": amy})
        assert signed_in.status_code == 303
        browser.cookies.clear()
        session_id = session_of(signed_in)
        mine = browser.get("/v1/organisation", headers=cookie(session_id))
        assert mine.status_code == 200 and mine.json()["id"] == "north"
        expired = sign({"sub": "amy", "tenant": "north", "groups_role": "CareCoordinator"}, minutes=-5)
        refused = browser.post("/sign-in/token", data={"token": expired})
        assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_the_command_line_makes_a_link_that_signs_in(tmp_path):
    url = f"sqlite:///{tmp_path / 'service.db'}"
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "CARESCHEDULER_JWT_SECRET": SECRET,
        "DATABASE_URL": url,
    }

    def command(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "api", "sign-in-link", *args],
            cwd=tmp_path,  # no .env from the checkout
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert service_url("0.0.0.0", 8123) == "http://127.0.0.1:8123"  # serve --host --port: where links point
    assert service_url("::1", 8123) == "http://[::1]:8123"
    made = command("--org", "demo", "--subject", "alice", "--base-url", "http://127.0.0.1:8123/")
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip()
    assert link.startswith("http://127.0.0.1:8123/sign-in/") and "15 minutes" in made.stderr
    system = command("--org", "demo", "--subject", "erp", "--role", "integration")
    assert system.returncode == 2 and "Traceback" not in system.stderr and "integration" in system.stderr
    config = Settings(database_url=url, jwt_secret=SECRET, worker=False)
    with TestClient(create_app(config), follow_redirects=False) as browser:
        signed_in = browser.post(link.removeprefix("http://127.0.0.1:8123"))
        assert signed_in.status_code == 303
        browser.cookies.clear()
        assert browser.get("/v1/organisation", headers=cookie(session_of(signed_in))).json()["id"] == "demo"
