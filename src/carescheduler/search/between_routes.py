"""Local search between routes: move a visit to another carer (or elsewhere in its own
route), swap two carers' visits, or swap the ends of two carers' days (2-opt*), keeping a
move only when the plan costs less.

The search's repair puts visits back one at a time, each where it costs least as the
plan then stands. On long routes the order they went back in leaves gains no single
re-insertion finds: two carers crossing each other's paths all afternoon, say. After a
repair, ``improve`` tries these moves around the visits just put back, each between a
visit and one of its nearest neighbours (a granular neighbourhood). A move's travel is
priced first at the joins it changes; only one that saves travel there is timed, on
the two routes it changes, and kept if the whole plan then costs less.

The parts of double-handed visits stay on their carers at the times they have: a move
that would start one earlier or later is turned down, so the partner's route, which these
moves do not time, always still fits.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .records import EPS, INF
from .timing import _break_slot, _carer_costs, _forward, _lacks_break, _right_shift_carer, _sum_terms, carer_route

__all__ = ["NEAREST", "improve", "nearest_tasks", "no_neighbours"]

NEAREST = 10
"""How many nearest tasks each task is tried with."""

# the moves, as (route 1, position 1, route 2, position 2)
_TAILS = 0  # route 1 keeps [:p1 + 1] then takes route 2's [p2:]; route 2 keeps [:p2] then takes route 1's rest
_RELOCATE = 1  # route 1's task at p1 goes before position p2 of route 2
_SWAP = 2  # route 1's task at p1 and route 2's at p2 trade places


def no_neighbours(n_tasks: int) -> np.ndarray:
    """The empty table ``nearest_tasks`` fills row by row as tasks are first tried."""
    return np.full((n_tasks, NEAREST), -2, dtype=np.int64)


@njit(cache=True)
def nearest_tasks(day, mode, neighbours, t):
    """Row t of ``neighbours``, worked out the first time it is asked for: the tasks
    nearest task t, there and back in travel mode ``mode`` (-1 pads a short day)."""
    if neighbours[t, 0] != -2:
        return neighbours[t]
    count = neighbours.shape[1]
    tr = day.travel[mode]
    loc = day.task_loc
    here = loc[t]
    best_d = np.full(count, INF)
    best_u = np.full(count, -1, dtype=np.int64)
    for u in range(loc.shape[0]):
        if u == t:
            continue
        d = tr[here, loc[u]] + tr[loc[u], here]
        if d >= best_d[count - 1]:
            continue
        i = count - 1
        while i > 0 and best_d[i - 1] > d:
            best_d[i] = best_d[i - 1]
            best_u[i] = best_u[i - 1]
            i -= 1
        best_d[i] = d
        best_u[i] = u
    neighbours[t] = best_u
    return neighbours[t]


@njit(cache=True)
def _weighted(day, w_maxwait, terms):
    """``Cost.total`` of ``timing``'s raw terms (INF when a carer works too long)."""
    within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime, wait, wait_max, past_end = terms
    if not within:
        return INF
    return (
        unassigned
        + day.w_late * late_sum
        + day.w_maxlate * late_max
        + day.w_early * early_sum
        + day.w_travel * travel
        + assignment
        + day.w_overtime * overtime
        + day.w_wait * wait
        + w_maxwait * wait_max
        + day.w_past_end * past_end
    )


@njit(cache=True)
def _loc(day, R, L, k, i):
    """Where carer k is at position i of their route: home before the first (-1) and
    after the last (L[k])."""
    if i < 0:
        return day.carer_start[k]
    if i >= L[k]:
        return day.carer_end[k]
    return day.task_loc[R[k, i]]


