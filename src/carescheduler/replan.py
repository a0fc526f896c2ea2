"""Replanning: absorb a batch of events into a published plan, moving as little as possible.

When a carer phones in sick at 07:00 or a client comes home at noon, the coordinator
wants a new plan in a second that the rest of the team hardly notices. ``replan``:

1. applies the events (``events.apply_events``): the day as it now stands, with what
   already happened pinned;
2. keeps the old plan where it still holds: visits done or under way never move,
   visits starting within ``freeze_minutes`` stay with their carer, nothing starts
   before ``now`` or earlier than it was planned;
3. places the visits that lost their carer, new and changed visits (and, once
   something happened, the visits nobody had) by regret insertion on a copy of the
   model in which changing a visit's carer costs ``reassign_cost`` and starting it more
   than ``tolerance_minutes`` later than planned costs lateness; then improves around
   the carers concerned (re-insertion, and CP-SAT on the routes nearest a visit still
   left out, hinted with the current routes) until the time limit;
4. reports the new plan, per carer what changed (so only they are told), the visits
   that moved although their carer was not named in the events, and the unassigned
   visits with reasons.

The plan's cost and KPIs are those of the real objective (the disruption terms only
steer the search). With no events the plan comes back as it was.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from .cpsat_model import solve_subproblem
from .domain import Problem
from .events import DayUpdate, EventBatch, apply_events
from .insertion import insert_visits
from .instance import INF, Instance, compile_problem, fits_a_shift
from .plan import Plan, UnassignedVisit
from .solution import Solution
from .solver import plan_from_solution
from . import kernels

__all__ = ["CarerChanges", "PlanChanges", "ReplanResult", "ReplanSettings", "Retimed", "replan"]


OUTPUT_SHARE = 0.85
"""Share of the time limit the search may use; the rest is for writing the answer."""


@dataclass
class ReplanSettings:
    """How a replan trades disruption against the plan's own cost."""

    freeze_minutes: float = 30.0
    """Visits starting this soon after ``now`` stay with their carer (they may be on the way)."""
    tolerance_minutes: float = 15.0
    """A start may move this much without counting as moved (or being reported as retimed)."""
    reassign_cost: float = 100.0
    """Cost of giving a planned visit to another carer, in objective units (a travel minute is 1)."""
    patience: int = 40
    """Improvement stops after this many tries in a row that find nothing better."""


class Retimed(BaseModel):
    visit: str
    before: float
    after: float


class CarerChanges(BaseModel):
    """What changed in one carer's day: the message their phone gets."""

    carer: str
    added: list[str] = Field(default_factory=list, description="visits newly theirs")
    removed: list[str] = Field(default_factory=list, description="visits no longer theirs (moved or cancelled)")
    retimed: list[Retimed] = Field(default_factory=list, description="visits starting more than the tolerance "
                                                                     "earlier or later")


class PlanChanges(BaseModel):
    """The difference between the published plan and the replan."""

    carers: list[CarerChanges] = Field(default_factory=list, description="only carers whose day changed")
    moved_visits: list[str] = Field(default_factory=list,
                                    description="visits of carers not named in the events that changed carer, were "
                                                "dropped, or moved beyond the tolerance")
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


