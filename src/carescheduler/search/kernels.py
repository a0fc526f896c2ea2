"""Compiled inner loops of the search: timing routes and pricing insertions.

Routes are rows of an int array ``R[k, :L[k]]`` of task ids. Timing is the earliest
schedule: every constraint here is "start >= a non-decreasing function of other starts"
(travel, windows, shifts, synchronisation, breaks), so the earliest schedule is the
least fixed point and minimises every start at once; lateness and travel can only get
worse by starting later, so it is also the cheapest schedule for the given sequences.

The argument tuple ``A`` is ``Instance.kernel_args()``; numba compiles these functions
once and caches them on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

INF = 1.0e12
EPS = 1.0e-6
GRANULAR_SLACK = 2
"""Positions priced beyond those whose visits start inside a task's window, each side."""


@njit(cache=True)
def fit_in_shift(k, ready, dur, first_travel, shift_start, shift_end, n_shifts, home_travel=0.0):
    """Earliest start >= ready that keeps the visit inside one of carer k's shifts.

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
def _forward(k, R, L, lb, start, brk, A):
    (task_loc, task_dur, task_release, task_latest, tgt_s, tgt_e, partner, gmin, gmax,
     carer_mode, carer_start, carer_end, shift_start, shift_end, n_shifts,
     break_after, break_dur, break_earliest, break_latest, travel, wl, wm, we, wt) = A
    n = L[k]
    if n == 0:
        return True
    tr = travel[carer_mode[k]]
    prev_loc = carer_start[k]
    prev_end = 0.0
    sidx = -1
    for i in range(n):
        t = R[k, i]
        loc = task_loc[t]
        d = tr[prev_loc, loc]
        tail = tr[loc, carer_end[k]] if i == n - 1 else 0.0
        if i == 0:
            st, sidx = fit_in_shift(k, lb[t], task_dur[t], d, shift_start, shift_end, n_shifts, tail)
        else:
            ready = prev_end + d
            if brk[k] == i - 1:
                # The break sits between the visits, before, during or after the journey,
                # starting inside its window: [max(end, earliest), latest].
                if prev_end > break_latest[k] + EPS or break_earliest[k] > break_latest[k] + EPS:
                    return False
                ready += break_dur[k]
                if ready < break_earliest[k] + break_dur[k]:
                    ready = break_earliest[k] + break_dur[k]
            if ready < lb[t]:
                ready = lb[t]
            st, sidx = fit_in_shift(k, ready, task_dur[t], 0.0, shift_start, shift_end, n_shifts, tail)
        if st > task_latest[t] + EPS:
            return False
        start[t] = st
        prev_end = st + task_dur[t]
        prev_loc = loc
    if prev_end + tr[prev_loc, carer_end[k]] > shift_end[k, sidx] + EPS:
        return False
    return True


@njit(cache=True)
def schedule(R, L, route_of, brk, start, lb, hold, A):
    """Earliest start of every routed task; False if the routes admit no schedule.

    ``hold`` is an extra release per task (-INF when none), used to start a day later.
    """
    return _schedule(R, L, route_of, brk, start, lb, hold, A) == -1


@njit(cache=True)
def _schedule(R, L, route_of, brk, start, lb, hold, A):
    """``schedule``, saying which carer's route broke a rule (-1: none, -2: no fixed point)."""
    task_release = A[2]
    partner = A[6]
    gmin = A[7]
    gmax = A[8]
    T = start.shape[0]
    K = L.shape[0]
    for t in range(T):
        lb[t] = task_release[t] if task_release[t] > hold[t] else hold[t]
    dirty = np.ones(K, dtype=np.bool_)
    for _ in range(2 * T + 20):
        for k in range(K):
            if dirty[k]:
                dirty[k] = False
                if not _forward(k, R, L, lb, start, brk, A):
                    return k
        changed = False
        for t in range(T):
            p = partner[t]
            if p < t or route_of[t] < 0 or route_of[p] < 0:
                continue
            need1 = start[t] + gmin[t]
            if start[p] < need1 - EPS:
                lb[p] = need1
                dirty[route_of[p]] = True
                changed = True
            need0 = start[p] - gmax[t]
            if start[t] < need0 - EPS:
                lb[t] = need0
                dirty[route_of[t]] = True
                changed = True
        if not changed:
            return -1
    return -2


