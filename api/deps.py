"""Dependencies and helpers the routes share: the database session, who is calling, their
role, the day they ask for (always within their own organisation), the day's ETag check
and how a job is shown. Routes import these, never each other.

Who is calling: a bearer token (``Authorization: Bearer``), or else a browser's session
cookie (``browser_sessions.COOKIE``, set by signing in at ``/sign-in``). A request that
changes something and is let in by the cookie alone must come from one of the service's
own pages: it carries the session's CSRF token in ``X-CSRF-Token`` (a page gets it from
``csrf_for``), and its ``Origin`` and ``Sec-Fetch-Site``, when the browser sends them, say
it came from this service (``check_same_origin``). A bearer token is never sent by a
browser on its own, so a request carrying one needs none of that. Pages (HTML) take
``PageUser``: the cookie's principal, or a redirect to the sign-in page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Header, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from carescheduler import InputError, Problem

from . import browser_sessions, roster_store, store
from .browser_sessions import COOKIE, SIGN_IN_PATH, SignInRefused
from .clock import ServiceClock
from .config import Settings
from .dates import parse_date
from .db import transaction
from .models import Day, Job, PlanRow
from .problems import error_responses
from .schemas import JobOut, WeekResult
from .security import Principal, TokenError, read_token

bearer = HTTPBearer(auto_error=False, description="a token from `python -m api token`")


# The dependencies are ``async`` although they do no waiting: FastAPI runs plain ``def``
# dependencies in its thread pool, a hop per dependency per request that costs more than
# their work (checking a token, opening a session object).


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_clock(request: Request) -> ServiceClock:
    return request.app.state.clock


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with request.app.state.sessions() as session, session.begin():
        yield session


async def get_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller: by their bearer token if they send one, else by the browser's session
    cookie (and then, for a change, its CSRF token and origin: ``cookie_principal``)."""
    if credentials is not None:
        try:
            return read_token(request.app.state.settings, credentials.credentials)
        except TokenError as error:
            raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None
    session_id = request.cookies.get(COOKIE)
    if session_id:
        return await cookie_principal(request, session_id)
    raise HTTPException(
        401,
        f"a bearer token is needed (or, in a browser, sign in at {SIGN_IN_PATH})",
        headers={"WWW-Authenticate": "Bearer"},
    )


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing: a cookie alone lets them in."""
DEFAULT_PORTS = {"http": 80, "https": 443}


def own_origin(request: Request) -> str:
    """This service's origin as the request reached it (``scheme://host[:port]``). Behind a
    proxy that ends TLS, uvicorn takes the scheme from the proxy's ``X-Forwarded-Proto``
    (``--forwarded-allow-ips``)."""
    return f"{request.url.scheme}://{request.url.netloc}"


def _origin_key(origin: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(origin)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        return None


def check_same_origin(request: Request) -> None:
    """Refuse (403) a request a browser says came from another site: ``Sec-Fetch-Site``,
    when sent, must be ``same-origin`` (or ``none``: the person's own doing), and ``Origin``,
    when sent, this service's own. ``Origin: null`` (which browsers send for a form posted
    from a page with ``Referrer-Policy: no-referrer``, as well as from sandboxed frames) is
    taken only with ``Sec-Fetch-Site: same-origin``."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise HTTPException(
            403, f"refused: the browser says this request came from another site (Sec-Fetch-Site: {site})"
        )
    origin = request.headers.get("origin")
    if origin is None:
        return
    if origin.strip() == "null":
        if site != "same-origin":
            raise HTTPException(403, "refused: the request's origin is hidden (Origin: null) and not same-origin")
        return
    key = _origin_key(origin)
    if key is None or key != _origin_key(own_origin(request)):
        raise HTTPException(
            403, f"refused: the request came from {origin[:200]}, not from this service ({own_origin(request)})"
        )


def check_csrf(request: Request, session_id: str, token: str | None) -> None:
    """Refuse (403) a change let in by the session cookie without the session's CSRF token."""
    if not token:
        raise HTTPException(
            403,
            "the X-CSRF-Token header is missing: a change made with the browser's session needs the "
            'csrf-token the page was given (<meta name="csrf-token">)',
        )
    if not browser_sessions.csrf_matches(request.app.state.settings, session_id, token):
        raise HTTPException(403, "the X-CSRF-Token does not belong to this browser's session: reload the page")


