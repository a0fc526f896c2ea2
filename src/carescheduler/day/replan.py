"""Replanning: absorb a batch of events into a published plan, moving as little as possible.

When a carer phones in sick at 07:00 or a client comes home at noon, the coordinator
wants a new plan in a second that the rest of the team hardly notices. ``replan``:

1. applies the events (``apply.apply_events``): the day as it now stands, with what
   already happened pinned;
2. keeps the old plan where it still holds: visits done or under way never move,
   visits starting within ``freeze_minutes`` stay with their carer, nothing starts
   before ``now`` or earlier than it was planned;
3. places the visits that lost their carer, new and changed visits (and, once
   something happened, the visits nobody had) by regret insertion on a copy of the
   model in which changing a visit's carer costs ``reassign_cost`` and starting it more
   than ``tolerance_minutes`` later than planned costs lateness; then improves around
   the carers concerned (re-insertion into the routes near them; for a visit still
   left out, taking a visit out of its way and placing that one elsewhere, and CP-SAT
   on the routes nearest it, hinted with the current routes) until the time limit, or,
   with every visit placed, until 15 tries in a row find nothing better;
4. reports the new plan, per carer what changed (so only they are told), the visits
   that moved although their carer was not named in the events, and the unassigned
   visits with reasons.

The plan's cost and KPIs are those of the real objective (the disruption terms only
steer the search). With no events the plan comes back as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from ..domain import Problem, Shift
from ..errors import InputError
from ..params import ReplanSettings, SolveParams, StopCriterion, StopRule, stop_rule
from ..plan import (
    CarerChanges,
    Plan,
    Retimed,
    SolverInfo,
    UnassignedVisit,
    carer_changes,
    natural_key,
    starts_by_carer,
)
from ..search import timing
from ..search.budget import Budget
from ..search.cpsat_model import build_seconds, solve_subproblem, take_routes
from ..search.insertion import insert_visits
from ..search.instance import Instance, compile_problem
from ..search.lns import StoppedBy, routes_by_closeness
from ..search.solution import Solution
from ..search.solver import collections_paused, plan_from_solution
from .apply import DayUpdate
from .events import EventBatch
from .live import LiveDay, OldPlan, live_day, on_real_objective

__all__ = ["CarerChanges", "PlanChanges", "ReplanResult", "ReplanSettings", "Retimed", "replan"]

DEFAULT_SECONDS = 1.0
"""The time limit of a replan whose stop criteria give none."""
DEFAULT_PATIENCE = 15
"""Without stop criteria, improving stops after this many tries in a row find nothing better."""
EJECTIONS = 25
"""At most this many visits a try for a visit left out takes out of its way, one at a time."""
REPAIR_ROUTES = 12
"""A try with every visit placed puts the visits it took out back into the routes of the
carer it picked and this many of the routes closest to it."""


class PlanChanges(BaseModel):
    """The difference between the published plan and the replan."""

    carers: list[CarerChanges] = Field(default_factory=list, description="only carers whose day changed")
    moved_visits: list[str] = Field(
        default_factory=list,
        description="visits of carers not named in the events that changed carer, were "
        "dropped, or moved beyond the tolerance",
    )
    cancelled: list[str] = Field(default_factory=list)
    unassigned: list[UnassignedVisit] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def changed_carers(self) -> list[str]:
        return [c.carer for c in self.carers]


@dataclass
class ReplanResult:
    problem: Problem
    """The day as it now stands (the plan is valid for this problem, not the old one)."""
    plan: Plan
    changes: PlanChanges
    seconds: float
    feasible: bool
    """Whether the solver's own check holds every hard rule (the validator is independent)."""


