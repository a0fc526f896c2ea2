"""The day as it stands at ``now``: the plan's past fixed, its near future held, as a model.

Replanning and recommendations both start here. Given a day, its published plan and a
batch of events, ``live_day`` applies the events and compiles a copy of the day's model
in which what already happened stays with its carer at its actual time, visits about to
start stay with their carer, nothing starts before ``now`` or earlier than it was
planned, and giving a planned visit to another carer or starting it well after its
planned time costs extra. The old plan is loaded into that model, minus what no longer
fits; what it dropped is what has to be placed again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..domain import Problem
from ..params import ReplanSettings
from ..plan import Plan
from ..search import timing
from ..search.instance import EPS, INF, Instance, compile_problem, fits_a_shift
from ..search.solution import Solution
from .apply import END_OF_DAY, DayUpdate, apply_events
from .events import EventBatch

__all__ = ["LiveDay", "OldPlan", "live_day", "on_real_objective"]


@dataclass
class LiveDay:
    update: DayUpdate
    base: Instance
    """The day's real model (its objective is what plans are costed with)."""
    model: Instance
    """The copy that holds the past and prices disruption."""
    old: OldPlan
    solution: Solution
    """The old plan in ``model``, minus what no longer fits."""
    pending: set[int]
    """Visits to place: dropped from the old plan, added or changed by the events."""
    relaxed: dict[int, set[str]]
    """Carers whose rules what already happened breaks: ``times``, ``break``, ``hours``."""


def live_day(
    problem: Problem, plan: Plan, events: EventBatch | list, now: float | str | None, settings: ReplanSettings
) -> LiveDay:
    """Apply ``events`` at ``now`` and load ``plan`` into the model of the day that results."""
    update = apply_events(problem, plan, events, now)
    day = _load(update, settings)
    # A double-handed visit one carer has started whose other part cannot stay with its
    # carer: the other part can no longer start with them, so it was done alone.
    half_done = {
        int(day.base.task_visit[t]): int(day.base.task_part[t])
        for t in np.flatnonzero(day.old.facts)
        if day.base.task_partner[t] >= 0
        and not day.old.facts[day.base.task_partner[t]]
        and day.solution.route_of[t] < 0
    }
    if half_done:
        for v, part in half_done.items():
            update.record_done_alone(update.problem.visits[v].id, part)
        day = _load(update, settings)
    return day


def _load(update: DayUpdate, settings: ReplanSettings) -> LiveDay:
    base = compile_problem(update.problem)
    old = _old_plan(base, update)
    model = _disruption_model(base, update, old, settings)
    sol, pending, relaxed = _keep_old_plan(model, update, old)
    return LiveDay(update, base, model, old, sol, pending, relaxed)


def on_real_objective(base: Instance, sol: Solution, old: OldPlan) -> Solution:
    """The searched plan on the day's real objective: same routes and times (what
    happened at its actual times), costed without the disruption terms."""
    final = Solution(base)  # (its route table may be wider or narrower than the model's)
    final.replace_routes({k: sol.route(k) for k in range(base.n_carers) if sol.L[k]})
    final.start[...] = sol.start
    final.start[old.facts] = old.fact_start[old.facts]
    final.account()
    final.feasible = final.feasible and sol.feasible
    return final


@dataclass
class OldPlan:
    """Per task: who did it and when (``fact_*``: done or under way at ``now``) and who had
    it in the old plan and when (``kept_*``: the rest); carer -1 when none."""

    fact_carer: np.ndarray
    fact_start: np.ndarray
    kept_carer: np.ndarray
    kept_start: np.ndarray

    @property
    def facts(self) -> np.ndarray:
        return self.fact_carer >= 0


def _old_plan(base: Instance, update: DayUpdate) -> OldPlan:
    T = base.n_tasks
    old = OldPlan(np.full(T, -1, dtype=np.int64), np.zeros(T), np.full(T, -1, dtype=np.int64), np.zeros(T))
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