def _read_session(sessions: sessionmaker[Session], settings: Settings, session_id: str) -> Principal:
    with transaction(sessions) as session:
        return browser_sessions.read_session(session, settings, session_id)


async def cookie_principal(request: Request, session_id: str) -> Principal:
    """Who a browser's session cookie is for (401 if it has ended). A request that changes
    something must come from this service's page: same origin, with the CSRF token (403)."""
    if request.method not in SAFE_METHODS:
        check_same_origin(request)
        check_csrf(request, session_id, request.headers.get("x-csrf-token"))
    state = request.app.state
    try:  # a query: off the event loop (bearer tokens, most requests, need none)
        return await run_in_threadpool(_read_session, state.sessions, state.settings, session_id)
    except SignInRefused as refused:
        raise HTTPException(
            401, f"{refused}: sign in again at {SIGN_IN_PATH}", headers={"WWW-Authenticate": "Bearer"}
        ) from None


def _to_sign_in(request: Request) -> HTTPException:
    """A redirect to the sign-in page (303), dropping a cookie that no longer signs in."""
    headers = {"Location": SIGN_IN_PATH, "Cache-Control": "no-store"}
    if COOKIE in request.cookies:
        headers["Set-Cookie"] = f"{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    return HTTPException(303, f"sign in first, at {SIGN_IN_PATH}", headers=headers)


async def page_user(request: Request) -> Principal:
    """For a page (HTML): who the browser is signed in as, or a redirect (303) to the
    sign-in page when it is not (no cookie, or its session has ended). Bearer tokens are
    not looked at: a browser opening a page sends none."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        raise _to_sign_in(request)
    try:
        return await cookie_principal(request, session_id)
    except HTTPException as error:
        if error.status_code == 401:
            raise _to_sign_in(request) from None
        raise


async def page_coordinator(principal: Annotated[Principal, Depends(page_user)]) -> Principal:
    if principal.role != "coordinator":
        raise HTTPException(403, "this page is the coordinators'")
    return principal


PageUser = Annotated[Principal, Depends(page_user)]
"""A page's signed-in user (coordinator or carer), or a redirect to ``/sign-in``."""
PageCoordinator = Annotated[Principal, Depends(page_coordinator)]
"""A page's signed-in coordinator (a carer gets 403), or a redirect to ``/sign-in``."""


def csrf_for(request: Request) -> str:
    """The CSRF token of the browser's session, for a page to embed
    (``<meta name="csrf-token" content="...">``) and send back as ``X-CSRF-Token`` with each
    change it makes. Call it after ``PageUser`` (without a session cookie: the redirect)."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        raise _to_sign_in(request)
    return browser_sessions.csrf_token(request.app.state.settings, session_id)


def role(*allowed: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only ``allowed`` roles through."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(403, f"needs the role {' or '.join(allowed)}")
        return principal

    return check


Planner = Annotated[Principal, Depends(role("coordinator", "integration"))]
"""Coordinators and integrations: they plan the organisation's days."""
Coordinator = Annotated[Principal, Depends(role("coordinator"))]

DatePath = Annotated[
    str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$", description="the day, YYYY-MM-DD", examples=["2026-11-23"])
]
MAX_ID = 2**31 - 1
"""The largest id or number the service hands out (a 32-bit integer column): larger ones
in a request are refused as invalid, not looked up."""

Number = Annotated[int, Path(ge=1, le=MAX_ID, description="a number the service gave")]
"""An id or number in a path (a plan's number, a webhook's or delivery's id)."""

SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""The request's transaction, committed when the route returns and before its answer is
sent (``scope="function"``; by default FastAPI would run the commit after sending, and
a phone could get a 2xx for a write that then failed to commit)."""


def check_solves_in_hand(session: Session, org: str, settings: Settings) -> None:
    """429 when the organisation already has as many solves (and weeks) queued or running
    as it may: one organisation's backlog never starves the others."""
    busy = store.solves_in_hand(session, org)
    if busy >= settings.solves_per_organisation:
        raise HTTPException(
            429,
            f"organisation {org} has {busy} solves queued or running (at most "
            f"{settings.solves_per_organisation}): wait for one to finish, or cancel one",
            headers={"Retry-After": "30"},
        )


