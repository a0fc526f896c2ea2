"""The public plan schema: what the scheduler answers and what carers' phones show.

A plan lists, per carer, the ordered visits with their start and end times, the breaks,
and the travel between stops; the visits nobody could take, each with a reason a
coordinator understands; and the KPIs. It carries no solver state, so any plan (also one
written by hand or imported from a benchmark solution) can be checked by the validator.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CarerChanges",
    "CostBreakdown",
    "KPIs",
    "Plan",
    "PlannedBreak",
    "PlannedVisit",
    "Retimed",
    "Route",
    "SolverInfo",
    "UnassignedVisit",
    "carer_changes",
    "format_minutes",
    "starts_by_carer",
]


def format_minutes(minutes: float) -> str:
    """Minutes after midnight as ``HH:MM`` (rounded to the minute)."""
    total = round(minutes)
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
    waiting: float = 0.0
    max_waiting: float = 0.0
    past_shift_end: float = 0.0
    total: float = 0.0


class KPIs(_Model):
    visits_total: int = 0
    visits_assigned: int = 0
    mandatory_unassigned: int = 0
    coverage: float = 1.0
    travel_minutes: float = 0.0
    total_lateness: float = 0.0
    max_lateness: float = 0.0
    continuity: float = Field(
        default=1.0, description="share of carer-visits to clients with a history done by a known carer"
    )
    overtime_minutes: float = 0.0
    working_minutes: dict[str, float] = Field(default_factory=dict)
    waiting_minutes: float = Field(
        default=0.0, description="minutes carers wait between visits of one shift: unpaid gaps, breaks not counted"
    )
    max_wait_minutes: float = Field(default=0.0, description="the longest single wait of any carer")
    waiting_by_carer: dict[str, float] = Field(
        default_factory=dict, description="each carer's unpaid gaps in minutes (carers who wait)"
    )
    past_shift_end_minutes: float = Field(
        default=0.0, description="minutes carers finish after their shifts' ends, where a shift's end is soft"
    )
    travel_estimated: bool = False


class SolverInfo(_Model):
    """How a plan was found: what ran, for how long, and what stopped it. Fields that
    do not apply are left out (an imported plan has only ``status`` and ``source``)."""

    status: str = Field(default="", description="heuristic; optimal (CP-SAT proved it); replan; move; imported")
    seconds: float | None = Field(default=None, description="wall-clock seconds the solve or replan took")
    iterations: int | None = Field(default=None, description="search iterations, over all processes")
    seed: int | None = None
    workers: int | None = Field(default=None, description="cores the search ran on")
    time_limit: float | None = Field(default=None, description="seconds allowed (MaxRuntime)")
    max_iterations: int | None = Field(default=None, description="iterations allowed per search (MaxIterations)")
    no_improvement: int | None = Field(default=None, description="tries without a better plan allowed (NoImprovement)")
    stopped_by: Literal["time", "iterations", "no_improvement"] | None = Field(
        default=None, description="the criterion that ended the search"
    )
    now: float | None = Field(default=None, description="replan: the time of day the events were applied at")
    events: int | None = Field(default=None, description="replan: how many events were applied")
    source: str | None = Field(default=None, description="imported: where the plan was read from")

    def items(self) -> list[tuple[str, object]]:
        """The fields that are set, in order (for display)."""
        return [(name, value) for name, value in self.model_dump(exclude_none=True).items() if value != ""]


class Plan(_Model):
    problem: str = ""
    routes: list[Route] = Field(default_factory=list)
    unassigned: list[UnassignedVisit] = Field(default_factory=list)
    kpis: KPIs = Field(default_factory=KPIs)
    cost: CostBreakdown = Field(default_factory=CostBreakdown)
    solver: SolverInfo = Field(default_factory=SolverInfo, description="how the plan was found")

    def route(self, carer_id: str) -> Route | None:
        return next((r for r in self.routes if r.carer == carer_id), None)


class Retimed(_Model):
    visit: str
    before: float
    after: float


class CarerChanges(_Model):
    """What changed in one carer's day: the message their phone gets."""

    carer: str
    added: list[str] = Field(default_factory=list, description="visits newly theirs")
    removed: list[str] = Field(default_factory=list, description="visits no longer theirs (moved or cancelled)")
    retimed: list[Retimed] = Field(
        default_factory=list, description="visits starting more than the tolerance earlier or later"
    )


def starts_by_carer(plan: Plan) -> dict[str, dict[str, float]]:
    """carer -> visit -> start, for every carer-visit of a plan."""
    out: dict[str, dict[str, float]] = {}
    for route in plan.routes:
        for pv in route.visits:
            out.setdefault(route.carer, {})[pv.visit] = pv.start
    return out


def carer_changes(
    before: dict[str, dict[str, float]],
    after: dict[str, dict[str, float]],
    tolerance: float = 15.0,
    unchanged: AbstractSet[str] = frozenset(),
) -> list[CarerChanges]:
    """Per carer, the visits added, removed and retimed (by more than ``tolerance``
    minutes) between two plans given as ``starts_by_carer``; visits in ``unchanged``
    (say, already done) are never reported as retimed. Only carers with a change."""
    out = []
    for carer in sorted(set(before) | set(after), key=natural_key):
        was, now = before.get(carer, {}), after.get(carer, {})
        added = sorted((v for v in now if v not in was), key=lambda v: now[v])
        removed = sorted((v for v in was if v not in now), key=lambda v: was[v])
        retimed = [
            Retimed(visit=v, before=was[v], after=now[v])
            for v in sorted(now, key=lambda v: now[v])
            if v in was and v not in unchanged and abs(now[v] - was[v]) > tolerance + 1e-9
        ]
        if added or removed or retimed:
            out.append(CarerChanges(carer=carer, added=added, removed=removed, retimed=retimed))
    return out


def natural_key(text: str) -> list:
    """Sort key that puts carer2 before carer10."""
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", text)]
