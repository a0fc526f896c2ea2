"""The solver respects each hard rule, on days built so that breaking it would pay.

Every test sets a trap: the nearby carer lacks the skill, the cheap carer is of the wrong
gender, the closest carer is banned, and so on. Each asserts the specific property on the
returned plan (not only the validator's verdict) and that the validator accepts the plan.
Further down: reasons given for unassigned visits, errors for bad input, the progress
callback and reproducibility. The tests at the end are regressions of solver bugs found here.
"""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from carescheduler.domain import Problem
from carescheduler.plan import Plan, PlannedVisit
from carescheduler.search.solver import solve
from carescheduler.validator import validate
from problem_factory import (
    assert_valid,
    carer,
    client,
    describe_plan,
    location,
    make_problem,
    matrix_from_coords,
    problem_dict,
    visit,
)

SOLVE = dict(time_limit=1.5, seed=0, max_iterations=30)


def stops_of(plan: Plan, visit_id: str) -> list[tuple[str, PlannedVisit]]:
    """(carer, planned visit) for every part of ``visit_id`` on the plan's routes."""
    return [(r.carer, v) for r in plan.routes for v in r.visits if v.visit == visit_id]


def carer_of(plan: Plan, visit_id: str) -> str:
    found = stops_of(plan, visit_id)
    assert len(found) == 1, f"{visit_id} planned {len(found)} times:\n{describe_plan(plan)}"
    return found[0][0]


def assigned(plan: Plan) -> set[str]:
    return {v.visit for r in plan.routes for v in r.visits}


def run(problem: Problem) -> Plan:
    plan = solve(problem, **SOLVE)
    assert_valid(problem, plan)
    return plan


# Two carers on a line: "near" lives next to the client, "far" 40 minutes away.
LINE = [location("near_home", 0, 0), location("far_home", 40, 0), location("client_home", 3, 0)]
LINE_TRAVEL = matrix_from_coords([(0, 0), (40, 0), (3, 0)])


def two_carer_day(near: dict, far: dict, the_client: dict, visits: list[dict], **kwargs) -> Problem:
    return make_problem(
        LINE,
        [carer("near", start="near_home", **near), carer("far", start="far_home", **far)],
        [client("A", "client_home", **the_client)],
        visits,
        travel=LINE_TRAVEL,
        **kwargs,
    )


# ----------------------------------------------------------------------------------------
# Who may do a visit


def test_skill_the_nearby_carer_lacks_goes_to_the_far_carer_who_has_it() -> None:
    problem = two_carer_day(
        {"skills": ["meds"]}, {"skills": ["hoist", "meds"]}, {}, [visit("v", "A", 30, 540, 600, skills=["hoist"])]
    )
    plan = run(problem)
    assert carer_of(plan, "v") == "far"
    assert "hoist" in problem.carer(carer_of(plan, "v")).skills


def test_part_skills_of_a_double_visit_go_to_carers_who_have_them() -> None:
    problem = make_problem(
        [location("office", 0, 0), location("h", 2, 0), location("far", 30, 0)],
        [
            carer("a", start="office", skills=["meds"]),
            carer("b", start="office", skills=["meds"]),
            carer("hoister", start="far", skills=["hoist"]),
        ],
        [client("A", "h")],
        [visit("v", "A", 30, 540, 600, carers_needed=2, parts=[{"skills": ["hoist"]}, {"skills": ["meds"]}])],
        travel=matrix_from_coords([(0, 0), (2, 0), (30, 0)]),
    )
    plan = run(problem)
    parts = {v.part: c for c, v in stops_of(plan, "v")}
    assert parts[0] == "hoister"
    assert parts[1] in {"a", "b"}


def test_gender_requirement_beats_a_cheap_male_carer() -> None:
    problem = two_carer_day(
        {"gender": "male"}, {"gender": "female"}, {"gender_requirement": "female"}, [visit("v", "A", 30, 540, 600)]
    )
    plan = run(problem)
    assert carer_of(plan, "v") == "far"
    assert problem.carer(carer_of(plan, "v")).gender.value == "female"


