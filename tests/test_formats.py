"""File readers and writers: benchmark formats, native JSON, iolab solutions, bad input.

Runs on the small copies in ``fixtures/benchmarks`` (Mankowska A1 and its Ceschia et al.
solution, the smallest Italian instance and its solution, Solomon C101), so it does not
need the shared benchmark folder.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

from carescheduler import InputError, ObjectiveWeights, Problem
from carescheduler.formats import (
    detect_format,
    problem_from_iolab,
    problem_from_json,
    problem_from_mankowska,
    problem_from_solomon,
    problem_to_json,
    read_iolab_solution,
    read_plan,
    read_problem,
    to_iolab_solution,
    write_iolab_solution,
    write_plan,
    write_problem,
)
from carescheduler.plan import Plan, PlannedVisit, Route
from conftest import BENCHMARK_SAMPLES

FIXTURES = BENCHMARK_SAMPLES
MANKOWSKA = FIXTURES / "InstanzCPLEX_HCSRP_10_1.txt.gz"
MANKOWSKA_SOLUTION = FIXTURES / "sol-InstanzCPLEX_HCSRP_10_1-3825612719.json.gz"
ITALIAN = FIXTURES / "instance_003-rome-r19-p44-s4-sim22.3-seq22.9.json.gz"
ITALIAN_SOLUTION = FIXTURES / "sol-instance_003-rome-r19-p44-s4-sim22.3-seq22.9-2935111568.json.gz"
SOLOMON = FIXTURES / "c101.txt.gz"


def gz_text(path: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return handle.read()


def gz_json(path: Path) -> dict:
    return json.loads(gz_text(path))


@pytest.fixture(scope="module")
def mankowska() -> Problem:
    return read_problem(MANKOWSKA)


@pytest.fixture(scope="module")
def italian() -> Problem:
    return read_problem(ITALIAN)


@pytest.fixture(scope="module")
def solomon() -> Problem:
    return read_problem(SOLOMON)


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("path", "expected"),
    [(MANKOWSKA, "mankowska"), (ITALIAN, "iolab"), (SOLOMON, "solomon")],
)
def test_detect_format_of_fixtures(path: Path, expected: str) -> None:
    assert detect_format(path) == expected


def test_detect_format_plain_files(tmp_path: Path, mankowska: Problem) -> None:
    (tmp_path / "a.txt").write_text(gz_text(MANKOWSKA))
    (tmp_path / "c.txt").write_text(gz_text(SOLOMON))
    (tmp_path / "i.json").write_text(gz_text(ITALIAN))
    write_problem(mankowska, tmp_path / "n.json")
    assert detect_format(tmp_path / "a.txt") == "mankowska"
    assert detect_format(tmp_path / "c.txt") == "solomon"
    assert detect_format(tmp_path / "i.json") == "iolab"
    assert detect_format(tmp_path / "n.json") == "native"
    # An explicit format gives the same problem as detection.
    assert read_problem(tmp_path / "a.txt", format="mankowska") == read_problem(tmp_path / "a.txt")


# --------------------------------------------------------------------------- Mankowska


def test_mankowska_counts_and_ids(mankowska: Problem) -> None:
    assert mankowska.name == "InstanzCPLEX_HCSRP_10_1"
    assert mankowska.skills == [f"s{k}" for k in range(1, 7)]
    assert [x.id for x in mankowska.locations] == ["depot"] + [f"p{i}" for i in range(1, 11)]
    assert [c.id for c in mankowska.clients] == [f"p{i}" for i in range(1, 11)]
    assert [v.id for v in mankowska.visits] == [f"p{i}" for i in range(1, 11)]
    assert all(v.client == v.id for v in mankowska.visits)
    assert [c.id for c in mankowska.carers] == ["c1", "c2", "c3"]
    assert mankowska.weights == ObjectiveWeights.hhcrsp()


def test_mankowska_coordinates_and_carers(mankowska: Problem) -> None:
    depot = mankowska.locations[0]
    assert (depot.x, depot.y) == (85, 26)
    assert (mankowska.locations[10].x, mankowska.locations[10].y) == (0, 0)  # the last patient quirk
    carers = {c.id: c for c in mankowska.carers}
    assert carers["c1"].skills == ["s1", "s2", "s3"]
    assert carers["c2"].skills == ["s5", "s6"]
    assert carers["c3"].skills == ["s4", "s5", "s6"]
    for carer in mankowska.carers:
        assert carer.start_location == "depot" and carer.end_location is None
        assert [(s.start, s.end) for s in carer.shifts] == [(0, 1440)]
        assert carer.travel_mode.value == "drive"


def test_mankowska_single_visit(mankowska: Problem) -> None:
    p1 = mankowska.visit("p1")
    assert p1.carers_needed == 1 and p1.parts is None and p1.synchronisation is None
    assert p1.skills == ["s4"]
    assert p1.duration == 14
    assert (p1.window.start, p1.window.end) == (345, None)  # earliest start hard, no hard latest
    assert (p1.target.start, p1.target.end) == (345, 465)  # latest start soft


def test_mankowska_double_visits(mankowska: Problem) -> None:
    doubles = {v.id: v for v in mankowska.visits if v.carers_needed == 2}
    assert set(doubles) == {"p8", "p9", "p10"}  # DS = 11 10 9 (1-based nodes)
    p8, p9, p10 = doubles["p8"], doubles["p9"], doubles["p10"]
    # Part 0 is the lower service index.
    assert [part.skills for part in p8.parts] == [["s5"], ["s6"]]
    assert p8.skills == []
    assert [p8.part_duration(0), p8.part_duration(1)] == [14, 14]
    assert p8.synchronisation.kind == "simultaneous"  # mind = maxd = 0
    assert [part.skills for part in p9.parts] == [["s1"], ["s4"]]
    assert (p9.synchronisation.kind, p9.synchronisation.min_gap, p9.synchronisation.max_gap) == ("sequential", 51, 102)
    assert [part.skills for part in p10.parts] == [["s3"], ["s6"]]
    assert (p10.synchronisation.min_gap, p10.synchronisation.max_gap) == (8, 16)


def test_mankowska_travel_drops_the_end_depot(mankowska: Problem) -> None:
    assert len(mankowska.travel) == 1
    minutes = mankowska.travel[0].minutes
    assert len(minutes) == 11 and all(len(row) == 11 for row in minutes)
    assert minutes[0][1] == pytest.approx(38.470768)
    for i, a in enumerate(mankowska.locations):
        for j, b in enumerate(mankowska.locations):
            assert minutes[i][j] == minutes[j][i]
            assert minutes[i][j] == pytest.approx(math.hypot(a.x - b.x, a.y - b.y), abs=1e-5)


# --------------------------------------------------------------------------- iolab (Italian)


def test_italian_counts_and_coordinates(italian: Problem) -> None:
    assert italian.name == "instance_003-rome-r19-p44-s4-sim22.3-seq22.9"
    assert italian.skills == ["s1", "s2", "s3", "s4"]
    assert len(italian.locations) == 45 and len(italian.clients) == 44 and len(italian.visits) == 44
    assert len(italian.carers) == 8
    office = italian.locations[0]
    # ``location`` is [lon, lat]: Rome is at about 41.9 N, 12.5 E.
    assert (office.id, office.lat, office.lon) == ("d1", 41.9144, 12.5042)
    p1 = italian.locations[1]
    assert (p1.id, p1.lat, p1.lon) == ("p1", 41.8765, 12.5805)
    assert italian.carer("c1").skills == ["s4", "s3"]
    assert all(c.start_location == "d1" for c in italian.carers)
    assert italian.weights == ObjectiveWeights.hhcrsp()


def test_italian_windows_floor_quirk(italian: Problem) -> None:
    p12 = italian.visit("p12")  # stored as 433.99999999999994; published solutions start it at 433
    assert p12.window.start == 433 and p12.window.end is None
    assert (p12.target.start, p12.target.end) == (433, 554)
    assert italian.visit("p21").window.start == 219  # stored as 219.00000000000003
    assert italian.visit("p1").window.start == 179


def test_italian_double_visits_keep_listed_order(italian: Problem) -> None:
    p14 = italian.visit("p14")  # [s2, s1], sequential [0, 15]
    assert p14.carers_needed == 2 and p14.skills == []
    assert [part.skills for part in p14.parts] == [["s2"], ["s1"]]
    assert (p14.synchronisation.kind, p14.synchronisation.min_gap, p14.synchronisation.max_gap) == ("sequential", 0, 15)
    p7 = italian.visit("p7")  # s2 for 30, s3 for 15
    assert [p7.part_duration(0), p7.part_duration(1)] == [30, 15]
    assert p7.duration == 30
    assert italian.visit("p10").synchronisation.kind == "simultaneous"
    assert italian.visit("p1").skills == ["s4"] and italian.visit("p1").duration == 30


def test_italian_travel_is_the_asymmetric_matrix(italian: Problem) -> None:
    raw = gz_json(ITALIAN)["distances"]
    minutes = italian.travel[0].minutes
    assert minutes == raw
    assert len(minutes) == 45 and all(len(row) == 45 for row in minutes)
    assert (minutes[0][1], minutes[1][0]) == (16, 17)


# --------------------------------------------------------------------------- Solomon


def test_solomon_mapping(solomon: Problem) -> None:
    assert solomon.name == "C101"
    assert len(solomon.locations) == 101 and len(solomon.visits) == 100 and len(solomon.clients) == 100
    assert len(solomon.carers) == 25
    assert solomon.skills == []
    carer = solomon.carers[0]
    assert (carer.id, carer.start_location, carer.end_location) == ("c1", "depot", None)
    assert [(s.start, s.end) for s in carer.shifts] == [(0, 1236)]
    p1 = solomon.visit("p1")
    assert (p1.duration, p1.window.start, p1.window.end, p1.target, p1.skills) == (90, 912, 967, None, [])
    minutes = solomon.travel[0].minutes
    assert minutes[0][1] == pytest.approx(math.hypot(45 - 40, 68 - 50), abs=1e-12)
    assert minutes[0][1] != round(minutes[0][1])
    weights = solomon.weights
    assert weights.travel == 1 and weights.unassigned_mandatory == ObjectiveWeights().unassigned_mandatory
    assert weights.lateness == weights.max_lateness == weights.earliness == weights.overtime == 0
    assert weights.gender_preference == weights.non_preferred_carer == weights.continuity == weights.optional_value == 0


def test_solomon_integer_travel(solomon: Problem) -> None:
    rounded = read_problem(SOLOMON, integer_travel=True)
    exact = solomon.travel[0].minutes
    for row, exact_row in zip(rounded.travel[0].minutes, exact, strict=False):
        for value, exact_value in zip(row, exact_row, strict=False):
            assert value == round(exact_value) == int(value)
    with pytest.raises(InputError) as info:
        read_problem(MANKOWSKA, integer_travel=True)
    assert info.value.field == "integer_travel"


# --------------------------------------------------------------------------- native JSON


@pytest.mark.parametrize("path", [MANKOWSKA, ITALIAN, SOLOMON], ids=["mankowska", "iolab", "solomon"])
@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_native_problem_round_trip(tmp_path: Path, path: Path, suffix: str) -> None:
    problem = read_problem(path)
    target = tmp_path / f"problem{suffix}"
    write_problem(problem, target)
    assert detect_format(target) == "native"
    assert read_problem(target) == problem
    assert read_problem(target, format="native") == problem
    assert problem_from_json(problem_to_json(problem)) == problem


def test_native_plan_round_trip(tmp_path: Path, mankowska: Problem) -> None:
    plan = read_plan(mankowska, MANKOWSKA_SOLUTION)
    for name in ("plan.json", "plan.json.gz"):
        write_plan(plan, tmp_path / name)
        assert read_plan(mankowska, tmp_path / name) == plan


# --------------------------------------------------------------------------- iolab solutions


def _routes(solution: dict) -> dict[str, list[dict]]:
    """Routes by caregiver, with stop keys normalised (empty routes may omit ``locations``)."""
    return {r["caregiver_id"]: [dict(sorted(s.items())) for s in r.get("locations", [])] for r in solution["routes"]}


def test_read_mankowska_solution(mankowska: Problem) -> None:
    plan = read_plan(mankowska, MANKOWSKA_SOLUTION)
    assert plan.problem == mankowska.name
    assert plan.unassigned == []
    assert [r.carer for r in plan.routes] == ["c1", "c2", "c3"]
    c2 = plan.route("c2")
    (stop,) = c2.visits
    # p8 needs s5 (part 0) and s6 (part 1); c2 does s6, c3 does s5, both at 46.
    assert (stop.visit, stop.part, stop.client, stop.start, stop.end, stop.partner) == ("p8", 1, "p8", 46, 60, "c3")
    assert stop.travel_before == pytest.approx(13.038404)
    assert c2.leave_home == pytest.approx(46 - 13.038404)
    assert c2.return_home == pytest.approx(60 + 13.038404)
    assert c2.travel_minutes == pytest.approx(2 * 13.038404)
    assert c2.working_minutes == pytest.approx(14 + 2 * 13.038404)
    p8_c3 = next(v for v in plan.route("c3").visits if v.visit == "p8")
    assert (p8_c3.part, p8_c3.partner) == (0, "c2")
    single = next(v for v in plan.route("c1").visits if v.visit == "p3")
    assert (single.part, single.partner) == (0, None)
    total_travel = sum(r.travel_minutes for r in plan.routes)
    assert total_travel == pytest.approx(654.596, abs=1e-3)  # ceschia2024_distance in bks.csv


def test_read_italian_solution_uses_listed_part_order(italian: Problem) -> None:
    plan = read_plan(italian, ITALIAN_SOLUTION)
    assert plan.unassigned == []
    stops = {(pv.visit, r.carer): pv for r in plan.routes for pv in r.visits}
    # p14 lists s2 then s1: whoever does s2 has part 0, whoever does s1 part 1.
    p14 = {pv.part: (carer, pv.start) for (visit, carer), pv in stops.items() if visit == "p14"}
    assert set(p14) == {0, 1}
    assert [italian.visit("p14").part_skills(part) for part in (0, 1)] == [["s2"], ["s1"]]
    original = {
        s["patient"] + s["service"]: r["caregiver_id"]
        for r in gz_json(ITALIAN_SOLUTION)["routes"]
        for s in r.get("locations", [])
    }
    assert (p14[0][0], p14[1][0]) == (original["p14s2"], original["p14s1"])
    p12 = next(pv for (visit, _), pv in stops.items() if visit == "p12")
    assert p12.start >= italian.visit("p12").window.start


@pytest.mark.parametrize(
    ("problem_path", "solution_path"),
    [(MANKOWSKA, MANKOWSKA_SOLUTION), (ITALIAN, ITALIAN_SOLUTION)],
    ids=["mankowska", "italian"],
)
def test_iolab_solution_round_trip(tmp_path: Path, problem_path: Path, solution_path: Path) -> None:
    problem = read_problem(problem_path)
    original = gz_json(solution_path)
    plan = read_plan(problem, solution_path)
    written = to_iolab_solution(problem, plan)
    assert _routes(written) == _routes(original)
    assert [r["caregiver_id"] for r in written["routes"]] == [c.id for c in problem.carers]
    assert sorted(written["global_ordering"]) == sorted(original["global_ordering"])
    starts = {}
    for route in written["routes"]:
        for stop in route["locations"]:
            starts[stop["patient"]] = min(stop["arrival_time"], starts.get(stop["patient"], math.inf))
    assert [starts[p] for p in written["global_ordering"]] == sorted(starts.values())
    # Through a file and back gives the same plan.
    write_iolab_solution(problem, plan, tmp_path / "sol.json.gz")
    assert read_plan(problem, tmp_path / "sol.json.gz").routes == plan.routes
    assert read_iolab_solution(problem, written).routes == plan.routes


def test_iolab_solution_of_a_solomon_plan(solomon: Problem) -> None:
    """Any benchmark problem can be written: no skills gives service ``s1``."""
    plan = Plan(
        problem=solomon.name,
        routes=[
            Route(
                carer="c2",
                visits=[
                    PlannedVisit(visit="p5", client="p5", start=15, end=105),
                    PlannedVisit(visit="p3", client="p3", start=110, end=200),
                ],
            ),
        ],
    )
    data = to_iolab_solution(solomon, plan)
    assert len(data["routes"]) == 25
    assert data["routes"][1] == {
        "caregiver_id": "c2",
        "locations": [
            {"patient": "p5", "service": "s1", "arrival_time": 15, "departure_time": 105},
            {"patient": "p3", "service": "s1", "arrival_time": 110, "departure_time": 200},
        ],
    }
    assert data["routes"][0] == {"caregiver_id": "c1", "locations": []}
    assert data["global_ordering"] == ["p5", "p3"]
    back = read_iolab_solution(solomon, data)
    assert [(v.visit, v.part, v.start, v.end) for v in back.route("c2").visits] == [
        ("p5", 0, 15, 105),
        ("p3", 0, 110, 200),
    ]
    assert back.route("c2").visits[0].travel_before == pytest.approx(math.hypot(42 - 40, 65 - 50))
    assert len(back.unassigned) == 98
    assert {u.reason for u in back.unassigned} == {"not in the solution file"}


def test_unrouted_visits_are_unassigned(mankowska: Problem) -> None:
    data = gz_json(MANKOWSKA_SOLUTION)
    data["routes"] = [r for r in data["routes"] if r["caregiver_id"] == "c1"]
    data["routes"][0]["locations"] = [s for s in data["routes"][0]["locations"] if s["patient"] in ("p3", "p5")]
    plan = read_iolab_solution(mankowska, data)
    assert [v.visit for v in plan.route("c1").visits] == ["p3", "p5"]
    assert sorted(u.visit for u in plan.unassigned) == sorted(f"p{i}" for i in (1, 2, 4, 6, 7, 8, 9, 10))


# --------------------------------------------------------------------------- bad input


def _error(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value


def _replace_block(text: str, block: str, new_lines: list[str] | None) -> str:
    """Replace a Mankowska block's data lines (None drops the block with its keyword)."""
    lines = text.splitlines()
    start = lines.index(block)
    end = start + 1
    while end < len(lines) and not lines[end].strip().isalpha():
        end += 1
    replacement = [] if new_lines is None else [block, *new_lines]
    return "\n".join(lines[:start] + replacement + lines[end:]) + "\n"