def replan(
    problem: Problem,
    plan: Plan,
    events: EventBatch | list,
    now: float | str | None = None,
    *,
    stop: StopCriterion | list[StopCriterion] | float | None = None,
    seed: int = 0,
    params: SolveParams | None = None,
    settings: ReplanSettings | None = None,
    time_limit: float | None = None,
) -> ReplanResult:
    """Absorb ``events`` (at ``now``, or the batch's own ``now``) into ``plan``.

    Returns within about the time limit with the best plan found; raises ``InputError``
    for events that do not fit the day (nothing is changed then). ``stop`` defaults to
    ``MaxRuntime(1)`` and ``NoImprovement(15)`` (``time_limit`` replaces only the first);
    ``settings`` is ``params.replan`` given alone.
    """
    with collections_paused():
        return _replan(problem, plan, events, now, stop, seed, params, settings, time_limit)


def _replan(
    problem: Problem,
    plan: Plan,
    events: EventBatch | list,
    now: float | str | None,
    stop: StopCriterion | list[StopCriterion] | float | None,
    seed: int,
    params: SolveParams | None,
    settings: ReplanSettings | None,
    time_limit: float | None,
) -> ReplanResult:
    started = time.monotonic()
    rule = stop_rule(stop, DEFAULT_SECONDS, time_limit=time_limit)
    if stop is None:
        rule = StopRule(rule.seconds, rule.iterations, DEFAULT_PATIENCE)
    if seed < 0:
        raise InputError("seed", f"must be 0 or more, got {seed}")
    params = params or SolveParams()
    if settings is not None:
        params = params.model_copy(update={"replan": settings})
    settings = params.replan
    # the search stops a little early: writing the plan and the changes takes its turn
    deadline = started + max(0.05, settings.search_share * rule.seconds)
    day = live_day(problem, plan, events, now, settings)
    update, model, sol, pending = day.update, day.model, day.solution, day.pending
    rng = np.random.default_rng(seed)
    if update.events:
        # Something happened: also try the visits nobody had.
        pending |= {int(v) for v in sol.unassigned_visits() if update.problem.visits[v].id not in update.missed}
    pending -= {v for v in pending if update.problem.visits[v].id in update.missed}
    if pending:
        order = sorted(pending, key=lambda v: (-model.visit_penalty[v], model.task_release[model.visit_tasks[v, 0]]))
        exact = {v for v in order if model.visit_mandatory[v]}
        insert_visits(
            sol,
            order,
            rng,
            regret=2,
            deadline=started + 0.6 * (deadline - started),
            exact=exact,
            params=params.construction,
            budget=Budget(stop_at=deadline),
        )
        sol, tries, stopped_by = _improve(sol, day.old, deadline, rng, rule, params, patient=stop is None)
    else:
        tries, stopped_by = 0, None
    final, day_now = _finalise(day, sol)
    info = SolverInfo(
        status="replan",
        seed=seed,
        time_limit=rule.seconds,
        max_iterations=rule.iterations,
        no_improvement=rule.no_improvement,
        iterations=tries,
        stopped_by=stopped_by,
        now=update.now,
        events=update.events,
    )
    new_plan = plan_from_solution(final, info)
    new_plan.unassigned = [
        UnassignedVisit(visit=u.visit, reason=_unassigned_reason(update, u)) for u in new_plan.unassigned
    ]
    changes = _changes(update, new_plan, settings)
    seconds = time.monotonic() - started
    new_plan.solver.seconds = round(seconds, 3)
    return ReplanResult(problem=day_now, plan=new_plan, changes=changes, seconds=seconds, feasible=final.feasible)


def _unassigned_reason(update: DayUpdate, item: UnassignedVisit) -> str:
    """Why a visit is left out, saying first when its carer is away or its time passed."""
    if item.visit in update.missed:
        return update.missed[item.visit]
    away = sorted(
        {
            carer
            for (v, _), (carer, _) in update.placed.items()
            if v == item.visit and carer in update.unavailable_carers
        }
    )
    if away:
        return f"{' and '.join(away)} {'is' if len(away) == 1 else 'are'} away, and {item.reason}"
    return item.reason


# --- improving around the disruption ------------------------------------------------------


def _improve(
    sol: Solution,
    old: OldPlan,
    deadline: float,
    rng: np.random.Generator,
    rule: StopRule,
    params: SolveParams,
    patient: bool = False,
) -> tuple[Solution, int, StoppedBy | None]:
    """Re-insert small groups of movable visits on the routes the changes touched (and
    their neighbours); for a visit still left out, move a visit out of its way
    (``_eject_for``) or hand it to CP-SAT with its nearest routes.
    Returns the best solution, how many tries were made, and what stopped them (None:
    nothing was left to try). ``patient``: tries that find nothing better stop the
    search only once every visit that could be done is placed (the default stop rule:
    a visit left out matters more than a quick answer)."""
    inst = sol.inst
    best = sol.copy()
    trial = sol.copy()
    misses = 0
    tries = 0
    fixed = {int(v) for v in inst.task_visit[old.facts]}  # never taken out: part of them happened
    while True:
        if time.monotonic() >= deadline:
            return best, tries, "time"
        unassigned = [int(v) for v in best.unassigned_visits() if _could_be_done(inst, v)]
        if rule.no_improvement is not None and misses >= rule.no_improvement and not (patient and unassigned):
            return best, tries, "no_improvement"
        if rule.iterations is not None and tries >= rule.iterations:
            return best, tries, "iterations"
        tries += 1
        if unassigned and misses % 5 == 0:
            # Make room for a visit left out by moving one visit out of its way: cheap,
            # and what a coordinator would try first.
            u = unassigned[int(rng.integers(len(unassigned)))]
            if _eject_for(best, trial, u, fixed, rng, deadline, params):
                misses = 0
                continue
        if unassigned and deadline - time.monotonic() > 0.3 and misses % 10 == 9:
            trial.copy_from(best)
            if (
                _cpsat_around(trial, unassigned[int(rng.integers(len(unassigned)))], deadline)
                and (trial.route_of[old.facts] >= 0).all()
                and trial.total < best.total - 1e-9
            ):
                best.copy_from(trial)
                misses = 0
                continue
        touched = _touched_carers(best, old)
        if not len(touched):
            return best, tries, None
        trial.copy_from(best)
        k = int(rng.choice(touched))
        around = routes_by_closeness(trial, k, np.flatnonzero(trial.L > 0))
        near = [k, *around[:2]]
        movable = sorted({int(inst.task_visit[t]) for c in near for t in trial.route(c)} - fixed)
        if not movable:
            misses += 1
            continue
        q = min(len(movable), int(rng.integers(2, 7)))
        removed = [int(v) for v in rng.choice(movable, size=q, replace=False)]
        for v in removed:
            trial.remove_visit(v)
        trial.refresh_removed()
        again = removed + unassigned
        rng.shuffle(again)
        insert_visits(
            trial,
            again,
            rng,
            regret=2,
            noise=0.05 * rng.random(),
            deadline=deadline,
            # the slow exact pricing for one visit left out at most: it re-times the
            # routes of each place it tries (the whole day where they cannot take it)
            exact={unassigned[int(rng.integers(len(unassigned)))]} if unassigned and rng.random() < 0.2 else set(),
            params=params.construction,
            budget=Budget(stop_at=deadline),
            # With everyone placed, a try only reorders the routes around k: pricing the
            # whole day's carers for it took most of a council replan's time.
            carers=None if unassigned else np.array([k, *around[:REPAIR_ROUTES]], dtype=np.int64),
        )
        if trial.feasible and trial.total < best.total - 1e-9:
            best.copy_from(trial)
            misses = 0
        else:
            misses += 1


