"""Planning a week: days solved in order, each bounded by the days already planned.

A day's solver sees one day; the rules of a week (``week_rules``) and continuity of care
span days. ``plan_week`` solves the days in date order and, before each, adjusts a copy
of its problem by what the days already planned leave:

- hours: each carer's ``max_working_minutes`` is at most what the weekly limit leaves
  after the other planned days of that Monday-Sunday week (no shifts when nothing does);
- rest: shifts are clipped so the carer cannot leave home before the previous working
  day's getting home plus the rest, nor (a later day already planned) get home after the
  next day's leaving home less the rest, in real time across clock changes;
- fair hours: ``contracted_minutes`` is what the weekly contract still needs, spread over
  the carer's remaining working days of the week, so the overtime weight leans the day
  towards carers who are short of their contract;
- continuity: each client's ``historical_carers`` are the carers of recent weeks (from
  the ``CareHistory``) and of this week's earlier days, which the week's continuity
  weight (``rules.continuity_weight``, 100 by default: a new carer costs as much as 100
  minutes of travel) then prefers. Once a client has seen ``rules.continuity_cap``
  distinct carers this week, only those are free; any other costs the weight, and a
  note names each client the plan takes past the cap. With ``rules.hard_cap`` the
  others are banned instead, unless that would leave a mandatory visit of theirs undone
  (too few of their carers work at its time, or those who do are busy): then the ban is
  lifted for that client, the visit placed, and a note says so. On a council week
  (``benchmarks/week.py``) bans left far more calls undone than the weight for little
  gain in continuity, hence the default.

``weekly=False`` solves each day alone as given: the baseline the weekly terms are
measured against (the days at once, as tasks on a Ray cluster, when ``params`` name
one). ``replan_day`` replans one date between the others (of a week just planned, or of
one kept and read back with ``planned_week``), which stay as they were unless a weekly
rule forces a change on one of them, which is then replanned too and said. Every week's
answer carries ``validate_week``'s report.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..day.recommend import Recommender
from ..domain import Carer, Client, Problem, Shift, Visit
from ..errors import InputError
from ..params import SolveParams, StopCriterion
from ..plan import Plan, format_minutes, natural_key
from ..search.solver import solve
from .history import CareHistory
from .local_time import instant, minutes_between
from .model import WEEKDAYS, Roster, RosterCarer
from .week_rules import WeekReport, WeekViolation, hours_text, monday_of, route_times, validate_week
from .week_rules import weekly_limit_minutes as limit_of

__all__ = ["CarerHours", "WeekFigures", "WeekPlan", "plan_week", "planned_week", "replan_day"]

DEFAULT_SECONDS_PER_DAY = 10.0
"""The time limit of each day's solve when none is given."""

CAP_MOVES = 5
"""Visits the cap left undone that are placed one by one, the rest of the plan kept;
beyond that many the day is solved again with the cap lifted for their clients."""

DayStop = float | StopCriterion | Sequence[StopCriterion]
"""When a day's solve stops: seconds, or the solver's stop criteria."""

WEEKLY_CODES = ("rest", "weekly_hours")
"""The rules ``validate_week`` checks across days (the others are a day's own)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CarerHours(_Model):
    """A carer's week against their contract: positive ``difference_minutes`` is overtime."""

    carer: str
    week: dt.date = Field(description="the week's Monday")
    worked_minutes: float = Field(description="visits and travel, days before the range in the week included")
    contracted_minutes: float
    difference_minutes: float = Field(description="worked less contracted")


class WeekFigures(_Model):
    """What a week's plan is like, for comparing planning with and without the weekly terms."""

    carers_per_client: dict[str, int] = Field(description="distinct carers each client sees over the planned days")
    clients_over_cap: list[str] = Field(description="clients who see more carers than the roster's continuity cap")
    hours: list[CarerHours] = Field(description="carers with a contract who work some day of the range, per week")
    spread_std_minutes: float = Field(description="standard deviation of worked less contracted over those carers")
    spread_range_minutes: float = Field(description="largest less smallest worked less contracted")
    seconds: float = Field(description="wall-clock seconds planning the week (or replanning its day) took")


