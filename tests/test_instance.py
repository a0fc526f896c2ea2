"""The compiled arrays: compile_tasks gives exactly the rows a full compile gives, and
eligibility and assignment cost follow each rule of the problem.

Recommendations compile the rows of one new visit on their own, so the first tests
check those rows bit for bit against compile_problem of a day that holds the visit.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from carescheduler.domain import Problem
from carescheduler.formats import read_problem
from carescheduler.search.instance import Instance, TaskLookups, TaskRows, compile_problem, compile_tasks
from conftest import SMALL
from problem_factory import carer, client, location, make_problem, visit


@pytest.fixture(scope="module")
def small() -> Problem:
    return read_problem(SMALL)


def rows_of(inst: Instance, first_visit: int, stop_visit: int) -> dict[str, np.ndarray]:
    """The TaskRows fields of visits [first_visit, stop_visit) cut out of a full compile
    (task_visit counted from first_visit, as compile_tasks of that slice counts it)."""
    tasks = np.flatnonzero((inst.task_visit >= first_visit) & (inst.task_visit < stop_visit))
    out = {}
    for field in fields(TaskRows):
        full = getattr(inst, field.name)
        if field.name.startswith("visit_"):
            out[field.name] = full[first_visit:stop_visit]
        elif field.name == "task_visit":
            out[field.name] = full[tasks] - first_visit
        else:
            out[field.name] = full[tasks]
    return out


def assert_rows_equal(rows: TaskRows, expected: dict[str, np.ndarray]) -> None:
    for name, want in expected.items():
        got = getattr(rows, name)
        assert got.dtype == want.dtype, name
        assert got.shape == want.shape, name
        assert np.array_equal(got, want), name


def test_whole_day_rows_are_the_instance_rows(small: Problem) -> None:
    inst = compile_problem(small)
    rows = compile_tasks(small, small.visits)
    assert_rows_equal(rows, rows_of(inst, 0, inst.n_visits))


def test_rows_of_a_slice_match_the_full_compile(small: Problem) -> None:
    inst = compile_problem(small)
    doubles = [v for v, x in enumerate(small.visits) if x.carers_needed == 2]
    assert doubles, "the small day should have a double-handed visit"
    first = max(doubles[0] - 2, 1)
    stop = min(doubles[0] + 5, inst.n_visits)
    rows = compile_tasks(small, small.visits[first:stop], first_task=int(inst.visit_tasks[first, 0]))
    assert rows.n_tasks > stop - first  # the double has two rows
    assert_rows_equal(rows, rows_of(inst, first, stop))


def test_a_new_visit_compiles_to_the_rows_it_gets_in_a_full_compile(small: Problem) -> None:
    """The recommendation case: a day without the visit, then the visit on its own."""
    double = next(x for x in small.visits if x.carers_needed == 2)
    without = small.model_copy(update={"visits": [x for x in small.visits if x.id != double.id]})
    with_it = small.model_copy(update={"visits": [*without.visits, double]})
    before = compile_problem(without)
    after = compile_problem(with_it)
    rows = compile_tasks(without, [double], first_task=before.n_tasks)
    assert_rows_equal(rows, rows_of(after, after.n_visits - 1, after.n_visits))
    assert rows.visit_tasks.tolist() == [[before.n_tasks, before.n_tasks + 1]]
    assert rows.task_partner.tolist() == [before.n_tasks + 1, before.n_tasks]


def test_kept_lookups_with_a_new_client_compile_the_rows_of_a_fresh_compile(small: Problem) -> None:
    """Recommendations keep the day's look-ups and add the new client (and place) to
    them: the visit's rows must be those of compiling against the grown day afresh."""
    from carescheduler.domain import Client, Location

    place = Location(id="new-place", x=3.0, y=4.0)
    newcomer = Client(id="new-client", location=place.id, gender_requirement="female")
    grown = small.model_copy(update={"clients": [*small.clients, newcomer], "locations": [*small.locations, place]})
    double = next(x for x in small.visits if x.carers_needed == 2)
    visit = double.model_copy(update={"id": "new-visit", "client": newcomer.id})
    kept = TaskLookups.of(small).with_client(newcomer, place)
    rows = compile_tasks(grown, [visit], first_task=7, lookups=kept)
    fresh = compile_tasks(grown, [visit], first_task=7)
    assert_rows_equal(rows, {f.name: getattr(fresh, f.name) for f in fields(TaskRows)})
    assert rows.task_loc.tolist() == [len(small.locations)] * 2
    assert kept.locations[place.id] == len(small.locations) and "new-place" not in TaskLookups.of(small).locations


