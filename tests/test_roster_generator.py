"""The roster generator: the rosters it makes have the shape its docstring promises, and the
fixture rosters are what their commands in ``fixtures/scenarios/README.md`` make.

Counts are recomputed here from the roster's own fields (``happens_on``, availability,
absences), not taken from ``week_counts``, which is checked against them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gzip
import re
import shlex
from collections import Counter

import numpy as np
import pytest
from typer.testing import CliRunner

from carescheduler.cli import app
from carescheduler.domain import Gender
from carescheduler.roster import WEEKDAYS, Roster
from carescheduler.roster.model import Address, CarePackageVisit, RosterCarer, RosterClient
from carescheduler.scenarios.roster import DEFAULT_START, RosterSettings, generate_roster, week_counts
from conftest import ROOT, SCENARIOS

SETTINGS = RosterSettings()
WEEK = [DEFAULT_START + dt.timedelta(days=k) for k in range(7)]


def _places(seed: int = 0) -> np.ndarray:
    """A town, a village and a rural scatter (lon, lat), like road junctions."""
    rng = np.random.default_rng(seed)
    town = np.column_stack([9.52 + rng.normal(0, 0.006, 400), 47.14 + rng.normal(0, 0.004, 400)])
    village = np.column_stack([9.56 + rng.normal(0, 0.003, 100), 47.20 + rng.normal(0, 0.002, 100)])
    rural = np.column_stack([rng.uniform(9.45, 9.62, 100), rng.uniform(47.05, 47.25, 100)])
    return np.vstack([town, village, rural])


def _read(name: str) -> Roster:
    with gzip.open(SCENARIOS / name, "rt", encoding="utf-8") as handle:
        return Roster.model_validate_json(handle.read())


@functools.cache
def council() -> Roster:
    return _read("council-roster.json.gz")


@functools.cache
def small() -> Roster:
    return _read("small-roster.json.gz")


def _readme_command(out_name: str) -> list[str]:
    """The arguments of the README's ``generate-roster`` command that writes ``out_name``."""
    text = (SCENARIOS / "README.md").read_text()
    line = next(x for x in text.splitlines() if "generate-roster" in x and out_name in x)
    words = shlex.split(line.replace("$OSM", str(ROOT / "fixtures/osm/liechtenstein-20150727.drive.osm.bz2")))
    return words[words.index("generate-roster") :]


def _working(roster: Roster, date: dt.date) -> list[RosterCarer]:
    weekday = WEEKDAYS[date.weekday()]
    return [c for c in roster.carers if c.availability.get(weekday) and not any(a.covers(date) for a in c.absences)]


def _calls(roster: Roster, date: dt.date) -> list[CarePackageVisit]:
    return [call for client in roster.clients for call in client.package if call.happens_on(date)]


# --- the fixtures ------------------------------------------------------------------------


def test_the_small_fixture_is_what_its_command_makes(tmp_path) -> None:
    args = _readme_command("small-roster.json.gz")
    out = tmp_path / "small-roster.json.gz"
    args[args.index("--out") + 1] = str(out)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        made = Roster.model_validate_json(handle.read())
    assert made == small()


def test_the_council_fixture_has_its_size_and_a_full_week() -> None:
    roster = council()
    args = _readme_command("council-roster.json.gz")
    assert "--clients" not in args and "--carers" not in args, "the council fixture is made with the defaults"
    assert len(roster.clients) == 1875 and len(roster.carers) == 780
    for date in WEEK:
        calls, carers = _calls(roster, date), _working(roster, date)
        carer_calls = sum(c.carers_needed for c in calls)
        weekend = date.weekday() >= 5
        assert (4_400 if weekend else 4_800) <= len(calls) <= 5_200, (date, len(calls))
        assert (380 if weekend else 420) <= len(carers) <= 460, (date, len(carers))
        assert 10.5 <= len(calls) / len(carers) <= 12.0, date
        assert 12.0 <= carer_calls / len(carers) <= 13.5, date


def test_the_readme_lists_the_counts_of_both_fixtures() -> None:
    text = (SCENARIOS / "README.md").read_text()
    for roster in (council(), small()):
        for day in week_counts(roster, DEFAULT_START):
            row = f"| {roster.name} | {day.weekday} {day.date} | {day.calls:,} | {day.carer_calls:,} | {day.carers} |"
            assert row in text, row


