"""The unified HHCRSP JSON format of Ceschia, Di Gaspero and Schaerf (2025): instances,
solutions, and the formulation's cost components of any plan.

Instances (``.json``, ``.json.gz``; ``extended2025/instances``) hold ``departing_points``,
``caregivers`` (each with ``starting_point_id`` and ``working_shift``), ``patients`` (with
``incompatible_caregivers``), ``services`` and a ``distances`` matrix whose rows and columns
are named by ``distance_matrix_index``.

Mapping to a :class:`Problem` (the 2024 mapping of :mod:`.iolab` wherever the two agree):

* locations: the departure points, then the patients (``location = [lon, lat]``); travel:
  ``distances`` reordered to that list by ``distance_matrix_index`` (when absent: a departure
  point's position in its list; a patient's position plus the number of departure points);
* skills: the service ids. A service's ``type`` is dropped: it only keeps the two services
  of a patient apart, which their ids already do;
* carers: the caregivers, abilities as skills, leaving from and returning to their own
  departure point, one shift ``working_shift``, driving;
* one client and one visit per patient (same id); ``incompatible_caregivers`` become the
  client's ``banned_carers`` (hard, as the README asks);
* ``window = [e, open)`` and ``target = [e, l]``: starting before ``e`` is forbidden, after
  ``l`` is tardiness (soft); a duration is the patient's, else the service's
  ``default_duration``. Two required caregivers give two parts in listed order (part 0 is the
  "first" of a sequential synchronisation, ``distance = [min_gap, max_gap]``) and
  ``duration = max`` of the two;
* a shift's end is soft, as in the formulation: the carer may finish after it (``latest_end``
  late enough for any visit), each minute past it costed (``past_shift_end``);
* weights: :meth:`ObjectiveWeights.hhcrsp` (travel, total and highest tardiness, a third
  each) and extra time (minutes past a shift's end) a third too: the authors publish no
  weights combining the components. Waiting and max idle are ``ObjectiveWeights.waiting``
  and ``max_waiting``, 0 here; balance has no weight. :func:`extended_components` reports
  all of them.

Solutions follow the ``Solution`` model of the authors' toolbox (``iolab-uniud/hhcrsp-toolbox``,
``hhcrsp/models.py``): ``{"instance": name, "routes": [{"caregiver_id", "locations":
[{"patient", "service", "arrival_time", "departure_time"}]}]}``. ``arrival_time`` is the start
of the service (the toolbox checks windows and synchronisation on it), ``departure_time`` its
end. That is the 2024 structure with the instance's own ids instead of the ``c<k>``/``p<k>``
numbering, so the 2024 reader and writer do the work and the ids are translated;
``global_ordering`` is kept as in the 2024 files (the toolbox ignores it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..domain import Carer, ObjectiveWeights, Problem, TravelMode, Visit
from ..errors import InputError
from ..plan import Plan
from ..travel import travel_matrix
from ._io import PathLike, dump_json, number, parse_json, read_text, stem_of, validate_problem, write_text
from .iolab import _kind, _patient_visit, read_iolab_solution, to_iolab_solution

__all__ = [
    "ExtendedComponents",
    "extended_components",
    "is_extended_instance",
    "problem_from_extended",
    "read_extended",
    "read_extended_solution",
    "to_extended_solution",
    "uses_problem_ids",
    "write_extended_solution",
]

# Keys read here; any other carries a constraint this reader would silently drop, so it is refused.
_TOP_KEYS = {"name", "area", "distances", "departing_points", "patients", "caregivers", "services"}
_POINT_KEYS = {"id", "location", "distance_matrix_index"}
_CAREGIVER_KEYS = {"id", "abilities", "starting_point_id", "working_shift", "distance_matrix_index"}
_PATIENT_KEYS = {
    "id",
    "location",
    "time_window",
    "required_caregivers",
    "synchronization",
    "incompatible_caregivers",
    "distance_matrix_index",
}
_SERVICE_KEYS = {"id", "default_duration", "type"}


# --------------------------------------------------------------------------- instances


def is_extended_instance(data: Any) -> bool:
    """True for a parsed 2025 instance: it has ``departing_points``, or caregivers with a
    ``working_shift`` and no 2024 ``central_offices``."""
    if not isinstance(data, dict):
        return False
    if "departing_points" in data:
        return True
    caregivers = data.get("caregivers")
    return (
        "central_offices" not in data
        and isinstance(caregivers, list)
        and any(isinstance(c, dict) and "working_shift" in c for c in caregivers)
    )


def read_extended(path: PathLike) -> Problem:
    """Read a 2025 instance file; the problem is named after the file stem."""
    source = str(path)
    return problem_from_extended(parse_json(read_text(path), source), name=stem_of(path), source=source)


def problem_from_extended(data: Any, name: str | None = None, source: str | None = None) -> Problem:
    """Build a Problem from a parsed 2025 instance (a dict)."""
    fields = _Fields(source)
    if not isinstance(data, dict):
        raise InputError(
            "", f"expected a JSON object with departing_points, caregivers, patients, ..., found {_kind(data)}", source
        )
    fields.known(data, _TOP_KEYS, "")
    points = fields.listed(data, "departing_points", "")
    caregivers = fields.listed(data, "caregivers", "")
    patients = fields.listed(data, "patients", "")
    services = fields.listed(data, "services", "")
    distances = fields.listed(data, "distances", "")

    skills, default_duration = _services(fields, services)
    locations: list[dict[str, Any]] = []
    rows: list[int] = []  # the distances row of each location, in location order
    owners: list[str] = []  # and where in the file that location is
    point_row: dict[str, int] = {}
    for i in range(len(points)):
        where = f"departing_points[{i}]"
        point = fields.item(points, i, where)
        fields.known(point, _POINT_KEYS, f"{where}.")
        pid = fields.text(point, "id", where)
        locations.append(_location(fields, point, pid, where))
        point_row[pid] = fields.index(point, where, default=i)
        rows.append(point_row[pid])
        owners.append(where)

    carers = [_carer(fields, caregivers, i, point_row) for i in range(len(caregivers))]
    carer_ids = {c["id"] for c in carers}
    clients: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for i in range(len(patients)):
        where = f"patients[{i}]"
        patient = fields.item(patients, i, where)
        fields.known(patient, _PATIENT_KEYS, f"{where}.")
        pid = fields.text(patient, "id", where)
        locations.append(_location(fields, patient, pid, where))
        rows.append(fields.index(patient, where, default=len(points) + i))
        owners.append(where)
        clients.append({"id": pid, "location": pid, "banned_carers": _banned(fields, patient, where, carer_ids)})
        visits.append(_visit(fields, patient, pid, where, default_duration))

    problem_name = name or (data["name"] if isinstance(data.get("name"), str) and data["name"] else "extended")
    travel = _travel(fields, distances, rows, owners, len(points))
    _soft_shift_ends(carers, visits, travel)
    weights = ObjectiveWeights.hhcrsp().model_copy(update={"past_shift_end": ObjectiveWeights.hhcrsp().travel})
    return validate_problem(
        {
            "name": problem_name,
            "skills": skills,
            "locations": locations,
            "carers": carers,
            "clients": clients,
            "visits": visits,
            "travel": [{"mode": "drive", "minutes": travel}],
            "weights": weights.model_dump(),
        },
        source,
    )


def _soft_shift_ends(carers: list[dict[str, Any]], visits: list[dict[str, Any]], travel: np.ndarray) -> None:
    """The formulation's shift end is soft and unbounded: each shift may run on (at a cost
    per minute, ``past_shift_end``) until one carer could have done every service, each as
    early as its window allows, with the longest journey before each and home after. That
    bounds the day for the search without ruling out a plan the formulation allows."""
    longest_leg = float(travel.max(initial=0.0))
    opens = max((v["window"]["start"] for v in visits), default=0.0)
    work = 0.0
    for v in visits:
        durations = [part["duration"] for part in v["parts"]] if v.get("parts") else [v["duration"]]
        work += sum(durations) + len(durations) * longest_leg
        sync = v.get("synchronisation") or {}
        work += sync.get("max_gap") or 0.0
    for carer in carers:
        for shift in carer["shifts"]:
            shift["latest_end"] = max(opens, shift["end"]) + work + longest_leg


class _Fields:
    """Typed look-ups into the parsed JSON; each failure is an InputError naming the field."""

    def __init__(self, source: str | None):
        self.source = source

    def fail(self, field: str, reason: str) -> InputError:
        return InputError(field, reason, self.source)

    def known(self, obj: dict[str, Any], keys: set[str], where: str) -> None:
        for key in obj:
            if key not in keys:
                raise self.fail(
                    f"{where}{key}",
                    f"not supported by this reader (known: {', '.join(sorted(keys))}); "
                    "reading on would drop what it says",
                )

    def listed(self, obj: dict[str, Any], key: str, where: str) -> list[Any]:
        field = f"{where}{key}"
        if key not in obj:
            raise self.fail(field, "missing")
        value = obj[key]
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, found {_kind(value)}")
        return value

    def item(self, items: list[Any], i: int, where: str) -> dict[str, Any]:
        value = items[i]
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, found {_kind(value)}")
        return value

    def text(self, obj: dict[str, Any], key: str, where: str) -> str:
        if key not in obj:
            raise self.fail(f"{where}.{key}", "missing")
        value = obj[key]
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key}", f"expected a non-empty string, found {value!r}")
        return value

    def pair(self, obj: dict[str, Any], key: str, where: str) -> tuple[float, float]:
        if key not in obj:
            raise self.fail(f"{where}.{key}", "missing")
        value = obj[key]
        if not isinstance(value, list) or len(value) != 2:
            raise self.fail(f"{where}.{key}", f"expected a pair of numbers, found {value!r}")
        first = number(value[0], f"{where}.{key}[0]", self.source)
        return first, number(value[1], f"{where}.{key}[1]", self.source)

    def index(self, obj: dict[str, Any], where: str, default: int) -> int:
        if "distance_matrix_index" not in obj:
            return default
        value = number(obj["distance_matrix_index"], f"{where}.distance_matrix_index", self.source, integer=True)
        if value < 0:
            raise self.fail(f"{where}.distance_matrix_index", f"expected an index >= 0, found {value:g}")
        return int(value)


def _services(fields: _Fields, services: list[Any]) -> tuple[list[str], dict[str, float]]:
    skills: list[str] = []
    default_duration: dict[str, float] = {}
    for i in range(len(services)):
        where = f"services[{i}]"
        service = fields.item(services, i, where)
        fields.known(service, _SERVICE_KEYS, f"{where}.")
        sid = fields.text(service, "id", where)
        skills.append(sid)
        if "default_duration" in service:
            default_duration[sid] = number(service["default_duration"], f"{where}.default_duration", fields.source)
    return skills, default_duration


def _location(fields: _Fields, obj: dict[str, Any], lid: str, where: str) -> dict[str, Any]:
    """A place, with coordinates when the file gives them (longitude first)."""
    if "location" not in obj:
        return {"id": lid}
    lon, lat = fields.pair(obj, "location", where)
    return {"id": lid, "lat": lat, "lon": lon}


def _carer(fields: _Fields, caregivers: list[Any], i: int, point_row: dict[str, int]) -> dict[str, Any]:
    where = f"caregivers[{i}]"
    caregiver = fields.item(caregivers, i, where)
    fields.known(caregiver, _CAREGIVER_KEYS, f"{where}.")
    cid = fields.text(caregiver, "id", where)
    abilities = fields.listed(caregiver, "abilities", f"{where}.")
    for k, ability in enumerate(abilities):
        if not isinstance(ability, str):
            raise fields.fail(f"{where}.abilities[{k}]", f"expected a service id, found {ability!r}")
    point = fields.text(caregiver, "starting_point_id", where)
    if point not in point_row:
        raise fields.fail(f"{where}.starting_point_id", f"unknown departure point {point!r}")
    if "distance_matrix_index" in caregiver:
        row = fields.index(caregiver, where, default=point_row[point])
        if row != point_row[point]:
            raise fields.fail(
                f"{where}.distance_matrix_index",
                f"{row} is not the index of its departure point {point!r} ({point_row[point]})",
            )
    start, end = fields.pair(caregiver, "working_shift", where)
    return {
        "id": cid,
        "skills": list(dict.fromkeys(abilities)),
        "start_location": point,
        "shifts": [{"start": start, "end": end}],
        "travel_mode": "drive",
    }


def _banned(fields: _Fields, patient: dict[str, Any], where: str, carer_ids: set[str]) -> list[str]:
    if "incompatible_caregivers" not in patient:
        return []
    banned = fields.listed(patient, "incompatible_caregivers", f"{where}.")
    for k, cid in enumerate(banned):
        if cid not in carer_ids:
            raise fields.fail(f"{where}.incompatible_caregivers[{k}]", f"unknown caregiver {cid!r}")
    return list(dict.fromkeys(banned))


def _visit(
    fields: _Fields, patient: dict[str, Any], pid: str, where: str, default_duration: dict[str, float]
) -> dict[str, Any]:
    e, l = fields.pair(patient, "time_window", where)  # noqa: E741
    if l < e:
        raise fields.fail(f"{where}.time_window", f"ends at {l:g}, before it opens at {e:g}")
    required = fields.listed(patient, "required_caregivers", f"{where}.")
    if len(required) not in (1, 2):
        raise fields.fail(f"{where}.required_caregivers", f"expected 1 or 2 entries, found {len(required)}")
    parts = []
    for k in range(len(required)):
        entry_where = f"{where}.required_caregivers[{k}]"
        entry = fields.item(required, k, entry_where)
        service = fields.text(entry, "service", entry_where)
        if "duration" in entry:
            duration = number(entry["duration"], f"{entry_where}.duration", fields.source)
        elif service in default_duration:
            duration = default_duration[service]
        else:
            raise fields.fail(f"{entry_where}.duration", "missing (and the service has no default_duration)")
        parts.append((service, duration))
    return _patient_visit(pid, e, l, parts, patient, where, fields.source)


def _travel(fields: _Fields, distances: list[Any], rows: list[int], owners: list[str], points: int) -> np.ndarray:
    """``distances`` reordered so that row and column ``i`` are ``Problem.locations[i]``
    (whose entry in the file is ``owners[i]``)."""
    size = len(rows)
    if len(distances) != size:
        raise fields.fail(
            "distances",
            f"expected {size} x {size} ({points} departure points + {size - points} patients), "
            f"found {len(distances)} rows",
        )
    for r, row in enumerate(distances):
        if not isinstance(row, list) or len(row) != size:
            found = f"{len(row)} entries" if isinstance(row, list) else _kind(row)
            raise fields.fail(f"distances[{r}]", f"expected {size} entries, found {found}")
        if not all(type(value) in (int, float) for value in row):  # one pass; the slow path names the entry
            for c, value in enumerate(row):
                number(value, f"distances[{r}][{c}]", fields.source)
    matrix = np.array(distances, dtype=float)
    if not np.isfinite(matrix).all():
        r, c = (int(x) for x in np.argwhere(~np.isfinite(matrix))[0])
        raise fields.fail(f"distances[{r}][{c}]", f"expected a finite number, found {distances[r][c]!r}")
    seen: dict[int, str] = {}
    for row_index, where in zip(rows, owners, strict=True):
        field = f"{where}.distance_matrix_index"
        if row_index >= size:
            raise fields.fail(field, f"{row_index} is outside the {size} x {size} distances")
        if row_index in seen:
            raise fields.fail(field, f"{row_index} is already the index of {seen[row_index]}")
        seen[row_index] = where
    return matrix[np.ix_(rows, rows)]


# --------------------------------------------------------------------------- solutions


def uses_problem_ids(problem: Problem, data: Any) -> bool:
    """True when a solution in the iolab structure is to be read by the problem's own ids.

    That is when the problem is not numbered ``c1..cK``/``p1..pn`` in order (for those the two
    readings coincide, and the 2024 reader stays in charge) and every ``caregiver_id`` and
    ``patient`` of the file is a carer or client id of the problem. A 2024-numbered solution
    of a 2025 problem that names only ids the problem also has (a partial plan without the
    last carer and patient) would be misread: write 2025 plans with
    :func:`write_extended_solution`.
    """
    if not isinstance(data, dict) or not isinstance(data.get("routes"), list):
        return False
    carers = [c.id for c in problem.carers]
    clients = [c.id for c in problem.clients]
    if carers == [f"c{k + 1}" for k in range(len(carers))] and clients == [f"p{k + 1}" for k in range(len(clients))]:
        return False
    carer_ids, client_ids = set(carers), set(clients)
    for route in data["routes"]:
        if not isinstance(route, dict) or route.get("caregiver_id") not in carer_ids:
            return False
        stops = route.get("locations", [])
        if not isinstance(stops, list):
            return False
        if any(not isinstance(s, dict) or s.get("patient") not in client_ids for s in stops):
            return False
    return True


def read_extended_solution(problem: Problem, data: Any, source: str | None = None) -> Plan:
    """Turn a parsed 2025 solution (the problem's own caregiver and patient ids) into a Plan.

    A patient names the one visit of that client; the part of a double visit is the one whose
    skills hold the service. Travel, leave and return times come from the problem's matrices;
    visits not in the file are unassigned.
    """
    if not isinstance(data, dict) or not isinstance(data.get("routes"), list):
        raise InputError("routes", "expected a solution: an object with a list of routes", source)
    carer_number = {c.id: f"c{k + 1}" for k, c in enumerate(problem.carers)}
    client_number = {c.id: f"p{k + 1}" for k, c in enumerate(problem.clients)}
    routes = []
    routed: set[str] = set()
    for r, route in enumerate(data["routes"]):
        where = f"routes[{r}]"
        if not isinstance(route, dict):
            raise InputError(where, f"expected an object, found {_kind(route)}", source)
        cid = route.get("caregiver_id")
        if not isinstance(cid, str) or cid not in carer_number:
            raise InputError(f"{where}.caregiver_id", f"unknown caregiver {cid!r}", source)
        if cid in routed:
            raise InputError(f"{where}.caregiver_id", f"caregiver {cid!r} has a second route", source)
        routed.add(cid)
        stops = route.get("locations", [])
        if not isinstance(stops, list):
            raise InputError(f"{where}.locations", f"expected a list, found {_kind(stops)}", source)
        numbered = []
        for s, stop in enumerate(stops):
            if not isinstance(stop, dict):
                raise InputError(f"{where}.locations[{s}]", f"expected an object, found {_kind(stop)}", source)
            patient = stop.get("patient")
            if not isinstance(patient, str) or patient not in client_number:
                raise InputError(f"{where}.locations[{s}].patient", f"unknown patient {patient!r}", source)
            numbered.append({**stop, "patient": client_number[patient]})
        routes.append({**route, "caregiver_id": carer_number[cid], "locations": numbered})
    plan = read_iolab_solution(problem, {"routes": routes}, source=source)
    plan.solver.source = f"extended solution {source}" if source else "extended solution"
    return plan


def to_extended_solution(problem: Problem, plan: Plan) -> dict[str, Any]:
    """A Plan as a 2025 solution, named by the problem's own carer and client ids.

    Every carer gets a route (empty ones with no locations), in problem order;
    ``global_ordering`` lists the routed patients by their earliest start.
    """
    numbered = to_iolab_solution(problem, plan)
    carer_id = {f"c{k + 1}": c.id for k, c in enumerate(problem.carers)}
    client_id = {f"p{k + 1}": c.id for k, c in enumerate(problem.clients)}
    routes = [
        {
            "caregiver_id": carer_id[route["caregiver_id"]],
            "locations": [{**stop, "patient": client_id[stop["patient"]]} for stop in route["locations"]],
        }
        for route in numbered["routes"]
    ]
    ordering = [client_id[p] for p in numbered["global_ordering"]]
    return {"instance": problem.name, "routes": routes, "global_ordering": ordering}


def write_extended_solution(problem: Problem, plan: Plan, path: PathLike) -> None:
    """Write ``plan`` as a 2025 solution JSON (gzip-compressed when the name ends in ``.gz``)."""
    write_text(path, dump_json(to_extended_solution(problem, plan)))


# --------------------------------------------------------------------------- cost components


class ExtendedComponents(BaseModel):
    """The formulation's cost components of a plan, unweighted (minutes; services for balance)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    travel: float = Field(default=0.0, description="all travel, from and back to each carer's start")
    total_tardiness: float = Field(default=0.0, description="minutes services start after their window's end l")
    highest_tardiness: float = Field(default=0.0, description="the largest of those")
    total_waiting: float = Field(default=0.0, description="minutes carers wait between arriving and starting")
    max_idle: float = Field(default=0.0, description="the longest single wait")
    total_extra_time: float = Field(default=0.0, description="minutes carers get back after their shift's end")
    balance: int = Field(default=0, description="services per carer below the floor or above the ceiling of S/K")
    unserved: int = Field(default=0, description="carer-visits the plan leaves out (the formulation allows none)")


def extended_components(problem: Problem, plan: Plan) -> ExtendedComponents:
    """The five cost components of the 2025 formulation for ``plan``, as the authors' toolbox
    reports them (``Solution.compute_costs``), from the plan's times and the problem alone.

    It lives beside the format rather than the validator because it is the formulation's
    report, not our objective; like the validator it never calls the solver, so any plan
    (solved, imported, hand-made) of any problem can be scored.

    Per carer, visits in the plan's order: travel counts every leg from the start location
    and back to the end location; tardiness is ``start - target.end`` when positive, per
    carer-visit; waiting is ``start - (previous end + travel)`` when positive, not before the
    first visit (the carer leaves just in time); extra time is ``last end + travel home``
    beyond the end of the shift the last visit starts in (the toolbox, at the version read,
    adds the travel home to the arrival at the last patient instead; the README's "gets back"
    is followed here). Balance: with S services done by K carers, each carer's count below
    ``floor(S/K)`` or above ``ceil(S/K)``, summed over all carers of the problem.
    """
    visits = {v.id: v for v in problem.visits}
    carers = {c.id: c for c in problem.carers}
    places = problem.location_index()
    client_place = {c.id: places[c.location] for c in problem.clients}
    matrices: dict[TravelMode, np.ndarray] = {}
    travel = total_late = highest_late = total_wait = max_wait = extra = 0.0
    done: dict[str, int] = {c.id: 0 for c in problem.carers}
    served: set[tuple[str, int]] = set()
    for r, route in enumerate(plan.routes):
        carer = carers.get(route.carer)
        if carer is None:
            raise InputError(f"routes[{r}].carer", f"unknown carer {route.carer!r}")
        if not route.visits:
            continue
        if carer.travel_mode not in matrices:
            matrices[carer.travel_mode] = travel_matrix(problem, carer.travel_mode)
        minutes = matrices[carer.travel_mode]
        here = places[carer.start_location]
        previous_end: float | None = None
        for s, planned in enumerate(route.visits):
            visit = visits.get(planned.visit)
            if visit is None:
                raise InputError(f"routes[{r}].visits[{s}].visit", f"unknown visit {planned.visit!r}")
            there = client_place[visit.client]
            leg = float(minutes[here][there])
            travel += leg
            if previous_end is not None:
                wait = max(0.0, planned.start - (previous_end + leg))
                total_wait += wait
                max_wait = max(max_wait, wait)
            late = _tardiness(visit, planned.start)
            total_late += late
            highest_late = max(highest_late, late)
            served.add((visit.id, planned.part))
            here, previous_end = there, planned.end
        back = float(minutes[here][places[carer.home_end]])
        travel += back
        shift_end = _shift_end(carer, route.visits[-1].start)
        if previous_end is not None and shift_end is not None:
            extra += max(0.0, previous_end + back - shift_end)
        done[carer.id] += len(route.visits)
    return ExtendedComponents(
        travel=travel,
        total_tardiness=total_late,
        highest_tardiness=highest_late,
        total_waiting=total_wait,
        max_idle=max_wait,
        total_extra_time=extra,
        balance=_balance(list(done.values())),
        unserved=sum(v.carers_needed for v in problem.visits) - len(served),
    )


def _tardiness(visit: Visit, start: float) -> float:
    """Minutes ``start`` lies after the visit's target end (0 without one)."""
    if visit.target is None or visit.target.end is None:
        return 0.0
    return max(0.0, start - visit.target.end)


def _shift_end(carer: Carer, last_start: float) -> float | None:
    """The end of the shift the carer's last visit starts in (the latest one begun by then)."""
    begun = [s for s in carer.shifts if s.start <= last_start]
    if begun:
        return begun[-1].end
    return carer.shifts[0].end if carer.shifts else None


def _balance(counts: list[int]) -> int:
    """Services per carer beyond the floor and ceiling of the even share, summed."""
    if not counts:
        return 0
    total = sum(counts)
    low, high = total // len(counts), math.ceil(total / len(counts))
    return sum(max(0, low - n) + max(0, n - high) for n in counts)