def test_carer_with_unrecorded_gender_does_not_meet_a_gender_requirement() -> None:
    problem = two_carer_day({}, {"gender": "female"}, {"gender_requirement": "female"}, [visit("v", "A", 30, 540, 600)])
    plan = run(problem)
    assert carer_of(plan, "v") == "far"


def test_banned_carer_is_not_sent_even_when_closest() -> None:
    problem = two_carer_day({}, {}, {"banned_carers": ["near"]}, [visit("v", "A", 30, 540, 600)])
    plan = run(problem)
    assert carer_of(plan, "v") == "far"


def test_soft_wishes_do_not_override_a_ban() -> None:
    """A banned carer who is also preferred and historical must still not go."""
    problem = two_carer_day(
        {},
        {},
        {"banned_carers": ["near"], "preferred_carers": ["near"], "historical_carers": ["near"]},
        [visit("v", "A", 30, 540, 600)],
    )
    plan = run(problem)
    assert carer_of(plan, "v") == "far"


# ----------------------------------------------------------------------------------------
# Time: shifts, windows, travel


def test_shift_ending_before_the_cheap_slot_sends_the_other_carer() -> None:
    # near's shift ends 10:00; the visit cannot start before 10:00
    problem = two_carer_day({"shifts": [(480, 600)]}, {"shifts": [(480, 960)]}, {}, [visit("v", "A", 30, 600, 700)])
    plan = run(problem)
    assert carer_of(plan, "v") == "far"
    ((_, stop),) = stops_of(plan, "v")
    assert stop.start >= 480 and stop.end <= 960


def test_visit_and_journey_home_fit_inside_the_shift() -> None:
    # near could start the visit 09:25 and finish 09:55, but would be home 09:58, after 09:55
    problem = two_carer_day({"shifts": [(480, 595)]}, {"shifts": [(480, 960)]}, {}, [visit("v", "A", 30, 565, 570)])
    plan = run(problem)
    assert carer_of(plan, "v") == "far"


def test_split_shift_visits_fall_inside_one_of_the_shifts() -> None:
    # only "near" has the skill; near works 08:00-10:00 and 12:00-14:00
    problem = two_carer_day(
        {"shifts": [(480, 600), (720, 840)], "skills": ["meds"]},
        {"skills": []},
        {},
        [visit("v1", "A", 30, 500, 560, skills=["meds"]), visit("v2", "A", 30, 600, 800, skills=["meds"])],
    )
    plan = run(problem)
    assert assigned(plan) == {"v1", "v2"}
    shifts = problem.carer("near").shifts
    for _, stop in stops_of(plan, "v1") + stops_of(plan, "v2"):
        assert any(s.start <= stop.start and stop.end <= s.end for s in shifts)
    ((_, second),) = stops_of(plan, "v2")
    assert second.start >= 720  # v2 cannot start in the gap 10:00-12:00


def test_hard_latest_start_forces_the_more_expensive_order() -> None:
    # office -> Y -> X is the cheap tour (5 + 30 + 5), but then X starts after its latest start
    problem = make_problem(
        [location("office"), location("x"), location("y")],
        [carer("solo", start="office", shifts=[(480, 960)])],
        [client("X", "x"), client("Y", "y")],
        [visit("vx", "X", 30, 480, 515), visit("vy", "Y", 30, 480)],
        travel=[[0, 30, 5], [5, 0, 30], [30, 30, 0]],
    )
    plan = run(problem)
    assert assigned(plan) == {"vx", "vy"}
    ((_, vx),) = stops_of(plan, "vx")
    assert vx.start <= 515
    order = [v.visit for v in plan.route("solo").visits]
    assert order == ["vx", "vy"]