@njit(cache=True)
def route_span(k, R, L, start, A):
    task_loc = A[0]
    task_dur = A[1]
    tr = A[19][A[9][k]]
    first = R[k, 0]
    last = R[k, L[k] - 1]
    leave = start[first] - tr[A[10][k], task_loc[first]]
    back = start[last] + task_dur[last] + tr[task_loc[last], A[11][k]]
    return leave, back


@njit(cache=True)
def break_gap(k, R, L, start, A):
    """Index i of a gap after visit i that already holds carer k's break, else -1."""
    task_loc = A[0]
    task_dur = A[1]
    tr = A[19][A[9][k]]
    B = A[16][k]
    be = A[17][k]
    bl = A[18][k]
    for i in range(L[k] - 1):
        t = R[k, i]
        u = R[k, i + 1]
        e = start[t] + task_dur[t]
        s = start[u]
        if s - e >= tr[task_loc[t], task_loc[u]] + B - EPS:
            lo = e if e > be else be
            hi = bl if bl < s - B else s - B
            if lo <= hi + EPS:
                return i
    return -1


@njit(cache=True)
def needs_break(k, R, L, start, A):
    if L[k] == 0 or A[15][k] >= INF / 2:
        return False
    leave, back = route_span(k, R, L, start, A)
    return back - leave > A[15][k] + EPS


@njit(cache=True)
def _shift_cap(k, t, start, is_last, A):
    """Latest start of task t that keeps it in the shift it is in now (and, for the day's
    last visit, gets the carer home by that shift's end)."""
    task_dur = A[1]
    for s in range(A[14][k]):
        if A[12][k, s] - EPS <= start[t] and start[t] + task_dur[t] <= A[13][k, s] + EPS:
            home = A[19][A[9][k]][A[0][t], A[11][k]] if is_last else 0.0
            return A[13][k, s] - task_dur[t] - home
    return start[t]


@njit(cache=True)
def _latest_first_start(k, R, L, start, A):
    """How late carer k's first visit could start with the rest of the day still fitting."""
    task_loc = A[0]
    task_dur = A[1]
    task_latest = A[3]
    partner = A[6]
    tr = A[19][A[9][k]]
    n = L[k]
    last = R[k, n - 1]
    lst = task_latest[last]
    cap = _shift_cap(k, last, start, True, A)
    if cap < lst:
        lst = cap
    for i in range(n - 1, 0, -1):
        t = R[k, i]
        if partner[t] >= 0 and start[t] < lst:
            lst = start[t]   # a synchronised visit stays where it is
        prev = R[k, i - 1]
        lst = lst - tr[task_loc[prev], task_loc[t]] - task_dur[prev]
        if task_latest[prev] < lst:
            lst = task_latest[prev]
    if partner[R[k, 0]] >= 0 and start[R[k, 0]] < lst:
        lst = start[R[k, 0]]
    return lst


@njit(cache=True)
def _break_slot(k, R, L, start, A):
    """Between which two visits carer k's break pushes the next visit least (-1: none
    within the break window)."""
    task_loc = A[0]
    task_dur = A[1]
    tr = A[19][A[9][k]]
    best_i = -1
    best_push = INF
    for i in range(L[k] - 1):
        t = R[k, i]
        u = R[k, i + 1]
        end = start[t] + task_dur[t]
        if end > A[18][k] + EPS:
            continue
        ready = end + tr[task_loc[t], task_loc[u]] + A[16][k]
        if ready < A[17][k] + A[16][k]:
            ready = A[17][k] + A[16][k]
        push = ready - start[u]
        if push < best_push:
            best_push = push
            best_i = i
    return best_i


@njit(cache=True)
def _lacks_break(k, R, L, start, brk, A):
    return brk[k] < 0 and needs_break(k, R, L, start, A) and break_gap(k, R, L, start, A) < 0


