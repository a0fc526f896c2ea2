"""Tests of the independent plan validator (feasibility and recomputed cost).

The fixture is a small hand-made day: three carers leaving the office, three clients and
four visits (one double-handed, one optional), with an asymmetric travel matrix so that a
leg taken in the wrong direction changes the numbers.

Travel (minutes), rows are "from", columns "to":

            office  home_a  home_b  home_c
    office     0      10      15      20
    home_a    11       0       5      12
    home_b    15       6       0       8
    home_c    21      12       8       0

The valid plan:

    c1: leave 08:00, v1 08:10-08:40 at A, v3 part 0 10:00-11:00 at C, home 11:21
    c2: leave 08:45, v2 09:00-09:45 at B, v3 part 1 10:00-11:00 at C, home 11:21
    c3: no visits
    v4 (optional, value 50) unassigned

so travel = (10 + 12 + 21) + (15 + 8 + 21) = 87, c1 waits 68 minutes at C and c2 7, and
with default weights cost = 87 travel + 50 for the optional visit not done + 75 minutes'
waiting at 0.05 = 140.75 (``BASE_COST``).
"""

from __future__ import annotations

import pytest

from carescheduler.domain import (
    BreakRule,
    Carer,
    Client,
    Gender,
    Location,
    ObjectiveWeights,
    Problem,
    Shift,
    Synchronisation,
    TimeWindow,
    TravelMatrix,
    Visit,
    VisitPart,
)
from carescheduler.plan import Plan, PlannedBreak, PlannedVisit, Route, UnassignedVisit
from carescheduler.validator import ValidationReport, Violation, validate

TRAVEL = [
    [0, 10, 15, 20],
    [11, 0, 5, 12],
    [15, 6, 0, 8],
    [21, 12, 8, 0],
]


def day() -> Shift:
    return Shift(start=480, end=840)  # 08:00-14:00


def make_problem(**weights: float) -> Problem:
    return Problem(
        name="tiny",
        skills=["hoist", "meds"],
        locations=[Location(id="office"), Location(id="home_a"), Location(id="home_b"), Location(id="home_c")],
        carers=[
            Carer(id="c1", gender="female", skills=["hoist"], start_location="office", shifts=[day()]),
            Carer(id="c2", gender="male", skills=["hoist"], start_location="office", shifts=[day()]),
            Carer(id="c3", gender="female", skills=[], start_location="office", shifts=[day()]),
        ],
        clients=[
            Client(id="A", location="home_a"),
            Client(id="B", location="home_b"),
            Client(id="C", location="home_c"),
        ],
        visits=[
            Visit(id="v1", client="A", duration=30, window=TimeWindow(start=480, end=540)),
            Visit(id="v2", client="B", duration=45, window=TimeWindow(start=540, end=660)),
            Visit(
                id="v3",
                client="C",
                duration=60,
                window=TimeWindow(start=600, end=720),
                skills=["hoist"],
                carers_needed=2,
            ),
            Visit(id="v4", client="A", duration=20, mandatory=False, value=50),
        ],
        travel=[TravelMatrix(mode="drive", minutes=TRAVEL)],
        weights=ObjectiveWeights(**weights),
    )


WAITING_COST = 75 * ObjectiveWeights().waiting
"""c1's and c2's unpaid gaps in the valid plan at the default weight."""
BASE_COST = 87 + 50 + WAITING_COST
"""The valid plan's cost at the default weights."""


def pv(visit: str, client: str, start: float, duration: float, part: int = 0) -> PlannedVisit:
    return PlannedVisit(visit=visit, part=part, client=client, start=start, end=start + duration)


def make_plan() -> Plan:
    return Plan(
        problem="tiny",
        routes=[
            Route(carer="c1", visits=[pv("v1", "A", 490, 30), pv("v3", "C", 600, 60, part=0)]),
            Route(carer="c2", visits=[pv("v2", "B", 540, 45), pv("v3", "C", 600, 60, part=1)]),
            Route(carer="c3"),
        ],
        unassigned=[UnassignedVisit(visit="v4", reason="optional, no time")],
    )


def codes(report: ValidationReport) -> set[str]:
    return {v.code for v in report.violations}


def assert_only(report: ValidationReport, code: str) -> Violation:
    """The report is invalid, every violation has ``code``; returns the first one."""
    assert not report.valid
    assert codes(report) == {code}, [v.message for v in report.violations]
    return report.violations[0]


def route(plan: Plan, carer: str) -> Route:
    found = plan.route(carer)
    assert found is not None
    return found


def visit(problem: Problem, visit_id: str) -> Visit:
    return problem.visit(visit_id)


