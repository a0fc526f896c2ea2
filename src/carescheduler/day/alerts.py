"""What a coordinator must look at now: visits the phones say have not happened as planned.

A plan says when each carer starts and ends each visit; the phones say when they checked
in and out. ``watch`` compares the two at ``now`` and names what is overdue:

    late_start       no check-in ``late_after`` minutes after the planned start
    not_checked_out  checked in, but no check-out ``overrun_after`` minutes after the
                     visit should have ended (the later of its planned end and its
                     check-in plus its length)
    missed           no check-in, and the visit's latest start has passed

Each alert is about one carer on one visit (a double-handed visit can raise two; a
visit another carer checked in to in their place raises none), and
the same situation gives the same alert at every call, so a caller keeping alerts can
raise what is new and resolve what is gone. A missed visit replaces its late start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..domain import Problem
from ..plan import Plan, format_minutes
from .events import CheckIn, CheckOut

__all__ = ["Alert", "AlertKind", "watch"]

AlertKind = Literal["late_start", "not_checked_out", "missed"]


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    visit: str
    carer: str
    client: str
    due: float
    """When it became overdue (minutes after midnight): the planned start plus the
    allowance, the expected end plus the allowance, or the window's latest start."""
    message: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.visit, self.carer


def watch(
    problem: Problem,
    plan: Plan,
    checks: Iterable[CheckIn | CheckOut],
    now: float,
    late_after: float = 15.0,
    overrun_after: float = 30.0,
) -> list[Alert]:
    """The alerts standing at ``now`` for ``plan`` given the carers' check-ins and outs,
    ordered by when they became due."""
    visits = {v.id: v for v in problem.visits}
    checked_in: dict[tuple[str, str], float] = {}
    checked_out: set[tuple[str, str]] = set()
    started_by: dict[str, set[str]] = {}
    for check in checks:
        if isinstance(check, CheckIn):
            checked_in.setdefault((check.visit, check.carer), float(check.at))
            started_by.setdefault(check.visit, set()).add(check.carer)
        else:
            checked_out.add((check.visit, check.carer))
    alerts = []
    for route in plan.routes:
        for stop in route.visits:
            visit = visits.get(stop.visit)
            if visit is None:
                continue
            pair = stop.visit, route.carer
            alert = None
            if pair in checked_in:
                if pair in checked_out:
                    continue
                expected = max(float(stop.end), checked_in[pair] + visit.part_duration(stop.part))
                if now >= expected + overrun_after:
                    alert = Alert(
                        "not_checked_out",
                        stop.visit,
                        route.carer,
                        visit.client,
                        expected + overrun_after,
                        f"{route.carer} checked in at {format_minutes(checked_in[pair])} and has not checked out; "
                        f"the visit should have ended by {format_minutes(expected)}",
                    )
            elif len(started_by.get(stop.visit, ())) >= visit.carers_needed:
                continue  # another carer took it over
            elif visit.window.end is not None and now > float(visit.window.end):
                alert = Alert(
                    "missed",
                    stop.visit,
                    route.carer,
                    visit.client,
                    float(visit.window.end),
                    f"no check-in from {route.carer}: the visit's latest start "
                    f"({format_minutes(visit.window.end)}) has passed",
                )
            elif now >= float(stop.start) + late_after:
                alert = Alert(
                    "late_start",
                    stop.visit,
                    route.carer,
                    visit.client,
                    float(stop.start) + late_after,
                    f"no check-in from {route.carer}, planned to start at {format_minutes(stop.start)}",
                )
            if alert is not None:
                alerts.append(alert)
    return sorted(alerts, key=lambda a: (a.due, a.visit, a.carer))
