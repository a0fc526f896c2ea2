"""A roster's settings: everything in ``Roster`` but its carers and clients.

The settings change rarely and as one piece (a coordinator edits the skills list or the
working-time rules), while carers and clients change one at a time; the service keeps
them apart, and the CSV import reads them from ``settings.json`` beside the CSV files.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..domain import Id, ObjectiveWeights, Text, TravelEstimate
from .model import Address, BankHolidayRegion, Roster, RosterCarer, RosterClient, WorkingTimeRules

__all__ = ["RosterSettings", "roster_with", "settings_of"]


class RosterSettings(BaseModel):
    """``Roster`` without ``carers`` and ``clients`` (the same fields, defaults and checks)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Text = "roster"
    timezone: str = "Europe/London"
    bank_holidays: BankHolidayRegion | None = Field(
        default="england", description="whose public holidays are bank holidays (None: none)"
    )
    extra_holidays: list[dt.date] = Field(default_factory=list, description="local holidays treated as bank holidays")
    office: Address | None = None
    skills: list[Id] = Field(default_factory=list)
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

    @field_validator("skills")
    @classmethod
    def _unique_skills(cls, skills: list[str]) -> list[str]:
        seen: set[str] = set()
        for i, name in enumerate(skills):
            if name in seen:
                raise ValueError(f"[{i}]: skill {name!r} is listed twice")
            seen.add(name)
        return skills


def settings_of(roster: Roster) -> RosterSettings:
    return RosterSettings.model_validate(roster.model_dump(exclude={"carers", "clients"}))


def roster_with(settings: RosterSettings, carers: list[RosterCarer], clients: list[RosterClient]) -> Roster:
    """The roster of these settings, carers and clients, checked whole (``Roster``'s
    cross-references: skills declared, carers referred to exist, ids unique)."""
    return Roster.model_validate({**settings.model_dump(), "carers": carers, "clients": clients})
