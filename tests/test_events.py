"""Applying events to a day: what each event changes and what counts as having happened.

A small hand-made day with a hand-written plan (times chosen so every rule is easy to
see) is changed by one kind of event at a time; ``apply_events`` must say exactly what
happened, write it into the day, and refuse bad events by naming the field.
"""

from __future__ import annotations

import pytest

from carescheduler.day.apply import apply_events, apply_in_order, refused_event, refused_events
from carescheduler.day.events import EventBatch
from carescheduler.domain import Problem, Shift
from carescheduler.errors import InputError
from carescheduler.plan import Plan, PlannedVisit, Route
from carescheduler.validator import validate
from problem_factory import carer, client, location, problem_dict, visit

TRAVEL = 10  # minutes between any two client homes (and from the office)


def _day() -> Problem:
    coords = [(0, 0), (10, 0), (0, 10), (10, 10), (20, 0)]  # office, then four homes 10 apart
    locations = [location("office", 0, 0)] + [location(f"L{i}", *coords[i]) for i in range(1, 5)]
    travel = [[0 if i == j else TRAVEL for j in range(5)] for i in range(5)]
    carers = [
        carer("ann", shifts=[(480, 840)], skills=["hoist", "meds"]),
        carer("bob", shifts=[(480, 840)], skills=["hoist", "meds"]),
        carer("cat", shifts=[(480, 840)], skills=["meds"]),
    ]
    clients = [client(f"p{i}", f"L{i}") for i in range(1, 5)]
    visits = [
        visit("a1", "p1", 30, start=480, end=600),
        visit("a2", "p2", 30, start=480, end=660),
        visit("a3", "p3", 30, start=540, end=720),
        visit("b1", "p4", 30, start=480, end=600),
        visit("b2", "p1", 30, start=540, end=720),
        visit("d1", "p2", 30, start=600, end=720, carers_needed=2, skills=["hoist"]),
        visit(
            "d2",
            "p3",
            30,
            start=720,
            end=780,
            carers_needed=2,
            synchronisation={"kind": "sequential", "min_gap": 10, "max_gap": 20},
        ),
    ]
    return Problem.model_validate(problem_dict(locations, carers, clients, visits, travel=travel))


def _stop(v: str, client_id: str, start: float, part: int = 0, partner: str | None = None) -> PlannedVisit:
    return PlannedVisit(visit=v, part=part, client=client_id, start=start, end=start + 30, partner=partner)


def _plan() -> Plan:
    """ann: a1 08:10, a2 08:50, a3 09:30, d1 10:10 (with bob), d2 part 0 12:00;
    bob: b1 08:10, b2 09:00, d1 10:10; cat: d2 part 1 12:15."""
    return Plan(
        routes=[
            Route(
                carer="ann",
                visits=[
                    _stop("a1", "p1", 490),
                    _stop("a2", "p2", 530),
                    _stop("a3", "p3", 570),
                    _stop("d1", "p2", 610, 0, "bob"),
                    _stop("d2", "p3", 720, 0, "cat"),
                ],
            ),
            Route(
                carer="bob", visits=[_stop("b1", "p4", 490), _stop("b2", "p1", 540), _stop("d1", "p2", 610, 1, "ann")]
            ),
            Route(carer="cat", visits=[_stop("d2", "p3", 735, 1, "ann")]),
        ]
    )


@pytest.fixture()
def day() -> tuple[Problem, Plan]:
    problem, plan = _day(), _plan()
    report = validate(problem, plan)
    assert report.valid, [v.message for v in report.violations]
    return problem, plan


def test_before_now_counts_as_happened_and_is_pinned(day) -> None:
    problem, plan = day
    update = apply_events(problem, plan, [], "09:00")
    assert set(update.happened) == {("a1", 0), ("a2", 0), ("b1", 0)}
    assert update.happened["a2", 0] == ("ann", 530, 560)  # under way at 09:00
    a1 = update.problem.visit("a1")
    assert a1.pinned_carers == ["ann"] and a1.pinned_start == 490
    assert update.problem.visit("a3").pinned_carers == []  # not started yet


