"""Signing a browser in: one-time sign-in links, browser sessions and their CSRF tokens.

The coordinator's board is a web page that calls the same JSON API as everyone else, but a
page cannot keep a bearer token anywhere a script injected into it could not read it. So a
browser signs in once, with a one-time link (``python -m api sign-in-link``, or the one
``make serve`` prints) or with a bearer token pasted into the sign-in page (an identity
provider's, say), and from then on carries a session id in an ``HttpOnly``, ``SameSite=Lax``
cookie (``COOKIE``) that scripts cannot read. A cookie goes with every request the browser
makes to the service, whoever's page asked for it, so a request that changes something must
also carry the session's CSRF token (``csrf_token``), which only a page of the service's own
is given (``deps.csrf_for``).

Only hashes are stored: the SHA-256 of a link's token and of a session id. Someone who reads
the database cannot sign in with what they find there.

Time: every function takes ``now`` (naive UTC, as the rows are); by default the real clock,
never the service's clock (``ServiceClock``), which may stand still for training or a
demonstration: links and sessions must still expire then. Tests pass ``now`` to make a link
or a session that has already expired.

No HTTP here: the routes (``routes/sign_in.py``) and dependencies (``deps.py``) turn what
these say into answers and cookies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from . import store
from .config import Settings
from .identity import revoked_of
from .models import BrowserSession, SignInLink, utcnow
from .security import Principal

COOKIE = "carescheduler_session"
"""The session cookie's name."""
BROWSER_ROLES = ("coordinator", "carer")
"""Who may sign in to a browser: people. An integration is a system with a token of its own."""
SIGN_IN_PATH = "/sign-in"
"""The sign-in page; a link is ``/sign-in/<token>``."""
KEEP_ENDED = dt.timedelta(days=1)
"""How long an expired link or session is kept (so that using it says why it is refused)."""


