"""The days of a date range, generated from the roster.

A day (``domain.Problem``) is what the solver plans; the roster is what the office keeps.
``day_from_roster`` makes one date's problem, ``days_from_roster`` a range of them:

- carers: those employed on the date, not absent, not off for a bank holiday (unless
  ``works_bank_holidays``), with their weekday's shifts; carers with no shift that day
  are left out. ``max_working_minutes`` is ``max_daily_hours``; ``contracted_minutes``
  is the day's share of the weekly contract (hours x 60 / the weekdays their pattern
  works; None for a zero-hours contract or no pattern), which a week planner overrides;
- visits: each package call that ``happens_on`` the date, except on a bank holiday when
  the call is not ``on_bank_holidays``; a visit's id is ``"{client}:{call}"``;
- clients: those with a visit that day; their preferred and banned carers who do not
  work that day are left out (a day names only its own carers);
- locations: one per home, ``"carer:{id}"`` and ``"client:{id}"`` (``carer_location_id``,
  ``client_location_id``), so a carer and a client may share an id.

One-off changes (``DayChanges``) are applied after generation (``apply_changes``), so a
change to a care package reaches every regenerated day while the changes to a single
date are kept apart: cancelled visits, replaced visits, added visits (of a roster
client), and a carer's shifts for the date (which override their pattern, absences, bank
holidays and employment dates; ``[]``: off). Any reference the day cannot resolve is an
``InputError`` naming the change's field.

Times are local wall-clock minutes after midnight (``roster.local_time``). The night
the clocks go forward a time in the skipped hour does not exist; it is read as the clock
shows it, an hour later (01:30 becomes 02:30), and a window whose start the move carries
past its end shrinks to that start (01:30-02:30 becomes 02:30-02:30); shifts the move
makes overlap are merged. Times that exist keep their minutes on every day, so an 08:00
call is 480 before and after the change; the night the clocks go back nothing moves (a
repeated hour is read at its first occurrence). One-off changes are read the same way.

Travel: the days carry no matrices, so travel is estimated from the homes' coordinates
(``Problem.travel_estimate``, from the roster). To plan on roads, attach matrices to each
day as ``carescheduler solve --roads`` does::

    from carescheduler.travel import road_travel
    day = road_travel(day_from_roster(roster, date), {"drive": "area.osm.bz2", "walk": "area.walk.osm.bz2"})

``road_travel`` caches matrices on disk keyed by the points, and a day holds only the
homes of its own carers and clients, so each new set of people costs one routing (or
route every roster home once with ``travel.road_matrix`` and give each day the rows and
columns of its own locations, as a ``TravelMatrix`` per mode). Apply one-off changes
before attaching roads: ``apply_changes`` refuses a day with matrices when the changes
need homes the matrices do not cover.
"""

from __future__ import annotations

import datetime as dt
import gc
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from pydantic import ValidationError

from ..domain import Carer, Client, Location, Problem, Shift, TimeWindow, Visit
from ..errors import InputError, describe_validation_error
from .calendar import is_bank_holiday
from .local_time import skipped_minutes
from .model import WEEKDAYS, Address, CarePackageVisit, DayChanges, Roster, RosterCarer, RosterClient

__all__ = [
    "MAX_DAYS",
    "apply_changes",
    "carer_location_id",
    "client_location_id",
    "day_from_roster",
    "days_from_roster",
    "visit_id",
]

MAX_DAYS = 366
"""The longest range ``days_from_roster`` makes at once (a year, leap years included)."""


def carer_location_id(carer_id: str) -> str:
    """The id of a carer's home among a day's locations."""
    return f"carer:{carer_id}"


def client_location_id(client_id: str) -> str:
    """The id of a client's home among a day's locations."""
    return f"client:{client_id}"


def visit_id(client_id: str, call_id: str) -> str:
    """The id of a day's visit made from a client's package call."""
    return f"{client_id}:{call_id}"


def day_from_roster(roster: Roster, date: dt.date, changes: DayChanges | None = None) -> Problem:
    """The problem of ``date`` as the roster has it, with that date's one-off changes."""
    index = _RosterIndex.of(roster)
    with _collections_paused():
        day = _generate(index, date)
        return day if changes is None else _apply(index, day, changes, "changes")