def test_a_late_check_in_holds_up_the_next_visit(day) -> None:
    problem, plan = day
    events = [
        {"type": "check_in", "visit": "a1", "carer": "ann", "at": "08:30"},
        {"type": "check_out", "visit": "a1", "carer": "ann", "at": "09:05"},
    ]
    update = apply_events(problem, plan, events, "09:20")
    assert update.happened["a1", 0] == ("ann", 510, 545)
    # a2 was planned 08:50 but ann left a1 at 09:05 and needs 10 minutes: she started 09:15
    assert update.happened["a2", 0] == ("ann", 555, 585)
    assert update.problem.visit("a1").duration == 35  # what the visit really took
    late = apply_events(problem, plan, events, "09:10")
    assert ("a2", 0) not in late.happened  # 09:15 is after now: not started


def test_an_absence_keeps_a_soft_end_only_where_the_shift_still_ends(day) -> None:
    """bob's shift 08:00-14:00 may run to 15:00. Away 10:00-11:00: the morning piece ends
    hard at 10:00 (he is away then), the afternoon piece keeps the soft end."""
    problem, plan = day
    bob = problem.carer("bob")
    soft = bob.model_copy(update={"shifts": [Shift(start=480, end=840, latest_end=900)]})
    problem = problem.model_copy(update={"carers": [soft if c.id == "bob" else c for c in problem.carers]})
    absent = [{"type": "carer_absent", "carer": "bob", "start": "10:00", "end": "11:00"}]
    update = apply_events(problem, plan, absent, "09:00")
    shifts = update.problem.carer("bob").shifts
    assert [(s.start, s.end, s.latest_end) for s in shifts] == [(480, 600, None), (660, 840, 900)]


def test_an_absence_cuts_the_shift_and_unstarts_what_it_covers(day) -> None:
    problem, plan = day
    update = apply_events(
        problem, plan, [{"type": "carer_absent", "carer": "bob", "start": "08:00", "end": "09:30"}], "09:00"
    )
    assert ("b1", 0) not in update.happened  # bob was away at 08:10
    assert [(s.start, s.end) for s in update.problem.carer("bob").shifts] == [(570, 840)]
    assert "b1" not in update.missed  # its window is open until 10:00
    gone = apply_events(problem, plan, [{"type": "carer_absent", "carer": "bob", "start": "08:00"}], "10:30")
    assert "b1" in gone.missed and gone.missed["b1"].startswith("missed")
    assert gone.problem.carer("bob").shifts == []  # no working time left today


def test_an_absence_starts_after_the_visit_under_way_and_the_way_home(day) -> None:
    problem, plan = day
    update = apply_events(problem, plan, [{"type": "carer_absent", "carer": "ann"}], "08:20")
    # ann is at a1 (08:10-08:40); home is 10 minutes away: her shift now ends 08:50
    assert [(s.start, s.end) for s in update.problem.carer("ann").shifts] == [(480, 530)]
    assert update.named_carers == {"ann"} and update.unavailable_carers == {"ann"}


def test_delay_makes_the_next_visit_wait(day) -> None:
    problem, plan = day
    update = apply_events(problem, plan, [{"type": "carer_delayed", "carer": "bob", "minutes": 20}], "08:00")
    # bob's next visit is b1 at 08:10: he cannot start anything before 08:30
    assert [(s.start, s.end) for s in update.problem.carer("bob").shifts] == [(510, 840)]
    until = apply_events(problem, plan, [{"type": "carer_delayed", "carer": "bob", "until": "09:00"}], "08:00")
    assert [(s.start, s.end) for s in until.problem.carer("bob").shifts] == [(540, 840)]


def test_a_partner_who_never_came_leaves_a_visit_done_alone(day) -> None:
    problem, plan = day
    update = apply_events(problem, plan, [{"type": "carer_absent", "carer": "bob", "start": "10:00"}], "10:30")
    d1 = update.problem.visit("d1")
    assert d1.carers_needed == 1 and d1.pinned_carers == ["ann"] and d1.pinned_start == 610
    assert ("d1", 0) in update.happened and update.dropped_carers == {"d1": {"bob": 610}}
    assert any("alone" in w for w in update.warnings)


