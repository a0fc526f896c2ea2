"""The independent plan validator: feasibility and cost recomputed from the problem alone.

``validate(problem, plan)`` trusts nothing the plan says about itself except which carer
does which visit, in which order, starting when, and where the breaks are. Visit ends,
travel, working time, the cost and the KPIs are all recomputed here from the problem, so
a plan from any source (the solver, a hand edit, a benchmark solution file) can be
checked the same way.

This module deliberately shares no code with the solver: it imports only the problem and
plan schemas and the travel matrices. It favours plain, readable checks over speed.

Hard constraints broken by the plan are reported as :class:`Violation` objects, each with
a short ``code`` and a message a coordinator can read. The codes are:

==================  ==========================================================================
``unknown_carer``   a route names a carer the problem does not have
``duplicate``       a second route for a carer, a (visit, part) planned twice, a visit listed
                    twice as unassigned, or a visit both routed and listed as unassigned
``unknown_visit``   a planned or unassigned visit the problem does not have (or a part the
                    visit does not have)
``client_mismatch`` a planned visit names another client than the problem's visit
``partial_visit``   only some of the carers a visit needs are planned
``missing_visit``   a visit is neither routed nor listed as unassigned
``distinct_carers`` both parts of a double-handed visit are done by the same carer
``skill``           the carer lacks a skill the visit (part) needs
``gender``          the client requires a carer of another gender
``banned``          the carer is banned by the client
``pinned_carer``    a carer the visit is pinned to does not do it
``pinned_start``    the visit does not start at its pinned time
``end_time``        the plan's end of a visit is not its start plus its duration
``window``          the visit starts outside its hard start window
``shift``           a visit lies outside the carer's shifts, or the carer would have to leave
                    home before the shift starts or get home after it ends
``order``           a visit starts before the previous visit of the route has ended
``travel``          not enough time between two visits for the travel (and breaks) between
``sync``            the two carers of a double-handed visit do not start as synchronised
``break``           a misplaced break, or a long day without the break its rule asks for
``max_working``     the carer works (visits + travel) more than their maximum
==================  ==========================================================================
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from .domain import Carer, Problem, Shift, TravelMode, Visit
from .plan import CostBreakdown, KPIs, Plan, PlannedBreak, PlannedVisit, Route, format_minutes
from .travel import estimated_modes, travel_matrix

__all__ = ["ValidationReport", "Violation", "validate"]


class Violation(BaseModel):
    """One broken hard constraint, in words a coordinator understands."""

    code: str
    message: str
    carer: str | None = None
    visit: str | None = None


class ValidationReport(BaseModel):
    """Whether a plan is feasible, why not, and what it costs (recomputed)."""

    valid: bool
    violations: list[Violation]
    cost: CostBreakdown
    kpis: KPIs


def validate(problem: Problem, plan: Plan, tolerance: float = 1e-3) -> ValidationReport:
    """Check every hard constraint of ``plan`` against ``problem`` and recompute its cost.

    Times may be off by up to ``tolerance`` minutes before a check fails. The cost and the
    KPIs are computed even for an invalid plan, skipping references the problem does not
    know.
    """
    return _Validation(problem, plan, tolerance).run()


# ----------------------------------------------------------------------------------------
# Formatting helpers for messages


def _num(value: float) -> str:
    """A number without needless decimals: 30 -> "30", 314.1514 -> "314.151"."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _clock(minutes: float) -> str:
    """A time of day; fractional benchmark times also show the exact minute count."""
    text = format_minutes(minutes)
    if abs(minutes - round(minutes)) > 1e-6:
        text += f" (minute {_num(minutes)})"
    return text


def _span(minutes: float) -> str:
    return f"{_num(minutes)} min"


def _gender(gender: object) -> str:
    """A gender's name (also when a caller assigned a plain string to a model field)."""
    return str(getattr(gender, "value", gender))