def replan(problem: Problem, plan: Plan, events: EventBatch | list, now: float | str | None = None, *,
           time_limit: float = 1.0, settings: ReplanSettings | None = None, seed: int = 0) -> ReplanResult:
    """Absorb ``events`` (at ``now``, or the batch's own ``now``) into ``plan``.

    Returns within about ``time_limit`` seconds with the best plan found; raises
    ``InputError`` for events that do not fit the day (nothing is changed then).
    """
    started = time.monotonic()
    # the search stops a little early: writing the plan and the changes takes its turn
    deadline = started + max(0.05, OUTPUT_SHARE * float(time_limit))
    settings = settings or ReplanSettings()
    update = apply_events(problem, plan, events, now)
    base = compile_problem(update.problem)
    old = _old_plan(base, update)
    model = _disruption_model(base, update, old, settings)
    sol, pending = _keep_old_plan(model, update, old)
    rng = np.random.default_rng(seed)
    if update.events:
        # Something happened: also try the visits nobody had.
        pending |= {int(v) for v in sol.unassigned_visits() if update.problem.visits[v].id not in update.missed}
    pending -= {v for v in pending if update.problem.visits[v].id in update.missed}
    if pending:
        order = sorted(pending, key=lambda v: (-model.visit_penalty[v], model.task_release[model.visit_tasks[v, 0]]))
        exact = {v for v in order if model.visit_mandatory[v]}
        insert_visits(sol, order, rng, regret=2, deadline=started + 0.6 * (deadline - started), exact=exact)
        sol = _improve(sol, old, deadline, rng, settings)
    final = _on_real_objective(base, sol, old)
    seconds = time.monotonic() - started
    new_plan = plan_from_solution(final, {"status": "replan", "seconds": round(seconds, 3), "seed": seed,
                                          "time_limit": time_limit, "now": update.now, "events": update.events})
    new_plan.unassigned = [UnassignedVisit(visit=u.visit, reason=update.missed.get(u.visit, u.reason))
                           for u in new_plan.unassigned]
    changes = _changes(update, new_plan, settings)
    return ReplanResult(problem=update.problem, plan=new_plan, changes=changes, seconds=seconds,
                        feasible=final.feasible)


# --- the model the replan searches --------------------------------------------------------

@dataclass
class _OldPlan:
    """Per task: who did it and when (``fact_*``: done or under way at ``now``) and who had
    it in the old plan and when (``kept_*``: the rest); carer -1 when none."""

    fact_carer: np.ndarray
    fact_start: np.ndarray
    kept_carer: np.ndarray
    kept_start: np.ndarray

    @property
    def facts(self) -> np.ndarray:
        return self.fact_carer >= 0


def _old_plan(base: Instance, update: DayUpdate) -> _OldPlan:
    T = base.n_tasks
    old = _OldPlan(np.full(T, -1, dtype=np.int64), np.zeros(T), np.full(T, -1, dtype=np.int64), np.zeros(T))
    carer_of = {c.id: k for k, c in enumerate(update.problem.carers)}
    visit_of = {v.id: i for i, v in enumerate(update.problem.visits)}
    for (visit_id, part), (carer, start, _) in update.happened.items():
        t = base.visit_tasks[visit_of[visit_id], part]
        old.fact_carer[t] = carer_of[carer]
        old.fact_start[t] = start
    for (visit_id, part), (carer, start) in update.placed.items():
        t = base.visit_tasks[visit_of[visit_id], part]
        if t >= 0 and old.fact_carer[t] < 0 and visit_id not in update.renewed:
            old.kept_carer[t] = carer_of[carer]
            old.kept_start[t] = start
    return old


def _disruption_model(base: Instance, update: DayUpdate, old: _OldPlan, settings: ReplanSettings) -> Instance:
    """A copy of the compiled day that keeps the past and prices disruption."""
    now = update.now
    facts = np.flatnonzero(old.facts)
    kept = np.flatnonzero(old.kept_carer >= 0)
    open_tasks = ~old.facts
    release = base.task_release.copy()
    latest = base.task_latest.copy()
    tgt_start = base.task_tgt_start.copy()
    tgt_end = base.task_tgt_end.copy()
    duration = base.task_dur.copy()
    eligible = base.eligible.copy()
    assign_cost = base.assign_cost.copy()
    task_pin = base.task_pin.copy()
    shift_start = base.shift_start.copy()
    max_work = base.max_work.copy()
    contracted = base.contracted.copy()

    # Nothing new starts before now; a kept visit not before it was planned (so an empty
    # batch changes nothing) and, past the tolerance, later starts cost lateness.
    release[open_tasks] = np.maximum(release[open_tasks], now)
    planned = old.kept_start[kept]
    release[kept] = np.maximum(release[kept], planned)
    tgt_start[kept] = np.minimum(tgt_start[kept], planned)
    tgt_end[kept] = np.minimum(tgt_end[kept], planned + settings.tolerance_minutes)
    _hold_the_present(base, old, now, duration, shift_start, max_work, contracted)
    # What happened stays with its carer at its time.
    eligible[facts] = False
    eligible[facts, old.fact_carer[facts]] = True
    release[facts] = latest[facts] = old.fact_start[facts]
    fact_visits = base.visit_tasks[base.task_visit[facts]].ravel()
    task_pin[fact_visits[fact_visits >= 0]] = -1
    # Changing carer costs (a double visit's two carers may swap parts freely).
    partner = base.task_partner[kept]
    partner_carer = np.where(partner >= 0, old.kept_carer[np.maximum(partner, 0)], -1)
    assign_cost[kept] += settings.reassign_cost
    assign_cost[kept, old.kept_carer[kept]] -= settings.reassign_cost
    with_partner = kept[partner_carer >= 0]
    assign_cost[with_partner, partner_carer[partner_carer >= 0]] -= settings.reassign_cost
    # Visits about to start stay with their carer, unless that carer is away.
    away = np.array([c.id in update.unavailable_carers for c in update.problem.carers], dtype=bool)
    soon = kept[(planned < now + settings.freeze_minutes) & ~away[old.kept_carer[kept]]]
    own = eligible[soon, old.kept_carer[soon]]
    eligible[soon] = False
    eligible[soon, old.kept_carer[soon]] = own
    eligible[open_tasks] &= fits_a_shift(shift_start, base.shift_end, release[open_tasks], latest[open_tasks],
                                         duration[open_tasks])
    return dataclasses.replace(
        base, task_release=release, task_latest=latest, task_tgt_start=tgt_start, task_tgt_end=tgt_end,
        task_dur=duration, eligible=eligible, assign_cost=assign_cost, task_pin=task_pin, shift_start=shift_start,
        shift_end=base.shift_end.copy(), break_after=base.break_after.copy(), max_work=max_work,
        contracted=contracted)


def _hold_the_present(base: Instance, old: _OldPlan, now: float, duration: np.ndarray, shift_start: np.ndarray,
                      max_work: np.ndarray, contracted: np.ndarray) -> None:
    """Keep carers from setting off in the past.

    A carer with nothing done yet leaves home no earlier than now (or than they set off
    for their next planned visit); one with visits done stays at the last of them until
    now (or until they set off for their next visit, or home), which the model says by
    lengthening that visit. A gap that may hold their break is left alone.
    """
    T = base.n_tasks
    first_kept = {}
    for t in np.flatnonzero(old.kept_carer >= 0)[np.argsort(-old.kept_start[old.kept_carer >= 0])]:
        first_kept[int(old.kept_carer[t])] = int(t)           # the earliest wins (visited last)
    last_fact = {}
    facts = np.flatnonzero(old.facts)
    for t in facts[np.argsort(old.fact_start[facts])]:
        last_fact[int(old.fact_carer[t])] = int(t)            # the latest wins
    for k in range(base.n_carers):
        tr = base.travel[base.carer_mode[k]]
        nxt = first_kept.get(k, -1)
        if k in last_fact:
            t = last_fact[k]
            end = old.fact_start[t] + duration[t]
            if nxt >= 0:
                leave = old.kept_start[nxt] - tr[base.task_loc[t], base.task_loc[nxt]]
            else:   # home by the end of the shift it is in
                shift = np.flatnonzero((base.shift_start[k] <= old.fact_start[t] + 1e-6)
                                       & (base.shift_end[k] >= end - 1e-6))
                leave = base.shift_end[k, shift[0]] - tr[base.task_loc[t], base.carer_end[k]] if len(shift) else end
            idle = min(now, leave) - end
            may_hold_break = base.break_after[k] < INF / 2 and leave - end >= base.break_dur[k]
            if idle > 0 and not may_hold_break:
                duration[t] += idle
                max_work[k] += idle
                contracted[k] += idle
        else:
            leave = old.kept_start[nxt] - tr[base.carer_start[k], base.task_loc[nxt]] if nxt >= 0 else INF
            ready = min(now, leave)
            shift_start[k] = np.where(shift_start[k] < INF / 2, np.maximum(shift_start[k], ready), shift_start[k])
    assert duration.shape == (T,)