@dataclass
class WeekPlan:
    """A range of days as planned, what planning them did and why, and the week's report."""

    days: dict[dt.date, Problem]
    """The days as given (replanning a date starts again from these)."""
    problems: dict[dt.date, Problem]
    """The days as planned: the given days bounded by the week (each plan is valid for these)."""
    plans: dict[dt.date, Plan]
    report: WeekReport
    """``validate_week`` over the planned and the fixed days."""
    figures: WeekFigures
    fixed: dict[dt.date, tuple[Problem, Plan]] = field(default_factory=dict)
    """Days planned before, which count for rest and hours and are never changed."""
    worked_before: dict[tuple[str, dt.date], float] = field(default_factory=dict)
    notes_by_date: dict[dt.date, list[str]] = field(default_factory=dict)
    weekly: bool = True

    @property
    def notes(self) -> list[str]:
        """What planning changed or could not keep, in human sentences, by date."""
        return [note for date in sorted(self.notes_by_date) for note in self.notes_by_date[date]]


def plan_week(
    roster: Roster,
    days: Mapping[dt.date, Problem],
    history: CareHistory | None = None,
    time_limit_per_day: float = DEFAULT_SECONDS_PER_DAY,
    weekly: bool = True,
    params: SolveParams | None = None,
    fixed: Mapping[dt.date, tuple[Problem, Plan]] | None = None,
    *,
    worked_before: Mapping[tuple[str, dt.date], float] | None = None,
    seed: int = 0,
    stop: StopCriterion | Sequence[StopCriterion] | None = None,
    on_day_planned: Callable[[dt.date, int, int], None] | None = None,
) -> WeekPlan:
    """Plan ``days`` (any range of dates) in date order, each bounded by the days planned
    before it and by ``fixed`` days (planned earlier, e.g. before the range), and by
    ``worked_before`` (working minutes of days not given, by carer and week's Monday).

    Each day is solved for ``time_limit_per_day`` seconds on one core, or until ``stop``
    (the solver's criteria) when given: ``[MaxRuntime(60), MaxIterations(0)]`` keeps
    each day's first plan, the quickest valid week. After each day,
    ``on_day_planned(date, days done, days in all)`` is called, if given: a service
    reports progress there, and stops the week by raising. Raises ``InputError`` when a
    date is both to plan and fixed, or a day's carer is not in the roster.

    With ``weekly=False`` and ``params.parallel.ray_address`` set, the days (independent
    then) are solved at once as tasks on that Ray cluster, ``on_day_planned`` called in
    the order they finish; the weekly mode stays in order, each day needing the last.
    """
    started = time.monotonic()
    fixed = dict(fixed or {})
    both = sorted(set(days) & set(fixed))
    if both:
        raise InputError("fixed", f"{both[0]} is both a day to plan and a fixed day")
    _check_carers(roster, days)
    day_stop: DayStop = time_limit_per_day if stop is None else stop
    worked = dict(worked_before or {})
    ledger = _Ledger(worked)
    for date in sorted(fixed):
        ledger.add(date, *fixed[date])
    problems: dict[dt.date, Problem] = {}
    plans: dict[dt.date, Plan] = {}
    notes: dict[dt.date, list[str]] = {}
    if not weekly and params is not None and params.parallel.ray_address is not None:
        for date in sorted(days):
            problems[date] = days[date]
        plans = _fan_out(problems, day_stop, params, seed, on_day_planned)
        return _week_plan(roster, dict(days), problems, plans, fixed, worked, notes, weekly, started)
    to_plan = {d: {c.id for c in p.carers if c.shifts} for d, p in days.items()}  # who works the days ahead
    for date in sorted(days):
        del to_plan[date]
        if weekly:
            problems[date], plans[date], notes[date] = _plan_day(
                roster, ledger, date, days[date], history, to_plan, day_stop, params, seed
            )
        else:
            problems[date], notes[date] = days[date], []
            plans[date] = _solve(days[date], day_stop, params, seed)
        ledger.add(date, problems[date], plans[date])
        if on_day_planned is not None:
            on_day_planned(date, len(plans), len(days))
    return _week_plan(roster, dict(days), problems, plans, fixed, worked, notes, weekly, started)


