"""Moving a visit to another carer: the plan that comes back is valid (the validator
agrees, and on its cost), has the visit on the chosen carers and lists what changed; a
carer who cannot take it is refused with the reason a recommendation gives; the
Recommender answers as before afterwards."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carescheduler.day.moves import MoveRefused, MoveResult, move_visit
from carescheduler.day.recommend import Recommender
from carescheduler.domain import Problem
from carescheduler.errors import InputError
from carescheduler.plan import Plan
from carescheduler.search.solver import solve
from carescheduler.validator import validate
from problem_factory import carer, client, location, matrix_from_coords, problem_dict, visit
from random_days import problems
from test_recommend import _without
from test_solver_properties import PROPERTY_SETTINGS, _check_cost


def _street() -> Problem:
    """Four places on a line; a nurse (meds, female), a male helper banned by client b,
    a late nurse from 15:00; three single calls, one needing meds for a client who needs
    a woman, and a double-handed call that the late nurse can join after 15:00."""
    coords = [(0, 0), (4, 0), (8, 0), (12, 0)]
    locations = [location("office", 0, 0), location("A", 4, 0), location("B", 8, 0), location("C", 12, 0)]
    carers = [
        carer("nurse", shifts=[(480, 960)], skills=["meds"], gender="female"),
        carer("helper", shifts=[(480, 960)], gender="male"),
        carer("late", shifts=[(900, 1200)], skills=["meds"], gender="female"),
    ]
    clients = [
        client("a", "A"),
        client("b", "B", banned_carers=["helper"]),
        client("c", "C"),
        client("d", "C", gender_requirement="female"),
    ]
    visits = [
        visit("a1", "a", 30, start=480, end=540),
        visit("b1", "b", 30, start=540, end=600),
        visit("c1", "c", 30, start=600, end=660),
        visit("m1", "d", 20, start=660, end=960, skills=["meds"]),
        visit("h1", "a", 30, start=720, end=930, carers_needed=2),
    ]
    return Problem.model_validate(problem_dict(locations, carers, clients, visits, travel=matrix_from_coords(coords)))


@pytest.fixture(scope="module")
def street() -> tuple[Problem, Plan]:
    problem = _street()
    plan = solve(problem, time_limit=2, seed=0, max_iterations=20)
    assert not plan.unassigned, plan.unassigned
    return problem, plan


def _carers_of(plan: Plan, visit_id: str) -> set[str]:
    return {r.carer for r in plan.routes for pv in r.visits if pv.visit == visit_id}


def _check(result: MoveResult, visit_id: str, carers: set[str]) -> None:
    """Valid, priced as the validator prices it, the visit with ``carers``."""
    report = validate(result.problem, result.plan)
    assert report.valid, report.violations
    _check_cost(result.plan, report)
    assert result.plan.solver.status == "move"
    assert _carers_of(result.plan, visit_id) == carers


def test_an_offered_carer_gets_the_visit_and_the_change_is_listed(street) -> None:
    problem, plan = street
    recommender = Recommender(problem, plan)
    had = _carers_of(plan, "c1")
    asked = recommender.recommend("c1", top=3)
    other = next(o.carer for o in asked.options if o.carer not in had)
    result = recommender.move("c1", other)
    _check(result, "c1", {other})
    changed = {c.carer: c for c in result.changes.carers}
    assert changed[other].added == ["c1"]
    assert all(changed[c].removed == ["c1"] for c in had)
    assert set(changed) == had | {other}  # no one else's day changed
    assert "c1" not in result.changes.moved_visits
    assert recommender.recommend("c1", top=3) == asked  # the Recommender is as it was


def test_an_unassigned_visit_is_given_to_the_carer(street) -> None:
    problem, plan = street
    result = move_visit(problem, _without(plan, "c1"), "c1", "helper")
    _check(result, "c1", {"helper"})
    assert [(c.carer, c.added, c.removed) for c in result.changes.carers] == [("helper", ["c1"], [])]
    assert not result.plan.unassigned and not result.changes.unassigned


@pytest.mark.parametrize(
    "visit_id, carer_id, reason",
    [
        ("b1", "helper", "helper is banned by client b"),
        ("m1", "helper", "helper lacks skill"),
        ("a1", "late", "late is not on shift"),
    ],
)
def test_a_carer_who_cannot_take_it_is_refused_with_the_reason(street, visit_id, carer_id, reason) -> None:
    problem, plan = street
    recommender = Recommender(problem, plan)
    told = {u.carer: u.reason for u in recommender.recommend(visit_id, top=3).unavailable}
    with pytest.raises(MoveRefused) as refused:
        recommender.move(visit_id, carer_id)
    assert refused.value.field == "carer"
    assert refused.value.reason == told[carer_id] and refused.value.reason.startswith(reason)


def test_a_gender_requirement_is_a_reason(street) -> None:
    problem, plan = street
    man = problem.carers[1].model_copy(update={"skills": ["meds"]})  # the helper, with the skill
    problem = problem.model_copy(update={"carers": [problem.carers[0], man, problem.carers[2]]})
    with pytest.raises(MoveRefused) as refused:
        move_visit(problem, plan, "m1", "helper")
    assert refused.value.field == "carer" and refused.value.reason.startswith("helper")
    assert "female" in refused.value.reason


def test_a_double_handed_visit_moves_with_a_partner(street) -> None:
    problem, plan = street
    recommender = Recommender(problem, plan)
    had = _carers_of(plan, "h1")
    newcomer = next(c.id for c in problem.carers if c.id not in had)
    cheapest = recommender.move("h1", newcomer)  # the partner chosen for them
    _check(cheapest, "h1", _carers_of(cheapest.plan, "h1"))
    assert newcomer in _carers_of(cheapest.plan, "h1") and len(_carers_of(cheapest.plan, "h1")) == 2
    for partner in had:
        named = recommender.move("h1", newcomer, partner)
        _check(named, "h1", {newcomer, partner})
        changed = {c.carer: c for c in named.changes.carers}
        assert changed[newcomer].added == ["h1"]
        assert changed[next(iter(had - {partner}))].removed == ["h1"]
    with pytest.raises(MoveRefused) as same:
        recommender.move("h1", *sorted(had))
    assert same.value.field == "carer" and "already have" in same.value.reason


def test_a_started_visit_and_one_about_to_start_stay(street) -> None:
    problem, plan = street
    first = min((pv.start, pv.visit) for r in plan.routes for pv in r.visits)
    recommender = Recommender(problem, plan, now=first[0] + 5)
    with pytest.raises(MoveRefused) as started:
        recommender.move(first[1], "late")
    assert started.value.field == "visit" and "has already started" in started.value.reason
    c1 = next(pv.start for r in plan.routes for pv in r.visits if pv.visit == "c1")
    soon = Recommender(problem, plan, now=c1 - 10)
    [holder] = _carers_of(plan, "c1")
    other = next(c for c in ("nurse", "helper") if c != holder)
    with pytest.raises(MoveRefused) as held:
        soon.move("c1", other)
    assert held.value.reason == f"{other} cannot take it: it starts within 30 minutes of now " + (
        f"({int((c1 - 10) // 60):02d}:{int((c1 - 10) % 60):02d}), so it stays with {holder}"
    )


@pytest.mark.parametrize(
    "args, field",
    [
        (("nope", "nurse"), "visit"),
        (("c1", "nobody"), "carer"),
        (("c1", "nurse", "helper"), "partner"),  # a single-handed visit
        (("h1", "nurse", "nurse"), "partner"),
        (("h1", "nurse", "nobody"), "partner"),
    ],
)
def test_bad_moves_name_the_field(street, args, field) -> None:
    problem, plan = street
    with pytest.raises(InputError) as caught:
        Recommender(problem, plan).move(*args)
    assert caught.value.field == field and not isinstance(caught.value, MoveRefused)


def test_changes_can_be_against_another_plan(street) -> None:
    """Chained moves: the second move's changes are against the first plan given."""
    problem, plan = street
    first = move_visit(problem, plan, "c1", "helper")
    second = move_visit(first.problem, first.plan, "a1", "helper", since=plan)
    _check(second, "a1", {"helper"})
    changed = {c.carer: (sorted(c.added), sorted(c.removed)) for c in second.changes.carers}
    assert changed["helper"][0] == ["a1", "c1"]


