"""The 2025 unified HHCRSP format (Ceschia, Di Gaspero, Schaerf): detection, the instance
mapping, solutions both ways, and the formulation's cost components.

Runs on ``fixtures/benchmarks/small-000-...`` (20 patients, 7 caregivers) and on a tiny
instance written out below; the check over all 49 shared instances is skipped when
``../shared/benchmarks/extended2025`` is absent.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

import carescheduler
from carescheduler import InputError, ObjectiveWeights, Problem
from carescheduler.formats import (
    detect_format,
    extended_components,
    problem_from_extended,
    read_extended_solution,
    read_plan,
    read_problem,
    to_extended_solution,
    write_extended_solution,
    write_problem,
)
from carescheduler.plan import Plan, PlannedVisit, Route, UnassignedVisit
from conftest import BENCHMARK_SAMPLES, SHARED_BENCHMARKS

SMALL = BENCHMARK_SAMPLES / "small-000-cesena-p20-d4-i0.25-pt0.74-0.07-0.19-c5-6-4-5.json.gz"
ITALIAN = BENCHMARK_SAMPLES / "instance_003-rome-r19-p44-s4-sim22.3-seq22.9.json.gz"
MANKOWSKA = BENCHMARK_SAMPLES / "InstanzCPLEX_HCSRP_10_1.txt.gz"
SHARED_SET = SHARED_BENCHMARKS / "extended2025" / "instances"


def gz_json(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def data() -> dict:
    return gz_json(SMALL)


@pytest.fixture(scope="module")
def small() -> Problem:
    return read_problem(SMALL)


@pytest.fixture(scope="module")
def solved(small: Problem) -> Plan:
    return carescheduler.solve(small, time_limit=5, seed=0, max_iterations=50)


def _error(func, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        func(*args, **kwargs)
    return info.value


def _row_of(data: dict) -> dict[str, int]:
    """The distances row of each place, by the README's rules (an index given wins)."""
    points = data["departing_points"]
    rows = {p["id"]: p.get("distance_matrix_index", i) for i, p in enumerate(points)}
    rows.update({p["id"]: p.get("distance_matrix_index", len(points) + i) for i, p in enumerate(data["patients"])})
    return rows


# --------------------------------------------------------------------------- detection


def test_detect_format(tmp_path: Path, small: Problem) -> None:
    assert detect_format(SMALL) == "extended"
    plain = tmp_path / SMALL.name.removesuffix(".gz")  # the same stem: the same problem name
    plain.write_text(json.dumps(gz_json(SMALL)))
    assert detect_format(plain) == "extended"
    assert read_problem(plain, format="extended") == read_problem(plain) == small
    # The neighbours keep their formats: a 2024 instance and a native problem.
    assert detect_format(ITALIAN) == "iolab"
    write_problem(small, tmp_path / "native.json")
    assert detect_format(tmp_path / "native.json") == "native"
    assert read_problem(tmp_path / "native.json") == small


def test_an_extended_file_read_as_iolab_is_refused_with_a_pointer(tmp_path: Path) -> None:
    plain = tmp_path / "small.json"
    plain.write_text(json.dumps(gz_json(SMALL)))
    err = _error(read_problem, plain, format="iolab")
    assert err.field == "departing_points" and "format 'extended'" in err.reason


# --------------------------------------------------------------------------- the instance mapping


def test_counts(small: Problem, data: dict) -> None:
    assert small.name == SMALL.name.removesuffix(".json.gz")
    assert len(small.carers) == len(data["caregivers"]) == 7
    assert len(small.clients) == len(small.visits) == len(data["patients"]) == 20
    assert [x.id for x in small.locations] == [p["id"] for p in data["departing_points"] + data["patients"]]
    doubles = {p["id"] for p in data["patients"] if len(p["required_caregivers"]) == 2}
    assert {v.id for v in small.visits if v.carers_needed == 2} == doubles and len(doubles) == 8
    incompatible = {p["id"]: p.get("incompatible_caregivers", []) for p in data["patients"]}
    assert {c.id: c.banned_carers for c in small.clients} == incompatible
    assert sum(len(c.banned_carers) for c in small.clients) == 2
    assert small.skills == [s["id"] for s in data["services"]]
    # the published thirds, and extra time (past a shift's end) a third as well
    assert small.weights == ObjectiveWeights.hhcrsp().model_copy(update={"past_shift_end": 1 / 3})