def _shift_text(shift: Shift) -> str:
    soft = f" (finishing by {_clock(shift.latest_end)} at the latest)" if shift.latest_end is not None else ""
    return f"{_clock(shift.start)}-{_clock(shift.end)}{soft}"


# ----------------------------------------------------------------------------------------
# The validation itself


@dataclass
class _Stop:
    """One planned visit part on a route, with its end recomputed from the problem."""

    planned: PlannedVisit
    visit: Visit
    part: int
    carer: Carer
    start: float
    end: float
    location: int  # index into problem.locations


@dataclass
class _CheckedRoute:
    route: Route
    carer: Carer
    stops: list[_Stop]


class _Validation:
    def __init__(self, problem: Problem, plan: Plan, tolerance: float):
        self.problem = problem
        self.plan = plan
        self.tol = tolerance
        self.violations: list[Violation] = []

        self.visits = {v.id: v for v in problem.visits}
        self.clients = {c.id: c for c in problem.clients}
        self.carers = {c.id: c for c in problem.carers}
        self.location_index = problem.location_index()
        self._matrices: dict[TravelMode, np.ndarray] = {}

        self.routes: list[_CheckedRoute] = []
        # The first stop planned for each (visit id, part); repeats are violations.
        self.placed: dict[tuple[str, int], _Stop] = {}

    # -- small helpers ---------------------------------------------------------------

    def report(self, code: str, message: str, carer: str | None = None, visit: str | None = None) -> None:
        self.violations.append(Violation(code=code, message=message, carer=carer, visit=visit))

    def travel(self, carer: Carer, origin: int, destination: int) -> float:
        """Travel minutes for this carer's mode from one location index to another."""
        mode = carer.travel_mode
        if mode not in self._matrices:
            self._matrices[mode] = travel_matrix(self.problem, mode)
        return float(self._matrices[mode][origin, destination])

    def home_start(self, carer: Carer) -> int:
        return self.location_index[carer.start_location]

    def home_end(self, carer: Carer) -> int:
        return self.location_index[carer.home_end]

    def shift_containing(self, carer: Carer, start: float, end: float) -> Shift | None:
        for shift in carer.shifts:
            if start >= shift.start - self.tol and end <= shift.hard_end + self.tol:
                return shift
        return None

    def route_travel(self, checked: _CheckedRoute) -> float:
        """All travel of a route: home to the first visit, between visits, last visit home."""
        stops, carer = checked.stops, checked.carer
        if not stops:
            return 0.0
        total = self.travel(carer, self.home_start(carer), stops[0].location)
        for before, after in itertools.pairwise(stops):
            total += self.travel(carer, before.location, after.location)
        total += self.travel(carer, stops[-1].location, self.home_end(carer))
        return total

    def route_working(self, checked: _CheckedRoute) -> float:
        """Working minutes: visit durations plus all travel (waiting and breaks excluded)."""
        return sum(stop.end - stop.start for stop in checked.stops) + self.route_travel(checked)

    # -- the run -----------------------------------------------------------------------

    def run(self) -> ValidationReport:
        self.read_routes()
        self.check_coverage()
        for checked in self.routes:
            for stop in checked.stops:
                self.check_eligibility(stop)
                self.check_times(stop)
            self.check_sequence(checked)
            self.check_breaks(checked)
        self.check_working_time()
        self.check_double_visits()
        self.check_pinned_carers()
        cost, kpis = self.compute_cost()
        return ValidationReport(valid=not self.violations, violations=self.violations, cost=cost, kpis=kpis)

    # -- 1, 2: references and structure -------------------------------------------------

    def read_routes(self) -> None:
        """Resolve each route's carer and visits; report unknown or repeated references."""
        seen_carers: set[str] = set()
        for route in self.plan.routes:
            carer = self.carers.get(route.carer)
            if carer is None:
                self.report(
                    "unknown_carer",
                    f"a route is planned for carer {route.carer}, who is not in the problem "
                    f"(its {len(route.visits)} visit(s) are ignored)",
                    carer=route.carer,
                )
                continue
            if carer.id in seen_carers:
                self.report("duplicate", f"carer {carer.id} has more than one route", carer=carer.id)
            seen_carers.add(carer.id)

            stops: list[_Stop] = []
            for planned in route.visits:
                stop = self.read_planned_visit(carer, planned)
                if stop is not None:
                    stops.append(stop)
            self.routes.append(_CheckedRoute(route=route, carer=carer, stops=stops))

    def read_planned_visit(self, carer: Carer, planned: PlannedVisit) -> _Stop | None:
        visit = self.visits.get(planned.visit)
        if visit is None:
            self.report(
                "unknown_visit",
                f"carer {carer.id}'s route has visit {planned.visit}, which is not in the problem",
                carer=carer.id,
                visit=planned.visit,
            )
            return None
        if planned.part >= visit.carers_needed:
            self.report(
                "unknown_visit",
                f"carer {carer.id}'s route has part {planned.part} of visit {visit.id}, "
                f"but that visit needs only {visit.carers_needed} carer(s) (parts start at 0)",
                carer=carer.id,
                visit=visit.id,
            )
            return None
        if planned.client != visit.client:
            self.report(
                "client_mismatch",
                f"visit {visit.id} is for client {visit.client}, but carer {carer.id}'s route "
                f"names client {planned.client}",
                carer=carer.id,
                visit=visit.id,
            )

        duration = visit.part_duration(planned.part)
        end = planned.start + duration
        if abs(planned.end - end) > self.tol:
            self.report(
                "end_time",
                f"visit {visit.id} (carer {carer.id}) starts {_clock(planned.start)} and lasts "
                f"{_span(duration)}, so it ends {_clock(end)}, not {_clock(planned.end)} as planned",
                carer=carer.id,
                visit=visit.id,
            )

        stop = _Stop(
            planned=planned,
            visit=visit,
            part=planned.part,
            carer=carer,
            start=planned.start,
            end=end,
            location=self.location_index[self.clients[visit.client].location],
        )
        key = (visit.id, planned.part)
        if key in self.placed:
            first = self.placed[key]
            self.report(
                "duplicate",
                f"{self.part_name(visit, planned.part)} is planned twice (carers {first.carer.id} and {carer.id})",
                carer=carer.id,
                visit=visit.id,
            )
        else:
            self.placed[key] = stop
        return stop

    @staticmethod
    def part_name(visit: Visit, part: int) -> str:
        if visit.carers_needed == 1:
            return f"visit {visit.id}"
        return f"part {part} of visit {visit.id}"

    def routed_parts(self, visit: Visit) -> set[int]:
        return {part for part in range(visit.carers_needed) if (visit.id, part) in self.placed}

    def is_fully_routed(self, visit: Visit) -> bool:
        return len(self.routed_parts(visit)) == visit.carers_needed

    def check_coverage(self) -> None:
        """Every visit is either fully routed or listed as unassigned, never both."""
        listed: set[str] = set()
        for entry in self.plan.unassigned:
            if entry.visit not in self.visits:
                self.report(
                    "unknown_visit",
                    f"visit {entry.visit} is listed as unassigned but is not in the problem",
                    visit=entry.visit,
                )
            elif entry.visit in listed:
                self.report("duplicate", f"visit {entry.visit} is listed as unassigned twice", visit=entry.visit)
            listed.add(entry.visit)

        for visit in self.problem.visits:
            routed = len(self.routed_parts(visit))
            if 0 < routed < visit.carers_needed:
                self.report(
                    "partial_visit",
                    f"visit {visit.id} needs {visit.carers_needed} carers but only {routed} is planned",
                    visit=visit.id,
                )
            if routed > 0 and visit.id in listed:
                self.report(
                    "duplicate",
                    f"visit {visit.id} is both planned on a route and listed as unassigned",
                    visit=visit.id,
                )
            if routed == 0 and visit.id not in listed:
                self.report(
                    "missing_visit",
                    f"visit {visit.id} is neither planned on a route nor listed as unassigned",
                    visit=visit.id,
                )

    # -- 4: who may do a visit -----------------------------------------------------------

    def check_eligibility(self, stop: _Stop) -> None:
        carer, visit = stop.carer, stop.visit
        client = self.clients[visit.client]
        for skill in visit.part_skills(stop.part):
            if skill not in carer.skills:
                self.report(
                    "skill",
                    f"carer {carer.id} lacks skill '{skill}' needed by visit {visit.id}",
                    carer=carer.id,
                    visit=visit.id,
                )
        if client.gender_requirement is not None and carer.gender != client.gender_requirement:
            has = _gender(carer.gender) if carer.gender is not None else "not recorded"
            self.report(
                "gender",
                f"client {client.id} (visit {visit.id}) requires a {_gender(client.gender_requirement)} carer, "
                f"but carer {carer.id}'s gender is {has}",
                carer=carer.id,
                visit=visit.id,
            )
        if carer.id in client.banned_carers:
            self.report(
                "banned",
                f"carer {carer.id} is banned by client {client.id} but is planned for visit {visit.id}",
                carer=carer.id,
                visit=visit.id,
            )
        if visit.pinned_start is not None and abs(stop.start - visit.pinned_start) > self.tol:
            self.report(
                "pinned_start",
                f"visit {visit.id} is pinned to start {_clock(visit.pinned_start)}, "
                f"but carer {carer.id} starts it {_clock(stop.start)}",
                carer=carer.id,
                visit=visit.id,
            )

    def check_pinned_carers(self) -> None:
        """A visit pinned to carers must be done by them (checked once fully routed)."""
        for visit in self.problem.visits:
            if not visit.pinned_carers or not self.is_fully_routed(visit):
                continue
            doing = {self.placed[(visit.id, part)].carer.id for part in range(visit.carers_needed)}
            for pinned in visit.pinned_carers:
                if pinned not in doing:
                    self.report(
                        "pinned_carer",
                        f"visit {visit.id} is pinned to carer {pinned}, but is planned for {', '.join(sorted(doing))}",
                        carer=pinned,
                        visit=visit.id,
                    )

    # -- 5, 6: start window and shifts -----------------------------------------------

    def check_times(self, stop: _Stop) -> None:
        carer, visit = stop.carer, stop.visit
        window = visit.window
        if stop.start < window.start - self.tol:
            self.report(
                "window",
                f"visit {visit.id} starts {_clock(stop.start)}, before its earliest start {_clock(window.start)}",
                carer=carer.id,
                visit=visit.id,
            )
        if window.end is not None and stop.start > window.end + self.tol:
            self.report(
                "window",
                f"visit {visit.id} starts {_clock(stop.start)}, after its latest start {_clock(window.end)}",
                carer=carer.id,
                visit=visit.id,
            )
        if self.shift_containing(carer, stop.start, stop.end) is None:
            shifts = ", ".join(_shift_text(s) for s in carer.shifts)
            self.report(
                "shift",
                f"visit {visit.id} ({_clock(stop.start)}-{_clock(stop.end)}) is outside carer {carer.id}'s "
                f"shift(s) {shifts}",
                carer=carer.id,
                visit=visit.id,
            )

    # -- 7: order and travel ------------------------------------------------------------

    def breaks_between(self, checked: _CheckedRoute, earliest: float, latest: float) -> list[PlannedBreak]:
        """The route's breaks lying inside the gap [earliest, latest] (with tolerance)."""
        return [
            b
            for b in checked.route.breaks
            if b.start >= earliest - self.tol and b.end <= latest + self.tol and b.end >= b.start
        ]

    def check_sequence(self, checked: _CheckedRoute) -> None:
        carer, stops = checked.carer, checked.stops
        if not stops:
            return

        first = stops[0]
        leave = first.start - self.travel(carer, self.home_start(carer), first.location)
        shift = self.shift_containing(carer, first.start, first.end)
        if shift is not None and leave < shift.start - self.tol:
            self.report(
                "shift",
                f"carer {carer.id} would have to leave home at {_clock(leave)} to reach visit {first.visit.id} "
                f"by {_clock(first.start)}, before their shift starts at {_clock(shift.start)}",
                carer=carer.id,
                visit=first.visit.id,
            )

        for before, after in itertools.pairwise(stops):
            if after.start < before.end - self.tol:
                self.report(
                    "order",
                    f"carer {carer.id}'s visit {after.visit.id} starts {_clock(after.start)}, before the "
                    f"previous visit {before.visit.id} on the route ends {_clock(before.end)}",
                    carer=carer.id,
                    visit=after.visit.id,
                )
                continue
            travel = self.travel(carer, before.location, after.location)
            breaks = sum(b.end - b.start for b in self.breaks_between(checked, before.end, after.start))
            arrival = before.end + travel + breaks
            if after.start < arrival - self.tol:
                rest = f" and {_span(breaks)} of breaks" if breaks > 0 else ""
                self.report(
                    "travel",
                    f"carer {carer.id} cannot reach visit {after.visit.id} by {_clock(after.start)}: visit "
                    f"{before.visit.id} ends {_clock(before.end)}, then {_span(travel)} of travel{rest} "
                    f"means arriving {_clock(arrival)} at the earliest",
                    carer=carer.id,
                    visit=after.visit.id,
                )

        last = stops[-1]
        home = last.end + self.travel(carer, last.location, self.home_end(carer))
        shift = self.shift_containing(carer, last.start, last.end)
        if shift is not None and home > shift.hard_end + self.tol:
            self.report(
                "shift",
                f"carer {carer.id} gets home at {_clock(home)} after visit {last.visit.id}, "
                f"after their shift ends at {_clock(shift.hard_end)}",
                carer=carer.id,
                visit=last.visit.id,
            )

    # -- 8: double-handed visits -------------------------------------------------------

    def check_double_visits(self) -> None:
        for visit in self.problem.visits:
            if visit.carers_needed != 2 or not self.is_fully_routed(visit):
                continue
            first, second = self.placed[(visit.id, 0)], self.placed[(visit.id, 1)]
            if first.carer.id == second.carer.id:
                self.report(
                    "distinct_carers",
                    f"visit {visit.id} needs two different carers, but carer {first.carer.id} does both parts",
                    carer=first.carer.id,
                    visit=visit.id,
                )
            sync = visit.synchronisation
            gap = second.start - first.start
            if sync is None or sync.kind == "simultaneous":
                if abs(gap) > self.tol:
                    self.report(
                        "sync",
                        f"the two carers of visit {visit.id} must start together, but {first.carer.id} starts "
                        f"{_clock(first.start)} and {second.carer.id} starts {_clock(second.start)}",
                        visit=visit.id,
                    )
            elif gap < sync.min_gap - self.tol or gap > sync.max_gap + self.tol:
                self.report(
                    "sync",
                    f"the second carer of visit {visit.id} ({second.carer.id}, {_clock(second.start)}) must start "
                    f"{_span(sync.min_gap)} to {_span(sync.max_gap)} after the first ({first.carer.id}, "
                    f"{_clock(first.start)}), not {_span(gap)}",
                    visit=visit.id,
                )

    # -- 9: breaks -------------------------------------------------------------------------

    def check_breaks(self, checked: _CheckedRoute) -> None:
        carer, stops, breaks = checked.carer, checked.stops, checked.route.breaks
        for b in breaks:
            if b.end < b.start:
                self.report(
                    "break",
                    f"carer {carer.id} has a break ending {_clock(b.end)}, before it starts {_clock(b.start)}",
                    carer=carer.id,
                )
                continue
            in_a_gap = any(
                b.start >= before.end - self.tol and b.end <= after.start + self.tol
                for before, after in itertools.pairwise(stops)
            )
            if not in_a_gap:
                self.report(
                    "break",
                    f"carer {carer.id}'s break {_clock(b.start)}-{_clock(b.end)} is not between two of their "
                    "visits (it overlaps a visit, or comes before the first or after the last)",
                    carer=carer.id,
                )

        rule = carer.break_rule
        if rule is None or not stops:
            return
        leave = stops[0].start - self.travel(carer, self.home_start(carer), stops[0].location)
        home = stops[-1].end + self.travel(carer, stops[-1].location, self.home_end(carer))
        span = home - leave
        if span <= rule.after_minutes + self.tol:
            return
        for b in breaks:
            long_enough = b.end - b.start >= rule.duration - self.tol
            not_too_early = rule.earliest is None or b.start >= rule.earliest - self.tol
            not_too_late = rule.latest is None or b.start <= rule.latest + self.tol
            if long_enough and not_too_early and not_too_late:
                return
        when = ""
        if rule.earliest is not None or rule.latest is not None:
            low = _clock(rule.earliest) if rule.earliest is not None else "any time"
            high = _clock(rule.latest) if rule.latest is not None else "any time"
            when = f" starting between {low} and {high}"
        self.report(
            "break",
            f"carer {carer.id} is out for {_span(span)} ({_clock(leave)}-{_clock(home)}), more than "
            f"{_span(rule.after_minutes)}, but has no break of {_span(rule.duration)}{when}",
            carer=carer.id,
        )

    # -- 10: working time ------------------------------------------------------------------

    def working_minutes(self) -> dict[str, float]:
        """Working minutes per carer with a non-empty route (all their routes added up)."""
        working: dict[str, float] = {}
        for checked in self.routes:
            if checked.stops:
                working[checked.carer.id] = working.get(checked.carer.id, 0.0) + self.route_working(checked)
        return working

    def check_working_time(self) -> None:
        for carer_id, minutes in self.working_minutes().items():
            limit = self.carers[carer_id].max_working_minutes
            if limit is not None and minutes > limit + self.tol:
                self.report(
                    "max_working",
                    f"carer {carer_id} works {_span(minutes)} (visits and travel), more than their "
                    f"maximum of {_span(limit)}",
                    carer=carer_id,
                )

    # -- 11: waiting -----------------------------------------------------------------------

    def route_waits(self, checked: _CheckedRoute) -> list[float]:
        """The carer's waits on this route: between two visits of one shift, the minutes
        spent neither travelling nor on a break (unpaid gaps). None before the first visit
        (the carer leaves just in time) and none between shifts (a split shift sends the
        carer home)."""
        waits = []
        carer = checked.carer
        for before, after in itertools.pairwise(checked.stops):
            shift = self.shift_containing(carer, before.start, before.end)
            if shift is None or shift is not self.shift_containing(carer, after.start, after.end):
                continue
            travel = self.travel(carer, before.location, after.location)
            breaks = sum(b.end - b.start for b in self.breaks_between(checked, before.end, after.start))
            gap = after.start - before.end - travel - breaks
            if gap > self.tol:
                waits.append(gap)
        return waits

    def route_past_shift_end(self, checked: _CheckedRoute) -> float:
        """Minutes the carer finishes after soft shift ends: for each shift with a
        ``latest_end``, how long after its ``end`` its last visit ends (and, after the day's
        last visit, the carer gets home)."""
        carer, stops = checked.carer, checked.stops
        past = 0.0
        for i, stop in enumerate(stops):
            shift = self.shift_containing(carer, stop.start, stop.end)
            after = stops[i + 1] if i + 1 < len(stops) else None
            if shift is None or shift.latest_end is None:
                continue
            if after is not None and self.shift_containing(carer, after.start, after.end) is shift:
                continue  # not the shift's last visit
            finish = stop.end + (self.travel(carer, stop.location, self.home_end(carer)) if after is None else 0.0)
            past += max(0.0, finish - shift.end)
        return past

    # -- cost and KPIs ---------------------------------------------------------------------

    def compute_cost(self) -> tuple[CostBreakdown, KPIs]:
        problem, weights = self.problem, self.problem.weights

        travel_minutes = sum(self.route_travel(checked) for checked in self.routes)

        total_lateness = 0.0
        max_lateness = 0.0
        total_earliness = 0.0
        gender_misses = 0
        non_preferred = 0
        history_parts = 0
        history_kept = 0
        for checked in self.routes:
            carer = checked.carer
            for stop in checked.stops:
                visit = stop.visit
                client = self.clients[visit.client]
                if visit.target is not None:
                    if visit.target.end is not None:
                        late = max(0.0, stop.start - visit.target.end)
                        total_lateness += late
                        max_lateness = max(max_lateness, late)
                    total_earliness += max(0.0, visit.target.start - stop.start)
                if client.gender_preference is not None and carer.gender != client.gender_preference:
                    gender_misses += 1
                if client.preferred_carers and carer.id not in client.preferred_carers:
                    non_preferred += 1
                if client.historical_carers:
                    history_parts += 1
                    if carer.id in client.historical_carers:
                        history_kept += 1

        assigned = [v for v in problem.visits if self.is_fully_routed(v)]
        not_done = [v for v in problem.visits if not self.is_fully_routed(v)]
        mandatory_missed = sum(1 for v in not_done if v.mandatory)
        optional_value_missed = sum(v.value for v in not_done if not v.mandatory)

        working = self.working_minutes()
        overtime_minutes = 0.0
        for carer_id, minutes in working.items():
            contracted = self.carers[carer_id].contracted_minutes
            if contracted is not None:
                overtime_minutes += max(0.0, minutes - contracted)

        waits = {checked.carer.id: self.route_waits(checked) for checked in self.routes if checked.stops}
        past_shift_end = sum(self.route_past_shift_end(checked) for checked in self.routes)
        waiting_minutes = sum(sum(w) for w in waits.values())
        longest_wait = max((max(w) for w in waits.values() if w), default=0.0)

        cost = CostBreakdown(
            unassigned=weights.unassigned_mandatory * mandatory_missed + weights.optional_value * optional_value_missed,
            lateness=weights.lateness * total_lateness,
            max_lateness=weights.max_lateness * max_lateness,
            earliness=weights.earliness * total_earliness,
            travel=weights.travel * travel_minutes,
            preferences=weights.gender_preference * gender_misses + weights.non_preferred_carer * non_preferred,
            continuity=weights.continuity * (history_parts - history_kept),
            overtime=weights.overtime * overtime_minutes,
            waiting=weights.waiting * waiting_minutes,
            max_waiting=weights.max_waiting * longest_wait,
            past_shift_end=weights.past_shift_end * past_shift_end,
        )
        cost.total = (
            cost.unassigned
            + cost.lateness
            + cost.max_lateness
            + cost.earliness
            + cost.travel
            + cost.preferences
            + cost.continuity
            + cost.overtime
            + cost.waiting
            + cost.max_waiting
            + cost.past_shift_end
        )

        kpis = KPIs(
            visits_total=len(problem.visits),
            visits_assigned=len(assigned),
            mandatory_unassigned=mandatory_missed,
            coverage=len(assigned) / len(problem.visits) if problem.visits else 1.0,
            travel_minutes=travel_minutes,
            total_lateness=total_lateness,
            max_lateness=max_lateness,
            continuity=history_kept / history_parts if history_parts else 1.0,
            overtime_minutes=overtime_minutes,
            working_minutes=working,
            waiting_minutes=waiting_minutes,
            max_wait_minutes=longest_wait,
            waiting_by_carer={carer: sum(w) for carer, w in waits.items() if w},
            past_shift_end_minutes=past_shift_end,
            travel_estimated=bool(estimated_modes(problem)),
        )
        return cost, kpis
