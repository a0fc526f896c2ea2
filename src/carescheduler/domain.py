"""The public problem schema: carers, clients, visits, travel and objective weights.

Everything a coordinator (or an importer) hands to the scheduler is described here as
pydantic models, so a problem round-trips through JSON and bad input is rejected with
an error that names the field and the reason before any solving starts.

Times are minutes after midnight of ``Problem.day`` (floats, so benchmark data with
fractional travel times is represented exactly). Inputs may also give times as
``"HH:MM"`` strings.
"""

from __future__ import annotations

import datetime as dt
import itertools
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WrapSerializer,
    WrapValidator,
    model_validator,
)

__all__ = [
    "BreakRule",
    "Carer",
    "Client",
    "Gender",
    "Id",
    "Location",
    "Note",
    "ObjectiveWeights",
    "Problem",
    "Shift",
    "Synchronisation",
    "Text",
    "TimeWindow",
    "TravelEstimate",
    "TravelMatrix",
    "TravelMode",
    "Visit",
    "VisitPart",
    "parse_minutes",
]


def parse_minutes(value: object) -> object:
    """Accept minutes as a number or an ``"HH:MM"`` string (``"24:00"`` is allowed)."""
    if isinstance(value, str):
        text = value.strip()
        if ":" in text:
            hours, _, minutes = text.partition(":")
            if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
                raise ValueError(f"time {value!r} is not HH:MM")
            if int(minutes) >= 60:
                raise ValueError(f"time {value!r} has more than 59 minutes")
            return int(hours) * 60 + int(minutes)
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"time {value!r} is neither minutes nor HH:MM") from None
    return value


