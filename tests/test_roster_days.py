"""Days generated from a roster: weekly patterns, dated absences and packages, bank
holidays, daylight-saving changes, and one-off changes kept apart from the roster.

Rosters are built by hand; expected dates and times are worked out here from the
calendar (1 March 2026 is a Sunday; the clocks go forward on Sunday 29 March and back on
Sunday 25 October 2026) rather than taken from the code under test.
"""

from __future__ import annotations

import datetime as dt

import pytest

from carescheduler import MaxIterations, Problem, TravelMatrix, solve, validate
from carescheduler.domain import Visit
from carescheduler.errors import InputError
from carescheduler.roster import (
    DayChanges,
    Roster,
    apply_changes,
    bank_holidays,
    day_from_roster,
    days_from_roster,
    is_bank_holiday,
)
from carescheduler.roster.calendar import EXTRA_HOLIDAY, region_holidays
from carescheduler.roster.days import MAX_DAYS, carer_location_id, client_location_id

ALL_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def day(y: int, m: int, d: int) -> dt.date:
    return dt.date(y, m, d)


def carer(id: str, days=ALL_WEEK, shifts=(("07:00", "15:00"),), **extra) -> dict:
    pattern = {d: [{"start": s, "end": e} for s, e in shifts] for d in days}
    return {"id": id, "home": {"lat": 51.50, "lon": -0.12, "address": f"{id}'s flat"}, "availability": pattern, **extra}


def call(id: str, start: str = "08:00", end: str = "09:00", duration: float = 30, **extra) -> dict:
    return {"id": id, "window": {"start": start, "end": end}, "duration": duration, **extra}


def client(id: str, *calls: dict, lat: float = 51.51, **extra) -> dict:
    return {"id": id, "home": {"lat": lat, "lon": -0.13, "address": f"{id}'s house"}, "package": list(calls), **extra}


def roster(carers=(), clients=(), **extra) -> Roster:
    return Roster.model_validate({"name": "test", "carers": list(carers), "clients": list(clients), **extra})


def visit_ids(problem: Problem) -> list[str]:
    return [v.id for v in problem.visits]


def carer_ids(problem: Problem) -> list[str]:
    return [c.id for c in problem.carers]


# --- weekly patterns and dated master data -------------------------------------------------


def test_weekly_patterns_decide_who_works_and_which_calls_happen():
    r = roster(
        [carer("ann", days=("mon", "wed", "fri"), contracted_hours=30, max_daily_hours=8)],
        [client("k1", call("am", weekdays=["mon", "thu"]))],
    )
    week = days_from_roster(r, day(2026, 3, 2), day(2026, 3, 8))  # Monday to Sunday
    assert list(week) == [day(2026, 3, d) for d in range(2, 9)]
    assert [d for d, p in week.items() if carer_ids(p)] == [day(2026, 3, 2), day(2026, 3, 4), day(2026, 3, 6)]
    assert [d for d, p in week.items() if visit_ids(p)] == [day(2026, 3, 2), day(2026, 3, 5)]
    monday = week[day(2026, 3, 2)]
    assert monday.day == day(2026, 3, 2) and monday.name == "test 2026-03-02"
    ann = monday.carers[0]
    assert ann.contracted_minutes == pytest.approx(30 * 60 / 3)  # the day's share of a 30-hour, 3-day week
    assert ann.max_working_minutes == 8 * 60
    assert [(s.start, s.end) for s in ann.shifts] == [(420, 900)]
    assert ann.start_location == carer_location_id("ann")
    visit = monday.visits[0]
    assert (visit.id, visit.client, visit.window.start, visit.window.end, visit.duration) == (
        "k1:am",
        "k1",
        480,
        540,
        30,
    )
    # a day with nobody working and no calls is still a day
    assert week[day(2026, 3, 3)].visits == [] and week[day(2026, 3, 3)].clients == []


def test_zero_hours_carer_has_no_contracted_minutes():
    problem = day_from_roster(roster([carer("ann")]), day(2026, 3, 2))
    assert problem.carers[0].contracted_minutes is None
    assert problem.carers[0].max_working_minutes is None


def test_visit_copies_the_call():
    r = roster(
        [],
        [
            client(
                "k1",
                call(
                    "bed",
                    "20:00",
                    "21:00",
                    duration=45,
                    target={"start": "20:15", "end": "20:30"},
                    skills=["hoist"],
                    carers_needed=2,
                    synchronisation={"kind": "sequential", "min_gap": 0, "max_gap": 10},
                    tasks=["hoist to bed", "meds"],
                    mandatory=False,
                ),
            )
        ],
        skills=["hoist"],
    )
    visit = day_from_roster(r, day(2026, 3, 2)).visits[0]
    assert visit.target is not None and (visit.target.start, visit.target.end) == (20 * 60 + 15, 20 * 60 + 30)
    assert (visit.duration, visit.skills, visit.carers_needed, visit.tasks, visit.mandatory) == (
        45,
        ["hoist"],
        2,
        ["hoist to bed", "meds"],
        False,
    )
    assert visit.synchronisation is not None and (visit.synchronisation.kind, visit.synchronisation.max_gap) == (
        "sequential",
        10,
    )


def test_calls_apply_between_their_effective_dates():
    r = roster(
        [],
        [
            client(
                "k1", call("am", effective_from="2026-03-04", effective_to="2026-03-06"), call("pm", "17:00", "18:00")
            )
        ],
    )
    week = days_from_roster(r, day(2026, 3, 2), day(2026, 3, 8))
    with_am = [d for d, p in week.items() if "k1:am" in visit_ids(p)]
    assert with_am == [day(2026, 3, 4), day(2026, 3, 5), day(2026, 3, 6)]
    assert all("k1:pm" in visit_ids(p) for p in week.values())


def test_absences_and_employment_dates_take_carers_off():
    r = roster(
        [
            carer("leave", absences=[{"start": "2026-03-03", "end": "2026-03-04"}]),
            carer("sick", absences=[{"start": "2026-03-05", "kind": "sickness"}]),  # open: not back yet
            carer("new", employed_from="2026-03-04"),
            carer("gone", employed_to="2026-03-03"),
        ]
    )
    week = days_from_roster(r, day(2026, 3, 2), day(2026, 3, 8))
    working = {
        name: [d.day for d, p in week.items() if name in carer_ids(p)] for name in ("leave", "sick", "new", "gone")
    }
    assert working["leave"] == [2, 5, 6, 7, 8]
    assert working["sick"] == [2, 3, 4]
    assert working["new"] == [4, 5, 6, 7, 8]
    assert working["gone"] == [2, 3]


def test_nothing_is_generated_for_a_carer_on_leave():
    r = roster(
        [carer("ann", absences=[{"start": "2026-03-02", "end": "2026-03-02"}]), carer("bob")],
        [client("k1", call("am"), preferred_carers=["ann"], banned_carers=["ann"])],
    )
    problem = day_from_roster(r, day(2026, 3, 2))
    assert carer_ids(problem) == ["bob"]
    assert carer_location_id("ann") not in {x.id for x in problem.locations}
    assert (problem.clients[0].preferred_carers, problem.clients[0].banned_carers) == ([], [])
    assert '"ann"' not in problem.model_dump_json() and "carer:ann" not in problem.model_dump_json()


def test_preferred_and_banned_carers_are_kept_when_they_work_and_dropped_when_not():
    r = roster(
        [carer("ann", days=("mon",)), carer("bob"), carer("cat", days=("tue",))],
        [client("k1", call("am"), preferred_carers=["ann", "bob"], banned_carers=["cat"])],
    )
    monday, tuesday = (day_from_roster(r, d) for d in (day(2026, 3, 2), day(2026, 3, 3)))
    assert (monday.clients[0].preferred_carers, monday.clients[0].banned_carers) == (["ann", "bob"], [])
    assert (tuesday.clients[0].preferred_carers, tuesday.clients[0].banned_carers) == (["bob"], ["cat"])


