"""Planning a week: days bounded by the days already planned, continuity from history,
the continuity cap, and replanning one day between the others.

The days are small and built so that planning each day alone breaks a weekly rule (a late
finish then an early start, or too many hours for the nearest carer): the weekly planner
must not. Travel is planar (x/y units are minutes), so who is nearest, and what the rest
and the hours come to, is worked out from the coordinates.
"""

from __future__ import annotations

import datetime as dt

import pytest

from carescheduler import warm_up
from carescheduler.domain import Carer, Location, Problem, Shift
from carescheduler.errors import InputError
from carescheduler.plan import Plan
from carescheduler.roster import CareHistory, Roster, WeekPlan, plan_week, planned_week, replan_day, validate_week
from carescheduler.roster.week_rules import route_times

SECONDS = 1.0
MON, TUE, WED = dt.date(2026, 3, 23), dt.date(2026, 3, 24), dt.date(2026, 3, 25)
FRI, SAT = dt.date(2026, 3, 27), dt.date(2026, 3, 28)
HOMES = {"ann": (0.0, 0.0), "bob": (100.0, 0.0)}
"""ann lives by the clients; bob lives 100 minutes away."""
ALL_DAY = [(0.0, 1440.0)]


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    """The solver's kernels compiled before the first one-second day (on a fresh checkout
    compiling would eat that second)."""
    warm_up()


def roster(carers: dict[str, dict] | None = None, **rules: object) -> Roster:
    home = {"lat": 51.5, "lon": -0.1}
    return Roster.model_validate(
        {
            "carers": [{"id": c, "home": home, **(carers or {}).get(c, {})} for c in {**HOMES, **(carers or {})}],
            "clients": [{"id": c, "home": home} for c in ("x", "y", "z")],
            "rules": rules,
        }
    )


def day(
    date: dt.date,
    working: dict[str, list[tuple[float, float]]],
    visits: list[tuple[str, str, float, float]],
    homes: dict[str, tuple[float, float]] = HOMES,
) -> Problem:
    """Carers working (id -> shifts) and visits (id, client, start, duration), each
    starting exactly at ``start``. Clients x, y, z live 10, 5 and 5 minutes from ann."""
    places = {"x": (0.0, 10.0), "y": (0.0, 5.0), "z": (0.0, -5.0)}
    return Problem.model_validate(
        {
            "name": str(date),
            "day": date.isoformat(),
            "locations": [{"id": f"home-{c}", "x": x, "y": y} for c, (x, y) in homes.items()]
            + [{"id": f"at-{c}", "x": x, "y": y} for c, (x, y) in places.items()],
            "carers": [
                {"id": c, "start_location": f"home-{c}", "shifts": [{"start": s, "end": e} for s, e in shifts]}
                for c, shifts in working.items()
            ],
            "clients": [{"id": c, "location": f"at-{c}"} for c in places],
            "visits": [
                {"id": v, "client": c, "duration": d, "window": {"start": s, "end": s}} for v, c, s, d in visits
            ],
        }
    )


def who(plan: Plan, visit: str) -> list[str]:
    return sorted(r.carer for r in plan.routes if any(pv.visit == visit for pv in r.visits))


def codes(week: WeekPlan) -> set[tuple[str, str | None]]:
    return {(v.code, v.carer) for v in week.report.violations}


# --- rest between days --------------------------------------------------------------------


def late_then_early() -> dict[dt.date, Problem]:
    """Friday: only ann works, x's visit 22:00-23:00 (home 23:10). Saturday: y at 07:00,
    5 minutes from ann (leaving 06:55: 7 h 45 min after getting home), 100 from bob."""
    return {
        FRI: day(FRI, {"ann": ALL_DAY}, [("x-late", "x", 1320, 60)]),
        SAT: day(SAT, {"ann": ALL_DAY, "bob": ALL_DAY}, [("y-early", "y", 420, 30)]),
    }


