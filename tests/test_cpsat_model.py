"""The CP-SAT sub-model on its own: the routes it returns are optimal on days small enough to
check by hand, keep the hard rules, and respect everything frozen outside it."""

from __future__ import annotations

import pytest

from carescheduler.search.cpsat_model import solve_subproblem, take_routes, time_scale
from carescheduler.search.instance import compile_problem
from carescheduler.search.solution import Solution
from carescheduler.search.solver import plan_from_solution
from problem_factory import assert_valid, carer, client, location, make_problem, matrix_from_coords, visit

# office, then clients on a line east of it: A 10 min away, B 20, C 30 (and back)
COORDS = [(0, 0), (10, 0), (20, 0), (30, 0)]
PLACES = [location("office"), location("a", 10, 0), location("b", 20, 0), location("c", 30, 0)]
CLIENTS = [client("A", "a"), client("B", "b"), client("C", "c")]


def compiled(carers, visits, weights=None, skills=("hoist", "meds", "dementia")):
    problem = make_problem(
        locations=PLACES,
        carers=carers,
        clients=CLIENTS,
        visits=visits,
        travel=matrix_from_coords(COORDS),
        weights=weights,
        skills=skills,
    )
    return problem, compile_problem(problem)


def solved(inst, carers=None, visits=None, sol=None, seconds=10.0):
    sol = sol or Solution(inst)
    sol.refresh()
    carers = list(range(inst.n_carers)) if carers is None else carers
    visits = list(range(inst.n_visits)) if visits is None else visits
    result = solve_subproblem(inst, sol, carers, visits, seconds, deterministic=True)
    assert result is not None
    return sol, result


def test_one_carer_visits_a_line_of_clients_in_order():
    # A and B want early calls, C a late one: out along the line (60 minutes there and back)
    # and every call on time is the one best plan.
    visits = [
        visit("vC", "C", duration=10, start=480, target={"start": 530, "end": 600}),
        visit("vA", "A", duration=10, start=480, target={"start": 480, "end": 500}),
        visit("vB", "B", duration=10, start=480, target={"start": 480, "end": 520}),
    ]
    _, inst = compiled([carer("c1")], visits)
    sol, result = solved(inst)
    assert result.status == "OPTIMAL"
    order = [inst.problem.visits[inst.task_visit[t]].id for t in result.routes[0]]
    assert order == ["vA", "vB", "vC"]
    assert take_routes(sol, result, [0], list(range(inst.n_visits)))
    assert sol.cost.travel == pytest.approx(60) and sol.cost.lateness == 0 and sol.cost.earliness == 0
    assert result.objective == pytest.approx(sol.total)


def test_a_skill_only_one_carer_has_decides_who_goes():
    _, inst = compiled(
        [carer("c1"), carer("c2", skills=["hoist"])],
        [visit("vA", "A", start=480), visit("vC", "C", start=480, skills=["hoist"])],
    )
    sol, result = solved(inst)
    assert take_routes(sol, result, [0, 1], [0, 1])
    v_c = inst.visit_tasks[1, 0]
    assert sol.route_of[v_c] == 1


def test_a_double_visit_goes_to_two_carers_at_one_time():
    problem, inst = compiled(
        [carer("c1"), carer("c2")],
        [visit("vA", "A", duration=30, start=480), visit("vB", "B", duration=30, start=480, carers_needed=2)],
    )
    sol, result = solved(inst)
    assert take_routes(sol, result, [0, 1], [0, 1])
    d0, d1 = inst.visit_tasks[1]
    assert {sol.route_of[d0], sol.route_of[d1]} == {0, 1}
    assert sol.start[d0] == sol.start[d1]
    assert_valid(problem, plan_from_solution(sol))


def test_a_partner_frozen_on_another_route_fixes_the_start():
    problem, inst = compiled(
        [carer("c1"), carer("c2"), carer("c3")],
        [visit("vA", "A", duration=30, start=480), visit("vC", "C", duration=30, start=480, carers_needed=2)],
    )
    d0, d1 = (int(t) for t in inst.visit_tasks[1])
    sol = Solution(inst)
    sol.replace_routes({0: [0, d0], 2: [d1]})  # c1 does A then C; c3 has the other part
    assert sol.refresh()
    frozen_start = sol.start[d1]
    # Re-plan c1 and c2 only: c3's part stays, so whoever takes part 0 meets c3 there.
    result = solve_subproblem(inst, sol, [0, 1], [0, 1], 10.0, deterministic=True)
    assert result is not None
    assert take_routes(sol, result, [0, 1], [0, 1])
    assert sol.route_of[d1] == 2 and sol.route_of[d0] in (0, 1)
    assert sol.start[d0] == sol.start[d1] == frozen_start
    assert_valid(problem, plan_from_solution(sol))


def test_a_long_day_gets_its_break_between_visits():
    rule = {"after_minutes": 240, "duration": 30}
    problem, inst = compiled(
        [carer("c1", break_rule=rule)],
        [visit("vA", "A", duration=120, start=480), visit("vB", "B", duration=120, start=480)],
    )
    sol, result = solved(inst)
    assert take_routes(sol, result, [0], [0, 1])
    plan = plan_from_solution(sol)
    assert len(plan.routes[0].breaks) == 1
    first, second = plan.routes[0].visits
    assert second.start - first.end >= 30 + 10  # the break and the journey
    assert_valid(problem, plan)


def test_a_visit_nobody_can_fit_is_left_out_and_costs_its_penalty():
    problem, inst = compiled(
        [carer("c1", shifts=[(480, 540)])],
        [visit("vA", "A", duration=30, start=480), visit("vC", "C", duration=30, start=480)],
    )
    sol, result = solved(inst)
    assert take_routes(sol, result, [0], [0, 1])
    assert list(sol.unassigned_visits()) == [1]  # C and back do not fit in an hour after A
    assert result.objective == pytest.approx(sol.total)
    assert sol.cost.unassigned == problem.weights.unassigned_mandatory


@pytest.mark.parametrize(("weight", "goes"), [(3.0, "c2"), (0.5, "c1")])
def test_finishing_past_a_soft_shift_end_is_priced(weight, goes):
    """c1 lives by A but is home 20 minutes past the soft end of their shift (08:00-09:00,
    up to 10:00) if they take vA; c2, from C, travels 20 minutes more. At 3 per minute the
    late finish costs more than the journey, at 0.5 less; the model's cost is the plan's."""
    shift = {"start": 480, "end": 540, "latest_end": 600}
    _, inst = compiled(
        [carer("c1") | {"shifts": [shift]}, carer("c2", start="c")],
        [visit("vA", "A", duration=30, start=520)],
        weights={"past_shift_end": weight},
    )
    sol, result = solved(inst)
    assert result.status == "OPTIMAL"
    assert take_routes(sol, result, [0, 1], [0])
    assert inst.problem.carers[sol.route_of[0]].id == goes
    assert sol.cost.past_shift_end == pytest.approx(weight * 20 if goes == "c1" else 0.0)
    assert result.objective == pytest.approx(sol.total)


@pytest.mark.parametrize(("weight", "goes"), [(0.5, "c2"), (0.0, "c1")])
def test_waiting_is_priced(weight, goes):
    """vA must start by 08:20; vB opens at 10:00. c1, after vA, would wait at B over an
    hour for 20 minutes' more travel; c2 starts at 09:50 and travels 40. Priced at 0.5 a
    minute the wait sends c2; unpriced, c1 goes."""
    _, inst = compiled(
        [carer("c1"), carer("c2", shifts=[(590, 960)])],
        [visit("vA", "A", duration=10, start=480, end=500), visit("vB", "B", duration=10, start=600)],
        weights={"waiting": weight},
    )
    sol, result = solved(inst)
    assert take_routes(sol, result, [0, 1], [0, 1])
    v_b = inst.visit_tasks[1, 0]
    assert inst.problem.carers[sol.route_of[v_b]].id == goes
    waiting, _, _ = sol.time_costs()
    assert waiting.sum() == (0.0 if goes == "c2" else 90.0)  # c1: vA 08:10-08:20, at B 08:30


@pytest.mark.parametrize(
    ("weights", "goes"),
    [
        ({"waiting": 0.0, "max_waiting": 0.5}, "c2"),  # the longest wait, gap by gap
        ({"waiting": 0.0, "max_waiting": 0.0}, "c1"),
    ],
)
def test_the_longest_wait_is_priced(weights, goes):
    """As ``test_waiting_is_priced``, with only the longest wait weighted: c1's 90-minute
    wait would be the day's longest."""
    _, inst = compiled(
        [carer("c1"), carer("c2", shifts=[(590, 960)])],
        [visit("vA", "A", duration=10, start=480, end=500), visit("vB", "B", duration=10, start=600)],
        weights=weights,
    )
    sol, result = solved(inst)
    assert take_routes(sol, result, [0, 1], [0, 1])
    assert inst.problem.carers[sol.route_of[inst.visit_tasks[1, 0]]].id == goes


@pytest.mark.parametrize(("weight", "goes"), [(2.0, "c2"), (0.0, "c1")])
def test_waiting_is_priced_for_a_carer_with_split_shifts(weight, goes):
    """c1 works 08:00-09:00 and 09:30-12:00 and does vA (by 08:20) and vB (by 10:00); vC
    opens at 11:00. After vB c1 would wait 40 minutes at C at best, for 20 minutes' more
    travel; c2 (from 10:30) travels 60. At 2 a minute c2 goes; unpriced, c1. The time
    between c1's shifts is not waiting: where c2 goes, the model's cost is the plan's."""
    _, inst = compiled(
        [carer("c1", shifts=[(480, 540), (570, 720)]), carer("c2", shifts=[(630, 900)])],
        [
            visit("vA", "A", duration=10, start=480, end=500),
            visit("vB", "B", duration=10, start=580, end=600),
            visit("vC", "C", duration=10, start=660),
        ],
        weights={"waiting": weight},
    )
    sol, result = solved(inst)
    assert take_routes(sol, result, [0, 1], [0, 1, 2])
    who = {
        inst.problem.visits[inst.task_visit[t]].id: inst.problem.carers[k].id for k in range(2) for t in sol.route(k)
    }
    assert who == {"vA": "c1", "vB": "c1", "vC": goes}
    if goes == "c2":
        assert result.objective == pytest.approx(sol.total)


def test_the_hint_is_never_beaten_by_a_worse_answer():
    _, inst = compiled(
        [carer("c1"), carer("c2")], [visit(f"v{x}", x, duration=20, start=480 + 20 * i) for i, x in enumerate("ABC")]
    )
    incumbent = Solution(inst)
    incumbent.replace_routes({0: [0, 1, 2]})
    assert incumbent.refresh()
    _, result = solved(inst, sol=incumbent.copy())
    assert result.objective <= incumbent.total + 1e-6


def test_time_scale_is_whole_minutes_unless_the_data_have_fractions():
    _, whole = compiled([carer("c1")], [visit("vA", "A", start=480)])
    _, fractional = compiled([carer("c1")], [visit("vA", "A", start=480, duration=12.5)])
    assert time_scale(whole) == 1
    assert time_scale(fractional) == 100