def test_a_sequential_partner_keeps_the_gap_to_a_late_first_part(day) -> None:
    problem, plan = day
    events = [{"type": "check_in", "visit": "d2", "carer": "ann", "at": "12:10"}]
    update = apply_events(problem, plan, events, "12:18")
    # cat was planned 12:15; d2 needs her 10-20 minutes after ann, so 12:20: not started at 12:18
    assert ("d2", 1) not in update.happened and update.happened["d2", 0] == ("ann", 730, 760)


def test_new_client_and_place_get_travel_times_on_the_day_s_scale(day) -> None:
    problem, plan = day
    event = {
        "type": "client_added",
        "client": {"id": "new", "location": "NEW"},
        "location": {"id": "NEW", "x": 10, "y": 0.5},
        "visits": [{"id": "n1", "client": "new", "duration": 20, "window": {"start": "11:00", "end": "12:00"}}],
    }
    update = apply_events(problem, plan, {"now": "09:00", "events": [event]})
    assert update.renewed == {"n1"} and update.estimated_locations == ["NEW"]
    minutes = update.problem.travel[0].minutes
    n = len(update.problem.locations)
    assert minutes.shape == (n, n) and minutes[n - 1, n - 1] == 0
    # half a unit from L1, further from the rest; on the scale of the given 10-minute trips
    assert minutes[n - 1, 1] < 2 and all(minutes[n - 1, j] > minutes[n - 1, 1] for j in (0, 2, 3, 4))
    assert all(0 < minutes[n - 1, j] <= 30 and minutes[j, n - 1] == minutes[n - 1, j] for j in range(n - 1))


def test_changes_cancellations_and_added_carers(day) -> None:
    problem, plan = day
    events = [
        {"type": "visit_changed", "visit": "a3", "carers_needed": 2, "duration": 45},
        {"type": "visit_cancelled", "visit": "b2"},
        {
            "type": "carer_added",
            "carer": {
                "id": "dan",
                "start_location": "dhome",
                "skills": ["meds"],
                "shifts": [{"start": "10:00", "end": "14:00"}],
            },
            "locations": [{"id": "dhome", "x": 5, "y": 5}],
        },
    ]
    update = apply_events(problem, plan, events, "08:00")
    a3 = update.problem.visit("a3")
    assert a3.carers_needed == 2 and a3.duration == 45 and a3.synchronisation.kind == "simultaneous"
    assert "b2" not in {v.id for v in update.problem.visits} and update.cancelled_carers == {"b2": {"bob": 540}}
    assert update.problem.carer("dan").start_location == "dhome" and update.renewed == {"a3"}


@pytest.mark.parametrize(
    "events, field, words",
    [
        ([{"type": "check_out", "visit": "a3", "carer": "ann", "at": "09:00"}], "events[0].carer", "has not started"),
        ([{"type": "visit_changed", "visit": "a1", "duration": 40}], "events[0].visit", "started"),
        ([{"type": "visit_changed", "visit": "a3"}], "events[0]", "changes nothing"),
        (
            [{"type": "carer_absent", "carer": "ann", "start": "10:00", "end": "09:00"}],
            "events.0.carer_absent",
            "not after",
        ),
        (
            [{"type": "carer_added", "carer": {"id": "ann", "start_location": "office", "shifts": []}}],
            "events[0].carer.id",
            "already exists",
        ),
        (
            [{"type": "client_added", "client": {"id": "q", "location": "nowhere"}}],
            "events[0].client.location",
            "unknown location",
        ),
        (
            [{"type": "visit_cancelled", "visit": "a3"}, {"type": "visit_cancelled", "visit": "a3"}],
            "events[1].visit",
            "cancelled earlier",
        ),
        ([{"type": "visit_cancelled", "visit": "b2"}], "events[0].visit", "started"),
        (
            [
                {"type": "check_in", "visit": "d1", "carer": "cat", "at": "09:20"},
                {"type": "check_in", "visit": "d1", "carer": "ann", "at": "09:20"},
                {"type": "check_in", "visit": "d1", "carer": "bob", "at": "09:20"},
            ],
            "events[2].carer",
            "already has",
        ),
        ([{"type": "check_in", "visit": "a3", "carer": "ann", "at": "10:00"}], "events[0].at", "after now"),
    ],
)
def test_bad_events_are_refused_by_name(day, events, field, words) -> None:
    problem, plan = day
    before = (problem.model_dump_json(), plan.model_dump_json())
    with pytest.raises(InputError) as caught:
        apply_events(
            problem,
            plan,
            EventBatch.model_validate({"events": events}) if field.startswith("events[") else events,
            "09:30",
        )
    assert caught.value.field.startswith(field) and words in str(caught.value), str(caught.value)
    assert (problem.model_dump_json(), plan.model_dump_json()) == before


def test_a_check_in_by_another_carer_takes_the_visit_over(day) -> None:
    problem, plan = day
    update = apply_events(problem, plan, [{"type": "check_in", "visit": "a3", "carer": "cat", "at": "09:35"}], "09:40")
    assert update.happened["a3", 0] == ("cat", 575, 605)
    assert update.problem.visit("a3").pinned_carers == ["cat"]


def test_apply_in_order_leaves_out_each_refused_event_with_why(day) -> None:
    """A refused event never makes a later one fail: the events after it are applied as if
    it had not been sent, and each refusal names its own index among the events given."""
    problem, plan = day
    events = [
        {"type": "carer_absent", "carer": "nobody"},  # unknown carer
        {"type": "visit_cancelled", "visit": "a1"},  # started at 08:10 (before now, 09:00)
        {"type": "carer_delayed", "carer": "cat", "minutes": 20},
        {"type": "teleport"},  # not an event at all
        {"type": "visit_cancelled", "visit": "a3"},
    ]
    update, refused = apply_in_order(problem, plan, events, "09:00")
    assert [r.index for r in refused] == [0, 1, 3]
    assert refused[0].error.field == "events[0].carer" and "nobody" in refused[0].error.reason
    assert refused[1].error.field == "events[1].visit" and "can no longer be cancelled" in refused[1].error.reason
    assert refused[2].error.field.startswith("events[3]")
    assert update.events == 2 and update.cancelled == ["a3"] and "cat" in update.unavailable_carers
    assert all(refused_event(r.error) == r.index for r in refused)
    quick = refused_events(problem, plan, events, "09:00")  # the same check without writing the day out
    assert [(r.index, r.error.field) for r in quick] == [(r.index, r.error.field) for r in refused]
    whole, none = apply_in_order(problem, plan, [events[2], events[4]], "09:00")
    assert none == [] and whole.cancelled == update.cancelled


def test_a_visit_reported_not_started_is_placed_again(day) -> None:
    """Planned before now counts as under way, unless reported not started: then it is
    free to place again and the carer's next visit is no longer held up by it."""
    problem, plan = day
    assumed = apply_events(problem, plan, [], "09:00")
    assert ("a2", 0) in assumed.happened
    update = apply_events(problem, plan, [{"type": "visit_not_started", "visit": "a2", "carer": "ann"}], "09:00")
    assert ("a2", 0) not in update.happened and ("a1", 0) in update.happened
    assert update.problem.visit("a2").pinned_carers == []
    late = apply_events(
        problem,
        plan,
        [
            {"type": "visit_not_started", "visit": "a2", "carer": "ann"},
            {"type": "check_in", "visit": "a2", "carer": "ann", "at": "09:05"},
        ],
        "09:10",
    )
    assert late.happened["a2", 0] == ("ann", 545, 575)  # a check-in after the report wins


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"type": "visit_not_started", "visit": "a2", "carer": "bob"}, "events[1].carer"),
        ({"type": "visit_not_started", "visit": "a1", "carer": "ann"}, "events[1].visit"),
        ({"type": "visit_not_started", "visit": "zz", "carer": "ann"}, "events[1].visit"),
    ],
)
def test_not_started_is_refused_for_a_carer_not_on_the_visit_or_checked_in(day, event, field) -> None:
    problem, plan = day
    check_in = {"type": "check_in", "visit": "a1", "carer": "ann", "at": "08:15"}
    with pytest.raises(InputError) as caught:
        apply_events(problem, plan, EventBatch.model_validate({"events": [check_in, event]}), "09:00")
    assert caught.value.field == field