def test_planning_days_alone_breaks_the_rest_and_the_week_keeps_it() -> None:
    days = late_then_early()
    alone = plan_week(roster(), days, time_limit_per_day=SECONDS, weekly=False)
    assert who(alone.plans[SAT], "y-early") == ["ann"]
    assert codes(alone) == {("rest", "ann")}
    [rest] = alone.report.violations
    assert rest.figures["rest_hours"] == pytest.approx(7.75)

    week = plan_week(roster(), days, time_limit_per_day=SECONDS)
    assert week.report.valid, week.report.violations
    assert who(week.plans[SAT], "y-early") == ["bob"]
    assert week.problems[SAT].carer("ann").shifts[0].start == pytest.approx(23 * 60 + 10 + 11 * 60 - 24 * 60)
    assert (
        "ann leaves home no earlier than 10:10 on 2026-03-28: 11 h rest after getting home at 23:10 on 2026-03-27"
        in week.notes
    )
    # the plan's own leaving and getting home agree with the recomputed ones
    for date, plan in week.plans.items():
        for carer, (leave, home, working) in route_times(week.problems[date], plan).items():
            route = plan.route(carer)
            assert route is not None
            assert (route.leave_home, route.return_home, route.working_minutes) == pytest.approx((leave, home, working))


def test_the_rest_bound_counts_real_hours_across_the_clocks_going_forward() -> None:
    sun = dt.date(2026, 3, 29)
    days = {
        SAT: day(SAT, {"ann": ALL_DAY}, [("x-late", "x", 1320, 60)]),
        sun: day(sun, {"ann": ALL_DAY, "bob": ALL_DAY}, [("y-early", "y", 420, 30)]),
    }
    week = plan_week(roster(), days, time_limit_per_day=SECONDS)
    assert week.report.valid, week.report.violations
    # home 23:10 GMT; 11 real hours later is 10:10 GMT, which the clock shows as 11:10 BST
    assert week.problems[sun].carer("ann").shifts[0].start == pytest.approx(11 * 60 + 10)
    assert who(week.plans[sun], "y-early") == ["bob"]


def test_a_fixed_day_before_the_range_counts_for_the_rest() -> None:
    days = late_then_early()
    friday = plan_week(roster(), {FRI: days[FRI]}, time_limit_per_day=SECONDS)
    week = plan_week(
        roster(), {SAT: days[SAT]}, time_limit_per_day=SECONDS, fixed={FRI: (friday.problems[FRI], friday.plans[FRI])}
    )
    assert week.report.valid, week.report.violations
    assert who(week.plans[SAT], "y-early") == ["bob"]
    assert set(week.report.days) == {FRI, SAT}
    with pytest.raises(InputError, match="both a day to plan and a fixed day"):
        plan_week(roster(), days, fixed={FRI: (friday.problems[FRI], friday.plans[FRI])})


def test_each_day_planned_is_reported_in_date_order_and_a_report_may_stop_the_week() -> None:
    days = late_then_early()
    reported: list[tuple[dt.date, int, int]] = []
    plan_week(roster(), days, time_limit_per_day=SECONDS, on_day_planned=lambda *day: reported.append(day))
    assert reported == [(FRI, 1, 2), (SAT, 2, 2)]

    class Stop(Exception):
        pass

    def stop(date: dt.date, done: int, total: int) -> None:
        raise Stop(date)

    with pytest.raises(Stop, match=str(FRI)):
        plan_week(roster(), days, time_limit_per_day=SECONDS, on_day_planned=stop)


# --- hours in the week ----------------------------------------------------------------------


def four_hours_a_day() -> dict[dt.date, Problem]:
    """Monday to Wednesday, z needs 4 hours at 08:00: 250 working minutes for ann."""
    return {d: day(d, {"ann": ALL_DAY, "bob": ALL_DAY}, [(f"z-{d.day}", "z", 480, 240)]) for d in (MON, TUE, WED)}


def test_planning_days_alone_breaks_the_weekly_limit_and_the_week_keeps_it() -> None:
    limited = roster({"ann": {"max_hours": 25 / 3}})  # 500 minutes: two of the days
    days = four_hours_a_day()
    alone = plan_week(limited, days, time_limit_per_day=SECONDS, weekly=False)
    assert [who(alone.plans[d], f"z-{d.day}") for d in days] == [["ann"]] * 3
    assert codes(alone) == {("weekly_hours", "ann")}

    week = plan_week(limited, days, time_limit_per_day=SECONDS)
    assert week.report.valid, week.report.violations
    assert [who(week.plans[d], f"z-{d.day}") for d in days] == [["ann"], ["ann"], ["bob"]]
    assert "ann off on 2026-03-25: 8 h 20 min reached" in week.notes
    assert week.problems[TUE].carer("ann").max_working_minutes == pytest.approx(250)


