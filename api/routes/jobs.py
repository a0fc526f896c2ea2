"""Jobs (their progress and result, and cancelling one) and the audit log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import feed, store
from ..deps import Coordinator, Planner, SessionDep, job_out
from ..models import AuditEntry, Day, Job, utcnow
from ..problems import error_responses
from ..schemas import JobOut, Timestamp
from ..security import Principal

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=error_responses(401, 403, 404, 422))


def _own_job(session: Session, principal: Principal, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.org_id != principal.org:
        raise HTTPException(404, f"no job {job_id}")
    return job


@router.get("", response_model=list[JobOut], summary="The organisation's jobs, newest first")
def list_jobs(
    session: SessionDep,
    principal: Planner,
    status: Annotated[Literal["queued", "running", "done", "failed", "cancelled"] | None, Query()] = None,
    kind: Annotated[Literal["solve", "replan"] | None, Query()] = None,
    date: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="only this day's jobs")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[JobOut]:
    query = select(Job).where(Job.org_id == principal.org)
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if date is not None:
        query = query.join(Day, Day.id == Job.day_id).where(Day.date == date)
    query = query.order_by(Job.created_at.desc(), Job.id.desc()).offset(offset).limit(limit)
    return [job_out(session, job) for job in session.scalars(query)]


@router.get("/{job_id}", response_model=JobOut)
def get_job(job_id: str, session: SessionDep, principal: Planner) -> JobOut:
    return job_out(session, _own_job(session, principal, job_id))


@router.post("/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: str, session: SessionDep, principal: Planner) -> JobOut:
    """A queued job is cancelled at once; a running one at its next progress report."""
    job = _own_job(session, principal, job_id)
    if job.status in ("done", "failed", "cancelled"):
        raise HTTPException(409, f"job {job_id} has already ended ({job.status})")
    job.cancel_requested = True
    if job.status == "queued":
        job.status, job.finished_at = "cancelled", utcnow()
        feed.job_changed(session, job)
    store.audit(session, principal, "cancel job", job_id)
    return job_out(session, job)


audit_router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=error_responses(401, 403, 422))


class AuditOut(BaseModel):
    at: Timestamp
    actor: str
    role: str
    action: str
    target: str
    detail: dict


@audit_router.get("", response_model=list[AuditOut], summary="Who changed what, and when (newest first)")
def read_audit(
    session: SessionDep, principal: Coordinator, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[AuditOut]:
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.org_id == principal.org).order_by(AuditEntry.id.desc()).limit(limit)
    )
    return [
        AuditOut(at=r.at, actor=r.actor, role=r.role, action=r.action, target=r.target, detail=r.detail) for r in rows
    ]
