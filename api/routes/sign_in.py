"""Signing a browser in and out (the coordinator's board): the sign-in page, one-time
sign-in links, signing in with a bearer token, signing out.

    GET  /sign-in            how to get a link, and a form to sign in with a token
    GET  /sign-in/<token>    a link's page: one "Sign in" button (opening a link does not
                             use it: mail and chat programs open links to preview them)
    POST /sign-in/<token>    use the link: the session cookie is set, on to the board (/)
    POST /sign-in/token      sign in with a bearer token (the identity provider's, or one
                             from ``python -m api token``): the same cookie
    POST /sign-out           end the session (its CSRF token in X-CSRF-Token or the form's
                             ``csrf_token``)

The pages are plain HTML made here, with nothing loaded from anywhere (a strict
Content-Security-Policy says so), never framed, and sending no Referer (the link is in the
URL). What the links and sessions are: ``browser_sessions``. A browser asking for a page
(``Accept: text/html``) gets a refusal as a page; anyone else gets problem details.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carescheduler import InputError

from .. import browser_sessions
from ..browser_sessions import COOKIE, SIGN_IN_PATH, SignInRefused
from ..deps import SessionDep, check_csrf, check_same_origin
from ..problems import error_responses, problem_response
from ..security import Principal, TokenError, read_token

router = APIRouter(tags=["sign-in"])

BOARD = "/"
"""Where a browser goes once signed in: the coordinator's board."""
FORM_LIMIT = 64 * 1024
"""The largest sign-in form taken (a bearer token is a few kilobytes at most)."""

STYLE = (
    "body{font:1rem/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "h1{font-size:1.6rem}code,pre{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}"
    "pre{padding:.6rem;overflow-x:auto}label{display:block;font-weight:600;margin:.8rem 0 .3rem}"
    "input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #555}"
    "button{margin-top:.8rem;padding:.5rem 1.2rem;font:inherit;background:#1d4ed8;color:#fff;"
    "border:0;border-radius:4px;cursor:pointer}"
    "a{color:#1d4ed8}:focus-visible{outline:3px solid #b45309;outline-offset:2px}"
    ".alert{border-left:4px solid #b91c1c;padding:.4rem .8rem;background:#fef2f2}"
)
"""The pages' one style sheet, inline; the Content-Security-Policy names it by its hash."""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

PAGE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'self'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a link's page has the link in its URL
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""Sent with every page and answer here: nothing from elsewhere, no framing, no Referer."""

LinkToken = Annotated[
    str,
    Path(
        min_length=20,
        max_length=100,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="the token of a one-time sign-in link (python -m api sign-in-link)",
    ),
]


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A page: ``body`` is HTML made here, with every value in it escaped."""
    html = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title if 'carescheduler' in title else f'{title} – carescheduler')}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n<h1>{escape(title)}</h1>\n{body}\n</main>\n</body>\n</html>\n"
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _refused(request: Request, status: int, reason: str, headers: dict[str, str] | None = None) -> Response:
    """A refusal: a page for a browser, problem details for anyone else."""
    if "text/html" in request.headers.get("accept", ""):
        return _page(
            "Not signed in",
            f'<p class="alert" role="alert">{escape(reason)}</p>\n<p><a href="{SIGN_IN_PATH}">How to sign in</a></p>',
            status,
        )
    return problem_response(status, reason, request.url.path, headers={**PAGE_HEADERS, **(headers or {})})