def test_contracted_hours_are_spread_over_the_days_left_and_the_spread_is_measured() -> None:
    contracts = roster({"ann": {"contracted_hours": 5}, "bob": {"contracted_hours": 10}})
    days = four_hours_a_day()
    week = plan_week(contracts, days, time_limit_per_day=SECONDS)
    # Monday: 300 and 600 minutes over the 3 days still to plan (Thursday on: no pattern)
    assert week.problems[MON].carer("ann").contracted_minutes == pytest.approx(100)
    assert week.problems[MON].carer("bob").contracted_minutes == pytest.approx(200)
    # after Monday ann (nearest) worked 250 of her 300: 50 over Tuesday and Wednesday
    assert who(week.plans[MON], f"z-{MON.day}") == ["ann"]
    assert week.problems[TUE].carer("ann").contracted_minutes == pytest.approx(25)
    worked = {h.carer: h.worked_minutes for h in week.figures.hours}
    differences = [worked["ann"] - 300, worked["bob"] - 600]
    assert sorted(h.difference_minutes for h in week.figures.hours) == pytest.approx(sorted(differences))
    mean = sum(differences) / 2
    std = (sum((x - mean) ** 2 for x in differences) / 2) ** 0.5
    assert week.figures.spread_std_minutes == pytest.approx(std)
    assert week.figures.spread_range_minutes == pytest.approx(abs(differences[0] - differences[1]))


# --- continuity ------------------------------------------------------------------------------


@pytest.mark.parametrize("known", ["ann", "bob"])
def test_a_clients_recent_carer_is_preferred_over_an_equally_placed_stranger(known: str) -> None:
    twins = {"ann": (0.0, 0.0), "bob": (0.0, 0.0)}
    days = {MON: day(MON, {"ann": ALL_DAY, "bob": ALL_DAY}, [("x-1", "x", 600, 30)], homes=twins)}
    history = CareHistory()
    history.add_visit(MON - dt.timedelta(days=5), known, "x")
    week = plan_week(roster(), days, history=history, time_limit_per_day=SECONDS)
    assert week.problems[MON].client("x").historical_carers == [known]
    assert who(week.plans[MON], "x-1") == [known]


def capped_days() -> dict[dt.date, Problem]:
    """x at (50, 0): Monday only ann works (50 minutes away); Tuesday bob (50, 1) is a
    minute away; Wednesday only bob works."""
    homes = {"ann": (0.0, 0.0), "bob": (50.0, 1.0)}
    places = {
        MON: {"ann": ALL_DAY},
        TUE: {"ann": ALL_DAY, "bob": ALL_DAY},
        WED: {"bob": ALL_DAY},
    }
    days = {}
    for d, working in places.items():
        problem = day(d, working, [(f"x-{d.day}", "x", 600, 30)], homes=homes)
        for location in problem.locations:
            if location.id == "at-x":
                location.x, location.y = 50.0, 0.0
        days[d] = problem
    return days


def test_the_cap_keeps_a_client_to_the_carers_they_saw_and_is_lifted_only_when_needed() -> None:
    days = capped_days()
    two = {MON: days[MON], TUE: days[TUE]}
    free = plan_week(roster(continuity_cap=None, continuity_weight=10), two, time_limit_per_day=SECONDS)
    assert who(free.plans[TUE], "x-24") == ["bob"]  # nearer by 98 minutes: worth more than continuity at 10
    weighed = plan_week(roster(continuity_cap=None), two, time_limit_per_day=SECONDS)
    assert weighed.problems[TUE].weights.continuity == 100  # the week's weight, not the day's 10
    assert who(weighed.plans[TUE], "x-24") == ["ann"]  # a new carer costs more than 98 minutes of travel

    week = plan_week(roster(continuity_cap=1, hard_cap=True), days, time_limit_per_day=SECONDS)
    assert week.report.valid, week.report.violations
    assert [who(week.plans[d], f"x-{d.day}") for d in (MON, TUE, WED)] == [["ann"], ["ann"], ["bob"]]
    assert week.problems[TUE].client("x").banned_carers == ["bob"]
    assert week.problems[WED].client("x").banned_carers == []  # not capped: ann does not work
    assert week.notes == [
        "x saw a 2nd carer on 2026-03-25 (bob): none of the carers they know works at the time of x-25"
    ]
    assert week.figures.carers_per_client["x"] == 2
    assert week.figures.clients_over_cap == ["x"]