@pytest.fixture(scope="module")
def mankowska_text() -> str:
    return gz_text(MANKOWSKA)


def test_mankowska_truncated(mankowska_text: str) -> None:
    cut = mankowska_text[: mankowska_text.index("\np\n") - 40]  # inside the d block
    err = _error(problem_from_mankowska, cut, source="A1.txt")
    assert err.field == "d" and "expected 144 numbers" in err.reason and err.source == "A1.txt"


def test_mankowska_truncated_gzip(tmp_path: Path) -> None:
    data = MANKOWSKA.read_bytes()
    (tmp_path / "cut.txt.gz").write_bytes(data[: len(data) // 2])
    err = _error(read_problem, tmp_path / "cut.txt.gz")
    assert err.field == "file" and "cannot read" in err.reason


def test_mankowska_every_truncation_is_an_input_error(mankowska_text: str) -> None:
    lines = mankowska_text.splitlines()
    for keep in range(len(lines) - 1):
        with pytest.raises(InputError):
            problem_from_mankowska("\n".join(lines[:keep]))


def test_mankowska_non_number(mankowska_text: str) -> None:
    bad = _replace_block(mankowska_text, "x", ["85 47 54 34 7x8 69 17 62 92 96 0 85"])
    err = _error(problem_from_mankowska, bad)
    assert err.field == "x" and "'7x8' is not a number" in err.reason


def test_mankowska_missing_block(mankowska_text: str) -> None:
    err = _error(problem_from_mankowska, _replace_block(mankowska_text, "maxd", None))
    assert err.field == "maxd" and "missing block" in err.reason


def test_mankowska_wrong_size_matrix(mankowska_text: str) -> None:
    lines = mankowska_text.splitlines()
    d = lines.index("d")
    bad = "\n".join(lines[: d + 1] + lines[d + 2 :])  # drop the first row of d
    err = _error(problem_from_mankowska, bad)
    assert err.field == "d" and "12 x 12" in err.reason and "found 132" in err.reason


def test_mankowska_ds_must_match_r(mankowska_text: str) -> None:
    err = _error(problem_from_mankowska, _replace_block(mankowska_text, "DS", ["11 10"]))
    assert err.field == "DS" and "p8" in err.reason


def test_mankowska_bad_values(mankowska_text: str) -> None:
    err = _error(problem_from_mankowska, _replace_block(mankowska_text, "nbVehi", ["2.5"]))
    assert err.field == "nbVehi"
    r_lines = _replace_block(
        mankowska_text, "r", ["1 1 1 1 1 1"] + ["0 0 0 0 0 0"] + ["0 0 0 0 1 0"] * 9 + ["1 1 1 1 1 1"]
    )
    err = _error(problem_from_mankowska, r_lines)
    assert err.field == "r[1]" and "requires 0 services" in err.reason
    err = _error(problem_from_mankowska, mankowska_text.replace("\nmind\n", "\nmindd\n"))
    assert err.field == "p" and "'mindd'" in err.reason
    # A window whose latest start is before its earliest is rejected by the schema.
    err = _error(
        problem_from_mankowska,
        _replace_block(mankowska_text, "l", ["600 300 388 367 513 374 304 554 166 418 268 1000"]),
    )
    assert err.field.startswith("visits.0.target")


@pytest.fixture(scope="module")
def italian_data() -> dict:
    return gz_json(ITALIAN)


def test_iolab_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(gz_text(ITALIAN)[:1000])
    err = _error(read_problem, path)
    assert err.field == "json" and "not valid JSON" in err.reason and err.source == str(path)
    err = _error(read_problem, path, format="iolab")
    assert err.field == "json"
    err = _error(read_problem, path, format="native")
    assert err.field == "json"


def test_iolab_wrong_size_matrix(italian_data: dict) -> None:
    data = json.loads(json.dumps(italian_data))
    data["distances"].pop()
    err = _error(problem_from_iolab, data)
    assert err.field == "distances" and "45 x 45" in err.reason
    data = json.loads(json.dumps(italian_data))
    data["distances"][3].pop()
    err = _error(problem_from_iolab, data)
    assert err.field == "distances[3]" and "expected 45 entries" in err.reason


def test_iolab_missing_and_non_numbers(italian_data: dict) -> None:
    data = json.loads(json.dumps(italian_data))
    del data["caregivers"]
    assert _error(problem_from_iolab, data).field == "caregivers"
    data = json.loads(json.dumps(italian_data))
    data["patients"][4]["time_window"][0] = "early"
    err = _error(problem_from_iolab, data)
    assert err.field == "patients[4].time_window[0]" and "expected a number" in err.reason
    data = json.loads(json.dumps(italian_data))
    data["distances"][2][7] = None
    assert _error(problem_from_iolab, data).field == "distances[2][7]"
    data = json.loads(json.dumps(italian_data))
    del data["patients"][1]["synchronization"]
    assert _error(problem_from_iolab, data).field == "patients[1].synchronization"
    data = json.loads(json.dumps(italian_data))
    data["patients"][1]["required_caregivers"] = []
    assert _error(problem_from_iolab, data).field == "patients[1].required_caregivers"
    data = json.loads(json.dumps(italian_data))
    data["caregivers"][0]["abilities"] = ["s9"]
    assert "unknown skill 's9'" in _error(problem_from_iolab, data).reason
    assert _error(problem_from_iolab, [1, 2]).field == ""
    data = json.loads(json.dumps(italian_data))
    data["caregivers"][2]["working_shift"] = [0, 300]  # a field of the "extended" set is not dropped silently
    err = _error(problem_from_iolab, data)
    assert err.field == "caregivers[2].working_shift" and "not supported" in err.reason


def test_iolab_bad_solution(mankowska: Problem) -> None:
    data = gz_json(MANKOWSKA_SOLUTION)
    data["routes"][0]["locations"][0]["patient"] = "p99"
    assert _error(read_iolab_solution, mankowska, data).field == "routes[0].locations[0].patient"
    data = gz_json(MANKOWSKA_SOLUTION)
    data["routes"][0]["locations"][0]["service"] = "s1"  # p10 needs s3 and s6
    err = _error(read_iolab_solution, mankowska, data)
    assert err.field == "routes[0].locations[0].service" and "does not require service 's1'" in err.reason
    data = gz_json(MANKOWSKA_SOLUTION)
    data["routes"][1]["caregiver_id"] = "c9"
    assert _error(read_iolab_solution, mankowska, data).field == "routes[1].caregiver_id"
    data = gz_json(MANKOWSKA_SOLUTION)
    del data["routes"][0]["locations"][1]["arrival_time"]
    assert _error(read_iolab_solution, mankowska, data).field == "routes[0].locations[1].arrival_time"


def test_solomon_bad_input() -> None:
    text = gz_text(SOLOMON)
    err = _error(problem_from_solomon, text.replace("CUSTOMER\n", "CUSTOMERS\n"))
    assert err.field == "CUSTOMER" and "missing block" in err.reason
    err = _error(problem_from_solomon, text.replace("VEHICLE\n", ""))
    assert err.field == "VEHICLE"
    lines = text.splitlines()
    row = next(i for i, line in enumerate(lines) if line.split()[:1] == ["5"])
    bad = "\n".join([*lines[:row], lines[row].replace("  15  ", "  1x5 ", 1), *lines[row + 1 :]])
    err = _error(problem_from_solomon, bad)
    assert err.field == "CUSTOMER" and f"line {row + 1}" in err.reason and "not a number" in err.reason
    err = _error(problem_from_solomon, text.rstrip().rsplit(maxsplit=2)[0])  # truncated in the last line
    assert err.field == "CUSTOMER" and "expected 7 numbers" in err.reason
    err = _error(problem_from_solomon, "\n".join(lines[:row] + lines[row + 1 :]))
    assert err.field == "CUSTOMER.id"


def test_unknown_format_and_extension(tmp_path: Path) -> None:
    assert _error(read_problem, MANKOWSKA, format="xml").field == "format"
    (tmp_path / "x.csv").write_text("a,b\n")
    assert _error(read_problem, tmp_path / "x.csv").field == "path"
    assert _error(detect_format, tmp_path / "x.csv").field == "path"
    (tmp_path / "x.json").write_text('{"routes": []}')
    assert _error(read_problem, tmp_path / "x.json").field == "format"
    (tmp_path / "x.txt").write_text("hello\n")
    assert _error(read_problem, tmp_path / "x.txt").field == "format"
    assert _error(read_problem, tmp_path / "missing.txt").field == "path"
    assert _error(read_plan, read_problem(MANKOWSKA), tmp_path / "x.csv").field == "path"


def test_native_errors_name_the_field(tmp_path: Path, mankowska: Problem) -> None:
    data = json.loads(problem_to_json(mankowska))
    data["visits"][2]["client"] = "nobody"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    err = _error(read_problem, path)
    assert err.field == "visits[2].client" and "nobody" in err.reason and err.source == str(path)
    assert str(err).count("visits[2].client") == 1  # the field is named once
    data = json.loads(problem_to_json(mankowska))
    data["visits"][0]["duration"] = "long"
    path.write_text(json.dumps(data))
    assert _error(read_problem, path).field == "visits.0.duration"
    (tmp_path / "plan.json").write_text('{"routes": [{"carer": "c1", "visits": [{"visit": "p1"}]}]}')
    assert _error(read_plan, mankowska, tmp_path / "plan.json").field.startswith("routes.0.visits.0")