def _disruption_model(base: Instance, update: DayUpdate, old: OldPlan, settings: ReplanSettings) -> Instance:
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
    eligible[open_tasks] &= fits_a_shift(
        shift_start, base.shift_end, release[open_tasks], latest[open_tasks], duration[open_tasks]
    )
    return dataclasses.replace(
        base,
        task_release=release,
        task_latest=latest,
        task_tgt_start=tgt_start,
        task_tgt_end=tgt_end,
        task_dur=duration,
        eligible=eligible,
        assign_cost=assign_cost,
        task_pin=task_pin,
        shift_start=shift_start,
        shift_end=base.shift_end.copy(),
        break_after=base.break_after.copy(),
        max_work=max_work,
        contracted=contracted,
    )


def _hold_the_present(
    base: Instance,
    old: OldPlan,
    now: float,
    duration: np.ndarray,
    shift_start: np.ndarray,
    max_work: np.ndarray,
    contracted: np.ndarray,
) -> None:
    """Keep carers from setting off in the past.

    A carer with nothing done yet leaves home no earlier than now (or than they set off
    for their next planned visit); one with visits done stays at the last of them until
    now (or until they set off for their next visit, or home), which the model says by
    lengthening that visit. A gap that may hold their break is left alone.
    """
    first_kept = {}
    for t in np.flatnonzero(old.kept_carer >= 0)[np.argsort(-old.kept_start[old.kept_carer >= 0])]:
        first_kept[int(old.kept_carer[t])] = int(t)  # the earliest wins (visited last)
    last_fact = {}
    facts = np.flatnonzero(old.facts)
    for t in facts[np.argsort(old.fact_start[facts])]:
        last_fact[int(old.fact_carer[t])] = int(t)  # the latest wins
    for k in range(base.n_carers):
        tr = base.travel[base.carer_mode[k]]
        nxt = first_kept.get(k, -1)
        if k in last_fact:
            t = last_fact[k]
            end = old.fact_start[t] + duration[t]
            shift = np.flatnonzero(
                (base.shift_start[k] <= old.fact_start[t] + 1e-6) & (base.shift_end[k] >= end - 1e-6)
            )
            shift_end = base.shift_end[k, shift[0]] if len(shift) else end
            if nxt >= 0:
                leave = old.kept_start[nxt] - tr[base.task_loc[t], base.task_loc[nxt]]
            else:  # home by the end of the shift it is in
                leave = shift_end - tr[base.task_loc[t], base.carer_end[k]]
            idle = min(now, leave, shift_end) - end
            may_hold_break = base.break_after[k] < INF / 2 and leave - end >= base.break_dur[k] - EPS
            if idle > 0 and not may_hold_break:
                duration[t] += idle
                max_work[k] += idle
                contracted[k] += idle
        else:
            leave = old.kept_start[nxt] - tr[base.carer_start[k], base.task_loc[nxt]] if nxt >= 0 else INF
            ready = min(now, leave)
            shift_start[k] = np.where(shift_start[k] < INF / 2, np.maximum(shift_start[k], ready), shift_start[k])


def _keep_old_plan(model: Instance, update: DayUpdate, old: OldPlan) -> tuple[Solution, set[int], dict]:
    """The old plan on the new day: facts and kept tasks on their carers in time order,
    minus what no longer fits. Returns the solution, the visits to place again and the
    rules that had to give way (see ``_fit``)."""
    sol = Solution(model)
    placements: dict[int, list[tuple[float, int]]] = {}
    for t in np.flatnonzero(old.facts):
        placements.setdefault(int(old.fact_carer[t]), []).append((old.fact_start[t], int(t)))
    kept = np.flatnonzero(old.kept_carer >= 0)
    fits = model.eligible[kept, old.kept_carer[kept]]
    for t in kept[fits]:  # after what happened: nothing open starts before now
        at = max(old.kept_start[t], update.now + 1e-6)
        placements.setdefault(int(old.kept_carer[t]), []).append((at, int(t)))
    sol.place(placements)
    visit_of = {v.id: i for i, v in enumerate(update.problem.visits)}
    pending = {int(v) for v in model.task_visit[kept[~fits]]} | {visit_of[v] for v in update.renewed}
    for v in pending:
        sol.remove_visit(v)  # a double visit moves as a whole (one half done is settled by live_day)
    dropped, relaxed = _fit(sol, old)
    return sol, pending | dropped, relaxed


