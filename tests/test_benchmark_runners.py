"""The home-care and VRPTW benchmark runners pick the instances they are asked for, say which
they do not know, and run each instance once per seed with that seed given to the solver
(skipped without the shared benchmark folder)."""

from __future__ import annotations

import argparse

import pytest

import benchmarks.hhcrsp
import benchmarks.vrptw
import carescheduler.search.solver
from benchmarks.hhcrsp import jobs_for
from benchmarks.runner import add_seed_option, shared_benchmarks, solve_one

needs_benchmarks = pytest.mark.skipif(
    not (shared_benchmarks() / "mankowska2014").is_dir(), reason="shared benchmark folder absent"
)


@needs_benchmarks
def test_instances_are_picked_by_label_name_or_number() -> None:
    assert len(jobs_for("mankowska", None, 1, 1)) == 70
    assert [j["instance"] for j in jobs_for("mankowska", ["G10", "A1"], 1, 1)] == ["A1", "G10"]
    italian = jobs_for("italian", ["instance_001"], 1, 1)
    assert [j["instance"].split("-")[0] for j in italian] == ["instance_001"]


@needs_benchmarks
def test_an_unknown_instance_is_named() -> None:
    with pytest.raises(ValueError, match=r"not in mankowska2014/bks\.csv: Z9"):
        jobs_for("mankowska", ["A1", "Z9"], 1, 1)
    with pytest.raises(ValueError, match=r"not in solomon/bks\.csv: X999"):
        benchmarks.vrptw.jobs_for("solomon", ["C101", "X999"], 1, 1)


@needs_benchmarks
def test_each_seed_is_a_run_of_its_own() -> None:
    jobs = jobs_for("mankowska", ["A1", "B2"], 1, 1, seeds=[3, 4])
    assert [(j["instance"], j["seed"]) for j in jobs] == [("A1", 3), ("A1", 4), ("B2", 3), ("B2", 4)]
    assert {j["seed"] for j in jobs_for("mankowska", ["A1"], 1, 1)} == {0}


@pytest.mark.parametrize(
    ("argv", "seeds"),
    [([], [0]), (["--seed", "3"], [3]), (["--seeds", "0", "1"], [0, 1]), (["--seeds", "0,1,2"], [0, 1, 2])],
)
def test_the_seed_option_takes_one_seed_or_a_list(argv: list[str], seeds: list[int]) -> None:
    parser = argparse.ArgumentParser()
    add_seed_option(parser)
    assert parser.parse_args(argv).seeds == seeds


def _capture_jobs(monkeypatch: pytest.MonkeyPatch, module) -> list[dict]:
    captured: list[dict] = []
    monkeypatch.setattr(module, "run", lambda name, jobs, parallel, command=None: captured.extend(jobs))
    return captured


@needs_benchmarks
def test_the_seed_option_reaches_the_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    """From the command line to ``solve``: each seed asked for is the seed the solver gets,
    and the seed recorded in that run's row."""
    jobs = _capture_jobs(monkeypatch, benchmarks.hhcrsp)
    benchmarks.hhcrsp.main(["--set", "mankowska", "--instances", "A1", "--time-limit", "1", "--seeds", "3,4"])

    real_solve = carescheduler.search.solver.solve
    solver_seeds: list[int] = []

    def solve(problem, *, time_limit, seed, workers):
        solver_seeds.append(seed)
        return real_solve(problem, time_limit=time_limit, seed=seed, workers=workers, max_iterations=20)

    monkeypatch.setattr(carescheduler.search.solver, "solve", solve)
    rows = [solve_one(job) for job in jobs]
    assert solver_seeds == [3, 4]
    assert [(row["instance"], row["seed"]) for row in rows] == [("A1", 3), ("A1", 4)]
    assert all(row["valid"] for row in rows)


@needs_benchmarks
def test_the_vrptw_runner_takes_seeds_too(monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = _capture_jobs(monkeypatch, benchmarks.vrptw)
    benchmarks.vrptw.main(["--set", "solomon", "--instances", "C101", "R101", "--seed", "7", "--no-compare"])
    assert [(j["instance"], j["seed"]) for j in jobs] == [("C101", 7), ("R101", 7)]
    jobs.clear()
    benchmarks.vrptw.main(["--set", "solomon", "--instances", "C101", "--seeds", "1", "2", "--no-compare"])
    assert [(j["instance"], j["seed"]) for j in jobs] == [("C101", 1), ("C101", 2)]


def test_the_waiting_tradeoff_prices_waiting_as_asked(monkeypatch: pytest.MonkeyPatch, small_day) -> None:
    """One row per weight, each solved with that waiting weight (and nothing else changed),
    its figures the validator's."""
    import benchmarks.waiting_tradeoff as tradeoff
    import carescheduler.search.solver as solver

    asked: list[float] = []
    real = solver.solve

    def solve(problem, **kwargs):
        asked.append(problem.weights.waiting)
        assert problem.weights.model_copy(update={"waiting": 0.0}) == small_day.weights.model_copy(
            update={"waiting": 0.0}
        )
        return real(problem, **{**kwargs, "max_iterations": 5})

    monkeypatch.setattr(solver, "solve", solve)
    written: list = []
    monkeypatch.setattr(tradeoff, "write_rows", lambda name, rows, note="": written.append((name, rows)))
    monkeypatch.setattr(tradeoff, "load", lambda scenario: small_day)
    tradeoff.main(["--scenario", "small.json", "--weights", "0", "2", "--time-limit", "5"])
    assert asked == [0.0, 2.0]
    [(name, rows)] = written
    assert name == "waiting_tradeoff_small" and [r["waiting_weight"] for r in rows] == [0.0, 2.0]
    assert all(r["valid"] for r in rows)
    assert all(r["waiting_min"] >= r["longest_wait_min"] >= 0 for r in rows)


def test_the_extended_runner_reports_the_formulations_components() -> None:
    """One 2025 instance (the fixture copy) through the runner's job: its row holds the
    validator's verdict, the solution file's round trip and the components (that they are
    the validator's own figures is ``test_formats_extended.py``'s)."""
    import benchmarks.extended as extended
    from conftest import BENCHMARK_SAMPLES

    path = next(BENCHMARK_SAMPLES.glob("small-000-*.json.gz"))
    row = extended.solve_one((str(path), 2.0, 7))
    assert row["instance"] == path.name.removesuffix(".json.gz") and row["seed"] == 7
    assert row["valid"] and row["solution_file_valid"]
    components = ["travel", "total_tardiness", "highest_tardiness", "total_waiting", "max_idle", "total_extra_time"]
    assert all(row[c] >= 0 for c in components) and row["travel"] > 0
    assert row["total_tardiness"] >= row["highest_tardiness"] and row["total_waiting"] >= row["max_idle"]