def test_the_cap_is_lifted_when_the_carers_a_client_knows_are_busy() -> None:
    days = capped_days()
    # Wednesday ann works too, but is pinned to y at x's time: x's visit could only be left out
    wednesday = day(WED, {"ann": ALL_DAY, "bob": ALL_DAY}, [("x-25", "x", 600, 30), ("y-25", "y", 600, 30)])
    wednesday.locations = days[WED].locations
    wednesday.visits[1].pinned_carers = ["ann"]
    days[WED] = wednesday
    week = plan_week(roster(continuity_cap=1, hard_cap=True), days, time_limit_per_day=SECONDS)
    assert week.report.valid, week.report.violations
    assert [who(week.plans[d], f"x-{d.day}") for d in (MON, TUE, WED)] == [["ann"], ["ann"], ["bob"]]
    assert who(week.plans[WED], "y-25") == ["ann"]
    assert week.problems[WED].client("x").banned_carers == []  # lifted after the ban left x-25 out
    assert week.notes == ["x saw a 2nd carer on 2026-03-25 (bob): no carer they know was free for x-25"]


def test_at_the_cap_only_the_week_s_carers_are_free_and_passing_it_is_said() -> None:
    """cal did x's visit last week and lives a minute from x; ann (50 minutes away) did
    Monday's. Below the cap cal is known, so the nearer; at the cap of one, cal would be
    a second carer this week and costs the continuity weight, so ann goes again."""
    days = capped_days()
    for d in (MON, TUE):
        days[d].locations.append(Location(id="home-cal", x=50.0, y=-1.0))
        shifts = [] if d == MON else [Shift(start=0, end=1440)]
        days[d].carers.append(Carer(id="cal", start_location="home-cal", shifts=shifts))
    days = {MON: days[MON], TUE: days[TUE], WED: days[WED]}
    history = CareHistory()
    history.add_visit(MON - dt.timedelta(days=7), "cal", "x")
    carers = {"cal": {}}
    uncapped = plan_week(roster(carers, continuity_cap=2), days, history=history, time_limit_per_day=SECONDS)
    assert who(uncapped.plans[TUE], "x-24") == ["cal"]
    capped = plan_week(roster(carers, continuity_cap=1), days, history=history, time_limit_per_day=SECONDS)
    assert capped.report.valid, capped.report.violations
    assert capped.problems[TUE].client("x").historical_carers == ["ann"]
    assert capped.problems[TUE].client("x").banned_carers == []  # soft: nobody banned
    assert [who(capped.plans[d], f"x-{d.day}") for d in (MON, TUE, WED)] == [["ann"], ["ann"], ["bob"]]
    assert capped.notes == ["x saw a 2nd carer on 2026-03-25 (bob): above the cap of 1, for x-25"]
    assert capped.figures.clients_over_cap == ["x"]


# --- replanning one day ------------------------------------------------------------------------


def test_replanning_a_day_keeps_the_others_and_keeps_the_rest_before_the_next_day() -> None:
    days = {
        FRI: day(FRI, {"ann": ALL_DAY, "bob": ALL_DAY}, [("x-noon", "x", 720, 30)]),
        SAT: day(SAT, {"ann": ALL_DAY, "bob": ALL_DAY}, [("y-early", "y", 420, 30)]),
    }
    week = plan_week(roster(), days, time_limit_per_day=SECONDS)
    assert [who(week.plans[d], v) for d, v in ((FRI, "x-noon"), (SAT, "y-early"))] == [["ann"], ["ann"]]
    saturday = week.plans[SAT].model_dump()

    # a late visit to x joins Friday: ann must be home by 19:55 for Saturday's 06:55 start
    friday = day(FRI, {"ann": ALL_DAY, "bob": ALL_DAY}, [("x-noon", "x", 720, 30), ("x-late", "x", 1260, 60)])
    again = replan_day(roster(), week, FRI, friday, time_limit=SECONDS)
    assert again.report.valid, again.report.violations
    assert again.plans[SAT].model_dump() == saturday
    assert again.problems[SAT] is week.problems[SAT]
    assert who(again.plans[FRI], "x-late") == ["bob"]
    assert "ann home by 19:55 on 2026-03-27: 11 h rest before leaving home at 06:55 on 2026-03-28" in again.notes
    assert again.days[FRI] is friday
    # replanned alone, without the week, Friday's late visit would go to ann
    alone = plan_week(roster(), {FRI: friday}, time_limit_per_day=SECONDS)
    assert who(alone.plans[FRI], "x-late") == ["ann"]