def _fit(sol: Solution, old: OldPlan) -> tuple[set[int], dict[int, set[str]]]:
    """Drop open tasks until the routes can be timed again.

    Changes (an absence, a late check-out) can push later visits past their window or a
    carer past their hours: the failing carer's route is rebuilt visit by visit, keeping
    each one that still fits. Where what already happened cannot itself be timed, the
    model gives way for that carer: ``times`` (facts at the times the travel allows,
    the last shift stretched home), ``break`` or ``hours`` (that limit lifted).
    Returns the visits dropped and what gave way, per carer.
    """
    inst = sol.inst
    day = inst.arrays()
    dropped: set[int] = set()
    relaxed: dict[int, set[str]] = {}
    # the routes timed as they are: no breaks placed, no day started later
    unbroken = sol.arrays._replace(brk=np.full(inst.n_carers, -1, dtype=np.int64), hold=np.full(inst.n_tasks, -INF))

    def failing() -> int:
        return int(timing.failing_route(day, unbroken))

    for _ in range(2 * inst.n_carers + 2):
        k = failing()
        if k == -1:
            break
        if k == -2:  # synchronised visits that chase each other: re-place every open double visit
            doubles = {
                int(inst.task_visit[t])
                for t in np.flatnonzero((sol.route_of >= 0) & ~old.facts)
                if inst.task_partner[t] >= 0
            }
            for v in doubles:
                sol.remove_visit(v)
            dropped |= doubles
            continue
        dropped |= _rebuild(sol, k, old, failing)
        if failing() == k:
            _free_the_past(inst, sol.route(k), k, old)
            relaxed.setdefault(k, set()).add("times")
    for k in relaxed:  # what happened now keeps the times the model could give it
        for t in sol.route(k):
            if old.facts[t]:
                inst.task_latest[t] = sol.start[t]
    # Breaks and working time: shorten the day of a carer who cannot fit them.
    for _ in range(inst.n_tasks + inst.n_carers):
        if sol.refresh():
            break
        failing()
        timing.route_costs(day, sol.arrays, sol.figures)
        used = [int(k) for k in np.flatnonzero(sol.L > 0)]
        over = {k for k in used if sol.working[k] > inst.max_work[k] + 1e-6}
        short = [k for k in used if k in over or timing.lacks_break(day, unbroken, k)] or [
            k for k in used if timing.needs_break(day, sol.arrays, k)
        ]
        if not short:
            break
        k = short[0]
        open_tasks = [t for t in sol.route(k) if not old.facts[t]]
        if open_tasks:
            v = int(inst.task_visit[open_tasks[-1]])
            sol.remove_visit(v)
            dropped.add(v)
        elif k in over:
            inst.max_work[k] = INF
            relaxed.setdefault(k, set()).add("hours")
        else:
            inst.break_after[k] = INF
            relaxed.setdefault(k, set()).add("break")
    if not sol.refresh():
        raise RuntimeError("replan: the kept plan could not be timed")  # a bug, not bad input
    return dropped, relaxed


def _free_the_past(inst: Instance, route: list[int], k: int, old: OldPlan) -> None:
    """Let carer k's facts start when the travel times allow (a check-in sooner than
    they allow) and their last shift stretch to get them home."""
    for t in route:
        if old.facts[t]:
            inst.task_latest[t] = INF
    s = inst.n_shifts[k] - 1
    if s >= 0:
        inst.shift_end[k, s] = max(inst.shift_end[k, s], END_OF_DAY)


def _rebuild(sol: Solution, k: int, old: OldPlan, failing) -> set[int]:
    """Carer k's route again, task by task, without those that no longer fit."""
    inst = sol.inst
    route = sol.route(k)
    keep: list[int] = []
    dropped: set[int] = set()
    sol.set_route(k, [])
    for t in route:
        if int(inst.task_visit[t]) in dropped:
            continue
        sol.set_route(k, [*keep, t])
        if old.facts[t] or failing() != k:
            keep.append(t)
        else:
            dropped.add(int(inst.task_visit[t]))
    sol.set_route(k, keep)
    for v in dropped:
        sol.remove_visit(v)
    return dropped