@njit(cache=True)
def schedule_with_breaks(R, L, route_of, brk, start, lb, hold, A):
    """Schedule, then give every carer on a long day a break, pushing visits if needed.

    Breaks that fit in no gap are first all placed at once (one re-timing for the
    whole day, which matters with hundreds of carers); if that fails, carer by carer.
    When no break fits, the carer's day is started as late as the rest of it allows,
    which shortens it and may make the break unnecessary.
    """
    K = L.shape[0]
    for k in range(K):
        brk[k] = -1
    for t in range(hold.shape[0]):
        hold[t] = -INF
    if not schedule(R, L, route_of, brk, start, lb, hold, A):
        return False
    tried_late = np.zeros(K, dtype=np.bool_)
    placed_now = np.zeros(K, dtype=np.bool_)
    for _ in range(6):
        all_ok = True
        n_placed = 0
        for k in range(K):
            placed_now[k] = False
            if not _lacks_break(k, R, L, start, brk, A):
                continue
            all_ok = False
            i = _break_slot(k, R, L, start, A)
            if i >= 0:
                brk[k] = i
                placed_now[k] = True
                n_placed += 1
        if all_ok:
            return True
        while n_placed:
            failed = _schedule(R, L, route_of, brk, start, lb, hold, A)
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
        if n_placed == 0 and not schedule(R, L, route_of, brk, start, lb, hold, A):
            return False
        for k in range(K):
            if not _lacks_break(k, R, L, start, brk, A):
                continue
            best_i = _break_slot(k, R, L, start, A)
            placed = False
            if best_i >= 0:
                brk[k] = best_i
                placed = schedule(R, L, route_of, brk, start, lb, hold, A)
            if not placed:
                if tried_late[k]:
                    return False
                tried_late[k] = True
                brk[k] = -1
                first = R[k, 0]
                if not schedule(R, L, route_of, brk, start, lb, hold, A):
                    return False
                hold[first] = _latest_first_start(k, R, L, start, A)
                if not schedule(R, L, route_of, brk, start, lb, hold, A):
                    return False
    for k in range(K):
        if _lacks_break(k, R, L, start, brk, A):
            return False
    return True


@njit(cache=True)
def right_shift(R, L, start, A):
    """Delay visits that would start before their target window, where nothing else moves.

    The earliest schedule minimises lateness but may start a visit early; waiting for
    the target start is free as long as the next visit, the hard window and the shift
    allow it. Works backwards along each route; synchronised visits and carers with a
    break rule keep their earliest times (moving them could undo a partner or a break).
    """
    task_loc = A[0]
    task_dur = A[1]
    task_latest = A[3]
    tgt_s = A[4]
    partner = A[6]
    break_after = A[15]
    K = L.shape[0]
    for k in range(K):
        n = L[k]
        if n == 0 or break_after[k] < INF / 2:
            continue
        tr = A[19][A[9][k]]
        limit = INF
        for i in range(n - 1, -1, -1):
            t = R[k, i]
            if partner[t] < 0 and start[t] < tgt_s[t] - EPS:
                lst = limit
                if task_latest[t] < lst:
                    lst = task_latest[t]
                cap = _shift_cap(k, t, start, i == n - 1, A)
                if cap < lst:
                    lst = cap
                aim = tgt_s[t] if tgt_s[t] < lst else lst
                if aim > start[t]:
                    start[t] = aim
            if i > 0:
                prev = R[k, i - 1]
                limit = start[t] - tr[task_loc[prev], task_loc[t]] - task_dur[prev]


@njit(cache=True)
def route_costs(R, L, start, A, travel_out, work_out, late_out, early_out):
    """Per-carer travel and working minutes, per-task lateness and earliness."""
    task_loc = A[0]
    task_dur = A[1]
    tgt_s = A[4]
    tgt_e = A[5]
    K = L.shape[0]
    for k in range(K):
        travel_out[k] = 0.0
        work_out[k] = 0.0
        if L[k] == 0:
            continue
        tr = A[19][A[9][k]]
        prev = A[10][k]
        for i in range(L[k]):
            t = R[k, i]
            travel_out[k] += tr[prev, task_loc[t]]
            work_out[k] += task_dur[t]
            prev = task_loc[t]
            late = start[t] - tgt_e[t]
            late_out[t] = late if late > 0.0 else 0.0
            early = tgt_s[t] - start[t]
            early_out[t] = early if early > 0.0 else 0.0
        travel_out[k] += tr[prev, A[11][k]]
        work_out[k] += travel_out[k]


@njit(cache=True)
def _partner_needs(w, sw, partner, gmin, gmax):
    """Earliest start the partner of task w needs once w starts at sw."""
    p = partner[w]
    if w < p:                   # w is the first part: the second follows by gmin at least
        return sw + gmin[w]
    return sw - gmax[p]         # w is the second part: the first may lag by gmax at most


@njit(cache=True)
def _record_push(w, sw, new_start, touched, n_touched):
    if new_start[w] <= -INF / 2:
        touched[n_touched] = w
        n_touched += 1
    new_start[w] = sw
    return n_touched