def planned_week(
    roster: Roster,
    days: Mapping[dt.date, Problem],
    plans: Mapping[dt.date, tuple[Problem, Plan]],
    fixed: Mapping[dt.date, tuple[Problem, Plan]] | None = None,
    *,
    worked_before: Mapping[tuple[str, dt.date], float] | None = None,
) -> WeekPlan:
    """A week planned before (its plans kept somewhere, as a service keeps published
    ones), with its report and figures, for ``replan_day``: ``days`` are the days as they
    are now, ``plans`` each date's plan with the problem it was made for."""
    missing = sorted(set(plans) - set(days))
    if missing:
        raise InputError("days", f"{missing[0]} has a plan but no day")
    _check_carers(roster, days)
    return _week_plan(
        roster,
        {d: days[d] for d in plans},
        {d: problem for d, (problem, _) in plans.items()},
        {d: plan for d, (_, plan) in plans.items()},
        dict(fixed or {}),
        dict(worked_before or {}),
        {},
        True,
        time.monotonic(),
    )


def replan_day(
    roster: Roster,
    week: WeekPlan,
    date: dt.date,
    problem: Problem,
    history: CareHistory | None = None,
    time_limit: float = DEFAULT_SECONDS_PER_DAY,
    params: SolveParams | None = None,
    *,
    seed: int = 0,
) -> WeekPlan:
    """Replan ``date`` of ``week`` as ``problem`` now says, between the other days.

    The other days' plans stay as they are, and bound this one (rest on both sides, the
    hours left in the week). If a weekly rule is still broken on another day (the roster
    may now give a carer fewer hours), that day is replanned too, with a note naming the
    day, the carer and the rule; fixed days never change.
    """
    started = time.monotonic()
    if date not in week.plans:
        raise InputError("date", f"{date} is not a planned day of the week (the days are {_dates(week.plans)})")
    _check_carers(roster, {date: problem})
    days = {**week.days, date: problem}
    problems, plans = dict(week.problems), dict(week.plans)
    notes = {d: list(n) for d, n in week.notes_by_date.items()}
    ledger = _Ledger(week.worked_before)
    for d, (fixed_problem, fixed_plan) in week.fixed.items():
        ledger.add(d, fixed_problem, fixed_plan)
    for d in plans:
        if d != date:
            ledger.add(d, problems[d], plans[d])
    problems[date], plans[date], notes[date] = _plan_day(
        roster, ledger, date, problem, history, {}, time_limit, params, seed
    )
    ledger.add(date, problems[date], plans[date])
    replanned = {date}
    while True:
        report = validate_week(roster, *_all_days(week.fixed, problems, plans), worked_before=week.worked_before)
        found = _day_to_replan(report.violations, plans, replanned)
        if found is None:
            break
        other, violation = found
        ledger.remove(other)
        problems[other], plans[other], notes[other] = _plan_day(
            roster, ledger, other, days[other], history, {}, time_limit, params, seed
        )
        ledger.add(other, problems[other], plans[other])
        rule = "the rest between days" if violation.code == "rest" else "the weekly hours limit"
        notes[other].append(f"{other} replanned too, for {rule}: {violation.message}")
        replanned.add(other)
    return _week_plan(
        roster, days, problems, plans, week.fixed, week.worked_before, notes, week.weekly, started, report
    )


# --- what the days already planned leave ------------------------------------------------


@dataclass
class _DayFacts:
    times: dict[str, tuple[float, float, float]]
    """carer -> (leave home, get home, working minutes), for carers with visits."""
    carers_of: dict[str, list[str]]
    """client -> carers who visit them, first seen first."""


