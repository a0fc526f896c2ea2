"""Regret insertion: put unassigned visits where they cost least, hardest first.

Used to build the first plan and as the fast repair of the large-neighbourhood search.
Every task of a pending visit keeps a cache of its cheapest position on every carer, so
after an insertion only the touched carers are priced again; double-handed visits
combine their two parts' caches into a synchronised placement each round.
"""

from __future__ import annotations

import time

import numpy as np

from ..params import ConstructionParams
from . import placing, pricing
from .budget import Budget
from .instance import INF
from .records import Pending, PriceCache
from .solution import Solution

__all__ = ["insert_visits"]

DEFAULTS = ConstructionParams()

Move = list[tuple[int, int, int]]
"""Where a visit goes: (task, carer, position) for each of its one or two parts."""


def insert_visits(
    sol: Solution,
    visits,
    rng: np.random.Generator | None = None,
    regret: int = 2,
    noise: float = 0.0,
    deadline: float | None = None,
    exact=None,
    in_order: bool = False,
    params: ConstructionParams = DEFAULTS,
    budget: Budget | None = None,
    shortlist: int = 0,
    carers: np.ndarray | None = None,
) -> list[int]:
    """Insert ``visits`` into ``sol`` (which must be refreshed); return those left out.

    With ``in_order`` each visit in turn goes to its cheapest place (no regret): every
    visit is priced once, so a search's repair costs much less than with regret.

    A visit the kernels cannot place gets the slow exact pricing if it is in ``exact``
    (every visit when None), and only before ``deadline`` (a ``time.monotonic()``
    value), so a search keeps its time limit; the quick pricing always runs.

    With a ``budget``, no visit is placed after its ``stop_at``: the rest are left out
    and added to ``budget.untried``; ``budget.step`` is called after every placement.

    With ``shortlist`` (and ``in_order``) each part of a visit is priced in full only on
    that many carers, those ``pricing.shortlist`` ranks first, and on every other carer
    only when none of those can take it: a big day's first plan, not the search.

    With ``carers`` (an array of carer numbers) the visits go only to those carers'
    routes, without the exact pricing: a replan's small repairs near the carers it
    changed.
    """
    inst = sol.inst
    pending = [int(v) for v in visits]
    if budget is not None and budget.spent():
        budget.untried.update(pending)
        return pending
    if budget is not None and budget.stop_at is not None:  # the slow pricing stops by then too
        deadline = budget.stop_at if deadline is None else min(deadline, budget.stop_at)
    if in_order and len(pending) > 1:
        return [
            out
            for v in pending
            for out in insert_visits(
                sol,
                [v],
                rng,
                1,
                noise,
                deadline,
                exact,
                params=params,
                budget=budget,
                shortlist=shortlist,
                carers=carers,
            )
        ]
    if len(pending) > params.batch:
        # A council day has thousands of visits: regret over all of them at once prices
        # every pending visit after every insertion. Batches of visits whose windows
        # open together keep that bounded and still let a batch's visits compete.
        opens = inst.task_release[inst.visit_tasks[pending, 0]]
        ordered = [pending[i] for i in np.argsort(opens, kind="stable")]
        batches = [ordered[b : b + params.batch] for b in range(0, len(ordered), params.batch)]
        return [
            out
            for batch in batches
            for out in insert_visits(
                sol, batch, rng, regret, noise, deadline, exact, params=params, budget=budget, carers=carers
            )
        ]
    if not pending:
        return []
    if len(pending) == 1 and regret < 2 and shortlist == 0 and inst.visit_tasks[pending[0], 1] < 0:
        if _insert_single(sol, pending[0], rng, noise, deadline, exact, params, budget, carers):
            return []
        return pending
    day, costs = inst.arrays(), inst.costs()
    K = inst.n_carers
    # Caches: one row per pending task, its cheapest position (and start) on each carer.
    row_of: dict[int, int] = {}
    for v in pending:
        for t in inst.visit_tasks[v]:
            if t >= 0:
                row_of[int(t)] = len(row_of)
    rows = np.array(list(row_of), dtype=np.int64)
    cache = PriceCache(
        rows, np.full((len(rows), K), INF), np.full((len(rows), K), -1, dtype=np.int64), np.full((len(rows), K), INF)
    )
    all_carers = np.arange(K, dtype=np.int64) if carers is None else np.asarray(carers, dtype=np.int64)
    work = sol.scratch()
    stale = all_carers
    cur_max = sol.max_lateness()
    left_out: list[int] = []
    retries: dict[int, int] = {}
    rng = rng or np.random.default_rng(0)
    # One single-handed visit without regret: only its cheapest carer matters.
    cheapest_only = len(pending) == 1 and regret < 2 and inst.visit_tasks[pending[0], 1] < 0
    short = np.zeros(0, dtype=np.int64)
    if len(pending) == 1 and regret < 2 and 0 < shortlist < K:
        t0, t1 = (int(t) for t in inst.visit_tasks[pending[0]])
        short = pricing.shortlist(day, costs, sol.arrays, t0, shortlist)
        if t1 >= 0:  # either part's likely carers, and the one it is pinned to
            short = np.union1d(short, pricing.shortlist(day, costs, sol.arrays, t1, shortlist))
            if inst.task_pin[t0] >= 0:
                short = np.union1d(short, [int(inst.task_pin[t0])])
        stale = short
    ruled_out: set[int] = set()
    while pending:
        if budget is not None and not budget.step():
            budget.untried.update(pending)
            left_out.extend(pending)
            break
        if len(stale):
            pricing.price_pending(day, costs, sol.arrays, work, cache, stale, cur_max, cheapest_only)
        pend = np.array(pending, dtype=np.int64)
        t0s = inst.visit_tasks[pend, 0]
        t1s = inst.visit_tasks[pend, 1]
        row0 = np.array([row_of[int(t)] for t in t0s], dtype=np.int64)
        row1 = np.array([row_of[int(t)] if t >= 0 else -1 for t in t1s], dtype=np.int64)
        jitter = noise * rng.random(len(pend)) if noise else np.zeros(len(pend))
        choice = Pending(pend, row0, row1, t0s, t1s, inst.task_pin[t0s], jitter, regret, params.pair_candidates)
        i, best_cost, k0, p0, k1, p1 = pricing.choose_insertion(day, costs, sol.arrays, work, choice, cache, cur_max)
        if len(short) and (k0 < 0 or best_cost > inst.visit_penalty[pending[int(i)]]):
            # none of the shortlist can take it (at less than leaving it out): price everyone else
            stale = np.setdiff1d(all_carers, short)
            short = np.zeros(0, dtype=np.int64)
            continue
        v = pending.pop(int(i))
        t0, t1 = int(t0s[i]), int(t1s[i])
        best_move: Move | None = None
        if k0 >= 0:
            best_move = [(t0, int(k0), int(p0))] if t1 < 0 else [(t0, int(k0), int(p0)), (t1, int(k1), int(p1))]
        if (
            best_move is None
            and carers is None  # the exact pricing looks at every carer
            and (exact is None or v in exact)
            and (deadline is None or time.monotonic() < deadline)
        ):
            best_cost, best_move = _exact_best(sol, v, deadline, params.exact_candidates)
        if best_move is None or best_cost > inst.visit_penalty[v]:
            left_out.append(v)
            stale = np.zeros(0, dtype=np.int64)
            continue
        sol.snapshot()  # to undo the placement
        for t, k, p in best_move:
            sol.insert(t, k, p)
        placed = [(t, k) for t, k, _ in best_move]
        touched = [k for _, k in placed]
        sol.refresh_inserted(np.array(touched, dtype=np.int64), np.array([t for t, _ in placed], dtype=np.int64))
        if not sol.feasible:
            # A break or synchronisation knock-on the pricing could not see: undo, rule
            # that placement out and let the visit try its next best (a few times). The
            # plan goes back exactly as it was: timing it afresh might place breaks anew.
            sol.restore()
            retries[v] = retries.get(v, 0) + 1
            stale = np.zeros(0, dtype=np.int64)
            if retries[v] <= params.max_retries:
                for t, k in placed:
                    cache.cost[row_of[t], k] = INF
                    ruled_out.add(k)
                pending.append(v)
                if cheapest_only:  # the other carers' costs were not kept: price them again
                    stale = np.array([k for k in all_carers if k not in ruled_out], dtype=np.int64)
            else:
                left_out.append(v)
            continue
        for t, _ in placed:
            rows[row_of[t]] = -1  # placed: no longer priced
        new_max = sol.max_lateness()
        if new_max > cur_max + 1e-9 and inst.w_maxlate > 0:
            stale = all_carers
        else:
            stale = np.array(sorted(set(touched)), dtype=np.int64)
        cur_max = new_max
    return left_out