def test_carers_start_and_end_at_their_departure_point(small: Problem, data: dict) -> None:
    points = {p["id"]: p["location"] for p in data["departing_points"]}
    for carer, caregiver in zip(small.carers, data["caregivers"], strict=True):
        assert carer.id == caregiver["id"]
        assert carer.skills == caregiver["abilities"]
        assert carer.start_location == carer.home_end == caregiver["starting_point_id"]
        assert [(s.start, s.end) for s in carer.shifts] == [tuple(caregiver["working_shift"])]
        # soft: the carer may finish late enough for any patient's latest start and service
        latest = max(p["time_window"][1] for p in data["patients"])
        assert all(s.latest_end is not None and s.latest_end > latest for s in carer.shifts)
        place = small.locations[small.location_index()[carer.start_location]]
        assert [place.lon, place.lat] == points[caregiver["starting_point_id"]]


def test_visits_windows_durations_and_synchronisation(small: Problem, data: dict) -> None:
    default = {s["id"]: s["default_duration"] for s in data["services"]}
    for visit, patient in zip(small.visits, data["patients"], strict=True):
        e, l = patient["time_window"]  # noqa: E741
        assert (visit.window.start, visit.window.end) == (e, None)  # starting before e is forbidden
        assert (visit.target.start, visit.target.end) == (e, l)  # after l is tardiness
        required = patient["required_caregivers"]
        services = [r["service"] for r in required]
        durations = [r.get("duration", default[r["service"]]) for r in required]
        assert [visit.part_skills(k) for k in range(visit.carers_needed)] == [[s] for s in services]
        assert [visit.part_duration(k) for k in range(visit.carers_needed)] == durations
        place = small.locations[small.location_index()[visit.client]]
        assert [place.lon, place.lat] == patient["location"]
        sync = patient.get("synchronization")
        if sync is None:
            assert visit.synchronisation is None
        elif sync["type"] == "simultaneous":
            assert visit.synchronisation.kind == "simultaneous"
        else:
            low, high = sync["distance"]
            assert (visit.synchronisation.kind, visit.synchronisation.min_gap, visit.synchronisation.max_gap) == (
                "sequential",
                low,
                high,
            )
    kinds = [v.synchronisation.kind for v in small.visits if v.synchronisation]
    assert kinds.count("simultaneous") == 4 and kinds.count("sequential") == 4


def test_travel_follows_the_distance_matrix_index(small: Problem, data: dict) -> None:
    rows = _row_of(data)
    index = small.location_index()
    minutes = small.travel[0].minutes
    # A few entries picked from the file, by name: departure point to patient, patient to
    # departure point, patient to patient (the matrix is asymmetric).
    first, last = data["patients"][0]["id"], data["patients"][-1]["id"]
    point = data["caregivers"][0]["starting_point_id"]
    for a, b in [(point, first), (first, point), (first, last), (last, first)]:
        assert minutes[index[a]][index[b]] == data["distances"][rows[a]][rows[b]]
    # And every other one.
    for a in index:
        for b in index:
            assert minutes[index[a]][index[b]] == data["distances"][rows[a]][rows[b]]


def test_the_problem_is_valid_for_the_domain(small: Problem) -> None:
    assert Problem.model_validate(small.model_dump()) == small
    assert Problem.model_validate_json(small.model_dump_json()) == small


def test_index_defaults_and_explicit_indices() -> None:
    problem = problem_from_extended(TINY)
    minutes = problem.travel[0].minutes
    index = problem.location_index()
    assert list(index) == ["d0", "d1", "pA", "pB", "pC"]
    for a, b in [("d0", "pA"), ("pA", "d0"), ("d1", "pC"), ("pC", "d1"), ("pC", "pB"), ("d0", "d1")]:
        assert minutes[index[a]][index[b]] == TRAVEL[a, b]
    # Without any index: departure points first, then patients, in listed order.
    plain = copy.deepcopy(TINY)
    for patient in plain["patients"]:
        del patient["distance_matrix_index"]
    order = ["d0", "d1", "pA", "pB", "pC"]
    plain["distances"] = [[TRAVEL.get((a, b), 0) for b in order] for a in order]
    assert problem_from_extended(plain).travel == problem.travel


# --------------------------------------------------------------------------- bad input


