"""What the API takes and gives, beyond the library's own models (Problem, Plan, events,
recommendations), which it uses as they are."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from carescheduler.day.events import Event
from carescheduler.day.replan import PlanChanges
from carescheduler.domain import Minutes
from carescheduler.plan import CarerChanges, Plan


def _in_utc(value: dt.datetime) -> dt.datetime:
    """The database keeps UTC without a zone; the API says so (ISO 8601 with offset)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


Timestamp = Annotated[dt.datetime, AfterValidator(_in_utc)]
"""A moment, with its offset."""


# Named (a schema of their own in the spec, not an enum written out in each place): the
# lists filter by them and the results carry them, and a generated client gets one type each.
PlanStatus = TypeAliasType("PlanStatus", Literal["draft", "published", "superseded", "discarded"])
EventStatus = TypeAliasType("EventStatus", Literal["pending", "applied", "rejected"])
JobKind = TypeAliasType("JobKind", Literal["solve", "replan", "week", "week_replan"])
JobStatus = TypeAliasType("JobStatus", Literal["queued", "running", "done", "failed", "cancelled"])


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
    from_roster: bool = Field(
        default=False,
        description="generated from the roster and not edited by hand since: roster changes regenerate it "
        "while it is unpublished (a hand edit detaches it)",
    )


class PlanSummary(BaseModel):
    number: int
    status: PlanStatus
    source: str
    created_by: str
    created_at: Timestamp
    cost: float
    visits_assigned: int
    unassigned: int


class PlanOut(PlanSummary):
    plan: Plan
    changes: PlanChanges | None = None


class MoveIn(_In):
    """A visit of the day given to a carer: dragged onto their row on the board, or an
    option of the recommendations taken."""

    visit: str = Field(min_length=1, max_length=200)
    carer: str = Field(min_length=1, max_length=200)
    partner: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="the second carer of a double-handed visit (none: the cheapest who can join)",
    )


class SolveRequest(_In):
    time_limit: float | None = Field(default=None, gt=0, le=3600, description="seconds (default: the service's)")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    publish: bool = Field(default=False, description="publish the plan when the job is done")