def test_a_week_read_back_from_its_plans_replans_a_day_as_the_week_just_planned_does() -> None:
    days = {
        FRI: day(FRI, {"ann": ALL_DAY, "bob": ALL_DAY}, [("x-noon", "x", 720, 30)]),
        SAT: day(SAT, {"ann": ALL_DAY, "bob": ALL_DAY}, [("y-early", "y", 420, 30)]),
    }
    week = plan_week(roster(), days, time_limit_per_day=SECONDS)
    kept = planned_week(roster(), days, {d: (week.problems[d], week.plans[d]) for d in week.plans})
    assert kept.report == week.report and kept.plans == week.plans and kept.notes == []
    friday = day(FRI, {"ann": ALL_DAY, "bob": ALL_DAY}, [("x-noon", "x", 720, 30), ("x-late", "x", 1260, 60)])
    again = replan_day(roster(), kept, FRI, friday, time_limit=SECONDS)
    assert again.report.valid and who(again.plans[FRI], "x-late") == ["bob"]
    assert again.plans[SAT] is kept.plans[SAT]
    with pytest.raises(InputError, match="has a plan but no day"):
        planned_week(roster(), {FRI: days[FRI]}, {d: (week.problems[d], week.plans[d]) for d in week.plans})


def test_replanning_a_day_replans_another_when_a_weekly_rule_needs_it_and_says_so() -> None:
    days = four_hours_a_day()
    week = plan_week(roster(), days, time_limit_per_day=SECONDS)
    assert [who(week.plans[d], f"z-{d.day}") for d in days] == [["ann"]] * 3
    tuesday = week.plans[TUE].model_dump()

    fewer = roster({"ann": {"max_hours": 5}})  # 300 minutes: Tuesday and Wednesday alone make 500
    assert codes(week) == set() and not validate_week(fewer, week.problems, week.plans).valid
    again = replan_day(fewer, week, MON, days[MON], time_limit=SECONDS)
    assert again.report.valid, again.report.violations
    assert again.plans[TUE].model_dump() == tuesday
    assert [who(again.plans[d], f"z-{d.day}") for d in days] == [["bob"], ["ann"], ["bob"]]
    [note] = [n for n in again.notes if "replanned too" in n]
    assert note.startswith("2026-03-25 replanned too, for the weekly hours limit: carer ann works 8 h 20 min")
    assert "5 h limit" in note


def test_replanning_a_day_replans_another_for_the_rest_and_says_so() -> None:
    thu = dt.date(2026, 3, 26)
    days = {thu: day(thu, {"ann": ALL_DAY, "bob": ALL_DAY}, [("z-noon", "z", 720, 30)]), **late_then_early()}
    week = plan_week(roster(min_daily_rest_hours=7), days, time_limit_per_day=SECONDS)
    assert who(week.plans[SAT], "y-early") == ["ann"]  # 7 h 45 min of rest was enough
    friday = week.plans[FRI].model_dump()

    again = replan_day(roster(), week, thu, days[thu], time_limit=SECONDS)  # now 11 hours
    assert again.report.valid, again.report.violations
    assert again.plans[FRI].model_dump() == friday
    assert who(again.plans[SAT], "y-early") == ["bob"]
    [note] = [n for n in again.notes if "replanned too" in n]
    assert note.startswith("2026-03-28 replanned too, for the rest between days: carer ann rests 7 h 45 min")


def test_replanning_a_date_not_in_the_week_is_refused() -> None:
    days = late_then_early()
    week = plan_week(roster(), {FRI: days[FRI]}, time_limit_per_day=SECONDS)
    with pytest.raises(InputError) as error:
        replan_day(roster(), week, SAT, days[SAT], time_limit=SECONDS)
    assert error.value.field == "date"


def test_a_rest_rule_ends_a_soft_shift_by_the_rest_hard():
    """A carer must rest before tomorrow's first visit: today's shift ends by then, its soft
    end (latest_end) first, then the shift itself."""
    from carescheduler.domain import Shift
    from carescheduler.roster.week import _ending_by

    shift = Shift(start=480, end=840, latest_end=900)
    assert _ending_by(shift, 1000) is shift
    assert _ending_by(shift, 870) == Shift(start=480, end=840, latest_end=870)
    assert _ending_by(shift, 800) == Shift(start=480, end=800)