def test_bad_instances_name_the_field() -> None:
    def broken(change) -> InputError:
        data = copy.deepcopy(TINY)
        change(data)
        return _error(problem_from_extended, data)

    assert broken(lambda d: d.pop("departing_points")).field == "departing_points"
    err = broken(lambda d: d["caregivers"][0].update(starting_point_id="d9"))
    assert err.field == "caregivers[0].starting_point_id" and "d9" in err.reason
    err = broken(lambda d: d["caregivers"][1].update(distance_matrix_index=0))
    assert err.field == "caregivers[1].distance_matrix_index"
    err = broken(lambda d: d["patients"][0].update(incompatible_caregivers=["c7"]))
    assert err.field == "patients[0].incompatible_caregivers[0]"
    err = broken(lambda d: d["patients"][1].update(distance_matrix_index=4))
    assert err.field == "patients[1].distance_matrix_index" and "already the index of patients[0]" in err.reason
    err = broken(lambda d: d["departing_points"][0].update(distance_matrix_index=5))
    assert err.field == "departing_points[0].distance_matrix_index" and "outside" in err.reason
    err = broken(lambda d: d["distances"].pop())
    assert err.field == "distances" and "expected 5 x 5" in err.reason
    err = broken(lambda d: d["distances"][2].__setitem__(3, "far"))
    assert err.field == "distances[2][3]"
    err = broken(lambda d: d["patients"][2].update(preferences=["c0"]))
    assert err.field == "patients[2].preferences" and "not supported" in err.reason
    err = broken(lambda d: d["patients"][2].pop("synchronization"))
    assert err.field == "patients[2].synchronization"

    def no_duration(d: dict) -> None:
        d["patients"][1]["required_caregivers"][0].pop("duration")
        d["services"][1].pop("default_duration")

    err = broken(no_duration)
    assert err.field == "patients[1].required_caregivers[0].duration" and "no default_duration" in err.reason
    err = broken(lambda d: d["caregivers"][0].update(working_shift=[100, 50]))
    assert err.field.startswith("carers") and "shift end" in err.reason


# --------------------------------------------------------------------------- solving and solutions


def test_a_short_solve_gives_a_valid_plan(small: Problem, solved: Plan) -> None:
    report = carescheduler.validate(small, solved)
    assert report.valid, report.violations
    assert solved.routes and any(r.visits for r in solved.routes)


def test_solution_format(small: Problem, solved: Plan, data: dict) -> None:
    solution = to_extended_solution(small, solved)
    assert solution["instance"] == small.name
    assert [r["caregiver_id"] for r in solution["routes"]] == [c["id"] for c in data["caregivers"]]
    required = {(p["id"], r["service"]) for p in data["patients"] for r in p["required_caregivers"]}
    written = [(s["patient"], s["service"]) for r in solution["routes"] for s in r["locations"]]
    assert set(written) <= required and len(written) == len(set(written))
    assert len(written) == sum(len(r.visits) for r in solved.routes)
    for route in solution["routes"]:
        for stop in route["locations"]:
            assert set(stop) == {"patient", "service", "arrival_time", "departure_time"}
            assert stop["arrival_time"] < stop["departure_time"]


@pytest.mark.parametrize("name", ["sol.json", "sol.json.gz"])
def test_solution_round_trip(tmp_path: Path, small: Problem, solved: Plan, name: str) -> None:
    write_extended_solution(small, solved, tmp_path / name)
    back = read_plan(small, tmp_path / name)
    assert back.solver.status == "imported" and "extended solution" in back.solver.source

    def times(plan: Plan) -> dict[str, list[tuple]]:
        return {
            r.carer: [(v.visit, v.part, v.start, v.end, v.partner) for v in r.visits] for r in plan.routes if r.visits
        }

    assert times(back) == times(solved)
    assert {u.visit for u in back.unassigned} == {u.visit for u in solved.unassigned}
    for route in back.routes:
        original = solved.route(route.carer)
        assert route.travel_minutes == pytest.approx(original.travel_minutes)
    assert carescheduler.validate(small, back).valid


