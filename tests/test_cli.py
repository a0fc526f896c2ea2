"""The command-line tool end to end, through ``python -m carescheduler`` (a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from carescheduler.formats import read_problem
from conftest import BENCHMARK_SAMPLES

FIXTURES = BENCHMARK_SAMPLES
A1 = FIXTURES / "InstanzCPLEX_HCSRP_10_1.txt.gz"
A1_SOLUTION = next(FIXTURES.glob("sol-InstanzCPLEX_HCSRP_10_1*.json*"), None)
LAUF = FIXTURES.parent / "osm" / "lauf-20200115.drive.osm.bz2"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "carescheduler", *args], capture_output=True, text=True, timeout=300)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def test_solve_json_writes_plans_that_validate(tmp_path):
    plan_path, iolab_path = tmp_path / "plan.json", tmp_path / "solution.json"
    result = run(
        "solve",
        str(A1),
        "--time-limit",
        "1",
        "--seed",
        "3",
        "--json",
        "--out",
        str(plan_path),
        "--iolab-out",
        str(iolab_path),
    )
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary["feasible"] is True
    assert summary["unassigned"] == 0
    assert summary["seconds"] >= 0 and summary["cost"] > 0
    for plan_file in (plan_path, iolab_path):
        check = run("validate", str(A1), str(plan_file), "--json")
        assert check.returncode == 0, check.stdout + check.stderr
        assert last_json(check.stdout)["cost"] == pytest.approx(summary["cost"], abs=1e-3)


def test_a_2025_instance_gets_its_own_solution_format(tmp_path):
    """An extended (2025) instance, detected, is solved and its solution written with the
    instance's own carer and patient ids, which ``validate`` reads back at the same cost."""
    instance = next(FIXTURES.glob("small-000-*.json.gz"))
    solution = tmp_path / "solution.json"
    result = run("solve", str(instance), "--time-limit", "2", "--json", "--iolab-out", str(solution))
    assert result.returncode == 0, result.stderr
    written = json.loads(solution.read_text())
    problem = read_problem(instance)
    assert {r["caregiver_id"] for r in written["routes"]} == {c.id for c in problem.carers}
    assert {stop["patient"] for r in written["routes"] for stop in r["locations"]} <= {c.id for c in problem.clients}
    check = run("validate", str(instance), str(solution), "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    verdict = last_json(check.stdout)
    assert verdict["cost"] == pytest.approx(last_json(result.stdout)["cost"], abs=1e-3)
    # and the formulation's components: its travel is the plan's, its extra time the validator's
    assert (verdict["components"]["unserved"] == 0) == (verdict["unassigned"] == 0)
    assert verdict["components"]["travel"] * (1 / 3) == pytest.approx(verdict["breakdown"]["travel"])
    assert verdict["components"]["total_extra_time"] * (1 / 3) == pytest.approx(verdict["breakdown"]["past_shift_end"])


def test_validate_published_solution_and_reject_a_broken_one(tmp_path):
    assert A1_SOLUTION is not None
    ok = run("validate", str(A1), str(A1_SOLUTION))
    assert ok.returncode == 0, ok.stdout
    assert "valid" in ok.stdout
    import gzip

    opener = gzip.open if A1_SOLUTION.suffix == ".gz" else open
    with opener(A1_SOLUTION, "rt") as f:
        data = json.load(f)
    first = data["routes"][0]["locations"][0]
    first["arrival_time"] = first["arrival_time"] - 500  # before its earliest start
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    bad = run("validate", str(A1), str(broken))
    assert bad.returncode == 1
    assert "violation" in bad.stdout


def test_bad_input_gives_one_clear_line_and_exit_2(tmp_path):
    missing = run("solve", str(tmp_path / "nope.json"))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "skills": [],
                "locations": [{"id": "a", "x": 0, "y": 0}],
                "carers": [],
                "clients": [{"id": "c", "location": "a"}],
                "visits": [{"id": "v", "client": "c", "duration": -5}],
            }
        )
    )
    result = run("solve", str(bad), "--time-limit", "1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "duration" in result.stderr


def test_demo_runs_and_its_plan_validates(tmp_path):
    result = run("demo", "--time-limit", "2", "--json", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert last_json(result.stdout)["feasible"] is True
    check = run("validate", str(tmp_path / "demo-problem.json.gz"), str(tmp_path / "demo-plan.json"))
    assert check.returncode == 0, check.stdout
    assert (tmp_path / "report.html").stat().st_size > 0


def test_generate_writes_a_day_on_the_roads_that_solves(tmp_path):
    out = tmp_path / "day.json.gz"
    result = run("generate", "--osm", str(LAUF), "--visits", "30", "--carers", "4", "--seed", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    problem = read_problem(out)
    assert len(problem.visits) == 30 and len(problem.carers) == 4
    assert {m.mode.value for m in problem.travel} >= {c.travel_mode.value for c in problem.carers}
    assert not any(m.estimated for m in problem.travel)
    solved = run("solve", str(out), "--time-limit", "5", "--iterations", "20", "--json")
    assert solved.returncode == 0, solved.stderr
    assert last_json(solved.stdout)["feasible"] is True


def test_generate_names_a_missing_road_file(tmp_path):
    result = run(
        "generate",
        "--osm",
        str(tmp_path / "nowhere.osm"),
        "--visits",
        "5",
        "--carers",
        "1",
        "--out",
        str(tmp_path / "x.json"),
    )
    assert result.returncode == 2
    assert "nowhere.osm" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.json").exists()


def test_same_seed_and_iterations_give_the_same_plan(tmp_path):
    plans = []
    for name in ("a.json", "b.json"):
        result = run(
            "solve",
            str(A1),
            "--time-limit",
            "60",
            "--seed",
            "5",
            "--iterations",
            "25",
            "--json",
            "--out",
            str(tmp_path / name),
        )
        assert result.returncode == 0, result.stderr
        plans.append(json.loads((tmp_path / name).read_text()))
    for plan in plans:
        plan["solver"].pop("seconds")
    assert plans[0] == plans[1]


SMALL = FIXTURES.parent / "scenarios" / "small.json.gz"


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory) -> Path:
    plan = tmp_path_factory.mktemp("small") / "plan.json"
    result = run("solve", str(SMALL), "--time-limit", "3", "--iterations", "50", "--json", "--out", str(plan))
    assert result.returncode == 0, result.stderr
    return plan


def test_replan_absorbs_an_absence_and_writes_a_valid_day(tmp_path, small_plan):
    plan = json.loads(small_plan.read_text())
    busiest = max(plan["routes"], key=lambda r: len(r["visits"]))["carer"]
    events = tmp_path / "events.json"
    events.write_text(json.dumps({"now": "10:00", "events": [{"type": "carer_absent", "carer": busiest}]}))
    new_plan, day = tmp_path / "new.json", tmp_path / "day.json"
    result = run(
        "replan", str(SMALL), str(small_plan), str(events), "--json", "--out", str(new_plan), "--out-problem", str(day)
    )
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary["feasible"] is True and busiest in summary["changed_carers"]
    assert {"seconds", "moved_visits", "unassigned"} <= summary.keys()
    late = [
        v
        for r in json.loads(new_plan.read_text())["routes"]
        if r["carer"] == busiest
        for v in r["visits"]
        if v["start"] >= 600
    ]
    assert late == []
    check = run("validate", str(day), str(new_plan))
    assert check.returncode == 0, check.stdout


def test_replan_names_a_bad_event(tmp_path, small_plan):
    events = tmp_path / "events.json"
    events.write_text(json.dumps([{"type": "carer_absent", "carer": "nobody"}]))
    result = run("replan", str(SMALL), str(small_plan), str(events), "--now", "09:00")
    assert result.returncode == 2
    assert "events[0].carer" in result.stderr and "unknown carer" in result.stderr


def test_recommend_offers_carers_for_a_new_visit(tmp_path, small_plan):
    problem = read_problem(SMALL)
    client = problem.clients[0]
    request = tmp_path / "visit.json"
    request.write_text(
        json.dumps({"id": "extra", "client": client.id, "duration": 20, "window": {"start": "12:00", "end": "15:00"}})
    )
    result = run("recommend", str(SMALL), str(small_plan), str(request), "--top", "2", "--json")
    assert result.returncode == 0, result.stderr
    answer = last_json(result.stdout)
    assert answer["visit"] == "extra" and 1 <= len(answer["options"]) <= 2
    assert len(answer["options"]) + len(answer["unavailable"]) == len(problem.carers)
    by_id = run("recommend", str(SMALL), str(small_plan), problem.visits[0].id)
    assert by_id.returncode == 0, by_id.stderr
    assert "carers for" in by_id.stdout