def test_week_counts_agree_with_the_roster() -> None:
    for roster in (council(), small()):
        for day, date in zip(week_counts(roster, DEFAULT_START), WEEK, strict=True):
            calls = _calls(roster, date)
            assert (day.calls, day.carer_calls, day.carers) == (
                len(calls),
                sum(c.carers_needed for c in calls),
                len(_working(roster, date)),
            )


def test_week_counts_leave_out_what_stops_on_a_bank_holiday() -> None:
    home = Address(lat=47.1, lon=9.5)
    friday = {"fri": [{"start": 420, "end": 900}]}
    roster = Roster(
        carers=[
            RosterCarer(id="a", home=home, availability=friday, works_bank_holidays=False),
            RosterCarer(id="b", home=home, availability=friday),
        ],
        clients=[
            RosterClient(
                id="c",
                home=home,
                package=[
                    CarePackageVisit(id="daily", window={"start": 480, "end": 540}, duration=30),
                    CarePackageVisit(
                        id="centre",
                        weekdays=["fri"],
                        window={"start": 420, "end": 480},
                        duration=30,
                        on_bank_holidays=False,
                    ),
                ],
            )
        ],
    )
    new_year, next_friday = dt.date(2027, 1, 1), dt.date(2027, 1, 8)  # New Year's Day is a Friday in 2027
    counts = {d.date: d for d in week_counts(roster, new_year, days=8)}
    assert (counts[new_year].calls, counts[new_year].carers) == (1, 1)
    assert (counts[next_friday].calls, counts[next_friday].carers) == (2, 2)
    assert counts[dt.date(2027, 1, 2)].carers == 0


# --- the shape of a roster ---------------------------------------------------------------


def test_same_seed_same_roster_other_seed_other_roster() -> None:
    a = generate_roster(None, 60, 25, seed=5, places=_places())
    b = generate_roster(None, 60, 25, seed=5, places=_places())
    c = generate_roster(None, 60, 25, seed=6, places=_places())
    assert a.model_dump_json() == b.model_dump_json()
    assert a.model_dump_json() != c.model_dump_json()
    assert a.timezone == "Europe/London" and a.bank_holidays == "england"
    assert a.skills == SETTINGS.day.skills


def test_without_roads_or_places_the_error_names_the_argument() -> None:
    with pytest.raises(ValueError, match="roads"):
        generate_roster(None, 10, 4)


def _shift_hours(carer: RosterCarer) -> float:
    return sum(s.end - s.start for shifts in carer.availability.values() for s in shifts) / 60


@pytest.mark.parametrize("roster", [council, small], ids=["council", "small"])
def test_contracts_fit_the_availability_and_the_weekly_limit(roster) -> None:
    for carer in roster().carers:
        assert carer.availability, carer.id
        assert carer.contracted_hours <= _shift_hours(carer), carer.id
        assert carer.max_hours is None or carer.contracted_hours <= carer.max_hours <= 48, carer.id
        assert (carer.contracted_hours * 4) % 1 == 0, "contracted hours are in quarter hours"


def test_the_council_has_each_kind_of_contract_in_its_share() -> None:
    carers = council().carers
    kinds = Counter()
    for c in carers:
        days = set(c.availability)
        if c.contracted_hours == 0:
            kinds["bank"] += 1
            assert 1 <= len(days) <= 3
        elif days == {"sat", "sun"} and c.contracted_hours <= 20:
            kinds["weekend"] += 1
        elif len(days) == 5 and c.contracted_hours == 37.5:
            kinds["full-time"] += 1
        else:
            kinds["part-time"] += 1
            assert len(days) in (3, 4) and 16 <= c.contracted_hours <= 30, c.id
    for contract in SETTINGS.contracts:
        assert kinds[contract.name] == pytest.approx(contract.share * len(carers), abs=3), contract.name
    lower = sum(c.max_hours is not None for c in carers) / len(carers)
    assert 0.02 <= lower <= 0.09, "a few opted for a lower weekly limit"