@njit(cache=True)
def _queue_partner(x, sx, n_stack, stack_task, stack_req, partner, gmin, gmax):
    """Queue the partner of pushed task x with the start it now needs; -1 if the stack is full."""
    if partner[x] < 0:
        return n_stack
    if n_stack >= stack_task.shape[0]:
        return -1
    stack_task[n_stack] = partner[x]
    stack_req[n_stack] = _partner_needs(x, sx, partner, gmin, gmax)
    return n_stack + 1


@njit(cache=True)
def _propagate_partners(n_stack, k_a, k_b, R, L, start, W, A, n_touched):
    """Follow pushes of synchronised visits into their partners' routes.

    Pops (task, required start) pairs from the stack in ``W`` and pushes that task and
    the rest of its route, queueing further partners. Routes ``k_a``/``k_b`` hold the
    visit being priced, so a chain coming back to them is refused. Returns the new
    count of touched tasks, or -1 when the pushes break a hard rule.
    """
    (task_loc, task_dur, task_release, task_latest, tgt_s, tgt_e, partner, gmin, gmax,
     carer_mode, carer_start, carer_end, shift_start, shift_end, n_shifts,
     break_after, break_dur, break_earliest, break_latest, travel, wl, wm, we, wt) = A
    route_of, new_start, touched, stack_task, stack_req = W
    steps = 0
    while n_stack > 0:
        n_stack -= 1
        w = stack_task[n_stack]
        req = stack_req[n_stack]
        k2 = route_of[w]
        cur = new_start[w] if new_start[w] > -INF / 2 else start[w]
        if req <= cur + EPS:
            continue
        if k2 < 0 or k2 == k_a or k2 == k_b:
            return -1
        steps += 1
        if steps > 64:
            return -1
        n2 = L[k2]
        q2 = 0
        while R[k2, q2] != w:
            q2 += 1
        tr = travel[carer_mode[k2]]
        end = 0.0
        cur_loc = carer_start[k2]
        for q in range(q2, n2):
            x = R[k2, q]
            tail_x = tr[task_loc[x], carer_end[k2]] if q == n2 - 1 else 0.0
            if q == q2:   # the partner itself, now needed at req (from home if it is the first visit)
                first = tr[carer_start[k2], task_loc[x]] if q == 0 else 0.0
                sx, s2 = fit_in_shift(k2, req, task_dur[x], first, shift_start, shift_end, n_shifts, tail_x)
            else:         # the rest of its route, as far as the push reaches
                cx = new_start[x] if new_start[x] > -INF / 2 else start[x]
                arr = end + tr[cur_loc, task_loc[x]]
                if arr <= cx + EPS:
                    break
                sx, s2 = fit_in_shift(k2, arr, task_dur[x], 0.0, shift_start, shift_end, n_shifts, tail_x)
            if sx > task_latest[x] + EPS:
                return -1
            n_touched = _record_push(x, sx, new_start, touched, n_touched)
            n_stack = _queue_partner(x, sx, n_stack, stack_task, stack_req, partner, gmin, gmax)
            if n_stack < 0:
                return -1
            end = sx + task_dur[x]
            cur_loc = task_loc[x]
    return n_touched


