"""Replanning: property tests on random days and events, and worked examples.

Random small days are solved, then a random batch of events (absences, delays, new
clients and visits, cancellations, changes, check-ins and -outs, overruns) is absorbed at
a random time of day. Whatever happens, the new plan passes the independent validator
against the day as it now stands, what had already happened keeps its carer and time
(``apply_events`` says what happened: checked in, or planned before now and not held up;
tests/test_events.py pins that down), visits about to start keep their carer, and an
absent carer has nothing during the absence. An empty batch gives the plan back unchanged.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carescheduler.day.apply import apply_events
from carescheduler.day.replan import ReplanSettings, replan
from carescheduler.domain import Problem
from carescheduler.errors import InputError
from carescheduler.plan import Plan
from carescheduler.search.solver import solve
from carescheduler.validator import validate
from problem_factory import assert_valid, carer, client, location, matrix_from_coords, problem_dict, visit
from random_days import problems
from test_solver_properties import PROPERTY_SETTINGS

FREEZE = 30.0
SOLVE = {"time_limit": 2, "seed": 0, "max_iterations": 20}


def _starts(plan: Plan) -> dict[tuple[str, int], tuple[str, float]]:
    return {(pv.visit, pv.part): (r.carer, pv.start) for r in plan.routes for pv in r.visits}


@st.composite
def days_with_events(draw):
    """A solved random day, a time of day, and a batch of events that fits it."""
    problem = draw(problems())
    plan = solve(problem, **SOLVE)
    placed = [(r.carer, pv) for r in plan.routes for pv in r.visits]
    starts = [pv.start for _, pv in placed] or [480.0]
    now = float(draw(st.integers(int(min(starts)) - 30, int(max(starts)) + 30)))
    started = [(c, pv) for c, pv in placed if pv.start < now]
    upcoming = {pv.visit for c, pv in placed if pv.start >= now} - {pv.visit for _, pv in started} | {
        u.visit for u in plan.unassigned
    }
    events: list[dict] = []
    touched: set[str] = set()
    carer_ids = [c.id for c in problem.carers]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                [
                    "absent",
                    "absent_window",
                    "delayed",
                    "cancel",
                    "add_visit",
                    "add_client",
                    "check_in",
                    "check_out",
                    "change",
                    "add_carer",
                ]
            )
        )
        if kind == "absent":
            events.append({"type": "carer_absent", "carer": draw(st.sampled_from(carer_ids))})
        elif kind == "absent_window":  # (reported late, or ahead)
            start = now + draw(st.integers(-180, 120))
            events.append(
                {
                    "type": "carer_absent",
                    "carer": draw(st.sampled_from(carer_ids)),
                    "start": start,
                    "end": start + draw(st.integers(30, 180)),
                }
            )
        elif kind == "delayed":
            events.append(
                {
                    "type": "carer_delayed",
                    "carer": draw(st.sampled_from(carer_ids)),
                    "minutes": draw(st.integers(5, 60)),
                }
            )
        elif kind == "cancel" and upcoming - touched:
            v = draw(st.sampled_from(sorted(upcoming - touched)))
            touched.add(v)
            events.append({"type": "visit_cancelled", "visit": v})
        elif kind == "change" and upcoming - touched:
            v = draw(st.sampled_from(sorted(upcoming - touched)))
            touched.add(v)
            start = max(now, 480) + draw(st.integers(0, 8)) * 30
            events.append(
                {
                    "type": "visit_changed",
                    "visit": v,
                    "window": {"start": start, "end": start + 90},
                    "duration": draw(st.sampled_from([15, 30, 45])),
                }
            )
        elif kind == "add_visit":
            start = max(now, 480) + draw(st.integers(0, 8)) * 30
            events.append(
                {
                    "type": "visit_added",
                    "visit": {
                        "id": f"extra{len(events)}",
                        "client": draw(st.sampled_from([c.id for c in problem.clients])),
                        "duration": 30,
                        "window": {"start": start, "end": start + 120},
                        "carers_needed": draw(st.sampled_from([1, 1, 2])),
                    },
                }
            )
        elif kind == "add_client":
            start = max(now, 480) + draw(st.integers(0, 6)) * 30
            cid = f"newclient{len(events)}"
            events.append(
                {
                    "type": "client_added",
                    "client": {"id": cid, "location": f"newplace{len(events)}"},
                    "location": {
                        "id": f"newplace{len(events)}",
                        "x": draw(st.integers(0, 20)),
                        "y": draw(st.integers(0, 20)),
                    },
                    "visits": [
                        {
                            "id": f"{cid}-a",
                            "client": cid,
                            "duration": 30,
                            "window": {"start": start, "end": start + 120},
                        },
                        {
                            "id": f"{cid}-b",
                            "client": cid,
                            "duration": 20,
                            "window": {"start": start + 180, "end": start + 300},
                        },
                    ],
                }
            )
        elif kind in ("check_in", "check_out") and started:
            who, pv = draw(st.sampled_from(started))
            if pv.visit in touched:
                continue
            touched.add(pv.visit)
            late = draw(st.integers(0, 10))
            at = min(now, pv.start + late)
            events.append({"type": "check_in", "visit": pv.visit, "carer": who, "at": at})
            if kind == "check_out" and pv.end + late <= now:
                events.append(
                    {
                        "type": "check_out",
                        "visit": pv.visit,
                        "carer": who,
                        "at": min(now, pv.end + late + draw(st.integers(0, 15))),
                    }
                )
        elif kind == "add_carer":
            events.append(
                {
                    "type": "carer_added",
                    "carer": {
                        "id": f"bank{len(events)}",
                        "start_location": "office",
                        "skills": ["hoist", "meds", "dementia"],
                        "shifts": [{"start": max(480, now), "end": max(480, now) + 240}],
                    },
                }
            )
    return problem, plan, now, events


def _assert_absences_respected(result, events: list[dict], now: float) -> None:
    for event in events:
        if event["type"] != "carer_absent":
            continue
        route = result.plan.route(event["carer"])
        start = event.get("start", now)
        end = event.get("end", float("inf"))
        for pv in route.visits if route else []:
            under_way = pv.start <= start < pv.end or (pv.start <= now and start <= pv.start < end)
            assert under_way or pv.end <= start + 1e-6 or pv.start >= end - 1e-6, (
                f"{event['carer']} has {pv.visit} {pv.start:.0f}-{pv.end:.0f} during an absence {start}-{end}"
            )


@settings(max_examples=60, **PROPERTY_SETTINGS)
@given(case=days_with_events())
def test_replan_keeps_the_past_and_the_near_future_and_stays_valid(case) -> None:
    problem, plan, now, events = case
    result = replan(problem, plan, events, now, time_limit=0.5, settings=ReplanSettings(freeze_minutes=FREEZE))
    report = validate(result.problem, result.plan)
    assert report.valid, [v.message for v in report.violations]
    before = _starts(plan)
    after = _starts(result.plan)
    unavailable = {e["carer"] for e in events if e["type"] in ("carer_absent", "carer_delayed")}
    changed = {e["visit"] for e in events if e["type"] in ("visit_changed", "visit_cancelled")}
    checked_in = {(e["visit"], e["carer"]): e["at"] for e in events if e["type"] == "check_in"}
    cancelled = {e["visit"] for e in events if e["type"] == "visit_cancelled"}
    facts = {
        (v, carer): start for (v, _), (carer, start, _) in apply_events(problem, plan, events, now).happened.items()
    }
    happened = set(facts)
    assert {(e["visit"], e["carer"]) for e in events if e["type"] == "check_in"} <= happened
    for (visit_id, _part), (who, start) in before.items():
        if visit_id in cancelled:
            assert not any(v == visit_id for v, _ in after), f"cancelled {visit_id} is still planned"
            continue
        if (visit_id, who) in happened and visit_id not in changed:
            carers_after = {c for (v, _), (c, _) in after.items() if v == visit_id}
            assert who in carers_after, f"{visit_id}, under way or done by {who} at {now}, moved"
            started_at = next(s for (v, _), (c, s) in after.items() if v == visit_id and c == who)
            recorded = facts[visit_id, who]
            assert started_at == pytest.approx(recorded), f"{visit_id} ({who}) starts {started_at}, not {recorded}"
            if (visit_id, who) in checked_in and problem.visit(visit_id).carers_needed == 1:
                assert started_at == pytest.approx(checked_in[visit_id, who])
        elif (
            now <= start < now + FREEZE
            and who not in unavailable
            and visit_id not in changed
            and not any(v == visit_id for v, _ in checked_in)
        ):  # (someone else may check in to it)
            carers_after = {c for (v, _), (c, _) in after.items() if v == visit_id}
            assert not carers_after or who in carers_after, f"{visit_id}, about to start with {who}, was given away"
    _assert_absences_respected(result, events, now)


@settings(max_examples=40, **PROPERTY_SETTINGS)
@given(problem=problems(), hour=st.integers(6, 20))
def test_an_empty_batch_gives_the_plan_back(problem: Problem, hour: int) -> None:
    plan = solve(problem, **SOLVE)
    result = replan(problem, plan, [], hour * 60.0)
    before, after = _starts(plan), _starts(result.plan)
    assert after.keys() == before.keys()
    for key, (who, start) in before.items():
        assert after[key][0] == who and after[key][1] == pytest.approx(start), key
    assert [u.visit for u in result.plan.unassigned] == [u.visit for u in plan.unassigned]
    assert result.changes.carers == [] and result.changes.moved_visits == []
    assert validate(result.problem, result.plan).valid


# --- worked examples ----------------------------------------------------------------------


def _town() -> Problem:
    """Three carers on a line of clients: a morning and an afternoon call each, with
    room in the afternoon to cover for one carer."""
    coords = [(0, 0)] + [(5 * i, 0) for i in range(1, 10)]
    locations = [location("office", 0, 0)] + [location(f"L{i}", 5 * i, 0) for i in range(1, 10)]
    carers = [carer(f"c{k}", shifts=[(480, 1080)], skills=["meds"]) for k in range(3)]
    clients = [client(f"p{i}", f"L{i}") for i in range(1, 10)]
    visits = [
        visit(f"v{i}{h}", f"p{i}", 30, start=h, end=h + span)
        for i in range(1, 10)
        for h, span in ((480, 90), (720, 240))
    ]
    return Problem.model_validate(problem_dict(locations, carers, clients, visits, travel=matrix_from_coords(coords)))


@pytest.fixture(scope="module")
def town() -> tuple[Problem, Plan]:
    problem = _town()
    plan = solve(problem, time_limit=3, seed=0, max_iterations=200)
    assert_valid(problem, plan)
    return problem, plan


def _busiest(plan: Plan, after: float) -> str:
    return max(plan.routes, key=lambda r: sum(pv.start >= after for pv in r.visits)).carer


def test_a_carer_off_sick_hands_their_visits_to_the_others(town) -> None:
    problem, plan = town
    sick = _busiest(plan, 600)
    theirs = {pv.visit for pv in plan.route(sick).visits if pv.start >= 600}
    result = replan(problem, plan, [{"type": "carer_absent", "carer": sick}], "10:00")
    assert validate(result.problem, result.plan).valid
    assert all(pv.start < 600 for pv in result.plan.route(sick).visits)
    now_with = {pv.visit: r.carer for r in result.plan.routes for pv in r.visits}
    assert theirs <= set(now_with) and all(now_with[v] != sick for v in theirs)
    told = {c.carer for c in result.changes.carers}
    assert sick in told and told - {sick}, "the sick carer and those taking over are told"
    assert len(result.changes.moved_visits) <= len(theirs)


def test_a_new_client_at_noon_is_fitted_in_and_only_the_carer_concerned_is_told(town) -> None:
    problem, plan = town
    events = {
        "now": "12:00",
        "events": [
            {
                "type": "client_added",
                "client": {"id": "home-from-hospital", "location": "H"},
                "location": {"id": "H", "x": 12, "y": 3},
                "visits": [
                    {
                        "id": "hfh-tea",
                        "client": "home-from-hospital",
                        "duration": 30,
                        "window": {"start": "13:00", "end": "14:00"},
                    }
                ],
            }
        ],
    }
    result = replan(problem, plan, events)
    assert validate(result.problem, result.plan).valid
    assert "hfh-tea" not in {u.visit for u in result.plan.unassigned}
    told = [c for c in result.changes.carers]
    assert len(told) == 1 and told[0].added == ["hfh-tea"]
    assert result.changes.moved_visits == []
    assert "H" in {x.id for x in result.problem.locations}


def test_check_in_late_and_overrun_are_recorded_and_later_visits_follow(town) -> None:
    problem, plan = town
    route = next(r for r in plan.routes if len(r.visits) >= 2)
    first = route.visits[0]
    events = [
        {"type": "check_in", "visit": first.visit, "carer": route.carer, "at": first.start + 10},
        {"type": "visit_overran", "visit": first.visit, "end": first.start + 55},
    ]
    result = replan(problem, plan, events, first.start + 50)
    assert validate(result.problem, result.plan).valid
    done = next(pv for pv in result.plan.route(route.carer).visits if pv.visit == first.visit)
    assert done.start == pytest.approx(first.start + 10) and done.end == pytest.approx(first.start + 55)
    day_visit = result.problem.visit(first.visit)
    assert day_visit.pinned_carers == [route.carer] and day_visit.pinned_start == pytest.approx(first.start + 10)


def test_a_visit_now_needing_two_carers_gets_two(town) -> None:
    problem, plan = town
    target = next(pv.visit for r in plan.routes for pv in r.visits if pv.start > 700)
    result = replan(problem, plan, [{"type": "visit_changed", "visit": target, "carers_needed": 2}], "09:00")
    assert validate(result.problem, result.plan).valid
    carers = {r.carer for r in result.plan.routes for pv in r.visits if pv.visit == target}
    assert len(carers) == 2


def test_a_cancelled_visit_leaves_its_carers_day(town) -> None:
    problem, plan = town
    route = next(r for r in plan.routes if r.visits)
    gone = route.visits[-1].visit
    result = replan(problem, plan, [{"type": "visit_cancelled", "visit": gone}], "08:00")
    assert gone not in {pv.visit for r in result.plan.routes for pv in r.visits}
    assert gone not in {v.id for v in result.problem.visits}
    told = {c.carer: c for c in result.changes.carers}
    assert gone in told[route.carer].removed


def test_a_visit_missed_during_an_unreported_absence_is_explained(town) -> None:
    problem, plan = town
    route = next(r for r in plan.routes if r.visits and r.visits[0].start < 540)
    missed = route.visits[0].visit
    result = replan(problem, plan, [{"type": "carer_absent", "carer": route.carer, "start": "07:00"}], "11:30")
    reasons = {u.visit: u.reason for u in result.plan.unassigned}
    assert missed in reasons and reasons[missed].startswith("missed")


@pytest.mark.parametrize(
    "event, field",
    [
        ({"type": "carer_absent", "carer": "nobody"}, "events[0].carer"),
        ({"type": "visit_cancelled", "visit": "nothing"}, "events[0].visit"),
        ({"type": "check_in", "visit": "v1480", "carer": "c0", "at": "13:00"}, "events[0].at"),
        ({"type": "carer_delayed", "carer": "c0"}, "events.0.carer_delayed"),
        ({"type": "teleport", "carer": "c0"}, "events.0"),
        (
            {
                "type": "visit_added",
                "visit": {"id": "x", "client": "p1", "duration": 30, "window": {"start": "08:00", "end": "09:00"}},
            },
            "events[0].visit.window.end",
        ),
    ],
)
def test_bad_events_name_the_field_and_change_nothing(town, event, field) -> None:
    problem, plan = town
    snapshot = (problem.model_dump_json(), plan.model_dump_json())
    with pytest.raises(InputError) as caught:
        replan(problem, plan, {"now": "12:00", "events": [event]})
    assert caught.value.field.startswith(field), str(caught.value)
    assert (problem.model_dump_json(), plan.model_dump_json()) == snapshot


def test_cancelling_a_visit_under_way_is_refused(town) -> None:
    problem, plan = town
    route = next(r for r in plan.routes if r.visits)
    first = route.visits[0]
    with pytest.raises(InputError, match="started"):
        replan(problem, plan, [{"type": "visit_cancelled", "visit": first.visit}], first.start + 5)


def test_now_is_required() -> None:
    problem = _town()
    with pytest.raises(InputError) as caught:
        replan(problem, Plan(), [])
    assert caught.value.field == "now"


def test_a_visit_left_out_gets_room_when_another_visit_moves_out_of_its_way() -> None:
    """The nurse's only visit sits across the new medication visit's window; the new
    carer cannot give medication but can take the nurse's visit. The replan must move
    that visit over (no LNS try starts without a changed route, so only making room for
    the visit left out finds this)."""
    coords = [(0, 0), (1, 0), (2, 0)]
    locations = [location("office", 0, 0), location("A", 1, 0), location("B", 2, 0)]
    problem = Problem.model_validate(
        problem_dict(
            locations,
            [carer("nurse", shifts=[(480, 600)], skills=["meds"])],
            [client("a", "A"), client("b", "B")],
            [visit("wash", "a", 60, start=480, end=510)],
            travel=matrix_from_coords(coords),
        )
    )
    plan = solve(problem, time_limit=2, seed=0, max_iterations=20)
    assert plan.route("nurse").visits[0].visit == "wash"
    aide = carer("aide", shifts=[(480, 600)])
    meds = visit("meds", "b", 60, start=480, end=510, skills=["meds"])
    events = [{"type": "carer_added", "carer": aide}, {"type": "visit_added", "visit": meds}]
    result = replan(problem, plan, events, "07:00", seed=0)
    assert_valid(result.problem, result.plan)
    assert not result.plan.unassigned
    assert [pv.visit for pv in result.plan.route("nurse").visits] == ["meds"]
    assert [pv.visit for pv in result.plan.route("aide").visits] == ["wash"]