def days_from_roster(
    roster: Roster, start: dt.date, end: dt.date, changes: Iterable[DayChanges] = ()
) -> dict[dt.date, Problem]:
    """The problems of ``start`` to ``end`` (inclusive), each with its date's changes.

    A range of more than ``MAX_DAYS`` days, changes for a date outside the range and two
    sets of changes for one date are refused (``InputError``)."""
    if end < start:
        raise InputError("end", f"{end} is before start {start}")
    count = (end - start).days + 1
    if count > MAX_DAYS:
        raise InputError("end", f"{count} days from {start} to {end}; at most {MAX_DAYS} at a time")
    by_date: dict[dt.date, tuple[int, DayChanges]] = {}
    for i, change in enumerate(changes):
        if not start <= change.date <= end:
            raise InputError(f"changes[{i}].date", f"{change.date} is outside the days {start} to {end}")
        if change.date in by_date:
            first = by_date[change.date][0]
            raise InputError(
                f"changes[{i}].date", f"a second set of changes for {change.date} (first: changes[{first}])"
            )
        by_date[change.date] = (i, change)
    index = _RosterIndex.of(roster)
    days: dict[dt.date, Problem] = {}
    for offset in range(count):
        date = start + dt.timedelta(days=offset)
        with _collections_paused():
            day = _generate(index, date)
            if date in by_date:
                i, change = by_date[date]
                day = _apply(index, day, change, f"changes[{i}]")
        days[date] = day
    return days


def apply_changes(roster: Roster, problem: Problem, changes: DayChanges) -> Problem:
    """``problem`` (a day generated from ``roster``) with the date's one-off changes: the
    service regenerates a day after a package change and applies the changes again."""
    return _apply(_RosterIndex.of(roster), problem, changes, "changes")


@contextmanager
def _collections_paused() -> Iterator[None]:
    """Garbage collection paused while a day is built: its tens of thousands of small
    objects set off collections that walk the whole roster again and again (half the
    time of a council day). They hold no cycles; reference counting frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _RosterIndex:
    """What generating any day of one roster needs, worked out once."""

    roster: Roster
    zone: zoneinfo.ZoneInfo
    carers: dict[str, RosterCarer]
    clients: dict[str, RosterClient]
    skills: set[str]
    daily_contract: dict[str, float | None] = field(default_factory=dict)

    @classmethod
    def of(cls, roster: Roster) -> _RosterIndex:
        daily = {}
        for carer in roster.carers:
            days = sum(1 for shifts in carer.availability.values() if shifts)
            daily[carer.id] = carer.contracted_hours * 60.0 / days if carer.contracted_hours > 0 and days else None
        return cls(
            roster=roster,
            zone=roster.zone,
            carers={c.id: c for c in roster.carers},
            clients={c.id: c for c in roster.clients},
            skills=set(roster.skills),
            daily_contract=daily,
        )


class _WallClock:
    """The local times of one date as the clock shows them (see the module docstring)."""

    def __init__(self, zone: zoneinfo.ZoneInfo, date: dt.date):
        self._zone = zone
        self._date = date
        self._shown: dict[float, float] = {}

    def time(self, minutes: float) -> float:
        shown = self._shown.get(minutes)
        if shown is None:
            shown = minutes + skipped_minutes(self._zone, self._date, minutes)
            self._shown[minutes] = shown
        return shown

    def window(self, window: TimeWindow) -> dict[str, float | None]:
        """A window's start and end as the clock shows them, the end no earlier than the start."""
        start = self.time(window.start)
        return {"start": start, "end": None if window.end is None else max(start, self.time(window.end))}

    def shifts(self, shifts: Sequence[Shift]) -> list[dict[str, float]]:
        """Shifts moved off the skipped hour; shifts the move makes touch are merged."""
        moved: list[dict[str, float]] = []
        for shift in sorted(shifts, key=lambda s: s.start):
            start, end = self.time(shift.start), self.time(shift.end)
            if end <= start:
                continue  # wholly inside the skipped hour
            if moved and start <= moved[-1]["end"]:
                moved[-1]["end"] = max(moved[-1]["end"], end)
            else:
                moved.append({"start": start, "end": end})
        return moved

    def visit(self, visit: Visit) -> Visit:
        """A copy of a given visit (a one-off change) with its times as the clock shows them."""
        data = visit.model_dump()
        data["window"] = self.window(visit.window)
        data["target"] = None if visit.target is None else self.window(visit.target)
        if visit.pinned_start is not None:
            window = data["window"]
            pinned = max(window["start"], self.time(visit.pinned_start))
            data["pinned_start"] = pinned if window["end"] is None else min(pinned, window["end"])
        return Visit.model_validate(data)


def _shifts_on(carer: RosterCarer, date: dt.date, holiday: bool) -> list[Shift]:
    """The carer's pattern shifts on ``date``, or none when they are not working it."""
    if (carer.employed_from is not None and date < carer.employed_from) or (
        carer.employed_to is not None and date > carer.employed_to
    ):
        return []
    if holiday and not carer.works_bank_holidays:
        return []
    if any(absence.covers(date) for absence in carer.absences):
        return []
    return carer.availability.get(WEEKDAYS[date.weekday()], [])


