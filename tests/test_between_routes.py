"""Moves between routes after a repair (``search.between_routes``).

(a) On random small days (breaks, split shifts, soft ends, double-handed visits), a plan
    built in a random order and then improved by moves around every visit is one the
    independent validator accepts, costing what the solver says it costs and no more
    than before; every part of a double-handed visit keeps its carer and its start.
(b) Two carers whose days cross (each drives to the other's side of town and back)
    swap the ends of their days (2-opt*): the plan gets cheaper, every visit ends up with
    the carer on its side, and the plan is valid.
(c) A move that would give a visit to a carer who may not do it (a skill they lack) is
    never made, even where it saves travel.
(d) A visit is moved next to its nearest neighbour on another route when that saves
    travel, and nothing moves when no move saves any.
(e) A visit moves within its own route when that saves travel.
(f) Carers who do a double-handed visit together before their days cross still swap the
    ends of their days, the visit's two parts staying with them at their times.
(g) A move that saves travel but would start a part of a double-handed visit later than
    its partner expects is turned down.
(h) A move turned down is undone in full: whatever it changed on its two carers' routes
    and their visits, in every array of the plan (one added later included), is as it was.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from carescheduler.scenarios.demo import demo_problem
from carescheduler.search import between_routes
from carescheduler.search.insertion import insert_visits
from carescheduler.search.instance import compile_problem
from carescheduler.search.solution import Solution
from carescheduler.search.solver import plan_from_solution
from problem_factory import assert_valid, carer, client, location, make_problem, visit
from random_days import problems
from test_solver_properties import PROPERTY_SETTINGS, _close


def _improve(sol: Solution, seeds=None, tries: int = 10_000) -> int:
    """Run the moves around ``seeds`` (every task when None); how many were kept."""
    inst = sol.inst
    seeds = np.arange(inst.n_tasks, dtype=np.int64) if seeds is None else np.asarray(seeds, dtype=np.int64)
    terms, kept = between_routes.improve(
        inst.arrays(),
        inst.costs(),
        sol.arrays,
        sol.figures,
        inst.w_maxwait,
        0,
        between_routes.no_neighbours(inst.n_tasks),
        seeds,
        tries,
    )
    sol.take(terms)
    return kept


def _built(problem, order: list[int] | None = None, seed: int = 0) -> Solution:
    inst = compile_problem(problem)
    sol = Solution(inst)
    sol.refresh()
    rng = np.random.default_rng(seed)
    order = [int(v) for v in rng.permutation(inst.n_visits)] if order is None else order
    insert_visits(sol, order, rng, in_order=True)
    return sol


@settings(max_examples=80, **PROPERTY_SETTINGS)
@given(problems())
def test_moves_between_routes_keep_the_plan_valid_and_never_dearer(problem) -> None:
    sol = _built(problem, seed=5)
    if not sol.timed:
        return
    inst = sol.inst
    before = sol.total
    parts = np.flatnonzero((inst.task_partner >= 0) & (sol.route_of >= 0))
    carers, starts = sol.route_of[parts].copy(), sol.start[parts].copy()
    _improve(sol)
    assert sol.feasible
    assert sol.total <= before + 1e-6
    assert (sol.route_of[parts] == carers).all()
    assert np.allclose(sol.start[parts], starts)
    report = assert_valid(problem, plan_from_solution(sol))
    assert _close(report.cost.total, sol.total), (report.cost.total, sol.total)


def _crossing_day(west_needs: list[str] | None = None):
    """Two carers, one living west and one east, and two visits on each side: each
    carer's morning visit is near home, the afternoon one on the other side. The west
    visit of the afternoon may need a skill only the east carer has."""
    locations = [
        location("west_home", 0, 0),
        location("east_home", 100, 0),
        location("w1", 5, 0),
        location("w2", 8, 0),
        location("e1", 95, 0),
        location("e2", 92, 0),
    ]
    clients = [client(c, c) for c in ("w1", "w2", "e1", "e2")]
    visits = [
        visit("vw1", "w1", 30, 480, 600),
        visit("ve2", "e2", 30, 600, 900),
        visit("ve1", "e1", 30, 480, 600),
        visit("vw2", "w2", 30, 600, 900, skills=west_needs or []),
    ]
    carers = [
        carer("west", "west_home", ((420, 1080),), skills=[]),
        carer("east", "east_home", ((420, 1080),), skills=["hoist"]),
    ]
    return make_problem(locations=locations, clients=clients, visits=visits, carers=carers)


def _crossing_plan(problem) -> Solution:
    inst = compile_problem(problem)
    sol = Solution(inst)
    ids = {v.id: i for i, v in enumerate(problem.visits)}
    task = inst.visit_tasks[:, 0]
    sol.replace_routes(
        {
            0: [int(task[ids["vw1"]]), int(task[ids["ve2"]])],
            1: [int(task[ids["ve1"]]), int(task[ids["vw2"]])],
        }
    )
    assert sol.refresh()
    return sol


def _carers_of(problem, sol: Solution) -> dict[str, int]:
    return {v.id: int(sol.route_of[sol.inst.visit_tasks[i, 0]]) for i, v in enumerate(problem.visits)}


def test_carers_whose_days_cross_swap_the_ends_of_their_days() -> None:
    problem = _crossing_day()
    sol = _crossing_plan(problem)
    before = sol.total
    assert _improve(sol) >= 1
    assert sol.total < before - 1.0
    assert _carers_of(problem, sol) == {"vw1": 0, "vw2": 0, "ve1": 1, "ve2": 1}
    report = assert_valid(problem, plan_from_solution(sol))
    assert _close(report.cost.total, sol.total)


def test_a_visit_never_goes_to_a_carer_who_may_not_do_it() -> None:
    problem = _crossing_day(west_needs=["hoist"])
    sol = _crossing_plan(problem)
    _improve(sol)
    assert _carers_of(problem, sol)["vw2"] == 1  # only the east carer has the skill
    assert_valid(problem, plan_from_solution(sol))


def test_a_visit_joins_its_neighbour_when_that_saves_travel_and_nothing_moves_otherwise() -> None:
    locations = [
        location("office", 0, 0),
        location("a", 10, 0),
        location("b", 11, 0),
        location("c", 0, 10),
    ]
    clients = [client(c, c) for c in ("a", "b", "c")]
    visits = [visit("va", "a", 30, 480, 900), visit("vb", "b", 30, 480, 900), visit("vc", "c", 30, 480, 900)]
    carers = [carer("one"), carer("two")]
    problem = make_problem(locations=locations, clients=clients, visits=visits, carers=carers)
    inst = compile_problem(problem)
    sol = Solution(inst)
    task = inst.visit_tasks[:, 0]
    sol.replace_routes({0: [int(task[0]), int(task[2])], 1: [int(task[1])]})
    assert sol.refresh()
    before = sol.total
    assert _improve(sol) >= 1
    assert sol.total < before
    assert sol.route_of[task[0]] == sol.route_of[task[1]]
    settled = sol.arrays.R.copy()
    assert _improve(sol) == 0
    assert (settled == sol.arrays.R).all()


def test_a_visit_moves_within_its_route_when_that_saves_travel() -> None:
    locations = [location("office", 0, 0), location("a", 10, 0), location("b", 20, 0), location("c", 30, 0)]
    clients = [client(c, c) for c in ("a", "b", "c")]
    visits = [visit(f"v{c}", c, 30, 480, 1000) for c in ("a", "b", "c")]
    problem = make_problem(
        locations=locations, clients=clients, visits=visits, carers=[carer("one", shifts=((420, 1080),))]
    )
    inst = compile_problem(problem)
    sol = Solution(inst)
    task = inst.visit_tasks[:, 0]
    sol.replace_routes({0: [int(task[2]), int(task[0]), int(task[1])]})  # c, a, b: out and back twice
    assert sol.refresh()
    before = sol.total
    assert _improve(sol) >= 1
    assert sol.total < before
    assert sol.route(0) in ([int(t) for t in task], [int(t) for t in task[::-1]])
    assert_valid(problem, plan_from_solution(sol))


def test_days_with_a_double_handed_visit_still_swap_their_ends_around_it() -> None:
    base = _crossing_day()
    data = base.model_dump(mode="json")
    data["locations"].append(location("mid", 50, 0))
    data["clients"].append(client("pm", "mid"))
    data["visits"].append(visit("vd", "pm", 20, 420, 470, carers_needed=2))
    problem = type(base).model_validate(data)
    inst = compile_problem(problem)
    sol = Solution(inst)
    ids = {v.id: i for i, v in enumerate(problem.visits)}
    task = inst.visit_tasks[:, 0]
    d0, d1 = (int(t) for t in inst.visit_tasks[ids["vd"]])
    sol.replace_routes(
        {
            0: [d0, int(task[ids["vw1"]]), int(task[ids["ve2"]])],
            1: [d1, int(task[ids["ve1"]]), int(task[ids["vw2"]])],
        }
    )
    assert sol.refresh()
    starts = sol.start[[d0, d1]].copy()
    before = sol.total
    assert _improve(sol) >= 1
    assert sol.total < before - 1.0
    assert _carers_of(problem, sol) == {"vw1": 0, "vw2": 0, "ve1": 1, "ve2": 1, "vd": 0}
    assert sol.route_of[d0] == 0 and sol.route_of[d1] == 1
    assert np.allclose(sol.start[[d0, d1]], starts)
    assert_valid(problem, plan_from_solution(sol))


def test_a_move_that_would_start_a_double_handed_part_later_is_turned_down() -> None:
    """Carer A goes out to a double-handed visit with B at 08:00 and straight home before
    their shift ends at 09:20; B then calls on a client on A's way. Taking that call on
    the way out saves A and B ten minutes' travel, but A would reach the shared visit only
    at 08:20, after B started it: not a move to make."""
    xs = {"home_a": 0, "home_b": 100, "mid": 50, "y": 45}
    names = list(xs)
    travel = [[abs(xs[a] - xs[b]) for b in names] for a in names]
    problem = make_problem(
        locations=[location(n, xs[n], 0) for n in names],
        clients=[client("pm", "mid"), client("py", "y")],
        visits=[visit("vd", "pm", 10, 480, 520, carers_needed=2), visit("vy", "py", 30, 420, 900)],
        carers=[carer("a", "home_a", ((420, 560),)), carer("b", "home_b", ((420, 1080),))],
        travel=travel,
    )
    inst = compile_problem(problem)
    sol = Solution(inst)
    d0, d1 = (int(t) for t in inst.visit_tasks[0])
    y = int(inst.visit_tasks[1, 0])
    sol.replace_routes({0: [d0], 1: [d1, y]})
    assert sol.refresh()
    starts = sol.start[[d0, d1]].copy()
    assert _improve(sol) == 0
    assert sol.route(0) == [d0] and sol.route(1) == [d1, y]
    assert np.allclose(sol.start[[d0, d1]], starts)
    assert_valid(problem, plan_from_solution(sol))


def test_a_move_undone_leaves_every_array_of_its_two_routes_as_it_was() -> None:
    sol = _built(demo_problem(clients=30, carers=10, seed=3))
    inst, routes, figures = sol.inst, sol.arrays, sol.figures
    K, T, M = inst.n_carers, inst.n_tasks, routes.R.shape[1]
    assert K not in (T, M)  # per carer and per task arrays are told apart by their length
    k1, k2 = (int(k) for k in np.argsort(-routes.L)[:2])
    on_them = np.concatenate([routes.R[k, : routes.L[k]] for k in (k1, k2)])
    arrays = {f"routes.{n}": a for n, a in routes._asdict().items()}
    arrays |= {f"figures.{n}": a for n, a in figures._asdict().items()}
    before = {n: a.copy() for n, a in arrays.items()}
    rows, per_carer = np.empty((2, M), dtype=np.int64), np.empty((2, 7))
    tasks, per_task = np.empty(2 * M, dtype=np.int64), np.empty((2 * M, 5))
    n = between_routes._keep(routes, figures, k1, k2, rows, per_carer, tasks, per_task)
    # what a move may do: the two routes' tasks traded, and everything of theirs changed
    routes.R[[k1, k2]] = routes.R[[k2, k1]]
    for a in arrays.values():
        index = [k1, k2] if len(a) == K else on_them
        a[index] = a[index] + 7
    between_routes._put_back(routes, figures, k1, k2, rows, per_carer, tasks, per_task, n)
    for name, a in arrays.items():
        assert np.array_equal(a, before[name]), f"{name} not put back"
