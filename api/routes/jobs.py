"""Jobs (their progress and result, and cancelling one) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from carescheduler import InputError

from .. import feed, store
from ..deps import MAX_ID, Coordinator, Planner, SessionDep, job_out
from ..models import AuditEntry, Day, Job, utcnow
from ..pagination import PageDep
from ..problems import error_responses
from ..schemas import JobKind, JobOut, JobStatus, Timestamp
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
    page: PageDep,
    status: Annotated[JobStatus | None, Query()] = None,
    kind: Annotated[JobKind | None, Query()] = None,
    date: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="only this day's jobs")] = None,
    after: Annotated[str | None, Query(max_length=64, description="the id of the last job you have")] = None,
    offset: Annotated[int | None, Query(include_in_schema=False)] = None,
) -> list[JobOut]:
    if offset is not None:  # this list's paging before; ignored, it would give an old client page one for ever
        raise InputError("query.offset", "jobs are paged by after= (the id of the last job you have), not offset")
    query = select(Job).where(Job.org_id == principal.org)
    if after is not None:  # newest first: the older ones, and those of the same instant with a smaller id
        last = session.get(Job, after)
        if last is None or last.org_id != principal.org:
            raise InputError("query.after", f"no job {after} in the organisation to continue after")
        query = query.where(
            or_(Job.created_at < last.created_at, and_(Job.created_at == last.created_at, Job.id < last.id))
        )
    if status is not None:
        query = query.where(Job.status == status)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if date is not None:
        query = query.join(Day, Day.id == Job.day_id).where(Day.date == date)
    query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(page.fetch)
    return [job_out(session, job) for job in page.of(session.scalars(query), lambda job: job.id)]


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
    id: int = Field(description="the entry's place in the log (``after`` for the next page)")
    at: Timestamp
    actor: str
    role: str
    action: str
    target: str
    detail: dict


@audit_router.get("", response_model=list[AuditOut], summary="Who changed what, and when (newest first)")
def read_audit(
    session: SessionDep,
    principal: Coordinator,
    page: PageDep,
    after: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="the id of the last entry you have (newest first: older ones follow)"),
    ] = None,
) -> list[AuditOut]:
    query = select(AuditEntry).where(AuditEntry.org_id == principal.org)
    if after is not None:
        query = query.where(AuditEntry.id < after)
    rows = page.of(session.scalars(query.order_by(AuditEntry.id.desc()).limit(page.fetch)), lambda r: r.id)
    return [
        AuditOut(id=r.id, at=r.at, actor=r.actor, role=r.role, action=r.action, target=r.target, detail=r.detail)
        for r in rows
    ]