@njit(cache=True)
def _travel_saved(day, R, L, move, k1, p1, k2, p2):
    """The travel a move changes at its joins (negative: it saves), each leg in the
    travel mode of the carer who will drive it; a tail that changes carer is counted as
    it was (the filter before timing, not the cost)."""
    t1 = day.travel[day.carer_mode[k1]]
    t2 = day.travel[day.carer_mode[k2]]
    if move == _TAILS:
        tail1 = p1 + 1 < L[k1]
        tail2 = p2 < L[k2]
        end1 = day.carer_end[k1]
        end2 = day.carer_end[k2]
        a = _loc(day, R, L, k1, p1)  # stays, now followed by route 2's tail
        b_prev = _loc(day, R, L, k2, p2 - 1)  # stays, now followed by route 1's tail
        first1 = _loc(day, R, L, k1, p1 + 1)  # home when there is no tail
        first2 = _loc(day, R, L, k2, p2)
        old = t1[a, first1] + t2[b_prev, first2]
        new = t1[a, first2 if tail2 else end1] + t2[b_prev, first1 if tail1 else end2]
        if tail1:  # route 1's tail now ends at carer 2's home
            last1 = _loc(day, R, L, k1, L[k1] - 1)
            old += t1[last1, end1]
            new += t2[last1, end2]
        if tail2:
            last2 = _loc(day, R, L, k2, L[k2] - 1)
            old += t2[last2, end2]
            new += t1[last2, end1]
        return new - old
    if move == _RELOCATE:
        prev = _loc(day, R, L, k1, p1 - 1)
        here = _loc(day, R, L, k1, p1)
        nxt = _loc(day, R, L, k1, p1 + 1)
        before = _loc(day, R, L, k2, p2 - 1)
        after = _loc(day, R, L, k2, p2)
        return t1[prev, nxt] - t1[prev, here] - t1[here, nxt] + t2[before, here] + t2[here, after] - t2[before, after]
    # _SWAP
    a_prev = _loc(day, R, L, k1, p1 - 1)
    a = _loc(day, R, L, k1, p1)
    a_next = _loc(day, R, L, k1, p1 + 1)
    b_prev = _loc(day, R, L, k2, p2 - 1)
    b = _loc(day, R, L, k2, p2)
    b_next = _loc(day, R, L, k2, p2 + 1)
    old = t1[a_prev, a] + t1[a, a_next] + t2[b_prev, b] + t2[b, b_next]
    new = t1[a_prev, b] + t1[b, a_next] + t2[b_prev, a] + t2[a, b_next]
    return new - old


@njit(cache=True)
def _apply(costs, partner, routes, move, k1, p1, k2, p2, buf1, buf2):
    """Write the move's two new routes into ``routes``; False, with nothing written, when
    a task may not go to its new carer, would move although it is a part of a
    double-handed visit, or a route would grow too long to hold."""
    R, L, eligible = routes.R, routes.L, costs.eligible
    M = R.shape[1]
    n1 = 0
    n2 = 0
    if move == _TAILS:
        if (L[k2] - p2) + (p1 + 1) > M or p2 + (L[k1] - p1 - 1) > M:
            return False
        for i in range(p1 + 1):
            buf1[n1] = R[k1, i]
            n1 += 1
        for i in range(p2, L[k2]):
            t = R[k2, i]
            if not eligible[t, k1] or partner[t] >= 0:
                return False
            buf1[n1] = t
            n1 += 1
        for i in range(p2):
            buf2[n2] = R[k2, i]
            n2 += 1
        for i in range(p1 + 1, L[k1]):
            t = R[k1, i]
            if not eligible[t, k2] or partner[t] >= 0:
                return False
            buf2[n2] = t
            n2 += 1
        keep1, keep2 = p1 + 1, p2
    elif move == _RELOCATE and k1 == k2:  # within one route: before position p2 of the route as it was
        t = R[k1, p1]
        if partner[t] >= 0:
            return False
        for i in range(L[k1] + 1):
            if i == p2:
                buf1[n1] = t
                n1 += 1
            if i < L[k1] and i != p1:
                buf1[n1] = R[k1, i]
                n1 += 1
        _write(routes, k1, buf1, n1, min(p1, p2))
        return True
    elif move == _RELOCATE:
        t = R[k1, p1]
        if not eligible[t, k2] or partner[t] >= 0 or L[k2] + 1 > M:
            return False
        for i in range(L[k1]):
            if i != p1:
                buf1[n1] = R[k1, i]
                n1 += 1
        for i in range(L[k2] + 1):
            if i < p2:
                buf2[n2] = R[k2, i]
            elif i == p2:
                buf2[n2] = t
            else:
                buf2[n2] = R[k2, i - 1]
            n2 += 1
        keep1, keep2 = p1, p2
    else:  # _SWAP
        t = R[k1, p1]
        u = R[k2, p2]
        if not eligible[t, k2] or not eligible[u, k1] or partner[t] >= 0 or partner[u] >= 0:
            return False
        for i in range(L[k1]):
            buf1[n1] = u if i == p1 else R[k1, i]
            n1 += 1
        for i in range(L[k2]):
            buf2[n2] = t if i == p2 else R[k2, i]
            n2 += 1
        keep1, keep2 = p1, p2
    _write(routes, k1, buf1, n1, keep1)
    _write(routes, k2, buf2, n2, keep2)
    return True