def test_window_start_is_never_anticipated() -> None:
    problem = two_carer_day({}, {}, {}, [visit("v", "A", 30, 630, 700)])
    plan = run(problem)
    ((_, stop),) = stops_of(plan, "v")
    assert 630 <= stop.start <= 700


def test_travel_time_makes_two_simultaneous_visits_impossible_for_one_carer() -> None:
    # Both visits 09:00-09:05 start, 20 minutes apart; "near" is next to both, "far" 40 away.
    problem = make_problem(
        [location("near_home", 0, 0), location("far_home", 40, 0), location("a", 2, 0), location("b", 2, 20)],
        [carer("near", start="near_home"), carer("far", start="far_home")],
        [client("A", "a"), client("B", "b")],
        [visit("va", "A", 30, 540, 545), visit("vb", "B", 30, 540, 545)],
        travel=matrix_from_coords([(0, 0), (40, 0), (2, 0), (2, 20)]),
    )
    plan = run(problem)
    assert assigned(plan) == {"va", "vb"}
    assert carer_of(plan, "va") != carer_of(plan, "vb")
    travel = problem.travel[0].minutes
    index = problem.location_index()
    for route in plan.routes:
        for before, after in zip(route.visits, route.visits[1:], strict=False):
            a = index[problem.client(before.client).location]
            b = index[problem.client(after.client).location]
            assert after.start >= before.end + travel[a][b] - 1e-6


# ----------------------------------------------------------------------------------------
# Double-handed visits


def _double_day(sync: dict, window_end: float | None = 720) -> Problem:
    # "early" can be there at 08:05, "late" only at 08:40: tempting to start without them
    return make_problem(
        [location("early_home", 0, 0), location("late_home", 40, 0), location("h", 5, 0)],
        [
            carer("early", start="early_home", shifts=[(480, 960)]),
            carer("late", start="late_home", shifts=[(480, 960)]),
        ],
        [client("A", "h")],
        [
            visit(
                "v", "A", 30, 480, window_end, carers_needed=2, synchronisation=sync, target={"start": 480, "end": 490}
            )
        ],
        travel=matrix_from_coords([(0, 0), (40, 0), (5, 0)]),
    )


def test_simultaneous_double_visit_has_two_distinct_carers_starting_together() -> None:
    problem = _double_day({"kind": "simultaneous"})
    plan = run(problem)
    parts = stops_of(plan, "v")
    assert len(parts) == 2
    (c0, p0), (c1, p1) = parts
    assert c0 != c1
    assert {p0.part, p1.part} == {0, 1}
    assert p0.start == pytest.approx(p1.start)
    assert p0.start >= 480 + 35 - 1e-6  # the late carer's journey


def test_sequential_double_visit_keeps_its_gap() -> None:
    problem = _double_day({"kind": "sequential", "min_gap": 30, "max_gap": 45})
    plan = run(problem)
    parts = {v.part: (c, v) for c, v in stops_of(plan, "v")}
    assert set(parts) == {0, 1}
    assert parts[0][0] != parts[1][0]
    gap = parts[1][1].start - parts[0][1].start
    assert 30 - 1e-6 <= gap <= 45 + 1e-6


def test_double_visit_is_left_out_rather_than_done_by_one_carer() -> None:
    problem = make_problem(
        [location("office"), location("h")],
        [carer("solo", start="office")],
        [client("A", "h")],
        [visit("v", "A", 30, 540, 600, carers_needed=2)],
        travel=[[0, 5], [5, 0]],
    )
    plan = run(problem)
    assert assigned(plan) == set()
    assert [u.visit for u in plan.unassigned] == ["v"]
    assert "two" in plan.unassigned[0].reason


# ----------------------------------------------------------------------------------------
# Breaks and working time


