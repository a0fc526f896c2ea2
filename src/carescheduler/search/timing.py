"""Compiled timing of routes: the earliest schedule, breaks, and what a plan costs.

Routes are rows of an int array ``R[k, :L[k]]`` of task ids. Timing is the earliest
schedule: every constraint here is "start >= a non-decreasing function of other starts"
(travel, windows, shifts, synchronisation, breaks), so the earliest schedule is the
least fixed point and minimises every start at once; lateness and travel can only get
worse by starting later, so it is also the cheapest schedule for the given sequences.

The whole-day kernels read the day from a ``DayArrays`` and one solution from a
``RouteArrays`` (``records``); the objective's terms also read the ``CostArrays`` and write
the ``RouteFigures``. They bind the fields they use to local names and give per-carer work
a ``CarerRoute`` and the few arrays it reads: numba counts a reference to every array of
a record passed or read, which would cost more than the per-carer work itself. numba
compiles the kernels once and caches them on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .records import EPS, INF, CarerRoute

__all__ = [
    "break_gap",
    "carer_route",
    "evaluate",
    "evaluate_inserted",
    "evaluate_kept",
    "failing_route",
    "fit_in_shift",
    "lacks_break",
    "needs_break",
    "past_soft_end",
    "right_shift",
    "route_costs",
    "route_span",
    "schedule",
    "schedule_with_breaks",
    "shift_of",
    "time_costs",
    "totals",
]


# --- one carer -------------------------------------------------------------------------


@njit(cache=True)
def fit_in_shift(shift_start, shift_end, n_shifts, k, ready, dur, first_travel, home_travel):
    """Earliest start >= ready that keeps the visit inside one of carer k's shifts, and
    that shift's index (INF, -1 when none).

    ``first_travel`` is the journey from home when this is the day's first visit (the
    carer leaves no earlier than the shift starts); ``home_travel`` the journey home when
    it is the last (the carer is home by the shift's end), so a last visit that would
    end too late for one shift moves to the next.
    """
    for s in range(n_shifts[k]):
        st = ready
        lo = shift_start[k, s] + first_travel
        if st < lo:
            st = lo
        if st + dur + home_travel <= shift_end[k, s] + EPS:
            return st, s
    return INF, -1


@njit(cache=True)
def _carer_route(k, R, L, travel, carer_mode, carer_start, carer_end, rule):
    """Carer k's ``CarerRoute``; ``rule`` is the day's break arrays (after, length, earliest, latest)."""
    after, length, earliest, latest = rule
    return CarerRoute(
        k,
        R[k, : L[k]],
        travel[carer_mode[k]],
        carer_start[k],
        carer_end[k],
        after[k],
        length[k],
        earliest[k],
        latest[k],
    )


@njit(cache=True)
def carer_route(day, routes, k):
    """Carer k's route in ``routes`` with what the timing needs of them (``CarerRoute``)."""
    rule = (day.break_after, day.break_dur, day.break_earliest, day.break_latest)
    return _carer_route(k, routes.R, routes.L, day.travel, day.carer_mode, day.carer_start, day.carer_end, rule)


@njit(cache=True)
def _forward(route, start, lb, brk, task_loc, task_dur, task_latest, shifts):
    """Time one route from the lower bounds ``lb`` (its break after position ``brk``, -1
    for none; ``shifts`` the day's shift arrays); False if it breaks a rule."""
    shift_start, shift_end, n_shifts = shifts
    tasks, tr, k = route.tasks, route.travel, route.carer
    n = tasks.shape[0]
    if n == 0:
        return True
    home = route.home_end
    prev_loc = route.home_start
    prev_end = 0.0
    sidx = -1
    for i in range(n):
        t = tasks[i]
        loc = task_loc[t]
        d = tr[prev_loc, loc]
        tail = tr[loc, home] if i == n - 1 else 0.0
        if i == 0:
            st, sidx = fit_in_shift(shift_start, shift_end, n_shifts, k, lb[t], task_dur[t], d, tail)
        else:
            ready = prev_end + d
            if brk == i - 1:
                # The break sits between the visits, before, during or after the journey,
                # starting inside its window: [max(end, earliest), latest].
                if prev_end > route.break_latest + EPS or route.break_earliest > route.break_latest + EPS:
                    return False
                ready += route.break_dur
                if ready < route.break_earliest + route.break_dur:
                    ready = route.break_earliest + route.break_dur
            if ready < lb[t]:
                ready = lb[t]
            st, sidx = fit_in_shift(shift_start, shift_end, n_shifts, k, ready, task_dur[t], 0.0, tail)
        if sidx < 0 or st > task_latest[t] + EPS:  # no shift holds it (open windows too), or too late
            return False
        start[t] = st
        prev_end = st + task_dur[t]
        prev_loc = loc
    return prev_end + tr[prev_loc, home] <= shift_end[k, sidx] + EPS


@njit(cache=True)
def _span(route, start, task_loc, task_dur):
    """When the carer leaves home and gets back (their route must not be empty)."""
    tasks, tr = route.tasks, route.travel
    first = tasks[0]
    last = tasks[tasks.shape[0] - 1]
    leave = start[first] - tr[route.home_start, task_loc[first]]
    back = start[last] + task_dur[last] + tr[task_loc[last], route.home_end]
    return leave, back


@njit(cache=True)
def _needs_break(route, start, task_loc, task_dur):
    if route.tasks.shape[0] == 0 or route.break_after >= INF / 2:
        return False
    leave, back = _span(route, start, task_loc, task_dur)
    return back - leave > route.break_after + EPS


@njit(cache=True)
def _break_gap(route, start, task_loc, task_dur):
    """Index i of a gap after visit i that already holds the carer's break, else -1."""
    tasks, tr = route.tasks, route.travel
    length, earliest, latest = route.break_dur, route.break_earliest, route.break_latest
    for i in range(tasks.shape[0] - 1):
        t = tasks[i]
        u = tasks[i + 1]
        e = start[t] + task_dur[t]
        s = start[u]
        if s - e >= tr[task_loc[t], task_loc[u]] + length - EPS:
            lo = e if e > earliest else earliest
            hi = latest if latest < s - length else s - length
            if lo <= hi + EPS:
                return i
    return -1


@njit(cache=True)
def _lacks_break(route, brk, start, task_loc, task_dur):
    """The route needs a break and has none: none placed (a break "after" the last visit is
    between no two visits: none) and no gap that holds one."""
    placed = 0 <= brk < route.tasks.shape[0] - 1
    return (
        not placed
        and _needs_break(route, start, task_loc, task_dur)
        and _break_gap(route, start, task_loc, task_dur) < 0
    )


@njit(cache=True)
def _break_slot(route, start, task_loc, task_dur):
    """Between which two visits the carer's break pushes the next visit least (-1: none
    within the break window)."""
    tasks, tr = route.tasks, route.travel
    length, earliest, latest = route.break_dur, route.break_earliest, route.break_latest
    best_i = -1
    best_push = INF
    for i in range(tasks.shape[0] - 1):
        t = tasks[i]
        u = tasks[i + 1]
        end = start[t] + task_dur[t]
        if end > latest + EPS:
            continue
        ready = end + tr[task_loc[t], task_loc[u]] + length
        if ready < earliest + length:
            ready = earliest + length
        push = ready - start[u]
        if push < best_push:
            best_push = push
            best_i = i
    return best_i


@njit(cache=True)
def _shift_cap(route, t, st, is_last, task_loc, task_dur, shifts):
    """Latest start of task t (now at ``st``) that keeps it in the shift it is in now
    (and, for the day's last visit, gets the carer home by that shift's end)."""
    shift_start, shift_end, n_shifts = shifts
    k = route.carer
    dur = task_dur[t]
    for s in range(n_shifts[k]):
        if shift_start[k, s] - EPS <= st and st + dur <= shift_end[k, s] + EPS:
            home = route.travel[task_loc[t], route.home_end] if is_last else 0.0
            return shift_end[k, s] - dur - home
    return st


@njit(cache=True)
def _latest_first_start(route, start, task_loc, task_dur, task_latest, partner, shifts):
    """How late the carer's first visit could start with the rest of the day still fitting."""
    tasks, tr = route.tasks, route.travel
    n = tasks.shape[0]
    last = tasks[n - 1]
    lst = task_latest[last]
    cap = _shift_cap(route, last, start[last], True, task_loc, task_dur, shifts)
    if cap < lst:
        lst = cap
    for i in range(n - 1, 0, -1):
        t = tasks[i]
        if partner[t] >= 0 and start[t] < lst:
            lst = start[t]  # a synchronised visit stays where it is
        prev = tasks[i - 1]
        lst = lst - tr[task_loc[prev], task_loc[t]] - task_dur[prev]
        if task_latest[prev] < lst:
            lst = task_latest[prev]
    if partner[tasks[0]] >= 0 and start[tasks[0]] < lst:
        lst = start[tasks[0]]
    return lst


# --- the same, for a carer of a whole day (what Python callers use) -----------------------


@njit(cache=True)
def route_span(day, routes, k):
    """When carer k leaves home and gets back (their route must not be empty)."""
    return _span(carer_route(day, routes, k), routes.start, day.task_loc, day.task_dur)


@njit(cache=True)
def needs_break(day, routes, k):
    """Whether carer k's day (leaving home to getting back) is long enough to need a break."""
    return _needs_break(carer_route(day, routes, k), routes.start, day.task_loc, day.task_dur)


@njit(cache=True)
def break_gap(day, routes, k):
    """Index i of a gap after visit i that already holds carer k's break, else -1."""
    return _break_gap(carer_route(day, routes, k), routes.start, day.task_loc, day.task_dur)


@njit(cache=True)
def lacks_break(day, routes, k):
    """Carer k needs a break, has none placed, and no gap of their day holds one."""
    return _lacks_break(carer_route(day, routes, k), routes.brk[k], routes.start, day.task_loc, day.task_dur)


# --- the whole day ---------------------------------------------------------------------


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
    R, L, brk = routes.R, routes.L, routes.brk
    start, lb, hold, route_of = routes.start, routes.lb, routes.hold, routes.route_of
    task_loc, task_dur, task_latest, release = day.task_loc, day.task_dur, day.task_latest, day.task_release
    partner, gap_min, gap_max = day.task_partner, day.task_gap_min, day.task_gap_max
    travel, carer_mode, carer_start, carer_end = day.travel, day.carer_mode, day.carer_start, day.carer_end
    rule = (day.break_after, day.break_dur, day.break_earliest, day.break_latest)
    shifts = (day.shift_start, day.shift_end, day.n_shifts)
    T = start.shape[0]
    K = L.shape[0]
    for t in range(T):
        lb[t] = release[t] if release[t] > hold[t] else hold[t]
    dirty = np.ones(K, dtype=np.bool_)
    for _ in range(2 * T + 20):
        for k in range(K):
            if dirty[k]:
                dirty[k] = False
                route = _carer_route(k, R, L, travel, carer_mode, carer_start, carer_end, rule)
                if not _forward(route, start, lb, brk[k], task_loc, task_dur, task_latest, shifts):
                    return k
        changed = False
        for t in range(T):
            p = partner[t]
            if p < t or route_of[t] < 0 or route_of[p] < 0:
                continue
            need1 = start[t] + gap_min[t]
            if start[p] < need1 - EPS:
                lb[p] = need1
                dirty[route_of[p]] = True
                changed = True
            need0 = start[p] - gap_max[t]
            if start[t] < need0 - EPS:
                lb[t] = need0
                dirty[route_of[t]] = True
                changed = True
        if not changed:
            return -1
    return -2


@njit(cache=True)
def schedule_with_breaks(day, routes):
    """Schedule, then give every carer on a long day a break, pushing visits if needed.

    Breaks that fit in no gap are first all placed at once (one re-timing for the
    whole day, which matters with hundreds of carers); if that fails, carer by carer.
    When no break fits, the carer's day is started as late as the rest of it allows,
    which shortens it and may make the break unnecessary.
    """
    R, L, brk, hold, start = routes.R, routes.L, routes.brk, routes.hold, routes.start
    task_loc, task_dur, task_latest, partner = day.task_loc, day.task_dur, day.task_latest, day.task_partner
    travel, carer_mode, carer_start, carer_end = day.travel, day.carer_mode, day.carer_start, day.carer_end
    rule = (day.break_after, day.break_dur, day.break_earliest, day.break_latest)
    shifts = (day.shift_start, day.shift_end, day.n_shifts)
    K = brk.shape[0]
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
            route = _carer_route(k, R, L, travel, carer_mode, carer_start, carer_end, rule)
            if not _lacks_break(route, brk[k], start, task_loc, task_dur):
                continue
            all_ok = False
            i = _break_slot(route, start, task_loc, task_dur)
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
            route = _carer_route(k, R, L, travel, carer_mode, carer_start, carer_end, rule)
            if not _lacks_break(route, brk[k], start, task_loc, task_dur):
                continue
            best_i = _break_slot(route, start, task_loc, task_dur)
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
                hold[first] = _latest_first_start(route, start, task_loc, task_dur, task_latest, partner, shifts)
                if not schedule(day, routes):
                    return False
    for k in range(K):
        route = _carer_route(k, R, L, travel, carer_mode, carer_start, carer_end, rule)
        if _lacks_break(route, brk[k], start, task_loc, task_dur):
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
    for k in range(routes.L.shape[0]):
        _right_shift_carer(day, routes, k)


@njit(cache=True)
def _right_shift_carer(day, routes, k):
    """``right_shift`` of carer k alone."""
    R, L, start = routes.R, routes.L, routes.start
    task_loc, task_dur, task_latest, task_partner = day.task_loc, day.task_dur, day.task_latest, day.task_partner
    tgt_start = day.task_tgt_start
    n = L[k]
    if n == 0 or day.break_after[k] < INF / 2:
        return
    route = carer_route(day, routes, k)
    shifts = (day.shift_start, day.shift_end, day.n_shifts)
    tr = route.travel
    limit = INF
    for i in range(n - 1, -1, -1):
        t = R[k, i]
        target = tgt_start[t]
        if task_partner[t] < 0 and start[t] < target - EPS:
            lst = limit
            if task_latest[t] < lst:
                lst = task_latest[t]
            cap = _shift_cap(route, t, start[t], i == n - 1, task_loc, task_dur, shifts)
            if cap < lst:
                lst = cap
            home = tr[task_loc[t], route.home_end] if i == n - 1 else 0.0
            cap = _soft_cap(day, k, start[t], task_dur[t], home)
            if cap < lst:
                lst = cap
            aim = target if target < lst else lst
            if aim > start[t]:
                start[t] = aim
        if i > 0:
            prev = R[k, i - 1]
            limit = start[t] - tr[task_loc[prev], task_loc[t]] - task_dur[prev]


@njit(cache=True)
def _soft_cap(day, k, st, dur, home):
    """The latest start of a visit now at ``st`` that finishes it (and, after the day's
    last, gets the carer home) by its shift's soft end: waiting for a target is free, going
    past the soft end is not. ``st`` itself when already past it; INF for a hard end, or
    when going past a soft end costs nothing."""
    if not day.prices_time:
        return INF
    s = shift_of(day, k, st, dur)
    if s < 0 or day.shift_soft_end[k, s] >= INF / 2:
        return INF
    cap = day.shift_soft_end[k, s] - dur - home
    return cap if cap > st else st


@njit(cache=True)
def route_costs(day, routes, figures):
    """Per-carer travel, waiting and working minutes, per-task lateness and earliness,
    written into ``figures`` and ``routes.working`` at the current starts."""
    for k in range(routes.L.shape[0]):
        _carer_costs(day, routes, figures, k)


@njit(cache=True)
def _carer_costs(day, routes, figures, k):
    """``route_costs`` of carer k alone."""
    R, L, start = routes.R, routes.L, routes.start
    travel_out, work_out, late_out, early_out = figures.travel, routes.working, figures.late, figures.early
    task_loc, task_dur, tgt_start, tgt_end = day.task_loc, day.task_dur, day.task_tgt_start, day.task_tgt_end
    travel_out[k] = 0.0
    work_out[k] = 0.0
    if L[k] == 0:
        figures.wait[k] = 0.0
        figures.wait_max[k] = 0.0
        figures.past_end[k] = 0.0
        return
    tr = day.travel[day.carer_mode[k]]
    prev = day.carer_start[k]
    for i in range(L[k]):
        t = R[k, i]
        travel_out[k] += tr[prev, task_loc[t]]
        work_out[k] += task_dur[t]
        prev = task_loc[t]
        late = start[t] - tgt_end[t]
        late_out[t] = late if late > 0.0 else 0.0
        early = tgt_start[t] - start[t]
        early_out[t] = early if early > 0.0 else 0.0
    travel_out[k] += tr[prev, day.carer_end[k]]
    work_out[k] += travel_out[k]
    if day.prices_time:
        _carer_time_costs(day, routes, figures, k)
    else:
        figures.wait[k] = 0.0
        figures.wait_max[k] = 0.0
        figures.past_end[k] = 0.0


@njit(cache=True)
def shift_of(day, k, st, dur):
    """The index of carer k's shift that holds a visit starting at ``st`` (-1: none)."""
    for s in range(day.n_shifts[k]):
        if day.shift_start[k, s] - EPS <= st and st + dur <= day.shift_end[k, s] + EPS:
            return s
    return -1


@njit(cache=True)
def past_soft_end(day, k, s, finish):
    """Minutes past the soft end of carer k's shift s for work finishing at ``finish``
    (0 when s is -1, the shift has no soft end, or the work ends in time)."""
    if s < 0:
        return 0.0
    past = finish - day.shift_soft_end[k, s]
    return past if past > EPS else 0.0


@njit(cache=True)
def time_costs(day, routes, figures):
    """Every carer's waiting and finishing late at the current starts, into ``figures``
    (``route_costs`` works them out only when the objective prices them)."""
    for k in range(routes.L.shape[0]):
        _carer_time_costs(day, routes, figures, k)


@njit(cache=True)
def _carer_time_costs(day, routes, figures, k):
    """Carer k's waiting and finishing late. Waiting: the minutes between two visits of
    one shift spent neither travelling nor on the break (an unpaid gap), their sum and the
    longest; before the first visit the carer leaves just in time, and between shifts they
    are off (a split shift is how a rota sends a carer home); the break sits where the plan
    puts it (``_break_gap``). Finishing late: for each shift, how long after its soft end
    its last visit ends (for the day's last, the carer gets home)."""
    figures.wait[k] = 0.0
    figures.wait_max[k] = 0.0
    figures.past_end[k] = 0.0
    n = routes.L[k]
    if n == 0:
        return
    start, task_loc, task_dur = routes.start, day.task_loc, day.task_dur
    route = carer_route(day, routes, k)
    tr = route.travel
    brk = -1
    if n > 1 and _needs_break(route, start, task_loc, task_dur):
        brk = _break_gap(route, start, task_loc, task_dur)
    t = routes.R[k, 0]
    shift = shift_of(day, k, start[t], task_dur[t])
    for i in range(1, n + 1):
        u = routes.R[k, i] if i < n else -1
        then = shift_of(day, k, start[u], task_dur[u]) if u >= 0 else -1
        if u >= 0 and then == shift:
            gap = start[u] - start[t] - task_dur[t] - tr[task_loc[t], task_loc[u]]
            if brk == i - 1:
                gap -= route.break_dur
            if gap > EPS:
                figures.wait[k] += gap
                if gap > figures.wait_max[k]:
                    figures.wait_max[k] = gap
        else:  # t ends its shift's work
            finish = start[t] + task_dur[t] + (tr[task_loc[t], route.home_end] if u < 0 else 0.0)
            figures.past_end[k] += past_soft_end(day, k, shift, finish)
        t = u
        shift = then


@njit(cache=True)
def evaluate(day, costs, routes, figures):
    """Time every route and total the objective's raw terms in one compiled pass.

    Returns (feasible, unassigned penalty, total lateness, max lateness, total earliness,
    travel minutes, assignment cost, overtime minutes, waiting minutes, longest wait,
    minutes past soft shift ends); the caller applies the weights.
    """
    return _priced(day, costs, routes, figures, schedule_with_breaks(day, routes))


@njit(cache=True)
def _priced(day, costs, routes, figures, feasible):
    """``evaluate``'s answer for a day just timed (``feasible`` if it was): visits wait
    for their targets where nothing else moves, then the objective's terms are totalled."""
    if feasible and day.w_early > 0.0:
        right_shift(day, routes)
    within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime, wait, wait_max, past_end = totals(
        day, costs, routes, figures
    )
    return (
        feasible and within,
        unassigned,
        late_sum,
        late_max,
        early_sum,
        travel,
        assignment,
        overtime,
        wait,
        wait_max,
        past_end,
    )


@njit(cache=True)
def evaluate_kept(day, costs, routes, figures):
    """``evaluate`` with every carer's break kept where ``routes.brk`` has it (and the
    late starts ``routes.hold`` asks for): the whole day timed once, no break placed.
    Not feasible when a route breaks a rule or a carer lacks a break."""
    feasible = schedule(day, routes)
    if feasible:
        for k in range(routes.L.shape[0]):
            if _lacks_break(carer_route(day, routes, k), routes.brk[k], routes.start, day.task_loc, day.task_dur):
                feasible = False
                break
    return _priced(day, costs, routes, figures, feasible)


@njit(cache=True)
def evaluate_inserted(day, costs, routes, figures, carers, tasks, whole_day=True):
    """``evaluate`` after ``tasks`` were put into the routes of ``carers`` of a timed plan,
    re-timing only the routes the insertion moves.

    Inserting only adds constraints, so timing again from the plan's own starts and
    lower bounds reaches the new earliest schedule; each carer's break stays in the gap
    it was in. Putting a visit into a council day would otherwise re-time all of its
    hundreds of routes. When a moved route breaks a rule or now lacks a break, the whole
    day is timed again as ``evaluate`` does, breaks placed afresh; or, without
    ``whole_day``, the answer is not feasible (the routes' times then hold nothing).
    """
    changed = np.zeros(routes.L.shape[0], dtype=np.bool_)
    if not _retime_inserted(day, routes, carers, tasks, changed):
        if whole_day:
            return evaluate(day, costs, routes, figures)
        return False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for k in np.flatnonzero(changed):
        if day.w_early > 0.0:
            _right_shift_carer(day, routes, k)
        _carer_costs(day, routes, figures, k)
    return _sum_terms(costs, routes, figures)


@njit(cache=True)
def _retime_inserted(day, routes, carers, tasks, changed):
    """The earliest schedule after an insertion, from the current one: re-time the routes
    of ``carers``, then every route a partner's new start pushes, until nothing moves.
    Marks the re-timed carers in ``changed``; False when a route breaks a rule, lacks a
    break, or the pushes do not settle (the caller times the whole day instead)."""
    R, L, brk = routes.R, routes.L, routes.brk
    start, lb, hold, route_of = routes.start, routes.lb, routes.hold, routes.route_of
    task_loc, task_dur, task_latest, release = day.task_loc, day.task_dur, day.task_latest, day.task_release
    partner, gap_min, gap_max = day.task_partner, day.task_gap_min, day.task_gap_max
    shifts = (day.shift_start, day.shift_end, day.n_shifts)
    K = L.shape[0]
    for t in tasks:
        hold[t] = -INF
        lb[t] = release[t]
    dirty = np.zeros(K, dtype=np.bool_)
    for k in carers:
        dirty[k] = True
    now = np.empty(K, dtype=np.int64)
    for _ in range(2 * start.shape[0] + 20):
        n_now = 0
        for k in range(K):
            if dirty[k]:
                dirty[k] = False
                changed[k] = True
                now[n_now] = k
                n_now += 1
                if not _forward(
                    carer_route(day, routes, k), start, lb, brk[k], task_loc, task_dur, task_latest, shifts
                ):
                    return False
        if n_now == 0:
            for k in range(K):
                if changed[k] and _lacks_break(carer_route(day, routes, k), brk[k], start, task_loc, task_dur):
                    return False
            return True
        for j in range(n_now):
            k = now[j]
            for i in range(L[k]):
                t = R[k, i]
                p = partner[t]
                if p < 0 or route_of[p] < 0:
                    continue
                a = t if t < p else p
                b = p if t < p else t
                need_b = start[a] + gap_min[a]
                if start[b] < need_b - EPS:
                    lb[b] = need_b
                    dirty[route_of[b]] = True
                need_a = start[b] - gap_max[a]
                if start[a] < need_a - EPS:
                    lb[a] = need_a
                    dirty[route_of[a]] = True
    return False


@njit(cache=True)
def totals(day, costs, routes, figures):
    """The objective's raw terms at the given starts (no re-timing), as ``evaluate``;
    the first value says whether every carer stays within their maximum working time."""
    route_costs(day, routes, figures)
    return _sum_terms(costs, routes, figures)


@njit(cache=True)
def _sum_terms(costs, routes, figures):
    """The objective's raw terms from the figures as they stand (``totals`` without
    computing them first)."""
    route_of, late_out, early_out = routes.route_of, figures.late, figures.early
    travel_k, working, assign_cost = figures.travel, routes.working, costs.assign_cost
    max_work, contracted = costs.max_work, costs.contracted
    visit_tasks, visit_penalty = costs.visit_tasks, costs.visit_penalty
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
        assignment += assign_cost[t, k]
    travel = 0.0
    overtime = 0.0
    wait = 0.0
    wait_max = 0.0
    past_end = 0.0
    within = True
    for k in range(working.shape[0]):
        travel += travel_k[k]
        past_end += figures.past_end[k]
        wait += figures.wait[k]
        if figures.wait_max[k] > wait_max:
            wait_max = figures.wait_max[k]
        if working[k] > max_work[k] + EPS:
            within = False
        extra = working[k] - contracted[k]
        if extra > 0.0:
            overtime += extra
    unassigned = 0.0
    for v in range(visit_tasks.shape[0]):
        if route_of[visit_tasks[v, 0]] < 0:
            unassigned += visit_penalty[v]
    return within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime, wait, wait_max, past_end
