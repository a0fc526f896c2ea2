"""Dependencies the routes share: the database session, who is calling, their role, and
the day they ask for (always within their own organisation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from . import store
from .config import Settings
from .models import Day
from .security import Principal, TokenError, read_token

bearer = HTTPBearer(auto_error=False, description="a token from `python -m api token`")


# The dependencies are ``async`` although they do no waiting: FastAPI runs plain ``def``
# dependencies in its thread pool, a hop per dependency per request that costs more than
# their work (checking a token, opening a session object).

async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with request.app.state.sessions() as session, session.begin():
        yield session


async def get_principal(request: Request,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if credentials is None:
        raise HTTPException(401, "a bearer token is needed", headers={"WWW-Authenticate": "Bearer"})
    try:
        return read_token(request.app.state.settings, credentials.credentials)
    except TokenError as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": "Bearer"}) from None


def role(*allowed: str) -> Callable[..., Principal]:
    """A dependency that lets only ``allowed`` roles through."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(403, f"needs the role {' or '.join(allowed)}")
        return principal

    return check


Planner = Annotated[Principal, Depends(role("coordinator", "integration"))]
"""Coordinators and integrations: they plan the organisation's days."""
Coordinator = Annotated[Principal, Depends(role("coordinator"))]

DatePath = Annotated[str, Path(pattern=r"^\d{4}-\d{2}-\d{2}$", description="the day, YYYY-MM-DD",
                               examples=["2026-11-23"])]
SessionDep = Annotated[Session, Depends(get_session)]


def check_date(date: str) -> str:
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise HTTPException(422, f"date {date!r} is not a calendar date") from None
    return date


def find_day(session: Session, principal: Principal, date: str) -> Day:
    """The caller's organisation's day (404 if it has none: other organisations' days do
    not exist for the caller)."""
    day = store.find_day(session, principal.org, check_date(date))
    if day is None:
        raise HTTPException(404, f"no day {date} in organisation {principal.org}")
    return day