def test_long_day_gets_a_break_of_the_rule_length_inside_its_window() -> None:
    rule = {"after_minutes": 120, "duration": 30, "earliest": 600, "latest": 690}
    problem = make_problem(
        [location("office"), location("a"), location("b")],
        [carer("solo", start="office", shifts=[(480, 960)], break_rule=rule)],
        [client("A", "a"), client("B", "b")],
        [visit("v1", "A", 60, 480, 500), visit("v2", "B", 60, 560, 720), visit("v3", "A", 60, 640, 760)],
        travel=[[0, 10, 10], [10, 0, 15], [10, 15, 0]],
    )
    plan = run(problem)
    assert assigned(plan) == {"v1", "v2", "v3"}
    route = plan.route("solo")
    assert route.return_home - route.leave_home > 120
    good = [b for b in route.breaks if b.end - b.start >= 30 - 1e-6 and 600 - 1e-6 <= b.start <= 690 + 1e-6]
    assert good, describe_plan(plan)
    b = good[0]
    index = problem.location_index()
    travel = problem.travel[0].minutes
    # the break lies between two consecutive visits, with time left for the travel between them
    for before, after in zip(route.visits, route.visits[1:], strict=False):
        if before.end - 1e-6 <= b.start and b.end <= after.start + 1e-6:
            leg = travel[index[problem.client(before.client).location]][index[problem.client(after.client).location]]
            assert after.start - before.end >= leg + (b.end - b.start) - 1e-6
            break
    else:
        pytest.fail(f"break {b} is not between two visits:\n{describe_plan(plan)}")


def test_short_day_needs_no_break() -> None:
    rule = {"after_minutes": 240, "duration": 30}
    problem = make_problem(
        [location("office"), location("a")],
        [carer("solo", start="office", break_rule=rule)],
        [client("A", "a")],
        [visit("v1", "A", 30, 540, 560)],
        travel=[[0, 10], [10, 0]],
    )
    plan = run(problem)
    assert assigned(plan) == {"v1"}
    assert plan.route("solo").breaks == []


def test_max_working_minutes_splits_the_work_across_carers() -> None:
    # Three 30-minute visits 3 minutes from "near" (6 + 90 minutes in all) and 7 from
    # "other"; each may work 70 minutes at most, so only near 2 + other 1 is possible.
    problem = make_problem(
        [location("near_home", 0, 0), location("other_home", 10, 0), location("client_home", 3, 0)],
        [
            carer("near", start="near_home", max_working_minutes=70),
            carer("other", start="other_home", max_working_minutes=70),
        ],
        [client("A", "client_home")],
        [visit(f"v{i}", "A", 30, 540 + 40 * i, 560 + 40 * i) for i in range(3)],
        travel=matrix_from_coords([(0, 0), (10, 0), (3, 0)]),
    )
    plan = run(problem)
    assert assigned(plan) == {"v0", "v1", "v2"}
    report = validate(problem, plan)
    for who in ("near", "other"):
        assert report.kpis.working_minutes.get(who, 0.0) <= 70 + 1e-6
        assert plan.route(who).working_minutes <= 70 + 1e-6
    assert len(plan.route("near").visits) == 2
    assert len(plan.route("other").visits) == 1


# ----------------------------------------------------------------------------------------
# Pins


def test_pinned_carer_is_honoured_even_when_far() -> None:
    problem = two_carer_day({}, {}, {}, [visit("v", "A", 30, 540, 600, pinned_carers=["far"])])
    plan = run(problem)
    assert carer_of(plan, "v") == "far"


def test_pinned_carer_on_a_double_visit_does_one_of_its_parts() -> None:
    problem = make_problem(
        [location("office", 0, 0), location("far_home", 40, 0), location("h", 2, 0)],
        [carer("a", start="office"), carer("b", start="office"), carer("pin", start="far_home")],
        [client("A", "h")],
        [visit("v", "A", 30, 540, 600, carers_needed=2, pinned_carers=["pin"])],
        travel=matrix_from_coords([(0, 0), (40, 0), (2, 0)]),
    )
    plan = run(problem)
    doing = {c for c, _ in stops_of(plan, "v")}
    assert "pin" in doing and len(doing) == 2