Minutes = Annotated[float, BeforeValidator(parse_minutes)]
"""A time of day in minutes after midnight (or a duration in minutes)."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""An identifier of a carer, client, visit, place or skill (or a reference to one)."""
Text = Annotated[str, StringConstraints(max_length=200)]
"""A name, a phone number, an address or a task: one line."""
Note = Annotated[str, StringConstraints(max_length=2000)]
"""Notes for the carer at the door: a paragraph or two.

Every string of a day is bounded, so a careless or hostile upload is refused with the
field named rather than stored and shown to carers whole."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


class Gender(str, Enum):
    female = "female"
    male = "male"


class TravelMode(str, Enum):
    drive = "drive"
    walk = "walk"


class Location(_Model):
    """A place: a client's home, a carer's home or an office.

    Coordinates are optional when travel matrices are given; ``lat``/``lon`` are WGS84
    degrees, ``x``/``y`` planar units (benchmark data).
    """

    id: Id
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    x: float | None = None
    y: float | None = None
    address: Text | None = None

    def has_coordinates(self) -> bool:
        """Whether travel to and from here can be estimated (lat/lon or x/y)."""
        return (self.lat is not None and self.lon is not None) or (self.x is not None and self.y is not None)


class TimeWindow(_Model):
    """An interval of start times ``[start, end]``; ``end`` may be open (None)."""

    start: Minutes = 0.0
    end: Minutes | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"window end {self.end:g} is before its start {self.start:g}")
        return self


class Shift(_Model):
    """An availability interval; a carer may have several (split shifts).

    ``end`` is hard unless ``latest_end`` is later: then the carer may still be finishing
    (their last visit of the shift, and getting home after the day's last) until
    ``latest_end``, each minute past ``end`` at ``ObjectiveWeights.past_shift_end``.
    """

    start: Minutes
    end: Minutes
    latest_end: Minutes | None = Field(
        default=None, description="a soft end: the latest the carer may finish, minutes past `end` costed"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise ValueError(f"shift end {self.end:g} is not after its start {self.start:g}")
        if self.latest_end is not None and self.latest_end < self.end:
            raise ValueError(f"latest_end {self.latest_end:g} is before the shift's end {self.end:g}")
        return self

    @property
    def hard_end(self) -> float:
        """When the carer must be done: ``latest_end`` where the end is soft, else ``end``."""
        return self.end if self.latest_end is None else self.latest_end


class BreakRule(_Model):
    """A rest break owed on a long day.

    If the carer's working span (leaving home to getting home) exceeds ``after_minutes``,
    the plan must hold one break of at least ``duration`` minutes between two visits,
    starting inside ``[earliest, latest]`` when those are given.
    """

    after_minutes: Minutes = Field(default=360.0, ge=0)
    duration: Minutes = Field(default=30.0, gt=0)
    earliest: Minutes | None = None
    latest: Minutes | None = None

    @model_validator(mode="after")
    def _ordered(self) -> BreakRule:
        if self.earliest is not None and self.latest is not None and self.latest < self.earliest:
            raise ValueError("break window latest is before earliest")
        return self


class Carer(_Model):
    """A care assistant and what they can do today.

    ``working_minutes`` counts visit and travel time (not waiting or breaks);
    ``max_working_minutes`` caps it (hard) and ``contracted_minutes`` is the soft target
    beyond which overtime is penalised.
    """

    id: Id
    name: Text | None = None
    gender: Gender | None = None
    skills: list[Id] = Field(default_factory=list)
    start_location: Id
    end_location: Id | None = None
    shifts: list[Shift] = Field(default_factory=list, description="when the carer works; none: not today")
    travel_mode: TravelMode = TravelMode.drive
    max_working_minutes: Minutes | None = Field(default=None, ge=0)
    contracted_minutes: Minutes | None = Field(default=None, ge=0)
    break_rule: BreakRule | None = None

    @model_validator(mode="after")
    def _shifts_disjoint(self) -> Carer:
        ordered = sorted(self.shifts, key=lambda s: s.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end:
                raise ValueError(f"shifts overlap: {before.start:g}-{before.end:g} and {after.start:g}-{after.end:g}")
        self.shifts = ordered
        return self

    @property
    def home_end(self) -> str:
        return self.end_location or self.start_location


class Client(_Model):
    """A person receiving care, with hard and soft wishes about who visits.

    ``phone``, ``access_notes`` and ``notes`` are for the carer at the door (the service's
    carer view shows them); the solver ignores them.
    """

    id: Id
    name: Text | None = None
    location: Id
    gender_requirement: Gender | None = None
    gender_preference: Gender | None = None
    preferred_carers: list[Id] = Field(default_factory=list)
    banned_carers: list[Id] = Field(default_factory=list)
    historical_carers: list[Id] = Field(default_factory=list)
    phone: Text | None = Field(default=None, description="the number a carer rings when nobody answers the door")
    access_notes: Note | None = Field(
        default=None, description="how to get in: key safe and its code, which door, pets, ring and wait"
    )
    notes: Note | None = Field(default=None, description="anything else the carers should know about the client")


class Synchronisation(_Model):
    """How the two carers of a double-handed visit meet.

    ``simultaneous``: both parts start together. ``sequential``: the second part starts
    between ``min_gap`` and ``max_gap`` minutes after the first.
    """

    kind: Literal["simultaneous", "sequential"] = "simultaneous"
    min_gap: Minutes = 0.0
    max_gap: Minutes = 0.0

    @model_validator(mode="after")
    def _gaps(self) -> Synchronisation:
        if self.kind == "simultaneous":
            self.min_gap = self.max_gap = 0.0
        elif self.max_gap < self.min_gap:
            raise ValueError(f"max_gap {self.max_gap:g} is below min_gap {self.min_gap:g}")
        return self


class VisitPart(_Model):
    """What one of the carers of a visit does, when the parts differ (benchmark services)."""

    skills: list[Id] = Field(default_factory=list)
    duration: Minutes | None = Field(default=None, ge=0)


class Visit(_Model):
    """A call at a client's home.

    ``window`` bounds the start hard; ``target`` is the soft start window whose breach
    costs lateness/earliness. A visit needs one or two carers; each carer needs
    ``skills`` plus the skills of their part (``parts[i]``, if given).
    """

    id: Id
    client: Id
    duration: Minutes = Field(ge=0)
    window: TimeWindow = Field(default_factory=TimeWindow)
    target: TimeWindow | None = None
    skills: list[Id] = Field(default_factory=list)
    carers_needed: Literal[1, 2] = 1
    parts: list[VisitPart] | None = None
    synchronisation: Synchronisation | None = None
    mandatory: bool = True
    value: float = Field(default=0.0, ge=0)
    pinned_carers: list[Id] = Field(default_factory=list)
    pinned_start: Minutes | None = None
    tasks: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> Visit:
        if self.parts is not None and len(self.parts) != self.carers_needed:
            raise ValueError(f"parts has {len(self.parts)} entries but carers_needed is {self.carers_needed}")
        if self.carers_needed == 2 and self.synchronisation is None:
            self.synchronisation = Synchronisation()
        if self.carers_needed == 1 and self.synchronisation is not None:
            raise ValueError("synchronisation is only meaningful when carers_needed is 2")
        if len(self.pinned_carers) > self.carers_needed:
            raise ValueError(f"{len(self.pinned_carers)} pinned carers but carers_needed is {self.carers_needed}")
        if len(set(self.pinned_carers)) != len(self.pinned_carers):
            raise ValueError("pinned_carers repeats a carer")
        if self.pinned_start is not None and (
            self.pinned_start < self.window.start
            or (self.window.end is not None and self.pinned_start > self.window.end)
        ):
            raise ValueError("pinned_start lies outside the visit's window")
        return self

    def part_duration(self, part: int) -> float:
        if self.parts is not None:
            duration = self.parts[part].duration
            if duration is not None:
                return float(duration)
        return float(self.duration)

    def part_skills(self, part: int) -> list[str]:
        extra = self.parts[part].skills if self.parts is not None else []
        return list(dict.fromkeys([*self.skills, *extra]))


def _keep_arrays(value: object, handler):
    """Let a numpy matrix through as a read-only float array.

    A 5,000-location matrix is 25 million numbers: as Python lists it is slow to build
    and several times heavier, so road matrices stay arrays. Lists are still accepted
    (and kept) as JSON gives them.
    """
    if isinstance(value, np.ndarray):
        array = np.asarray(value, dtype=np.float64).view()
        if array.ndim != 2:
            raise ValueError(f"must be a matrix (2 dimensions), got an array of shape {array.shape}")
        array.flags.writeable = False  # the caller's own array stays writable; this view does not
        return array
    return handler(value)


def _lists_for_json(value: object, handler):
    return handler(value.tolist() if isinstance(value, np.ndarray) else value)


if TYPE_CHECKING:  # what a matrix holds; pydantic gets the list schema below, arrays pass by _keep_arrays
    MinutesMatrix = list[list[float]] | np.ndarray
else:
    MinutesMatrix = Annotated[list[list[float]], WrapValidator(_keep_arrays), WrapSerializer(_lists_for_json)]
"""Travel minutes as nested lists or a 2-d numpy array; always written as nested lists."""


class TravelMatrix(_Model):
    """Travel minutes between locations for one mode; ``minutes[i][j]`` goes from
    ``Problem.locations[i]`` to ``Problem.locations[j]`` (asymmetric allowed).

    ``minutes`` may be a numpy array (road matrices are); ``estimated`` marks times
    guessed from coordinates rather than taken from roads or the input.
    """

    mode: TravelMode
    minutes: MinutesMatrix
    estimated: bool = False

    def __eq__(self, other: object) -> bool:
        # pydantic's field-by-field comparison cannot compare a numpy array with a list
        if not isinstance(other, TravelMatrix):
            return NotImplemented
        return (self.mode, self.estimated) == (other.mode, other.estimated) and np.array_equal(
            np.asarray(self.minutes, dtype=float), np.asarray(other.minutes, dtype=float)
        )


class TravelEstimate(_Model):
    """How travel is estimated from coordinates when a mode has no matrix.

    Straight-line (great-circle) distance times ``detour_factor`` at a door-to-door
    average speed per mode. Planar x/y coordinates (benchmark data) are already minutes
    and ignore these settings.
    """

    detour_factor: float = Field(
        default=1.3, ge=1.0, le=5.0, description="road over straight-line distance (1.3 suits mixed town and country)"
    )
    drive_kmh: float = Field(default=30.0, gt=0, le=130, description="average driving speed, door to door, km/h")
    walk_kmh: float = Field(default=4.8, gt=0, le=10, description="average walking pace, km/h")

    def speed_kmh(self, mode: TravelMode) -> float:
        return self.drive_kmh if mode == TravelMode.drive else self.walk_kmh


class ObjectiveWeights(_Model):
    """Weights of the plan cost, term by term (the README's Objective section has the table).

    Defaults are lexicographic in spirit: an uncovered mandatory visit costs more than
    any realistic amount of lateness, lateness more than travel, travel more than the
    soft wishes (preferences, continuity) and fairness (overtime). Waiting between visits
    (an unpaid gap) costs a twentieth of travel: on a council day that takes out 29% of the
    gaps with travel, lateness and continuity about as they were (``benchmarks/RESULTS.md``,
    "Carers' waiting as a cost").
    """

    unassigned_mandatory: float = Field(default=10_000.0, ge=0, description="per mandatory visit left unassigned")
    optional_value: float = Field(
        default=1.0, ge=0, description="multiplier of an optional visit's value when not done"
    )
    lateness: float = Field(
        default=20.0, ge=0, description="per minute a carer starts after the target window (each carer counts)"
    )
    max_lateness: float = Field(
        default=0.0, ge=0, description="per minute of the largest lateness of any carer's start"
    )
    earliness: float = Field(default=2.0, ge=0, description="per minute a carer starts before the target window")
    travel: float = Field(default=1.0, ge=0, description="per minute of travel, home legs included")
    gender_preference: float = Field(default=15.0, ge=0, description="per carer of the client's non-preferred gender")
    non_preferred_carer: float = Field(
        default=10.0, ge=0, description="per carer not in a client's non-empty preferred list"
    )
    continuity: float = Field(
        default=10.0, ge=0, description="per carer who has never visited a client with a non-empty history"
    )
    overtime: float = Field(default=1.0, ge=0, description="per minute worked beyond contracted minutes")
    waiting: float = Field(
        default=0.05,
        ge=0,
        description="per minute a carer waits between two visits of one shift (an unpaid gap: not visiting, "
        "travelling or on a break)",
    )
    max_waiting: float = Field(default=0.0, ge=0, description="per minute of the longest single wait of any carer")
    past_shift_end: float = Field(
        default=1.0,
        ge=0,
        description="per minute a carer finishes after a shift's end, where the shift allows it (`latest_end`)",
    )

    @classmethod
    def hhcrsp(cls) -> ObjectiveWeights:
        """The published HHCRSP objective: (travel + total tardiness + max tardiness) / 3."""
        third = 1.0 / 3.0
        return cls(
            lateness=third,
            max_lateness=third,
            travel=third,
            earliness=0.0,
            gender_preference=0.0,
            non_preferred_carer=0.0,
            continuity=0.0,
            overtime=0.0,
            waiting=0.0,
            max_waiting=0.0,
            past_shift_end=0.0,
        )


class Problem(_Model):
    """One day of care to plan: who can work, who needs care, and how far apart they are."""

    name: Text = "care-day"
    day: dt.date | None = None
    skills: list[Id] = Field(default_factory=list)
    locations: list[Location]
    carers: list[Carer]
    clients: list[Client]
    visits: list[Visit]
    travel: list[TravelMatrix] = Field(default_factory=list)
    travel_estimate: TravelEstimate = Field(default_factory=TravelEstimate)
    weights: ObjectiveWeights = Field(default_factory=ObjectiveWeights)

    @model_validator(mode="after")
    def _references(self) -> Problem:
        _check_unique("locations", [x.id for x in self.locations])
        _check_unique("carers", [x.id for x in self.carers])
        _check_unique("clients", [x.id for x in self.clients])
        _check_unique("visits", [x.id for x in self.visits])
        _check_unique("skills", self.skills)
        locations = {x.id for x in self.locations}
        carers = {x.id for x in self.carers}
        clients = {x.id for x in self.clients}
        skills = set(self.skills)

        def unknown_skills(where: str, names: list[str]) -> None:
            for name in names:
                if name not in skills:
                    raise ValueError(f"{where}: unknown skill {name!r} (declare it in Problem.skills)")

        for i, carer in enumerate(self.carers):
            for field in ("start_location", "end_location"):
                ref = getattr(carer, field)
                if ref is not None and ref not in locations:
                    raise ValueError(f"carers[{i}].{field}: unknown location {ref!r}")
            unknown_skills(f"carers[{i}].skills", carer.skills)
        for i, client in enumerate(self.clients):
            if client.location not in locations:
                raise ValueError(f"clients[{i}].location: unknown location {client.location!r}")
            for field in ("preferred_carers", "banned_carers", "historical_carers"):
                for ref in getattr(client, field):
                    if ref not in carers:
                        raise ValueError(f"clients[{i}].{field}: unknown carer {ref!r}")
        for i, visit in enumerate(self.visits):
            if visit.client not in clients:
                raise ValueError(f"visits[{i}].client: unknown client {visit.client!r}")
            unknown_skills(f"visits[{i}].skills", visit.skills)
            for p, part in enumerate(visit.parts or []):
                unknown_skills(f"visits[{i}].parts[{p}].skills", part.skills)
            for ref in visit.pinned_carers:
                if ref not in carers:
                    raise ValueError(f"visits[{i}].pinned_carers: unknown carer {ref!r}")
        n = len(self.locations)
        modes = set()
        for i, matrix in enumerate(self.travel):
            if matrix.mode in modes:
                raise ValueError(f"travel[{i}].mode: a second matrix for mode {matrix.mode.value!r}")
            modes.add(matrix.mode)
            _check_travel_minutes(f"travel[{i}].minutes", matrix.minutes, n)
        by_coordinates: bool | None = None  # asked once: a council day has thousands of places
        for i, carer in enumerate(self.carers):
            if carer.travel_mode not in modes:
                if by_coordinates is None:
                    by_coordinates = all(x.has_coordinates() for x in self.locations)
                if not by_coordinates:
                    raise ValueError(
                        f"carers[{i}].travel_mode: no travel matrix for mode {carer.travel_mode.value!r} "
                        "and not every location has coordinates to estimate one"
                    )
        return self

    # Convenience look-ups (not part of the schema).
    def location_index(self) -> dict[str, int]:
        return {x.id: i for i, x in enumerate(self.locations)}

    def carer(self, carer_id: str) -> Carer:
        return next(c for c in self.carers if c.id == carer_id)

    def client(self, client_id: str) -> Client:
        return next(c for c in self.clients if c.id == client_id)

    def visit(self, visit_id: str) -> Visit:
        return next(v for v in self.visits if v.id == visit_id)


def _check_travel_minutes(field: str, minutes: list[list[float]] | np.ndarray, n: int) -> None:
    """An ``n x n`` matrix of times >= 0 (no NaN); checked in one pass for big arrays."""
    if isinstance(minutes, np.ndarray):
        if minutes.shape != (n, n):
            raise ValueError(
                f"{field}: must be {n} x {n} (one row and column per location), "
                f"got {minutes.shape[0]} x {minutes.shape[1]}"
            )
    elif len(minutes) != n or any(len(row) != n for row in minutes):
        raise ValueError(
            f"{field}: must be {n} x {n} (one row and column per location), "
            f"got {len(minutes)} rows of lengths {sorted({len(row) for row in minutes})}"
        )
    array = np.asarray(minutes, dtype=float).reshape(n, n)
    if array.size == 0 or array.min() >= 0:  # the usual case in one pass (a NaN makes min NaN)
        return
    bad = np.argwhere(~(array >= 0))
    if len(bad):
        r, c = (int(x) for x in bad[0])
        raise ValueError(f"{field}[{r}][{c}]: travel time {float(minutes[r][c])} must be >= 0")


def _check_unique(field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise ValueError(f"{field}[{i}].id: duplicate id {x!r}")
        seen.add(x)