class _Ledger:
    """The days planned so far, asked what they leave a day: per carer the rest and hours,
    per client the carers they saw."""

    def __init__(self, worked_before: Mapping[tuple[str, dt.date], float]):
        self.worked_before = worked_before
        self.days: dict[dt.date, _DayFacts] = {}

    def add(self, date: dt.date, problem: Problem, plan: Plan) -> None:
        carers_of: dict[str, list[str]] = {}
        for route in plan.routes:
            for planned in route.visits:
                seen = carers_of.setdefault(planned.client, [])
                if route.carer not in seen:
                    seen.append(route.carer)
        self.days[date] = _DayFacts(route_times(problem, plan), carers_of)

    def remove(self, date: dt.date) -> None:
        del self.days[date]

    def week_dates(self, date: dt.date) -> list[dt.date]:
        monday = monday_of(date)
        return [d for d in sorted(self.days) if monday_of(d) == monday and d != date]

    def worked(self, carer: str, date: dt.date) -> float:
        """Working minutes in ``date``'s week on the other days (and before them)."""
        minutes = self.worked_before.get((carer, monday_of(date)), 0.0)
        for d in self.week_dates(date):
            times = self.days[d].times.get(carer)
            if times is not None:
                minutes += times[2]
        return minutes

    def previous(self, carer: str, date: dt.date) -> tuple[dt.date, float] | None:
        """The last working day before ``date`` and when the carer got home."""
        for d in sorted((d for d in self.days if d < date), reverse=True):
            times = self.days[d].times.get(carer)
            if times is not None:
                return d, times[1]
        return None

    def following(self, carer: str, date: dt.date) -> tuple[dt.date, float] | None:
        """The first working day after ``date`` and when the carer leaves home."""
        for d in sorted(d for d in self.days if d > date):
            times = self.days[d].times.get(carer)
            if times is not None:
                return d, times[0]
        return None

    def carers_of(self, client: str, date: dt.date) -> list[str]:
        """The carers ``client`` saw on the other days of ``date``'s week, first seen first."""
        seen: list[str] = []
        for d in self.week_dates(date):
            for carer in self.days[d].carers_of.get(client, []):
                if carer not in seen:
                    seen.append(carer)
        return seen


# --- one day, bounded by the week ------------------------------------------------------


def _plan_day(
    roster: Roster,
    ledger: _Ledger,
    date: dt.date,
    problem: Problem,
    history: CareHistory | None,
    to_plan: Mapping[dt.date, set[str]],
    stop: DayStop,
    params: SolveParams | None,
    seed: int,
) -> tuple[Problem, Plan, list[str]]:
    """The day bounded by the week, solved, with a note per client taken past the cap
    (with a hard cap: whose cap was not applied or was lifted for a mandatory visit)."""
    bounded, notes, capped, uncapped = _bounded_day(roster, ledger, date, problem, history, to_plan)
    plan = _solve(bounded, stop, params, seed)
    if roster.rules.hard_cap:
        lifted: dict[str, list[str]] = {}
        if capped:
            bounded, plan, lifted = _lift_caps(bounded, plan, capped, stop, params, seed)
        reasons = {c: (v, "none of the carers they know works at the time of") for c, v in uncapped.items()}
        reasons.update({c: (v, "no carer they know was free for") for c, v in lifted.items()})
    else:  # nobody banned, nothing to lift: say who went past the cap
        reasons = _past_the_cap(roster, ledger, date, bounded, plan)
    notes.extend(_cap_notes(roster, ledger, date, plan, reasons))
    return bounded, plan, notes


def _past_the_cap(
    roster: Roster, ledger: _Ledger, date: dt.date, problem: Problem, plan: Plan
) -> dict[str, tuple[list[str], str]]:
    """Without bans: each client the day's plan gives a carer beyond the cap, with the
    visits those new carers make, for ``_cap_notes``."""
    cap = roster.rules.continuity_cap
    if cap is None:
        return {}
    today: dict[str, dict[str, list[str]]] = {}
    for route in plan.routes:
        for planned in route.visits:
            today.setdefault(planned.client, {}).setdefault(route.carer, []).append(planned.visit)
    reasons: dict[str, tuple[list[str], str]] = {}
    for client, visits_by in today.items():
        seen = ledger.carers_of(client, date)
        new = [c for c in visits_by if c not in seen]
        if new and len(seen) + len(new) > cap:
            visits = sorted({v for c in new for v in visits_by[c]}, key=natural_key)
            reasons[client] = (visits, f"above the cap of {cap}, for")
    return reasons