def test_pinned_start_is_honoured() -> None:
    # target and travel both pull towards 08:xx; the pin says 11:00
    problem = two_carer_day(
        {}, {}, {}, [visit("v", "A", 30, 480, 720, pinned_start=660, target={"start": 480, "end": 500})]
    )
    plan = run(problem)
    ((_, stop),) = stops_of(plan, "v")
    assert stop.start == pytest.approx(660)


def test_pinned_carer_who_cannot_do_it_leaves_the_visit_unassigned() -> None:
    problem = two_carer_day(
        {"skills": ["hoist"]},
        {"skills": []},
        {},
        [visit("v", "A", 30, 540, 600, skills=["hoist"], pinned_carers=["far"])],
    )
    plan = run(problem)
    assert assigned(plan) == set()
    assert [u.visit for u in plan.unassigned] == ["v"]


# ----------------------------------------------------------------------------------------
# Reasons for unassigned visits


def _reason(plan: Plan, visit_id: str) -> str:
    found = [u.reason for u in plan.unassigned if u.visit == visit_id]
    assert found, f"{visit_id} is not unassigned:\n{describe_plan(plan)}"
    return found[0]


def test_reason_names_the_skill_nobody_has() -> None:
    problem = two_carer_day(
        {"skills": ["meds"]},
        {"skills": ["meds"]},
        {},
        [visit("v", "A", 30, 540, 600, skills=["dementia"]), visit("ok", "A", 30, 600)],
    )
    plan = run(problem)
    assert "ok" in assigned(plan)
    reason = _reason(plan, "v")
    assert "dementia" in reason and "skill" in reason


@pytest.mark.parametrize("skills", [[], ["meds"]], ids=["no-skill", "with-skill"])
def test_reason_names_the_shift_when_the_window_is_outside_every_shift(skills: list[str]) -> None:
    problem = two_carer_day(
        {"shifts": [(480, 720)], "skills": ["meds"]},
        {"shifts": [(480, 720)], "skills": ["meds"]},
        {},
        [visit("v", "A", 30, 1080, 1140, skills=skills)],
    )
    plan = run(problem)
    assert "shift" in _reason(plan, "v")


def test_reason_names_the_gender_requirement() -> None:
    problem = two_carer_day(
        {"gender": "male"}, {"gender": "male"}, {"gender_requirement": "female"}, [visit("v", "A", 30, 540, 600)]
    )
    plan = run(problem)
    assert "female" in _reason(plan, "v")


def test_reason_names_the_ban() -> None:
    problem = two_carer_day({}, {}, {"banned_carers": ["near", "far"]}, [visit("v", "A", 30, 540, 600)])
    plan = run(problem)
    assert "banned" in _reason(plan, "v")


def test_every_unassigned_visit_has_a_non_empty_reason_and_plan_is_valid() -> None:
    # four 50-minute visits that must all start 08:10-08:40: one per carer at most
    problem = two_carer_day(
        {"shifts": [(480, 720)]}, {"shifts": [(480, 720)]}, {}, [visit(f"v{i}", "A", 50, 490, 520) for i in range(4)]
    )
    plan = run(problem)
    assert len(plan.unassigned) == 2
    assert {carer_of(plan, v) for v in assigned(plan)} == {"near", "far"}
    assert all(u.reason.strip() for u in plan.unassigned)


# ----------------------------------------------------------------------------------------
# Bad input is rejected with the field and the reason


def _good_dict() -> dict:
    return problem_dict(
        [location("office"), location("h")],
        [carer("c1", start="office", skills=["meds"])],
        [client("A", "h")],
        [visit("v1", "A", 30, 540, 600, skills=["meds"])],
        travel=[[0, 5], [5, 0]],
    )


def _mutated(mutate) -> dict:
    data = _good_dict()
    mutate(data)
    return data