@settings(max_examples=40, **PROPERTY_SETTINGS)
@given(
    problem=problems(),
    pick=st.integers(0, 1000),
    now=st.sampled_from([None, 500.0, 600.0, 700.0]),
    name_partner=st.booleans(),
)
def test_every_move_is_valid_and_every_refusal_has_a_reason(
    problem: Problem, pick: int, now: float | None, name_partner: bool
) -> None:
    """Moves of random visits to carers who do not have them: a success is valid and
    lists the change; a refusal gives the recommendation's reason, and a carer the
    recommendation offered is never refused."""
    plan = solve(problem, time_limit=2, seed=0, max_iterations=10)
    recommender = Recommender(problem, plan, now=now)
    visit = problem.visits[pick % len(problem.visits)]
    others = [c.id for c in problem.carers if c.id not in _carers_of(plan, visit.id)]
    if not others:  # both carers of the day have it
        return
    who = others[pick % len(others)]
    rest = [c.id for c in problem.carers if c.id != who]
    partner = rest[pick % len(rest)] if visit.carers_needed == 2 and name_partner else None
    try:
        asked = recommender.recommend(visit.id, top=len(problem.carers))
    except InputError:
        asked = None  # it has started
    try:
        result = recommender.move(visit.id, who, partner)
    except MoveRefused as refused:
        assert refused.field in {"visit", "carer", "partner"} and refused.reason
        assert (refused.field == "visit") == (asked is None)
        if asked is not None:
            told = {u.carer: u for u in asked.unavailable}
            named = who if refused.field == "carer" else partner
            assert named is not None and refused.reason.startswith(named)
            if partner is None:
                assert who in told and told[who].code != "costlier" and refused.reason == told[who].reason
        return
    ours = _carers_of(result.plan, visit.id)
    assert who in ours and (partner is None or partner in ours)
    _check(result, visit.id, ours)
    assert any(visit.id in c.added for c in result.changes.carers if c.carer == who)