def _eject_for(
    best: Solution,
    trial: Solution,
    u: int,
    fixed: set[int],
    rng: np.random.Generator,
    deadline: float,
    params: SolveParams,
) -> bool:
    """Place the unassigned visit ``u`` by taking one visit out of a route that could
    hold it (one near ``u``'s window) and putting that one back elsewhere. Tries the
    carers who may do ``u``, nearest first, until the plan gets cheaper (``best`` then
    holds it), ``EJECTIONS`` tries or ``deadline``."""
    inst = best.inst
    tasks = [int(t) for t in inst.visit_tasks[u] if t >= 0]
    opens = float(inst.task_release[tasks].min())
    closes = float(inst.task_latest[tasks].max()) + float(inst.task_dur[tasks].max())
    carers = np.flatnonzero(inst.eligible[tasks].any(axis=0))
    left = EJECTIONS
    for k in sorted(map(int, carers), key=lambda k: _closeness(best, k, tasks[0])):
        route = best.route(k)
        in_the_way = [
            int(inst.task_visit[t])
            for t in route
            if best.start[t] + inst.task_dur[t] > opens
            and best.start[t] < closes
            and int(inst.task_visit[t]) not in fixed
            and inst.eligible[t].sum() > 1  # a visit held by its carer cannot go elsewhere
        ]
        for w in in_the_way:
            left -= 1
            if left < 0 or time.monotonic() >= deadline:
                return False
            trial.copy_from(best)
            trial.remove_visit(w)
            trial.refresh_removed()
            if insert_visits(trial, [u], rng, regret=1, in_order=True, exact=set(), params=params.construction):
                continue
            if insert_visits(trial, [w], rng, regret=1, in_order=True, exact=set(), params=params.construction):
                continue
            if trial.feasible and trial.total < best.total - 1e-9:
                best.copy_from(trial)
                return True
    return False


def _closeness(sol: Solution, k: int, t: int) -> float:
    """How near carer ``k``'s day comes to task ``t``: the travel from their nearest stop
    plus a quarter of the time between that stop and when ``t`` opens (from home, plus
    an hour, for a carer with nothing planned)."""
    inst = sol.inst
    loc, due = inst.task_loc[t], inst.task_release[t]
    route = sol.R[k, : sol.L[k]]
    tr = inst.travel[inst.carer_mode[k]]
    if not len(route):
        return float(tr[inst.carer_start[k], loc]) + 60.0
    return float((tr[inst.task_loc[route], loc] + np.abs(sol.start[route] - due) / 4).min())


def _could_be_done(inst: Instance, v: int) -> bool:
    return bool(all(inst.eligible[t].any() for t in inst.visit_tasks[v] if t >= 0))


def _touched_carers(sol: Solution, old: OldPlan) -> np.ndarray:
    """Carers whose route holds an open task that was not theirs in the old plan."""
    moved = (sol.route_of >= 0) & ~old.facts & (sol.route_of != old.kept_carer)
    return np.unique(sol.route_of[moved])


def _cpsat_around(sol: Solution, v: int, deadline: float) -> bool:
    """CP-SAT re-plans the three eligible routes nearest visit ``v`` with ``v`` added,
    hinted with their current sequences."""
    inst = sol.inst
    t0 = int(inst.visit_tasks[v, 0])
    carers = np.flatnonzero(inst.eligible[[t for t in inst.visit_tasks[v] if t >= 0]].any(axis=0))
    if len(carers) == 0:
        return False
    chosen = sorted(sorted(map(int, carers), key=lambda k: _closeness(sol, k, t0))[:3])
    visits = sorted({v, *(int(inst.task_visit[t]) for k in chosen for t in sol.route(k))})
    seconds = min(0.3, deadline - time.monotonic() - 0.05)
    if seconds <= 0.05 or build_seconds(inst, chosen, visits) > deadline - time.monotonic() - seconds:
        return False
    result = solve_subproblem(inst, sol, chosen, visits, seconds)
    if result is None:
        return False
    return take_routes(sol, result, chosen, visits)


# --- the answer ------------------------------------------------------------------------


