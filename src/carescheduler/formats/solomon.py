"""Solomon (1987) and Gehring–Homberger VRPTW text instances (capacity is ignored).

Layout: the name on line 1; a ``VEHICLE`` block whose data line is ``K Q`` (vehicles,
capacity); a ``CUSTOMER`` block of lines ``id x y demand ready due service``, customer 0
being the depot, whose ready/due is the horizon.

Mapping to a :class:`Problem`: locations ``depot`` and ``p1..pn`` (planar x, y); clients
and visits ``p1..pn`` with the service time as duration and a hard start window
``[ready, due]`` (no target, no skills); K carers ``c1..cK`` starting and ending at the
depot with one shift ``[depot ready, depot due]``; travel the unrounded Euclidean distance
(``integer_travel=True`` rounds it to whole numbers); the objective is travel only.
"""

from __future__ import annotations

import math
from typing import Any

from ..domain import ObjectiveWeights, Problem
from ..errors import InputError
from ._io import PathLike, read_text, stem_of, text_number, validate_problem

__all__ = ["problem_from_solomon", "read_solomon", "solomon_weights"]

_FIELDS = ("id", "x", "y", "demand", "ready", "due", "service")


def solomon_weights() -> ObjectiveWeights:
    """Travel only (plus the default cost of an unassigned visit)."""
    return ObjectiveWeights(
        optional_value=0.0,
        lateness=0.0,
        max_lateness=0.0,
        earliness=0.0,
        travel=1.0,
        gender_preference=0.0,
        non_preferred_carer=0.0,
        continuity=0.0,
        overtime=0.0,
        waiting=0.0,
        max_waiting=0.0,
    )


def read_solomon(path: PathLike, *, integer_travel: bool = False) -> Problem:
    """Read a Solomon/Homberger file; the problem takes the name on its first line (else the file stem)."""
    return problem_from_solomon(read_text(path), name=stem_of(path), source=str(path), integer_travel=integer_travel)


def problem_from_solomon(
    text: str, name: str | None = None, source: str | None = None, *, integer_travel: bool = False
) -> Problem:
    """Build a Problem from the text of a Solomon/Homberger instance."""
    lines = text.splitlines()
    header = next((line.strip() for line in lines if line.strip()), "")
    vehicle = _keyword_line(lines, "VEHICLE", source)
    customer = _keyword_line(lines, "CUSTOMER", source)
    if customer < vehicle:
        raise InputError("CUSTOMER", f"line {customer + 1}: the CUSTOMER block comes before the VEHICLE block", source)

    vehicle_rows = _numeric_rows(lines[vehicle + 1 : customer], vehicle + 1, "VEHICLE", source)
    if not vehicle_rows:
        raise InputError("VEHICLE", "missing the line 'NUMBER CAPACITY' values", source)
    number, values = vehicle_rows[0]
    if len(values) != 2 or len(vehicle_rows) != 1:
        raise InputError("VEHICLE", f"line {number}: expected one line with 2 numbers (number, capacity)", source)
    k = values[0]
    if k != int(k) or k < 1:
        raise InputError("VEHICLE.NUMBER", f"line {number}: expected a positive integer, found {k:g}", source)

    rows = _numeric_rows(lines[customer + 1 :], customer + 1, "CUSTOMER", source)
    if not rows:
        raise InputError("CUSTOMER", "no customer lines (expected the depot, customer 0, and the customers)", source)
    for i, (number, values) in enumerate(rows):
        if len(values) != len(_FIELDS):
            raise InputError(
                "CUSTOMER",
                f"line {number}: expected {len(_FIELDS)} numbers ({' '.join(_FIELDS)}), found {len(values)}",
                source,
            )
        if values[0] != i:
            raise InputError("CUSTOMER.id", f"line {number}: expected customer number {i}, found {values[0]:g}", source)
    depot = rows[0][1]
    customers = [values for _, values in rows[1:]]

    locations: list[dict[str, Any]] = [{"id": "depot", "x": depot[1], "y": depot[2]}]
    clients, visits = [], []
    for i, (_, x, y, _demand, ready, due, service) in enumerate(customers, start=1):
        pid = f"p{i}"
        locations.append({"id": pid, "x": x, "y": y})
        clients.append({"id": pid, "location": pid})
        visits.append({"id": pid, "client": pid, "duration": service, "window": {"start": ready, "end": due}})
    xs = [loc["x"] for loc in locations]
    ys = [loc["y"] for loc in locations]
    minutes = [
        [math.hypot(xi - xj, yi - yj) for xj, yj in zip(xs, ys, strict=True)] for xi, yi in zip(xs, ys, strict=True)
    ]
    if integer_travel:
        minutes = [[float(round(value)) for value in row] for row in minutes]
    carers = [
        {
            "id": f"c{v + 1}",
            "start_location": "depot",
            "shifts": [{"start": depot[4], "end": depot[5]}],
            "travel_mode": "drive",
        }
        for v in range(int(k))
    ]
    return validate_problem(
        {
            "name": header if header and header not in ("VEHICLE", "CUSTOMER") else (name or "solomon"),
            "skills": [],
            "locations": locations,
            "carers": carers,
            "clients": clients,
            "visits": visits,
            "travel": [{"mode": "drive", "minutes": minutes}],
            "weights": solomon_weights().model_dump(),
        },
        source,
    )


def _keyword_line(lines: list[str], keyword: str, source: str | None) -> int:
    for index, line in enumerate(lines):
        if line.strip().upper() == keyword:
            return index
    raise InputError(keyword, f"missing block (no line reading {keyword})", source)


def _numeric_rows(lines: list[str], offset: int, block: str, source: str | None) -> list[tuple[int, list[float]]]:
    """Data lines of a block as (1-based line number, numbers); column-title lines are skipped."""
    rows: list[tuple[int, list[float]]] = []
    for index, line in enumerate(lines):
        tokens = line.split()
        if not tokens:
            continue
        number = offset + index + 1
        if not rows and not _numeric(tokens[0]):
            continue  # the column titles before the data
        rows.append((number, [text_number(t, block, source, where=f"line {number}: ") for t in tokens]))
    return rows


def _numeric(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