@njit(cache=True)
def _price_at(t, k, p, s_fixed, R, L, start, working, max_work, contracted, w_over, assign_cost, cur_max, A, W,
              k_other, cutoff):
    """Cost of putting task t at position p of carer k's route.

    With ``s_fixed < 0`` the task starts as early as it can; otherwise exactly at
    ``s_fixed`` (synchronised parts). Returns (cost delta, start, new max lateness),
    cost INF when infeasible. Later visits are pushed, and so are the partners of pushed
    double-handed visits on other routes (``_propagate_partners``); ``k_other`` is the
    route of the other part when a pair is being priced.
    """
    (task_loc, task_dur, task_release, task_latest, tgt_s, tgt_e, partner, gmin, gmax,
     carer_mode, carer_start, carer_end, shift_start, shift_end, n_shifts,
     break_after, break_dur, break_earliest, break_latest, travel, wl, wm, we, wt) = A
    route_of, new_start, touched, stack_task, stack_req = W
    tr = travel[carer_mode[k]]
    n = L[k]
    loc = task_loc[t]
    dur = task_dur[t]
    if p == 0:
        prev_loc = carer_start[k]
        prev_end = -INF
    else:
        pt = R[k, p - 1]
        prev_loc = task_loc[pt]
        prev_end = start[pt] + task_dur[pt]
    next_loc = carer_end[k] if p == n else task_loc[R[k, p]]
    d_in = tr[prev_loc, loc]
    d_out = tr[loc, next_loc]
    dtravel = d_in + d_out - (tr[prev_loc, next_loc] if n > 0 else 0.0)
    if n == 0:
        dtravel = d_in + d_out
    new_work = working[k] + dtravel + dur
    if new_work > max_work[k] + EPS:
        return INF, INF, cur_max
    ready = task_release[t]
    if s_fixed >= 0.0:
        ready = s_fixed
    tail = d_out if p == n else 0.0
    if p == 0:
        st, sidx = fit_in_shift(k, ready, dur, d_in, shift_start, shift_end, n_shifts, tail)
    else:
        r2 = prev_end + d_in
        if r2 > ready:
            ready = r2
        st, sidx = fit_in_shift(k, ready, dur, 0.0, shift_start, shift_end, n_shifts, tail)
    if st > task_latest[t] + EPS:
        return INF, INF, cur_max
    if s_fixed >= 0.0 and st > s_fixed + EPS:
        return INF, INF, cur_max
    cost = wt * dtravel + assign_cost[t, k]
    # Earliness after the right shift (see ``right_shift``): wait towards the target
    # start as far as the next visit allows.
    est = st
    if tgt_s[t] > st and partner[t] < 0:
        room = start[R[k, p]] - d_out - dur if p < n else INF
        aim = tgt_s[t]
        if room < aim:
            aim = room
        if task_latest[t] < aim:
            aim = task_latest[t]
        if aim > est:
            est = aim
    late = st - tgt_e[t]
    new_max = cur_max
    if late > 0.0:
        cost += wl * late
        if late > new_max:
            new_max = late
    early = tgt_s[t] - est
    if early > 0.0:
        cost += we * early
    old_ot = working[k] - contracted[k]
    new_ot = new_work - contracted[k]
    cost += w_over * ((new_ot if new_ot > 0.0 else 0.0) - (old_ot if old_ot > 0.0 else 0.0))
    if we == 0.0 and cost + wm * (new_max - cur_max) >= cutoff:
        return INF, INF, cur_max
    # push the rest of the route, queueing the partners of pushed double visits
    end = st + dur
    cur_loc = loc
    n_touched = 0
    n_stack = 0
    ok = True
    for q in range(p, n):
        u = R[k, q]
        arr = end + tr[cur_loc, task_loc[u]]
        if arr <= start[u] + EPS:
            break
        tail_u = tr[task_loc[u], carer_end[k]] if q == n - 1 else 0.0
        su, s2 = fit_in_shift(k, arr, task_dur[u], 0.0, shift_start, shift_end, n_shifts, tail_u)
        if su > task_latest[u] + EPS:
            ok = False
            break
        n_touched = _record_push(u, su, new_start, touched, n_touched)
        n_stack = _queue_partner(u, su, n_stack, stack_task, stack_req, partner, gmin, gmax)
        if n_stack < 0:
            ok = False
            break
        end = su + task_dur[u]
        cur_loc = task_loc[u]
    if ok and n_stack > 0:
        n_touched2 = _propagate_partners(n_stack, k, k_other, R, L, start, W, A, n_touched)
        if n_touched2 < 0:
            ok = False
            # the chain may have touched more tasks; find them for the reset below
            n_touched2 = n_touched
            for i in range(new_start.shape[0]):
                if new_start[i] > -INF / 2:
                    new_start[i] = -INF
        n_touched = n_touched2
    # synchronisation must still hold among everything that moved
    if ok:
        for i in range(n_touched):
            w = touched[i]
            pw = partner[w]
            if pw < 0 or pw == t:
                continue
            sw = new_start[w]
            sp = new_start[pw] if new_start[pw] > -INF / 2 else start[pw]
            a = w if w < pw else pw
            s_a = sw if a == w else sp
            s_b = sp if a == w else sw
            if s_b - s_a < gmin[a] - EPS or s_b - s_a > gmax[a] + EPS:
                ok = False
                break
    if ok:
        for i in range(n_touched):
            w = touched[i]
            sw = new_start[w]
            old_late = start[w] - tgt_e[w]
            nl = sw - tgt_e[w]
            if nl > 0.0:
                cost += wl * (nl - (old_late if old_late > 0.0 else 0.0))
                if nl > new_max:
                    new_max = nl
            oe = tgt_s[w] - start[w]
            if oe > 0.0:
                ne = tgt_s[w] - sw
                cost -= we * (oe - (ne if ne > 0.0 else 0.0))
    for i in range(n_touched):
        new_start[touched[i]] = -INF
    if not ok:
        return INF, INF, cur_max
    cost += wm * (new_max - cur_max)
    return cost, st, new_max


