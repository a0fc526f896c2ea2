"""Alerts: what the phones' check-ins say has not gone to plan, at each moment of the day.

The hand-made day of ``test_events`` (ann: a1 08:10, a2 08:50, a3 09:30, d1 10:10 with
bob ...) is watched at chosen times with chosen check-ins.
"""

from __future__ import annotations

from carescheduler.day.alerts import watch
from carescheduler.day.events import CheckIn, CheckOut
from test_events import _day, _plan


def _in(visit: str, carer: str, at: float) -> CheckIn:
    return CheckIn(visit=visit, carer=carer, at=at)


def _out(visit: str, carer: str, at: float) -> CheckOut:
    return CheckOut(visit=visit, carer=carer, at=at)


def test_no_check_in_fifteen_minutes_after_the_planned_start_is_a_late_start() -> None:
    problem, plan = _day(), _plan()
    assert watch(problem, plan, [], 490 + 14) == []  # a1 planned 08:10: not yet late at 08:24
    alerts = watch(problem, plan, [], 490 + 15)
    assert [(a.kind, a.visit, a.carer) for a in alerts] == [
        ("late_start", "a1", "ann"),
        ("late_start", "b1", "bob"),
    ]
    assert alerts[0].due == 505 and alerts[0].client == "p1" and "08:10" in alerts[0].message
    checked = watch(problem, plan, [_in("a1", "ann", 500)], 505)
    assert [(a.visit, a.carer) for a in checked] == [("b1", "bob")]
    assert [a.visit for a in watch(problem, plan, [], 505, late_after=30)] == []


def test_a_visit_checked_in_and_never_out_is_flagged_after_its_end_plus_the_allowance() -> None:
    problem, plan = _day(), _plan()
    checks = [_in("a1", "ann", 500), _in("b1", "bob", 490), _out("b1", "bob", 520)]
    # a1 checked in 08:20 for 30 minutes: expected to end 08:50 (later than its planned 08:40)
    kinds = {(a.kind, a.visit) for a in watch(problem, plan, checks, 530 + 29, late_after=600)}
    assert ("not_checked_out", "a1") not in kinds
    alerts = [a for a in watch(problem, plan, checks, 530 + 30, late_after=600) if a.kind == "not_checked_out"]
    assert [(a.visit, a.carer, a.due) for a in alerts] == [("a1", "ann", 560)]
    assert watch(problem, plan, [*checks, _out("a1", "ann", 540)], 600, late_after=600) == []


def test_a_visit_whose_window_closed_unstarted_is_missed_not_late() -> None:
    problem, plan = _day(), _plan()
    # a1's window closes at 10:00 (600): at 10:01 it is missed, no longer late
    alerts = {(a.kind, a.visit) for a in watch(problem, plan, [], 601)}
    assert ("missed", "a1") in alerts and ("late_start", "a1") not in alerts
    assert ("late_start", "a3") in alerts  # a3's window is open until 12:00


def test_a_visit_another_carer_checked_in_to_raises_nothing_for_the_planned_one() -> None:
    problem, plan = _day(), _plan()
    alerts = watch(problem, plan, [_in("a3", "cat", 575)], 570 + 20)
    assert ("a3", "ann") not in {(a.visit, a.carer) for a in alerts}


def test_a_double_handed_visit_raises_an_alert_per_missing_carer() -> None:
    problem, plan = _day(), _plan()
    checks = [_in(v, c, s) for v, c, s in [("a1", "ann", 490), ("a2", "ann", 530), ("a3", "ann", 570)]]
    checks += [_in("b1", "bob", 490), _in("b2", "bob", 540), _in("d1", "ann", 610)]
    late = [(a.visit, a.carer) for a in watch(problem, plan, checks, 625, late_after=15, overrun_after=600)]
    assert late == [("d1", "bob")]