class WeekRequest(_In):
    """How to plan a range of days (``POST /v1/weeks/plan``)."""

    time_limit_per_day: float = Field(default=10.0, gt=0, le=300, description="seconds each day is solved for")
    weekly: bool = Field(
        default=True,
        description="bound each day by the others (rest, weekly hours, continuity); false: each day alone",
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    publish: bool = Field(default=False, description="publish each day's plan when the job is done")


class WeekReplanRequest(_In):
    """How to replan one day of a published week (``POST /v1/weeks/replan``)."""

    time_limit: float = Field(default=10.0, gt=0, le=300, description="seconds each day replanned is solved for")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    publish: bool = Field(default=False, description="publish each plan made when the job is done")


class WeekDayResult(BaseModel):
    date: str
    plan: int = Field(description="number of the day's plan the job made")
    published: bool
    notes: list[str] = Field(description="what planning the week changed on this day, or could not keep")


class WeekViolationOut(BaseModel):
    code: str = Field(description="rest, weekly_hours, or a day's own rule (the validator's code)")
    carer: str | None
    dates: list[str]
    message: str


class WeekFiguresOut(BaseModel):
    spread_std_minutes: float = Field(description="standard deviation of hours worked less contracted, in minutes")
    spread_range_minutes: float = Field(description="largest less smallest hours worked less contracted, in minutes")
    clients_over_cap: int = Field(description="clients who see more carers than the continuity cap")
    mean_carers_per_client: float = Field(description="distinct carers a client sees over the days, on average")


class WeekResult(BaseModel):
    """What a week job made: a plan per date (a replan's: per date it changed) and the
    week's report over all its days (with the published days of the same weeks)."""

    first: str
    last: str
    valid: bool = Field(description="every rule of each day and of the week is kept")
    days: list[WeekDayResult]
    violations: list[WeekViolationOut]
    notes: list[str]
    figures: WeekFiguresOut


class ReplanRequest(_In):
    """A replan runs at the service's clock when it starts (there is no other now)."""

    publish: bool = True


class EventsIn(_In):
    """Events for a day, checked against the day when posted and applied by a replan job
    (queued unless ``replan`` is false). They are recorded at the service's clock."""

    events: list[Event] = Field(min_length=1, max_length=500)
    replan: bool = True
    publish: bool = True


class EventsAccepted(BaseModel):
    events: list[int]
    job: str | None = Field(description="the replan job absorbing them, if one was queued")
    replayed: bool = Field(default=False, description="true when this request was a retry of one already recorded")


class EventOut(BaseModel):
    """An event as recorded, and what became of it."""

    id: int
    type: str
    payload: dict = Field(description="the event, in the library's event JSON")
    status: EventStatus
    plan: int | None = Field(description="the plan that applied it (its number in the day)")
    job: str | None = Field(description="the replan job that applied or rejected it")
    error: str | None = Field(description="why it was rejected")
    received_at: float = Field(description="the service's time of day when it was recorded, in minutes")
    created_by: str = Field(description="who sent it (role:subject)")
    created_at: Timestamp


class JobOut(BaseModel):
    id: str
    kind: JobKind
    date: str = Field(description="the day the job is for")
    status: JobStatus
    progress: float
    message: str
    error: str | None
    result_plan: int | None = Field(description="number of the plan the job made (a week's: of its first day)")
    result: WeekResult | None = Field(default=None, description="a week job's plans by date, report and figures")
    attempts: int
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class Stop(BaseModel):
    """One visit of a carer's day, with what the carer needs at the door and no more."""

    visit: str
    client: str
    client_name: str | None
    address: str | None
    phone: str | None = Field(description="the client's number, to ring when nobody answers the door")
    access_notes: str | None = Field(description="how to get in: key safe code, which door, pets")
    notes: str | None = Field(description="the client's other notes for carers")
    tasks: list[str] = Field(description="what to do on this visit")
    latitude: float | None
    longitude: float | None
    start: int = Field(description="planned start, minutes after midnight (rounded to the minute)")
    end: int
    start_hhmm: str = Field(description="the planned start as HH:MM")
    end_hhmm: str
    partner: str | None = Field(description="the other carer of a double-handed visit")
    partner_name: str | None = Field(description="the other carer's name")
    status: Literal["planned", "checked_in", "checked_out"]


class CarerDay(BaseModel):
    carer: str
    date: str
    plan: int | None
    visits: list[Stop]
    breaks: list[dict]
    leave_home: int | None = Field(description="minutes after midnight (rounded to the minute)")
    return_home: int | None


# Not ``CheckIn``: that is the library's event, and two schemas of one name get
# module-qualified names in the spec, which a generated client would carry.
class CheckTime(_In):
    """The body of a check-in or check-out."""

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
    created_at: Timestamp
    changes: CarerChanges


class AlertOut(BaseModel):
    """A visit not going to plan, raised by the service's watch."""

    id: int
    kind: Literal["late_start", "not_checked_out", "missed"]
    status: Literal["open", "resolved"]
    visit: str
    carer: str
    client: str
    due: int = Field(description="when it became overdue, minutes after midnight")
    due_hhmm: str
    message: str
    resolution: str | None = Field(description="what resolved it")
    job: str | None = Field(description="the replan it queued (with the alert_replan setting)")
    raised_at: Timestamp
    resolved_at: Timestamp | None


class WebhookIn(_In):
    url: str = Field(max_length=2000, description="where to POST (http or https)")
    kinds: list[Literal["event", "job", "plan", "alert"]] = Field(
        default_factory=list, description="what to send (empty: everything)"
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    kinds: list[str]
    active: bool
    created_at: Timestamp
    secret: str | None = Field(
        default=None, description="the signing secret (whsec_...): shown once, when the webhook is registered"
    )


class DeliveryOut(BaseModel):
    """One feed entry sent to a webhook, and what became of it."""

    id: int
    feed_id: int = Field(description="the entry's id (its webhook-id header is feed-<id>)")
    kind: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: Timestamp | None = Field(description="when it is tried next (pending only)")
    last_status: int | None = Field(description="the receiver's last HTTP status")
    last_error: str | None
    delivered_at: Timestamp | None
    created_at: Timestamp
