"""The public plan schema: what the scheduler answers and what carers' phones show.

A plan lists, per carer, the ordered visits with their start and end times, the breaks,
and the travel between stops; the visits nobody could take, each with a reason a
coordinator understands; and the KPIs. It carries no solver state, so any plan (also one
written by hand or imported from a benchmark solution) can be checked by the validator.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CostBreakdown", "KPIs", "Plan", "PlannedBreak", "PlannedVisit", "Route", "UnassignedVisit", "format_minutes"]


def format_minutes(minutes: float) -> str:
    """Minutes after midnight as ``HH:MM`` (rounded to the minute)."""
    total = int(round(minutes))
    return f"{total // 60:02d}:{total % 60:02d}"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlannedVisit(_Model):
    """One carer's part of a visit. ``part`` is 0 or 1 (1 only for double-handed visits)."""

    visit: str
    part: int = Field(default=0, ge=0, le=1)
    client: str
    start: float
    end: float
    travel_before: float = Field(default=0.0, description="travel minutes from the previous stop (or home)")
    partner: str | None = Field(default=None, description="the other carer of a double-handed visit")


class PlannedBreak(_Model):
    start: float
    end: float


class Route(_Model):
    """A carer's day: leave home, visits in order, breaks, return home."""

    carer: str
    visits: list[PlannedVisit] = Field(default_factory=list)
    breaks: list[PlannedBreak] = Field(default_factory=list)
    leave_home: float | None = None
    return_home: float | None = None
    travel_minutes: float = 0.0
    working_minutes: float = 0.0


class UnassignedVisit(_Model):
    visit: str
    reason: str


class CostBreakdown(_Model):
    """The weighted terms of the objective; ``total`` is their sum."""

    unassigned: float = 0.0
    lateness: float = 0.0
    max_lateness: float = 0.0
    earliness: float = 0.0
    travel: float = 0.0
    preferences: float = 0.0
    continuity: float = 0.0
    overtime: float = 0.0
    total: float = 0.0


class KPIs(_Model):
    visits_total: int = 0
    visits_assigned: int = 0
    mandatory_unassigned: int = 0
    coverage: float = 1.0
    travel_minutes: float = 0.0
    total_lateness: float = 0.0
    max_lateness: float = 0.0
    continuity: float = Field(default=1.0, description="share of carer-visits to clients with a history done by a known carer")
    overtime_minutes: float = 0.0
    working_minutes: dict[str, float] = Field(default_factory=dict)
    travel_estimated: bool = False


class Plan(_Model):
    problem: str = ""
    routes: list[Route] = Field(default_factory=list)
    unassigned: list[UnassignedVisit] = Field(default_factory=list)
    kpis: KPIs = Field(default_factory=KPIs)
    cost: CostBreakdown = Field(default_factory=CostBreakdown)
    solver: dict[str, object] = Field(default_factory=dict, description="how the plan was found (status, seconds, iterations)")

    def route(self, carer_id: str) -> Route | None:
        return next((r for r in self.routes if r.carer == carer_id), None)