def check_date(date: str) -> str:
    """A path's date, checked (``dates.parse_date``), as given."""
    parse_date(date, "path.date")
    return date


def find_day(session: Session, principal: Principal, date: str) -> Day:
    """The caller's organisation's day (404 if it has none: other organisations' days do
    not exist for the caller)."""
    day = store.find_day(session, principal.org, check_date(date))
    if day is None:
        raise HTTPException(404, f"no day {date} in organisation {principal.org}")
    return day


def check_day_size(problem: Problem | Mapping, settings: Settings) -> None:
    """Refuse a day bigger than the service takes (``day_max``): a day of a hundred
    thousand visits would hold a worker for minutes and the server's memory with it.
    ``problem`` may still be the decoded JSON, so a day too big is refused before any
    of its models is built."""
    for kind, most in settings.day_max.items():
        held = problem.get(kind) if isinstance(problem, Mapping) else getattr(problem, kind, ())
        count = len(held) if isinstance(held, list) else 0
        if count > most:
            raise InputError(kind, f"{count:,} {kind}: this service takes at most {most:,} in a day")


async def raw_body(request: Request) -> bytes:
    """The request's body as bytes, not decoded: routes that take a whole day decode it
    themselves (``read_day``), in their worker thread."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]

DAY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}
"""The OpenAPI request body of a route that reads a whole day with ``read_day``."""


def read_day(body: bytes, settings: Settings) -> Problem:
    """A day's ``Problem`` from a request body. Called from a route's worker thread: a
    day of 20 MB takes seconds to validate, and FastAPI would do that on the event loop,
    where every other request waits (``/health`` took 1.2 s). Its size is checked on the
    decoded JSON first. Errors are 422s like FastAPI's own, fields under ``body``."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"not JSON: {error}", "type": "json_invalid"}]
        ) from None
    if not isinstance(data, dict):
        raise RequestValidationError([{"loc": ("body",), "msg": "a day is a JSON object", "type": "model_type"}])
    check_day_size(data, settings)
    try:
        return Problem.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors(include_url=False, include_input=False)]
        ) from None


def check_if_match(session: Session, day: Day, if_match: str | None) -> None:
    """A change to a day needs the ETag the caller last read (412 if stale, 428 if missing),
    and holds the day until the change commits: of two writers with the same ETag at the
    same moment exactly one goes on, the other gets 412 (``store.hold_day``)."""
    if if_match is None:
        raise HTTPException(428, f"send If-Match with the day's ETag ({store.etag(day)}) to change it")
    if if_match.strip() != store.etag(day) or not store.hold_day(session, day):
        raise HTTPException(412, f"the day has changed (now {store.etag(day)}); read it again")


def job_out(session: Session, job: Job) -> JobOut:
    """A job as the API shows it (the plan it made by its number in the day)."""
    number = None
    if job.result_plan_id is not None:
        row = session.get(PlanRow, job.result_plan_id)
        number = row.number if row is not None else None
    return JobOut(
        id=job.id,
        kind=job.kind,
        date=session.get_one(Day, job.day_id).date,
        status=job.status,
        progress=job.progress,
        message=job.message,
        error=job.error,
        result_plan=number,
        result=WeekResult.model_validate(job.result) if job.result is not None else None,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


# --- ETags of the roster's parts (roster_store): its settings, carers, clients, a date's changes


IfMatch = Annotated[str | None, Header(description="the ETag last read (needed to replace or remove)")]
IfNoneMatch = Annotated[str | None, Header(description="`*`: only create, never replace")]
CHANGES: dict[int | str, dict[str, Any]] = {
    **error_responses(412, 428),
    412: {"description": "If-Match (or If-None-Match) does not hold"},
    428: {"description": "If-Match missing"},
}
"""The answers of a write checked against an ETag."""


@contextmanager
def preconditions() -> Iterator[None]:
    """The store's precondition errors as HTTP's 412 and 428."""
    try:
        yield
    except roster_store.PreconditionRequired as error:
        raise HTTPException(428, str(error)) from None
    except roster_store.PreconditionFailed as error:
        raise HTTPException(412, str(error)) from None