# A tiny day for the rules: times are minutes after midnight.
#   ann  female, hoist, 08:00-16:00
#   bob  male, no skills, 08:00-16:00
#   cat  female, hoist, split shift 08:00-10:00 and 11:40-13:20
#   dee  female, hoist, 08:00-16:00, banned by "strict"
LOCATIONS = [location("office"), location("home1", 1, 0), location("home2", 0, 1)]
CARERS = [
    carer("ann", gender="female", skills=["hoist"]),
    carer("bob", gender="male"),
    carer("cat", gender="female", skills=["hoist"], shifts=((480, 600), (700, 800))),
    carer("dee", gender="female", skills=["hoist"]),
]
ANN, BOB, CAT, DEE = range(4)
CLIENTS = [
    client("plain", "home1"),
    client("strict", "home2", gender_requirement="female", banned_carers=["dee"]),
]


def rules_problem(*visits: dict, clients: list[dict] = CLIENTS, weights: dict | None = None) -> Problem:
    return make_problem(LOCATIONS, CARERS, clients, list(visits), weights=weights)


def eligible_carers(rows: TaskRows, task: int) -> set[int]:
    return set(np.flatnonzero(rows.eligible[task]).tolist())


def test_eligibility_follows_skills_gender_and_bans() -> None:
    p = rules_problem(
        visit("anyone", "plain"),
        visit("hoist", "plain", skills=["hoist"]),
        visit("strict", "strict"),
        visit("unheld_skill", "plain", skills=["dementia"]),  # declared, but no carer has it
    )
    rows = compile_tasks(p, p.visits)
    assert eligible_carers(rows, 0) == {ANN, BOB, CAT, DEE}
    assert eligible_carers(rows, 1) == {ANN, CAT, DEE}
    assert eligible_carers(rows, 2) == {ANN, CAT}  # female only, dee banned
    assert eligible_carers(rows, 3) == set()


def test_eligibility_needs_a_shift_to_start_in_and_finish_within() -> None:
    p = rules_problem(
        # 10:20-10:50 start, 30 min: cat's first shift ends 10:00, her second starts 11:40
        visit("gap", "plain", duration=30, start=620, end=650),
        # open window from 10:00: cat can start at 11:40 in her second shift
        visit("open", "plain", duration=30, start=600),
        # 110 minutes from 11:40 would end after cat's second shift (13:20)
        visit("long", "plain", duration=110, start=700, end=700),
        # pinned to start at 09:40: cat's first shift ends 10:00, too soon for 30 min
        visit("pinned_start", "plain", duration=30, start=480, end=900, pinned_start=580),
    )
    rows = compile_tasks(p, p.visits)
    assert eligible_carers(rows, 0) == {ANN, BOB, DEE}
    assert eligible_carers(rows, 1) == {ANN, BOB, CAT, DEE}
    assert eligible_carers(rows, 2) == {ANN, BOB, DEE}
    assert eligible_carers(rows, 3) == {ANN, BOB, DEE}
    assert rows.task_release[3] == rows.task_latest[3] == 580


def test_pins_restrict_single_and_doubly_pinned_visits() -> None:
    p = rules_problem(
        visit("single", "plain", pinned_carers=["bob"]),
        visit("double_two_pinned", "plain", carers_needed=2, pinned_carers=["ann", "bob"]),
        visit("double_one_pinned", "plain", carers_needed=2, pinned_carers=["cat"]),
    )
    rows = compile_tasks(p, p.visits)
    assert eligible_carers(rows, 0) == {BOB}
    assert eligible_carers(rows, 1) == eligible_carers(rows, 2) == {ANN, BOB}
    # one of the two parts must be cat's; the other part is open to anyone
    assert rows.task_pin.tolist() == [-1, -1, -1, CAT, CAT]
    assert eligible_carers(rows, 3) == eligible_carers(rows, 4) == {ANN, BOB, CAT, DEE}