def _bounded_day(
    roster: Roster,
    ledger: _Ledger,
    date: dt.date,
    problem: Problem,
    history: CareHistory | None,
    to_plan: Mapping[dt.date, set[str]],
) -> tuple[Problem, list[str], dict[str, list[str]], dict[str, list[str]]]:
    """A copy of the day with each carer's hours, shifts and contract target bounded by
    the planned days, and each client's known carers and cap. Returns the copy, notes,
    the clients banned carers by the cap (with their bans as given) and the clients
    left uncapped today (``_continuity``)."""
    rules, zone = roster.rules, roster.zone
    rest = 60.0 * rules.min_daily_rest_hours
    notes: list[str] = []
    contracts = {c.id: c for c in roster.carers}
    carers = []
    for carer in problem.carers:
        if not carer.shifts:
            carers.append(carer)
            continue
        contract = contracts[carer.id]
        changes: dict[str, object] = {}
        limit = limit_of(contract, rules)
        worked = ledger.worked(carer.id, date)
        left = limit - worked
        shifts = list(carer.shifts)
        if left < 1.0:
            notes.append(f"{carer.id} off on {date}: {hours_text(limit)} reached")
            carers.append(carer.model_copy(update={"shifts": [], "max_working_minutes": 0.0}))
            continue
        if carer.max_working_minutes is None or left < carer.max_working_minutes:
            changes["max_working_minutes"] = left
            if left < sum(s.end - s.start for s in shifts):
                notes.append(
                    f"{carer.id} works at most {hours_text(left)} on {date}: "
                    f"{hours_text(worked)} of their {hours_text(limit)} already planned that week"
                )
        before = ledger.previous(carer.id, date)
        if before is not None:
            earliest = _local_after(zone, before, rest, date)
            clipped = [s.model_copy(update={"start": max(s.start, earliest)}) for s in shifts if s.end > earliest]
            if clipped != shifts:
                why = f"{hours_text(rest)} rest after getting home at {format_minutes(before[1])} on {before[0]}"
                if clipped:
                    notes.append(f"{carer.id} leaves home no earlier than {format_minutes(earliest)} on {date}: {why}")
                else:
                    notes.append(f"{carer.id} off on {date}: {why}")
            shifts = clipped
        after = ledger.following(carer.id, date)
        if after is not None and shifts:
            latest = _local_before(zone, after, rest, date)
            clipped = [_ending_by(s, latest) for s in shifts if s.start < latest]
            if clipped != shifts:
                why = f"{hours_text(rest)} rest before leaving home at {format_minutes(after[1])} on {after[0]}"
                if clipped:
                    notes.append(f"{carer.id} home by {format_minutes(latest)} on {date}: {why}")
                else:
                    notes.append(f"{carer.id} off on {date}: {why}")
            shifts = clipped
        if shifts != carer.shifts:
            changes["shifts"] = shifts
        if contract.contracted_hours > 0:
            still = max(0.0, 60.0 * contract.contracted_hours - worked)
            changes["contracted_minutes"] = still / (1 + _days_left(contract, carer.id, date, ledger, to_plan))
        carers.append(carer.model_copy(update=changes))
    clients, capped, uncapped = _continuity(roster, ledger, date, problem, carers, history)
    weights = problem.weights
    if rules.continuity_weight > weights.continuity:
        weights = weights.model_copy(update={"continuity": rules.continuity_weight})
    bounded = problem.model_copy(update={"carers": carers, "clients": clients, "weights": weights})
    return bounded, notes, capped, uncapped


def _ending_by(shift: Shift, latest: float) -> Shift:
    """``shift`` ending by ``latest`` (a rest rule: hard), its soft end kept where it still fits."""
    if shift.hard_end <= latest:
        return shift
    if shift.end >= latest:
        return Shift(start=shift.start, end=latest)
    return shift.model_copy(update={"latest_end": latest})


def _days_left(
    contract: RosterCarer, carer: str, date: dt.date, ledger: _Ledger, to_plan: Mapping[dt.date, set[str]]
) -> int:
    """The carer's working days after ``date`` in its week not planned yet: days still to
    plan where they have shifts (``to_plan``: date -> those carers), and days beyond
    those by their weekly pattern (bank holidays aside)."""
    count = 0
    for offset in range(1, 7 - date.weekday()):
        d = date + dt.timedelta(days=offset)
        if d in ledger.days:
            continue
        if d in to_plan:
            count += carer in to_plan[d]
        else:
            count += _works_by_pattern(contract, d)
    return count


