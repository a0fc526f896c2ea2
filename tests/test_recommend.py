"""Recommendations: the carers offered can take the visit, the others are refused for a
true reason, and the carer who had a visit is always able to take it back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carescheduler.day.recommend import Recommender, _twin_parts, recommend
from carescheduler.domain import Client, Location, Problem, Visit
from carescheduler.errors import InputError
from carescheduler.plan import Plan, UnassignedVisit
from carescheduler.search.solver import solve
from carescheduler.validator import validate
from random_days import problems
from test_insertion import _half_built, _prices
from test_solver_properties import PROPERTY_SETTINGS


def _without(plan: Plan, visit_id: str) -> Plan:
    """The plan with one visit taken out (and listed as unassigned)."""
    routes = [r.model_copy(update={"visits": [pv for pv in r.visits if pv.visit != visit_id]}) for r in plan.routes]
    return plan.model_copy(
        update={"routes": routes, "unassigned": [*plan.unassigned, UnassignedVisit(visit=visit_id, reason="out")]}
    )


def _check_reasons(problem: Problem, visit: Visit, answer) -> None:
    client = problem.client(visit.client)
    skills = set(visit.skills) | {s for p in visit.parts or [] for s in p.skills}
    for item in answer.unavailable:
        carer = problem.carer(item.carer)
        if item.code == "skill":
            assert not all(
                set(visit.part_skills(p)) <= set(carer.skills) for p in range(visit.carers_needed)
            ) and skills - set(carer.skills)
        elif item.code == "gender":
            assert client.gender_requirement is not None and carer.gender != client.gender_requirement
        elif item.code == "banned":
            assert carer.id in client.banned_carers
        elif item.code == "pinned":
            assert visit.pinned_carers and carer.id not in visit.pinned_carers
    offered = [o.carer for o in answer.options]
    assert len(offered) == len(set(offered))
    partners = {o.partner for o in answer.options if o.partner}
    assert not (set(offered) | partners) & {u.carer for u in answer.unavailable}
    assert [o.cost_delta for o in answer.options] == sorted(o.cost_delta for o in answer.options)


@st.composite
def _days_with_a_visit_to_plan(draw) -> Problem:
    """A random day plus a 10-minute call at the first carer's home, open from their first
    shift on, that no rule keeps from them: alone in their day it fits every shift, break
    and working-time limit, and as a mandatory visit it is worth planning. So the plan
    always has a planned visit to take out (this one, or what fills the carer's day)."""
    problem = draw(problems())
    first = problem.carers[0]
    home = Client(id="easy", location=first.start_location)
    call = Visit(id="easy1", client="easy", duration=10, window={"start": first.shifts[0].start})
    day = problem.model_copy(update={"clients": [*problem.clients, home], "visits": [*problem.visits, call]})
    return Problem.model_validate(day.model_dump())


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problem=_days_with_a_visit_to_plan(), pick=st.integers(0, 100))
def test_the_carer_who_had_a_visit_can_take_it_back(problem: Problem, pick: int) -> None:
    plan = solve(problem, time_limit=2, seed=0, max_iterations=20)
    planned: dict[str, list[str]] = {}
    for r in plan.routes:
        for pv in r.visits:
            planned.setdefault(pv.visit, []).append(r.carer)
    assert planned, "the day's easy call is always worth planning"
    visit = problem.visit(sorted(planned)[pick % len(planned)])
    holders = planned[visit.id]
    who, partner = holders[0], (holders[1] if len(holders) > 1 else None)
    without = _without(plan, visit.id)
    recommender = Recommender(problem, without)
    answer = recommender.recommend(visit.id, top=len(problem.carers))
    _check_reasons(problem, visit, answer)
    # offered: with a place for every carer (top), no carer is left out as costlier
    assert who in {o.carer for o in answer.options} | {o.partner for o in answer.options}, answer
    for option in answer.options:
        window = visit.window
        assert window.start - 1e-6 <= option.start <= (window.end if window.end is not None else 1e9) + 1e-6
        carer = problem.carer(option.carer)
        assert any(
            s.start - 1e-6 <= option.start and option.start + visit.part_duration(0) <= s.end + 1e-6
            for s in carer.shifts
        )
    # and taken back (by both carers for a double-handed visit): a valid day that costs no
    # more than the plan it was taken out of, whose place for it is one the move tries.
    # Unless taking it out broke the rest of the day: with split shifts, the carer whose
    # day-last visit went must now get home from an earlier shift's last, which may not fit.
    back = recommender.move(visit.id, who, partner)
    report = validate(problem, back.plan)
    assert report.valid, report.violations
    assert sorted(r.carer for r in back.plan.routes for pv in r.visits if pv.visit == visit.id) == sorted(holders)
    if validate(problem, without).valid:
        assert report.cost.total <= validate(problem, plan).cost.total + 1e-6, (back.plan.cost, plan.cost)


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(problem=problems())
def test_twin_parts_of_a_double_handed_visit_price_alike(problem: Problem) -> None:
    """A recommendation prices a double-handed visit's second part from its first when
    the two are alike in what pricing reads: they must then cost the same everywhere."""
    sol, out = _half_built(problem, seed=29)
    inst = sol.inst
    for v in out:
        t0, t1 = (int(t) for t in inst.visit_tasks[v])
        if t1 >= 0 and _twin_parts(inst, t0, t1):
            assert np.array_equal(_prices(sol, t0, False), _prices(sol, t1, False))