@njit(cache=True)
def _write(routes, k, tasks, n, kept):
    """Carer k's route becomes ``tasks[:n]``, of which the first ``kept`` are as they
    were: the break stays only in a gap between two of those."""
    R, L, route_of, brk = routes.R, routes.L, routes.route_of, routes.brk
    old = L[k]
    for i in range(n):
        R[k, i] = tasks[i]
        route_of[tasks[i]] = k
    for i in range(n, old):
        R[k, i] = -1
    L[k] = n
    if brk[k] + 1 >= kept or brk[k] + 1 >= n:
        brk[k] = -1


@njit(cache=True)
def _keep(routes, figures, k1, k2, rows, per_carer, tasks, per_task):
    """Keep what a move on carers k1 and k2 may change, for ``_put_back``."""
    R, L = routes.R, routes.L
    n = 0
    for side in range(2):
        k = k1 if side == 0 else k2
        rows[side, :] = R[k, :]
        per_carer[side, 0] = L[k]
        per_carer[side, 1] = routes.brk[k]
        per_carer[side, 2] = routes.working[k]
        per_carer[side, 3] = figures.travel[k]
        per_carer[side, 4] = figures.wait[k]
        per_carer[side, 5] = figures.wait_max[k]
        per_carer[side, 6] = figures.past_end[k]
        for i in range(L[k]):
            t = R[k, i]
            tasks[n] = t
            per_task[n, 0] = routes.start[t]
            per_task[n, 1] = routes.lb[t]
            per_task[n, 2] = routes.hold[t]
            per_task[n, 3] = figures.late[t]
            per_task[n, 4] = figures.early[t]
            n += 1
    return n


@njit(cache=True)
def _put_back(routes, figures, k1, k2, rows, per_carer, tasks, per_task, n):
    """Undo a move: carers k1 and k2 as ``_keep`` kept them."""
    R, L = routes.R, routes.L
    for side in range(2):
        k = k1 if side == 0 else k2
        R[k, :] = rows[side, :]
        L[k] = int(per_carer[side, 0])
        routes.brk[k] = int(per_carer[side, 1])
        routes.working[k] = per_carer[side, 2]
        figures.travel[k] = per_carer[side, 3]
        figures.wait[k] = per_carer[side, 4]
        figures.wait_max[k] = per_carer[side, 5]
        figures.past_end[k] = per_carer[side, 6]
        for i in range(L[k]):
            routes.route_of[R[k, i]] = k
    for j in range(n):
        t = tasks[j]
        routes.start[t] = per_task[j, 0]
        routes.lb[t] = per_task[j, 1]
        routes.hold[t] = per_task[j, 2]
        figures.late[t] = per_task[j, 3]
        figures.early[t] = per_task[j, 4]


@njit(cache=True)
def _time_route(day, routes, figures, k):
    """Time carer k's changed route afresh and work out its costs; a break that no longer
    fits where it was is placed again. A part of a double-handed visit must keep the start
    it has (its partner's route is not timed again). False if no timing holds."""
    R, L, brk, start, lb = routes.R, routes.L, routes.brk, routes.start, routes.lb
    task_loc, task_dur, task_latest, partner = day.task_loc, day.task_dur, day.task_latest, day.task_partner
    shifts = (day.shift_start, day.shift_end, day.n_shifts)
    for i in range(L[k]):
        t = R[k, i]
        routes.hold[t] = -INF
        lb[t] = start[t] if partner[t] >= 0 else day.task_release[t]  # a part waits for its start
    if L[k] > 0:
        route = carer_route(day, routes, k)
        if not _forward(route, start, lb, brk[k], task_loc, task_dur, task_latest, shifts):
            if brk[k] < 0:
                return False
            brk[k] = -1
            if not _forward(route, start, lb, -1, task_loc, task_dur, task_latest, shifts):
                return False
        if _lacks_break(route, brk[k], start, task_loc, task_dur):
            i = _break_slot(route, start, task_loc, task_dur)
            if i < 0:
                return False
            brk[k] = i
            if not _forward(route, start, lb, i, task_loc, task_dur, task_latest, shifts):
                return False
        for i in range(L[k]):
            t = R[k, i]
            if partner[t] >= 0 and start[t] > lb[t] + EPS:  # the part would start later than its partner expects
                return False
        if day.w_early > 0.0:
            _right_shift_carer(day, routes, k)
    _carer_costs(day, routes, figures, k)
    return True