# ----------------------------------------------------------------------------------------
# The valid plan


def test_valid_plan_is_valid_with_exact_cost_and_kpis():
    report = validate(make_problem(), make_plan())
    assert report.valid, [v.message for v in report.violations]
    assert report.violations == []
    assert report.cost.travel == 87.0
    assert report.cost.unassigned == 50.0
    assert report.cost.lateness == report.cost.max_lateness == report.cost.earliness == 0.0
    assert report.cost.preferences == report.cost.continuity == report.cost.overtime == 0.0
    assert report.cost.total == pytest.approx(BASE_COST)

    kpis = report.kpis
    assert kpis.visits_total == 4
    assert kpis.visits_assigned == 3
    assert kpis.mandatory_unassigned == 0
    assert kpis.coverage == 0.75
    assert kpis.travel_minutes == 87.0
    assert kpis.working_minutes == {"c1": 30 + 60 + 43, "c2": 45 + 60 + 44}
    assert kpis.continuity == 1.0
    assert kpis.travel_estimated is False


def test_plan_claims_are_not_trusted():
    """The plan's own cost, KPIs and route totals are ignored; everything is recomputed."""
    plan = make_plan()
    plan.cost.total = 1.0
    plan.kpis.travel_minutes = 0.0
    route(plan, "c1").travel_minutes = 0.0
    route(plan, "c1").working_minutes = 0.0
    report = validate(make_problem(), plan)
    assert report.valid
    assert report.cost.total == pytest.approx(BASE_COST)


def test_within_tolerance_is_valid_beyond_is_not():
    problem = make_problem()
    plan = make_plan()
    # c2 must leave at 08:45 for v2 at 09:00; c2's shift starting 08:45 + 0.0005 is tolerated.
    problem.carers[1].shifts = [Shift(start=525.0005, end=840)]
    assert validate(problem, plan).valid
    problem.carers[1].shifts = [Shift(start=525.01, end=840)]
    assert not validate(problem, plan).valid
    assert validate(problem, plan, tolerance=0.1).valid


# ----------------------------------------------------------------------------------------
# 1. Carers of routes


def test_unknown_carer():
    plan = make_plan()
    plan.routes.append(Route(carer="c9"))
    violation = assert_only(validate(make_problem(), plan), "unknown_carer")
    assert violation.carer == "c9"


def test_second_route_for_a_carer():
    plan = make_plan()
    plan.routes.append(Route(carer="c3"))
    violation = assert_only(validate(make_problem(), plan), "duplicate")
    assert violation.carer == "c3"


# ----------------------------------------------------------------------------------------
# 2. Visit references and coverage


def test_unknown_visit_on_a_route():
    plan = make_plan()
    route(plan, "c3").visits.append(pv("v9", "A", 600, 30))
    violation = assert_only(validate(make_problem(), plan), "unknown_visit")
    assert violation.visit == "v9"


def test_unknown_visit_listed_as_unassigned():
    plan = make_plan()
    plan.unassigned.append(UnassignedVisit(visit="v9", reason="?"))
    assert_only(validate(make_problem(), plan), "unknown_visit")


def test_part_the_visit_does_not_have():
    plan = make_plan()
    route(plan, "c3").visits.append(pv("v1", "A", 490, 30, part=1))
    violation = assert_only(validate(make_problem(), plan), "unknown_visit")
    assert violation.visit == "v1"


def test_client_mismatch():
    plan = make_plan()
    route(plan, "c2").visits[0].client = "A"
    violation = assert_only(validate(make_problem(), plan), "client_mismatch")
    assert violation.visit == "v2"


def test_same_part_planned_twice():
    plan = make_plan()
    route(plan, "c3").visits.append(pv("v1", "A", 490, 30))
    violation = assert_only(validate(make_problem(), plan), "duplicate")
    assert violation.visit == "v1"


def test_partial_double_visit():
    plan = make_plan()
    route(plan, "c2").visits.pop()  # v3 part 1
    violation = assert_only(validate(make_problem(), plan), "partial_visit")
    assert violation.visit == "v3"


def test_visit_neither_routed_nor_unassigned():
    plan = make_plan()
    plan.unassigned.clear()
    violation = assert_only(validate(make_problem(), plan), "missing_visit")
    assert violation.visit == "v4"


def test_visit_routed_and_unassigned():
    plan = make_plan()
    plan.unassigned.append(UnassignedVisit(visit="v1", reason="?"))
    violation = assert_only(validate(make_problem(), plan), "duplicate")
    assert violation.visit == "v1"


def test_visit_unassigned_twice():
    plan = make_plan()
    plan.unassigned.append(UnassignedVisit(visit="v4", reason="again"))
    assert_only(validate(make_problem(), plan), "duplicate")


def test_unassigned_visits_are_allowed_but_cost():
    plan = make_plan()
    route(plan, "c2").visits.pop(0)  # v2
    plan.unassigned.append(UnassignedVisit(visit="v2", reason="no carer"))
    report = validate(make_problem(), plan)
    assert report.valid, [v.message for v in report.violations]
    # c2 now goes office -> C -> office: 20 + 21.
    assert report.cost.travel == 43 + 41
    assert report.cost.unassigned == 10_000 + 50
    # c1 still waits 68 minutes at C; c2 none (one visit)
    assert report.cost.total == pytest.approx(10_000 + 50 + 84 + 68 * ObjectiveWeights().waiting)
    assert report.kpis.visits_assigned == 2
    assert report.kpis.mandatory_unassigned == 1
    assert report.kpis.coverage == 0.5


# ----------------------------------------------------------------------------------------
# 3. Double-handed visits need two carers


def test_double_visit_by_one_carer():
    problem = make_problem()
    # Sequential parts so one carer could physically do both: only distinctness is broken.
    visit(problem, "v3").synchronisation = Synchronisation(kind="sequential", min_gap=60, max_gap=60)
    plan = make_plan()
    route(plan, "c2").visits.pop()
    route(plan, "c1").visits.append(pv("v3", "C", 660, 60, part=1))
    violation = assert_only(validate(problem, plan), "distinct_carers")
    assert violation.visit == "v3"


# ----------------------------------------------------------------------------------------
# 4. Eligibility


def test_missing_skill():
    plan = make_plan()
    route(plan, "c2").visits.pop()
    route(plan, "c3").visits.append(pv("v3", "C", 600, 60, part=1))
    violation = assert_only(validate(make_problem(), plan), "skill")
    assert violation.message == "carer c3 lacks skill 'hoist' needed by visit v3"
    assert (violation.carer, violation.visit) == ("c3", "v3")


def test_part_skills_are_checked_per_part():
    problem = make_problem()
    visit(problem, "v3").parts = [VisitPart(skills=[]), VisitPart(skills=["meds"])]
    violation = assert_only(validate(problem, make_plan()), "skill")
    assert violation.carer == "c2"
    assert "'meds'" in violation.message


def test_part_durations_are_used():
    problem = make_problem()
    visit(problem, "v3").parts = [VisitPart(duration=60), VisitPart(duration=40)]
    assert_only(validate(problem, make_plan()), "end_time")
    plan = make_plan()
    route(plan, "c2").visits[1].end = 640
    report = validate(problem, plan)
    assert report.valid
    assert report.kpis.working_minutes["c2"] == 45 + 40 + 44


def test_gender_requirement():
    problem = make_problem()
    problem.clients[2].gender_requirement = Gender.female  # C, visited by c1 (female) and c2 (male)
    violation = assert_only(validate(problem, make_plan()), "gender")
    assert violation.carer == "c2"


def test_gender_requirement_fails_for_unknown_gender():
    problem = make_problem()
    problem.clients[0].gender_requirement = Gender.female  # A, visited by c1
    assert validate(problem, make_plan()).valid
    problem.carers[0].gender = None
    violation = assert_only(validate(problem, make_plan()), "gender")
    assert violation.carer == "c1"


def test_banned_carer():
    problem = make_problem()
    problem.clients[1].banned_carers = ["c2"]
    violation = assert_only(validate(problem, make_plan()), "banned")
    assert (violation.carer, violation.visit) == ("c2", "v2")


def test_pinned_carer():
    problem = make_problem()
    visit(problem, "v2").pinned_carers = ["c1"]
    violation = assert_only(validate(problem, make_plan()), "pinned_carer")
    assert violation.visit == "v2"
    problem = make_problem()
    visit(problem, "v3").pinned_carers = ["c2", "c1"]
    assert validate(problem, make_plan()).valid


def test_pinned_start():
    problem = make_problem()
    visit(problem, "v1").pinned_start = 500
    violation = assert_only(validate(problem, make_plan()), "pinned_start")
    assert violation.visit == "v1"
    visit(problem, "v1").pinned_start = 490
    assert validate(problem, make_plan()).valid


# ----------------------------------------------------------------------------------------
# 5. Times


def test_end_time_must_match_duration():
    plan = make_plan()
    route(plan, "c1").visits[0].end = 525
    violation = assert_only(validate(make_problem(), plan), "end_time")
    assert violation.visit == "v1"


def test_recomputed_end_is_used_not_the_planned_one():
    plan = make_plan()
    # v2 really ends 09:55 (595) and C is 8 minutes away: too late for v3 at 10:00, even
    # though the plan claims v2 ends 09:40.
    route(plan, "c2").visits[0] = PlannedVisit(visit="v2", client="B", start=550, end=580)
    report = validate(make_problem(), plan)
    assert codes(report) == {"end_time", "travel"}


def test_start_after_window():
    problem = make_problem()
    visit(problem, "v1").window = TimeWindow(start=480, end=485)
    violation = assert_only(validate(problem, make_plan()), "window")
    assert violation.message == "visit v1 starts 08:10, after its latest start 08:05"


def test_start_before_window():
    plan = make_plan()
    route(plan, "c2").visits[0] = pv("v2", "B", 530, 45)
    violation = assert_only(validate(make_problem(), plan), "window")
    assert violation.visit == "v2"
    assert "before its earliest start 09:00" in violation.message


def test_open_window_end():
    problem = make_problem()
    visit(problem, "v1").window = TimeWindow(start=480)
    assert validate(problem, make_plan()).valid


# ----------------------------------------------------------------------------------------
# 6. Shifts


def test_visit_outside_shift():
    problem = make_problem()
    problem.carers[1].shifts = [Shift(start=480, end=650)]
    violation = assert_only(validate(problem, make_plan()), "shift")
    assert (violation.carer, violation.visit) == ("c2", "v3")


def test_split_shifts():
    problem = make_problem()
    # c2 works 08:45-09:50 and 09:52-11:21: each visit lies in one shift.
    problem.carers[1].shifts = [Shift(start=525, end=590), Shift(start=592, end=681)]
    assert validate(problem, make_plan()).valid
    # A visit straddling two shifts is not inside either.
    problem.carers[1].shifts = [Shift(start=525, end=570), Shift(start=571, end=681)]
    violation = assert_only(validate(problem, make_plan()), "shift")
    assert violation.visit == "v2"


def test_leaving_home_before_shift_start():
    problem = make_problem()
    problem.carers[1].shifts = [Shift(start=530, end=840)]  # must leave at 08:45 (525)
    violation = assert_only(validate(problem, make_plan()), "shift")
    assert violation.carer == "c2"
    assert "leave home at 08:45" in violation.message


def test_getting_home_after_shift_end():
    problem = make_problem()
    problem.carers[0].shifts = [Shift(start=480, end=680)]  # c1 gets home at 681
    violation = assert_only(validate(problem, make_plan()), "shift")
    assert violation.carer == "c1"
    problem.carers[0].shifts = [Shift(start=480, end=681)]
    assert validate(problem, make_plan()).valid


def test_home_end_location_is_used():
    problem = make_problem()
    problem.carers[0].end_location = "home_b"  # C -> B is 8 instead of 21 to the office
    report = validate(problem, make_plan())
    assert report.valid
    assert report.cost.travel == 87 - 21 + 8


# ----------------------------------------------------------------------------------------
# 7. Order and travel


def test_not_enough_travel_time():
    plan = make_plan()
    route(plan, "c2").visits[0] = pv("v2", "B", 550, 45)  # ends 595, + 8 travel = 603 > 600
    violation = assert_only(validate(make_problem(), plan), "travel")
    assert (violation.carer, violation.visit) == ("c2", "v3")


def test_travel_exactly_enough():
    plan = make_plan()
    route(plan, "c2").visits[0] = pv("v2", "B", 547, 45)  # ends 592, + 8 travel = 600
    assert validate(make_problem(), plan).valid


def test_travel_direction_matters():
    # B -> A takes 6 minutes (A -> B only 5): a leg read the wrong way round would pass.
    problem = make_problem()
    visit(problem, "v4").window = TimeWindow(start=480, end=720)
    plan = make_plan()
    plan.unassigned.clear()
    route(plan, "c2").visits = [pv("v3", "C", 600, 60, part=1)]
    route(plan, "c3").visits = [pv("v2", "B", 540, 45), pv("v4", "A", 591, 20)]  # 585 + 6 = 591
    report = validate(problem, plan)
    assert report.valid, [v.message for v in report.violations]
    # c3 goes office -> B (15), B -> A (6), A -> office (11); c2 office -> C -> office.
    assert report.cost.travel == 43 + (20 + 21) + (15 + 6 + 11)
    route(plan, "c3").visits[1] = pv("v4", "A", 590, 20)
    violation = assert_only(validate(problem, plan), "travel")
    assert (violation.carer, violation.visit) == ("c3", "v4")


def test_visits_out_of_order():
    plan = make_plan()
    route(plan, "c1").visits.reverse()  # v3 10:00-11:00 listed before v1 08:10
    report = validate(make_problem(), plan)
    assert not report.valid
    assert "order" in codes(report)
    order = next(v for v in report.violations if v.code == "order")
    assert (order.carer, order.visit) == ("c1", "v1")


def test_overlapping_visits():
    problem = make_problem()
    problem.carers[2].skills = ["hoist"]
    visit(problem, "v3").window = TimeWindow(start=540, end=720)
    plan = make_plan()
    route(plan, "c2").visits.pop()
    # c3 does v2 at B 09:00-09:45 and v3 part 1 at C from 09:30: overlap.
    route(plan, "c3").visits = [pv("v2", "B", 540, 45), pv("v3", "C", 600, 60, part=1)]
    route(plan, "c2").visits = []
    assert validate(problem, plan).valid
    route(plan, "c3").visits = [pv("v2", "B", 540, 45), pv("v3", "C", 570, 60, part=1)]
    route(plan, "c1").visits[1] = pv("v3", "C", 570, 60, part=0)
    violation = assert_only(validate(problem, plan), "order")
    assert (violation.carer, violation.visit) == ("c3", "v3")


def test_empty_route_is_fine():
    plan = make_plan()
    report = validate(make_problem(), plan)
    assert report.valid
    assert "c3" not in report.kpis.working_minutes


# ----------------------------------------------------------------------------------------
# 8. Synchronisation


def test_simultaneous_start():
    plan = make_plan()
    route(plan, "c2").visits[1] = pv("v3", "C", 601, 60, part=1)
    violation = assert_only(validate(make_problem(), plan), "sync")
    assert violation.visit == "v3"


def test_sequential_gap():
    problem = make_problem()
    visit(problem, "v3").synchronisation = Synchronisation(kind="sequential", min_gap=5, max_gap=10)
    violation = assert_only(validate(problem, make_plan()), "sync")  # both start at 10:00
    assert violation.visit == "v3"
    for start, ok in [(605, True), (610, True), (611, False), (604, False)]:
        plan = make_plan()
        route(plan, "c2").visits[1] = pv("v3", "C", start, 60, part=1)
        report = validate(problem, plan)
        assert report.valid is ok, (start, [v.message for v in report.violations])
        if not ok:
            assert codes(report) == {"sync"}


def test_sequential_order_is_part0_first():
    problem = make_problem()
    visit(problem, "v3").synchronisation = Synchronisation(kind="sequential", min_gap=5, max_gap=10)
    plan = make_plan()
    route(plan, "c1").visits[1] = pv("v3", "C", 607, 60, part=0)  # part 0 after part 1: negative gap
    assert_only(validate(problem, plan), "sync")


# ----------------------------------------------------------------------------------------
# 9. Breaks


def with_break(plan: Plan, start: float, end: float, carer: str = "c1") -> Plan:
    route(plan, carer).breaks.append(PlannedBreak(start=start, end=end))
    return plan


def test_break_between_visits_is_fine():
    # c1: v1 ends 08:40, travel 12 to C, v3 at 10:00: room for a 30 min break.
    assert validate(make_problem(), with_break(make_plan(), 530, 560)).valid
    assert validate(make_problem(), with_break(make_plan(), 520, 588)).valid  # exactly fills the gap


def test_break_overlapping_a_visit():
    violation = assert_only(validate(make_problem(), with_break(make_plan(), 500, 510)), "break")
    assert violation.carer == "c1"


def test_break_before_first_or_after_last_visit():
    assert_only(validate(make_problem(), with_break(make_plan(), 470, 480)), "break")
    assert_only(validate(make_problem(), with_break(make_plan(), 700, 730)), "break")
    assert_only(validate(make_problem(), with_break(make_plan(), 530, 560, carer="c3")), "break")


def test_break_ending_before_it_starts():
    assert_only(validate(make_problem(), with_break(make_plan(), 560, 530)), "break")


def test_break_leaves_no_time_to_travel():
    plan = with_break(make_plan(), 520, 590)  # 08:40 + 70 break + 12 travel = 10:02 > 10:00
    violation = assert_only(validate(make_problem(), plan), "travel")
    assert (violation.carer, violation.visit) == ("c1", "v3")


def test_break_rule():
    problem = make_problem()
    # c1 is out 08:00-11:21 (201 min) > 120: a 30 min break is owed.
    problem.carers[0].break_rule = BreakRule(after_minutes=120, duration=30)
    violation = assert_only(validate(problem, make_plan()), "break")
    assert violation.carer == "c1"
    assert validate(problem, with_break(make_plan(), 530, 560)).valid
    assert_only(validate(problem, with_break(make_plan(), 530, 550)), "break")  # too short

    problem.carers[0].break_rule = BreakRule(after_minutes=120, duration=30, earliest=540, latest=555)
    assert_only(validate(problem, with_break(make_plan(), 530, 560)), "break")  # starts too early
    assert validate(problem, with_break(make_plan(), 540, 570)).valid
    assert_only(validate(problem, with_break(make_plan(), 556, 586)), "break")  # starts too late

    # A short day needs no break.
    problem.carers[0].break_rule = BreakRule(after_minutes=201, duration=30)
    assert validate(problem, make_plan()).valid


# ----------------------------------------------------------------------------------------
# 10. Working time


def test_max_working_minutes():
    problem = make_problem()
    problem.carers[0].max_working_minutes = 133  # c1 works 30 + 60 + 43 travel
    assert validate(problem, make_plan()).valid
    problem.carers[0].max_working_minutes = 132
    violation = assert_only(validate(problem, make_plan()), "max_working")
    assert violation.carer == "c1"


def test_waiting_and_breaks_are_not_working_time():
    problem = make_problem()
    problem.carers[0].max_working_minutes = 133
    report = validate(problem, with_break(make_plan(), 530, 560))
    assert report.valid
    assert report.kpis.working_minutes["c1"] == 133


# ----------------------------------------------------------------------------------------
# Cost terms


def test_lateness_and_max_lateness():
    problem = make_problem(max_lateness=3.0)
    visit(problem, "v1").target = TimeWindow(start=480, end=485)  # c1 starts 490: 5 late
    visit(problem, "v3").target = TimeWindow(start=580, end=590)  # both parts start 600: 10 late each
    report = validate(problem, make_plan())
    assert report.valid
    assert report.kpis.total_lateness == 25.0
    assert report.kpis.max_lateness == 10.0
    assert report.cost.lateness == 20.0 * 25
    assert report.cost.max_lateness == 3.0 * 10
    assert report.cost.earliness == 0.0
    assert report.cost.total == pytest.approx(BASE_COST + 500 + 30)


def test_open_target_end_has_no_lateness():
    problem = make_problem()
    visit(problem, "v1").target = TimeWindow(start=480)
    report = validate(problem, make_plan())
    assert report.cost.lateness == 0.0
    assert report.cost.earliness == 0.0


def test_earliness():
    problem = make_problem()
    visit(problem, "v2").target = TimeWindow(start=560, end=600)  # c2 starts 540: 20 early
    visit(problem, "v3").target = TimeWindow(start=603, end=610)  # 3 early for each part
    report = validate(problem, make_plan())
    assert report.cost.earliness == 2.0 * (20 + 3 + 3)
    assert report.cost.lateness == 0.0
    assert report.cost.total == pytest.approx(BASE_COST + 52)


def test_preferences():
    problem = make_problem()
    problem.clients[2].gender_preference = Gender.female  # C: c2 (male) does part 1
    problem.clients[1].preferred_carers = ["c1"]  # B: done by c2
    problem.clients[0].preferred_carers = ["c1"]  # A: done by c1, fine
    report = validate(problem, make_plan())
    assert report.valid
    assert report.cost.preferences == 15.0 + 10.0
    assert report.cost.total == pytest.approx(BASE_COST + 25)


def test_continuity():
    problem = make_problem()
    problem.clients[0].historical_carers = ["c2"]  # A: v1 by c1, a stranger
    problem.clients[2].historical_carers = ["c1"]  # C: c1 known, c2 a stranger
    report = validate(problem, make_plan())
    assert report.cost.continuity == 10.0 * 2
    assert report.kpis.continuity == pytest.approx(1 / 3)
    assert report.cost.total == pytest.approx(BASE_COST + 20)


def test_overtime():
    problem = make_problem()
    problem.carers[0].contracted_minutes = 100  # c1 works 133
    problem.carers[1].contracted_minutes = 200  # c2 works 149: no overtime
    problem.carers[2].contracted_minutes = 0  # c3 does nothing
    report = validate(problem, make_plan())
    assert report.kpis.overtime_minutes == 33.0
    assert report.cost.overtime == 33.0
    problem.weights = ObjectiveWeights(overtime=2.0)
    assert validate(problem, make_plan()).cost.overtime == 66.0


def test_unassigned_mandatory_and_optional():
    problem = make_problem(unassigned_mandatory=1000.0, optional_value=2.0)
    plan = make_plan()
    plan.routes = [Route(carer="c1"), Route(carer="c2")]
    plan.unassigned = [UnassignedVisit(visit=v, reason="none") for v in ("v1", "v2", "v3", "v4")]
    report = validate(problem, plan)
    assert report.valid
    assert report.cost.unassigned == 3 * 1000.0 + 2.0 * 50
    assert report.cost.travel == 0.0
    assert report.cost.total == 3100.0
    assert report.kpis.coverage == 0.0
    assert report.kpis.mandatory_unassigned == 3
    assert report.kpis.working_minutes == {}


def test_partial_visit_counts_as_unassigned():
    plan = make_plan()
    route(plan, "c2").visits.pop()
    report = validate(make_problem(), plan)
    assert "partial_visit" in codes(report)
    assert report.cost.unassigned == 10_000 + 50
    assert report.kpis.visits_assigned == 2


def test_hhcrsp_objective():
    problem = make_problem()
    problem.weights = ObjectiveWeights.hhcrsp()
    visit(problem, "v1").target = TimeWindow(start=480, end=485)  # 5 late
    visit(problem, "v3").target = TimeWindow(start=580, end=590)  # 10 late, twice
    visit(problem, "v2").target = TimeWindow(start=600, end=660)  # early, not penalised
    problem.clients[0].historical_carers = ["c2"]  # not penalised
    problem.carers[0].contracted_minutes = 0  # not penalised
    visit(problem, "v4").value = 0.0  # benchmark instances have no optional visits
    report = validate(problem, make_plan())
    assert report.valid
    distance, tardiness, max_tardiness = 87.0, 25.0, 10.0
    assert report.cost.total == pytest.approx((distance + tardiness + max_tardiness) / 3, abs=1e-12)
    assert report.cost.unassigned == 0.0


def test_cost_of_an_invalid_plan_is_best_effort():
    plan = make_plan()
    route(plan, "c3").visits.append(pv("v9", "A", 600, 30))
    plan.routes.append(Route(carer="c9", visits=[pv("v4", "A", 600, 20)]))
    report = validate(make_problem(), plan)
    assert not report.valid
    assert codes(report) == {"unknown_visit", "unknown_carer"}
    assert report.cost.total == pytest.approx(BASE_COST)


# ----------------------------------------------------------------------------------------
# Estimated travel, fractional benchmark times and speed


def planar_problem() -> Problem:
    """Benchmark-style data: planar coordinates, Euclidean travel, fractional times."""
    return Problem(
        locations=[Location(id="depot", x=0, y=0), Location(id="p1", x=3, y=4), Location(id="p2", x=4, y=5)],
        carers=[Carer(id="k1", start_location="depot", shifts=[Shift(start=0, end=1000)])],
        clients=[Client(id="a", location="p1"), Client(id="b", location="p2")],
        visits=[
            Visit(id="s1", client="a", duration=10, window=TimeWindow(start=0), target=TimeWindow(start=0, end=5)),
            Visit(id="s2", client="b", duration=10, window=TimeWindow(start=0), target=TimeWindow(start=0, end=15)),
        ],
        weights=ObjectiveWeights.hhcrsp(),
    )


def test_estimated_planar_travel():
    problem = planar_problem()
    leg = 2**0.5
    home = (4**2 + 5**2) ** 0.5
    plan = Plan(routes=[Route(carer="k1", visits=[pv("s1", "a", 5, 10), pv("s2", "b", 15 + leg, 10)])])
    report = validate(problem, plan)
    assert report.valid, [v.message for v in report.violations]
    assert report.kpis.travel_estimated is True
    distance = 5 + leg + home
    assert report.kpis.travel_minutes == pytest.approx(distance, abs=1e-12)
    assert report.kpis.total_lateness == pytest.approx(leg, abs=1e-12)
    assert report.cost.total == pytest.approx((distance + 2 * leg) / 3, abs=1e-12)

    plan.routes[0].visits[1] = pv("s2", "b", 15 + leg - 0.01, 10)
    violation = assert_only(validate(problem, plan), "travel")
    assert "minute 16.404" in violation.message  # fractional times show the exact minute


def test_messages_name_carer_and_times():
    problem = make_problem()
    problem.carers[1].shifts = [Shift(start=530, end=840)]
    report = validate(problem, make_plan())
    message = report.violations[0].message
    assert "c2" in message and "08:45" in message and "08:50" in message


def big_problem(carers: int = 30, per_carer: int = 10) -> tuple[Problem, Plan]:
    n_visits = carers * per_carer
    locations = [Location(id="depot", x=0, y=0)] + [Location(id=f"l{i}", x=i % 17, y=i // 17) for i in range(n_visits)]
    problem = Problem(
        locations=locations,
        carers=[
            Carer(id=f"k{c}", start_location="depot", shifts=[Shift(start=0, end=10_000)], max_working_minutes=10_000)
            for c in range(carers)
        ],
        clients=[Client(id=f"cl{i}", location=f"l{i}") for i in range(n_visits)],
        visits=[
            Visit(id=f"s{i}", client=f"cl{i}", duration=15, target=TimeWindow(start=0, end=100))
            for i in range(n_visits)
        ],
    )
    routes = []
    for c in range(carers):
        visits = []
        for k in range(per_carer):
            i = c * per_carer + k
            start = 60.0 * (k + 1)  # 45 minutes of slack for travel of at most ~25 minutes
            visits.append(pv(f"s{i}", f"cl{i}", start, 15))
        routes.append(Route(carer=f"k{c}", visits=visits))
    return problem, Plan(routes=routes)


def test_300_visits_validate():
    """How long it takes is measured in ``benchmarks/test_speed.py``."""
    problem, plan = big_problem()
    report = validate(problem, plan)
    assert report.valid, [v.message for v in report.violations[:5]]
    assert report.kpis.visits_assigned == 300


# --- waiting: unpaid gaps between visits --------------------------------------------------


def test_waiting_is_each_gap_between_visits_less_travel():
    """c1 ends v1 at 08:40, drives 12 minutes to C and starts v3 at 10:00: 68 minutes'
    wait; c2 ends v2 at 09:45, drives 8, starts at 10:00: 7. No wait before a first visit."""
    report = validate(make_problem(waiting=2.0, max_waiting=1.0), make_plan())
    assert report.valid, [v.message for v in report.violations]
    assert report.kpis.waiting_by_carer == {"c1": 68.0, "c2": 7.0}
    assert report.kpis.waiting_minutes == 75.0 and report.kpis.max_wait_minutes == 68.0
    assert report.cost.waiting == 2.0 * 75 and report.cost.max_waiting == 68.0
    unweighted = validate(make_problem(waiting=0.0), make_plan())
    assert report.cost.total == pytest.approx(unweighted.cost.total + 150 + 68)


def test_a_break_in_a_gap_is_not_waiting():
    plan = make_plan()
    route(plan, "c1").breaks = [PlannedBreak(start=540, end=560)]
    report = validate(make_problem(waiting=1.0), plan)
    assert report.kpis.waiting_by_carer == {"c1": 68.0 - 20, "c2": 7.0}


def test_the_gap_between_two_shifts_is_not_waiting():
    """c1 works 08:00-09:00 and 09:55-14:00: off between v1 and v3, not waiting."""
    problem = make_problem(waiting=1.0)
    c1 = problem.carers[0]
    c1.shifts = [Shift(start=480, end=540), Shift(start=595, end=840)]
    report = validate(problem, make_plan())
    assert report.valid, [v.message for v in report.violations]
    assert report.kpis.waiting_by_carer == {"c2": 7.0} and report.kpis.max_wait_minutes == 7.0


# --- soft shift ends ----------------------------------------------------------------------


def test_finishing_after_a_soft_shift_end_costs_each_minute():
    """c1's shift ends at 10:30 but may run to 11:30: v3 ends at 11:00 and C to the office
    is 21 minutes, so c1 is home at 11:21, 51 minutes past the end."""
    problem = make_problem(past_shift_end=2.0)
    problem.carers[0].shifts = [Shift(start=480, end=630, latest_end=690)]
    report = validate(problem, make_plan())
    assert report.valid, [v.message for v in report.violations]
    assert report.kpis.past_shift_end_minutes == 51.0 and report.cost.past_shift_end == 2.0 * 51
    assert validate(make_problem(), make_plan()).kpis.past_shift_end_minutes == 0  # hard ends, kept


def test_a_soft_shift_end_still_has_a_latest():
    problem = make_problem()
    problem.carers[0].shifts = [Shift(start=480, end=600, latest_end=670)]  # home at 11:21 is too late
    violation = assert_only(validate(problem, make_plan()), "shift")
    assert "11:10" in violation.message


def test_only_the_last_visit_of_each_soft_shift_counts():
    """c2 works 08:00-09:40 (soft to 10:00) and 09:50-14:00 (soft to 14:30): v2 ends at
    09:45 inside the first's soft end (5 minutes past); v3, the day's last, ends 11:00 and
    c2 is home 11:21, within the second shift."""
    problem = make_problem()
    problem.carers[1].shifts = [
        Shift(start=480, end=580, latest_end=600),
        Shift(start=590, end=840, latest_end=870),
    ]
    report = validate(problem, make_plan())
    assert report.valid, [v.message for v in report.violations]
    assert report.kpis.past_shift_end_minutes == 5.0
