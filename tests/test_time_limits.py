"""The time limit and a cancel hold in every phase of a solve, the first plan included.

A day of a few carers with hundreds of short visits each makes every insertion re-time a
long route: the first plan alone took many times the time limit, and a cancel (the
progress callback raising) was not heard until it was done. How long the solves take on
such days is measured in ``benchmarks/time_limits.py``; these tests check the behaviour:
work stops where the budget says, the visits not reached are reported as such, and the
progress callback is called while the first plan is built.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.time_limits import crowded_day
from carescheduler.params import SearchParams
from carescheduler.search.budget import Budget
from carescheduler.search.cpsat_model import build_seconds
from carescheduler.search.insertion import insert_visits
from carescheduler.search.instance import compile_problem
from carescheduler.search.lns import _cpsat_repair
from carescheduler.search.solution import Solution
from carescheduler.search.solver import solve
from problem_factory import assert_valid


@pytest.fixture(scope="module")
def crowded():
    """Two carers, 400 visits of 1-3 minutes at any time of their shift."""
    return crowded_day(400, 2, 400, seed=3)


def _empty(problem) -> Solution:
    sol = Solution(compile_problem(problem))
    sol.refresh()
    return sol


def test_an_insertion_whose_time_is_up_places_nothing_and_says_what_it_did_not_try(crowded) -> None:
    sol = _empty(crowded)
    budget = Budget(stop_at=0.0)  # long past
    left = insert_visits(sol, range(50), np.random.default_rng(0), budget=budget)
    assert sorted(left) == list(range(50))
    assert budget.untried == set(range(50))
    assert len(sol.assigned_visits()) == 0


def test_an_insertion_stops_placing_at_its_deadline_and_keeps_a_valid_partial_plan(crowded) -> None:
    sol = _empty(crowded)
    steps: list[int] = []

    def report() -> None:
        steps.append(len(sol.assigned_visits()))
        if len(steps) == 5:
            budget.stop_at = 0.0  # the clock runs out here

    budget = Budget(stop_at=None, report=report, every=0.0)
    left = insert_visits(sol, range(len(crowded.visits)), np.random.default_rng(0), budget=budget)
    placed = len(sol.assigned_visits())
    assert 0 < placed < len(crowded.visits)
    assert budget.untried and budget.untried <= set(left)
    assert placed + len(left) == len(crowded.visits)
    assert sol.feasible


def test_a_solve_cut_short_returns_the_visits_it_did_not_reach_with_that_reason(crowded) -> None:
    plan = solve(crowded, time_limit=0.001)
    assert_valid(crowded, plan)
    assert len(plan.unassigned) == len(crowded.visits)
    assert all(u.reason.startswith("not tried: the time limit (0.001 s) ran out") for u in plan.unassigned)


def test_a_plan_that_had_time_gives_no_visit_the_time_limit_reason() -> None:
    day = crowded_day(30, 2, 30, seed=1)
    plan = solve(day, time_limit=5, max_iterations=20)
    assert_valid(day, plan)
    assert not any(u.reason.startswith("not tried") for u in plan.unassigned)


class _Cancel(Exception):
    pass


def test_a_cancel_is_heard_while_the_first_plan_is_built(crowded) -> None:
    heard = []

    def cancel(progress) -> None:
        heard.append(progress)
        raise _Cancel

    with pytest.raises(_Cancel):
        solve(crowded, time_limit=60, progress=cancel)
    # The first report came before the first plan was complete: visits were still out.
    assert heard[0].phase == "construction"
    assert heard[0].unassigned == len(crowded.visits)


def test_a_repair_whose_model_would_take_too_long_to_build_is_skipped(crowded) -> None:
    sol = _empty(crowded)
    insert_visits(sol, range(len(crowded.visits)), np.random.default_rng(0), in_order=True)
    assert sol.L.max() > 150  # long routes
    visits = [int(v) for v in sol.assigned_visits()]
    assert build_seconds(sol.inst, [0, 1], visits) > 1.0
    before = sol.R.copy()
    assert not _cpsat_repair(sol, np.random.default_rng(0), SearchParams(), 0.5, 0, build_limit=1.0)
    assert np.array_equal(sol.R, before)


def test_the_build_estimate_grows_with_the_square_of_the_route(crowded) -> None:
    inst = compile_problem(crowded)
    hundred = build_seconds(inst, [0], list(range(100)))
    assert build_seconds(inst, [0], list(range(200))) == pytest.approx(4 * hundred)
    assert build_seconds(inst, [0, 1], list(range(100))) == pytest.approx(2 * hundred)
