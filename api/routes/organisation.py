"""The caller's organisation (the tenant every token is scoped to): its name and days.

An organisation comes into being with its first day; tokens name it, so there is no
listing of other organisations and no way to reach one.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from .. import store
from ..deps import Coordinator, Planner, SessionDep
from ..models import Day, Organisation
from ..problems import error_responses
from ..schemas import Timestamp
from ..security import Principal

router = APIRouter(prefix="/v1/organisation", tags=["organisation"], responses=error_responses(401, 403, 422))


class OrganisationOut(BaseModel):
    id: str
    name: str
    created_at: Timestamp | None
    days: int = Field(description="days held")
    first_day: str | None
    last_day: str | None


class OrganisationName(BaseModel):
    """A new name for the organisation."""

    name: str = Field(min_length=1, max_length=200)


@router.get("", response_model=OrganisationOut, summary="My organisation")
def read_organisation(session: SessionDep, principal: Planner) -> OrganisationOut:
    return _out(session, principal)


@router.patch("", response_model=OrganisationOut, summary="Rename my organisation")
def rename_organisation(session: SessionDep, principal: Coordinator, body: OrganisationName) -> OrganisationOut:
    name = body.name
    org = store.ensure_org(session, principal.org)
    store.audit(session, principal, "rename organisation", principal.org, old=org.name, new=name)
    org.name = name
    session.flush()
    return _out(session, principal)


def _out(session, principal: Principal) -> OrganisationOut:
    """(Read without writing: an organisation with no day yet has no row.)"""
    org = session.get(Organisation, principal.org)
    count, first, last = session.execute(
        select(func.count(Day.id), func.min(Day.date), func.max(Day.date)).where(Day.org_id == principal.org)
    ).one()
    return OrganisationOut(
        id=principal.org,
        name=org.name if org else principal.org,
        created_at=org.created_at if org else None,
        days=count,
        first_day=first,
        last_day=last,
    )