def _works_by_pattern(carer: RosterCarer, date: dt.date) -> bool:
    return (
        bool(carer.availability.get(WEEKDAYS[date.weekday()]))
        and not any(a.covers(date) for a in carer.absences)
        and (carer.employed_from is None or carer.employed_from <= date)
        and (carer.employed_to is None or date <= carer.employed_to)
    )


def _continuity(
    roster: Roster,
    ledger: _Ledger,
    date: dt.date,
    problem: Problem,
    carers: list[Carer],
    history: CareHistory | None,
) -> tuple[list[Client], dict[str, list[str]], dict[str, list[str]]]:
    """Each client's known carers (recent weeks, then this week's other days); for a
    client who saw the cap's worth this week, only this week's carers (or, with a hard
    cap, every other carer of the day banned).

    Returns the clients, the capped ones (with their bans as given) and the clients the
    cap is not applied to today because a mandatory visit of theirs has too few of their
    carers working at its time (with those visits): banning would only leave it undone.
    """
    rules = roster.rules
    on_day = [c.id for c in carers]
    here = {c.id: c for c in carers}
    visits_of: dict[str, list[Visit]] = {}
    for visit in problem.visits:
        visits_of.setdefault(visit.client, []).append(visit)
    clients = []
    capped: dict[str, list[str]] = {}
    uncapped: dict[str, list[str]] = {}
    for client in problem.clients:
        this_week = ledger.carers_of(client.id, date)
        recent = history.recent_carers(client.id, date, rules.history_weeks) if history is not None else []
        known = [c for c in dict.fromkeys([*client.historical_carers, *this_week, *recent]) if c in here]
        changes: dict[str, object] = {}
        if known != client.historical_carers:
            changes["historical_carers"] = known
        if rules.continuity_cap is not None and len(this_week) >= rules.continuity_cap and not rules.hard_cap:
            free = [c for c in this_week if c in here]  # earlier weeks' carers would now be one more
            if free != known:
                changes["historical_carers"] = free
        elif rules.continuity_cap is not None and len(this_week) >= rules.continuity_cap:
            visits = visits_of.get(client.id, [])
            pinned = {c for v in visits for c in v.pinned_carers}
            allowed = set(this_week) | pinned | set(client.banned_carers)
            extra = [c for c in on_day if c not in allowed]
            mates = [here[c] for c in this_week if c in here and c not in client.banned_carers]
            short = [v.id for v in visits if v.mandatory and not _enough_carers(v, client, mates)]
            if short:
                uncapped[client.id] = short
            elif extra:
                changes["banned_carers"] = [*client.banned_carers, *extra]
                capped[client.id] = list(client.banned_carers)
        clients.append(client.model_copy(update=changes) if changes else client)
    return clients, capped, uncapped


def _enough_carers(visit: Visit, client: Client, carers: list[Carer]) -> bool:
    """Whether enough of ``carers`` could do ``visit`` at all: its skills, the client's
    gender requirement, a shift with room for it inside its window (travel aside)."""
    able = 0
    for carer in carers:
        if client.gender_requirement is not None and carer.gender != client.gender_requirement:
            continue
        if not set(visit.part_skills(0)) <= set(carer.skills):
            continue
        duration = visit.part_duration(0)
        latest = visit.window.end
        for shift in carer.shifts:
            begin = max(shift.start, visit.window.start)
            if (latest is None or begin <= latest) and begin + duration <= shift.end:
                able += 1
                break
    return able >= visit.carers_needed