def _insert_single(
    sol: Solution,
    v: int,
    rng: np.random.Generator | None,
    noise: float,
    deadline: float | None,
    exact,
    params: ConstructionParams,
    budget: Budget | None,
    carers: np.ndarray | None,
) -> bool:
    """``insert_visits`` for one single-handed visit without regret (a search's repair
    puts its visits back one by one): the same choices without the regret's caches, as
    only the cheapest carer matters. Returns whether the visit was placed."""
    inst = sol.inst
    day, costs = inst.arrays(), inst.costs()
    K = inst.n_carers
    t = int(inst.visit_tasks[v, 0])
    stale = np.arange(K, dtype=np.int64) if carers is None else np.asarray(carers, dtype=np.int64)
    work, buffers = sol.placing_space()
    cur_max = sol.max_lateness()
    rng = rng or np.random.default_rng(0)
    tries = 0
    while True:
        if budget is not None and not budget.step():
            budget.untried.add(v)
            return False
        if noise:
            rng.random(1)  # the draw the regret's jitter takes: one random stream either way
        refused = False  # the cheapest carer's timing turned the visit down
        if sol.timed:  # price, insert and time in one compiled call
            spare = sol.spare()
            status, k, result = placing.place_cheapest(
                day,
                costs,
                sol.arrays,
                sol.figures,
                spare.arrays,
                spare.figures,
                work,
                t,
                stale,
                cur_max,
                inst.visit_penalty[v],
                buffers,
            )
            if status == placing.PLACED:
                sol.take(result)
                return True
            if status == placing.LEFT_OUT:
                return False
            refused = status == placing.RULED_OUT
            cost, p = INF, -1
        else:
            cost, k, p = pricing.cheapest_place(day, costs, sol.arrays, work, t, stale, cur_max, *buffers)
        if not refused:
            if k < 0:
                if carers is not None or (exact is not None and v not in exact):
                    return False
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                cost, move = _exact_best(sol, v, deadline, params.exact_candidates)
                if move is None:
                    return False
                (t, k, p), *_ = move
            if cost > inst.visit_penalty[v]:
                return False
            sol.snapshot()  # to undo the placement
            sol.insert(t, int(k), int(p))
            sol.refresh_inserted(np.array([k], dtype=np.int64), np.array([t], dtype=np.int64))
            if sol.feasible:
                return True
            sol.restore()  # as in ``insert_visits``: undo exactly, then the next best carer
        tries += 1
        if tries > params.max_retries:
            return False
        stale = stale[stale != k]


def _natural_positions(sol: Solution, t: int, k: int) -> list[int]:
    """Where a task fits chronologically in carer k's route, and its neighbours."""
    n = int(sol.L[k])
    starts = sol.start[sol.R[k, :n]]
    p = int(np.searchsorted(starts, sol.inst.task_release[t]))
    return sorted({max(0, min(n, q)) for q in (p - 1, p, p + 1, n)})


def _exact_best(sol: Solution, v: int, deadline: float | None, most: int) -> tuple[float, Move | None]:
    """Price a visit by re-timing the plan for each candidate placement.

    Slower than the kernels but exact for every knock-on (breaks moving, partners
    pushed in turn; the whole day is re-timed where the moved routes cannot take it),
    so it can place a visit the kernels' pricing turned down. Used only for visits the
    kernels cannot place.
    """
    inst = sol.inst
    base = sol.total
    t0, t1 = int(inst.visit_tasks[v, 0]), int(inst.visit_tasks[v, 1])
    carers0 = [int(k) for k in np.flatnonzero(inst.eligible[t0]) if sol.room(int(k))]
    best_cost, best_move = INF, None
    trial = sol.copy()
    candidates: list[Move]
    if t1 < 0:
        candidates = [[(t0, k, p)] for k in carers0 for p in _natural_positions(sol, t0, k)]
    else:
        carers1 = [int(k) for k in np.flatnonzero(inst.eligible[t1]) if sol.room(int(k))]
        pin = int(inst.task_pin[t0])
        at0 = {k: _natural_positions(sol, t0, k)[-2:] for k in carers0}
        at1 = {k: _natural_positions(sol, t1, k)[-2:] for k in carers1}
        candidates = [
            [(t0, k0, p0), (t1, k1, p1)]
            for k0 in carers0
            for k1 in carers1
            if k0 != k1 and (pin < 0 or pin in (k0, k1))
            for p0 in at0[k0]
            for p1 in at1[k1]
        ]
    if len(candidates) > most:  # keep this fallback bounded on big days
        keep = np.random.default_rng(v).choice(len(candidates), most, replace=False)
        candidates = [candidates[i] for i in sorted(keep)]
    for i, move in enumerate(candidates):
        if deadline is not None and i % 32 == 31 and time.monotonic() > deadline:
            break
        trial.copy_from(sol)
        for t, k, p in move:
            trial.insert(t, k, p)
        # the routes it moves, or the whole day where a rule or a break needs it
        moved = np.array([k for _, k, _ in move], dtype=np.int64)
        if trial.refresh_inserted(moved, np.array([t for t, _, _ in move], dtype=np.int64)):
            cost = trial.total - base + inst.visit_penalty[v]
            if cost < best_cost:
                best_cost, best_move = cost, move
    return best_cost, best_move
