"""How a batch of events changes the day's problem, atomically.

``apply_events`` applies an ``EventBatch`` (``events``) to a day and its published plan:
either every event applies or an ``InputError`` names the first bad one and nothing
changes. The result (``DayUpdate.problem``) is the day as it now stands: the events
written into the problem, and what has already happened (visits done or under way at
``now``) pinned to its carers and start, so that any later solve keeps it. Replanning
(``replan``) starts from there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError

from ..domain import Carer, Location, Problem, Shift, TimeWindow, TravelMatrix, Visit, VisitPart
from ..errors import InputError, describe_validation_error
from ..plan import Plan, format_minutes
from ..travel import travel_matrix
from ..travel.estimate import grow_travel
from .events import (
    CarerAbsent,
    CarerAdded,
    CarerDelayed,
    CheckIn,
    CheckOut,
    ClientAdded,
    EventBatch,
    VisitAdded,
    VisitCancelled,
    VisitChanged,
    VisitNotStarted,
    VisitOverran,
)

__all__ = [
    "END_OF_DAY",
    "DayUpdate",
    "Refusal",
    "apply_events",
    "apply_in_order",
    "done_alone",
    "refused_event",
    "refused_events",
]

T = TypeVar("T")

END_OF_DAY = 48 * 60.0
"""Later than any shift: an absence without an end lasts the rest of the day."""


@dataclass
class DayUpdate:
    """A batch applied to a day and its plan: what replanning starts from."""

    problem: Problem
    """The day as it now stands: events applied, what happened pinned (carer and start)."""
    now: float
    placed: dict[tuple[str, int], tuple[str, float]]
    """(visit, part) -> (carer, planned start) from the old plan, for visits still in the day."""
    happened: dict[tuple[str, int], tuple[str, float, float]]
    """(visit, part) -> (carer, start, end) of carer-visits done or under way at ``now``."""
    named_carers: set[str]
    """Carers the events are about (their own visits may move freely)."""
    unavailable_carers: set[str]
    """Carers away for some of the day (absent or delayed): their visits are not frozen."""
    renewed: set[str]
    """Visits to place afresh: added or changed."""
    cancelled: list[str]
    cancelled_carers: dict[str, dict[str, float]]
    """Cancelled visit -> {carer: planned start} of the carers who had it."""
    dropped_carers: dict[str, dict[str, float]]
    """Visit -> {carer: planned start} of a second carer no longer on a visit done alone."""
    missed: dict[str, str]
    """Visits whose time has passed without them happening, with why."""
    estimated_locations: list[str]
    """New places whose travel times were estimated from coordinates."""
    warnings: list[str] = field(default_factory=list)
    events: int = 0

    def record_done_alone(self, visit_id: str, part: int) -> None:
        """The double-handed visit whose ``part`` happened is now single-handed, done by
        that carer alone (the other part can no longer be done with them)."""
        carer, start, end = self.happened.pop((visit_id, part))
        visits = [done_alone(v, part, carer, start, end) if v.id == visit_id else v for v in self.problem.visits]
        self.problem = self.problem.model_copy(update={"visits": visits})
        self.happened[visit_id, 0] = (carer, start, end)
        other = self.placed.pop((visit_id, 1 - part), None)
        self.placed.pop((visit_id, part), None)
        self.placed[visit_id, 0] = (carer, start)
        if other is not None and other[0] != carer:
            self.dropped_carers.setdefault(visit_id, {})[other[0]] = other[1]
        self.warnings.append(
            f"visit {visit_id}: {carer} started it and no second carer can join now; it is "
            "recorded as done by them alone (send help if it needs two)"
        )


# --- applying a batch --------------------------------------------------------------------


def apply_events(problem: Problem, plan: Plan, batch: EventBatch | list, now: float | str | None = None) -> DayUpdate:
    """Apply ``batch`` to ``problem`` and its published ``plan`` at ``now`` (the batch's
    own ``now`` unless given here). Raises ``InputError`` naming the event and field at
    fault; the inputs are never modified."""
    edit, count = _applied(problem, plan, batch, now)
    return edit.finish(count)


def _applied(problem: Problem, plan: Plan, batch: EventBatch | list, now: float | str | None) -> tuple[_DayEdit, int]:
    """The day with the batch's events applied, not yet written out as a Problem."""
    if not isinstance(batch, EventBatch):
        try:
            batch = EventBatch(events=batch) if isinstance(batch, list) else EventBatch.model_validate(batch)
        except ValidationError as error:
            raise describe_validation_error(error) from None
    if now is None:
        now = batch.now
    if now is None:
        raise InputError("now", "no time of day to apply the events at: give now (HH:MM)")
    if isinstance(now, str):
        now = _parse_now(now)
    edit = _DayEdit(problem, plan, float(now))
    for i, event in enumerate(batch.events):
        where = f"events[{i}]"
        try:
            _APPLY[type(event)](edit, event)
        except _Refused as refused:
            raise InputError(f"{where}.{refused.field}" if refused.field else where, refused.reason) from None
    return edit, len(batch.events)


