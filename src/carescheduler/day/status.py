"""Where each planned visit stands at a moment of the live day: planned, checked in,
done, late or missed.

A coordinator scans the board for what needs them: a carer who has not checked in a
quarter of an hour after a visit was due is late; a visit whose window has passed with
no check-in, or that was reported as not started, is missed. What the phones reported
(check-in, check-out) always wins over what the clock suggests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from ..domain import Problem
from ..plan import Plan

__all__ = ["LATE_AFTER_MINUTES", "VisitStatus", "visit_statuses"]

VisitStatus = Literal["planned", "checked_in", "done", "late", "missed"]

LATE_AFTER_MINUTES = 15.0
"""A visit not checked in this long after its planned start is late."""


def visit_statuses(
    problem: Problem,
    plan: Plan,
    events: Iterable[Mapping],
    now: float,
    *,
    late_after: float = LATE_AFTER_MINUTES,
) -> dict[tuple[str, str], VisitStatus]:
    """Each (visit, carer) of ``plan`` with its status at ``now`` (minutes after midnight).

    ``events`` are the day's events as recorded (JSON-like, rejected ones left out), in
    order: ``check_in``, ``check_out`` and ``visit_not_started`` decide, the clock does
    the rest (late past ``late_after`` minutes, missed once the visit's window, or its
    planned end when it has none, has passed).
    """
    reported: dict[tuple[str, str], VisitStatus] = {}
    for event in events:
        kind, visit, carer = event.get("type"), event.get("visit"), event.get("carer")
        if not isinstance(visit, str) or not isinstance(carer, str):
            continue
        key = (visit, carer)
        if kind == "check_out":
            reported[key] = "done"
        elif kind == "check_in" and reported.get(key) != "done":
            reported[key] = "checked_in"
        elif kind == "visit_not_started" and key not in reported:
            reported[key] = "missed"
    windows = {v.id: v.window for v in problem.visits}
    out: dict[tuple[str, str], VisitStatus] = {}
    for route in plan.routes:
        for pv in route.visits:
            key = (pv.visit, route.carer)
            if key in reported:
                out[key] = reported[key]
                continue
            window = windows.get(pv.visit)
            closes = window.end if window is not None and window.end is not None else pv.end
            if now > max(closes, pv.start) + late_after:
                out[key] = "missed"
            elif now > pv.start + late_after:
                out[key] = "late"
            else:
                out[key] = "planned"
    return out
