"""Small builders for hand-made problems in the solver tests.

Everything is built as plain dicts and validated with ``Problem.model_validate`` so the
tests exercise the public schema exactly as a JSON caller would. Times are minutes after
midnight; travel is an explicit drive matrix unless a test wants estimated travel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from carescheduler.domain import Problem
from carescheduler.plan import Plan
from carescheduler.validator import ValidationReport, validate

SKILLS = ["hoist", "meds", "dementia"]


def matrix_from_coords(
    coords: Sequence[tuple[float, float]], asym: Sequence[Sequence[int]] | None = None
) -> list[list[int]]:
    """Integer drive minutes: rounded Euclidean distance plus an optional asymmetric extra."""
    n = len(coords)
    out = []
    for i in range(n):
        row = []
        for j in range(n):
            if i == j:
                row.append(0)
            else:
                base = round(math.hypot(coords[i][0] - coords[j][0], coords[i][1] - coords[j][1]))
                row.append(base + (asym[i][j] if asym is not None else 0))
        out.append(row)
    return out


def location(id: str, x: float = 0.0, y: float = 0.0) -> dict:
    return {"id": id, "x": x, "y": y}


def carer(id: str, start: str = "office", shifts: Sequence[tuple[float, float]] = ((480, 960),), **extra) -> dict:
    return {"id": id, "start_location": start, "shifts": [{"start": s, "end": e} for s, e in shifts], **extra}


def client(id: str, location: str, **extra) -> dict:
    return {"id": id, "location": location, **extra}


def visit(id: str, client: str, duration: float = 30, start: float = 480, end: float | None = None, **extra) -> dict:
    return {"id": id, "client": client, "duration": duration, "window": {"start": start, "end": end}, **extra}


def problem_dict(
    locations: list[dict],
    carers: list[dict],
    clients: list[dict],
    visits: list[dict],
    travel: list[list[float]] | None = None,
    skills: Sequence[str] = SKILLS,
    weights: dict | None = None,
    name: str = "test-day",
) -> dict:
    data = {
        "name": name,
        "skills": list(skills),
        "locations": locations,
        "carers": carers,
        "clients": clients,
        "visits": visits,
    }
    if travel is not None:
        data["travel"] = [{"mode": "drive", "minutes": travel}]
    if weights:
        data["weights"] = weights
    return data


def make_problem(*args, **kwargs) -> Problem:
    return Problem.model_validate(problem_dict(*args, **kwargs))


def describe_plan(plan: Plan) -> str:
    lines = []
    for route in plan.routes:
        stops = ", ".join(f"{v.visit}/{v.part}@{v.start:g}-{v.end:g}" for v in route.visits)
        breaks = ", ".join(f"{b.start:g}-{b.end:g}" for b in route.breaks)
        lines.append(f"  {route.carer}: [{stops}] breaks [{breaks}]")
    for u in plan.unassigned:
        lines.append(f"  unassigned {u.visit}: {u.reason}")
    if plan.solver:
        lines.append(f"  cost {plan.cost.total:g} solver {plan.solver}")
    return "\n".join(lines)


def assert_valid(problem: Problem, plan: Plan) -> ValidationReport:
    """Validate and fail with the violations and the plan spelt out."""
    report = validate(problem, plan)
    assert report.valid, (
        "solver plan rejected by the validator:\n"
        + "\n".join(f"  [{v.code}] {v.message}" for v in report.violations)
        + "\n"
        + describe_plan(plan)
    )
    return report
