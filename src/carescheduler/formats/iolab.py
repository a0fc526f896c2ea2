"""The iolab JSON format of Ceschia et al. (2024): instances and solutions.

Instances (``.json``, ``.json.gz``; ``ceschia2024_italian/instances``) hold ``patients``,
``services``, ``caregivers``, one ``central_offices`` entry and an (n+1) x (n+1)
``distances`` matrix (index 0 the office, index k the k-th patient).

Mapping to a :class:`Problem`:

* locations: the office (``d1``) and the patients, with ``location = [lon, lat]``
  (longitude first, whatever the README says: Rome's office is ``[12.50, 41.91]``);
* skills: the service ids; carers: the caregivers with their abilities as skills, starting
  and ending at the office, one 0–1440 shift, driving;
* one client and one visit per patient (same id). One required caregiver gives
  ``skills=[service]`` and its duration; two give two parts in listed order (the first
  listed is part 0, the "first" of a sequential synchronisation) with
  ``duration = max`` of the two;
* ``window = [floor(e), open)``: some starts are stored as ``401.99999999999994`` and the
  published solutions start those services at 401, so the start is truncated;
  ``target = [floor(e), l]`` (lateness soft);
* travel: ``distances``; weights :meth:`ObjectiveWeights.hhcrsp`.

Solutions (``solutions_ceschia2024``) are ``{"routes": [{"caregiver_id": "c<k>",
"locations": [{"patient": "p<k>", "service": "s<k>", "arrival_time", "departure_time"}]}],
"global_ordering": [...]}``. ``c<k>`` is the k-th carer and ``p<k>`` the k-th client of the
problem (so any benchmark problem, also Mankowska and Solomon ones, can be exchanged).
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..domain import ObjectiveWeights, Problem, TravelMode, Visit
from ..errors import InputError
from ..plan import Plan, PlannedVisit, Route, SolverInfo, UnassignedVisit
from ..travel import travel_matrix
from ._io import PathLike, dump_json, number, parse_json, read_text, stem_of, validate_problem, write_text

__all__ = [
    "is_iolab_solution",
    "problem_from_iolab",
    "read_iolab",
    "read_iolab_solution",
    "to_iolab_solution",
    "write_iolab_solution",
]

UNROUTED_REASON = "not in the solution file"

# Keys of the instances read here; others (e.g. of the 2025 "extended" set, read by
# .extended) carry constraints this reader would silently drop, so they are refused.
_TOP_KEYS = {"name", "area", "distances", "central_offices", "patients", "caregivers", "services"}
_PATIENT_KEYS = {"id", "location", "time_window", "required_caregivers", "synchronization"}
_CAREGIVER_KEYS = {"id", "abilities"}


# --------------------------------------------------------------------------- instances


def read_iolab(path: PathLike) -> Problem:
    """Read an iolab instance file; the problem is named after the file stem."""
    source = str(path)
    return problem_from_iolab(parse_json(read_text(path), source), name=stem_of(path), source=source)


def problem_from_iolab(data: Any, name: str | None = None, source: str | None = None) -> Problem:
    """Build a Problem from a parsed iolab instance (a dict)."""
    if not isinstance(data, dict):
        raise InputError(
            "", f"expected a JSON object with patients, services, caregivers, ..., found {_kind(data)}", source
        )

    def listed(key: str, obj: dict[str, Any] = data, where: str = "") -> list[Any]:
        field = f"{where}{key}"
        if key not in obj:
            raise InputError(field, "missing", source)
        value = obj[key]
        if not isinstance(value, list):
            raise InputError(field, f"expected a list, found {_kind(value)}", source)
        return value

    def obj_at(items: list[Any], i: int, key: str) -> dict[str, Any]:
        item = items[i]
        if not isinstance(item, dict):
            raise InputError(f"{key}[{i}]", f"expected an object, found {_kind(item)}", source)
        return item

    def text(obj: dict[str, Any], key: str, where: str) -> str:
        if key not in obj:
            raise InputError(f"{where}.{key}", "missing", source)
        value = obj[key]
        if not isinstance(value, str) or not value:
            raise InputError(f"{where}.{key}", f"expected a non-empty string, found {value!r}", source)
        return value

    def pair(obj: dict[str, Any], key: str, where: str) -> tuple[float, float]:
        if key not in obj:
            raise InputError(f"{where}.{key}", "missing", source)
        value = obj[key]
        if not isinstance(value, list) or len(value) != 2:
            raise InputError(f"{where}.{key}", f"expected a pair of numbers, found {value!r}", source)
        return number(value[0], f"{where}.{key}[0]", source), number(value[1], f"{where}.{key}[1]", source)

    _known_keys(data, _TOP_KEYS, "", source)
    patients = listed("patients")
    services = listed("services")
    caregivers = listed("caregivers")
    offices = listed("central_offices")
    distances = listed("distances")
    if len(offices) != 1:
        raise InputError("central_offices", f"expected exactly one office, found {len(offices)}", source)

    skills: list[str] = []
    default_duration: dict[str, float] = {}
    for i in range(len(services)):
        service = obj_at(services, i, "services")
        sid = text(service, "id", f"services[{i}]")
        skills.append(sid)
        if "default_duration" in service:
            default_duration[sid] = number(service["default_duration"], f"services[{i}].default_duration", source)

    office = obj_at(offices, 0, "central_offices")
    office_id = text(office, "id", "central_offices[0]")
    lon, lat = pair(office, "location", "central_offices[0]")
    locations: list[dict[str, Any]] = [{"id": office_id, "lat": lat, "lon": lon}]
    clients: list[dict[str, Any]] = []
    visits: list[dict[str, Any]] = []
    for i in range(len(patients)):
        where = f"patients[{i}]"
        patient = obj_at(patients, i, "patients")
        _known_keys(patient, _PATIENT_KEYS, f"{where}.", source)
        pid = text(patient, "id", where)
        lon, lat = pair(patient, "location", where)
        locations.append({"id": pid, "lat": lat, "lon": lon})
        clients.append({"id": pid, "location": pid})
        e, l = pair(patient, "time_window", where)  # noqa: E741
        start = float(math.floor(e))  # see the module docstring: 401.99999999999994 means 401
        required = listed("required_caregivers", patient, f"{where}.")
        if len(required) not in (1, 2):
            raise InputError(f"{where}.required_caregivers", f"expected 1 or 2 entries, found {len(required)}", source)
        parts = []
        for k in range(len(required)):
            entry_where = f"{where}.required_caregivers[{k}]"
            entry = required[k]
            if not isinstance(entry, dict):
                raise InputError(entry_where, f"expected an object, found {_kind(entry)}", source)
            service_id = text(entry, "service", entry_where)
            if "duration" in entry:
                duration = number(entry["duration"], f"{entry_where}.duration", source)
            elif service_id in default_duration:
                duration = default_duration[service_id]
            else:
                raise InputError(f"{entry_where}.duration", "missing (and the service has no default_duration)", source)
            parts.append((service_id, duration))
        visits.append(_patient_visit(pid, start, l, parts, patient, where, source))

    carers = []
    for i in range(len(caregivers)):
        caregiver = obj_at(caregivers, i, "caregivers")
        _known_keys(caregiver, _CAREGIVER_KEYS, f"caregivers[{i}].", source)
        cid = text(caregiver, "id", f"caregivers[{i}]")
        abilities = listed("abilities", caregiver, f"caregivers[{i}].")
        for k, ability in enumerate(abilities):
            if not isinstance(ability, str):
                raise InputError(f"caregivers[{i}].abilities[{k}]", f"expected a service id, found {ability!r}", source)
        carers.append(
            {
                "id": cid,
                "skills": list(dict.fromkeys(abilities)),
                "start_location": office_id,
                "shifts": [{"start": 0, "end": 1440}],
                "travel_mode": "drive",
            }
        )

    size = len(patients) + 1
    if len(distances) != size:
        raise InputError(
            "distances",
            f"expected {size} x {size} (office + {len(patients)} patients), found {len(distances)} rows",
            source,
        )
    matrix = []
    for r, row in enumerate(distances):
        if not isinstance(row, list) or len(row) != size:
            found = f"{len(row)} entries" if isinstance(row, list) else _kind(row)
            raise InputError(
                f"distances[{r}]", f"expected {size} entries (office + {len(patients)} patients), found {found}", source
            )
        matrix.append([number(value, f"distances[{r}][{c}]", source) for c, value in enumerate(row)])

    problem_name = name or (data.get("name") if isinstance(data.get("name"), str) and data.get("name") else "iolab")
    return validate_problem(
        {
            "name": problem_name,
            "skills": skills,
            "locations": locations,
            "carers": carers,
            "clients": clients,
            "visits": visits,
            "travel": [{"mode": "drive", "minutes": matrix}],
            "weights": ObjectiveWeights.hhcrsp().model_dump(),
        },
        source,
    )


def _patient_visit(
    pid: str, start: float, due: float, parts: list[tuple[str, float]], patient: dict, where: str, source: str | None
) -> dict[str, Any]:
    """A patient's visit (the 2024 and 2025 formats alike): no start before ``start``,
    tardiness after ``due``; one service, or two carers' parts (``(service, duration)``)
    synchronised as the patient says."""
    visit: dict[str, Any] = {
        "id": pid,
        "client": pid,
        "window": {"start": start, "end": None},
        "target": {"start": start, "end": due},
    }
    if len(parts) == 1:
        visit.update(duration=parts[0][1], skills=[parts[0][0]])
    else:
        visit.update(
            duration=max(d for _, d in parts),
            carers_needed=2,
            skills=[],
            parts=[{"skills": [s], "duration": d} for s, d in parts],
            synchronisation=_synchronisation(patient, where, source),
        )
    return visit


def _synchronisation(patient: dict[str, Any], where: str, source: str | None) -> dict[str, Any]:
    field = f"{where}.synchronization"
    sync = patient.get("synchronization")
    if sync is None:
        raise InputError(field, "missing (required when two caregivers are required)", source)
    if not isinstance(sync, dict):
        raise InputError(field, f"expected an object, found {_kind(sync)}", source)
    kind = sync.get("type")
    if kind == "simultaneous":
        return {"kind": "simultaneous"}
    if kind == "sequential":
        gap = sync.get("distance")
        if not isinstance(gap, list) or len(gap) != 2:
            raise InputError(f"{field}.distance", f"expected [min_gap, max_gap], found {gap!r}", source)
        low = number(gap[0], f"{field}.distance[0]", source)
        high = number(gap[1], f"{field}.distance[1]", source)
        if high < low:
            raise InputError(f"{field}.distance", f"max gap {high:g} is below min gap {low:g}", source)
        return {"kind": "sequential", "min_gap": low, "max_gap": high}
    raise InputError(f"{field}.type", f"expected 'simultaneous' or 'sequential', found {kind!r}", source)


# --------------------------------------------------------------------------- solutions


def is_iolab_solution(data: Any) -> bool:
    """True for a parsed iolab solution (a ``routes`` entry has ``caregiver_id``)."""
    if not isinstance(data, dict) or not isinstance(data.get("routes"), list):
        return False
    if "global_ordering" in data:
        return True
    return any(isinstance(r, dict) and "caregiver_id" in r for r in data["routes"])


def read_iolab_solution(problem: Problem, data: Any, source: str | None = None) -> Plan:
    """Turn a parsed iolab solution into a Plan of ``problem``.

    ``c<k>`` names the k-th carer and ``p<k>`` the k-th client (whose one visit is meant);
    the part of a double visit is the one whose skills hold the service. Travel, leave and
    return times come from the problem's matrices; visits not in the file are unassigned.
    """
    if not isinstance(data, dict) or not isinstance(data.get("routes"), list):
        raise InputError("routes", "expected an iolab solution: an object with a list of routes", source)
    visit_of_patient = _visits_by_patient(problem)
    location_index = problem.location_index()
    matrices: dict[TravelMode, Any] = {}
    taken: dict[str, list[tuple[int, str]]] = {}  # visit id -> [(part, carer)]
    routes: list[Route] = []
    seen_carers: set[str] = set()
    for r, entry in enumerate(data["routes"]):
        where = f"routes[{r}]"
        if not isinstance(entry, dict):
            raise InputError(where, f"expected an object, found {_kind(entry)}", source)
        carer = _carer_of(problem, entry.get("caregiver_id"), f"{where}.caregiver_id", source)
        if carer.id in seen_carers:
            raise InputError(f"{where}.caregiver_id", f"caregiver {entry['caregiver_id']!r} has a second route", source)
        seen_carers.add(carer.id)
        stops = entry.get("locations", [])
        if not isinstance(stops, list):
            raise InputError(f"{where}.locations", f"expected a list, found {_kind(stops)}", source)
        if carer.travel_mode not in matrices:
            matrices[carer.travel_mode] = travel_matrix(problem, carer.travel_mode)
        minutes = matrices[carer.travel_mode]
        here = location_index[carer.start_location]
        planned: list[PlannedVisit] = []
        for s, stop in enumerate(stops):
            stop_where = f"{where}.locations[{s}]"
            if not isinstance(stop, dict):
                raise InputError(stop_where, f"expected an object, found {_kind(stop)}", source)
            for key in ("patient", "service", "arrival_time", "departure_time"):
                if key not in stop:
                    raise InputError(f"{stop_where}.{key}", "missing", source)
            patient = stop["patient"]
            if not isinstance(patient, str) or patient not in visit_of_patient:
                raise InputError(
                    f"{stop_where}.patient",
                    f"unknown patient {patient!r} (expected p1..p{len(problem.clients)})",
                    source,
                )
            visit = visit_of_patient[patient]
            if visit is None:
                raise InputError(
                    f"{stop_where}.patient",
                    f"client of patient {patient!r} has several visits; cannot tell which is meant",
                    source,
                )
            part = _part_of(visit, stop["service"], taken.get(visit.id, []), f"{stop_where}.service", source)
            start = number(stop["arrival_time"], f"{stop_where}.arrival_time", source)
            end = number(stop["departure_time"], f"{stop_where}.departure_time", source)
            there = location_index[problem.client(visit.client).location]
            planned.append(
                PlannedVisit(
                    visit=visit.id,
                    part=part,
                    client=visit.client,
                    start=start,
                    end=end,
                    travel_before=float(minutes[here][there]),
                )
            )
            taken.setdefault(visit.id, []).append((part, carer.id))
            here = there
        route = Route(carer=carer.id, visits=planned)
        if planned:
            back = float(minutes[here][location_index[carer.home_end]])
            route.travel_minutes = sum(p.travel_before for p in planned) + back
            route.working_minutes = route.travel_minutes + sum(p.end - p.start for p in planned)
            route.leave_home = planned[0].start - planned[0].travel_before
            route.return_home = planned[-1].end + back
        routes.append(route)

    for route in routes:
        for pv in route.visits:
            others = [c for _, c in taken[pv.visit] if c != route.carer]
            if others:
                pv.partner = others[0]
    unassigned = [UnassignedVisit(visit=v.id, reason=UNROUTED_REASON) for v in problem.visits if v.id not in taken]
    return Plan(
        problem=problem.name,
        routes=routes,
        unassigned=unassigned,
        solver=SolverInfo(status="imported", source=f"iolab solution {source}" if source else "iolab solution"),
    )


def to_iolab_solution(problem: Problem, plan: Plan) -> dict[str, Any]:
    """A Plan as an iolab solution: ``c<k>`` = k-th carer, ``p<k>`` = k-th client.

    Every carer of the problem gets a route (empty ones with no locations), in problem
    order; ``global_ordering`` lists the routed patients by their earliest start.
    """
    carer_index = {c.id: k for k, c in enumerate(problem.carers)}
    client_index = {c.id: k for k, c in enumerate(problem.clients)}
    visits = {v.id: v for v in problem.visits}
    per_client: dict[str, int] = {}
    for v in problem.visits:
        per_client[v.client] = per_client.get(v.client, 0) + 1
    stops: dict[str, list[dict[str, Any]]] = {c.id: [] for c in problem.carers}
    first_start: dict[str, float] = {}
    for r, route in enumerate(plan.routes):
        if route.carer not in carer_index:
            raise InputError(f"routes[{r}].carer", f"unknown carer {route.carer!r}")
        for s, pv in enumerate(route.visits):
            where = f"routes[{r}].visits[{s}]"
            visit = visits.get(pv.visit)
            if visit is None:
                raise InputError(f"{where}.visit", f"unknown visit {pv.visit!r}")
            if per_client[visit.client] > 1:
                raise InputError(
                    f"{where}.visit",
                    f"client {visit.client!r} has several visits; the iolab format names a visit by its patient",
                )
            if pv.part >= visit.carers_needed:
                raise InputError(f"{where}.part", f"visit {visit.id!r} has no part {pv.part}")
            patient = f"p{client_index[visit.client] + 1}"
            skills = visit.part_skills(pv.part)
            stops[route.carer].append(
                {
                    "patient": patient,
                    "service": skills[0] if skills else "s1",
                    "arrival_time": pv.start,
                    "departure_time": pv.end,
                }
            )
            first_start[patient] = min(pv.start, first_start.get(patient, math.inf))
    routes = [{"caregiver_id": f"c{carer_index[c.id] + 1}", "locations": stops[c.id]} for c in problem.carers]
    ordering = sorted(first_start, key=lambda p: (first_start[p], int(p[1:])))
    return {"routes": routes, "global_ordering": ordering}


def write_iolab_solution(problem: Problem, plan: Plan, path: PathLike) -> None:
    """Write ``plan`` as an iolab solution JSON (gzip-compressed when the name ends in ``.gz``)."""
    write_text(path, dump_json(to_iolab_solution(problem, plan)))


# --------------------------------------------------------------------------- helpers

_NUMBERED = re.compile(r"^([cp])([1-9][0-9]*)$")


def _visits_by_patient(problem: Problem) -> dict[str, Visit | None]:
    """``p<k>`` -> the visit of the k-th client (None when the client has several)."""
    by_client: dict[str, list[Visit]] = {}
    for v in problem.visits:
        by_client.setdefault(v.client, []).append(v)
    result: dict[str, Visit | None] = {}
    for k, client in enumerate(problem.clients):
        own = by_client.get(client.id, [])
        if own:
            result[f"p{k + 1}"] = own[0] if len(own) == 1 else None
    return result


def _carer_of(problem: Problem, value: Any, field: str, source: str | None):
    match = _NUMBERED.match(value) if isinstance(value, str) else None
    if match is None or match.group(1) != "c" or int(match.group(2)) > len(problem.carers):
        raise InputError(field, f"unknown caregiver {value!r} (expected c1..c{len(problem.carers)})", source)
    return problem.carers[int(match.group(2)) - 1]


def _part_of(visit: Visit, service: Any, taken: list[tuple[int, str]], field: str, source: str | None) -> int:
    if not isinstance(service, str):
        raise InputError(field, f"expected a service id, found {service!r}", source)
    parts = range(visit.carers_needed)
    skilled = [p for p in parts if visit.part_skills(p)]
    candidates = [p for p in parts if service in visit.part_skills(p)] if skilled else list(parts)
    if not candidates:
        offered = sorted({s for p in parts for s in visit.part_skills(p)})
        raise InputError(
            field, f"visit {visit.id!r} does not require service {service!r} (it requires {', '.join(offered)})", source
        )
    used = {p for p, _ in taken}
    free = [p for p in candidates if p not in used]
    if not free:
        raise InputError(field, f"service {service!r} of visit {visit.id!r} is routed more than once", source)
    return free[0]


def _known_keys(obj: dict[str, Any], known: set[str], where: str, source: str | None) -> None:
    for key in obj:
        if key not in known:
            raise InputError(
                f"{where}{key}",
                f"not supported by this reader (known: {', '.join(sorted(known))}); "
                "files of the 2025 'extended' set are read with format 'extended'",
                source,
            )


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )
