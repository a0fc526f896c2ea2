"""Tokens from the council's identity provider (RS256, verified against its JWKS).

Besides the HS256 tokens this service mints (``security.mint_token``), a council signs
its staff in with its own identity provider. Its tokens are checked against the keys it
publishes (a JWKS file, or an https URL fetched and cached by PyJWT), its issuer and our
audience, with expiry enforced; configured claim names say which organisation, role and
carer a token is for, and a role map translates the provider's role names to ours. A
revocation list (a file of ``jti`` values or ``sub:<subject>`` lines) refuses tokens
before they expire: a lost phone, a carer who has left.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import jwt

from .config import Settings


class Keys:
    """The identity provider's signing keys: a JWKS file (read again when it changes) or a
    URL (PyJWT fetches it and caches the keys, fetching again for an unknown key id)."""

    def __init__(self, source: str):
        self.source = source
        self._client = jwt.PyJWKClient(source, cache_keys=True) if source.startswith("https://") else None
        self._file: tuple[float, jwt.PyJWKSet] | None = None
        self._lock = threading.Lock()

    def key_for(self, token: str) -> jwt.PyJWK:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        kid = jwt.get_unverified_header(token).get("kid")
        keys = self._read_file()
        matching = [key for key in keys.keys if kid is None or key.key_id == kid]
        if not matching:
            raise jwt.InvalidTokenError(f"no key {kid!r} in the identity provider's key set")
        return matching[0]

    def _read_file(self) -> jwt.PyJWKSet:
        path = Path(self.source)
        changed = path.stat().st_mtime
        with self._lock:
            if self._file is None or self._file[0] != changed:
                self._file = (changed, jwt.PyJWKSet.from_dict(json.loads(path.read_text())))
            return self._file[1]


class Revoked:
    """The revocation list: token ids (``jti``) and subjects (``sub:<subject>``) refused."""

    def __init__(self, source: str | None):
        self.source = Path(source) if source else None
        self._read: tuple[float, frozenset[str]] | None = None
        self._lock = threading.Lock()

    def refuses(self, claims: dict) -> bool:
        entries = self._entries()
        return (claims.get("jti") in entries) or (f"sub:{claims.get('sub')}" in entries)

    def _entries(self) -> frozenset[str]:
        if self.source is None or not self.source.exists():
            return frozenset()
        changed = self.source.stat().st_mtime
        with self._lock:
            if self._read is None or self._read[0] != changed:
                lines = (line.split("#", 1)[0].strip() for line in self.source.read_text().splitlines())
                self._read = (changed, frozenset(line for line in lines if line))
            return self._read[1]


_keys: dict[str, Keys] = {}
_revoked: dict[str | None, Revoked] = {}


def keys_of(settings: Settings) -> Keys:
    assert settings.idp_jwks is not None, "only asked for when an identity provider is configured"
    return _keys.setdefault(settings.idp_jwks, Keys(settings.idp_jwks))


def revoked_of(settings: Settings) -> Revoked:
    return _revoked.setdefault(settings.revoked_tokens, Revoked(settings.revoked_tokens))


def provider_claims(settings: Settings, token: str) -> dict:
    """The claims of an identity provider's token, verified (signature, issuer, audience,
    expiry), as ours: ``org``, ``role`` (mapped) and ``carer`` from the configured names.
    Raises ``jwt.InvalidTokenError``."""
    key = keys_of(settings).key_for(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        issuer=settings.idp_issuer,
        audience=settings.idp_audience,
        options={"require": ["exp", "iat", "sub", "iss"], "verify_aud": settings.idp_audience is not None},
    )
    role = claims.get(settings.idp_role_claim)
    return {
        **claims,
        "org": claims.get(settings.idp_org_claim),
        "role": settings.idp_roles.get(role, role) if isinstance(role, str) else None,
        "carer": claims.get(settings.idp_carer_claim),
    }
