"""Compiled timing of routes: the earliest schedule, breaks, and what a plan costs.

Routes are rows of an int array ``R[k, :L[k]]`` of task ids. Timing is the earliest
schedule: every constraint here is "start >= a non-decreasing function of other starts"
(travel, windows, shifts, synchronisation, breaks), so the earliest schedule is the
least fixed point and minimises every start at once; lateness and travel can only get
worse by starting later, so it is also the cheapest schedule for the given sequences.

Each kernel reads the day from a ``DayArrays`` and one solution from a ``RouteArrays``
(``records``); numba compiles them once and caches them on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .records import EPS, INF

__all__ = [
    "break_gap",
    "evaluate",
    "failing_route",
    "fit_in_shift",
    "lacks_break",
    "needs_break",
    "right_shift",
    "route_costs",
    "route_span",
    "schedule",
    "schedule_with_breaks",
    "totals",
]


@njit(cache=True)
def fit_in_shift(day, k, ready, dur, first_travel, home_travel):
    """Earliest start >= ready that keeps the visit inside one of carer k's shifts, and
    that shift's index (INF, -1 when none).

    ``first_travel`` is the journey from home when this is the day's first visit (the
    carer leaves no earlier than the shift starts); ``home_travel`` the journey home when
    it is the last (the carer is home by the shift's end), so a last visit that would
    end too late for one shift moves to the next.
    """
    for s in range(day.n_shifts[k]):
        st = ready
        lo = day.shift_start[k, s] + first_travel
        if st < lo:
            st = lo
        if st + dur + home_travel <= day.shift_end[k, s] + EPS:
            return st, s
    return INF, -1


@njit(cache=True)
def _forward(day, routes, k):
    """Time carer k's route from the lower bounds ``routes.lb``; False if it breaks a rule."""
    R, lb, start, brk = routes.R, routes.lb, routes.start, routes.brk
    n = routes.L[k]
    if n == 0:
        return True
    tr = day.travel[day.carer_mode[k]]
    home = day.carer_end[k]
    prev_loc = day.carer_start[k]
    prev_end = 0.0
    sidx = -1
    for i in range(n):
        t = R[k, i]
        loc = day.task_loc[t]
        d = tr[prev_loc, loc]
        tail = tr[loc, home] if i == n - 1 else 0.0
        if i == 0:
            st, sidx = fit_in_shift(day, k, lb[t], day.task_dur[t], d, tail)
        else:
            ready = prev_end + d
            if brk[k] == i - 1:
                # The break sits between the visits, before, during or after the journey,
                # starting inside its window: [max(end, earliest), latest].
                if prev_end > day.break_latest[k] + EPS or day.break_earliest[k] > day.break_latest[k] + EPS:
                    return False
                ready += day.break_dur[k]
                if ready < day.break_earliest[k] + day.break_dur[k]:
                    ready = day.break_earliest[k] + day.break_dur[k]
            if ready < lb[t]:
                ready = lb[t]
            st, sidx = fit_in_shift(day, k, ready, day.task_dur[t], 0.0, tail)
        if sidx < 0 or st > day.task_latest[t] + EPS:  # no shift holds it (open windows too), or too late
            return False
        start[t] = st
        prev_end = st + day.task_dur[t]
        prev_loc = loc
    return prev_end + tr[prev_loc, home] <= day.shift_end[k, sidx] + EPS


@njit(cache=True)
def schedule(day, routes):
    """Earliest start of every routed task; False if the routes admit no schedule.

    ``routes.hold`` is an extra release per task (-INF when none), used to start a day
    later; ``routes.brk`` says where each carer's break goes.
    """
    return failing_route(day, routes) == -1


@njit(cache=True)
def failing_route(day, routes):
    """``schedule``, saying which carer's route broke a rule (-1: none, -2: no fixed point)."""
    partner = day.task_partner
    start, lb, hold, route_of = routes.start, routes.lb, routes.hold, routes.route_of
    T = start.shape[0]
    K = routes.L.shape[0]
    for t in range(T):
        lb[t] = day.task_release[t] if day.task_release[t] > hold[t] else hold[t]
    dirty = np.ones(K, dtype=np.bool_)
    for _ in range(2 * T + 20):
        for k in range(K):
            if dirty[k]:
                dirty[k] = False
                if not _forward(day, routes, k):
                    return k
        changed = False
        for t in range(T):
            p = partner[t]
            if p < t or route_of[t] < 0 or route_of[p] < 0:
                continue
            need1 = start[t] + day.task_gap_min[t]
            if start[p] < need1 - EPS:
                lb[p] = need1
                dirty[route_of[p]] = True
                changed = True
            need0 = start[p] - day.task_gap_max[t]
            if start[t] < need0 - EPS:
                lb[t] = need0
                dirty[route_of[t]] = True
                changed = True
        if not changed:
            return -1
    return -2


@njit(cache=True)
def route_span(day, routes, k):
    """When carer k leaves home and gets back (their route must not be empty)."""
    R, L, start = routes.R, routes.L, routes.start
    tr = day.travel[day.carer_mode[k]]
    first = R[k, 0]
    last = R[k, L[k] - 1]
    leave = start[first] - tr[day.carer_start[k], day.task_loc[first]]
    back = start[last] + day.task_dur[last] + tr[day.task_loc[last], day.carer_end[k]]
    return leave, back


@njit(cache=True)
def break_gap(day, routes, k):
    """Index i of a gap after visit i that already holds carer k's break, else -1."""
    R, start = routes.R, routes.start
    tr = day.travel[day.carer_mode[k]]
    length = day.break_dur[k]
    earliest = day.break_earliest[k]
    latest = day.break_latest[k]
    for i in range(routes.L[k] - 1):
        t = R[k, i]
        u = R[k, i + 1]
        e = start[t] + day.task_dur[t]
        s = start[u]
        if s - e >= tr[day.task_loc[t], day.task_loc[u]] + length - EPS:
            lo = e if e > earliest else earliest
            hi = latest if latest < s - length else s - length
            if lo <= hi + EPS:
                return i
    return -1


@njit(cache=True)
def needs_break(day, routes, k):
    """Whether carer k's day (leaving home to getting back) is long enough to need a break."""
    if routes.L[k] == 0 or day.break_after[k] >= INF / 2:
        return False
    leave, back = route_span(day, routes, k)
    return back - leave > day.break_after[k] + EPS


@njit(cache=True)
def lacks_break(day, routes, k):
    """Carer k needs a break, has none placed, and no gap of their day holds one."""
    return routes.brk[k] < 0 and needs_break(day, routes, k) and break_gap(day, routes, k) < 0


@njit(cache=True)
def _shift_cap(day, routes, k, t, is_last):
    """Latest start of task t that keeps it in the shift it is in now (and, for the day's
    last visit, gets the carer home by that shift's end)."""
    st = routes.start[t]
    dur = day.task_dur[t]
    for s in range(day.n_shifts[k]):
        if day.shift_start[k, s] - EPS <= st and st + dur <= day.shift_end[k, s] + EPS:
            home = day.travel[day.carer_mode[k]][day.task_loc[t], day.carer_end[k]] if is_last else 0.0
            return day.shift_end[k, s] - dur - home
    return st


@njit(cache=True)
def _latest_first_start(day, routes, k):
    """How late carer k's first visit could start with the rest of the day still fitting."""
    R, start = routes.R, routes.start
    partner = day.task_partner
    tr = day.travel[day.carer_mode[k]]
    n = routes.L[k]
    last = R[k, n - 1]
    lst = day.task_latest[last]
    cap = _shift_cap(day, routes, k, last, True)
    if cap < lst:
        lst = cap
    for i in range(n - 1, 0, -1):
        t = R[k, i]
        if partner[t] >= 0 and start[t] < lst:
            lst = start[t]  # a synchronised visit stays where it is
        prev = R[k, i - 1]
        lst = lst - tr[day.task_loc[prev], day.task_loc[t]] - day.task_dur[prev]
        if day.task_latest[prev] < lst:
            lst = day.task_latest[prev]
    if partner[R[k, 0]] >= 0 and start[R[k, 0]] < lst:
        lst = start[R[k, 0]]
    return lst


@njit(cache=True)
def _break_slot(day, routes, k):
    """Between which two visits carer k's break pushes the next visit least (-1: none
    within the break window)."""
    R, start = routes.R, routes.start
    tr = day.travel[day.carer_mode[k]]
    best_i = -1
    best_push = INF
    for i in range(routes.L[k] - 1):
        t = R[k, i]
        u = R[k, i + 1]
        end = start[t] + day.task_dur[t]
        if end > day.break_latest[k] + EPS:
            continue
        ready = end + tr[day.task_loc[t], day.task_loc[u]] + day.break_dur[k]
        if ready < day.break_earliest[k] + day.break_dur[k]:
            ready = day.break_earliest[k] + day.break_dur[k]
        push = ready - start[u]
        if push < best_push:
            best_push = push
            best_i = i
    return best_i


@njit(cache=True)
def schedule_with_breaks(day, routes):
    """Schedule, then give every carer on a long day a break, pushing visits if needed.

    Breaks that fit in no gap are first all placed at once (one re-timing for the
    whole day, which matters with hundreds of carers); if that fails, carer by carer.
    When no break fits, the carer's day is started as late as the rest of it allows,
    which shortens it and may make the break unnecessary.
    """
    R, brk, hold = routes.R, routes.brk, routes.hold
    K = routes.L.shape[0]
    for k in range(K):
        brk[k] = -1
    for t in range(hold.shape[0]):
        hold[t] = -INF
    if not schedule(day, routes):
        return False
    tried_late = np.zeros(K, dtype=np.bool_)
    placed_now = np.zeros(K, dtype=np.bool_)
    for _ in range(6):
        all_ok = True
        n_placed = 0
        for k in range(K):
            placed_now[k] = False
            if not lacks_break(day, routes, k):
                continue
            all_ok = False
            i = _break_slot(day, routes, k)
            if i >= 0:
                brk[k] = i
                placed_now[k] = True
                n_placed += 1
        if all_ok:
            return True
        while n_placed:
            failed = failing_route(day, routes)
            if failed == -1:
                break
            # Take out the break of the route that failed (or every new one if the
            # failure is elsewhere) and try the rest again; the carers taken out are
            # handled one by one below.
            if failed >= 0 and placed_now[failed]:
                brk[failed] = -1
                placed_now[failed] = False
                n_placed -= 1
            else:
                for k in range(K):
                    if placed_now[k]:
                        brk[k] = -1
                        placed_now[k] = False
                n_placed = 0
        if n_placed == 0 and not schedule(day, routes):
            return False
        for k in range(K):
            if not lacks_break(day, routes, k):
                continue
            best_i = _break_slot(day, routes, k)
            placed = False
            if best_i >= 0:
                brk[k] = best_i
                placed = schedule(day, routes)
            if not placed:
                if tried_late[k]:
                    return False
                tried_late[k] = True
                brk[k] = -1
                first = R[k, 0]
                if not schedule(day, routes):
                    return False
                hold[first] = _latest_first_start(day, routes, k)
                if not schedule(day, routes):
                    return False
    for k in range(K):
        if lacks_break(day, routes, k):
            return False
    return True


@njit(cache=True)
def right_shift(day, routes):
    """Delay visits that would start before their target window, where nothing else moves.

    The earliest schedule minimises lateness but may start a visit early; waiting for
    the target start is free as long as the next visit, the hard window and the shift
    allow it. Works backwards along each route; synchronised visits and carers with a
    break rule keep their earliest times (moving them could undo a partner or a break).
    """
    R, L, start = routes.R, routes.L, routes.start
    for k in range(L.shape[0]):
        n = L[k]
        if n == 0 or day.break_after[k] < INF / 2:
            continue
        tr = day.travel[day.carer_mode[k]]
        limit = INF
        for i in range(n - 1, -1, -1):
            t = R[k, i]
            target = day.task_tgt_start[t]
            if day.task_partner[t] < 0 and start[t] < target - EPS:
                lst = limit
                if day.task_latest[t] < lst:
                    lst = day.task_latest[t]
                cap = _shift_cap(day, routes, k, t, i == n - 1)
                if cap < lst:
                    lst = cap
                aim = target if target < lst else lst
                if aim > start[t]:
                    start[t] = aim
            if i > 0:
                prev = R[k, i - 1]
                limit = start[t] - tr[day.task_loc[prev], day.task_loc[t]] - day.task_dur[prev]


@njit(cache=True)
def route_costs(day, routes):
    """Per-carer travel and working minutes, per-task lateness and earliness, written
    into ``routes`` at the current starts."""
    R, L, start = routes.R, routes.L, routes.start
    travel_out, work_out, late_out, early_out = routes.travel, routes.working, routes.late, routes.early
    for k in range(L.shape[0]):
        travel_out[k] = 0.0
        work_out[k] = 0.0
        if L[k] == 0:
            continue
        tr = day.travel[day.carer_mode[k]]
        prev = day.carer_start[k]
        for i in range(L[k]):
            t = R[k, i]
            travel_out[k] += tr[prev, day.task_loc[t]]
            work_out[k] += day.task_dur[t]
            prev = day.task_loc[t]
            late = start[t] - day.task_tgt_end[t]
            late_out[t] = late if late > 0.0 else 0.0
            early = day.task_tgt_start[t] - start[t]
            early_out[t] = early if early > 0.0 else 0.0
        travel_out[k] += tr[prev, day.carer_end[k]]
        work_out[k] += travel_out[k]


@njit(cache=True)
def evaluate(day, routes):
    """Time every route and total the objective's raw terms in one compiled pass.

    Returns (feasible, unassigned penalty, total lateness, max lateness, total earliness,
    travel minutes, assignment cost, overtime minutes); the caller applies the weights.
    """
    feasible = schedule_with_breaks(day, routes)
    if feasible and day.w_early > 0.0:
        right_shift(day, routes)
    within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime = totals(day, routes)
    return feasible and within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime


@njit(cache=True)
def totals(day, routes):
    """The objective's raw terms at the given starts (no re-timing), as ``evaluate``;
    the first value says whether every carer stays within their maximum working time."""
    route_costs(day, routes)
    route_of, late_out, early_out = routes.route_of, routes.late, routes.early
    late_sum = 0.0
    late_max = 0.0
    early_sum = 0.0
    assignment = 0.0
    for t in range(route_of.shape[0]):
        k = route_of[t]
        if k < 0:
            late_out[t] = 0.0
            early_out[t] = 0.0
            continue
        late_sum += late_out[t]
        if late_out[t] > late_max:
            late_max = late_out[t]
        early_sum += early_out[t]
        assignment += day.assign_cost[t, k]
    travel = 0.0
    overtime = 0.0
    within = True
    for k in range(routes.L.shape[0]):
        travel += routes.travel[k]
        if routes.working[k] > day.max_work[k] + EPS:
            within = False
        extra = routes.working[k] - day.contracted[k]
        if extra > 0.0:
            overtime += extra
    unassigned = 0.0
    for v in range(day.visit_tasks.shape[0]):
        if route_of[day.visit_tasks[v, 0]] < 0:
            unassigned += day.visit_penalty[v]
    return within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime
