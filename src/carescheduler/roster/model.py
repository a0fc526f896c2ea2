"""The roster: an organisation's master data that outlives any one day.

A day (``domain.Problem``) carries its own carers, clients and visits. A care provider
keeps them once: carers with their contracts, weekly availability and dated absences;
clients with their care packages ("four calls a day, double-handed at bedtime"). The
days of a date range are generated from the roster (``roster.days``); one-off changes to
a single date are kept apart in ``DayChanges`` so that a change to a care package still
reaches every future day that has not been published.

Times of day are local wall-clock minutes after midnight in ``Roster.timezone`` (or
``"HH:MM"``), as in a day's problem; dates are local dates.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ..domain import (
    BreakRule,
    Gender,
    Id,
    Minutes,
    Note,
    ObjectiveWeights,
    Shift,
    Synchronisation,
    Text,
    TimeWindow,
    TravelEstimate,
    TravelMode,
    Visit,
)

__all__ = [
    "WEEKDAYS",
    "Absence",
    "Address",
    "BankHolidayRegion",
    "CarePackageVisit",
    "DayChanges",
    "Roster",
    "RosterCarer",
    "RosterClient",
    "Weekday",
    "WorkingTimeRules",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""In ``datetime.date.weekday()`` order: ``WEEKDAYS[date.weekday()]`` names a date's day."""

BankHolidayRegion = Literal["england", "wales", "scotland", "northern-ireland"]

PackageVisitId = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_-]+$")]
"""A call's name within its client's package ("morning", "bed-2"); a day's visit is
``"{client}:{call}"``, so the name may not hold a colon."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Address(_Model):
    """Where someone lives: WGS84 coordinates (travel is routed from them) and the
    postal address a carer reads."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: Text | None = None


class Absence(_Model):
    """Dates a carer does not work: annual leave, sickness, training. ``end`` is the last
    day away (inclusive); an open sickness has no end yet."""

    start: dt.date
    end: dt.date | None = None
    kind: Literal["leave", "sickness", "training", "other"] = "leave"
    note: Note | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Absence:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"absence end {self.end} is before its start {self.start}")
        return self

    def covers(self, date: dt.date) -> bool:
        return self.start <= date and (self.end is None or date <= self.end)


class RosterCarer(_Model):
    """A care assistant as employed: skills, home, contract and the weekly pattern of
    when they work. ``availability`` maps a weekday to that day's shifts (a weekday
    left out: not working); ``absences`` take whole dates out."""

    id: Id
    name: Text | None = None
    gender: Gender | None = None
    skills: list[Id] = Field(default_factory=list)
    home: Address
    travel_mode: TravelMode = TravelMode.drive
    contracted_hours: float = Field(default=0.0, ge=0, le=168, description="contracted hours per week")
    max_hours: float | None = Field(
        default=None, ge=0, le=168, description="hours per week never exceeded (None: the roster's rule, 48)"
    )
    max_daily_hours: float | None = Field(default=None, ge=0, le=24, description="working hours a day at most")
    availability: dict[Weekday, list[Shift]] = Field(default_factory=dict)
    works_bank_holidays: bool = True
    absences: list[Absence] = Field(default_factory=list)
    break_rule: BreakRule | None = None
    employed_from: dt.date | None = None
    employed_to: dt.date | None = None

    @model_validator(mode="after")
    def _shifts_disjoint(self) -> RosterCarer:
        for weekday, shifts in self.availability.items():
            ordered = sorted(shifts, key=lambda s: s.start)
            for before, after in itertools.pairwise(ordered):
                if after.start < before.end:
                    raise ValueError(f"availability.{weekday}: shifts overlap")
            self.availability[weekday] = ordered
        return self


class CarePackageVisit(_Model):
    """One recurring call of a care package: on which weekdays, when and how long, what
    it needs, and the dates it applies between (inclusive; None: open)."""

    id: PackageVisitId
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    window: TimeWindow
    target: TimeWindow | None = None
    duration: Minutes = Field(gt=0, le=24 * 60)
    skills: list[Id] = Field(default_factory=list)
    carers_needed: Literal[1, 2] = 1
    synchronisation: Synchronisation | None = None
    tasks: list[Text] = Field(default_factory=list)
    mandatory: bool = True
    on_bank_holidays: bool = Field(default=True, description="False: the call does not happen on a bank holiday")
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None

    @model_validator(mode="after")
    def _shape(self) -> CarePackageVisit:
        if not self.weekdays:
            raise ValueError("weekdays is empty: a call happens on at least one day of the week")
        if len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError("weekdays repeats a day")
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before effective_from {self.effective_from}")
        if self.carers_needed == 1 and self.synchronisation is not None:
            raise ValueError("synchronisation is only meaningful when carers_needed is 2")
        return self

    def happens_on(self, date: dt.date) -> bool:
        """Whether the package has this call on ``date`` (bank holidays aside)."""
        return (
            WEEKDAYS[date.weekday()] in self.weekdays
            and (self.effective_from is None or self.effective_from <= date)
            and (self.effective_to is None or date <= self.effective_to)
        )


