"""What the API takes and gives, beyond the library's own models (Problem, Plan, events,
recommendations), which it uses as they are."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from carescheduler.day.events import Event
from carescheduler.day.replan import PlanChanges
from carescheduler.domain import Minutes
from carescheduler.plan import CarerChanges, Plan


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DayOut(BaseModel):
    date: str
    version: int
    etag: str
    published_plan: int | None = Field(description="number of the published plan, if any")
    carers: int
    clients: int
    visits: int


class PlanSummary(BaseModel):
    number: int
    status: Literal["draft", "published", "superseded"]
    source: str
    created_by: str
    created_at: dt.datetime
    cost: float
    visits_assigned: int
    unassigned: int


class PlanOut(PlanSummary):
    plan: Plan
    changes: PlanChanges | None = None


class SolveRequest(_In):
    time_limit: float | None = Field(default=None, gt=0, le=3600, description="seconds (default: the service's)")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    publish: bool = Field(default=False, description="publish the plan when the job is done")


class ReplanRequest(_In):
    now: Minutes | None = Field(default=None, ge=0, le=48 * 60, description="time of day (default: the latest event's)")
    publish: bool = True


class EventsIn(_In):
    """Events for a day, applied by a replan job (queued unless ``replan`` is false)."""

    now: Minutes | None = Field(
        default=None, ge=0, le=48 * 60, description="when they happened (default: the service's clock for today)"
    )
    events: list[Event] = Field(min_length=1, max_length=500)
    replan: bool = True
    publish: bool = True


class EventsAccepted(BaseModel):
    events: list[int]
    job: str | None = Field(description="the replan job absorbing them, if one was queued")


class JobOut(BaseModel):
    id: str
    kind: Literal["solve", "replan"]
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float
    message: str
    error: str | None
    result_plan: int | None = Field(description="number of the plan the job made")
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class Stop(BaseModel):
    """One visit of a carer's day, with what the carer needs at the door and no more."""

    visit: str
    client: str
    client_name: str | None
    address: str | None
    access_notes: str | None
    tasks: list[str]
    start: float
    end: float
    start_hhmm: str
    partner: str | None = Field(description="the other carer of a double-handed visit")
    status: Literal["planned", "checked_in", "checked_out"]


class CarerDay(BaseModel):
    carer: str
    date: str
    plan: int | None
    visits: list[Stop]
    breaks: list[dict]
    leave_home: float | None
    return_home: float | None


class CheckIn(_In):
    at: Minutes | None = Field(default=None, ge=0, le=48 * 60, description="time of day (default: now)")


class AbsenceIn(_In):
    start: Minutes | None = Field(default=None, ge=0, le=48 * 60)
    end: Minutes | None = Field(default=None, ge=0, le=48 * 60)
    reason: str | None = Field(default=None, max_length=500)


class Recorded(BaseModel):
    event: int
    replayed: bool = Field(description="true when this request was a retry of one already recorded")
    job: str | None = None


class NotificationOut(BaseModel):
    id: int
    plan: int
    created_at: dt.datetime
    changes: CarerChanges
