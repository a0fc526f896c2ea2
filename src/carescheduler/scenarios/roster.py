"""Realistic council rosters: a care provider's clients and carers over weeks.

A generated roster is the master data a council's care-at-home service keeps
(``roster.model``): clients with weekly care packages, carers with contracts, weekly
availability and absences. The days of a date range are made from it (``roster.days``).
It keeps the day generator's assumptions (``generator.py``: places by road density with a
rural tail, the four rounds with their windows and durations, needs and skills, who
visits, shift patterns, the break rule, made-up people and addresses) and adds what
changes over a week. The assumptions, all in ``RosterSettings``:

* **Places.** As a day's. Three in ten carers living in the town centre walk; with walk
  roads the centre is where the walk network is densest (its junctions within 400 m).
* **Care packages.** A client's calls (1-4 a day, in rounds) happen every day, a hoist
  user's double-handed at every call, except that:

  - family covers the weekend for 20% of clients with two calls or more and no hoist: the
    lunch and tea calls (the bed call when there is neither) are Monday to Friday only;
  - 10% of clients with a lunch call go to a day centre on two weekdays (Mon/Wed, Tue/Thu,
    Wed/Fri, Mon/Thu or Tue/Fri): no lunch call then, and the morning call is a ``centre``
    call done by 09:00 for the transport. The centre shuts on bank holidays, so the centre
    call has ``on_bank_holidays`` False (the model cannot say "a morning call instead");
  - 15% have a longer bath or shower call (45 or 60 minutes, planned 09:30-14:30), a third
    of them twice a week (Mon/Thu, Tue/Fri or Wed/Sat), the rest once on a weekday, never
    on a day-centre day;
  - 5% of medication clients have a time-critical medication call (Parkinson's, insulin):
    15 minutes at 15:00, starting within 15 minutes of it (target 5);
  - 2% of packages are new, starting on the Tuesday, Wednesday or Thursday of the first
    week (``effective_from``); 1% end in the first week (a hospital admission,
    ``effective_to``).
* **Contracts.** Full-time 45% (37.5 hours over 5 days), part-time 35% (16-30 hours over
  3-4 days), weekend-only 10% (12-20 hours on Saturday and Sunday) and bank 10% (zero
  hours, available 1-3 days). On each working day a carer has one of the day's shift
  patterns (split, early, late, day, in the day's shares). Contracted hours never exceed
  what the availability offers (rounded down to the quarter hour). The weekly limit is
  the rules' 48 hours; 5% opted for 40 or 45 (never below their contract); 15% do not
  work bank holidays.
* **Days off.** Working days are dealt pattern by pattern so that each weekday's carers
  follow its load (calls, double-handed ones twice): weekend-only carers first, then the
  rest, most days first, each taking the days furthest below their share.
* **Absences.** 4% of carers have annual leave (5-14 days) starting in the first four
  weeks; one carer in 400 (one at least, two at most) is off sick from the first week,
  half of them with no return date yet.
* **Skills.** On each weekday of a call, at least as many carers as it needs must work
  that weekday (by their pattern; leave is temporary), be of the required gender, not be
  banned, be on shift for its window and hold its skills; if too few hold the skills the
  nearest are trained (the day generator's rule). A weekday on which too few carers of
  the right gender are on shift at all is dropped from the call, as a council would not
  accept it; ``drop`` stays rare (none on the council roster).
* **Size.** About eleven calls per working carer is the day generator's full but
  coverable day. ``COUNCIL_CLIENTS`` and ``COUNCIL_CARERS`` give about 5,000 calls and
  440 working carers on a weekday, a little fewer of both at the weekend
  (``fixtures/scenarios/README.md`` lists the counts of the fixture).

Everything is drawn from seeded generators, so (places, clients, carers, seed, start)
always give the same roster; the people, addresses and tasks come from the second
stream of the seed (``people.People``), as on a day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..domain import BreakRule, Client, Gender, Shift, TimeWindow, TravelMode, Visit
from ..roster.model import (
    WEEKDAYS,
    Absence,
    Address,
    BankHolidayRegion,
    CarePackageVisit,
    Roster,
    RosterCarer,
    RosterClient,
    Weekday,
)
from .generator import (
    DaySettings,
    Round,
    ShiftPattern,
    _call,
    _density,
    _location,
    _planar_km,
    in_proportion,
    places_from_roads,
)
from .people import People
from .streets import MadeUpStreets, RoadStreets, Streets, set_addresses
from .tasks import call_tasks

__all__ = [
    "COUNCIL_CARERS",
    "COUNCIL_CLIENTS",
    "DEFAULT_START",
    "Contract",
    "DayCount",
    "RosterSettings",
    "generate_roster",
    "week_counts",
]

H = 60
COUNCIL_CLIENTS = 1875
"""Clients of a council-sized roster: about 5,000 calls on a weekday."""
COUNCIL_CARERS = 780
"""Carers of a council-sized roster: about 440 of them working on a weekday."""
DEFAULT_START = dt.date(2027, 1, 4)
"""The Monday a generated roster starts on (leave, sickness and package changes follow it);
its week has no bank holiday in England."""


@dataclass(frozen=True)
class Contract:
    """A kind of employment: its share of carers, working days and contracted hours a week."""

    name: str
    share: float
    days: tuple[int, int]  # working days a week, fewest and most
    hours: tuple[float, float]  # contracted hours a week, drawn in half hours between
    weekend_only: bool = False


@dataclass(frozen=True)
class RosterSettings:
    """The knobs of a generated roster (the defaults are the module docstring's)."""

    day: DaySettings = field(default_factory=DaySettings)
    contracts: tuple[Contract, ...] = (
        Contract("full-time", 0.45, (5, 5), (37.5, 37.5)),
        Contract("part-time", 0.35, (3, 4), (16.0, 30.0)),
        Contract("weekend", 0.10, (2, 2), (12.0, 20.0), weekend_only=True),
        Contract("bank", 0.10, (1, 3), (0.0, 0.0)),
    )
    family_weekends: float = 0.20
    day_centre: float = 0.10
    day_centre_days: tuple[tuple[Weekday, Weekday], ...] = (
        ("mon", "wed"),
        ("tue", "thu"),
        ("wed", "fri"),
        ("mon", "thu"),
        ("tue", "fri"),
    )
    centre_ready_by: int = 9 * H
    bath: Round = field(default_factory=lambda: Round("bath", 9 * H + 30, 14 * H + 30, ((45, 0.5), (60, 0.5))))
    bath_share: float = 0.15
    bath_twice: float = 1 / 3
    bath_twice_days: tuple[tuple[Weekday, Weekday], ...] = (("mon", "thu"), ("tue", "fri"), ("wed", "sat"))
    timed_medication: float = 0.05  # of medication clients
    timed_medication_at: int = 15 * H
    timed_medication_slack: int = 15
    timed_medication_target: int = 5
    new_packages: float = 0.02
    ending_packages: float = 0.01
    lower_max_hours: float = 0.05
    lower_max_choices: tuple[float, ...] = (40.0, 45.0)
    no_bank_holidays: float = 0.15
    annual_leave: float = 0.04
    leave_weeks: int = 4
    leave_days: tuple[int, int] = (5, 14)
    carers_per_sickness: int = 400
    sicknesses: tuple[int, int] = (1, 2)
    open_sickness: float = 0.5


def generate_roster(
    roads: str | Path | None,
    clients: int = COUNCIL_CLIENTS,
    carers: int = COUNCIL_CARERS,
    seed: int = 0,
    settings: RosterSettings | None = None,
    walk_roads: str | Path | None = None,
    *,
    places: np.ndarray | None = None,
    start: dt.date = DEFAULT_START,
    name: str | None = None,
) -> Roster:
    """A roster of ``clients`` and ``carers`` on the roads of ``roads`` (``.osm``,
    ``.osm.bz2`` or ``.graphml``), or, without roads, over ``places`` (an ``(n, 2)`` array of
    lon, lat) with made-up streets. ``walk_roads`` marks the centre where walkers live."""
    from ..travel.roads import RoadNetwork

    streets: Streets | None = None
    if roads is not None:
        network = RoadNetwork.load(roads, TravelMode.drive)
        places = places_from_roads(network)
        streets = RoadStreets.of_network(network, roads)
    elif places is None:
        raise ValueError("roads: give a road file, or places (an (n, 2) array of lon, lat)")
    walk_places = None
    if walk_roads is not None:
        walk_places = places_from_roads(RoadNetwork.load(walk_roads, TravelMode.walk, field="walk_roads"))
    return _roster(
        np.asarray(places, dtype=float),
        clients,
        carers,
        seed,
        settings or RosterSettings(),
        start=start,
        name=name or f"roster-{clients}-clients-{carers}-carers-seed{seed}",
        streets=streets,
        walk_places=walk_places,
    )


# --- counting a week ---------------------------------------------------------------------


@dataclass(frozen=True)
class DayCount:
    """What one date of a roster holds: its calls, the carers a call takes (double-handed
    twice) and the carers working (availability, absences, employment, bank holidays)."""

    date: dt.date
    calls: int
    carer_calls: int
    carers: int

    @property
    def weekday(self) -> Weekday:
        return WEEKDAYS[self.date.weekday()]

    @property
    def per_carer(self) -> float:
        """Carer-calls per working carer: the day's load (about eleven is a full day)."""
        return self.carer_calls / self.carers if self.carers else math.inf


def week_counts(roster: Roster, first: dt.date, days: int = 7) -> list[DayCount]:
    """The counts of ``days`` dates from ``first``, as the days made from the roster hold them."""
    dates = [first + dt.timedelta(days=k) for k in range(days)]
    holidays = bank_holidays(roster, {d.year for d in dates})
    out = []
    for date in dates:
        holiday = date in holidays
        calls = [
            call
            for client in roster.clients
            for call in client.package
            if call.happens_on(date) and (call.on_bank_holidays or not holiday)
        ]
        working = [
            carer
            for carer in roster.carers
            if carer.availability.get(WEEKDAYS[date.weekday()])
            and not any(a.covers(date) for a in carer.absences)
            and (carer.employed_from is None or carer.employed_from <= date)
            and (carer.employed_to is None or date <= carer.employed_to)
            and (carer.works_bank_holidays or not holiday)
        ]
        out.append(DayCount(date, len(calls), sum(c.carers_needed for c in calls), len(working)))
    return out


_SUBDIVISIONS: dict[BankHolidayRegion, str] = {
    "england": "ENG",
    "wales": "WLS",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}


def bank_holidays(roster: Roster, years: set[int]) -> set[dt.date]:
    """The roster's bank holidays (its region's and its extra ones) in ``years``."""
    import holidays

    found = set(roster.extra_holidays)
    if roster.bank_holidays is not None:
        found |= set(holidays.country_holidays("GB", subdiv=_SUBDIVISIONS[roster.bank_holidays], years=years))
    return found


# --- the roster --------------------------------------------------------------------------


def _roster(
    places: np.ndarray,
    clients: int,
    carers: int,
    seed: int,
    s: RosterSettings,
    *,
    start: dt.date,
    name: str,
    streets: Streets | None,
    walk_places: np.ndarray | None,
) -> Roster:
    d = s.day
    if clients < 1 or carers < 1:
        raise ValueError("clients, carers: a roster needs at least one client and one carer")
    if places.ndim != 2 or places.shape[1] != 2 or len(places) == 0:
        raise ValueError("places: must be a non-empty (n, 2) array of lon, lat")
    rng = np.random.default_rng(seed)
    people = People(seed)
    if walk_places is None:
        xy = _planar_km(places)
        density = _density(xy, d.density_radius_km)
        centre = density
    else:  # one projection for both networks, so distances between them hold
        both = _planar_km(np.vstack([places, walk_places]))
        xy = both[: len(places)]
        density = _density(xy, d.density_radius_km)
        centre = _density_around(xy, both[len(places) :], d.density_radius_km)
    weight = density**1.5
    weight /= weight.sum()
    centre_cut = np.quantile(centre, 0.85)
    locations = [_location("office", places[int(np.argmax(density))], rng, 0.0)]

    def place(prefix: str, i: int, rural: bool) -> int:
        node = int(rng.integers(len(places))) if rural else int(rng.choice(len(places), p=weight))
        locations.append(_location(f"{prefix}{i:04d}", places[node], rng, d.jitter_m))
        return node

    drafts = [_client_draft(s, i, place, start, rng, people) for i in range(1, clients + 1)]
    load: dict[Weekday, int] = {
        w: sum(c.carers_needed for x in drafts for c in x.package if w in c.weekdays) for w in WEEKDAYS
    }
    staff = _carers(s, carers, rng, people, place, lambda node: bool(centre[node] >= centre_cut), load, start)
    roster_clients = _match(s, drafts, staff, xy, rng)
    set_addresses(locations, streets or MadeUpStreets(people.rng), people.rng)
    home = {x.id: Address(lat=x.lat, lon=x.lon, address=x.address) for x in locations if x.lat is not None}
    for client in roster_clients:
        client.home = home[client.id]
    for carer in staff.carers:
        carer.home = home[carer.id]
    return Roster(
        name=name,
        timezone="Europe/London",
        bank_holidays="england",
        office=home["office"],
        skills=list(d.skills),
        carers=staff.carers,
        clients=roster_clients,
    )


def _density_around(xy: np.ndarray, others: np.ndarray, radius_km: float) -> np.ndarray:
    """How many of ``others`` lie within ``radius_km`` of each point of ``xy``."""
    from scipy.spatial import cKDTree  # type: ignore[import-untyped, unused-ignore]  # scipy-stubs may be missing

    return np.array([len(n) for n in cKDTree(others).query_ball_point(xy, radius_km)], dtype=float)


# --- clients and their packages ----------------------------------------------------------


@dataclass
class _ClientDraft:
    """A client before carers exist: who they are, where, what they need, their package."""

    id: str
    node: int
    female: bool
    prefers_female: bool
    details: dict[str, str | None]
    package: list[CarePackageVisit]


def _client_draft(
    s: RosterSettings, i: int, place: Callable[[str, int, bool], int], start: dt.date, rng, people: People
) -> _ClientDraft:
    d = s.day
    cid = f"client{i:04d}"
    node = place("client", i, rng.random() < d.rural_share)
    needs = [name for name, p in d.client_needs if rng.random() < p]
    hoist = rng.random() < d.hoist_share
    female = rng.random() < d.female_required
    prefers_female = not female and rng.random() < d.female_preferred
    details = people.client_details()
    return _ClientDraft(cid, node, female, prefers_female, details, _package(s, cid, needs, hoist, start, rng, people))


def _package(
    s: RosterSettings, cid: str, needs: list[str], hoist: bool, start: dt.date, rng, people: People
) -> list[CarePackageVisit]:
    """A client's weekly calls: the day generator's rounds, then the week's patterns."""
    d = s.day
    client = Client(id=cid, location=cid)
    count = int(rng.choice(4, p=np.array(d.calls_per_day) / sum(d.calls_per_day))) + 1
    by_name = {r.name: r for r in d.rounds}
    calls = {
        name: _package_visit(name, _call(d, client, by_name[name], needs, hoist, rng, people))
        for name in d.rounds_by_calls[count - 1]
    }
    weekdays: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    centre_days: tuple[Weekday, ...] = ()
    if "lunch" in calls and rng.random() < s.day_centre:
        centre_days = s.day_centre_days[int(rng.integers(len(s.day_centre_days)))]
        calls["lunch"].weekdays = [w for w in WEEKDAYS if w not in centre_days]
        if "morning" in calls:
            morning = calls["morning"]
            morning.weekdays = [w for w in WEEKDAYS if w not in centre_days]
            calls["centre"] = _centre_call(s, morning, list(centre_days))
    if len(calls) >= 2 and not hoist and rng.random() < s.family_weekends:
        covered: list[str] = [n for n in ("lunch", "tea") if n in calls] or ["bed"]
        for n in covered:
            calls[n].weekdays = [w for w in calls[n].weekdays if w in weekdays]
    if rng.random() < s.bath_share:
        twice = [pair for pair in s.bath_twice_days if not set(pair) & set(centre_days)]
        once = [w for w in weekdays if w not in centre_days]
        if rng.random() < s.bath_twice and twice:
            days = list(twice[int(rng.integers(len(twice)))])
        else:
            days = [once[int(rng.integers(len(once)))]]
        # A bath gives no medicine and needs no catheter care: only dementia care and the hoist.
        bath = _call(d, client, s.bath, [n for n in needs if n == "dementia"], hoist, rng, people)
        calls["bath"] = _package_visit("bath", bath, days)
    if "medication" in needs and rng.random() < s.timed_medication:
        calls["meds"] = _timed_medication(s, [n for n in needs if n == "dementia"], people)
    package = sorted((c for c in calls.values() if c.weekdays), key=lambda c: c.window.start)
    if rng.random() < s.new_packages:
        begins = start + dt.timedelta(days=int(rng.integers(1, 4)))
        for call in package:
            call.effective_from = begins
    elif rng.random() < s.ending_packages:
        ends = start + dt.timedelta(days=int(rng.integers(0, 6)))
        for call in package:
            call.effective_to = ends
    return package


def _package_visit(name: str, visit: Visit, weekdays: list[Weekday] | None = None) -> CarePackageVisit:
    return CarePackageVisit(
        id=name,
        weekdays=list(weekdays or WEEKDAYS),
        window=visit.window,
        target=visit.target,
        duration=visit.duration,
        skills=visit.skills,
        carers_needed=visit.carers_needed,
        tasks=visit.tasks,
    )


def _centre_call(s: RosterSettings, morning: CarePackageVisit, days: list[Weekday]) -> CarePackageVisit:
    """The morning call of a day-centre day: the same care, done by the time the transport comes."""
    opens = s.day.rounds[0].opens
    latest = max(opens, s.centre_ready_by - int(morning.duration))
    planned = min(latest, opens + 30)
    return morning.model_copy(
        update={
            "id": "centre",
            "weekdays": days,
            "window": TimeWindow(start=opens, end=latest),
            "target": TimeWindow(
                start=max(opens, planned - s.day.target_slack), end=min(latest, planned + s.day.target_slack)
            ),
            "tasks": [*morning.tasks, "Ready for the day centre transport"],
            "on_bank_holidays": False,
        },
        deep=True,
    )


def _timed_medication(s: RosterSettings, needs: list[str], people: People) -> CarePackageVisit:
    at, slack, aim = s.timed_medication_at, s.timed_medication_slack, s.timed_medication_target
    skills = sorted({"medication", *needs})
    return CarePackageVisit(
        id="meds",
        window=TimeWindow(start=at - slack, end=at + slack),
        target=TimeWindow(start=at - aim, end=at + aim),
        duration=15,
        skills=skills,
        tasks=[
            f"Time-critical medication: give at {at // H:02d}:{at % H:02d}",
            *call_tasks("meds", skills, True, people.rng),
        ],
    )


# --- carers ------------------------------------------------------------------------------


@dataclass
class _Staff:
    """The carers and, row by row, what matching clients to them needs as arrays."""

    carers: list[RosterCarer]
    nodes: np.ndarray
    female: np.ndarray
    skills: dict[str, np.ndarray]
    works: dict[Weekday, np.ndarray]
    shift_start: np.ndarray  # (carers, most shifts a day); missing shifts start at +inf
    shift_end: np.ndarray  # and end at -inf


def _carers(
    s: RosterSettings,
    count: int,
    rng,
    people: People,
    place: Callable[[str, int, bool], int],
    in_centre: Callable[[int], bool],
    load: dict[Weekday, int],
    start: dt.date,
) -> _Staff:
    d = s.day
    contracts = _dealt(s.contracts, [c.share for c in s.contracts], count, rng)
    patterns = _dealt(d.shift_patterns, [p.share for p in d.shift_patterns], count, rng)
    days_each = [int(rng.integers(c.days[0], c.days[1] + 1)) for c in contracts]
    working = _deal_days(contracts, [d.shift_patterns.index(p) for p in patterns], days_each, load, rng)
    carers, nodes = [], []
    for k, (contract, pattern, days) in enumerate(zip(contracts, patterns, working, strict=True)):
        i = k + 1
        node = place("carer", i, False)
        walks = in_centre(node) and rng.random() < d.walkers_in_centre
        skills = [name for name, p in d.carer_skills if rng.random() < p]
        gender = Gender.female if rng.random() < d.female_carers else Gender.male
        offered = len(days) * sum(b - a for a, b in pattern.shifts) / H
        lo, hi = contract.hours
        drawn = lo + 0.5 * int(rng.integers(0, round((hi - lo) * 2) + 1))
        contracted = min(drawn, math.floor(offered * 4) / 4)
        max_hours = None
        if rng.random() < s.lower_max_hours:
            options = [h for h in s.lower_max_choices if h >= contracted]
            max_hours = options[int(rng.integers(len(options)))] if options else None
        carers.append(
            RosterCarer(
                id=f"carer{i:04d}",
                name=people.carer_name(gender),
                gender=gender,
                skills=skills,
                home=Address(lat=0.0, lon=0.0),  # the street address comes once every place has one
                travel_mode=TravelMode.walk if walks else TravelMode.drive,
                contracted_hours=contracted,
                max_hours=max_hours,
                availability={w: _shifts(pattern) for w in days},
                works_bank_holidays=rng.random() >= s.no_bank_holidays,
                break_rule=BreakRule(after_minutes=d.break_after, duration=d.break_minutes),
            )
        )
        nodes.append(node)
    _absences(s, carers, start, rng)
    most = max(len(p.shifts) for p in d.shift_patterns)
    shift_start = np.full((count, most), np.inf)
    shift_end = np.full((count, most), -np.inf)
    for k, pattern in enumerate(patterns):
        for j, (a, b) in enumerate(pattern.shifts):
            shift_start[k, j], shift_end[k, j] = a, b
    return _Staff(
        carers=carers,
        nodes=np.array(nodes),
        female=np.array([c.gender == Gender.female for c in carers]),
        skills={name: np.array([name in c.skills for c in carers]) for name in d.skills},
        works={w: np.array([w in c.availability for c in carers]) for w in WEEKDAYS},
        shift_start=shift_start,
        shift_end=shift_end,
    )


def _dealt(kinds, shares: list[float], count: int, rng) -> list:
    """``count`` of ``kinds`` in proportion to ``shares``, in random order."""
    dealt = [kind for kind, q in zip(kinds, in_proportion(shares, count), strict=True) for _ in range(q)]
    rng.shuffle(dealt)
    return dealt


def _shifts(pattern: ShiftPattern) -> list[Shift]:
    return [Shift(start=a, end=b) for a, b in pattern.shifts]


def _deal_days(
    contracts: list[Contract], patterns: list[int], days_each: list[int], load: dict[Weekday, int], rng
) -> list[list[Weekday]]:
    """Each carer's working days, so that a weekday's carers, and those of each shift
    pattern, follow its share of the load: weekend-only carers take Saturday and Sunday,
    then the others, most days first, each take the days furthest below their share (all
    carers' and their pattern's; ties broken at random)."""
    share = np.array([load[w] for w in WEEKDAYS], dtype=float) + 1e-9
    share /= share.sum()
    target = sum(days_each) * share
    taken = np.zeros(len(WEEKDAYS))
    kinds = max(patterns, default=0) + 1
    pattern_target = np.array(
        [sum(n for n, p in zip(days_each, patterns, strict=True) if p == j) for j in range(kinds)]
    )
    pattern_target = pattern_target[:, None] * share[None, :] + 1e-9
    pattern_taken = np.zeros_like(pattern_target)
    weekend = np.array([WEEKDAYS.index("sat"), WEEKDAYS.index("sun")])
    out: list[list[Weekday]] = [[] for _ in contracts]
    for k in sorted(range(len(contracts)), key=lambda k: (not contracts[k].weekend_only, -days_each[k])):
        p = patterns[k]
        if contracts[k].weekend_only:
            chosen = weekend
        else:
            gap = (target - taken) / target + (pattern_target[p] - pattern_taken[p]) / pattern_target[p]
            chosen = np.argsort(-(gap + rng.random(len(WEEKDAYS)) * 1e-6))[: days_each[k]]
        taken[chosen] += 1
        pattern_taken[p, chosen] += 1
        out[k] = [WEEKDAYS[j] for j in sorted(chosen)]
    return out


def _absences(s: RosterSettings, carers: list[RosterCarer], start: dt.date, rng) -> None:
    """Annual leave in the first weeks after ``start``, and a sickness or two from the first week."""
    lo, hi = s.leave_days
    for carer in carers:
        if rng.random() < s.annual_leave:
            first = start + dt.timedelta(days=int(rng.integers(0, 7 * s.leave_weeks)))
            last = first + dt.timedelta(days=int(rng.integers(lo, hi + 1)) - 1)
            carer.absences.append(Absence(start=first, end=last, kind="leave"))
    fewest, most = s.sicknesses
    well = [k for k, c in enumerate(carers) if not c.absences and c.availability]
    count = min(len(well), max(fewest, min(most, round(len(carers) / s.carers_per_sickness))))
    for k in sorted(int(k) for k in rng.choice(well, size=count, replace=False)):
        first = start + dt.timedelta(days=int(rng.integers(0, 5)))
        back = None if rng.random() < s.open_sickness else first + dt.timedelta(days=int(rng.integers(2, 10)))
        carers[k].absences.append(Absence(start=first, end=back, kind="sickness"))


# --- matching clients to carers ----------------------------------------------------------


def _match(s: RosterSettings, drafts: list[_ClientDraft], staff: _Staff, xy: np.ndarray, rng) -> list[RosterClient]:
    """Each client's wishes about carers, and every call made deliverable on its weekdays."""
    d = s.day
    homes = xy[staff.nodes]
    ids = [c.id for c in staff.carers]
    out = []
    for draft in drafts:
        order = np.argsort(((homes - xy[draft.node]) ** 2).sum(axis=1), kind="stable")
        gender_ok = staff.female if draft.female else np.ones(len(ids), dtype=bool)
        pool = [int(k) for k in order[: d.history_pool] if gender_ok[k]]
        lo, hi = d.history_size
        known = pool[: int(rng.integers(lo, hi + 1))]
        preferred = [known[int(rng.integers(len(known)))]] if known and rng.random() < d.prefers_one else []
        others = [k for k in pool if k not in preferred]
        banned = [others[int(rng.integers(len(others)))]] if others and rng.random() < d.bans_one else []
        allowed = gender_ok.copy()
        allowed[banned] = False
        package = [call for call in draft.package if _deliverable(call, staff, allowed, order)]
        out.append(
            RosterClient(
                id=draft.id,
                home=Address(lat=0.0, lon=0.0),
                gender_requirement=Gender.female if draft.female else None,
                gender_preference=Gender.female if draft.prefers_female else None,
                preferred_carers=[ids[k] for k in preferred],
                banned_carers=[ids[k] for k in banned],
                package=package,
                **draft.details,
            )
        )
    for name, held in staff.skills.items():
        for k in np.flatnonzero(held):
            if name not in staff.carers[k].skills:
                staff.carers[k].skills.append(name)
    order_of = {name: j for j, name in enumerate(d.skills)}
    for carer in staff.carers:
        carer.skills.sort(key=order_of.__getitem__)
    return out


def _deliverable(call: CarePackageVisit, staff: _Staff, allowed: np.ndarray, order: np.ndarray) -> bool:
    """Train the nearest carers where too few working a weekday of the call hold its skills;
    drop the weekdays too few allowed carers are on shift for. False: no weekday is left."""
    start, end = call.window.start, call.window.end if call.window.end is not None else np.inf
    fits = ((np.maximum(start, staff.shift_start) + call.duration <= staff.shift_end) & (staff.shift_start <= end)).any(
        axis=1
    )
    fits &= allowed
    kept: list[Weekday] = []
    for weekday in call.weekdays:
        can = fits & staff.works[weekday]
        if can.sum() < call.carers_needed:
            continue
        held = can.copy()
        for name in call.skills:
            held &= staff.skills[name]
        short = call.carers_needed - int(held.sum())
        if short > 0:
            for k in [k for k in order if can[k] and not held[k]][:short]:
                for name in call.skills:
                    staff.skills[name][k] = True
        kept.append(weekday)
    call.weekdays = kept
    return bool(kept)