def _keep_old_plan(model: Instance, update: DayUpdate, old: _OldPlan) -> tuple[Solution, set[int]]:
    """The old plan on the new day: facts and kept tasks on their carers in time order,
    minus what no longer fits. Returns the solution and the visits to place again."""
    sol = Solution(model)
    placements: dict[int, list[tuple[float, int]]] = {}
    for t in np.flatnonzero(old.facts):
        placements.setdefault(int(old.fact_carer[t]), []).append((old.fact_start[t], int(t)))
    kept = np.flatnonzero(old.kept_carer >= 0)
    fits = model.eligible[kept, old.kept_carer[kept]]
    for t in kept[fits]:
        placements.setdefault(int(old.kept_carer[t]), []).append((old.kept_start[t], int(t)))
    sol.place(placements)
    visit_of = {v.id: i for i, v in enumerate(update.problem.visits)}
    pending = {int(v) for v in model.task_visit[kept[~fits]]} | {visit_of[v] for v in update.renewed}
    for v in pending:
        sol.remove_visit(v)   # a double visit moves as a whole
    pending |= _fit(sol, old)
    return sol, pending


def _fit(sol: Solution, old: _OldPlan) -> set[int]:
    """Drop open tasks until the routes can be timed again; returns the visits dropped.

    Changes (an absence, a late check-out) can push later visits past their window or a
    carer past their hours: the failing carer's route is rebuilt visit by visit, keeping
    each one that still fits. Where what already happened cannot itself be timed (a
    check-in sooner than the travel times allow, a day with no room left for the break)
    the model gives way for that carer; the validator reports it against the real day.
    """
    inst = sol.inst
    A = inst.kernel_args()
    dropped: set[int] = set()
    hold = np.full(inst.n_tasks, -INF)
    no_break = np.full(inst.n_carers, -1, dtype=np.int64)

    def failing() -> int:
        return int(kernels._schedule(sol.R, sol.L, sol.route_of, no_break, sol.start, sol.lb, hold, A))

    for _ in range(2 * inst.n_carers + 2):
        k = failing()
        if k == -1:
            break
        if k == -2:   # synchronised visits that chase each other: re-place every open double visit
            doubles = {int(inst.task_visit[t]) for t in np.flatnonzero((sol.route_of >= 0) & ~old.facts)
                       if inst.task_partner[t] >= 0}
            for v in doubles:
                sol.remove_visit(v)
            dropped |= doubles
            continue
        dropped |= _rebuild(sol, k, old, failing)
        if failing() == k:
            _give_way(sol, k)
    # Breaks and working time: shorten the day of a carer who cannot fit them.
    for _ in range(inst.n_tasks + inst.n_carers):
        if sol.refresh():
            break
        failing()
        kernels.route_costs(sol.R, sol.L, sol.start, A, sol.travel, sol.working, sol.late, sol.early)
        used = [int(k) for k in np.flatnonzero(sol.L > 0)]
        short = [k for k in used if sol.working[k] > inst.max_work[k] + 1e-6
                 or kernels._lacks_break(k, sol.R, sol.L, sol.start, no_break, A)] or \
            [k for k in used if kernels.needs_break(k, sol.R, sol.L, sol.start, A)]
        if not short:
            break
        k = short[0]
        open_tasks = [t for t in sol.route(k) if not old.facts[t]]
        if open_tasks:
            v = int(inst.task_visit[open_tasks[-1]])
            sol.remove_visit(v)
            dropped.add(v)
        else:
            _give_way(sol, k)
    if not sol.refresh():
        raise RuntimeError("replan: the kept plan could not be timed")   # a bug, not bad input
    return dropped


def _give_way(sol: Solution, k: int) -> None:
    """Loosen carer k's rules in the model so that what they already did can be timed:
    their visits keep the times the kernels give them, their last shift stretches to
    get them home, and no break or working-time limit binds."""
    inst = sol.inst
    for t in sol.route(k):
        inst.task_latest[t] = INF
    s = inst.n_shifts[k] - 1
    if s >= 0:
        inst.shift_end[k, s] = max(inst.shift_end[k, s], 48 * 60.0)
    inst.break_after[k] = INF
    inst.max_work[k] = INF


