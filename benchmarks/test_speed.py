"""Speed benchmarks of the hot paths (pytest-benchmark), run with the test suite.

    .venv/bin/python -m pytest benchmarks/test_speed.py            # times and checks
    .venv/bin/python -m pytest benchmarks/test_speed.py --benchmark-autosave   # keep a baseline
    .venv/bin/python -m pytest benchmarks/test_speed.py --benchmark-compare --benchmark-compare-fail=median:25%

Three timings: building a first plan by regret insertion on a 100-visit day (Solomon C101),
one iteration of the large-neighbourhood search, and the independent validator on a plan
of about 300 visits. Each is run a few rounds only (``benchmark.pedantic``) so the file
takes seconds, and each also checks its result, so a fast but wrong kernel fails too.

The ``CEILING`` limits catch only gross slowdowns (an accidental quadratic loop, a
search iteration that suddenly costs tens of milliseconds): they are about 20 times the
times measured on a 2-core machine, so a busy CI machine does not fail them. Finer
regressions are for ``--benchmark-compare`` against a baseline saved on the same machine.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from carescheduler.demo import demo_problem
from carescheduler.formats import read_problem
from carescheduler.insertion import insert_visits
from carescheduler.instance import compile_problem
from carescheduler.lns import LNSSettings, large_neighbourhood_search
from carescheduler.solution import Solution
from carescheduler.solver import plan_from_solution, solve
from carescheduler.validator import validate

C101 = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks" / "c101.txt.gz"

CEILING = {              # seconds per call (median); about 20x what a 2-core machine takes
    "construction": 1.5,     # ~0.05 s
    "lns_iteration": 0.1,    # ~2.5 ms
    "validator": 0.25,       # ~5 ms
}


def _median(benchmark) -> float:
    return benchmark.stats.stats.median


@pytest.fixture(scope="module")
def c101():
    problem = read_problem(C101)
    inst = compile_problem(problem)
    assert inst.n_visits == 100
    return problem, inst


def _construct(inst, seed: int = 0) -> tuple[Solution, list[int]]:
    rng = np.random.default_rng(seed)
    sol = Solution(inst)
    sol.refresh()
    left_out = insert_visits(sol, rng.permutation(inst.n_visits), rng, regret=2)
    return sol, left_out


@pytest.fixture(scope="module")
def constructed(c101):
    _, inst = c101
    sol, left_out = _construct(inst)   # also loads the compiled kernels before any timing
    assert not left_out
    return sol


def test_construction_c101(benchmark, c101):
    """Regret insertion of all 100 visits of C101 into an empty plan."""
    problem, inst = c101

    def fresh():
        rng = np.random.default_rng(0)
        sol = Solution(inst)
        sol.refresh()
        return (sol, rng.permutation(inst.n_visits), rng), {"regret": 2}

    results = []

    def construct(sol, order, rng, regret):
        results.append(sol)
        return insert_visits(sol, order, rng, regret=regret)

    left_out = benchmark.pedantic(construct, setup=fresh, rounds=5, warmup_rounds=1)
    sol = results[-1]
    assert left_out == []
    assert len(sol.unassigned_visits()) == 0
    assert sol.refresh()
    report = validate(problem, plan_from_solution(sol))
    assert report.valid, report.violations[:3]
    assert report.kpis.visits_assigned == 100
    assert report.cost.travel == pytest.approx(float(sol.travel.sum()), abs=1e-6)
    assert _median(benchmark) < CEILING["construction"]


def test_one_lns_iteration(benchmark, constructed):
    """One destroy-and-repair iteration of the search (no CP-SAT repair)."""
    before = constructed.total
    settings = LNSSettings(cpsat_every=0)

    def one_iteration():
        deadline = time.monotonic() + 3600.0
        return large_neighbourhood_search(constructed, deadline, np.random.default_rng(1), settings,
                                          max_iterations=1)

    best, iterations = benchmark.pedantic(one_iteration, rounds=20, warmup_rounds=1)
    assert iterations == 1
    assert constructed.total == before            # the search works on copies
    assert best.feasible
    assert len(best.unassigned_visits()) == 0
    assert best.total <= before + 1e-9            # the best plan never gets worse
    assert _median(benchmark) < CEILING["lns_iteration"]


@pytest.fixture(scope="module")
def care_day():
    """A demo day of about 300 visits, solved once (a fixed number of iterations)."""
    problem = demo_problem(clients=120, carers=40)
    plan = solve(problem, time_limit=60.0, seed=0, max_iterations=20)
    assert 250 <= len(problem.visits) <= 350
    return problem, plan


def test_validator_300_visits(benchmark, care_day):
    """The independent validator on a plan of about 300 visits."""
    problem, plan = care_day
    report = benchmark.pedantic(validate, args=(problem, plan), rounds=3, warmup_rounds=1)
    assert report.valid, report.violations[:3]
    assert report.cost.total == pytest.approx(plan.cost.total, abs=0.01)
    assert report.kpis.visits_assigned + len(plan.unassigned) == len(problem.visits)
    assert report.kpis.visits_assigned >= 250
    assert _median(benchmark) < CEILING["validator"]