@dataclass(frozen=True)
class Refusal:
    """An event the day refused: its index among the events given, and the error (its
    field names that index)."""

    index: int
    error: InputError


def refused_event(error: InputError) -> int | None:
    """The index of the event ``error`` is about (``events[3].at``, or ``events.3.type``
    from the schema), or None when it is about the day as a whole."""
    found = re.match(r"events(?:\[(\d+)\]|\.(\d+))", error.field or "")
    if found is None:
        return None
    return int(found.group(1) or found.group(2))


def apply_in_order(
    problem: Problem, plan: Plan, events: list, now: float | str | None
) -> tuple[DayUpdate, list[Refusal]]:
    """Apply ``events`` in order, leaving out each one the day refuses (with why, in the
    order of the events), so that a refused event never makes a later one fail. Raises
    ``InputError`` only for what is not about one event (the day or plan itself)."""
    return _in_order(events, lambda kept: apply_events(problem, plan, kept, now))


def refused_events(problem: Problem, plan: Plan, events: list, now: float | str | None) -> list[Refusal]:
    """Which of ``events`` the day refuses, as ``apply_in_order`` would find them, without
    writing the day out (no new problem, no travel times): the check made as events are
    reported, a few milliseconds on a council day."""
    return _in_order(events, lambda kept: _applied(problem, plan, kept, now))[1]


def _in_order(events: list, apply: Callable[[list], T]) -> tuple[T, list[Refusal]]:
    kept = list(range(len(events)))
    refused: list[Refusal] = []
    while True:
        try:
            return apply([events[i] for i in kept]), sorted(refused, key=lambda r: r.index)
        except InputError as error:
            at = refused_event(error)
            if at is None or at >= len(kept):
                raise
            index = kept.pop(at)
            field = re.sub(r"^events(?:\[\d+\]|\.\d+)", f"events[{index}]", error.field)
            refused.append(Refusal(index, InputError(field, error.reason, error.source)))


def _parse_now(text: str) -> float:
    try:
        return float(TimeWindow(start=text).start)
    except ValidationError:
        raise InputError("now", f"{text!r} is not a time of day (HH:MM or minutes)") from None


class _Refused(Exception):
    def __init__(self, field: str, reason: str):
        self.field = field
        self.reason = reason


class _DayEdit:
    """The day while a batch is applied to it: plain dicts, turned back into a Problem
    (and validated as a whole) at the end."""

    def __init__(self, problem: Problem, plan: Plan, now: float):
        self.problem = problem
        self.now = now
        self.locations = list(problem.locations)
        self.location_ids = {x.id for x in problem.locations}
        self.new_locations: list[Location] = []
        self.carers = {c.id: c for c in problem.carers}
        self.clients = {c.id: c for c in problem.clients}
        self.visits = {v.id: v for v in problem.visits}
        self.placed: dict[tuple[str, int], tuple[str, float]] = {}
        for route in plan.routes:
            if route.carer not in self.carers:
                raise InputError("plan.routes", f"carer {route.carer!r} is not in the problem")
            for pv in route.visits:
                if pv.visit not in self.visits:
                    raise InputError("plan.routes", f"visit {pv.visit!r} of carer {route.carer} is not in the problem")
                self.placed[pv.visit, pv.part] = (route.carer, float(pv.start))
        self.unavailable: dict[str, list[tuple[float, float]]] = {}
        self.started: dict[tuple[str, str], float] = {}  # (visit, carer) -> actual start
        self.ended: dict[tuple[str, str], float] = {}  # (visit, carer) -> actual end
        self.not_started: set[tuple[str, str]] = set()  # (visit, carer) reported unstarted
        self.named: set[str] = set()
        self.renewed: set[str] = set()
        self.cancelled: list[str] = []
        self.cancelled_carers: dict[str, dict[str, float]] = {}
        self.dropped_carers: dict[str, dict[str, float]] = {}
        self.warnings: list[str] = []
        self._matrices: dict = {}
        self._index = problem.location_index()

    # -- look-ups that refuse unknown ids ----------------------------------------------
    def carer(self, carer_id: str, field: str = "carer") -> Carer:
        if carer_id not in self.carers:
            raise _Refused(field, f"unknown carer {carer_id!r}")
        return self.carers[carer_id]

    def visit(self, visit_id: str, field: str = "visit") -> Visit:
        if visit_id not in self.visits:
            gone = " (cancelled earlier in this batch)" if visit_id in self.cancelled else ""
            raise _Refused(field, f"unknown visit {visit_id!r}{gone}")
        return self.visits[visit_id]

    def carers_on(self, visit_id: str) -> dict[str, int]:
        """carer -> part, for the carers the plan (or a check-in) puts on a visit."""
        return {self.placed[visit_id, part][0]: part for part in (0, 1) if (visit_id, part) in self.placed}

    def started_at(self, visit_id: str, carer: str) -> float | None:
        """When the carer started the visit: checked in, or planned before now (unless
        reported not started)."""
        if (visit_id, carer) in self.started:
            return self.started[visit_id, carer]
        if (visit_id, carer) in self.not_started:
            return None
        part = self.carers_on(visit_id).get(carer)
        if part is None:
            return None
        start = self.placed[visit_id, part][1]
        if start < self.now - 1e-9 and not self.away(carer, start):
            return start
        return None

    def away(self, carer: str, at: float) -> bool:
        return any(a <= at < b for a, b in self.unavailable.get(carer, []))

    def add_location(self, location: Location, field: str) -> None:
        if location.id in self.location_ids:
            raise _Refused(field, f"location {location.id!r} already exists")
        self.location_ids.add(location.id)
        self.locations.append(location)
        self.new_locations.append(location)

    # -- the end: back to a Problem ------------------------------------------------------
    def finish(self, n_events: int) -> DayUpdate:
        happened = self._happened()
        self._cut_shifts(happened)
        missed = self._missed(happened)
        happened = self._pin(happened)
        travel, estimated = self._travel()
        data = {name: getattr(self.problem, name) for name in type(self.problem).model_fields}
        data.update(
            locations=self.locations,
            carers=list(self.carers.values()),
            clients=list(self.clients.values()),
            visits=list(self.visits.values()),
            travel=travel,
        )
        try:
            problem = Problem(**data)
        except ValidationError as error:
            raise describe_validation_error(error) from None
        placed = {key: value for key, value in self.placed.items() if key[0] in self.visits}
        return DayUpdate(
            problem=problem,
            now=self.now,
            placed=placed,
            happened=happened,
            named_carers=self.named,
            unavailable_carers=set(self.unavailable),
            renewed=self.renewed & set(self.visits),
            cancelled=self.cancelled,
            cancelled_carers=self.cancelled_carers,
            dropped_carers=self.dropped_carers,
            missed=missed,
            estimated_locations=estimated,
            warnings=self.warnings,
            events=n_events,
        )

    def _happened(self) -> dict[tuple[str, int], tuple[str, float, float]]:
        """Carer-visits done or under way: checked in, or planned to start before now by
        a carer who was not away then.

        What was only planned is taken to have started once it could: a visit checked in
        late or overrunning holds up the carer's next one until they can have got there,
        and the two carers of a double-handed visit start together (or with its gap), so
        one held up holds up the other. What could only start at ``now`` or later has not
        started yet."""
        bounds: dict[tuple[str, int], float] = {}  # (visit, part) -> earliest start, from a partner
        for _ in range(10):
            happened = self._in_turn(bounds)
            if not self._keep_in_step(happened, bounds):
                break
        return happened

    def _in_turn(self, bounds: dict[tuple[str, int], float]) -> dict[tuple[str, int], tuple[str, float, float]]:
        """Each carer's visits in order, planned starts pushed by what came before."""
        happened = {}
        by_carer: dict[str, list[tuple[float, str, int]]] = {}
        for (visit_id, part), (carer, planned) in self.placed.items():
            if visit_id in self.visits and visit_id not in self.renewed:
                by_carer.setdefault(carer, []).append((self.started.get((visit_id, carer), planned), visit_id, part))
        for carer, stops in by_carer.items():
            ready, previous = -float("inf"), None
            for _, visit_id, part in sorted(stops):
                start = self.started_at(visit_id, carer)
                if start is None:
                    continue
                if (visit_id, carer) not in self.started:
                    if previous is not None:
                        start = max(start, ready + self._travel_between(carer, previous, visit_id))
                    start = max(start, bounds.get((visit_id, part), start))
                    if start >= self.now:
                        continue
                end = self.ended.get((visit_id, carer), start + self.visits[visit_id].part_duration(part))
                happened[visit_id, part] = (carer, start, end)
                ready, previous = end, visit_id
        return happened

    def _travel_between(self, carer_id: str, from_visit: str, to_visit: str) -> float:
        """Travel minutes for a carer between two visits' clients (0 for a new place)."""
        carer = self.carers[carer_id]
        a = self._index.get(self.clients[self.visits[from_visit].client].location)
        b = self._index.get(self.clients[self.visits[to_visit].client].location)
        if a is None or b is None:
            return 0.0
        return float(self._matrix(carer.travel_mode)[a, b])

    def _matrix(self, mode) -> np.ndarray:
        if mode not in self._matrices:
            self._matrices[mode] = travel_matrix(self.problem, mode)
        return self._matrices[mode]

    def _keep_in_step(self, happened, bounds: dict[tuple[str, int], float]) -> bool:
        """Raise the earliest start of a double visit's planned part that is out of step
        with its partner (simultaneous: together; sequential: within the gap); returns
        whether any bound rose. A recorded check-in is never moved."""
        raised = False
        for (visit_id, part), (carer, start, _) in happened.items():
            visit = self.visits[visit_id]
            other = happened.get((visit_id, 1 - part))
            if visit.carers_needed != 2 or other is None or (visit_id, carer) in self.started:
                continue
            gap = visit.synchronisation
            assert gap is not None  # a double-handed visit always has one (Visit fills it in)
            # the earliest this part may start given the other's start
            need = other[1] + gap.min_gap if part == 1 else other[1] - gap.max_gap
            if need > start + 1e-9 and need > bounds.get((visit_id, part), -float("inf")) + 1e-9:
                bounds[visit_id, part] = need
                raised = True
        return raised

    def _cut_shifts(self, happened) -> None:
        """Take each carer's unavailable time out of their shifts, and stretch a shift
        over a visit that happened outside it.

        Unavailable time starts once a visit under way is done (and, for the rest of the
        day, once they are home from it), and ends in time for the journey to a visit they
        did do after it."""
        busy: dict[str, list[tuple[float, float, float, float]]] = {}
        for (visit_id, _), (carer, start, end) in happened.items():
            busy.setdefault(carer, []).append(
                (start, end, self._home_leg(carer, visit_id), self._leg_from_home(carer, visit_id))
            )
        for carer_id in set(self.unavailable) | set(busy):
            carer = self.carers[carer_id]
            shifts = [(s.start, s.end) for s in carer.shifts]
            for a, b in self.unavailable.get(carer_id, []):
                for start, end, home, _ in busy.get(carer_id, []):
                    if start < a < end or a <= start < b:  # under way when they became unavailable
                        a = max(a, end + (home if b >= END_OF_DAY else 0.0))
                for start, _, _, leg in busy.get(carer_id, []):
                    if start >= a:  # they set off for a later visit in time
                        b = min(b, max(a, start - leg))
                if b > a:
                    shifts = _subtract(shifts, a, b)
            for start, end, home, _ in busy.get(carer_id, []):
                inside = [i for i, (s, e) in enumerate(shifts) if s - 1e-9 <= start and end <= e + 1e-9]
                if not inside:
                    self.warnings.append(
                        f"carer {carer_id} worked {format_minutes(start)}-{format_minutes(end)} "
                        "outside their shift; the shift is stretched to cover it"
                    )
                    shifts = _stretch(shifts, start, end + home)
                elif end + home > shifts[inside[0]][1] + 1e-9:
                    shifts = _stretch(shifts, start, end + home)  # they can still get home
            if shifts != [(s.start, s.end) for s in carer.shifts]:
                self.carers[carer_id] = carer.model_copy(update={"shifts": _with_soft_ends(carer.shifts, shifts)})

    def _home_leg(self, carer_id: str, visit_id: str) -> float:
        """Travel minutes from a visit's client to the carer's home (end location)."""
        return self._home_trip(carer_id, visit_id, outward=False)

    def _leg_from_home(self, carer_id: str, visit_id: str) -> float:
        """Travel minutes from the carer's home (start location) to a visit's client."""
        return self._home_trip(carer_id, visit_id, outward=True)

    def _home_trip(self, carer_id: str, visit_id: str, outward: bool) -> float:
        carer = self.carers[carer_id]
        here = self._index.get(self.clients[self.visits[visit_id].client].location)
        home = self._index.get(carer.start_location if outward else carer.home_end)
        if here is None or home is None:
            return 0.0  # a place added by this batch: its travel is estimated later
        minutes = self._matrix(carer.travel_mode)
        return float(minutes[home, here] if outward else minutes[here, home])

    def _missed(self, happened) -> dict[str, str]:
        """Visits whose hard window closed before now without them starting."""
        missed = {}
        started = {v for v, _ in happened}
        for visit in self.visits.values():
            if visit.id in started or visit.window.end is None or visit.window.end >= self.now - 1e-9:
                continue
            missed[visit.id] = (
                f"missed: its latest start ({format_minutes(visit.window.end)}) passed before now "
                f"({format_minutes(self.now)}) and it had not started"
            )
        return missed

    def _pin(self, happened) -> dict[tuple[str, int], tuple[str, float, float]]:
        """Write what happened into the visits: who did them, when, for how long.

        Returns ``happened`` again, re-keyed where a double visit became single."""
        by_visit: dict[str, dict[int, tuple[str, float, float]]] = {}
        for (visit_id, part), fact in happened.items():
            by_visit.setdefault(visit_id, {})[part] = fact
        out = {}
        for visit_id, parts in by_visit.items():
            visit = self.visits[visit_id]
            if visit.carers_needed == 2 and len(parts) == 1:
                ((part, (carer, start, end)),) = parts.items()
                other = self.placed.get((visit_id, 1 - part))
                if other is None or other[1] < self.now:
                    # The other carer never came and the time has passed: it was done single-handed.
                    self.visits[visit_id] = done_alone(visit, part, carer, start, end)
                    self.warnings.append(
                        f"visit {visit_id} was done by {carer} alone (the second carer did not "
                        "come); it is now single-handed"
                    )
                    self._renumber(visit_id, part)
                    out[visit_id, 0] = parts[part]
                    continue
            simultaneous = (
                visit.carers_needed == 2
                and visit.synchronisation is not None
                and visit.synchronisation.kind == "simultaneous"
            )
            starts = [parts[p][1] for p in sorted(parts)]
            start = max(starts) if simultaneous else starts[0]
            if simultaneous and max(starts) - min(starts) > 1.0:
                self.warnings.append(
                    f"the carers of visit {visit_id} started {format_minutes(min(starts))} and "
                    f"{format_minutes(max(starts))}; it counts from {format_minutes(start)}"
                )
            update: dict = {"pinned_carers": [parts[p][0] for p in sorted(parts)]}
            if visit.carers_needed == 1 or (simultaneous and len(parts) == 2):
                update.update(_pinned_at(visit, start))
            else:  # a part that started outside the window: the window is stretched over it
                update.update(_widened(visit.window, [parts[p][1] for p in parts]))
            lengths = [
                max(0.0, parts[p][2] - (start if simultaneous else parts[p][1]))
                if p in parts
                else visit.part_duration(p)
                for p in range(visit.carers_needed)
            ]
            if any(abs(lengths[p] - visit.part_duration(p)) > 1e-9 for p in range(visit.carers_needed)):
                skills = [visit.parts[p].skills if visit.parts else [] for p in range(visit.carers_needed)]
                if len(set(lengths)) == 1:
                    update["duration"] = lengths[0]
                    update["parts"] = [VisitPart(skills=x) for x in skills] if visit.parts else None
                else:
                    update["parts"] = [VisitPart(skills=x, duration=d) for x, d in zip(skills, lengths, strict=True)]
            # Built to satisfy Visit's own rules (pinned start inside the window, parts
            # matching carers_needed), so no second validation is needed.
            self.visits[visit_id] = visit.model_copy(update=update)
            for p, (carer, own_start, end) in parts.items():
                out[visit_id, p] = (carer, start if simultaneous else own_start, end)
        return out

    def _renumber(self, visit_id: str, part: int) -> None:
        """A double visit became single: its remaining part is part 0."""
        carer, start = self.placed.pop((visit_id, part))
        other = self.placed.pop((visit_id, 1 - part), None)
        if other is not None and other[0] != carer:
            self.dropped_carers.setdefault(visit_id, {})[other[0]] = other[1]
        self.placed[visit_id, 0] = (carer, start)

    def _travel(self) -> tuple[list[TravelMatrix], list[str]]:
        """The travel matrices, grown by estimated rows for new places."""
        return grow_travel(self.problem, self.locations), [x.id for x in self.new_locations]