def _lift_caps(
    problem: Problem,
    plan: Plan,
    capped: dict[str, list[str]],
    stop: DayStop,
    params: SolveParams | None,
    seed: int,
) -> tuple[Problem, Plan, dict[str, list[str]]]:
    """Where the cap left a client's mandatory visit undone, lift it for that client and
    give the visit to the cheapest carer who can take it, everything else kept (for the
    first ``CAP_MOVES`` such visits: each move compiles the day); what is still undone
    gets a second solve of the day, kept if it leaves fewer mandatory visits undone.
    Returns the day, the plan and the visits (by client) the cap was lifted for."""
    visits = {v.id: v for v in problem.visits}
    stuck: dict[str, list[str]] = {}
    for item in plan.unassigned:
        visit = visits[item.visit]
        if visit.mandatory and visit.client in capped:
            stuck.setdefault(visit.client, []).append(visit.id)
    if not stuck:
        return problem, plan, {}
    clients = [c.model_copy(update={"banned_carers": capped[c.id]}) if c.id in stuck else c for c in problem.clients]
    lifted = problem.model_copy(update={"clients": clients})
    waiting = [v for ids in stuck.values() for v in ids]
    if len(waiting) <= CAP_MOVES:
        for visit_id in waiting:
            recommender = Recommender(lifted, plan, params=params)
            options = recommender.recommend(visit_id, top=1).options
            if options:
                plan = recommender.move(visit_id, options[0].carer, options[0].partner).plan
    if _mandatory_left(lifted, plan, stuck):
        again = _solve(lifted, stop, params, seed)
        if len(_mandatory_left(lifted, again)) < len(_mandatory_left(lifted, plan)):
            plan = again
    return lifted, plan, stuck


def _mandatory_left(problem: Problem, plan: Plan, of_clients: Mapping[str, object] | None = None) -> list[str]:
    """Mandatory visits the plan leaves out (of those clients only, if given)."""
    visits = {v.id: v for v in problem.visits}
    return [
        u.visit
        for u in plan.unassigned
        if visits[u.visit].mandatory and (of_clients is None or visits[u.visit].client in of_clients)
    ]


def _cap_notes(
    roster: Roster,
    ledger: _Ledger,
    date: dt.date,
    plan: Plan,
    reasons: dict[str, tuple[list[str], str]],
) -> list[str]:
    """A note per client who now sees more carers than the cap, and why (``reasons``:
    client -> the visits concerned and why the cap was not kept for them)."""
    cap = roster.rules.continuity_cap
    if cap is None:
        return []
    today: dict[str, list[str]] = {}
    for route in plan.routes:
        for planned in route.visits:
            if planned.client in reasons and route.carer not in today.setdefault(planned.client, []):
                today[planned.client].append(route.carer)
    notes = []
    for client in sorted(reasons, key=natural_key):
        seen = ledger.carers_of(client, date)
        new = [c for c in today.get(client, []) if c not in seen]
        if not new or len(seen) + len(new) <= cap:
            continue
        visits, why = reasons[client]
        notes.append(
            f"{client} saw a {_ordinal(len(seen) + len(new))} carer on {date} ({', '.join(new)}): "
            f"{why} {', '.join(sorted(visits, key=natural_key))}"
        )
    return notes


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _local_after(zone, since: tuple[dt.date, float], rest: float, date: dt.date) -> float:
    """The local minutes on ``date`` ``rest`` real minutes after ``since`` (a date and
    its local minutes)."""
    moment = instant(zone, *since) + dt.timedelta(minutes=rest)
    minutes = _wall_minutes(zone, moment, date)
    short = rest - minutes_between(zone, since, (date, minutes))
    return minutes + max(0.0, short)  # a repeated hour reads as its first occurrence


def _local_before(zone, until: tuple[dt.date, float], rest: float, date: dt.date) -> float:
    """The local minutes on ``date`` ``rest`` real minutes before ``until``."""
    moment = instant(zone, *until) - dt.timedelta(minutes=rest)
    minutes = _wall_minutes(zone, moment, date)
    short = rest - minutes_between(zone, (date, minutes), until)
    return minutes - max(0.0, short)


def _wall_minutes(zone, moment: dt.datetime, date: dt.date) -> float:
    """What the clock shows at ``moment``, as minutes after local midnight of ``date``."""
    local = moment.astimezone(zone)
    return (local.date() - date).days * 1440.0 + local.hour * 60.0 + local.minute + local.second / 60.0


# --- the answer ----------------------------------------------------------------------------


def _solve(problem: Problem, stop: DayStop, params: SolveParams | None, seed: int) -> Plan:
    return solve(problem, stop, params=params, seed=seed)