class SignInRefused(Exception):
    """A link, token or session that does not sign a browser in; ``str()`` says why in a
    sentence a person can act on, ``status`` is the HTTP status that fits."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.status = status


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _check_may_sign_in(role: str, carer: str | None) -> None:
    if role not in BROWSER_ROLES:
        raise SignInRefused(
            f"the role {role} cannot sign in to a browser (only {' and '.join(BROWSER_ROLES)}); "
            "a system keeps its bearer token",
            403,
        )
    if role == "carer" and not carer:
        raise SignInRefused("a carer signing in must be named (the carer's id)", 403)


# --- one-time sign-in links ----------------------------------------------------------------


def create_link(
    session: Session,
    settings: Settings,
    org: str,
    subject: str,
    role: str = "coordinator",
    carer: str | None = None,
    *,
    minutes: float | None = None,
    now: dt.datetime | None = None,
) -> str:
    """A new one-time sign-in link for ``subject`` of ``org``: its path, ``/sign-in/<token>``
    (put the service's address before it). It works once, within ``minutes`` (default the
    setting ``sign_in_link_minutes``, 15). Raises ``ValueError`` for a role that may not
    sign in to a browser or names that do not fit."""
    if not org or len(org) > 64:
        raise ValueError("the organisation's id must be 1 to 64 characters")
    if not subject or len(subject) > 200:
        raise ValueError("the subject (who signs in) must be 1 to 200 characters")
    try:
        _check_may_sign_in(role, carer)
    except SignInRefused as refused:
        raise ValueError(str(refused)) from None
    now = now or utcnow()
    _forget_ended(session, now)
    token = secrets.token_urlsafe(32)
    lifetime = dt.timedelta(minutes=settings.sign_in_link_minutes if minutes is None else minutes)
    session.add(
        SignInLink(
            token_hash=_digest(token),
            org_id=org,
            subject=subject,
            role=role,
            carer_id=carer if role == "carer" else None,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return f"{SIGN_IN_PATH}/{token}"


def _link_principal(row: SignInLink) -> Principal:
    return Principal(subject=row.subject, org=row.org_id, role=row.role, carer=row.carer_id)


def _why_refused(row: SignInLink | None, now: dt.datetime) -> SignInRefused | None:
    if row is None:
        return SignInRefused("there is no such sign-in link: check it was copied whole, or ask for a new one", 404)
    if row.used_at is not None:
        return SignInRefused("this sign-in link has been used already (a link signs in once): ask for a new one", 410)
    if row.expires_at <= now:
        return SignInRefused(f"this sign-in link expired at {row.expires_at:%H:%M} UTC: ask for a new one", 410)
    return None


def look_up_link(session: Session, token: str, *, now: dt.datetime | None = None) -> Principal:
    """Who a link would sign in, without using it up (a link previewer in a mail or chat
    program opens links: that must not spend them). Raises ``SignInRefused``."""
    now = now or utcnow()
    row = session.scalar(select(SignInLink).where(SignInLink.token_hash == _digest(token)))
    refused = _why_refused(row, now)
    if refused is not None:
        raise refused
    assert row is not None
    return _link_principal(row)


def redeem_link(session: Session, token: str, *, now: dt.datetime | None = None) -> Principal:
    """Use a link up: who it signs in. Of two uses at the same moment exactly one succeeds
    (one conditional ``UPDATE``; the other then finds the link used). Raises
    ``SignInRefused`` for a link that is unknown, used or expired."""
    now = now or utcnow()
    digest = _digest(token)
    taken = session.execute(
        update(SignInLink)
        .where(SignInLink.token_hash == digest, SignInLink.used_at.is_(None), SignInLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    row = session.scalar(
        select(SignInLink).where(SignInLink.token_hash == digest).execution_options(populate_existing=True)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise _why_refused(row, now) or SignInRefused("this sign-in link has been used already", 410)
    assert row is not None
    return _link_principal(row)


# --- browser sessions ----------------------------------------------------------------------


def open_session(
    session: Session, settings: Settings, principal: Principal, via: str, *, now: dt.datetime | None = None
) -> str:
    """A new browser session for ``principal`` (signed in ``via`` a link or a token, as the
    audit log says); returns the session id, the cookie's value, which is not stored.
    Raises ``SignInRefused`` (403) for a role that may not sign in to a browser."""
    _check_may_sign_in(principal.role, principal.carer)
    now = now or utcnow()
    _forget_ended(session, now)
    session_id = secrets.token_urlsafe(32)
    row = BrowserSession(
        id_hash=_digest(session_id),
        org_id=principal.org,
        subject=principal.subject,
        role=principal.role,
        carer_id=principal.carer if principal.role == "carer" else None,
        created_at=now,
        expires_at=now + dt.timedelta(hours=settings.session_hours),
    )
    session.add(row)
    session.flush()
    store.audit(
        session, principal, "sign in", f"browser session {row.id}", via=via, expires_at=row.expires_at.isoformat()
    )
    return session_id


def read_session(session: Session, settings: Settings, session_id: str, *, now: dt.datetime | None = None) -> Principal:
    """Who a browser session is for. Raises ``SignInRefused`` (401) for a session that is
    unknown, signed out, expired, or whose subject is on the revocation list
    (``revoked_tokens``: ``sub:<subject>`` ends their browser sessions too)."""
    now = now or utcnow()
    row = session.scalar(select(BrowserSession).where(BrowserSession.id_hash == _digest(session_id)))
    if row is None:
        raise SignInRefused("the browser is not signed in (no such session)", 401)
    if row.revoked_at is not None:
        raise SignInRefused("the browser has signed out", 401)
    if row.expires_at <= now:
        raise SignInRefused("the browser's session has expired", 401)
    if revoked_of(settings).refuses({"sub": row.subject}):
        raise SignInRefused("the browser's session has been revoked", 401)
    return Principal(subject=row.subject, org=row.org_id, role=row.role, carer=row.carer_id)


def revoke_session(session: Session, session_id: str, *, now: dt.datetime | None = None) -> Principal | None:
    """Sign a browser out: its session ends now (audited). Returns who it was for, None if
    there was no such session or it had ended already."""
    now = now or utcnow()
    row = session.scalar(
        select(BrowserSession).where(
            BrowserSession.id_hash == _digest(session_id),
            BrowserSession.revoked_at.is_(None),
            BrowserSession.expires_at > now,
        )
    )
    if row is None:
        return None
    row.revoked_at = now
    principal = Principal(subject=row.subject, org=row.org_id, role=row.role, carer=row.carer_id)
    store.audit(session, principal, "sign out", f"browser session {row.id}")
    return principal


def _forget_ended(session: Session, now: dt.datetime) -> None:
    """Delete links and sessions that ended more than ``KEEP_ENDED`` ago (the tables stay
    small; the audit log keeps who signed in when)."""
    before = now - KEEP_ENDED
    session.execute(delete(SignInLink).where(SignInLink.expires_at < before))
    session.execute(delete(BrowserSession).where(BrowserSession.expires_at < before))


# --- CSRF ----------------------------------------------------------------------------------


def csrf_token(settings: Settings, session_id: str) -> str:
    """The session's CSRF token: HMAC-SHA256 of the session id under the service's secret
    (``jwt_secret``; "csrf:" in front keeps it apart from the tokens the secret signs).
    Nothing to store: it is worked out again to check it."""
    key = settings.jwt_secret.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + session_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def csrf_matches(settings: Settings, session_id: str, token: str | None) -> bool:
    """Whether ``token`` is the session's CSRF token (compared in constant time)."""
    if not token:
        return False
    return hmac.compare_digest(csrf_token(settings, session_id).encode(), token.encode("utf-8", "surrogatepass"))
