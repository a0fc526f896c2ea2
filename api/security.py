"""Bearer tokens (JWT, HS256): who is calling, for which organisation, in which role.

Roles: ``coordinator`` (plans their organisation's days), ``carer`` (reads their own day,
checks in and out, reports an absence; the token names the carer), ``integration``
(another system loading days and sending events). Tokens are minted by
``python -m api token`` with the secret from the environment, or signed by the council's
identity provider (``identity``); either can be revoked before it expires.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import jwt

from .config import Settings
from .identity import provider_claims, revoked_of

ROLES = ("coordinator", "carer", "integration")


class TokenError(Exception):
    """A token that is missing, malformed, expired, or signed with another secret."""


@dataclass(frozen=True)
class Principal:
    subject: str
    org: str
    role: str
    carer: str | None = None


def mint_token(
    settings: Settings, org: str, role: str, subject: str, carer: str | None = None, hours: float | None = None
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "carer" and not carer:
        raise ValueError("a carer token needs the carer's id")
    if (hours or settings.token_hours) > settings.token_max_hours:
        raise ValueError(f"a token may live at most {settings.token_max_hours:g} hours (token_max_hours)")
    now = dt.datetime.now(dt.UTC)
    claims = {
        "jti": secrets.token_hex(8),  # names the token on a revocation list
        "iss": settings.jwt_issuer,
        "sub": subject,
        "org": org,
        "role": role,
        "iat": now,
        "exp": now + dt.timedelta(hours=hours or settings.token_hours),
    }
    if carer:
        claims["carer"] = carer
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


def read_token(settings: Settings, token: str) -> Principal:
    """Who a bearer token is for: one minted here (HS256, our secret), or, when an identity
    provider is configured, one it signed (RS256, its published keys: ``identity``).
    Raises ``TokenError`` saying why a token is refused."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
        if algorithm == "RS256" and settings.idp_jwks is not None:
            claims = provider_claims(settings, token)
        else:
            claims = jwt.decode(
                token,
                settings.jwt_secret.get_secret_value(),
                algorithms=["HS256"],
                issuer=settings.jwt_issuer,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired") from None
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as error:
        raise TokenError(f"invalid token ({error})") from None
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int | float) or not isinstance(expires, int | float):
        raise TokenError("the token does not say when it was issued (iat) and when it expires (exp)")
    if expires - issued > settings.token_max_hours * 3600:
        raise TokenError(f"the token claims to live longer than the {settings.token_max_hours:g} hours allowed")
    if not isinstance(claims.get("carer"), str | None):
        raise TokenError("the token's carer claim must be a carer's id")
    if revoked_of(settings).refuses(claims):
        raise TokenError("the token has been revoked")
    role, org = claims.get("role"), claims.get("org")
    if role not in ROLES or not isinstance(org, str) or not org:
        raise TokenError("the token names no organisation or an unknown role")
    if role == "carer" and not claims.get("carer"):
        raise TokenError("a carer token must name the carer")
    return Principal(subject=str(claims["sub"]), org=org, role=role, carer=claims.get("carer"))