def test_absences_are_a_few_leaves_and_one_or_two_sicknesses() -> None:
    carers = council().carers
    leave = [a for c in carers for a in c.absences if a.kind == "leave"]
    sick = [a for c in carers for a in c.absences if a.kind == "sickness"]
    assert 0.02 * len(carers) <= len(leave) <= 0.07 * len(carers)
    assert all(DEFAULT_START <= a.start < DEFAULT_START + dt.timedelta(weeks=4) and a.end for a in leave)
    assert 1 <= len(sick) <= 2
    assert all(DEFAULT_START <= a.start < DEFAULT_START + dt.timedelta(days=7) for a in sick)
    assert 1 <= sum(a.kind == "sickness" for c in small().carers for a in c.absences) <= 2


def test_every_weekday_has_carers_of_every_shift_pattern() -> None:
    patterns = {tuple((s[0], s[1]) for s in p.shifts): p for p in SETTINGS.day.shift_patterns}
    for weekday in WEEKDAYS:
        seen = Counter(
            patterns[tuple((int(s.start), int(s.end)) for s in c.availability[weekday])].name
            for c in council().carers
            if weekday in c.availability
        )
        total = sum(seen.values())
        for p in SETTINGS.day.shift_patterns:
            assert seen[p.name] == pytest.approx(p.share * total, rel=0.25), (weekday, p.name)


def test_packages_have_the_weekly_patterns() -> None:
    clients = council().clients
    calls = [(client, call) for client in clients for call in client.package]
    by_id = Counter(call.id for _, call in calls)
    everyday = set(WEEKDAYS)
    for client, call in calls:
        assert (call.carers_needed == 2) == ("hoist" in call.skills), "hoist users: two carers at every call"
        if call.id == "centre":
            assert not call.on_bank_holidays and len(call.weekdays) == 2 and set(call.weekdays) <= set(WEEKDAYS[:5])
            calls_of = {c.id: c for c in client.package}
            for other in ("morning", "lunch"):
                assert other not in calls_of or not set(calls_of[other].weekdays) & set(call.weekdays)
            assert call.window.end + call.duration <= SETTINGS.centre_ready_by
        else:
            assert call.on_bank_holidays
        if call.id == "bath":
            assert call.duration in (45, 60) and 1 <= len(call.weekdays) <= 2
        if call.id == "meds":
            assert call.duration == 15 and call.window.end - call.window.start == 2 * SETTINGS.timed_medication_slack
            assert "medication" in call.skills
        if call.effective_from is not None:
            assert DEFAULT_START < call.effective_from < DEFAULT_START + dt.timedelta(days=5)
        if call.effective_to is not None:
            assert DEFAULT_START <= call.effective_to < DEFAULT_START + dt.timedelta(days=7)
    for client in clients:
        if any("hoist" in call.skills for call in client.package):
            for call in client.package:  # family never covers for a hoist user (no day centre at teatime or bed)
                assert call.id not in ("tea", "bed") or set(call.weekdays) == everyday, client.id
    assert by_id["morning"] > by_id["lunch"] > 0 and by_id["bed"] > by_id["tea"] > 0
    assert 0.10 * len(clients) <= by_id["bath"] <= 0.20 * len(clients)
    assert by_id["centre"] > 0 and by_id["meds"] > 0
    weekend_short = sum(1 for _, c in calls if c.id in ("lunch", "tea") and set(c.weekdays) == set(WEEKDAYS[:5]))
    assert weekend_short > 0.05 * len(clients), "family covers some weekends"
    new = {client.id for client, call in calls if call.effective_from is not None}
    ending = {client.id for client, call in calls if call.effective_to is not None}
    assert new and ending and not new & ending


@pytest.mark.parametrize("roster", [council, small], ids=["council", "small"])
def test_every_call_has_enough_carers_who_can_do_it_on_each_of_its_weekdays(roster) -> None:
    _assert_deliverable(roster())


def test_a_skill_nobody_holds_is_trained_into_the_nearest_carers() -> None:
    day = dataclasses.replace(
        SETTINGS.day,
        carer_skills=tuple((name, 0.0 if name == "peg_feeding" else p) for name, p in SETTINGS.day.carer_skills),
        client_needs=tuple((name, 0.2 if name == "peg_feeding" else p) for name, p in SETTINGS.day.client_needs),
    )
    r = generate_roster(None, 120, 50, seed=3, places=_places(), settings=RosterSettings(day=day))
    assert any("peg_feeding" in call.skills for client in r.clients for call in client.package)
    assert 0 < sum("peg_feeding" in c.skills for c in r.carers) < len(r.carers) / 2
    _assert_deliverable(r)