def _street() -> Problem:
    from problem_factory import carer, client, location, matrix_from_coords, problem_dict, visit

    coords = [(0, 0), (4, 0), (8, 0), (12, 0)]
    locations = [location("office", 0, 0), location("A", 4, 0), location("B", 8, 0), location("C", 12, 0)]
    carers = [
        carer("nurse", shifts=[(480, 960)], skills=["meds"], gender="female"),
        carer("helper", shifts=[(480, 960)], gender="male"),
        carer("late", shifts=[(900, 1200)], skills=["meds"], gender="female"),
    ]
    clients = [client("a", "A"), client("b", "B", banned_carers=["helper"]), client("c", "C")]
    visits = [
        visit("a1", "a", 30, start=480, end=540),
        visit("b1", "b", 30, start=540, end=600),
        visit("c1", "c", 30, start=600, end=660),
    ]
    return Problem.model_validate(problem_dict(locations, carers, clients, visits, travel=matrix_from_coords(coords)))


@pytest.fixture(scope="module")
def street() -> tuple[Problem, Plan]:
    problem = _street()
    return problem, solve(problem, time_limit=2, seed=0, max_iterations=20)


def test_a_new_client_at_a_new_place_gets_options_and_reasons(street) -> None:
    problem, plan = street
    visit = Visit(id="n1", client="new", duration=20, skills=["meds"], window={"start": "11:00", "end": "12:00"})
    answer = recommend(
        problem,
        plan,
        visit,
        top=3,
        client=Client(id="new", location="N", gender_requirement="female"),
        location=Location(id="N", x=6, y=1),
    )
    assert [o.carer for o in answer.options] == ["nurse"]
    reasons = {u.carer: u.code for u in answer.unavailable}
    assert reasons == {"helper": "skill", "late": "shift"}
    option = answer.options[0]
    assert 660 <= option.start <= 720 and option.travel_delta > 0
    assert option.after in {"a1", "b1", "c1"}


def test_a_double_handed_visit_is_offered_in_pairs(street) -> None:
    problem, plan = street
    visit = Visit(id="n2", client="a", duration=30, carers_needed=2, window={"start": "09:00", "end": "14:00"})
    answer = Recommender(problem, plan).recommend(visit)
    assert answer.options and all(o.partner is not None and o.partner != o.carer for o in answer.options)
    assert {answer.options[0].carer, answer.options[0].partner} == {"nurse", "helper"}


def test_now_rules_out_the_past(street) -> None:
    problem, plan = street
    visit = Visit(id="n3", client="c", duration=20, window={"start": "08:00", "end": "09:00"})
    answer = Recommender(problem, plan, now="10:00").recommend(visit)
    assert not answer.options
    assert all(u.code == "time" and "has passed" in u.reason for u in answer.unavailable)


def test_a_visit_may_come_as_json_data(street) -> None:
    problem, plan = street
    data = {
        "visit": {"id": "n6", "client": "new", "duration": 20, "window": {"start": "11:00", "end": "12:00"}},
        "client": {"id": "new", "location": "N"},
        "location": {"id": "N", "x": 6, "y": 1},
    }
    answer = Recommender(problem, plan).recommend(data)
    assert answer.visit == "n6" and answer.options
    with pytest.raises(InputError) as caught:
        Recommender(problem, plan).recommend({"id": "n7", "client": "a"})
    assert caught.value.field == "visit.duration" and "Field required" in caught.value.reason


def test_a_recommender_answers_repeatedly_without_drifting(street) -> None:
    problem, plan = street
    recommender = Recommender(problem, plan)
    visit = Visit(id="n4", client="b", duration=15, window={"start": "10:00", "end": "16:00"})
    first = recommender.recommend(visit)
    recommender.recommend(Visit(id="n5", client="a", duration=60, carers_needed=2, window={"start": "08:00"}))
    recommender.recommend("b1")
    assert recommender.recommend(visit) == first


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda r: r.recommend("nope"), "visit"),
        (lambda r: r.recommend(Visit(id="a1", client="a", duration=10)), "visit.id"),
        (lambda r: r.recommend(Visit(id="x", client="ghost", duration=10)), "visit.client"),
        (
            lambda r: r.recommend(Visit(id="x", client="q", duration=10), client=Client(id="q", location="nowhere")),
            "client.location",
        ),
        (lambda r: r.recommend("a1", top=0), "top"),
    ],
)
def test_bad_questions_name_the_field(street, call, field) -> None:
    problem, plan = street
    with pytest.raises(InputError) as caught:
        call(Recommender(problem, plan))
    assert caught.value.field == field