def done_alone(visit: Visit, part: int, carer: str, start: float, end: float) -> Visit:
    """A double-handed visit one carer did (or is doing) alone: now single-handed,
    pinned to that carer at their start, as long as their part took."""
    parts = None if visit.parts is None else [VisitPart(skills=visit.parts[part].skills)]
    return visit.model_copy(
        update={
            "carers_needed": 1,
            "synchronisation": None,
            "parts": parts,
            "duration": max(0.0, end - start),
            "pinned_carers": [carer],
            **_pinned_at(visit, start),
        }
    )


def _pinned_at(visit: Visit, start: float) -> dict:
    """The changes that pin a visit's start, widening its window if it started outside."""
    return {"pinned_start": start, **_widened(visit.window, [start])}


def _widened(window: TimeWindow, starts: list[float]) -> dict:
    """``{"window": ...}`` covering ``starts`` too, if any lies outside it (else nothing)."""
    low, high = min(starts), max(starts)
    if low >= window.start and (window.end is None or high <= window.end):
        return {}
    return {
        "window": TimeWindow(start=min(window.start, low), end=None if window.end is None else max(window.end, high))
    }


def _with_soft_ends(before: list[Shift], after: list[tuple[float, float]]) -> list[Shift]:
    """The shifts ``after`` an absence or a stretch, each keeping the soft end
    (``latest_end``) of the shift it still ends with: a shift cut short by an absence ends
    hard where the absence begins."""
    soft = {s.end: s.latest_end for s in before if s.latest_end is not None}
    shifts = []
    for start, end in after:
        latest = soft.get(end)
        shifts.append(Shift(start=start, end=end, latest_end=latest if latest is not None and latest > end else None))
    return shifts