def _rebuild(sol: Solution, k: int, old: _OldPlan, failing) -> set[int]:
    """Carer k's route again, task by task, without those that no longer fit."""
    inst = sol.inst
    route = sol.route(k)
    keep: list[int] = []
    dropped: set[int] = set()
    sol.set_route(k, [])
    for t in route:
        if int(inst.task_visit[t]) in dropped:
            continue
        sol.set_route(k, keep + [t])
        if old.facts[t] or failing() != k:
            keep.append(t)
        else:
            dropped.add(int(inst.task_visit[t]))
    sol.set_route(k, keep)
    for v in dropped:
        sol.remove_visit(v)
    return dropped


# --- improving around the disruption ------------------------------------------------------

def _improve(sol: Solution, old: _OldPlan, deadline: float, rng: np.random.Generator,
             settings: ReplanSettings) -> Solution:
    """Re-insert small groups of movable visits on the routes the changes touched (and
    their neighbours), and hand a visit still left out to CP-SAT with its nearest routes."""
    inst = sol.inst
    best = sol.copy()
    trial = sol.copy()
    misses = 0
    while time.monotonic() < deadline and misses < settings.patience:
        unassigned = [int(v) for v in best.unassigned_visits() if _could_be_done(inst, v)]
        if unassigned and deadline - time.monotonic() > 0.3 and misses % 10 == 0:
            trial.copy_from(best)
            if _cpsat_around(trial, unassigned[int(rng.integers(len(unassigned)))], deadline) and \
                    trial.total < best.total - 1e-9:
                best.copy_from(trial)
                misses = 0
                continue
        touched = _touched_carers(best, old)
        if not len(touched):
            break
        trial.copy_from(best)
        k = int(rng.choice(touched))
        near = [k, *_nearest_routes(trial, k, 2)]
        movable = sorted({int(inst.task_visit[t]) for c in near for t in trial.route(c) if not old.facts[t]})
        if not movable:
            misses += 1
            continue
        q = int(min(len(movable), rng.integers(2, 7)))
        removed = [int(v) for v in rng.choice(movable, size=q, replace=False)]
        for v in removed:
            trial.remove_visit(v)
        trial.refresh()
        again = removed + unassigned
        rng.shuffle(again)
        insert_visits(trial, again, rng, regret=2, noise=0.05 * rng.random(), deadline=deadline,
                      exact=set(unassigned) if rng.random() < 0.2 else set())
        if trial.feasible and trial.total < best.total - 1e-9:
            best.copy_from(trial)
            misses = 0
        else:
            misses += 1
    return best


def _could_be_done(inst: Instance, v: int) -> bool:
    return bool(all(inst.eligible[t].any() for t in inst.visit_tasks[v] if t >= 0))


def _touched_carers(sol: Solution, old: _OldPlan) -> np.ndarray:
    """Carers whose route holds an open task that was not theirs in the old plan."""
    moved = (sol.route_of >= 0) & ~old.facts & (sol.route_of != old.kept_carer)
    return np.unique(sol.route_of[moved])


def _nearest_routes(sol: Solution, k: int, count: int) -> list[int]:
    """The ``count`` other routes with a visit nearest to one of carer k's."""
    inst = sol.inst
    mine = inst.task_loc[sol.R[k, : sol.L[k]]]
    routed = np.flatnonzero((sol.route_of >= 0) & (sol.route_of != k))
    if not len(mine) or not len(routed):
        return []
    reach = inst.travel[inst.carer_mode[k]][np.ix_(mine, inst.task_loc[routed])].min(axis=0)
    nearest = np.full(inst.n_carers, INF)
    np.minimum.at(nearest, sol.route_of[routed], reach)
    order = np.argsort(nearest)[:count]
    return [int(c) for c in order if nearest[c] < INF]