def _signed_in(request: Request, settings, session_id: str) -> RedirectResponse:
    """On to the board, with the session cookie: HttpOnly (no script reads it), SameSite=Lax
    (other sites' requests go without it, but for following a link here), Secure when the
    request came over https (the demo on http://127.0.0.1 gets a cookie too)."""
    response = RedirectResponse(BOARD, status_code=303, headers=PAGE_HEADERS)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(settings.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


async def form_fields(request: Request) -> dict[str, str]:
    """A posted HTML form's fields (``application/x-www-form-urlencoded``), read here: the
    pages' forms hold a field or two, which needs no form-parsing package."""
    body = await request.body()
    if len(body) > FORM_LIMIT:
        raise HTTPException(413, f"the form is over {FORM_LIMIT} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body and kind != "application/x-www-form-urlencoded":
        raise HTTPException(415, "send the form as application/x-www-form-urlencoded")
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10))
    except (UnicodeDecodeError, ValueError):
        raise InputError("body", "not a form (application/x-www-form-urlencoded, UTF-8)") from None


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def _form_body(fields: dict[str, str], required: list[str]) -> dict:
    """The OpenAPI request body of a route that reads a form with ``form_fields``."""
    properties = {name: {"type": "string", "description": about} for name, about in fields.items()}
    schema = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {
            "required": bool(required),
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


SIGNED_IN: dict[int | str, dict[str, Any]] = {
    303: {"description": "signed in: the session cookie is set; on to the board (Location: /)"}
}


@router.get(SIGN_IN_PATH, response_class=HTMLResponse, summary="The sign-in page")
def sign_in_page(request: Request) -> HTMLResponse:
    """How to get a sign-in link, and a form to sign in with a bearer token."""
    minutes = request.app.state.settings.sign_in_link_minutes
    return _page(
        "Sign in to carescheduler",
        "<p>The coordinator's board opens with a <strong>one-time sign-in link</strong>. "
        "Whoever runs the service makes one for you:</p>\n"
        "<pre><code>python -m api sign-in-link --org ORGANISATION --subject YOUR-NAME "
        "--base-url https://THIS-SERVICE</code></pre>\n"
        "<p>On a demonstration server, <code>make serve</code> prints a link for the demo coordinator. "
        f"A link signs in once, within {minutes:g} minutes; you then stay signed in on this browser until you sign "
        "out or the session ends.</p>\n"
        "<h2>Sign in with a token</h2>\n"
        "<p>If your council's sign-in gave you a token (or you have one from "
        "<code>python -m api token</code>), paste it here.</p>\n"
        f'<form method="post" action="{SIGN_IN_PATH}/token">\n'
        '<label for="token">Bearer token</label>\n'
        '<input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>\n'
        '<button type="submit">Sign in</button>\n</form>',
    )


@router.post(
    f"{SIGN_IN_PATH}/token",  # before /sign-in/{token}: a link's token is never "token" (too short)
    status_code=303,
    response_class=RedirectResponse,
    summary="Sign a browser in with a bearer token",
    openapi_extra=_form_body(
        {"token": "a bearer token this service accepts (a coordinator's or a carer's)"}, ["token"]
    ),
    responses={**SIGNED_IN, **error_responses(401, 403, 413, 415, 422)},
)
def sign_in_with_token(request: Request, session: SessionDep, form: FormFields) -> Response:
    """A bearer token (an identity provider's, or one minted here) exchanged for the browser's
    session cookie: how a council's own sign-in reaches the board. Integration tokens are
    refused: a system keeps its token."""
    try:
        check_same_origin(request)
    except HTTPException as error:
        return _refused(request, error.status_code, str(error.detail))
    token = form.get("token", "").strip().removeprefix("Bearer ").strip()
    if not token:
        raise InputError("body.token", "paste a bearer token")
    settings = request.app.state.settings
    try:
        principal = read_token(settings, token)
        session_id = browser_sessions.open_session(session, settings, principal, via="token")
    except TokenError as error:
        return _refused(request, 401, f"the token does not sign in: {error}", {"WWW-Authenticate": "Bearer"})
    except SignInRefused as refused:
        return _refused(request, refused.status, str(refused))
    return _signed_in(request, settings, session_id)


@router.get(
    f"{SIGN_IN_PATH}/{{token}}",
    response_class=HTMLResponse,
    summary="A sign-in link's page (opening it does not use the link)",
    responses=error_responses(404, 410, 422),
)
def sign_in_link_page(request: Request, token: LinkToken, session: SessionDep) -> Response:
    """One "Sign in" button that uses the link. Opening the page leaves the link as it is:
    mail and chat programs open links to show a preview."""
    try:
        principal = browser_sessions.look_up_link(session, token)
    except SignInRefused as refused:
        return _refused(request, refused.status, str(refused))
    return _page(
        "Sign in to carescheduler",
        f"<p>This link signs you in as <strong>{escape(principal.subject)}</strong> "
        f"({escape(_who(principal))}) of organisation <strong>{escape(principal.org)}</strong>. "
        "It works once.</p>\n"
        f'<form method="post" action="{SIGN_IN_PATH}/{escape(token)}">\n'
        '<button type="submit">Sign in</button>\n</form>',
    )


def _who(principal: Principal) -> str:
    return f"carer {principal.carer}" if principal.role == "carer" else principal.role


@router.post(
    f"{SIGN_IN_PATH}/{{token}}",
    status_code=303,
    response_class=RedirectResponse,
    summary="Use a sign-in link: the browser is signed in",
    responses={**SIGNED_IN, **error_responses(403, 404, 410, 422)},
)
def use_sign_in_link(request: Request, token: LinkToken, session: SessionDep) -> Response:
    """The link is used up (a second use is refused) and the browser gets its session cookie."""
    try:
        check_same_origin(request)
    except HTTPException as error:
        return _refused(request, error.status_code, str(error.detail))
    settings = request.app.state.settings
    try:
        principal = browser_sessions.redeem_link(session, token)
        session_id = browser_sessions.open_session(session, settings, principal, via="link")
    except SignInRefused as refused:
        return _refused(request, refused.status, str(refused))
    return _signed_in(request, settings, session_id)


@router.post(
    "/sign-out",
    status_code=303,
    response_class=RedirectResponse,
    summary="Sign the browser out",
    openapi_extra=_form_body({"csrf_token": "the page's csrf-token (or send it as X-CSRF-Token)"}, []),
    responses={
        303: {"description": "signed out: the session has ended and the cookie is cleared (Location: /sign-in)"},
        **error_responses(403, 413, 415, 422),
    },
)
def sign_out(request: Request, session: SessionDep, form: FormFields) -> Response:
    """Ends the browser's session (it no longer signs anything in, wherever the cookie went)
    and clears the cookie. A browser that is not signed in is simply sent to the sign-in page."""
    session_id = request.cookies.get(COOKIE)
    if session_id:
        try:
            check_same_origin(request)
            check_csrf(request, session_id, request.headers.get("x-csrf-token") or form.get("csrf_token"))
        except HTTPException as error:
            return _refused(request, error.status_code, str(error.detail))
        browser_sessions.revoke_session(session, session_id)
    response = RedirectResponse(SIGN_IN_PATH, status_code=303, headers=PAGE_HEADERS)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response
