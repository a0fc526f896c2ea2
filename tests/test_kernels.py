"""The compiled kernels on their own: timing routes with synchronised partners, and pricing
insertions, on a day small enough to work out by hand.

The day: an office at (0, 0), clients A at (10, 0), B at (20, 0) and C at (0, 10); drive
minutes are the rounded distances (office-A 10, A-B 10, office-B 20, office-C 10, C-B 22).
Two carers work 08:00-16:00 from the office. Visit ``v1`` (A, 30 min) opens at 08:00,
``vd`` (B, 30 min, two carers at once) at 08:20, ``v2`` (C, 20 min) at 08:00.
"""

from __future__ import annotations

import numpy as np
import pytest

from carescheduler.search import pricing, timing
from carescheduler.search.instance import INF, compile_problem
from carescheduler.search.records import PairPrices, Placement, TaskPrices
from carescheduler.search.solution import Solution
from problem_factory import carer, client, location, make_problem, matrix_from_coords, visit

COORDS = [(0, 0), (10, 0), (20, 0), (0, 10)]


def day(vd_extra: dict | None = None, v2: bool = False, weights: dict | None = None):
    visits = [
        visit("v1", "A", duration=30, start=480),
        visit("vd", "B", duration=30, start=500, carers_needed=2, **(vd_extra or {})),
    ]
    if v2:
        visits.append(visit("v2", "C", duration=20, start=480))
    return compile_problem(
        make_problem(
            locations=[location("office"), location("a", 10, 0), location("b", 20, 0), location("c", 0, 10)],
            carers=[carer("c1"), carer("c2")],
            clients=[client("A", "a"), client("B", "b"), client("C", "c")],
            visits=visits,
            travel=matrix_from_coords(COORDS),
            weights=weights,
        )
    )


def tasks(inst, name: str) -> list[int]:
    v = [x.id for x in inst.problem.visits].index(name)
    return [int(t) for t in inst.visit_tasks[v] if t >= 0]


def routed(inst, routes: dict[int, list[int]]) -> Solution:
    """A solution with these routes, its breaks cleared and nothing held back."""
    sol = Solution(inst)
    sol.replace_routes(routes)
    sol.brk[:] = -1
    sol.hold[:] = -INF
    return sol


# --- timing ------------------------------------------------------------------------------


def test_the_earliest_schedule_waits_for_the_later_partner():
    inst = day()
    (v1,), (d0, d1) = tasks(inst, "v1"), tasks(inst, "vd")
    sol = routed(inst, {0: [v1, d0], 1: [d1]})
    assert timing.schedule(inst.arrays(), sol.arrays)
    # c1 reaches A at 08:10 and B at 08:50; c2 could start at 08:20 but waits for c1.
    assert sol.start[v1] == 490
    assert sol.start[d0] == sol.start[d1] == 530


def test_a_sequential_gap_pushes_the_second_part():
    inst = day({"synchronisation": {"kind": "sequential", "min_gap": 15, "max_gap": 20}})
    (v1,), (d0, d1) = tasks(inst, "v1"), tasks(inst, "vd")
    sol = routed(inst, {0: [v1, d0], 1: [d1]})
    assert timing.schedule(inst.arrays(), sol.arrays)
    assert sol.start[d0] == 530 and sol.start[d1] == 545
    # ... and the first part waits for a second part that cannot come sooner than 08:50
    sol = routed(inst, {0: [d0], 1: [v1, d1]})
    assert timing.schedule(inst.arrays(), sol.arrays)
    assert sol.start[d1] == 530 and sol.start[d0] == 530 - 20


def test_the_route_that_breaks_a_window_is_named():
    inst = day({"window": {"start": 500, "end": 520}})  # vd must start by 08:40
    (v1,), (d0, d1) = tasks(inst, "v1"), tasks(inst, "vd")
    sol = routed(inst, {0: [v1, d0], 1: [d1]})
    assert timing.failing_route(inst.arrays(), sol.arrays) == 0  # c1 cannot reach B by 08:40
    assert not timing.schedule(inst.arrays(), sol.arrays)
    sol = routed(inst, {0: [d0], 1: [d1, v1]})
    assert timing.failing_route(inst.arrays(), sol.arrays) == -1


def test_evaluate_totals_the_objective_terms():
    inst = day({"target": {"start": 500, "end": 520}})  # vd should start by 08:40: it is 10 min late
    (v1,), (d0, d1) = tasks(inst, "v1"), tasks(inst, "vd")
    sol = routed(inst, {0: [v1, d0], 1: [d1]})
    feasible, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime, wait, wait_max, past_end = (
        timing.evaluate(inst.arrays(), inst.costs(), sol.arrays, sol.figures)
    )
    assert feasible and unassigned == 0 and assignment == 0 and overtime == 0 and early_sum == 0
    assert late_sum == 20 and late_max == 10  # ten minutes late, for each carer
    assert travel == (10 + 10 + 20) + (20 + 20)  # out, between and home, for both carers
    assert sol.working[0] == 10 + 30 + 10 + 30 + 20
    assert wait == wait_max == 0  # c1 goes straight from A to B; c2 has one visit
    assert past_end == 0  # hard shift ends: finishing late is impossible, not costed