def _assert_deliverable(r: Roster) -> None:
    """Every call on each of its weekdays has at least as many carers as it needs who work
    that weekday by their pattern, are of the required gender, are not banned, are on shift
    for its window and hold its skills."""
    index = {c.id: k for k, c in enumerate(r.carers)}
    female = np.array([c.gender == Gender.female for c in r.carers])
    skills = {name: np.array([name in c.skills for c in r.carers]) for name in r.skills}
    for weekday in WEEKDAYS:
        # Each carer's shifts that weekday as two columns (none: a shift that fits nothing).
        starts = np.full((len(r.carers), 2), np.inf)
        ends = np.full((len(r.carers), 2), -np.inf)
        for k, carer in enumerate(r.carers):
            for j, shift in enumerate(carer.availability.get(weekday, [])):
                starts[k, j], ends[k, j] = shift.start, shift.end
        for client in r.clients:
            allowed = female.copy() if client.gender_requirement == Gender.female else np.ones(len(r.carers), bool)
            allowed[[index[b] for b in client.banned_carers]] = False
            for call in client.package:
                if weekday not in call.weekdays:
                    continue
                able = allowed.copy()
                for name in call.skills:
                    able &= skills[name]
                fits = (np.maximum(call.window.start, starts) + call.duration <= ends) & (starts <= call.window.end)
                assert (able & fits.any(axis=1)).sum() >= call.carers_needed, (client.id, call.id, weekday)


def test_skilled_carers_working_each_weekday_can_carry_its_skilled_calls() -> None:
    r = council()
    for date in WEEK:
        working = _working(r, date)
        for name in r.skills:
            needed = sum(c.carers_needed for c in _calls(r, date) if name in c.skills)
            held = sum(name in c.skills for c in working)
            assert needed <= 12 * held, (date, name, needed, held)


def test_female_only_clients_have_female_carers_and_wishes_that_fit() -> None:
    r = council()
    gender = {c.id: c.gender for c in r.carers}
    required = [c for c in r.clients if c.gender_requirement == Gender.female]
    assert 0.18 * len(r.clients) <= len(required) <= 0.32 * len(r.clients)
    for client in required:
        assert all(gender[p] == Gender.female for p in client.preferred_carers), client.id
    assert not any(set(c.preferred_carers) & set(c.banned_carers) for c in r.clients)
    women = sum(g == Gender.female for g in gender.values()) / len(gender)
    assert 0.76 <= women <= 0.88


def test_walkers_live_where_homes_are_dense_and_everyone_has_an_address() -> None:
    r = council()
    clients = np.array([[c.home.lat, c.home.lon] for c in r.clients])

    def neighbours(carer: RosterCarer) -> int:  # clients within about 400 m
        dlat = (clients[:, 0] - carer.home.lat) * 110.574
        dlon = (clients[:, 1] - carer.home.lon) * 111.32 * np.cos(np.radians(carer.home.lat))
        return int((np.hypot(dlat, dlon) < 0.4).sum())

    walkers = [neighbours(c) for c in r.carers if c.travel_mode.value == "walk"]
    drivers = [neighbours(c) for c in r.carers if c.travel_mode.value == "drive"]
    assert 0 < len(walkers) < 0.15 * len(r.carers)
    assert np.median(walkers) > np.median(drivers)
    assert all(x.home.address and re.match(r"^\d+ ", x.home.address) for x in [*r.carers, *r.clients])
    assert all(client.name and client.phone for client in r.clients)
    assert all(call.tasks for client in r.clients for call in client.package)


def test_the_command_names_a_bad_start_date(tmp_path) -> None:
    osm = ROOT / "fixtures/osm/liechtenstein-20150727.drive.osm.bz2"
    args = ["generate-roster", "--osm", str(osm), "--start", "4 Jan", "--out", str(tmp_path / "r.json")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--start" in result.output
    assert not (tmp_path / "r.json").exists()