@njit(cache=True)
def best_pair(t0, t1, cost0, pos0, st0, cost1, pos1, st1, R, L, start, working, max_work, contracted, w_over,
              assign_cost, cur_max, A, M, pin, W):
    """Cheapest synchronised placement of a double-handed visit's two parts.

    ``cost*/pos*/st*`` hold each part's cheapest stand-alone position per carer (from
    ``single_costs``). The M cheapest carers of each part are combined; for each pair of
    distinct carers the common (or gapped) start is the earliest both can make, and both
    placements are priced again at that start. ``pin`` (or -1) must do one of the parts.
    Returns (cost, k0, p0, k1, p1, second best).
    """
    gmin = A[7][t0]
    gmax = A[8][t0]
    order0 = np.argsort(cost0)[:M]
    order1 = np.argsort(cost1)[:M]
    if pin >= 0:   # the pinned carer's own placements must be among the candidates
        order0 = np.append(order0, pin)
        order1 = np.append(order1, pin)
    best = INF
    second = INF
    bk0 = -1
    bp0 = -1
    bk1 = -1
    bp1 = -1
    for k0 in order0:
        if cost0[k0] >= INF:
            break
        for k1 in order1:
            if cost1[k1] >= INF:
                break
            if k0 == k1 or (pin >= 0 and k0 != pin and k1 != pin):
                continue
            a0 = st0[k0]
            a1 = st1[k1]
            s0 = a0 if a0 > a1 - gmax else a1 - gmax
            s1 = a1 if a1 > s0 + gmin else s0 + gmin
            p0 = pos0[k0]
            p1 = pos1[k1]
            c0, x0, nm0 = _price_at(t0, k0, p0, s0, R, L, start, working, max_work, contracted, w_over,
                                    assign_cost, cur_max, A, W, k1, second)
            if c0 >= INF:
                continue
            c1, x1, nm1 = _price_at(t1, k1, p1, s1, R, L, start, working, max_work, contracted, w_over,
                                    assign_cost, nm0, A, W, k0, second - c0)
            if c1 >= INF:
                continue
            c = c0 + c1
            if c < best:
                second = best
                best = c
                bk0 = k0
                bp0 = p0
                bk1 = k1
                bp1 = p1
            elif c < second:
                second = c
    return best, bk0, bp0, bk1, bp1, second


@njit(cache=True)
def single_costs(t, carers, R, L, start, working, max_work, contracted, w_over, eligible, assign_cost, cur_max, A,
                 out_cost, out_pos, out_start, W, cheapest_only=False):
    """Cheapest position (and its start) of a task on each carer in ``carers`` (INF if none).

    With ``cheapest_only`` only the overall cheapest matters: a carer that cannot beat
    the best found so far is left at INF, which saves pushing most routes.
    """
    bound = INF
    for idx in range(carers.shape[0]):
        k = carers[idx]
        out_cost[k] = INF
        out_pos[k] = -1
        out_start[k] = INF
        if not eligible[t, k]:
            continue
        # Granular positions: around the visits that start near this task's window.
        n = L[k]
        lo = 0
        while lo < n and start[R[k, lo]] < A[2][t]:
            lo += 1
        hi = lo
        due = A[3][t] if A[3][t] < A[5][t] else A[5][t]
        while hi < n and start[R[k, hi]] <= due:
            hi += 1
        lo = lo - GRANULAR_SLACK if lo > GRANULAR_SLACK else 0
        hi = hi + GRANULAR_SLACK if hi + GRANULAR_SLACK < n else n
        for p in range(lo, hi + 1):
            cutoff = out_cost[k]
            if cheapest_only and bound < cutoff:
                cutoff = bound
            c, st, nm = _price_at(t, k, p, -1.0, R, L, start, working, max_work, contracted, w_over,
                                  assign_cost, cur_max, A, W, -1, cutoff)
            if c < out_cost[k]:
                out_cost[k] = c
                out_pos[k] = p
                out_start[k] = st
        if out_cost[k] < bound:
            bound = out_cost[k]