class RosterClient(_Model):
    """A person receiving care, their wishes about who visits and their care package."""

    id: Id
    name: Text | None = None
    home: Address
    gender_requirement: Gender | None = None
    gender_preference: Gender | None = None
    preferred_carers: list[Id] = Field(default_factory=list)
    banned_carers: list[Id] = Field(default_factory=list)
    phone: Text | None = None
    access_notes: Note | None = None
    notes: Note | None = None
    package: list[CarePackageVisit] = Field(default_factory=list)

    @field_validator("package")
    @classmethod
    def _unique_calls(cls, package: list[CarePackageVisit]) -> list[CarePackageVisit]:
        seen: set[str] = set()
        for i, call in enumerate(package):
            if call.id in seen:
                raise ValueError(f"[{i}].id: duplicate call {call.id!r} in the package")
            seen.add(call.id)
        return package


class WorkingTimeRules(_Model):
    """The rules a week's plans keep across days (UK Working Time Regulations by default),
    and how continuity of care is weighed over a week."""

    max_weekly_hours: float = Field(
        default=48.0, gt=0, le=168, description="working hours in a Monday-Sunday week, hard (carers may set lower)"
    )
    min_daily_rest_hours: float = Field(
        default=11.0, ge=0, le=24, description="hours between getting home one day and leaving home the next, hard"
    )
    continuity_cap: int | None = Field(
        default=3, ge=1, description="distinct carers a client should see in a week (None: no cap)"
    )
    hard_cap: bool = Field(
        default=False,
        description="at the cap, ban every other carer (lifted, with a second solve, when a mandatory visit would "
        "go undone); False: only the week's carers are free, others cost the continuity weight",
    )
    history_weeks: int = Field(default=4, ge=0, le=52, description="weeks of past plans continuity looks back on")
    continuity_weight: float = Field(
        default=100.0,
        ge=0,
        description="cost, when a week is planned, of each visit by a carer the client has not seen in the "
        "history weeks or earlier that week (the day's own continuity weight if higher)",
    )


class Roster(_Model):
    """An organisation's carers and clients, kept across days and weeks."""

    name: Text = "roster"
    timezone: str = "Europe/London"
    bank_holidays: BankHolidayRegion | None = Field(
        default="england", description="whose public holidays are bank holidays (None: none)"
    )
    extra_holidays: list[dt.date] = Field(default_factory=list, description="local holidays treated as bank holidays")
    office: Address | None = None
    skills: list[Id] = Field(default_factory=list)
    carers: list[RosterCarer] = Field(default_factory=list)
    clients: list[RosterClient] = Field(default_factory=list)
    rules: WorkingTimeRules = Field(default_factory=WorkingTimeRules)
    travel_estimate: TravelEstimate = Field(default_factory=TravelEstimate)
    weights: ObjectiveWeights = Field(default_factory=ObjectiveWeights)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r} (an IANA name such as 'Europe/London')") from None
        return name

    @model_validator(mode="after")
    def _references(self) -> Roster:
        skills = set(self.skills)
        carers: set[str] = set()
        for i, carer in enumerate(self.carers):
            if carer.id in carers:
                raise ValueError(f"carers[{i}].id: duplicate id {carer.id!r}")
            carers.add(carer.id)
            for name in carer.skills:
                if name not in skills:
                    raise ValueError(f"carers[{i}].skills: unknown skill {name!r} (declare it in Roster.skills)")
        clients: set[str] = set()
        for i, client in enumerate(self.clients):
            if client.id in clients:
                raise ValueError(f"clients[{i}].id: duplicate id {client.id!r}")
            clients.add(client.id)
            for field in ("preferred_carers", "banned_carers"):
                for ref in getattr(client, field):
                    if ref not in carers:
                        raise ValueError(f"clients[{i}].{field}: unknown carer {ref!r}")
            for c, call in enumerate(client.package):
                for name in call.skills:
                    if name not in skills:
                        raise ValueError(f"clients[{i}].package[{c}].skills: unknown skill {name!r}")
        return self

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def carer(self, carer_id: str) -> RosterCarer:
        return next(c for c in self.carers if c.id == carer_id)

    def client(self, client_id: str) -> RosterClient:
        return next(c for c in self.clients if c.id == client_id)


class DayChanges(_Model):
    """One-off changes to a single date, kept apart from the roster: the day generated
    from the roster with these applied is the day planned. A visit id is the roster's
    ``"{client}:{call}"`` or any new id for an added visit."""

    date: dt.date
    added_visits: list[Visit] = Field(default_factory=list)
    cancelled_visits: list[Id] = Field(default_factory=list)
    changed_visits: list[Visit] = Field(default_factory=list, description="replace the generated visit of that id")
    carer_shifts: dict[Id, list[Shift]] = Field(
        default_factory=dict, description="a carer's shifts on this date instead of their pattern ([]: off)"
    )
    note: Note | None = None