def _finalise(day: LiveDay, sol: Solution) -> tuple[Solution, Problem]:
    """The searched plan on the day's real objective, and the day it is for.

    Usually the day is the one the events made; but a rule that what already happened
    broke for a carer (their break, their hours, travel times their check-ins beat) is
    lifted for them today, and said in the warnings so the coordinator can act.
    """
    update, base, old = day.update, day.base, day.old
    if not (sol.route_of[old.facts] >= 0).all():
        raise RuntimeError("replan: a visit that already happened was dropped")  # a bug, not bad input
    if not day.relaxed:
        return on_real_objective(base, sol, old), update.problem
    visits, carers = list(update.problem.visits), list(update.problem.carers)
    start = sol.start.copy()
    start[old.facts] = old.fact_start[old.facts]
    stops = {
        k: [(start[t], visits[base.task_visit[t]].id, int(base.task_part[t])) for t in sol.route(k)]
        for k in range(base.n_carers)
    }
    for k, what in day.relaxed.items():
        carer = carers[k]
        changes: dict[str, object] = {}
        if "break" in what:
            changes["break_rule"] = None
            update.warnings.append(
                f"carer {carer.id}: what they have done today leaves no room for their break; "
                "the rule is lifted for today (arrange one with them)"
            )
        if "hours" in what:
            changes["max_working_minutes"] = None
            update.warnings.append(
                f"carer {carer.id}: what they have done today already exceeds their maximum "
                "working time; the limit is lifted for today"
            )
        if "times" in what and carer.shifts and sol.L[k] > 0:
            _, home = timing.route_span(base.arrays(), sol.arrays._replace(start=start), k)
            last = carer.shifts[-1]
            if home > last.end:
                latest = last.latest_end if last.latest_end is not None and last.latest_end > home else None
                changes["shifts"] = [*carer.shifts[:-1], Shift(start=last.start, end=float(home), latest_end=latest)]
            update.warnings.append(
                f"carer {carer.id}: their recorded times beat the travel times; their day is timed from the records"
            )
        carers[k] = carer.model_copy(update=changes)
    problem = update.problem.model_copy(update={"visits": visits, "carers": carers})
    real = compile_problem(problem)
    index = {x.id: i for i, x in enumerate(visits)}
    final = Solution(real)
    placements = {
        k: [(at, int(real.visit_tasks[index[vid], part])) for at, vid, part in items] for k, items in stops.items()
    }
    final.place(placements)
    for items in placements.values():
        for at, t in items:
            final.start[t] = at
    final.account()
    final.feasible = final.feasible and sol.feasible
    return final, problem


def _changes(update: DayUpdate, plan: Plan, settings: ReplanSettings) -> PlanChanges:
    before: dict[str, dict[str, float]] = {}  # carer -> visit -> planned start
    for (visit_id, _), (carer, start) in update.placed.items():
        before.setdefault(carer, {})[visit_id] = start
    after = starts_by_carer(plan)
    happened = {v for v, _ in update.happened}
    cancelled = set(update.cancelled)
    old_carers: dict[str, set[str]] = {}
    for carer, visits in before.items():
        for v in visits:
            old_carers.setdefault(v, set()).add(carer)
    new_carers: dict[str, set[str]] = {}
    for carer, visits in after.items():
        for v in visits:
            new_carers.setdefault(v, set()).add(carer)
    # visits cancelled, and second carers no longer needed, were on those carers' days too
    for gone in (update.cancelled_carers, update.dropped_carers):
        for v, had in gone.items():
            for carer, start in had.items():
                before.setdefault(carer, {})[v] = start
    tol = settings.tolerance_minutes
    carers = carer_changes(before, after, tol, unchanged=happened)
    moved = []
    for v, carers_before in old_carers.items():
        if v in update.renewed or v in cancelled or v in happened or carers_before & update.named_carers:
            continue
        carers_after = new_carers.get(v, set())
        shifted = any(abs(after[c][v] - before[c][v]) > tol + 1e-9 for c in carers_before & carers_after)
        if carers_after != carers_before or shifted:
            moved.append(v)
    warnings = list(update.warnings)
    if update.estimated_locations:
        warnings.append(
            f"travel to and from {', '.join(update.estimated_locations)} is estimated from coordinates "
            "(scaled to the day's road times nearby) until the day's travel is rebuilt"
        )
    return PlanChanges(
        carers=carers,
        moved_visits=sorted(moved, key=natural_key),
        cancelled=list(update.cancelled),
        unassigned=list(plan.unassigned),
        warnings=warnings,
    )