def test_good_input_is_accepted() -> None:
    """The day the mutations below start from: taken as given, nothing dropped or changed,
    and workable (so each mutation breaks what it says and nothing else did)."""
    problem = Problem.model_validate(_good_dict())
    assert problem.model_dump(mode="json", exclude_unset=True) == _good_dict()
    assert assigned(run(problem)) == {"v1"}


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        pytest.param(
            lambda d: d["visits"][0].update(skills=["juggling"]),
            "visits[0].skills",
            "unknown skill",
            id="unknown-visit-skill",
        ),
        pytest.param(
            lambda d: d["carers"][0].update(skills=["juggling"]),
            "carers[0].skills",
            "unknown skill",
            id="unknown-carer-skill",
        ),
        pytest.param(
            lambda d: d["visits"][0].update(client="nobody"), "visits[0].client", "unknown client", id="unknown-client"
        ),
        pytest.param(
            lambda d: d["clients"][0].update(location="nowhere"),
            "clients[0].location",
            "unknown location",
            id="unknown-location",
        ),
        pytest.param(
            lambda d: d["clients"][0].update(banned_carers=["ghost"]),
            "clients[0].banned_carers",
            "unknown carer",
            id="unknown-banned-carer",
        ),
        pytest.param(
            lambda d: d["visits"].append(dict(d["visits"][0])), "visits[1].id", "duplicate", id="duplicate-visit-id"
        ),
        pytest.param(
            lambda d: d["carers"].append(dict(d["carers"][0])), "carers[1].id", "duplicate", id="duplicate-carer-id"
        ),
    ],
)
def test_bad_references_name_the_field_and_the_reason(mutate, field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Problem.model_validate(_mutated(mutate))
    message = str(caught.value)
    assert field in message and reason in message and "'" in message, message


@pytest.mark.parametrize(
    ("mutate", "loc", "words"),
    [
        pytest.param(
            lambda d: d["visits"][0].update(window={"start": 600, "end": 540}),
            ("visits", 0, "window"),
            ["before its start"],
            id="window-end-before-start",
        ),
        pytest.param(
            lambda d: d["visits"][0].update(duration=-5),
            ("visits", 0, "duration"),
            ["greater than or equal to 0"],
            id="negative-duration",
        ),
        pytest.param(
            lambda d: d["carers"][0].update(shifts=[{"start": 600, "end": 540}]),
            ("carers", 0, "shifts", 0),
            ["not after its start"],
            id="shift-end-before-start",
        ),
        pytest.param(
            lambda d: d["visits"][0].update(window={"start": "9:75"}),
            ("visits", 0, "window", "start"),
            ["more than 59 minutes"],
            id="bad-clock-time",
        ),
        pytest.param(
            lambda d: d["visits"][0].update(pinned_start=700),
            ("visits", 0),
            ["pinned_start", "outside"],
            id="pinned-start-outside-window",
        ),
    ],
)
def test_bad_values_name_the_field_and_the_reason(mutate, loc: tuple, words: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        Problem.model_validate(_mutated(mutate))
    errors = caught.value.errors()
    locs = [tuple(e["loc"]) for e in errors]
    assert any(found[: len(loc)] == loc for found in locs), locs
    message = str(caught.value)
    for word in words:
        assert word in message, message


def test_travel_matrix_of_the_wrong_size_is_rejected() -> None:
    with pytest.raises(ValidationError, match=r"travel\[0\]\.minutes"):
        Problem.model_validate(_mutated(lambda d: d["travel"][0].update(minutes=[[0]])))


def test_validation_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        Problem.model_validate(_mutated(lambda d: d["visits"][0].update(duration=-1)))


# ----------------------------------------------------------------------------------------
# Progress reports and reproducibility


def _busy_day() -> Problem:
    coords = [(0, 0), (10, 0), (0, 10), (12, 7), (5, 5), (15, 15)]
    names = ["office", "a", "b", "c", "d", "e"]
    return make_problem(
        [location(n, x, y) for n, (x, y) in zip(names, coords, strict=False)],
        [
            carer("c1", start="office", skills=["meds"]),
            carer("c2", start="office", skills=["hoist"]),
            carer("c3", start="office", skills=["meds", "hoist"], shifts=[(480, 600), (660, 900)]),
        ],
        [client(n.upper(), n) for n in names[1:]],
        [
            visit(
                f"v{i}",
                names[1 + i % 5].upper(),
                20 + 5 * (i % 4),
                480 + 30 * i,
                540 + 30 * i,
                skills=[["meds"], ["hoist"], []][i % 3],
            )
            for i in range(9)
        ]
        + [visit("d1", "E", 30, 600, 720, carers_needed=2)],
        travel=matrix_from_coords(coords),
    )


def test_progress_callback_is_called_with_the_running_best() -> None:
    problem = _busy_day()
    reports = []
    plan = solve(problem, time_limit=2, seed=1, max_iterations=30, progress=reports.append)
    assert_valid(problem, plan)
    assert len(reports) >= 2
    assert reports[0].phase == "construction"
    assert reports[-1].phase == "done"
    assert reports[-1].best_cost == pytest.approx(plan.cost.total)
    assert reports[-1].unassigned == len(plan.unassigned)
    assert all(r.seconds >= 0 for r in reports)
    # the best cost never gets worse from one report to the next
    for before, after in itertools.pairwise(reports):
        assert after.best_cost <= before.best_cost + 1e-6


def _comparable(plan: Plan) -> dict:
    data = plan.model_dump()
    data["solver"] = {k: v for k, v in data["solver"].items() if k != "seconds"}
    return data


@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_and_iterations_give_identical_plans(seed: int) -> None:
    problem = _busy_day()
    first = solve(problem, time_limit=5, seed=seed, max_iterations=25)
    second = solve(problem, time_limit=5, seed=seed, max_iterations=25)
    assert _comparable(first) == _comparable(second)
    assert_valid(problem, first)


# ----------------------------------------------------------------------------------------
# Regressions: solver bugs these tests once found


@pytest.mark.parametrize("why", ["skill", "gender", "shift"])
def test_pin_to_an_ineligible_carer_on_a_double_visit_is_not_ignored(why: str) -> None:
    pinned = {
        "skill": carer("c", skills=[], gender="female"),
        "gender": carer("c", skills=["meds"], gender="male"),
        "shift": carer("c", skills=["meds"], gender="female", shifts=[(600, 900)]),
    }[why]
    problem = make_problem(
        [location("office")],
        [carer("a", skills=["meds"], gender="female"), carer("b", skills=["meds"], gender="female"), pinned],
        [client("A", "office", gender_requirement="female")],
        [visit("v", "A", 30, 480, 500, skills=["meds"], carers_needed=2, pinned_carers=["c"])],
        travel=[[0]],
    )
    plan = solve(problem, **SOLVE)
    assert_valid(problem, plan)
    assert [u.visit for u in plan.unassigned] == ["v"]


@pytest.mark.parametrize(
    "visits", [[], [visit("v", "A", 10, 480, mandatory=False, value=0)]], ids=["no-visits", "zero-value-optional"]
)
def test_solve_handles_a_day_with_nothing_to_pay_for(visits: list[dict]) -> None:
    problem = make_problem([location("office")], [carer("c1")], [client("A", "office")], visits, travel=[[0]])
    plan = solve(problem, **SOLVE)
    report = assert_valid(problem, plan)
    assert report.cost.total == 0


def test_reason_for_an_impossible_optional_visit_names_the_cause() -> None:
    problem = two_carer_day(
        {"skills": ["meds"]},
        {"skills": ["meds"]},
        {},
        [visit("v", "A", 30, 540, 600, skills=["dementia"], mandatory=False, value=5000)],
    )
    plan = run(problem)
    assert "dementia" in _reason(plan, "v")