def _carer_data(index: _RosterIndex, carer: RosterCarer, shifts: list[dict[str, float]], clock: _WallClock) -> dict:
    rule = carer.break_rule
    earliest = None if rule is None or rule.earliest is None else clock.time(rule.earliest)
    latest = None if rule is None or rule.latest is None else clock.time(rule.latest)
    if earliest is not None and latest is not None:
        latest = max(earliest, latest)
    return {
        "id": carer.id,
        "name": carer.name,
        "gender": carer.gender,
        "skills": carer.skills,
        "start_location": carer_location_id(carer.id),
        "shifts": shifts,
        "travel_mode": carer.travel_mode,
        "max_working_minutes": None if carer.max_daily_hours is None else carer.max_daily_hours * 60.0,
        "contracted_minutes": index.daily_contract.get(carer.id),
        "break_rule": None
        if rule is None
        else {
            "after_minutes": rule.after_minutes,
            "duration": rule.duration,
            "earliest": earliest,
            "latest": latest,
        },
    }


def _visit_data(client: RosterClient, call: CarePackageVisit, clock: _WallClock) -> dict:
    sync = call.synchronisation
    return {
        "id": visit_id(client.id, call.id),
        "client": client.id,
        "duration": call.duration,
        "window": clock.window(call.window),
        "target": None if call.target is None else clock.window(call.target),
        "skills": call.skills,
        "carers_needed": call.carers_needed,
        "synchronisation": None
        if sync is None
        else {"kind": sync.kind, "min_gap": sync.min_gap, "max_gap": sync.max_gap},
        "tasks": call.tasks,
        "mandatory": call.mandatory,
    }


def _client_data(client: RosterClient, working: set[str], historical: Sequence[str] = ()) -> dict:
    return {
        "id": client.id,
        "name": client.name,
        "location": client_location_id(client.id),
        "gender_requirement": client.gender_requirement,
        "gender_preference": client.gender_preference,
        "preferred_carers": [c for c in client.preferred_carers if c in working],
        "banned_carers": [c for c in client.banned_carers if c in working],
        "historical_carers": [c for c in historical if c in working],
        "phone": client.phone,
        "access_notes": client.access_notes,
        "notes": client.notes,
    }


def _home_data(location_id: str, home: Address) -> dict:
    return {"id": location_id, "lat": home.lat, "lon": home.lon, "address": home.address}


def _generate(index: _RosterIndex, date: dt.date) -> Problem:
    """The day as the roster has it, built as plain data and validated in one pass (a
    council day has thousands of visits; building each model on its own costs twice as much)."""
    roster = index.roster
    holiday = is_bank_holiday(roster, date)
    clock = _WallClock(index.zone, date)
    carers: list[dict] = []
    locations: list[dict] = []
    for roster_carer in roster.carers:
        shifts = clock.shifts(_shifts_on(roster_carer, date, holiday))
        if shifts:
            carers.append(_carer_data(index, roster_carer, shifts, clock))
            locations.append(_home_data(carer_location_id(roster_carer.id), roster_carer.home))
    working = {c["id"] for c in carers}
    clients: list[dict] = []
    visits: list[dict] = []
    for client in roster.clients:
        calls = [c for c in client.package if c.happens_on(date) and (c.on_bank_holidays or not holiday)]
        if not calls:
            continue
        clients.append(_client_data(client, working))
        locations.append(_home_data(client_location_id(client.id), client.home))
        visits.extend(_visit_data(client, call, clock) for call in calls)
    return _problem(
        f"day {date}",
        name=f"{roster.name[:188]} {date.isoformat()}",
        day=date,
        skills=roster.skills,
        locations=locations,
        carers=carers,
        clients=clients,
        visits=visits,
        travel_estimate=roster.travel_estimate.model_dump(),
        weights=roster.weights.model_dump(),
    )


def _problem(source: str, **fields: object) -> Problem:
    """A problem checked as any other (its cross-references); a failure names the field."""
    try:
        return Problem.model_validate(fields)
    except ValidationError as e:
        raise describe_validation_error(e, source) from None