@njit(cache=True)
def price_pending(rows, carers, R, L, start, working, max_work, contracted, w_over, eligible, assign_cost, cur_max,
                  A, C_cost, C_pos, C_start, W, cheapest_only=False):
    """Refresh the cached best position on ``carers`` of every pending task (row i of the
    caches belongs to task ``rows[i]``; -1 rows are skipped)."""
    for i in range(rows.shape[0]):
        t = rows[i]
        if t >= 0:
            single_costs(t, carers, R, L, start, working, max_work, contracted, w_over, eligible, assign_cost,
                         cur_max, A, C_cost[i], C_pos[i], C_start[i], W, cheapest_only)


@njit(cache=True)
def choose_insertion(pend, row0, row1, penalty, regret, noise, R, L, start, working, max_work, contracted,
                     w_over, assign_cost, cur_max, A, C_cost, C_pos, C_start, M, pins, W):
    """Pick the pending visit to insert next: the one with the most regret (or the
    cheapest), placements that cannot be made or cost more than leaving the visit out
    come first so they are settled. ``pend[i]`` is a visit whose task rows are
    ``row0[i]``/``row1[i]`` (-1 when single). Returns (index into pend, cost, k0, p0, k1, p1),
    k0 = -1 when no placement exists."""
    best_i = -1
    best_score = -INF
    out = (INF, -1, -1, -1, -1)
    for i in range(pend.shape[0]):
        v = pend[i]
        r0 = row0[i]
        r1 = row1[i]
        if r1 < 0:
            costs = C_cost[r0]
            k = -1
            cost = INF
            second = INF
            for kk in range(costs.shape[0]):
                c = costs[kk]
                if c < cost:
                    second = cost
                    cost = c
                    k = kk
                elif c < second:
                    second = c
            move = (cost, k, C_pos[r0, k] if k >= 0 else -1, -1, -1)
        else:
            cost, k0, p0, k1, p1, second = best_pair(
                pins[i, 0], pins[i, 1], C_cost[r0], C_pos[r0], C_start[r0], C_cost[r1], C_pos[r1], C_start[r1],
                R, L, start, working, max_work, contracted, w_over, assign_cost, cur_max, A, M, pins[i, 2], W)
            move = (cost, k0, p0, k1, p1)
        if move[1] < 0 or cost >= INF or cost > penalty[v]:
            score = INF
        elif regret >= 2:
            score = (second if second < penalty[v] else penalty[v]) - cost
        else:
            score = -cost
        if score < INF:
            score += noise[i] * (abs(cost) + 1.0)
        if score > best_score:
            best_score = score
            best_i = i
            out = move
    return best_i, out[0], out[1], out[2], out[3], out[4]


@njit(cache=True)
def evaluate(R, L, route_of, brk, start, lb, hold, A, visit_first_task, visit_penalty, assign_cost, max_work,
             contracted, travel_out, work_out, late_out, early_out):
    """Time every route and total the objective's raw terms in one compiled pass.

    Returns (feasible, unassigned penalty, total lateness, max lateness, total earliness,
    travel minutes, assignment cost, overtime minutes); the caller applies the weights.
    """
    feasible = schedule_with_breaks(R, L, route_of, brk, start, lb, hold, A)
    if feasible and A[22] > 0.0:
        right_shift(R, L, start, A)
    within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime = totals(
        R, L, route_of, start, A, visit_first_task, visit_penalty, assign_cost, max_work, contracted,
        travel_out, work_out, late_out, early_out)
    return feasible and within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime


@njit(cache=True)
def totals(R, L, route_of, start, A, visit_first_task, visit_penalty, assign_cost, max_work, contracted,
           travel_out, work_out, late_out, early_out):
    """The objective's raw terms at the given starts (no re-timing), as ``evaluate``;
    the first value says whether every carer stays within their maximum working time."""
    route_costs(R, L, start, A, travel_out, work_out, late_out, early_out)
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
    within = True
    for k in range(L.shape[0]):
        travel += travel_out[k]
        if work_out[k] > max_work[k] + EPS:
            within = False
        extra = work_out[k] - contracted[k]
        if extra > 0.0:
            overtime += extra
    unassigned = 0.0
    for v in range(visit_first_task.shape[0]):
        if route_of[visit_first_task[v]] < 0:
            unassigned += visit_penalty[v]
    return within, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime
