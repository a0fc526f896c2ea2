"""Large-neighbourhood search: remove a related group of visits, put them back better.

Each iteration picks a removal (random, related by place and time, whole routes, the
costliest visits, strings of neighbouring routes, or a slice of the day) and puts the
visits back one at a time, each where it costs least (random, window or doubles-first
order), then tries moves between routes around them (``between_routes``); every few
iterations a CP-SAT sub-model re-plans two to four neighbouring routes from the
incumbent instead. A simulated-annealing acceptance lets the search climb out of
local optima; the best solution seen is what is returned.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

from ..params import SearchParams, SolveParams
from . import between_routes
from .budget import Budget
from .cpsat_model import build_seconds, solve_subproblem, take_routes
from .insertion import insert_visits
from .instance import INF, Instance
from .solution import Solution

__all__ = ["Progress", "SearchRun", "initial_temperature", "large_neighbourhood_search", "routes_by_closeness"]

StoppedBy = Literal["time", "iterations", "no_improvement"]


@dataclass
class Progress:
    """What a progress callback receives after each improvement and periodically."""

    seconds: float
    iterations: int
    best_cost: float
    unassigned: int
    phase: str


class SearchRun(NamedTuple):
    """What a search gives back: its best solution, how many iterations it made, and
    which criterion stopped it."""

    best: Solution
    iterations: int
    stopped_by: StoppedBy


def large_neighbourhood_search(
    sol: Solution,
    deadline: float,
    rng: np.random.Generator,
    params: SolveParams | None = None,
    progress: Callable[[Progress], None] | None = None,
    started: float | None = None,
    seed: int = 0,
    max_iterations: int | None = None,
    no_improvement: int | None = None,
    temperature: float | None = None,
    cooling: tuple[float, float] = (0.0, 1.0),
) -> SearchRun:
    """Improve ``sol`` until ``deadline`` (a ``time.monotonic()`` value), ``max_iterations``
    or ``no_improvement`` iterations in a row without a better plan, whichever comes first.

    The annealing temperature falls linearly from ``temperature`` (default: from the
    parameters and ``sol``'s cost) to zero over a whole search; ``cooling`` says which
    stretch of that fall this call covers, so a search run in rounds keeps one schedule.
    """
    params = params or SolveParams()
    settings = params.search
    inst = sol.inst
    started = time.monotonic() if started is None else started
    current = sol.copy()
    best = sol.copy()
    n_visits = inst.n_visits
    if n_visits == 0:
        return SearchRun(best, 0, "iterations")
    base_temp = initial_temperature(sol, settings) if temperature is None else temperature
    cool_from, cool_to = cooling
    total_time = max(1e-3, deadline - time.monotonic())
    operators = [
        _random_removal,
        _related_removal,
        _route_removal,
        _worst_removal,
        _time_slice_removal,
        _string_removal,
    ]
    weights = np.ones(len(operators))
    neighbours = between_routes.no_neighbours(inst.n_tasks)
    iteration = 0
    last_report = 0.0
    trial = current.copy()
    cpsat_every = settings.cpsat_every
    next_cpsat = cpsat_every
    since_best = 0
    stopped_by: StoppedBy = "time"
    # A repair stops at the deadline too, and reports as it goes (a report may cancel):
    # on a big day one repair can take longer than the whole time limit.
    budget = Budget(
        stop_at=deadline,
        report=None
        if progress is None
        else lambda: progress(
            Progress(time.monotonic() - started, iteration, best.total, len(best.unassigned_visits()), "search")
        ),
    )
    while time.monotonic() < deadline:
        if max_iterations is not None and iteration >= max_iterations:
            stopped_by = "iterations"
            break
        if no_improvement is not None and since_best >= no_improvement:
            stopped_by = "no_improvement"
            break
        iteration += 1
        since_best += 1
        now = time.monotonic()
        if max_iterations:  # reproducible mode: progress by iterations, not by the clock
            frac = min(1.0, iteration / max_iterations)
        else:
            frac = min(1.0, (now - (deadline - total_time)) / total_time)
        temp = base_temp * (1.0 - (cool_from + (cool_to - cool_from) * frac)) + 1e-9
        trial.copy_from(current)
        use_cpsat = cpsat_every > 0 and iteration >= next_cpsat and inst.n_carers > 1
        if use_cpsat and deadline - now > 1.0:  # leave room to build the model
            before = current.total
            seconds = min(settings.cpsat_seconds, deadline - now - 0.1)
            ok = _cpsat_repair(
                trial,
                rng,
                settings,
                seconds,
                seed + iteration,
                deterministic=max_iterations is not None,
                build_limit=min(settings.cpsat_build_seconds, deadline - now - seconds),
            )
            op = -1
            # CP-SAT earns more turns when it improves the plan, fewer when it does not.
            gained = ok and trial.feasible and trial.total < before - 1e-9
            cpsat_every = max(10, cpsat_every // 2) if gained else min(2000, cpsat_every * 2)
            next_cpsat = iteration + cpsat_every
            if not ok:
                continue
        else:
            op = int(rng.choice(len(operators), p=weights / weights.sum()))
            assigned = trial.assigned_visits()
            q = int(rng.integers(settings.min_remove, max(settings.min_remove, settings.max_remove) + 1))
            q = max(1, min(q, len(assigned), max(settings.min_remove, int(0.4 * n_visits))))
            removed = operators[op](trial, q, rng) if len(assigned) else np.zeros(0, dtype=np.int64)
            for v in removed:
                trial.remove_visit(int(v))
            trial.refresh_removed()
            taken_out = set(map(int, removed))
            left = [int(v) for v in trial.unassigned_visits() if v not in taken_out]
            pending = list(dict.fromkeys([*map(int, removed), *left]))
            rng.shuffle(pending)
            in_order = rng.random() < settings.in_order_share
            if in_order:
                pending = _insertion_order(inst, pending, rng)
            # Visits that stayed out last time rarely fit now: the slow exact pricing is
            # tried on them only now and then, or a short-staffed day stalls the search.
            exact = taken_out | {v for v in left if rng.random() < settings.exact_retry}
            insert_visits(
                trial,
                pending,
                rng,
                regret=2 if rng.random() < 0.7 else 1,
                noise=0.1 * rng.random(),
                deadline=deadline,
                exact=exact,
                in_order=in_order,
                params=params.construction,
                budget=budget,
            )
            if settings.between_routes_tries and trial.timed:
                _improve_between_routes(trial, pending, neighbours, settings.between_routes_tries)
        if not trial.feasible:
            continue
        delta = trial.total - current.total
        improved_best = trial.total < best.total - 1e-9
        if delta < -1e-9 or rng.random() < math.exp(-delta / temp):
            current.copy_from(trial)
            if op >= 0:
                weights[op] = 0.9 * weights[op] + 0.1 * (3.0 if improved_best else 1.5 if delta < 0 else 0.5)
        if improved_best:
            best.copy_from(trial)
            since_best = 0
        if progress is not None and (improved_best or now - last_report > 0.5):
            last_report = now
            progress(Progress(now - started, iteration, best.total, len(best.unassigned_visits()), "search"))
    return SearchRun(best, iteration, stopped_by)


def _improve_between_routes(sol: Solution, visits: list[int], neighbours: np.ndarray, tries: int) -> None:
    """Moves between routes around ``visits`` (just put back) while they make the plan
    cheaper (``between_routes``); ``sol`` must be timed."""
    inst = sol.inst
    seeds = inst.visit_tasks[visits].ravel()
    seeds = seeds[seeds >= 0]
    mode = int(np.bincount(inst.carer_mode).argmax())
    terms, kept = between_routes.improve(
        inst.arrays(), inst.costs(), sol.arrays, sol.figures, inst.w_maxwait, mode, neighbours, seeds, tries
    )
    if kept:
        sol.take(terms)


def _insertion_order(inst: Instance, pending: list[int], rng) -> list[int]:
    """One of three orders for putting visits back one at a time (SISR-style): as
    shuffled, earliest window first, or double-handed and longest visits first."""
    order = int(rng.integers(3))
    first_task = inst.visit_tasks[pending, 0]
    if order == 1:
        key = inst.task_release[first_task]
    elif order == 2:
        key = -inst.task_dur[first_task] - 1e6 * (inst.visit_tasks[pending, 1] >= 0)
    else:
        return pending
    return [pending[i] for i in np.argsort(key, kind="stable")]


def initial_temperature(sol: Solution, settings: SearchParams) -> float:
    """The starting temperature: a share of the plan's soft cost per visit."""
    c = sol.cost
    soft = c.lateness + c.max_lateness + c.earliness + c.travel + c.assignment + c.overtime
    return settings.start_temperature * max(1.0, soft) / max(1, sol.inst.n_visits)


# --- removals: each returns visit indices currently assigned -----------------------------


def _typical_travel(inst: Instance) -> np.ndarray:
    """The travel matrix of the mode most carers use (for measuring closeness)."""
    return inst.travel[int(np.bincount(inst.carer_mode).argmax())]


def _random_removal(sol: Solution, q: int, rng) -> np.ndarray:
    assigned = sol.assigned_visits()
    return rng.choice(assigned, size=min(q, len(assigned)), replace=False)


def _visit_features(sol: Solution, visits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inst = sol.inst
    t0 = inst.visit_tasks[visits, 0]
    return inst.task_loc[t0], sol.start[t0]


def _related_removal(sol: Solution, q: int, rng) -> np.ndarray:
    inst = sol.inst
    assigned = sol.assigned_visits()
    seed = rng.choice(assigned)
    locs, starts = _visit_features(sol, assigned)
    seed_loc, seed_start = _visit_features(sol, np.array([seed]))
    tr = _typical_travel(inst)
    dist = tr[seed_loc[0], locs] + tr[locs, seed_loc[0]]
    relatedness = dist / (dist.mean() + 1e-9) + np.abs(starts - seed_start[0]) / (
        np.abs(starts - seed_start[0]).mean() + 1e-9
    )
    relatedness *= 1.0 + 0.3 * rng.random(len(assigned))
    return assigned[np.argsort(relatedness)[:q]]


def _route_removal(sol: Solution, q: int, rng) -> np.ndarray:
    """Every visit of one route and, usually, of a neighbouring one (``q`` is not used)."""
    inst = sol.inst
    used = np.flatnonzero(sol.L > 0)
    first = rng.choice(used)
    chosen = [first]
    if len(used) > 1 and rng.random() < 0.7:
        nearest = routes_by_closeness(sol, int(first), used)
        chosen.append(nearest[int(rng.integers(0, min(3, len(nearest))))])
    tasks = np.concatenate([sol.R[k, : sol.L[k]] for k in chosen])
    return np.unique(inst.task_visit[tasks])


def _worst_removal(sol: Solution, q: int, rng) -> np.ndarray:
    """The visits that cost most where they are (``removal_savings``), with some noise."""
    assigned = sol.assigned_visits()
    score = removal_savings(sol)[assigned]
    score *= rng.random(len(assigned)) ** 0.3
    return assigned[np.argsort(-score)[:q]]


def removal_savings(sol: Solution) -> np.ndarray:
    """Per visit, what its parts cost where they are: the detour to them (weighted travel),
    their lateness and assignment costs (0 for a visit not planned). All routes at once:
    a loop over a council day's 5,000 visits took 50 ms a call."""
    inst = sol.inst
    K, M = sol.R.shape
    on_route = np.arange(M)[None, :] < sol.L[:, None]
    tasks = sol.R[on_route]  # route by route, in order
    carer = np.repeat(np.arange(K), sol.L)
    position = np.broadcast_to(np.arange(M), (K, M))[on_route]
    here = inst.task_loc[tasks]
    before = np.where(position == 0, inst.carer_start[carer], np.roll(here, 1))
    after = np.where(position == sol.L[carer] - 1, inst.carer_end[carer], np.roll(here, -1))
    mode = inst.carer_mode[carer]
    detour = inst.travel[mode, before, here] + inst.travel[mode, here, after] - inst.travel[mode, before, after]
    cost = inst.w_travel * detour + inst.w_late * sol.late[tasks] + inst.assign_cost[tasks, carer]
    savings = np.bincount(inst.task_visit[tasks], weights=cost, minlength=inst.n_visits)
    return savings.astype(float, copy=False)  # int when no route has a visit


def _string_removal(sol: Solution, q: int, rng) -> np.ndarray:
    """Strings of consecutive visits from the routes nearest a seed visit (SISR-style)."""
    inst = sol.inst
    assigned = sol.assigned_visits()
    seed = int(rng.choice(assigned))
    seed_loc = inst.task_loc[inst.visit_tasks[seed, 0]]
    tr = _typical_travel(inst)
    used = np.flatnonzero(sol.L > 0)
    closest: list[tuple[float, int, int]] = []  # (trip to the seed, route, nearest position)
    for carer in used:
        row = sol.R[carer, : sol.L[carer]]
        d = tr[seed_loc, inst.task_loc[row]]
        nearest = int(np.argmin(d))
        closest.append((float(d[nearest]), int(carer), nearest))
    closest.sort()
    removed: set[int] = set()
    n_routes = max(1, min(len(closest), 1 + q // 6))
    for _, k, i in closest[:n_routes]:
        n = int(sol.L[k])
        length = int(rng.integers(1, min(n, max(2, q // n_routes + 1)) + 1))
        first = max(0, min(n - length, i - int(rng.integers(0, length))))
        removed.update(int(inst.task_visit[t]) for t in sol.R[k, first : first + length])
    return np.array(sorted(removed), dtype=np.int64)


def _time_slice_removal(sol: Solution, q: int, rng) -> np.ndarray:
    assigned = sol.assigned_visits()
    _, starts = _visit_features(sol, assigned)
    centre = rng.choice(starts)
    return assigned[np.argsort(np.abs(starts - centre))[:q]]


# --- CP-SAT repair -----------------------------------------------------------------------


def routes_by_closeness(sol: Solution, first: int, used: np.ndarray) -> list[int]:
    """The other used routes, nearest first: by the shortest trip from a visit of route
    ``first`` to one of theirs (in ``first``'s travel mode); ties in carer order."""
    inst = sol.inst
    others = np.array([k for k in used if k != first], dtype=np.int64)
    mine = inst.task_loc[sol.R[first, : sol.L[first]]]
    if not len(others) or not len(mine):
        return others.tolist()
    tasks = np.flatnonzero(np.isin(sol.route_of, others))
    reach = inst.travel[inst.carer_mode[first]][np.ix_(mine, inst.task_loc[tasks])].min(axis=0)
    nearest = np.full(inst.n_carers, np.inf)
    np.minimum.at(nearest, sol.route_of[tasks], reach)
    return others[np.argsort(nearest[others], kind="stable")].tolist()


def _neighbouring_routes(sol: Solution, count: int, rng) -> list[int]:
    """A random used route and the routes whose visits lie closest to it."""
    used = np.flatnonzero(sol.L > 0)
    first = int(rng.choice(used))
    return sorted([first, *routes_by_closeness(sol, first, used)[: count - 1]])


def _cpsat_repair(
    sol: Solution,
    rng,
    settings: SearchParams,
    seconds: float,
    seed: int,
    deterministic: bool = False,
    build_limit: float = INF,
) -> bool:
    """Re-plan a few neighbouring routes (and the unassigned visits) with CP-SAT; not
    when its model would take more than ``build_limit`` seconds to build."""
    inst = sol.inst
    used = np.flatnonzero(sol.L > 0)
    if len(used) == 0:
        return False
    carers = _neighbouring_routes(sol, settings.cpsat_routes, rng)
    # parts on other carers stay frozen there (the model pins their times); unassigned
    # visits these carers could take come along
    unassigned = [
        int(v) for v in sol.unassigned_visits() if any(inst.eligible[inst.visit_tasks[v, 0], k] for k in carers)
    ]
    visits = sorted({int(inst.task_visit[t]) for k in carers for t in sol.route(k)} | set(unassigned[:10]))
    if build_seconds(inst, carers, visits) > build_limit:
        return False
    result = solve_subproblem(
        inst, sol, carers, visits, seconds, seed=seed, workers=settings.cpsat_workers, deterministic=deterministic
    )
    if result is None:
        return False
    return take_routes(sol, result, carers, visits)
