"""What happens during the day: the events coordinators and the carers' phones report.

A carer phones in sick or runs late, a client comes home from hospital, a visit is
cancelled or changed, a carer checks in and out. Each event is a pydantic model with a
``type``; an ``EventBatch`` holds the events of one moment (``now``). How a batch changes
the day is ``apply.apply_events``; this module is only the shape of what is reported.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..domain import Carer, Client, Id, Location, Minutes, Text, TimeWindow, Visit
from ..plan import format_minutes

__all__ = [
    "CarerAbsent",
    "CarerAdded",
    "CarerDelayed",
    "CheckIn",
    "CheckOut",
    "ClientAdded",
    "Event",
    "EventBatch",
    "VisitAdded",
    "VisitCancelled",
    "VisitChanged",
    "VisitNotStarted",
    "VisitOverran",
]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CarerAbsent(_Event):
    """A carer cannot work from ``start`` (default: now) to ``end`` (default: the rest of
    the day): phoned in sick, went home ill, an emergency. A visit the carer already has
    under way is finished first."""

    type: Literal["carer_absent"] = "carer_absent"
    carer: Id
    start: Minutes | None = None
    end: Minutes | None = None
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _ordered(self) -> CarerAbsent:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end {format_minutes(self.end)} is not after start {format_minutes(self.start)}")
        return self


class CarerDelayed(_Event):
    """A carer is running late: their next visit cannot start before ``until``, or
    ``minutes`` after its planned start (give one of the two)."""

    type: Literal["carer_delayed"] = "carer_delayed"
    carer: Id
    minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    until: Minutes | None = None
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_of(self) -> CarerDelayed:
        if (self.minutes is None) == (self.until is None):
            raise ValueError("give exactly one of minutes (late for the next visit) or until (a time of day)")
        return self


class CarerAdded(_Event):
    """A carer joins today's rota (bank staff, a shift swap). ``locations`` adds places
    the carer starts or ends at that the day does not know yet."""

    type: Literal["carer_added"] = "carer_added"
    carer: Carer
    locations: list[Location] = Field(default_factory=list)


class ClientAdded(_Event):
    """A new client (say, discharged from hospital at noon) with their visits today;
    ``location`` is their home, when it is not a place the day already knows."""

    type: Literal["client_added"] = "client_added"
    client: Client
    location: Location | None = None
    visits: list[Visit] = Field(default_factory=list)


class VisitAdded(_Event):
    """An extra visit for a known client."""

    type: Literal["visit_added"] = "visit_added"
    visit: Visit


class VisitCancelled(_Event):
    """A visit is no longer wanted (client in hospital, family visiting)."""

    type: Literal["visit_cancelled"] = "visit_cancelled"
    visit: Id
    reason: str | None = Field(default=None, max_length=500)


class VisitChanged(_Event):
    """A visit's needs changed: its time, length, skills, or it now needs two carers.
    Fields left out keep their value; the visit is placed afresh."""

    type: Literal["visit_changed"] = "visit_changed"
    visit: Id
    window: TimeWindow | None = None
    target: TimeWindow | None = None
    duration: Minutes | None = Field(default=None, ge=0)
    skills: list[Id] | None = None
    carers_needed: Literal[1, 2] | None = None
    tasks: list[Text] | None = None
    mandatory: bool | None = None

    def changes(self) -> dict:
        return {name: value for name, value in self.model_dump(exclude={"type", "visit"}).items() if value is not None}


class VisitOverran(_Event):
    """A visit took (or is taking) longer: it ends at ``end``. ``carer`` limits this to
    one carer of a double-handed visit."""

    type: Literal["visit_overran"] = "visit_overran"
    visit: Id
    end: Minutes
    carer: Id | None = None


class VisitNotStarted(_Event):
    """No check-in came from ``carer`` for ``visit``, planned to start before now: it has
    not started. Without this, a visit planned before now counts as under way or done
    (phones that lose signal check in late); the service's alerts send it for a visit
    still unstarted well after its planned start, so a replan places it again."""

    type: Literal["visit_not_started"] = "visit_not_started"
    visit: Id
    carer: Id
    reason: str | None = Field(default=None, max_length=500)


class CheckIn(_Event):
    """A carer arrived and started a visit at ``at`` (from the phone)."""

    type: Literal["check_in"] = "check_in"
    visit: Id
    carer: Id
    at: Minutes


class CheckOut(_Event):
    """A carer finished a visit at ``at`` (from the phone)."""

    type: Literal["check_out"] = "check_out"
    visit: Id
    carer: Id
    at: Minutes


Event = Annotated[
    CarerAbsent
    | CarerDelayed
    | CarerAdded
    | ClientAdded
    | VisitAdded
    | VisitCancelled
    | VisitChanged
    | VisitOverran
    | VisitNotStarted
    | CheckIn
    | CheckOut,
    Field(discriminator="type"),
]
"""Any event; its ``type`` field says which."""


class EventBatch(_Event):
    """The events reported at one moment, applied together. ``now`` is the time of day
    they are applied at (visits before it have happened)."""

    now: Minutes | None = None
    events: list[Event] = Field(default_factory=list)