def _apply(index: _RosterIndex, problem: Problem, changes: DayChanges, where: str) -> Problem:
    date = changes.date
    if problem.day != date:
        raise InputError(f"{where}.date", f"the changes are for {date} but the day is {problem.day}")
    clock = _WallClock(index.zone, date)

    carers = {c.id: c for c in problem.carers}
    for carer_id, given in changes.carer_shifts.items():
        roster_carer = index.carers.get(carer_id)
        if roster_carer is None:
            raise InputError(f"{where}.carer_shifts[{carer_id!r}]", f"no carer {carer_id!r} on the roster")
        shifts = clock.shifts(given)
        if not shifts:
            carers.pop(carer_id, None)
        elif carer_id in carers:
            carers[carer_id] = carers[carer_id].model_copy(update={"shifts": [Shift.model_validate(x) for x in shifts]})
        else:
            carers[carer_id] = Carer.model_validate(_carer_data(index, roster_carer, shifts, clock))

    visits = {v.id: v for v in problem.visits}
    cancelled: dict[str, int] = {}
    for i, cancelled_id in enumerate(changes.cancelled_visits):
        field = f"{where}.cancelled_visits[{i}]"
        if cancelled_id in cancelled:
            raise InputError(
                field, f"visit {cancelled_id!r} is cancelled twice (also cancelled_visits[{cancelled[cancelled_id]}])"
            )
        if cancelled_id not in visits:
            raise InputError(field, f"no visit {cancelled_id!r} on {date}")
        del visits[cancelled_id]
        cancelled[cancelled_id] = i
    changed: set[str] = set()
    for i, visit in enumerate(changes.changed_visits):
        field = f"{where}.changed_visits[{i}]"
        if visit.id in cancelled:
            raise InputError(
                f"{field}.id", f"visit {visit.id!r} is also cancelled (cancelled_visits[{cancelled[visit.id]}])"
            )
        if visit.id in changed:
            raise InputError(f"{field}.id", f"visit {visit.id!r} is changed twice")
        if visit.id not in visits:
            raise InputError(f"{field}.id", f"no visit {visit.id!r} on {date}")
        _check_visit(index, visit, carers, date, field)
        visits[visit.id] = clock.visit(visit)
        changed.add(visit.id)
    for i, visit in enumerate(changes.added_visits):
        field = f"{where}.added_visits[{i}]"
        if visit.id in visits:
            raise InputError(f"{field}.id", f"visit {visit.id!r} is already on {date}")
        _check_visit(index, visit, carers, date, field)
        visits[visit.id] = clock.visit(visit)

    working = set(carers)
    given_clients = {c.id: c for c in problem.clients}
    clients: dict[str, Client] = {}
    for visit in visits.values():
        if visit.client in clients:
            continue
        base = given_clients.get(visit.client)
        roster_client = index.clients.get(visit.client)
        if roster_client is not None:
            historical = base.historical_carers if base is not None else ()
            clients[visit.client] = Client.model_validate(_client_data(roster_client, working, historical))
        elif base is not None:  # a client of a day not made from this roster: kept, trimmed to today's carers
            clients[visit.client] = base.model_copy(
                update={
                    name: [c for c in getattr(base, name) if c in working]
                    for name in ("preferred_carers", "banned_carers", "historical_carers")
                }
            )

    locations = _locations(index, problem, carers.values(), clients.values(), where)
    return _problem(
        f"day {date}",
        **{
            **dict(problem),
            "locations": locations,
            "carers": list(carers.values()),
            "clients": list(clients.values()),
            "visits": list(visits.values()),
        },
    )


def _check_visit(index: _RosterIndex, visit: Visit, carers: dict[str, Carer], date: dt.date, field: str) -> None:
    """A changed or added visit's references resolve on the roster and the day."""
    if visit.client not in index.clients:
        raise InputError(f"{field}.client", f"no client {visit.client!r} on the roster")
    for name in visit.skills:
        if name not in index.skills:
            raise InputError(f"{field}.skills", f"unknown skill {name!r} (declare it in Roster.skills)")
    for p, part in enumerate(visit.parts or []):
        for name in part.skills:
            if name not in index.skills:
                raise InputError(f"{field}.parts[{p}].skills", f"unknown skill {name!r} (declare it in Roster.skills)")
    for carer_id in visit.pinned_carers:
        if carer_id not in carers:
            raise InputError(f"{field}.pinned_carers", f"carer {carer_id!r} does not work on {date}")


def _locations(
    index: _RosterIndex,
    problem: Problem,
    carers: Iterable[Carer],
    clients: Iterable[Client],
    where: str,
) -> list[Location]:
    """The homes the changed day needs: the day's own where it has them, else the roster's."""
    needed: dict[str, Address | None] = {}
    for carer in carers:
        roster_carer = index.carers.get(carer.id)
        needed[carer.start_location] = roster_carer.home if roster_carer is not None else None
        needed.setdefault(carer.home_end, None)
    for client in clients:
        roster_client = index.clients.get(client.id)
        needed[client.location] = roster_client.home if roster_client is not None else None
    have = {x.id: x for x in problem.locations}
    missing = [x for x in needed if x not in have]
    if problem.travel:
        if missing:
            raise InputError(
                f"{where}",
                f"the day has travel matrices but the changes need homes they do not cover ({', '.join(missing)}); "
                "apply one-off changes before attaching road travel",
            )
        return list(problem.locations)
    kept = [x for x in problem.locations if x.id in needed]
    for location_id in missing:
        home = needed[location_id]
        if home is None:  # not a roster home: the problem's validator names the reference
            continue
        kept.append(Location.model_validate(_home_data(location_id, home)))
    return kept
