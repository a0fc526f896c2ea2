"""A plan as the drawings need it: the problem and plan indexed, each working carer's
colour and row, and the small text helpers every drawing shares.

The report (``render``) and the service's coordinator board draw from one ``DayView``,
so a carer has the same colour, row and wording on both.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files

from ..domain import Problem, Visit
from ..errors import InputError
from ..plan import Plan, PlannedVisit, UnassignedVisit

__all__ = ["LATE_TOLERANCE", "STATUSES", "DayView", "carer_colour", "lateness"]

Polyline = Sequence[tuple[float, float]]
"""A line on the map: points as (lon, lat), or (x, y) for planar problems."""

LATE_TOLERANCE = 0.01
"""Minutes past the target window before a start counts as late (absorbs float noise)."""

STATUSES = {
    "planned": ("", "planned"),
    "checked_in": ("▶", "checked in"),
    "done": ("✓", "done"),
    "late": ("!", "late"),
    "missed": ("✕", "missed"),
}
"""A visit's status on the day: the mark drawn on its block (status is never told by
colour alone) and the words read out."""

NOT_IN_PLAN = "not in this plan: added to the day after the plan was made (replan, or give it to a carer)"

SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'


def carer_colour(index: int) -> str:
    """The run colour of the ``index``-th carer: golden-angle hues over four lightness steps.

    Successive hues are 137.5 degrees apart, so neighbours in the list never look alike;
    hues come close again only every 13, 21, 34... carers, and those differ in lightness
    (the step is ``index % 4``). This keeps 40+ runs tellable apart without a fixed
    palette running out.
    """
    hue = (index * 137.508 + 210.0) % 360.0
    lightness = (34, 48, 58, 42)[index % 4]
    return f"hsl({hue:.1f},70%,{lightness}%)"


class DayView:
    """The problem and plan indexed the way the drawing needs them.

    Carers with visits get a row, a colour and an index in order of their first start;
    the index (never a user-given id) is what a page's script uses to find a carer's
    run, row and legend entry. Raises InputError if the plan names carers or visits the
    problem does not have (a plan of another day).
    """

    def __init__(self, problem: Problem, plan: Plan):
        self.problem = problem
        self.plan = plan
        self.carers = {c.id: c for c in problem.carers}
        self.clients = {c.id: c for c in problem.clients}
        self.visits = {v.id: v for v in problem.visits}
        self.visit_index = {v.id: i for i, v in enumerate(problem.visits)}
        self.locations = {loc.id: loc for loc in problem.locations}
        self._check_plan_is_for_problem()
        self.routes = sorted((r for r in plan.routes if r.visits), key=lambda r: (r.visits[0].start, r.carer))
        self.index = {r.carer: k for k, r in enumerate(self.routes)}
        self.colour = {r.carer: carer_colour(k) for k, r in enumerate(self.routes)}
        planned = {pv.visit for r in plan.routes for pv in r.visits} | {u.visit for u in plan.unassigned}
        self.unassigned = [
            *plan.unassigned,
            *(UnassignedVisit(visit=v.id, reason=NOT_IN_PLAN) for v in problem.visits if v.id not in planned),
        ]
        """The plan's unassigned visits, and the day's visits the plan does not know (added
        to the day after it was made): nobody has either."""

    def _check_plan_is_for_problem(self) -> None:
        hint = "(is the plan for this problem?)"
        for i, route in enumerate(self.plan.routes):
            if route.carer not in self.carers:
                raise InputError(f"routes[{i}].carer", f"unknown carer {route.carer!r} {hint}")
            for j, pv in enumerate(route.visits):
                if pv.visit not in self.visits:
                    raise InputError(f"routes[{i}].visits[{j}].visit", f"unknown visit {pv.visit!r} {hint}")
        for i, item in enumerate(self.plan.unassigned):
            if item.visit not in self.visits:
                raise InputError(f"unassigned[{i}].visit", f"unknown visit {item.visit!r} {hint}")

    def carer_label(self, carer_id: str) -> str:
        carer = self.carers.get(carer_id)
        return (carer.name or carer.id) if carer is not None else carer_id

    def client_label(self, client_id: str) -> str:
        client = self.clients.get(client_id)
        return f"{client.name} ({client.id})" if client is not None and client.name else client_id

    def client_short(self, client_id: str) -> str:
        """The client as a visit block has room for: their name, else their id."""
        client = self.clients.get(client_id)
        return client.name if client is not None and client.name else client_id

    def late_visits(self) -> int:
        return sum(1 for r in self.routes for pv in r.visits if lateness(self.visits[pv.visit], pv) > 0)


def lateness(visit: Visit, pv: PlannedVisit) -> float:
    """Minutes this start lies after the visit's target window (0 when on time or no target)."""
    if visit.target is None or visit.target.end is None:
        return 0.0
    late = pv.start - visit.target.end
    return late if late > LATE_TOLERANCE else 0.0


def status_of(statuses: Mapping[str, str] | None, visit_id: str) -> str:
    return (statuses or {}).get(visit_id, "planned")


# -- small formatting helpers ---------------------------------------------------------------------


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def points_text(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def duration_text(minutes: float) -> str:
    total = round(minutes)
    return f"{total} min" if total < 60 else f"{total // 60} h {total % 60:02d} min"


def clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def plain(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def key(width: int, shapes: str, label: str) -> str:
    """One entry of a drawing's key: a small shape and what it means."""
    return f'<span class="key"><svg width="{width}" height="{width}" aria-hidden="true">{shapes}</svg>{label}</span>'


@cache
def asset(name: str) -> str:
    """A style sheet or script kept beside this module as a package file."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