def test_only_clients_with_a_visit_that_day_and_homes_are_unique_locations():
    r = roster(
        [carer("sam")],
        [client("sam", call("am"), lat=51.52), client("weekend", call("am", weekdays=["sat", "sun"]))],
    )
    problem = day_from_roster(r, day(2026, 3, 2))
    assert [c.id for c in problem.clients] == ["sam"]
    places = {x.id: x for x in problem.locations}
    assert set(places) == {carer_location_id("sam"), client_location_id("sam")}
    assert carer_location_id("sam") != client_location_id("sam")
    assert problem.clients[0].location == client_location_id("sam")
    home = places[client_location_id("sam")]
    assert (home.lat, home.lon, home.address) == (51.52, -0.13, "sam's house")


def test_the_roster_settings_reach_the_day():
    r = roster(
        [carer("ann")],
        [client("k1", call("am"))],
        skills=["meds"],
        travel_estimate={"drive_kmh": 25},
        weights={"travel": 3},
    )
    problem = day_from_roster(r, day(2026, 3, 2))
    assert problem.skills == ["meds"]
    assert problem.travel_estimate.drive_kmh == 25 and problem.weights.travel == 3
    assert problem.travel == []


# --- bank holidays --------------------------------------------------------------------------


def test_bank_holidays_of_england_include_christmas_and_boxing_day_observed():
    holidays = bank_holidays(roster(), 2026)
    assert holidays[day(2026, 12, 25)] == "Christmas Day"
    assert "Boxing Day" in holidays[day(2026, 12, 28)]  # 26 December 2026 is a Saturday
    assert day(2026, 1, 2) not in holidays
    assert all(d.year == 2026 for d in holidays)
    assert list(holidays) == sorted(holidays)
    assert is_bank_holiday(roster(), day(2026, 12, 28)) and not is_bank_holiday(roster(), day(2026, 12, 29))


def test_scotland_keeps_the_second_of_january_england_does_not():
    assert is_bank_holiday(roster(bank_holidays="scotland"), day(2026, 1, 2))
    assert not is_bank_holiday(roster(bank_holidays="england"), day(2026, 1, 2))
    assert day(2026, 1, 2) in bank_holidays(roster(bank_holidays="scotland"), [2026, 2027])


def test_extra_holidays_and_no_region():
    none = roster(bank_holidays=None, extra_holidays=["2026-06-01"])
    assert bank_holidays(none, 2026) == {day(2026, 6, 1): EXTRA_HOLIDAY}
    assert not is_bank_holiday(none, day(2026, 12, 25))
    assert is_bank_holiday(none, day(2026, 6, 1))
    both = roster(extra_holidays=["2026-06-01", "2026-12-25"])
    assert bank_holidays(both, 2026)[day(2026, 12, 25)] == "Christmas Day"
    assert bank_holidays(both, 2027) == dict(region_holidays("england", 2027))


def test_region_holidays_are_worked_out_once_per_year():
    assert region_holidays("wales", 2026) is region_holidays("wales", 2026)


def test_bank_holidays_take_off_carers_and_calls_that_do_not_work_them():
    r = roster(
        [carer("works"), carer("rests", works_bank_holidays=False)],
        [client("k1", call("meds"), call("shop", "10:00", "12:00", on_bank_holidays=False))],
    )
    days = days_from_roster(r, day(2026, 12, 24), day(2026, 12, 29))
    # Christmas (Friday), Boxing Day (Saturday) and Boxing Day observed (Monday)
    holidays = {day(2026, 12, 25), day(2026, 12, 26), day(2026, 12, 28)}
    for date, problem in days.items():
        off = date in holidays
        assert ("rests" in carer_ids(problem)) is not off, date
        assert ("k1:shop" in visit_ids(problem)) is not off, date
        assert "works" in carer_ids(problem) and "k1:meds" in visit_ids(problem)


def test_scottish_roster_rests_on_the_second_of_january():
    people = ([carer("rests", works_bank_holidays=False)], [client("k1", call("shop", on_bank_holidays=False))])
    scottish = day_from_roster(roster(*people, bank_holidays="scotland"), day(2026, 1, 2))
    english = day_from_roster(roster(*people, bank_holidays="england"), day(2026, 1, 2))
    assert (carer_ids(scottish), visit_ids(scottish)) == ([], [])
    assert (carer_ids(english), visit_ids(english)) == (["rests"], ["k1:shop"])