@njit(cache=True)
def _position(R, L, k, t):
    for i in range(L[k]):
        if R[k, i] == t:
            return i
    return -1


@njit(cache=True)
def _candidate(m, a, i, b, j):
    """The m-th move tried between task u (carer a, position i) and its neighbour v
    (carer b, position j): (move, k1, p1, k2, p2)."""
    if m == 0:  # u then v, each keeping the start of their day
        return _TAILS, a, i, b, j
    if m == 1:  # v then u
        return _TAILS, b, j, a, i
    if m == 2:  # u moves to just after v
        return _RELOCATE, a, i, b, j + 1
    if m == 3:  # u moves to just before v
        return _RELOCATE, a, i, b, j
    if m == 4:  # v moves to just after u
        return _RELOCATE, b, j, a, i + 1
    if m == 5:  # v moves to just before u
        return _RELOCATE, b, j, a, i
    if m == 6:  # u trades places with v's successor (u ends up after v)
        return _SWAP, a, i, b, j + 1
    return _SWAP, a, i, b, j - 1  # ... or with v's predecessor


_MOVES = 8


@njit(cache=True)
def improve(day, costs, routes, figures, w_maxwait, mode, neighbours, seeds, max_tries):
    """Improve a timed, feasible plan in place by moves between each task of ``seeds``
    and its nearest tasks (``neighbours``, filled as needed by ``nearest_tasks`` in
    travel mode ``mode``), first improvement first, until a pass over the seeds finds
    none or ``max_tries`` moves have been timed. Returns ``timing.evaluate``'s tuple for
    the plan as it ends and how many moves were kept."""
    R, L, route_of = routes.R, routes.L, routes.route_of
    partner = day.task_partner
    M = R.shape[1]
    terms = _sum_terms(costs, routes, figures)
    current = _weighted(day, w_maxwait, terms)
    if current >= INF / 2 or day.w_travel <= 0.0:
        return terms, 0
    rows = np.empty((2, M), dtype=np.int64)
    per_carer = np.empty((2, 7))
    tasks = np.empty(2 * M, dtype=np.int64)
    per_task = np.empty((2 * M, 5))
    buf1 = np.empty(M + 1, dtype=np.int64)
    buf2 = np.empty(M + 1, dtype=np.int64)
    tries = 0
    kept = 0
    improved = True
    while improved and tries < max_tries:
        improved = False
        for u in seeds:
            a = route_of[u]
            if a < 0:
                continue
            near = nearest_tasks(day, mode, neighbours, u)
            for v in near:
                if v < 0 or tries >= max_tries:
                    break
                a = route_of[u]
                b = route_of[v]
                if b < 0:
                    continue
                i = _position(R, L, a, u)
                j = _position(R, L, b, v)
                for m in range(_MOVES):
                    move, k1, p1, k2, p2 = _candidate(m, a, i, b, j)
                    if p2 < 0 or (move == _SWAP and p2 >= L[k2]):
                        continue
                    if a == b and (move != _RELOCATE or p2 == p1 or p2 == p1 + 1):
                        continue  # within one route only a visit moves, and somewhere else
                    if move == _TAILS and p1 + 1 >= L[k1] and p2 >= L[k2]:
                        continue  # both tails empty: nothing moves
                    if _travel_saved(day, R, L, move, k1, p1, k2, p2) > -EPS:
                        continue
                    tries += 1
                    n = _keep(routes, figures, k1, k2, rows, per_carer, tasks, per_task)
                    if not _apply(costs, partner, routes, move, k1, p1, k2, p2, buf1, buf2):
                        continue
                    if _time_route(day, routes, figures, k1) and (k1 == k2 or _time_route(day, routes, figures, k2)):
                        after = _sum_terms(costs, routes, figures)
                        cost = _weighted(day, w_maxwait, after)
                        if cost < current - 1e-9:
                            current = cost
                            terms = after
                            kept += 1
                            improved = True
                            break
                    _put_back(routes, figures, k1, k2, rows, per_carer, tasks, per_task, n)
    return terms, kept
