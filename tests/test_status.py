"""Visit statuses on the live day: what the phones reported wins, the clock does the rest."""

from __future__ import annotations

import pytest

from carescheduler import solve
from carescheduler.day.status import LATE_AFTER_MINUTES, visit_statuses
from problem_factory import carer, client, location, make_problem, matrix_from_coords, visit


@pytest.fixture(scope="module")
def day():
    places = [location("office", 0, 0), location("h1", 5, 0), location("h2", 10, 0), location("h3", 0, 8)]
    problem = make_problem(
        places,
        [carer("ann"), carer("bob")],
        [client("c1", "h1"), client("c2", "h2"), client("c3", "h3")],
        [
            visit("v1", "c1", 30, 480, 540),
            visit("v2", "c2", 30, 600, 660),
            visit("v3", "c3", 30, 720, 780, carers_needed=2),
        ],
        travel=matrix_from_coords([(0, 0), (5, 0), (10, 0), (0, 8)]),
    )
    plan = solve(problem, time_limit=2, seed=0)
    assert not plan.unassigned
    return problem, plan


def starts(plan) -> dict[tuple[str, str], float]:
    return {(pv.visit, r.carer): pv.start for r in plan.routes for pv in r.visits}


def test_before_the_day_everything_is_planned(day):
    problem, plan = day
    statuses = visit_statuses(problem, plan, [], now=0.0)
    assert set(statuses) == set(starts(plan))  # both halves of the double-up
    assert set(statuses.values()) == {"planned"}


def test_the_clock_makes_a_visit_late_then_missed(day):
    problem, plan = day
    (key, start), *_ = sorted(starts(plan).items(), key=lambda item: item[1])
    window_end = next(v.window.end for v in problem.visits if v.id == key[0])
    assert visit_statuses(problem, plan, [], now=start + LATE_AFTER_MINUTES - 1)[key] == "planned"
    assert visit_statuses(problem, plan, [], now=start + LATE_AFTER_MINUTES + 1)[key] == "late"
    assert visit_statuses(problem, plan, [], now=max(window_end, start) + LATE_AFTER_MINUTES + 1)[key] == "missed"


def test_what_the_phones_report_wins_over_the_clock(day):
    problem, plan = day
    (visit_id, carer_id), start = min(starts(plan).items(), key=lambda item: item[1])
    later = start + 600  # long after: the clock alone would say missed
    checked_in = [{"type": "check_in", "visit": visit_id, "carer": carer_id, "at": start}]
    assert visit_statuses(problem, plan, checked_in, now=later)[(visit_id, carer_id)] == "checked_in"
    done = [*checked_in, {"type": "check_out", "visit": visit_id, "carer": carer_id, "at": start + 30}]
    assert visit_statuses(problem, plan, done, now=later)[(visit_id, carer_id)] == "done"
    # a check-in arriving after the check-out (a phone's late retry) does not undo it
    assert visit_statuses(problem, plan, [*done, checked_in[0]], now=later)[(visit_id, carer_id)] == "done"
    not_started = [{"type": "visit_not_started", "visit": visit_id, "carer": carer_id}]
    assert visit_statuses(problem, plan, not_started, now=start)[(visit_id, carer_id)] == "missed"


def test_a_double_up_has_a_status_per_carer(day):
    problem, plan = day
    pair = sorted(key for key in starts(plan) if key[0] == "v3")
    assert len(pair) == 2
    first, second = pair
    events = [{"type": "check_in", "visit": "v3", "carer": first[1], "at": 720}]
    statuses = visit_statuses(problem, plan, events, now=starts(plan)[second] + LATE_AFTER_MINUTES + 1)
    assert statuses[first] == "checked_in"
    assert statuses[second] == "late"