def test_waiting_is_the_unpaid_gap_between_visits():
    """vd opens at 09:20: c1, done at A at 08:40 and at B by 08:50, waits 30 minutes; c2
    leaves just in time for its one visit (no wait before the first)."""
    weights = {"waiting": 1.5, "max_waiting": 2.0}
    inst = day({"window": {"start": 560}}, weights=weights)
    (v1,), (d0, d1) = tasks(inst, "v1"), tasks(inst, "vd")
    sol = routed(inst, {0: [v1, d0], 1: [d1]})
    assert sol.refresh()
    assert sol.start[v1] == 490 and sol.start[d0] == 560
    assert list(sol.wait) == [30.0, 0.0] and list(sol.wait_max) == [30.0, 0.0]
    assert sol.cost.waiting == 1.5 * 30 and sol.cost.max_waiting == 2.0 * 30


def test_waiting_is_worked_out_for_the_plan_when_it_costs_nothing():
    """With waiting unpriced the kernels skip it (the search's hot path), yet the plan's
    figures still say how long c1 waits."""
    inst = day({"window": {"start": 560}}, weights={"waiting": 0.0, "max_waiting": 0.0})
    assert not inst.prices_time
    (v1,), (d0, d1) = tasks(inst, "v1"), tasks(inst, "vd")
    sol = routed(inst, {0: [v1, d0], 1: [d1]})
    assert sol.refresh()
    assert list(sol.wait) == [0.0, 0.0] and sol.cost.waiting == 0.0
    wait, wait_max, past_end = sol.time_costs()
    assert list(wait) == [30.0, 0.0] and list(wait_max) == [30.0, 0.0] and list(past_end) == [0.0, 0.0]
    assert list(sol.wait) == [0.0, 0.0]  # the search's figures are left as they were


# --- pricing -----------------------------------------------------------------------------


def test_pricing_follows_a_push_into_the_partners_route():
    inst = day(v2=True)
    (v1,), (d0, d1), (v2,) = tasks(inst, "v1"), tasks(inst, "vd"), tasks(inst, "v2")
    sol = Solution(inst)
    sol.replace_routes({0: [v1, d0], 1: [d1]})
    assert sol.refresh()
    before = sol.total
    # v2 first on c2: office-C 10, so it starts at 08:10; C-B is 22, so c2 reaches B at
    # 08:52 and both parts of vd, on two routes, move from 08:50 to 08:52.
    cost, start, new_max = pricing.price_at(
        inst.arrays(), inst.costs(), sol.arrays, sol.scratch(), Placement(v2, 1, 0, -1.0, -1), 0.0, INF
    )
    assert start == 490 and new_max == 0
    # only the detour costs (nothing is late), and c1 waits 2 minutes more at B for c2
    assert cost == pytest.approx(10 + 22 - 20 + inst.w_wait * 2)
    sol.insert(v2, 1, 0)
    assert sol.refresh()
    assert sol.start[d0] == sol.start[d1] == 532
    penalty = inst.visit_penalty[[x.id for x in inst.problem.visits].index("v2")]
    assert sol.total - before == pytest.approx(cost - penalty)  # the price is the real change


def test_a_push_that_breaks_the_partners_window_makes_the_place_impossible():
    inst = day({"window": {"start": 500, "end": 530}}, v2=True)  # vd must start by 08:50
    (v1,), (d0, d1), (v2,) = tasks(inst, "v1"), tasks(inst, "vd"), tasks(inst, "v2")
    sol = Solution(inst)
    sol.replace_routes({0: [v1, d0], 1: [d1]})
    assert sol.refresh()
    cost, _, _ = pricing.price_at(
        inst.arrays(), inst.costs(), sol.arrays, sol.scratch(), Placement(v2, 1, 0, -1.0, -1), 0.0, INF
    )
    assert cost == INF
    # after vd on c2 it fits: c2 is free from 08:50
    cost, start, _ = pricing.price_at(
        inst.arrays(), inst.costs(), sol.arrays, sol.scratch(), Placement(v2, 1, 1, -1.0, -1), 0.0, INF
    )
    assert cost < INF and start == 530 + 30 + 22


