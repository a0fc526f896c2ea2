"""Insertion one visit at a time (the search's repair) on random small days.

(a) Pricing a single visit with ``cheapest_only`` (carers that cannot beat the best so far
    are cut short) finds exactly the cheapest cost the full per-carer pricing finds.
(b) Inserting visits in a given order, each at its cheapest place, gives a plan the
    independent validator accepts, as the kernels timed it.
(c) Re-timing only the routes an insertion moves reaches the same earliest schedule and
    cost as timing the whole day (without break rules, where breaks cannot be placed
    another way); with them, the plan it gives is valid.
(d) When timing a day afresh after visits were taken out fails, the day is timed with
    its breaks kept where they were.
(e) A big day's first plan prices a visit in full only on a shortlist of carers, and on
    everyone else when none of them can take it: a visit placed without the shortlist is
    placed with it.
(f) Timing only the moved routes, without falling back on the whole day, accepts a
    placement only where the whole day's timing does, at the same cost.
(g) Visits inserted for some carers (a replan's repair near the carers it changed) go
    only to those carers' routes.
(h) With waiting and finishing past soft shift ends priced, the price of a place is the
    real change in the plan's cost (days without breaks or double-handed visits, where
    the price is exact; filling a gap makes it fall).
(i) One single-handed visit put in without regret (the search's repair, one visit at a
    time, through ``pricing.cheapest_place``) goes exactly where the regret's caches put
    it, or stays out alike.
(j) The compiled placement undoes a refused placement by copying every array of the plan
    back: none of them is left out of the copy.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from carescheduler.domain import Problem
from carescheduler.search import placing, pricing, solution
from carescheduler.search.insertion import insert_visits
from carescheduler.search.instance import INF, compile_problem
from carescheduler.search.records import Placement, TaskPrices
from carescheduler.search.solution import Solution
from carescheduler.search.solver import plan_from_solution
from problem_factory import assert_valid
from random_days import problems
from test_solver_properties import PROPERTY_SETTINGS


def _half_built(problem, seed: int) -> tuple[Solution, list[int]]:
    """A plan with about half the visits in, and the visits still out."""
    inst = compile_problem(problem)
    sol = Solution(inst)
    sol.refresh()
    rng = np.random.default_rng(seed)
    order = [int(v) for v in rng.permutation(inst.n_visits)]
    insert_visits(sol, order[: len(order) // 2], rng)
    return sol, [int(v) for v in sol.unassigned_visits()]


def _prices(sol: Solution, t: int, cheapest_only: bool) -> np.ndarray:
    inst = sol.inst
    K = inst.n_carers
    prices = TaskPrices(t, np.full(K, INF), np.full(K, -1, dtype=np.int64), np.full(K, INF))
    pricing.single_costs(
        inst.arrays(),
        inst.costs(),
        sol.arrays,
        sol.scratch(),
        prices,
        np.arange(K, dtype=np.int64),
        sol.max_lateness(),
        cheapest_only,
    )
    return prices.cost


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_cheapest_only_pricing_finds_the_same_cheapest_cost(problem) -> None:
    sol, out = _half_built(problem, seed=3)
    inst = sol.inst
    for v in out:
        t = int(inst.visit_tasks[v, 0])
        if inst.visit_tasks[v, 1] >= 0:
            continue  # double-handed visits need every carer's price (their pairs are combined)
        full, cut = _prices(sol, t, False), _prices(sol, t, True)
        assert np.isclose(full.min(), cut.min()) or full.min() >= INF == cut.min()
        # what the cut pricing does report is the same price
        kept = cut < INF
        assert np.allclose(cut[kept], full[kept])


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_inserting_in_order_gives_a_valid_plan(problem) -> None:
    sol, out = _half_built(problem, seed=5)
    left = insert_visits(sol, out, np.random.default_rng(0), regret=1, in_order=True)
    assert sol.feasible
    assert sorted(left) == sorted(int(v) for v in sol.unassigned_visits())
    assert_valid(problem, plan_from_solution(sol))


def _without_breaks(problem: Problem) -> Problem:
    return problem.model_copy(update={"carers": [c.model_copy(update={"break_rule": None}) for c in problem.carers]})


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_timing_only_the_moved_routes_gives_the_whole_days_schedule(problem) -> None:
    inst = compile_problem(_without_breaks(problem))
    sol = Solution(inst)
    sol.refresh()
    rng = np.random.default_rng(7)
    for v in rng.permutation(inst.n_visits):
        insert_visits(sol, [int(v)], rng, regret=1)  # timed by re-timing the moved routes
        whole = sol.copy()
        assert whole.refresh() == sol.feasible
        routed = sol.route_of >= 0
        assert np.allclose(sol.start[routed], whole.start[routed])
        assert np.isclose(sol.total, whole.total)


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_a_plan_timed_route_by_route_with_breaks_is_valid(problem) -> None:
    inst = compile_problem(problem)
    sol = Solution(inst)
    sol.refresh()
    rng = np.random.default_rng(11)
    for v in rng.permutation(inst.n_visits):
        insert_visits(sol, [int(v)], rng, regret=1)
        assert sol.feasible
        assert_valid(problem, plan_from_solution(sol))


@settings(max_examples=40, **PROPERTY_SETTINGS)
@given(problems())
def test_taking_visits_out_keeps_the_breaks_when_timing_afresh_fails(problem) -> None:
    sol, _ = _half_built(problem, seed=13)
    assigned = [int(v) for v in sol.assigned_visits()]
    if not assigned:
        return
    sol.remove_visit(assigned[0])
    kept = sol.copy()  # breaks where they were, each still after the same visit
    kept_ok = kept.refresh_kept()
    real = solution.timing.evaluate
    solution.timing.evaluate = _never_feasible
    try:
        ok = sol.refresh_removed()
    finally:
        solution.timing.evaluate = real
    assert ok == kept_ok
    assert np.array_equal(sol.brk, kept.brk)
    if ok:
        assert np.allclose(sol.start[sol.route_of >= 0], kept.start[kept.route_of >= 0])
        assert_valid(problem, plan_from_solution(sol))


def _never_feasible(day, costs, routes, figures):
    """``timing.evaluate`` failing, as placing breaks afresh can."""
    return False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_the_shortlist_holds_the_eligible_carers_best_first(problem) -> None:
    sol, out = _half_built(problem, seed=17)
    inst = sol.inst
    for v in out:
        t = int(inst.visit_tasks[v, 0])
        eligible = set(np.flatnonzero(inst.eligible[t]).tolist())
        every = pricing.shortlist(inst.arrays(), inst.costs(), sol.arrays, t, inst.n_carers).tolist()
        assert set(every) == eligible
        for most in range(len(every) + 1):
            assert pricing.shortlist(inst.arrays(), inst.costs(), sol.arrays, t, most).tolist() == every[:most]


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_a_visit_placed_without_the_shortlist_is_placed_with_it(problem) -> None:
    sol, out = _half_built(problem, seed=19)
    for v in out:
        full, short = sol.copy(), sol.copy()
        placed = not insert_visits(full, [v], np.random.default_rng(0), regret=1, in_order=True)
        if placed:
            assert not insert_visits(short, [v], np.random.default_rng(0), regret=1, in_order=True, shortlist=1)
            assert_valid(problem, plan_from_solution(short))


@settings(max_examples=40, **PROPERTY_SETTINGS)
@given(problems())
def test_timing_only_the_moved_routes_without_the_whole_day_never_accepts_more(problem) -> None:
    """Without ``whole_day`` (recommendations trying many placements) a placement is
    accepted only where timing the whole day accepts it too, at the same cost."""
    sol, out = _half_built(problem, seed=23)
    inst = sol.inst
    trial = sol.copy()
    for v in out:
        t = int(inst.visit_tasks[v, 0])
        if inst.visit_tasks[v, 1] >= 0:
            continue
        for k in np.flatnonzero(inst.eligible[t]):
            for p in range(int(sol.L[k]) + 1):
                trial.copy_from(sol)
                trial.insert(t, int(k), p)
                moved, tasks = np.array([k], dtype=np.int64), np.array([t], dtype=np.int64)
                if trial.refresh_inserted(moved, tasks, whole_day=False):
                    quick = trial.total
                    trial.copy_from(sol)
                    trial.insert(t, int(k), p)
                    assert trial.refresh_inserted(moved, tasks)
                    assert np.isclose(trial.total, quick)


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_visits_inserted_for_some_carers_go_only_to_their_routes(problem) -> None:
    sol, out = _half_built(problem, seed=31)
    inst = sol.inst
    allowed = np.arange(0, inst.n_carers, 2, dtype=np.int64)  # every other carer
    before = sol.route_of.copy()
    left = insert_visits(sol, out, np.random.default_rng(0), carers=allowed)
    assert sol.feasible
    moved = np.flatnonzero(sol.route_of != before)
    assert set(sol.route_of[moved].tolist()) <= set(allowed.tolist())
    assert sorted(left) == sorted(int(v) for v in sol.unassigned_visits())
    assert_valid(problem, plan_from_solution(sol))


def _exactly_priced(problem: Problem) -> Problem:
    """``problem`` with waiting and soft shift ends priced, and without what the price of a
    place only estimates: breaks, double-handed visits, earliness (a visit waiting for
    its target moves its neighbours) and the longest wait."""
    weights = problem.weights.model_copy(
        update={"waiting": 1.5, "max_waiting": 0.0, "past_shift_end": 2.0, "earliness": 0.0}
    )
    singles = [v for v in problem.visits if v.carers_needed == 1]
    carers = [c.model_copy(update={"break_rule": None}) for c in problem.carers]
    return problem.model_copy(update={"weights": weights, "visits": singles, "carers": carers})


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_the_price_of_a_place_is_the_real_change_with_waiting_priced(problem) -> None:
    problem = _exactly_priced(problem)
    sol, out = _half_built(problem, seed=5)
    inst = sol.inst
    assert inst.prices_time
    before = sol.total
    for v in out:
        t = int(inst.visit_tasks[v, 0])
        for k in range(inst.n_carers):
            if not inst.eligible[t, k]:
                continue
            for p in range(int(sol.L[k]) + 1):
                cost, _, _ = pricing.price_at(
                    inst.arrays(),
                    inst.costs(),
                    sol.arrays,
                    sol.scratch(),
                    Placement(t, k, p, -1.0, -1),
                    sol.max_lateness(),
                    INF,
                )
                if cost >= INF:
                    continue
                trial = sol.copy()
                trial.insert(t, k, p)
                assert trial.refresh()
                assert trial.total - before == pytest.approx(cost - inst.visit_penalty[v], abs=1e-6)


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_one_visit_without_regret_goes_where_the_regret_puts_it(problem) -> None:
    sol, out = _half_built(problem, seed=37)
    inst = sol.inst
    for v in out:
        if inst.visit_tasks[v, 1] >= 0:
            continue
        quick, regret = sol.copy(), sol.copy()
        left_quick = insert_visits(quick, [v], np.random.default_rng(0), regret=1)
        left_regret = insert_visits(regret, [v], np.random.default_rng(0), regret=2)
        assert left_quick == left_regret
        assert np.array_equal(quick.R, regret.R) and np.array_equal(quick.start, regret.start)
        assert quick.feasible == regret.feasible and np.isclose(quick.total, regret.total)


@settings(max_examples=20, **PROPERTY_SETTINGS)
@given(problems())
def test_the_compiled_placement_copies_every_array_of_a_plan(problem) -> None:
    built, _ = _half_built(problem, seed=41)
    empty = Solution(built.inst)
    for array in (*empty.arrays, *empty.figures):
        array[...] = 7  # nothing a plan holds
    placing._copy_into(empty.arrays, empty.figures, built.arrays, built.figures)
    for name, mine, theirs in zip(
        (*built.arrays._fields, *built.figures._fields),
        (*empty.arrays, *empty.figures),
        (*built.arrays, *built.figures),
        strict=True,
    ):
        assert np.array_equal(mine, theirs), name