def test_a_double_pinned_to_a_carer_who_can_do_neither_part_is_impossible() -> None:
    p = rules_problem(
        visit("hoist_for_bob", "plain", carers_needed=2, skills=["hoist"], pinned_carers=["bob"]),
        visit("hoist_for_ann", "plain", carers_needed=2, skills=["hoist"], pinned_carers=["ann"]),
    )
    rows = compile_tasks(p, p.visits)
    assert rows.task_pin.tolist() == [BOB, BOB, ANN, ANN]
    assert not rows.eligible[:2].any()
    assert eligible_carers(rows, 2) == eligible_carers(rows, 3) == {ANN, CAT, DEE}


def test_assign_cost_weighs_gender_preference_preferred_carers_and_history() -> None:
    fussy = client(
        "fussy", "home1", gender_preference="female", preferred_carers=["ann"], historical_carers=["bob", "bob"]
    )
    p = rules_problem(
        visit("fussy", "fussy"),
        visit("plain", "plain"),
        visit("fussy_again", "fussy"),
        clients=[*CLIENTS, fussy],
        weights={"gender_preference": 15.0, "non_preferred_carer": 10.0, "continuity": 7.0},
    )
    rows = compile_tasks(p, p.visits)
    #                          gender  preferred  history
    assert rows.assign_cost[0].tolist() == [
        0 + 0 + 7,  # ann: female, preferred, never visited
        15 + 10 + 0,  # bob: male, not preferred, has visited (listed twice, counted once)
        0 + 10 + 7,  # cat
        0 + 10 + 7,  # dee
    ]
    assert rows.assign_cost[1].tolist() == [0, 0, 0, 0]
    assert rows.assign_cost[2].tolist() == rows.assign_cost[0].tolist()


def test_task_layout_and_absolute_numbering() -> None:
    p = rules_problem(
        visit("single", "plain", duration=20, target={"start": 500, "end": None}),
        visit(
            "double",
            "plain",
            duration=40,
            carers_needed=2,
            synchronisation={"kind": "sequential", "min_gap": 5, "max_gap": 15},
            parts=[{"skills": ["hoist"]}, {"duration": 25}],
            mandatory=False,
            value=3.0,
        ),
    )
    rows = compile_tasks(p, p.visits, first_task=10)
    assert rows.task_visit.tolist() == [0, 1, 1]
    assert rows.task_part.tolist() == [0, 0, 1]
    assert rows.task_dur.tolist() == [20, 40, 25]
    assert rows.task_partner.tolist() == [-1, 12, 11]
    assert rows.visit_tasks.tolist() == [[10, -1], [11, 12]]
    assert rows.task_gap_min.tolist() == [0, 5, 5]
    assert rows.task_gap_max.tolist() == [0, 15, 15]
    assert rows.task_tgt_start[0] == 500 and rows.task_tgt_end[0] > 1e9
    assert rows.task_tgt_start[1] < -1e9
    assert eligible_carers(rows, 1) == {ANN, CAT, DEE}  # part 0 needs the hoist
    assert eligible_carers(rows, 2) == {ANN, BOB, CAT, DEE}
    assert rows.visit_mandatory.tolist() == [True, False]
    assert rows.visit_penalty.tolist() == [p.weights.unassigned_mandatory, 3.0 * p.weights.optional_value]
    assert rows.task_loc.tolist() == [1, 1, 1]


def test_no_visits_gives_empty_rows_of_the_right_shape() -> None:
    p = rules_problem()
    rows = compile_tasks(p, [])
    assert rows.n_tasks == 0
    assert rows.eligible.shape == (0, 4) and rows.eligible.dtype == bool
    assert rows.assign_cost.shape == (0, 4)
    assert rows.visit_tasks.shape == (0, 2)