def test_bad_solutions_name_the_field(small: Problem, solved: Plan) -> None:
    solution = to_extended_solution(small, solved)
    routed = next(r for r, route in enumerate(solution["routes"]) if route["locations"])

    def broken(change) -> InputError:
        data = copy.deepcopy(solution)
        change(data)
        return _error(read_extended_solution, small, data)

    err = broken(lambda d: d["routes"][0].update(caregiver_id="c99"))
    assert err.field == "routes[0].caregiver_id" and "c99" in err.reason
    err = broken(lambda d: d["routes"][1].update(caregiver_id=d["routes"][0]["caregiver_id"]))
    assert err.field == "routes[1].caregiver_id" and "second route" in err.reason
    err = broken(lambda d: d["routes"][routed]["locations"][0].update(patient="p99"))
    assert err.field == f"routes[{routed}].locations[0].patient"
    err = broken(lambda d: d["routes"][routed]["locations"][0].pop("departure_time"))
    assert err.field == f"routes[{routed}].locations[0].departure_time"


def test_2024_solutions_still_read_by_their_numbering(tmp_path: Path) -> None:
    """``c<k>``/``p<k>`` problems (2024, Mankowska) are read as before by read_plan."""
    problem = read_problem(MANKOWSKA)
    plan = Plan(problem=problem.name, routes=[Route(carer="c1", visits=[])])
    solution = to_extended_solution(problem, plan)
    assert [r["caregiver_id"] for r in solution["routes"]] == ["c1", "c2", "c3"]
    path = tmp_path / "sol.json"
    path.write_text(json.dumps(solution))
    assert "iolab solution" in read_plan(problem, path).solver.source


# --------------------------------------------------------------------------- cost components

# Two departure points, two caregivers, three patients. The patients' rows of the matrix are
# given out of order (pA is row 4, pB row 2, pC row 3) to exercise distance_matrix_index.
TRAVEL = {
    ("d0", "d1"): 20, ("d1", "d0"): 20,
    ("d0", "pA"): 5, ("pA", "d0"): 6,
    ("d0", "pB"): 15, ("pB", "d0"): 15,
    ("d0", "pC"): 4, ("pC", "d0"): 4,
    ("d1", "pA"): 11, ("pA", "d1"): 11,
    ("d1", "pB"): 9, ("pB", "d1"): 9,
    ("d1", "pC"): 7, ("pC", "d1"): 8,
    ("pA", "pB"): 10, ("pB", "pA"): 10,
    ("pA", "pC"): 3, ("pC", "pA"): 3,
    ("pB", "pC"): 12, ("pC", "pB"): 12,
}  # fmt: skip
_ROWS = ["d0", "d1", "pB", "pC", "pA"]
TINY = {
    "name": "tiny",
    "area": [0, 0, 1, 1],
    "distances": [[TRAVEL.get((a, b), 0) for b in _ROWS] for a in _ROWS],
    "departing_points": [{"id": "d0", "location": [12.0, 44.0]}, {"id": "d1", "location": [12.1, 44.1]}],
    "caregivers": [
        {"id": "c0", "abilities": ["s0", "s1"], "starting_point_id": "d0", "working_shift": [0, 100]},
        {"id": "c1", "abilities": ["s0", "s1"], "starting_point_id": "d1", "working_shift": [0, 200],
         "distance_matrix_index": 1},
    ],
    "patients": [
        {"id": "pA", "location": [12.2, 44.2], "time_window": [10, 30], "distance_matrix_index": 4,
         "required_caregivers": [{"service": "s0"}], "incompatible_caregivers": ["c1"]},
        {"id": "pB", "location": [12.3, 44.3], "time_window": [50, 60], "distance_matrix_index": 2,
         "required_caregivers": [{"service": "s1", "duration": 20}]},
        {"id": "pC", "location": [12.4, 44.4], "time_window": [0, 8], "distance_matrix_index": 3,
         "required_caregivers": [{"service": "s0"}, {"service": "s1", "duration": 15}],
         "synchronization": {"type": "simultaneous"}},
    ],
    "services": [
        {"id": "s0", "default_duration": 10, "type": "t0"},
        {"id": "s1", "default_duration": 20, "type": "t1"},
    ],
}  # fmt: skip


def _tiny_plan(with_pb: bool = True) -> Plan:
    c0 = [
        PlannedVisit(visit="pC", part=0, client="pC", start=10, end=20),
        PlannedVisit(visit="pA", part=0, client="pA", start=25, end=35),
    ]
    if with_pb:
        c0.append(PlannedVisit(visit="pB", part=0, client="pB", start=70, end=90))
    c1 = [PlannedVisit(visit="pC", part=1, client="pC", start=10, end=25)]
    unassigned = [] if with_pb else [UnassignedVisit(visit="pB", reason="left out by hand")]
    return Plan(
        problem="tiny", routes=[Route(carer="c0", visits=c0), Route(carer="c1", visits=c1)], unassigned=unassigned
    )


