"""Realistic council care days, for demos, tests and benchmarks.

A generated day is what a UK council's care-at-home service plans each morning. The
assumptions, all in ``DaySettings`` so they can be tuned:

* **Places.** Clients and carers live at real road positions (the nodes of a road
  graph, nudged a few metres off the junction). Where people live follows how dense
  the roads are, so most clients are in towns and villages and a tail is rural: a
  position is drawn with weight (junctions within 400 m)^1.5, and one client in ten
  is drawn uniformly over the whole network. The office sits at the densest junction.
* **Care packages.** A client has 1-4 calls a day (20% one: lunch; 25% two: morning
  and bed; 25% three: morning, tea and bed; 30% all four), in rounds: morning
  07:00-11:30 (the heaviest), lunch 11:30-14:30, tea 16:00-18:30 and bed 18:30-22:30.
  Each call has a planned time on the quarter hour; it may start 30 minutes early to
  45 minutes late (30 either way when it gives medication), and the soft target is 15
  minutes either side. Durations are mostly 30, 45 or 60 minutes; 15 minutes only for
  checks such as medication prompts.
* **Needs and skills.** 12% of clients use a hoist, so every call of theirs needs two
  hoist-trained carers at once (about 10-15% of calls are double-handed). Medication
  (45% of clients), dementia (20%), catheter/stoma care (6%) and PEG feeding (2%) need
  a carer with that skill. Moving-and-handling and medication training are near
  universal (90% of carers), dementia care common (70%), catheter/stoma (30%) and PEG
  (10%) specialist. A call that fewer carers than it needs could do (skills, gender,
  shift) gets the nearest suitable carers trained: a council does not accept a
  package nobody can deliver.
* **Who visits.** 82% of carers are women; a quarter of clients require a female
  carer and a tenth of the rest prefer one. Each client has a history of 1-4 carers
  from those living nearest (continuity); a quarter prefer one of them; 4% have
  banned a carer.
* **Carers.** Shifts: split 07:00-13:00 + 16:00-22:30 (45%), early 07:00-15:00
  (20%), late 12:00-22:30 (25%) and day 07:30-17:30 (10%), dealt out in proportion.
  They start and end at home. Three in ten of those living in a town centre walk;
  everyone else drives. Contracted time is 85% of the shift time, the hard maximum is
  the shift time, and a day over six hours owes a 20-minute break (the UK Working Time
  Regulations minimum).
* **Size.** About eleven calls per carer is a full but coverable day with these
  durations and travel (the demo day: 400 calls, 36 carers); at twelve and more the
  morning and bed rounds run out of carers.

* **What the carer needs at the door.** Clients and carers have made-up names, clients a
  telephone number from Ofcom's drama ranges and, for most, notes on how to get in (key
  safes with a code, the door to use, pets) (``people.py``). Every place has a street
  address: a house number on the nearest named street of the road file, or on a made-up
  street for a day without roads (``streets.py``). Each call lists its tasks by kind of
  call and the client's needs (``tasks.py``).

Everything is drawn from seeded generators, so a (roads, visits, carers, seed) quadruple
always gives the same day. The people, addresses and tasks, which change no plan, come
from a second stream of the seed: the visits, windows, skills, places, carers and shifts
are those the seed gave before they existed (published results refer to these days).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..domain import (
    BreakRule,
    Carer,
    Client,
    Gender,
    Location,
    ObjectiveWeights,
    Problem,
    Shift,
    TimeWindow,
    TravelMode,
    Visit,
)
from .people import People
from .streets import MadeUpStreets, RoadStreets, Streets, set_addresses
from .tasks import call_tasks

__all__ = ["DaySettings", "generate_day", "generate_from_roads", "places_from_roads"]

H = 60


@dataclass(frozen=True)
class Round:
    name: str
    opens: int  # earliest planned start (minutes after midnight)
    closes: int  # every call of the round ends by then
    durations: tuple[tuple[int, float], ...]  # (minutes, probability) for personal care


@dataclass(frozen=True)
class ShiftPattern:
    name: str
    shifts: tuple[tuple[int, int], ...]
    share: float


@dataclass(frozen=True)
class DaySettings:
    """The knobs of a generated day (the defaults are the module docstring's)."""

    rounds: tuple[Round, ...] = (
        Round("morning", 7 * H, 11 * H + 30, ((30, 0.50), (45, 0.35), (60, 0.15))),
        Round("lunch", 11 * H + 30, 14 * H + 30, ((30, 0.80), (45, 0.20))),
        Round("tea", 16 * H, 18 * H + 30, ((30, 1.0),)),
        Round("bed", 18 * H + 30, 22 * H + 30, ((30, 0.80), (45, 0.20))),
    )
    calls_per_day: tuple[float, float, float, float] = (0.20, 0.25, 0.25, 0.30)  # P(1), P(2), P(3), P(4)
    rounds_by_calls: tuple[tuple[str, ...], ...] = (
        ("lunch",),
        ("morning", "bed"),
        ("morning", "tea", "bed"),
        ("morning", "lunch", "tea", "bed"),
    )
    early_minutes: int = 30
    late_minutes: int = 45
    medication_slack: int = 30
    target_slack: int = 15
    check_share: float = 0.15  # calls that are a 15-minute check (medication prompts)
    hoist_share: float = 0.12
    client_needs: tuple[tuple[str, float], ...] = (
        ("medication", 0.45),
        ("dementia", 0.20),
        ("catheter_stoma", 0.06),
        ("peg_feeding", 0.02),
    )
    carer_skills: tuple[tuple[str, float], ...] = (
        ("medication", 0.90),
        ("hoist", 0.90),
        ("dementia", 0.70),
        ("catheter_stoma", 0.30),
        ("peg_feeding", 0.10),
    )
    female_carers: float = 0.82
    female_required: float = 0.25
    female_preferred: float = 0.10
    history_size: tuple[int, int] = (1, 4)
    history_pool: int = 12  # history drawn from this many nearest carers
    prefers_one: float = 0.25
    bans_one: float = 0.04
    shift_patterns: tuple[ShiftPattern, ...] = (
        ShiftPattern("split", ((7 * H, 13 * H), (16 * H, 22 * H + 30)), 0.45),
        ShiftPattern("early", ((7 * H, 15 * H),), 0.20),
        ShiftPattern("late", ((12 * H, 22 * H + 30),), 0.25),
        ShiftPattern("day", ((7 * H + 30, 17 * H + 30),), 0.10),
    )
    contracted_share: float = 0.85
    break_after: int = 6 * H
    break_minutes: int = 20
    walkers_in_centre: float = 0.3
    rural_share: float = 0.10  # clients placed uniformly, not by road density
    density_radius_km: float = 0.4
    jitter_m: float = 25.0
    skills: list[str] = field(
        default_factory=lambda: ["medication", "hoist", "dementia", "catheter_stoma", "peg_feeding"]
    )


def places_from_roads(roads) -> np.ndarray:
    """Candidate home positions (lon, lat) of a road network (``travel.roads.RoadNetwork``):
    its junctions and dead ends, which on a simplified graph follow where people live."""
    return np.column_stack([roads.node_lon, roads.node_lat])


def generate_from_roads(
    road_file,
    visits: int,
    carers: int,
    seed: int = 0,
    *,
    walk_file=None,
    travel: bool = True,
    cache_dir=None,
    **options,
) -> Problem:
    """A care day on the roads of ``road_file`` (``.osm``, ``.osm.bz2`` or ``.graphml``).

    With ``travel`` the day carries road travel matrices (drive on ``road_file``, walk on
    ``walk_file`` or the same file walked both ways); without, a caller can add them later
    with ``travel.road_travel`` (a council-sized matrix is big to store, quick to rebuild).
    """
    from ..travel import road_travel
    from ..travel.roads import RoadNetwork

    network = RoadNetwork.load(road_file, TravelMode.drive)
    streets = RoadStreets.of_network(network, road_file)
    problem = generate_day(places_from_roads(network), visits, carers, seed, streets=streets, **options)
    if not travel:
        return problem
    problem = road_travel(problem, {"drive": road_file, "walk": walk_file or road_file}, cache_dir=cache_dir)
    # Hundredths of a minute are finer than any road model; rounding keeps stored days small.
    for matrix in problem.travel:
        matrix.minutes = np.round(np.asarray(matrix.minutes, dtype=float), 2)
    return problem


def generate_day(
    places: np.ndarray,
    visits: int,
    carers: int,
    seed: int = 0,
    *,
    name: str | None = None,
    day: dt.date | None = None,
    settings: DaySettings | None = None,
    streets: Streets | None = None,
) -> Problem:
    """A care day of ``visits`` calls and ``carers`` carers over the candidate ``places``
    (an ``(n, 2)`` array of lon, lat). Travel is left out: give the problem road travel
    times (``carescheduler.travel.road_travel``) or let the solver estimate them.

    ``streets`` names the street at a position (``streets.RoadStreets`` for the roads the
    places come from); without, the addresses are on made-up streets."""
    s = settings or DaySettings()
    if visits < 1 or carers < 1:
        raise ValueError("a day needs at least one visit and one carer")
    places = np.asarray(places, dtype=float)
    if places.ndim != 2 or places.shape[1] != 2 or len(places) == 0:
        raise ValueError("places must be a non-empty (n, 2) array of lon, lat")
    rng = np.random.default_rng(seed)
    people = People(seed)  # names, phones, addresses, tasks: a stream of their own
    xy = _planar_km(places)
    density = _density(xy, s.density_radius_km)
    weight = density**1.5
    weight /= weight.sum()
    centre_cut = np.quantile(density, 0.85)
    locations = [_location("office", places[int(np.argmax(density))], rng, 0.0)]

    def place(prefix: str, i: int, rural: bool) -> tuple[str, int]:
        node = int(rng.integers(len(places))) if rural else int(rng.choice(len(places), p=weight))
        locations.append(_location(f"{prefix}{i:04d}", places[node], rng, s.jitter_m))
        return locations[-1].id, node

    carers_at = _carers(s, carers, rng, place, density, centre_cut, people)
    homes_xy = np.array([xy[node] for _, node in carers_at])
    carer_list = [c for c, _ in carers_at]
    client_list: list[Client] = []
    visit_list: list[Visit] = []
    i = 0
    while len(visit_list) < visits:
        i += 1
        loc, node = place("addr", i, rural=rng.random() < s.rural_share)
        client, calls = _client(s, f"client{i:04d}", loc, xy[node], carer_list, homes_xy, rng, people)
        client_list.append(client)
        visit_list.extend(calls[: visits - len(visit_list)])
    used = {c.location for c in client_list} | {c.start_location for c in carer_list} | {"office"}
    locations = [x for x in locations if x.id in used]
    set_addresses(locations, streets or MadeUpStreets(people.rng), people.rng)
    return Problem(
        name=name or f"care-day-{visits}-visits-{carers}-carers-seed{seed}",
        day=day,
        skills=list(s.skills),
        locations=locations,
        carers=carer_list,
        clients=client_list,
        visits=visit_list,
        weights=ObjectiveWeights(),
    )


# --- places ------------------------------------------------------------------------------


def _planar_km(lonlat: np.ndarray) -> np.ndarray:
    lat0 = np.radians(lonlat[:, 1].mean())
    return np.column_stack([lonlat[:, 0] * 111.32 * np.cos(lat0), lonlat[:, 1] * 110.574])


def _density(xy: np.ndarray, radius_km: float) -> np.ndarray:
    from scipy.spatial import cKDTree  # type: ignore[import-untyped, unused-ignore]  # scipy-stubs may be missing

    tree = cKDTree(xy)
    return np.array([len(n) for n in tree.query_ball_point(xy, radius_km)], dtype=float)


def _location(id_: str, lonlat: np.ndarray, rng: np.random.Generator, jitter_m: float) -> Location:
    lon, lat = lonlat
    if jitter_m:
        lat += rng.normal(0, jitter_m) / 110_574
        lon += rng.normal(0, jitter_m) / (111_320 * np.cos(np.radians(lat)))
    return Location(id=id_, lat=round(float(lat), 6), lon=round(float(lon), 6))


# --- carers ------------------------------------------------------------------------------


def in_proportion(shares, count: int) -> np.ndarray:
    """How many of ``count`` go to each share: in proportion, the remainders to the largest
    fractions (so every kind with a share gets its due even in a small draw)."""
    share = np.asarray(shares, dtype=float)
    exact = share / share.sum() * count
    quota = np.floor(exact).astype(int)
    for j in np.argsort(-(exact - quota))[: count - quota.sum()]:
        quota[j] += 1
    return quota


def _carers(s: DaySettings, count: int, rng, place, density, centre_cut, people: People) -> list[tuple[Carer, int]]:
    patterns = s.shift_patterns
    # Deal the patterns out in proportion (not at random), so small days still get each kind.
    quota = in_proportion([p.share for p in patterns], count)
    dealt = [p for p, q in zip(patterns, quota, strict=True) for _ in range(q)]
    rng.shuffle(dealt)
    out = []
    for i, pattern in enumerate(dealt, start=1):
        home, node = place("home", i, rural=False)
        walks = density[node] >= centre_cut and rng.random() < s.walkers_in_centre
        shift_minutes = sum(b - a for a, b in pattern.shifts)
        skills = [name for name, p in s.carer_skills if rng.random() < p]
        carer = Carer(
            id=f"carer{i:03d}",
            gender=Gender.female if rng.random() < s.female_carers else Gender.male,
            skills=skills,
            start_location=home,
            shifts=[Shift(start=a, end=b) for a, b in pattern.shifts],
            travel_mode=TravelMode.walk if walks else TravelMode.drive,
            max_working_minutes=float(shift_minutes),
            contracted_minutes=float(15 * round(s.contracted_share * shift_minutes / 15)),
            break_rule=BreakRule(after_minutes=s.break_after, duration=s.break_minutes),
        )
        carer.name = people.carer_name(carer.gender)  # a name to suit the gender the day drew
        out.append((carer, node))
    return out


# --- clients and their calls -------------------------------------------------------------


def _client(
    s: DaySettings,
    cid: str,
    loc: str,
    xy: np.ndarray,
    carers: list[Carer],
    homes_xy: np.ndarray,
    rng,
    people: People,
) -> tuple[Client, list[Visit]]:
    needs = [name for name, p in s.client_needs if rng.random() < p]
    hoist = rng.random() < s.hoist_share
    female = rng.random() < s.female_required
    prefers_female = not female and rng.random() < s.female_preferred
    by_distance = [carers[int(k)] for k in np.argsort(((homes_xy - xy) ** 2).sum(axis=1))]
    pool = [c for c in by_distance[: s.history_pool] if not female or c.gender == Gender.female]
    lo, hi = s.history_size
    history = [c.id for c in pool[: int(rng.integers(lo, hi + 1))]] if pool else []
    rng.shuffle(history)
    others = [c.id for c in pool if c.id not in history]
    client = Client(
        id=cid,
        location=loc,
        gender_requirement=Gender.female if female else None,
        gender_preference=Gender.female if prefers_female else None,
        preferred_carers=history[:1] if history and rng.random() < s.prefers_one else [],
        banned_carers=[others[int(rng.integers(len(others)))]] if others and rng.random() < s.bans_one else [],
        historical_carers=history,
        **people.client_details(),
    )
    calls = int(rng.choice(4, p=np.array(s.calls_per_day) / sum(s.calls_per_day))) + 1
    by_name = {r.name: r for r in s.rounds}
    visits = [_call(s, client, by_name[name], needs, hoist, rng, people) for name in s.rounds_by_calls[calls - 1]]
    for visit in visits:
        _train_nearest(by_distance, visit, female)
    return client, visits


def _train_nearest(by_distance: list[Carer], visit: Visit, female: bool) -> None:
    """A council does not take on a call no one can do: if fewer carers than the call
    needs have its skills and are on shift for it, the nearest such carers are trained."""

    def on_shift(c: Carer) -> bool:
        return any(
            max(visit.window.start, sh.start) + visit.duration <= sh.end
            and (visit.window.end is None or sh.start <= visit.window.end)
            for sh in c.shifts
        )

    suitable = [c for c in by_distance if (not female or c.gender == Gender.female) and on_shift(c)]
    missing = [c for c in suitable if not set(visit.skills) <= set(c.skills)]
    for carer in missing[: max(0, visit.carers_needed - (len(suitable) - len(missing)))]:
        carer.skills = sorted(set(carer.skills) | set(visit.skills))


def _call(s: DaySettings, client: Client, rnd: Round, needs: list[str], hoist: bool, rng, people: People) -> Visit:
    medication = "medication" in needs
    check = medication and not hoist and rng.random() < s.check_share / max(1e-9, dict(s.client_needs)["medication"])
    if check:
        duration = 15
    else:
        minutes, probs = zip(*rnd.durations, strict=True)
        duration = int(rng.choice(minutes, p=np.array(probs) / sum(probs)))
    latest = rnd.closes - duration
    slots = np.arange(rnd.opens, latest + 1, 15)
    planned = int(rng.choice(slots)) if len(slots) else rnd.opens
    early, late = (s.medication_slack, s.medication_slack) if medication else (s.early_minutes, s.late_minutes)
    end = max(planned, min(latest, planned + late))
    window = TimeWindow(start=max(rnd.opens - 30, planned - early), end=end)
    target = TimeWindow(start=max(window.start, planned - s.target_slack), end=min(end, planned + s.target_slack))
    skills = [n for n in needs if n != "catheter_stoma" or rnd.name in ("morning", "bed")]
    if hoist:
        skills.append("hoist")
    skills = sorted(set(skills))
    return Visit(
        id=f"{client.id}-{rnd.name}",
        client=client.id,
        duration=float(duration),
        window=window,
        target=target,
        skills=skills,
        carers_needed=2 if hoist else 1,
        tasks=call_tasks(rnd.name, skills, check, people.rng),
    )
