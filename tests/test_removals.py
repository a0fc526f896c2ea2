"""What the search's "worst" removal takes out (``lns.removal_savings``).

On random days (breaks, split shifts, double-handed visits) with a plan built by
insertion, each planned visit's score is what its parts cost where they are: the detour
to each part (travel there and on, less the travel that would skip it, from home or to
home at either end of a route) weighted as travel, plus its lateness and assignment cost,
worked out here one part at a time. A visit not planned scores 0, and the removal takes
out only planned visits, as many as asked.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from carescheduler.search.insertion import insert_visits
from carescheduler.search.instance import compile_problem
from carescheduler.search.lns import _worst_removal, removal_savings
from carescheduler.search.solution import Solution
from random_days import problems
from test_solver_properties import PROPERTY_SETTINGS


def _one_part_at_a_time(sol: Solution, v: int) -> float:
    inst = sol.inst
    total = 0.0
    for t in inst.visit_tasks[v]:
        if t < 0 or sol.route_of[t] < 0:
            continue
        k = int(sol.route_of[t])
        route = list(sol.route(k))
        p = route.index(t)
        travel = inst.travel[inst.carer_mode[k]]
        before = inst.carer_start[k] if p == 0 else inst.task_loc[route[p - 1]]
        after = inst.carer_end[k] if p == len(route) - 1 else inst.task_loc[route[p + 1]]
        here = inst.task_loc[t]
        total += inst.w_travel * (travel[before, here] + travel[here, after] - travel[before, after])
        total += inst.w_late * sol.late[t] + inst.assign_cost[t, k]
    return total


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problems())
def test_each_visit_scores_what_its_parts_cost_where_they_are(problem) -> None:
    inst = compile_problem(problem)
    sol = Solution(inst)
    sol.refresh()
    rng = np.random.default_rng(1)
    insert_visits(sol, [int(v) for v in rng.permutation(inst.n_visits)], rng, in_order=True)
    scores = removal_savings(sol)
    assert len(scores) >= inst.n_visits
    for v in range(inst.n_visits):
        assert np.isclose(scores[v], _one_part_at_a_time(sol, v)), v
    assigned = set(map(int, sol.assigned_visits()))
    q = max(1, len(assigned) // 2)
    taken = [int(v) for v in _worst_removal(sol, q, rng)]
    assert len(taken) == min(q, len(assigned)) == len(set(taken))
    assert set(taken) <= assigned