def test_components_worked_by_hand() -> None:
    problem = problem_from_extended(TINY)
    assert problem.visit("pA").duration == 10  # the service's default
    assert problem.client("pA").banned_carers == ["c1"]
    # c0 (d0, shift 0-100): d0 -4-> pC 10-20 -3-> pA (arrives 23) 25-35 -10-> pB (arrives 45) 70-90 -15-> d0 at 105.
    # c1 (d1, shift 0-200): d1 -7-> pC 10-25 -8-> d1 at 33 (leaving at 3, just in time: no wait).
    components = extended_components(problem, _tiny_plan())
    assert components.travel == (4 + 3 + 10 + 15) + (7 + 8)  # 47
    # pC (l = 8) starts at 10 for both carers: 2 + 2; pB (l = 60) at 70: 10; pA on time.
    assert components.total_tardiness == 2 + 2 + 10
    assert components.highest_tardiness == 10
    # c0 waits 25 - 23 = 2 at pA and 70 - 45 = 25 at pB; before a first visit nobody waits.
    assert components.total_waiting == 2 + 25
    assert components.max_idle == 25
    # c0 is back at 105, 5 after the shift's end; c1 at 33.
    assert components.total_extra_time == 5
    # 4 services for 2 carers: 2 each; c0 has 3 (1 above), c1 has 1 (1 below).
    assert components.balance == 2
    assert components.unserved == 0


def test_components_of_a_partial_plan() -> None:
    problem = problem_from_extended(TINY)
    # Without pB: c0 goes d0 -4-> pC 10-20 -3-> pA 25-35 -6-> d0 at 41; c1 as before.
    components = extended_components(problem, _tiny_plan(with_pb=False))
    assert components.travel == (4 + 3 + 6) + (7 + 8)
    assert (components.total_tardiness, components.highest_tardiness) == (4, 2)
    assert (components.total_waiting, components.max_idle) == (2, 2)
    assert components.total_extra_time == 0
    # 3 services for 2 carers: floor 1, ceiling 2; counts 2 and 1 are within.
    assert components.balance == 0
    assert components.unserved == 1


def test_components_agree_with_the_validator(small: Problem, solved: Plan) -> None:
    components = extended_components(small, solved)
    kpis = carescheduler.validate(small, solved).kpis
    assert components.travel == pytest.approx(kpis.travel_minutes)
    assert components.total_tardiness == pytest.approx(kpis.total_lateness)
    assert components.highest_tardiness == pytest.approx(kpis.max_lateness)
    parts = {(pv.visit, pv.part) for r in solved.routes for pv in r.visits}
    assert components.unserved == sum(v.carers_needed for v in small.visits) - len(parts)
    # extra time is the validator's minutes past the (soft) shift ends
    assert components.total_extra_time == pytest.approx(kpis.past_shift_end_minutes)
    # waiting and idle are the validator's unpaid gaps (one shift per carer, no breaks here)
    assert kpis.waiting_minutes > 0  # (the day's windows make carers wait: a real check)
    assert components.total_waiting == pytest.approx(kpis.waiting_minutes)
    assert components.max_idle == pytest.approx(kpis.max_wait_minutes)


# --------------------------------------------------------------------------- the shared set


def _shared_instances() -> list:
    files = sorted(SHARED_SET.glob("*.json.gz")) if SHARED_SET.is_dir() else []
    if not files:
        return [pytest.param(None, id="extended2025-absent")]
    return [pytest.param(path, id=path.name.split("-", 2)[0] + "-" + path.name.split("-", 2)[1]) for path in files]


@pytest.mark.parametrize("path", _shared_instances())
def test_every_shared_instance_builds_a_valid_problem(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"{SHARED_SET} not found (set CARESCHEDULER_BENCHMARKS)")
    data = gz_json(path)
    assert detect_format(path) == "extended"
    problem = read_problem(path)
    assert Problem.model_validate(problem.model_dump()) == problem
    assert len(problem.carers) == len(data["caregivers"])
    assert len(problem.visits) == len(data["patients"])
    doubles = sum(len(p["required_caregivers"]) == 2 for p in data["patients"])
    assert sum(v.carers_needed == 2 for v in problem.visits) == doubles
    banned = sum(len(p.get("incompatible_caregivers", [])) for p in data["patients"])
    assert sum(len(c.banned_carers) for c in problem.clients) == banned