def _fan_out(
    days: dict[dt.date, Problem],
    stop: DayStop,
    params: SolveParams,
    seed: int,
    on_day_planned: Callable[[dt.date, int, int], None] | None,
) -> dict[dt.date, Plan]:
    """Days alone are independent: solved at once on the Ray cluster the params name,
    each plan validated as it comes back (``cluster.solve_many``)."""
    from ..cluster import solve_many  # Ray is an optional extra

    address = params.parallel.ray_address or ""
    outcomes = solve_many(
        days,
        stop,
        address=address,
        seed=seed,
        params=params,
        retries=params.parallel.task_retries,
        on_solved=on_day_planned,
    )
    return {date: outcome.plan for date, outcome in outcomes.items()}


def _check_carers(roster: Roster, days: Mapping[dt.date, Problem]) -> None:
    known = {c.id for c in roster.carers}
    for date, problem in days.items():
        for i, carer in enumerate(problem.carers):
            if carer.id not in known:
                raise InputError(f"days[{date}].carers[{i}].id", f"carer {carer.id!r} is not in the roster")


def _dates(dates: Iterable[dt.date]) -> str:
    return ", ".join(str(d) for d in sorted(dates))


def _all_days(
    fixed: Mapping[dt.date, tuple[Problem, Plan]], problems: Mapping[dt.date, Problem], plans: Mapping[dt.date, Plan]
) -> tuple[dict[dt.date, Problem], dict[dt.date, Plan]]:
    return (
        {**{d: p for d, (p, _) in fixed.items()}, **problems},
        {**{d: plan for d, (_, plan) in fixed.items()}, **plans},
    )


def _day_to_replan(
    violations: list[WeekViolation], plans: Mapping[dt.date, Plan], replanned: set[dt.date]
) -> tuple[dt.date, WeekViolation] | None:
    """A planned day not replanned yet that a weekly rule broken involves (the latest of
    its days), with the rule."""
    for violation in violations:
        if violation.code not in WEEKLY_CODES:
            continue
        for date in sorted(violation.dates, reverse=True):
            if date in plans and date not in replanned:
                return date, violation
    return None


def _week_plan(
    roster: Roster,
    days: dict[dt.date, Problem],
    problems: dict[dt.date, Problem],
    plans: dict[dt.date, Plan],
    fixed: dict[dt.date, tuple[Problem, Plan]],
    worked_before: dict[tuple[str, dt.date], float],
    notes: dict[dt.date, list[str]],
    weekly: bool,
    started: float,
    report: WeekReport | None = None,
) -> WeekPlan:
    if report is None:
        report = validate_week(roster, *_all_days(fixed, problems, plans), worked_before=worked_before)
    seen: dict[str, set[str]] = {}
    for plan in plans.values():
        for route in plan.routes:
            for planned in route.visits:
                seen.setdefault(planned.client, set()).add(route.carer)
    cap = roster.rules.continuity_cap
    weeks = {monday_of(d) for d in plans}
    available = {c.id for p in days.values() for c in p.carers if c.shifts}
    hours = [
        CarerHours(
            carer=h.carer,
            week=h.week,
            worked_minutes=h.worked_minutes,
            contracted_minutes=h.contracted_minutes,
            difference_minutes=h.worked_minutes - h.contracted_minutes,
        )
        for h in report.hours
        if h.week in weeks and h.contracted_minutes > 0 and h.carer in available
    ]
    differences = np.array([h.difference_minutes for h in hours], dtype=float)
    figures = WeekFigures(
        carers_per_client={c: len(seen[c]) for c in sorted(seen, key=natural_key)},
        clients_over_cap=sorted((c for c in seen if cap is not None and len(seen[c]) > cap), key=natural_key),
        hours=hours,
        spread_std_minutes=float(differences.std()) if len(differences) else 0.0,
        spread_range_minutes=float(differences.max() - differences.min()) if len(differences) else 0.0,
        seconds=time.monotonic() - started,
    )
    return WeekPlan(
        days=days,
        problems=problems,
        plans=plans,
        report=report,
        figures=figures,
        fixed=dict(fixed),
        worked_before=dict(worked_before),
        notes_by_date={d: n for d, n in sorted(notes.items()) if n},
        weekly=weekly,
    )