def test_single_costs_finds_each_carers_cheapest_place():
    inst = day(v2=True)
    (v1,), (d0, d1), (v2,) = tasks(inst, "v1"), tasks(inst, "vd"), tasks(inst, "v2")
    sol = Solution(inst)
    sol.replace_routes({0: [v1, d0], 1: [d1]})
    assert sol.refresh()
    K = inst.n_carers
    prices = TaskPrices(v2, np.full(K, INF), np.full(K, -1, dtype=np.int64), np.full(K, INF))
    pricing.single_costs(
        inst.arrays(), inst.costs(), sol.arrays, sol.scratch(), prices, np.arange(K, dtype=np.int64), 0.0
    )
    # Every position of each route, re-timed in full: the kernel's choice is the cheapest.
    for k in range(K):
        best = INF
        for p in range(int(sol.L[k]) + 1):
            trial = sol.copy()
            trial.insert(v2, k, p)
            if trial.refresh():
                best = min(best, trial.total - sol.total + inst.visit_penalty[2])
        assert prices.cost[k] == pytest.approx(best)
        assert prices.position[k] >= 0


def test_a_double_visit_is_paired_on_two_carers_at_one_start():
    inst = day()
    (v1,), (d0, d1) = tasks(inst, "v1"), tasks(inst, "vd")
    sol = Solution(inst)
    sol.replace_routes({0: [v1]})
    assert sol.refresh()
    K = inst.n_carers
    data, work = inst.arrays(), sol.scratch()
    parts = []
    for t in (d0, d1):
        prices = TaskPrices(t, np.full(K, INF), np.full(K, -1, dtype=np.int64), np.full(K, INF))
        pricing.single_costs(data, inst.costs(), sol.arrays, work, prices, np.arange(K, dtype=np.int64), 0.0)
        parts.append(prices)
    pair = PairPrices(parts[0], parts[1], -1, 8)
    cost, k0, p0, k1, p1, _ = pricing.best_pair(data, inst.costs(), sol.arrays, work, pair, 0.0)
    assert {k0, k1} == {0, 1}
    before = sol.total
    sol.insert(d0, k0, p0)
    sol.insert(d1, k1, p1)
    assert sol.refresh()
    assert sol.start[d0] == sol.start[d1]  # the two carers meet
    assert sol.total - before == pytest.approx(cost - inst.visit_penalty[1])  # the price is the real change


def test_a_break_left_after_the_last_visit_is_no_break():
    """Regression (a council plan with a 6.4-hour day and no break passed the search): the
    break sat between the last two visits, the last was taken out, and the break was left
    "after" the new last visit, where the timing never puts it, yet counted as placed."""
    problem = make_problem(
        locations=[location("office"), location("a", 10, 0), location("b", 20, 0), location("c", 0, 10)],
        carers=[carer("c1", break_rule={"after_minutes": 60, "duration": 20})],
        clients=[client("A", "a"), client("B", "b"), client("C", "c")],
        visits=[visit("va", "A", start=480), visit("vb", "B", start=480), visit("vc", "C", start=480)],
        travel=matrix_from_coords(COORDS),
    )
    inst = compile_problem(problem)
    (a,), (b,), (c,) = tasks(inst, "va"), tasks(inst, "vb"), tasks(inst, "vc")
    sol = Solution(inst)
    sol.replace_routes({0: [a, b, c]})
    sol.brk[0] = 1  # between vb and vc
    assert sol.refresh_kept() and sol.start[c] - sol.start[b] >= 30 + 22 + 20
    sol.remove_task(c)
    assert sol.brk[0] == -1
    sol.brk[0] = 1  # as the search left it before: "after" vb, the last visit
    routes = sol.arrays
    assert timing.lacks_break(inst.arrays(), routes, 0)  # office-A-B-office is 10+30+10+30+20 > 60
    assert not sol.refresh_kept()


def test_a_soft_shift_end_lets_a_carer_finish_late_at_a_cost():
    """c1 works 08:00-09:00, soft to 10:00; v1 opens at 08:40 at A (10 minutes from the
    office): done 09:10, home 09:20, 20 minutes past the end."""

    def one_visit_day(latest_end: float | None):
        shift = {"start": 480, "end": 540, **({"latest_end": latest_end} if latest_end else {})}
        return compile_problem(
            make_problem(
                locations=[location("office"), location("a", 10, 0)],
                carers=[{"id": "c1", "start_location": "office", "shifts": [shift]}],
                clients=[client("A", "a")],
                visits=[visit("v1", "A", duration=30, start=520)],
                travel=matrix_from_coords(COORDS[:2]),
                weights={"past_shift_end": 3.0},
            )
        )

    soft = one_visit_day(600)
    sol = routed(soft, {0: tasks(soft, "v1")})
    assert sol.refresh()
    assert sol.past_end[0] == 20 and sol.cost.past_shift_end == 3.0 * 20
    hard = one_visit_day(None)
    assert not routed(hard, {0: tasks(hard, "v1")}).refresh()  # a hard end: not at all