def _subtract(shifts: list[tuple[float, float]], a: float, b: float) -> list[tuple[float, float]]:
    out = []
    for s, e in shifts:
        if b <= s or a >= e:
            out.append((s, e))
            continue
        if s < a:
            out.append((s, a))
        if b < e:
            out.append((b, e))
    return [(s, e) for s, e in out if e - s > 1e-9]


def _stretch(shifts: list[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    """Widen the nearest shift to cover [start, end] and merge any it now overlaps."""
    if not shifts:
        return [(start, end)]
    nearest = min(range(len(shifts)), key=lambda i: max(shifts[i][0] - end, start - shifts[i][1], 0.0))
    s, e = shifts[nearest]
    widened = (min(s, start), max(e, end))
    merged: list[tuple[float, float]] = []
    for s, e in sorted([*shifts[:nearest], widened, *shifts[nearest + 1 :]]):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


# --- each event --------------------------------------------------------------------------


def _absent(day: _DayEdit, event: CarerAbsent) -> None:
    day.carer(event.carer)
    start = day.now if event.start is None else float(event.start)
    end = END_OF_DAY if event.end is None else float(event.end)
    if end <= start:
        raise _Refused("end", f"{format_minutes(end)} is not after the absence starts ({format_minutes(start)})")
    day.unavailable.setdefault(event.carer, []).append((start, end))
    day.named.add(event.carer)


def _delayed(day: _DayEdit, event: CarerDelayed) -> None:
    day.carer(event.carer)
    if event.until is not None:
        until = float(event.until)
        if until <= day.now:
            raise _Refused("until", f"{format_minutes(until)} is not after now ({format_minutes(day.now)})")
    else:
        assert event.minutes is not None  # CarerDelayed takes exactly one of the two
        upcoming = [
            start
            for (v, _), (carer, start) in day.placed.items()
            if carer == event.carer and start >= day.now - 1e-9 and (v, carer) not in day.started
        ]
        until = (min(upcoming) if upcoming else day.now) + float(event.minutes)
    day.unavailable.setdefault(event.carer, []).append((day.now, until))
    day.named.add(event.carer)


def _carer_added(day: _DayEdit, event: CarerAdded) -> None:
    if event.carer.id in day.carers:
        raise _Refused("carer.id", f"carer {event.carer.id!r} already exists")
    for i, location in enumerate(event.locations):
        day.add_location(location, f"locations[{i}].id")
    for name in ("start_location", "end_location"):
        ref = getattr(event.carer, name)
        if ref is not None and ref not in day.location_ids:
            raise _Refused(f"carer.{name}", f"unknown location {ref!r} (add it in locations)")
    day.carers[event.carer.id] = event.carer
    day.named.add(event.carer.id)


def _client_added(day: _DayEdit, event: ClientAdded) -> None:
    if event.client.id in day.clients:
        raise _Refused("client.id", f"client {event.client.id!r} already exists")
    if event.location is not None:
        day.add_location(event.location, "location.id")
        if event.client.location != event.location.id:
            raise _Refused(
                "client.location", f"is {event.client.location!r} but the new location is {event.location.id!r}"
            )
    elif event.client.location not in day.location_ids:
        raise _Refused("client.location", f"unknown location {event.client.location!r} (give it in location)")
    day.clients[event.client.id] = event.client
    for i, visit in enumerate(event.visits):
        if visit.client != event.client.id:
            raise _Refused(f"visits[{i}].client", f"is {visit.client!r}, not the new client {event.client.id!r}")
        _add_visit(day, visit, f"visits[{i}]")


def _visit_added(day: _DayEdit, event: VisitAdded) -> None:
    if event.visit.client not in day.clients:
        raise _Refused("visit.client", f"unknown client {event.visit.client!r}")
    _add_visit(day, event.visit, "visit")


def _add_visit(day: _DayEdit, visit: Visit, field: str) -> None:
    if visit.id in day.visits or visit.id in day.cancelled:
        raise _Refused(f"{field}.id", f"visit {visit.id!r} already exists")
    if visit.window.end is not None and visit.window.end < day.now:
        raise _Refused(
            f"{field}.window.end",
            f"{format_minutes(visit.window.end)} has already passed (now is {format_minutes(day.now)})",
        )
    day.visits[visit.id] = visit
    day.renewed.add(visit.id)


def _refuse_if_started(day: _DayEdit, visit_id: str, what: str) -> None:
    for carer in day.carers_on(visit_id):
        start = day.started_at(visit_id, carer)
        if start is not None:
            raise _Refused(
                "visit", f"visit {visit_id} started at {format_minutes(start)} ({carer}); it can no longer be {what}"
            )


def _cancelled(day: _DayEdit, event: VisitCancelled) -> None:
    day.visit(event.visit)
    _refuse_if_started(day, event.visit, "cancelled")
    del day.visits[event.visit]
    day.renewed.discard(event.visit)
    day.cancelled.append(event.visit)
    for key in [k for k in day.placed if k[0] == event.visit]:
        carer, start = day.placed.pop(key)
        day.cancelled_carers.setdefault(event.visit, {})[carer] = start


def _changed(day: _DayEdit, event: VisitChanged) -> None:
    visit = day.visit(event.visit)
    _refuse_if_started(day, event.visit, "changed")
    changes = event.changes()
    if not changes:
        raise _Refused(
            "",
            "changes nothing: give at least one of window, target, duration, skills, carers_needed, tasks, mandatory",
        )
    data = {**visit.model_dump(), **changes}
    window = TimeWindow.model_validate(data["window"])
    pinned = visit.pinned_start
    if pinned is not None and (pinned < window.start or (window.end is not None and pinned > window.end)):
        data["pinned_start"] = None  # re-timed: the old pinned start no longer holds
        day.warnings.append(
            f"visit {event.visit} was pinned to start {format_minutes(pinned)}; its new window releases that pin"
        )
    if changes.get("carers_needed") == 1:
        data.update(synchronisation=None, parts=None, pinned_carers=visit.pinned_carers[:1])
    elif changes.get("carers_needed") == 2 and visit.carers_needed == 1:
        data.update(parts=None)
    try:
        day.visits[event.visit] = Visit.model_validate(data)
    except ValidationError as error:
        refused = describe_validation_error(error)
        raise _Refused(refused.field, refused.reason) from None
    window = day.visits[event.visit].window
    if window.end is not None and window.end < day.now:
        raise _Refused(
            "window.end", f"{format_minutes(window.end)} has already passed (now is {format_minutes(day.now)})"
        )
    day.renewed.add(event.visit)


def _on_visit(day: _DayEdit, visit_id: str, carer: str, at: float, what: str) -> None:
    day.visit(visit_id)
    day.carer(carer)
    if at > day.now + 1e-9:
        raise _Refused("at", f"{what} at {format_minutes(at)} is after now ({format_minutes(day.now)})")
    day.named.add(carer)


def _check_in(day: _DayEdit, event: CheckIn) -> None:
    _on_visit(day, event.visit, event.carer, float(event.at), "check-in")
    visit = day.visits[event.visit]
    on = day.carers_on(event.visit)
    if event.carer not in on:
        # Someone else's visit: the carer takes the part of a carer who has not started it.
        free = [part for carer, part in on.items() if (event.visit, carer) not in day.started]
        taken = set(on.values())
        free += [p for p in range(visit.carers_needed) if p not in taken]
        if not free:
            raise _Refused("carer", f"visit {event.visit} already has its carers checked in")
        part = min(free)
        day.placed[event.visit, part] = (event.carer, float(event.at))
    day.started[event.visit, event.carer] = float(event.at)


def _check_out(day: _DayEdit, event: CheckOut) -> None:
    _on_visit(day, event.visit, event.carer, float(event.at), "check-out")
    start = day.started_at(event.visit, event.carer)
    if start is None:
        raise _Refused(
            "carer", f"{event.carer} has not started visit {event.visit} (no check-in and it is not planned before now)"
        )
    if float(event.at) < start:
        raise _Refused("at", f"{format_minutes(event.at)} is before the visit started ({format_minutes(start)})")
    day.started.setdefault((event.visit, event.carer), start)
    day.ended[event.visit, event.carer] = float(event.at)


def _not_started(day: _DayEdit, event: VisitNotStarted) -> None:
    day.visit(event.visit)
    day.carer(event.carer)
    if event.carer not in day.carers_on(event.visit):
        raise _Refused("carer", f"{event.carer} is not on visit {event.visit}")
    if (event.visit, event.carer) in day.started:
        raise _Refused("visit", f"{event.carer} checked in to visit {event.visit} already")
    day.not_started.add((event.visit, event.carer))
    day.named.add(event.carer)


def _overran(day: _DayEdit, event: VisitOverran) -> None:
    day.visit(event.visit)
    carers = [event.carer] if event.carer is not None else list(day.carers_on(event.visit))
    if event.carer is not None:
        day.carer(event.carer)
    started = {c: start for c in carers if (start := day.started_at(event.visit, c)) is not None}
    if not carers or len(started) < len(set(carers)):
        raise _Refused("visit", f"visit {event.visit} has not started, so it cannot have overrun")
    for carer, start in started.items():
        if float(event.end) < start:
            raise _Refused("end", f"{format_minutes(event.end)} is before the visit started ({format_minutes(start)})")
        day.started.setdefault((event.visit, carer), start)
        day.ended[event.visit, carer] = float(event.end)
        day.named.add(carer)


_APPLY: dict[type, Callable[[_DayEdit, Any], None]] = {
    CarerAbsent: _absent,
    CarerDelayed: _delayed,
    CarerAdded: _carer_added,
    ClientAdded: _client_added,
    VisitAdded: _visit_added,
    VisitCancelled: _cancelled,
    VisitChanged: _changed,
    VisitOverran: _overran,
    VisitNotStarted: _not_started,
    CheckIn: _check_in,
    CheckOut: _check_out,
}