def _cpsat_around(sol: Solution, v: int, deadline: float) -> bool:
    """CP-SAT re-plans the three eligible routes nearest visit ``v`` with ``v`` added,
    hinted with their current sequences."""
    inst = sol.inst
    t0 = int(inst.visit_tasks[v, 0])
    carers = np.flatnonzero(inst.eligible[[t for t in inst.visit_tasks[v] if t >= 0]].any(axis=0))
    if len(carers) == 0:
        return False
    loc = inst.task_loc[t0]
    due = inst.task_release[t0]

    def closeness(k: int) -> float:
        route = sol.R[k, : sol.L[k]]
        if not len(route):
            return float(inst.travel[inst.carer_mode[k]][inst.carer_start[k], loc]) + 60.0
        tr = inst.travel[inst.carer_mode[k]]
        return float((tr[inst.task_loc[route], loc] + np.abs(sol.start[route] - due) / 4).min())

    chosen = sorted(sorted(map(int, carers), key=closeness)[:3])
    visits = sorted({v, *(int(inst.task_visit[t]) for k in chosen for t in sol.route(k))})
    seconds = min(0.3, deadline - time.monotonic() - 0.05)
    if seconds <= 0.05:
        return False
    result = solve_subproblem(inst, sol, chosen, visits, seconds)
    if result is None:
        return False
    sol.replace_routes({k: result.routes.get(k, []) for k in chosen})
    for u in visits:
        parts = [t for t in inst.visit_tasks[u] if t >= 0]
        if len(parts) == 2 and (sol.route_of[parts[0]] < 0) != (sol.route_of[parts[1]] < 0):
            sol.remove_visit(u)
    return sol.refresh()


# --- the answer ------------------------------------------------------------------------

def _on_real_objective(base: Instance, sol: Solution, old: _OldPlan) -> Solution:
    """The searched plan on the day's real objective: same routes and times (what
    happened at its actual times), costed without the disruption terms."""
    final = Solution(base)
    for name in ("R", "L", "route_of", "start", "brk"):
        getattr(final, name)[...] = getattr(sol, name)
    final.start[old.facts] = old.fact_start[old.facts]
    final.account()
    final.feasible = final.feasible and sol.feasible
    return final


def _changes(update: DayUpdate, plan: Plan, settings: ReplanSettings) -> PlanChanges:
    before: dict[str, dict[str, float]] = {}     # carer -> visit -> planned start
    for (visit_id, _), (carer, start) in update.placed.items():
        before.setdefault(carer, {})[visit_id] = start
    after: dict[str, dict[str, float]] = {}
    for route in plan.routes:
        for pv in route.visits:
            after.setdefault(route.carer, {})[pv.visit] = pv.start
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
    # visits cancelled by the events were on their carers' days too
    for v in update.cancelled:
        for carer in update.cancelled_carers.get(v, []):
            before.setdefault(carer, {})[v] = update.cancelled_carers[v][carer]
    tol = settings.tolerance_minutes
    carers = []
    for carer in sorted(set(before) | set(after), key=_natural):
        was, now = before.get(carer, {}), after.get(carer, {})
        added = sorted((v for v in now if v not in was), key=lambda v: now[v])
        removed = sorted((v for v in was if v not in now), key=lambda v: was[v])
        retimed = [Retimed(visit=v, before=was[v], after=now[v]) for v in sorted(now, key=lambda v: now[v])
                   if v in was and v not in happened and abs(now[v] - was[v]) > tol + 1e-9]
        if added or removed or retimed:
            carers.append(CarerChanges(carer=carer, added=added, removed=removed, retimed=retimed))
    moved = []
    for v, carers_before in old_carers.items():
        if v in update.renewed or v in cancelled or v in happened or carers_before & update.named_carers:
            continue
        carers_after = new_carers.get(v, set())
        shifted = any(abs(after[c][v] - before[c][v]) > tol + 1e-9 for c in carers_before & carers_after)
        if carers_after != carers_before or shifted:
            moved.append(v)
    return PlanChanges(carers=carers, moved_visits=sorted(moved, key=_natural), cancelled=list(update.cancelled),
                       unassigned=list(plan.unassigned), warnings=list(update.warnings))


def _natural(text: str):
    import re

    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", text)]