def test_extra_holiday_is_a_bank_holiday_for_the_day():
    r = roster([carer("rests", works_bank_holidays=False)], bank_holidays=None, extra_holidays=["2026-03-03"])
    assert carer_ids(day_from_roster(r, day(2026, 3, 3))) == []
    assert carer_ids(day_from_roster(r, day(2026, 3, 4))) == ["rests"]


# --- daylight saving ------------------------------------------------------------------------


def dst_roster() -> Roster:
    return roster(
        [carer("night", shifts=(("01:00", "03:00"), ("07:00", "10:00")))],
        [
            client(
                "k1",
                call("am", "08:00", "09:00", target={"start": "08:00", "end": "08:30"}),
                call("night", "01:30", "01:45", duration=15),
                call("straddle", "01:30", "02:30", duration=10),
            )
        ],
    )


def windows(problem: Problem) -> dict[str, tuple[float, float | None]]:
    return {v.id.split(":")[1]: (v.window.start, v.window.end) for v in problem.visits}


def test_spring_forward_moves_times_in_the_skipped_hour_and_keeps_the_others():
    days = days_from_roster(dst_roster(), day(2026, 3, 28), day(2026, 3, 30))
    for date, problem in days.items():
        w = windows(problem)
        assert w["am"] == (480, 540), date
        am = problem.visit("k1:am")
        assert am.target is not None and (am.target.start, am.target.end) == (480, 510)
        if date == day(2026, 3, 29):  # 01:00-02:00 does not exist: the clock shows an hour later
            assert w["night"] == (150, 165)
            assert w["straddle"] == (150, 150)  # 01:30 reads 02:30, already the window's end
            assert [(s.start, s.end) for s in problem.carers[0].shifts] == [(120, 180), (420, 600)]
        else:
            assert w["night"] == (90, 105), date
            assert w["straddle"] == (90, 150), date
            assert [(s.start, s.end) for s in problem.carers[0].shifts] == [(60, 180), (420, 600)]


def test_fall_back_keeps_every_local_time():
    days = days_from_roster(dst_roster(), day(2026, 10, 24), day(2026, 10, 26))
    for problem in days.values():
        assert windows(problem) == {"am": (480, 540), "night": (90, 105), "straddle": (90, 150)}
        assert [(s.start, s.end) for s in problem.carers[0].shifts] == [(60, 180), (420, 600)]


def test_a_shift_that_the_skipped_hour_makes_touch_the_next_is_merged():
    r = roster([carer("ann", shifts=(("00:30", "01:30"), ("02:00", "04:00")))])
    shifts = day_from_roster(r, day(2026, 3, 29)).carers[0].shifts
    assert [(s.start, s.end) for s in shifts] == [(30, 240)]  # 00:30-02:30 and 02:00-04:00 overlap


def test_one_off_changes_on_the_short_day_are_read_as_the_clock_shows_them():
    changes = DayChanges(
        date=day(2026, 3, 29),
        added_visits=[Visit(id="extra", client="k1", duration=10, window={"start": "01:15", "end": "03:00"})],
        carer_shifts={"night": [{"start": "01:30", "end": "04:00"}]},
    )
    problem = day_from_roster(dst_roster(), day(2026, 3, 29), changes)
    extra = problem.visit("extra")
    assert (extra.window.start, extra.window.end) == (135, 180)
    assert [(s.start, s.end) for s in problem.carer("night").shifts] == [(150, 240)]


# --- the days are days ------------------------------------------------------------------------


def test_every_generated_day_is_a_valid_problem():
    r = dst_roster()
    for problem in days_from_roster(r, day(2026, 3, 23), day(2026, 4, 5)).values():
        assert Problem.model_validate_json(problem.model_dump_json()) == problem


def test_a_small_generated_day_solves_to_a_valid_plan():
    r = roster(
        [carer("ann", shifts=(("07:00", "13:00"),)), carer("bob", shifts=(("07:00", "13:00"),))],
        [client(f"k{i}", call("am", "08:00", "11:00", duration=20), lat=51.50 + i / 200) for i in range(4)],
    )
    problem = day_from_roster(r, day(2026, 3, 29))
    assert len(problem.visits) == 4
    # a count of iterations, not seconds: a cold start compiles the search kernels first
    plan = solve(problem, MaxIterations(30), seed=0)
    report = validate(problem, plan)
    assert report.valid, report.violations
    assert plan.unassigned == []  # two carers, six hours each, four 20-minute calls


# --- one-off changes --------------------------------------------------------------------------


def change_roster() -> Roster:
    return roster(
        [carer("ann"), carer("bob", days=("tue",)), carer("cat")],
        [
            client("k1", call("am"), call("lunch", "12:00", "13:00")),
            client("k2", call("am"), preferred_carers=["bob"]),
            client("k3", call("am", weekdays=["tue"])),
        ],
        skills=["meds"],
    )


MONDAY = day(2026, 3, 2)


def test_cancel_replace_and_add():
    changes = DayChanges(
        date=MONDAY,
        cancelled_visits=["k1:lunch", "k2:am"],
        changed_visits=[Visit(id="k1:am", client="k1", duration=60, window={"start": "09:00", "end": "10:00"})],
        added_visits=[Visit(id="k3:extra", client="k3", duration=15, window={"start": "15:00", "end": "16:00"})],
    )
    problem = day_from_roster(change_roster(), MONDAY, changes)
    assert visit_ids(problem) == ["k1:am", "k3:extra"]
    changed = problem.visit("k1:am")
    assert (changed.duration, changed.window.start) == (60, 540)
    assert [c.id for c in problem.clients] == ["k1", "k3"]  # k2 has no visit left; k3 has the added one
    places = {x.id for x in problem.locations}
    assert client_location_id("k3") in places and client_location_id("k2") not in places
    plain = day_from_roster(change_roster(), MONDAY)
    assert visit_ids(plain) == ["k1:am", "k1:lunch", "k2:am"]  # the roster itself is untouched


def test_carer_shifts_override_the_pattern_for_one_date():
    changes = DayChanges(
        date=MONDAY,
        carer_shifts={
            "bob": [{"start": "10:00", "end": "14:00"}],
            "cat": [],
            "ann": [{"start": "06:00", "end": "08:00"}],
        },
    )
    problem = day_from_roster(change_roster(), MONDAY, changes)
    assert sorted(carer_ids(problem)) == ["ann", "bob"]
    assert [(s.start, s.end) for s in problem.carer("bob").shifts] == [(600, 840)]
    assert [(s.start, s.end) for s in problem.carer("ann").shifts] == [(360, 480)]
    assert problem.client("k2").preferred_carers == ["bob"]  # bob works today after all
    places = {x.id for x in problem.locations}
    assert carer_location_id("bob") in places and carer_location_id("cat") not in places


def test_carer_shifts_override_an_absence():
    r = roster([carer("ann", absences=[{"start": "2026-03-02"}])])
    changes = DayChanges(date=MONDAY, carer_shifts={"ann": [{"start": "09:00", "end": "12:00"}]})
    assert carer_ids(day_from_roster(r, MONDAY)) == []
    assert carer_ids(day_from_roster(r, MONDAY, changes)) == ["ann"]


def test_apply_changes_again_after_a_package_change():
    changes = DayChanges(date=MONDAY, cancelled_visits=["k1:lunch"])
    r = change_roster()
    data = r.model_dump()
    data["clients"][0]["package"].append(call("tea", "16:00", "17:00"))
    changed_roster = Roster.model_validate(data)
    regenerated = apply_changes(changed_roster, day_from_roster(changed_roster, MONDAY), changes)
    assert visit_ids(regenerated) == ["k1:am", "k1:tea", "k2:am"]
    assert regenerated == day_from_roster(changed_roster, MONDAY, changes)


def test_changes_in_a_range_reach_only_their_date():
    changes = [DayChanges(date=day(2026, 3, 3), cancelled_visits=["k3:am"])]
    days = days_from_roster(change_roster(), MONDAY, day(2026, 3, 4), changes)
    assert "k3:am" not in visit_ids(days[day(2026, 3, 3)])
    assert "k1:lunch" in visit_ids(days[day(2026, 3, 3)])
    assert [visit_ids(p) for p in days.values()] == [
        ["k1:am", "k1:lunch", "k2:am"],
        ["k1:am", "k1:lunch", "k2:am"],
        ["k1:am", "k1:lunch", "k2:am"],
    ]


def error_of(changes: DayChanges, date: dt.date = MONDAY) -> InputError:
    with pytest.raises(InputError) as caught:
        day_from_roster(change_roster(), date, changes)
    return caught.value


def added(**fields) -> Visit:
    return Visit.model_validate({"id": "new", "client": "k1", "duration": 10, **fields})


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            dict(cancelled_visits=["k1:am", "k1:teatime"]),
            "changes.cancelled_visits[1]",
            "no visit 'k1:teatime' on 2026-03-02",
        ),
        (dict(cancelled_visits=["k1:am", "k1:am"]), "changes.cancelled_visits[1]", "cancelled twice"),
        (dict(changed_visits=[added(id="k9:am", client="k1")]), "changes.changed_visits[0].id", "no visit 'k9:am'"),
        (
            dict(cancelled_visits=["k1:am"], changed_visits=[added(id="k1:am")]),
            "changes.changed_visits[0].id",
            "also cancelled",
        ),
        (dict(changed_visits=[added(id="k1:am", client="k9")]), "changes.changed_visits[0].client", "no client 'k9'"),
        (
            dict(added_visits=[added(client="nobody")]),
            "changes.added_visits[0].client",
            "no client 'nobody' on the roster",
        ),
        (dict(added_visits=[added(id="k1:am")]), "changes.added_visits[0].id", "already on 2026-03-02"),
        (dict(added_visits=[added(), added()]), "changes.added_visits[1].id", "already on"),
        (dict(added_visits=[added(skills=["hoist"])]), "changes.added_visits[0].skills", "unknown skill 'hoist'"),
        (
            dict(added_visits=[added(pinned_carers=["bob"])]),
            "changes.added_visits[0].pinned_carers",
            "'bob' does not work",
        ),
        (dict(carer_shifts={"zed": []}), "changes.carer_shifts['zed']", "no carer 'zed' on the roster"),
    ],
)
def test_each_bad_change_names_its_field(changes, field, reason):
    error = error_of(DayChanges(date=MONDAY, **changes))
    assert error.field == field
    assert reason in error.reason


def test_the_error_names_the_visit_and_the_date_in_one_line():
    error = error_of(DayChanges(date=day(2026, 3, 29), cancelled_visits=["k1:nope"]), day(2026, 3, 29))
    assert str(error) == "changes.cancelled_visits[0]: no visit 'k1:nope' on 2026-03-29"


def test_added_visit_pinned_to_a_carer_working_that_day_is_accepted():
    problem = day_from_roster(
        change_roster(), MONDAY, DayChanges(date=MONDAY, added_visits=[added(pinned_carers=["ann"])])
    )
    assert problem.visit("new").pinned_carers == ["ann"]


def test_changes_for_another_date_are_refused():
    assert error_of(DayChanges(date=day(2026, 3, 3))).field == "changes.date"
    plain = day_from_roster(change_roster(), MONDAY)
    with pytest.raises(InputError) as caught:
        apply_changes(change_roster(), plain, DayChanges(date=day(2026, 3, 3)))
    assert caught.value.field == "changes.date"


def test_ranges_refuse_bad_bounds_and_stray_changes():
    r = change_roster()
    with pytest.raises(InputError) as caught:
        days_from_roster(r, day(2026, 3, 5), day(2026, 3, 4))
    assert caught.value.field == "end"
    with pytest.raises(InputError) as caught:
        days_from_roster(r, MONDAY, MONDAY + dt.timedelta(days=MAX_DAYS))
    assert caught.value.field == "end" and "at most 366" in caught.value.reason
    assert len(days_from_roster(r, MONDAY, MONDAY)) == 1
    with pytest.raises(InputError) as caught:
        days_from_roster(r, MONDAY, MONDAY, [DayChanges(date=day(2026, 3, 3))])
    assert caught.value.field == "changes[0].date"
    twice = [DayChanges(date=MONDAY), DayChanges(date=MONDAY)]
    with pytest.raises(InputError) as caught:
        days_from_roster(r, MONDAY, MONDAY, twice)
    assert caught.value.field == "changes[1].date"
    bad = [DayChanges(date=MONDAY), DayChanges(date=day(2026, 3, 3), cancelled_visits=["x"])]
    with pytest.raises(InputError) as caught:
        days_from_roster(r, MONDAY, day(2026, 3, 3), bad)
    assert caught.value.field == "changes[1].cancelled_visits[0]"


def test_a_day_with_travel_matrices_refuses_changes_that_need_new_homes():
    plain = day_from_roster(change_roster(), MONDAY)
    n = len(plain.locations)
    with_roads = Problem.model_validate(
        {**dict(plain), "travel": [TravelMatrix(mode="drive", minutes=[[0.0] * n for _ in range(n)])]}
    )
    cancel = DayChanges(date=MONDAY, cancelled_visits=["k2:am"])
    assert apply_changes(change_roster(), with_roads, cancel).locations == plain.locations  # the matrix still fits
    with pytest.raises(InputError) as caught:
        apply_changes(change_roster(), with_roads, DayChanges(date=MONDAY, added_visits=[added(client="k3")]))
    assert caught.value.field == "changes" and "k3" in caught.value.reason


def test_carer_shifts_override_employment_dates_too():
    r = roster([carer("ann", employed_from="2026-03-09")])
    changes = DayChanges(date=MONDAY, carer_shifts={"ann": [{"start": "09:00", "end": "12:00"}]})
    assert carer_ids(day_from_roster(r, MONDAY)) == []
    assert carer_ids(day_from_roster(r, MONDAY, changes)) == ["ann"]


def test_apply_changes_keeps_the_history_a_week_planner_set_for_working_carers():
    plain = day_from_roster(change_roster(), MONDAY)
    plain.client("k1").historical_carers = ["ann", "cat"]
    changed = apply_changes(change_roster(), plain, DayChanges(date=MONDAY, carer_shifts={"cat": []}))
    assert changed.client("k1").historical_carers == ["ann"]


def test_a_day_shares_nothing_mutable_with_the_roster():
    r = roster(
        [carer("ann", skills=["meds"])], [client("k1", call("am", skills=["meds"], tasks=["meds"]))], skills=["meds"]
    )
    first = day_from_roster(r, MONDAY)
    first.visits[0].skills.append("x")
    first.visits[0].window.start = 0
    first.carers[0].shifts[0].start = 0
    first.carers[0].skills.clear()
    again = day_from_roster(r, MONDAY)
    assert (again.visits[0].skills, again.visits[0].window.start) == (["meds"], 480)
    assert (again.carers[0].skills, again.carers[0].shifts[0].start) == (["meds"], 420)


def test_break_windows_and_pinned_starts_stay_ordered_on_the_short_day():
    r = roster(
        [carer("ann", shifts=(("00:00", "12:00"),), break_rule={"earliest": "01:50", "latest": "02:10"})],
        [client("k1", call("am"))],
    )
    sunday = day(2026, 3, 29)
    pinned = Visit(id="new", client="k1", duration=5, window={"start": "01:00", "end": "02:20"}, pinned_start="01:50")
    problem = day_from_roster(r, sunday, DayChanges(date=sunday, added_visits=[pinned]))
    rule = problem.carers[0].break_rule
    assert rule is not None and (rule.earliest, rule.latest) == (170, 170)  # 01:50 reads 02:50, past 02:10
    visit = problem.visit("new")
    assert (visit.window.start, visit.window.end, visit.pinned_start) == (120, 140, 140)
