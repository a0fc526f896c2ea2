"""Compiled pricing of insertions: what putting a visit at a place in a route costs.

Pricing a position follows every visit it pushes later, including the partners of
double-handed visits on other routes, so the cost of an insertion is exact for the
earliest schedule (``timing``); only positions near the visit's window are tried
(granular neighbourhoods). A double-handed visit combines the cheapest carers of its
two parts into a synchronised pair.

The kernels read the day from a ``DayArrays`` and ``CostArrays``, the plan from a
``RouteArrays`` and write into a ``Scratch`` (``records``). They read the records' fields
where they use them: most placements are turned down after a few reads, so binding every
field first would cost more. numba compiles them once and caches them on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .records import EPS, INF, PairPrices, Placement, TaskPrices
from .timing import fit_in_shift, past_soft_end, shift_of

__all__ = [
    "GRANULAR_SLACK",
    "best_pair",
    "cheapest_place",
    "choose_insertion",
    "price_at",
    "price_pending",
    "shortlist",
    "single_costs",
]

GRANULAR_SLACK = 2
"""Positions priced beyond those whose visits start inside a task's window, each side."""


@njit(cache=True)
def _partner_needs(day, w, sw):
    """Earliest start the partner of task w needs once w starts at sw."""
    p = day.task_partner[w]
    if w < p:  # w is the first part: the second follows by gap_min at least
        return sw + day.task_gap_min[w]
    return sw - day.task_gap_max[p]  # w is the second part: the first may lag by gap_max at most


@njit(cache=True)
def _record_push(work, w, sw, n_touched):
    """Task w now starts at sw; returns how many tasks have been pushed."""
    if work.new_start[w] <= -INF / 2:
        work.touched[n_touched] = w
        n_touched += 1
    work.new_start[w] = sw
    return n_touched


@njit(cache=True)
def _queue_partner(day, work, x, sx, n_stack):
    """Queue the partner of pushed task x with the start it now needs; -1 if the stack is full."""
    if day.task_partner[x] < 0:
        return n_stack
    if n_stack >= work.stack_task.shape[0]:
        return -1
    work.stack_task[n_stack] = day.task_partner[x]
    work.stack_req[n_stack] = _partner_needs(day, x, sx)
    return n_stack + 1


@njit(cache=True)
def _propagate_partners(day, routes, work, n_stack, k_a, k_b, n_touched):
    """Follow pushes of synchronised visits into their partners' routes.

    Pops (task, required start) pairs from the stack in ``work`` and pushes that task and
    the rest of its route, queueing further partners. Routes ``k_a``/``k_b`` hold the
    visit being priced, so a chain coming back to them is refused. Returns the new
    count of touched tasks, or -1 when the pushes break a hard rule.
    """
    R, L, start, route_of = routes.R, routes.L, routes.start, routes.route_of
    new_start = work.new_start
    steps = 0
    while n_stack > 0:
        n_stack -= 1
        w = work.stack_task[n_stack]
        req = work.stack_req[n_stack]
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
        tr = day.travel[day.carer_mode[k2]]
        home = day.carer_end[k2]
        end = 0.0
        cur_loc = day.carer_start[k2]
        for q in range(q2, n2):
            x = R[k2, q]
            tail_x = tr[day.task_loc[x], home] if q == n2 - 1 else 0.0
            if q == q2:  # the partner itself, now needed at req (from home if it is the first visit)
                first = tr[day.carer_start[k2], day.task_loc[x]] if q == 0 else 0.0
                sx, shift = fit_in_shift(
                    day.shift_start, day.shift_end, day.n_shifts, k2, req, day.task_dur[x], first, tail_x
                )
            else:  # the rest of its route, as far as the push reaches
                cx = new_start[x] if new_start[x] > -INF / 2 else start[x]
                arr = end + tr[cur_loc, day.task_loc[x]]
                if arr <= cx + EPS:
                    break
                sx, shift = fit_in_shift(
                    day.shift_start, day.shift_end, day.n_shifts, k2, arr, day.task_dur[x], 0.0, tail_x
                )
            if shift < 0 or sx > day.task_latest[x] + EPS:  # no shift holds it, or too late
                return -1
            n_touched = _record_push(work, x, sx, n_touched)
            n_stack = _queue_partner(day, work, x, sx, n_stack)
            if n_stack < 0:
                return -1
            end = sx + day.task_dur[x]
            cur_loc = day.task_loc[x]
    return n_touched


@njit(cache=True)
def price_at(day, costs, routes, work, at, cur_max, cutoff):
    """Cost of the placement ``at`` (a ``Placement``): returns (cost delta, start, new
    max lateness), cost INF when infeasible or when it cannot beat ``cutoff``.

    Later visits are pushed, and so are the partners of pushed double-handed visits on
    other routes (``_propagate_partners``). ``cur_max`` is the plan's maximum lateness
    before the placement.
    """
    R, start = routes.R, routes.start
    new_start = work.new_start
    t, k, p, s_fixed = at.task, at.carer, at.position, at.start
    tr = day.travel[day.carer_mode[k]]
    n = routes.L[k]
    loc = day.task_loc[t]
    dur = day.task_dur[t]
    if p == 0:
        prev_loc = day.carer_start[k]
        prev_end = -INF
    else:
        pt = R[k, p - 1]
        prev_loc = day.task_loc[pt]
        prev_end = start[pt] + day.task_dur[pt]
    next_loc = day.carer_end[k] if p == n else day.task_loc[R[k, p]]
    d_in = tr[prev_loc, loc]
    d_out = tr[loc, next_loc]
    dtravel = d_in + d_out - (tr[prev_loc, next_loc] if n > 0 else 0.0)
    if n == 0:
        dtravel = d_in + d_out
    new_work = routes.working[k] + dtravel + dur
    if new_work > costs.max_work[k] + EPS:
        return INF, INF, cur_max
    ready = day.task_release[t]
    if s_fixed >= 0.0:
        ready = s_fixed
    tail = d_out if p == n else 0.0
    if p == 0:
        st, shift = fit_in_shift(day.shift_start, day.shift_end, day.n_shifts, k, ready, dur, d_in, tail)
    else:
        r2 = prev_end + d_in
        if r2 > ready:
            ready = r2
        st, shift = fit_in_shift(day.shift_start, day.shift_end, day.n_shifts, k, ready, dur, 0.0, tail)
    if shift < 0 or st > day.task_latest[t] + EPS:  # no shift holds it (open windows too), or too late
        return INF, INF, cur_max
    if s_fixed >= 0.0 and st > s_fixed + EPS:
        return INF, INF, cur_max
    cost = day.w_travel * dtravel + costs.assign_cost[t, k]
    # Earliness after the right shift (see ``timing.right_shift``): wait towards the
    # target start as far as the next visit allows.
    est = st
    target = day.task_tgt_start[t]
    if target > st and day.task_partner[t] < 0:
        room = start[R[k, p]] - d_out - dur if p < n else INF
        aim = target
        if room < aim:
            aim = room
        if day.task_latest[t] < aim:
            aim = day.task_latest[t]
        if aim > est:
            est = aim
    late = st - day.task_tgt_end[t]
    new_max = cur_max
    if late > 0.0:
        cost += day.w_late * late
        if late > new_max:
            new_max = late
    early = target - est
    if early > 0.0:
        cost += day.w_early * early
    old_ot = routes.working[k] - costs.contracted[k]
    new_ot = new_work - costs.contracted[k]
    cost += day.w_overtime * ((new_ot if new_ot > 0.0 else 0.0) - (old_ot if old_ot > 0.0 else 0.0))
    if day.w_early == 0.0 and day.w_wait == 0.0 and cost + day.w_maxlate * (new_max - cur_max) >= cutoff:
        return INF, INF, cur_max  # (filling a gap lowers the waiting: no cut-off then)
    # push the rest of the route, queueing the partners of pushed double visits
    end = st + dur
    cur_loc = loc
    n_touched = 0
    n_stack = 0
    ok = True
    last = n - 1  # the last position the push may have moved
    for q in range(p, n):
        u = R[k, q]
        arr = end + tr[cur_loc, day.task_loc[u]]
        if arr <= start[u] + EPS:
            last = q
            break
        tail_u = tr[day.task_loc[u], day.carer_end[k]] if q == n - 1 else 0.0
        su, shift = fit_in_shift(day.shift_start, day.shift_end, day.n_shifts, k, arr, day.task_dur[u], 0.0, tail_u)
        if shift < 0 or su > day.task_latest[u] + EPS:
            ok = False
            break
        n_touched = _record_push(work, u, su, n_touched)
        n_stack = _queue_partner(day, work, u, su, n_stack)
        if n_stack < 0:
            ok = False
            break
        end = su + day.task_dur[u]
        cur_loc = day.task_loc[u]
    if ok and n_stack > 0:
        n_touched2 = _propagate_partners(day, routes, work, n_stack, k, at.partner_carer, n_touched)
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
            w = work.touched[i]
            pw = day.task_partner[w]
            if pw < 0 or pw == t:
                continue
            sw = new_start[w]
            sp = new_start[pw] if new_start[pw] > -INF / 2 else start[pw]
            a = w if w < pw else pw
            s_a = sw if a == w else sp
            s_b = sp if a == w else sw
            if s_b - s_a < day.task_gap_min[a] - EPS or s_b - s_a > day.task_gap_max[a] + EPS:
                ok = False
                break
    if ok:
        for i in range(n_touched):
            w = work.touched[i]
            sw = new_start[w]
            old_late = start[w] - day.task_tgt_end[w]
            nl = sw - day.task_tgt_end[w]
            if nl > 0.0:
                cost += day.w_late * (nl - (old_late if old_late > 0.0 else 0.0))
                if nl > new_max:
                    new_max = nl
            oe = day.task_tgt_start[w] - start[w]
            if oe > 0.0:
                ne = day.task_tgt_start[w] - sw
                cost -= day.w_early * (oe - (ne if ne > 0.0 else 0.0))
        if day.prices_time:
            s_t = est if day.w_early > 0.0 else st
            wait, past = _time_cost_change(day, routes, work, k, t, p, s_t, last, n_touched)
            cost += day.w_wait * wait + day.w_past_end * past
    for i in range(n_touched):
        new_start[work.touched[i]] = -INF
    if not ok:
        return INF, INF, cur_max
    cost += day.w_maxlate * (new_max - cur_max)
    return cost, st, new_max


@njit(cache=True)
def _time_cost_change(day, routes, work, k, t, p, s_t, last, n_touched):
    """Change in the carers' waiting and minutes past soft shift ends when task t goes in
    at position p of carer k's route starting at ``s_t`` and the visits it pushes start at
    ``work.new_start``. On k's route only the stretch from the visit before p to position
    ``last`` (the last the push may move) can change; the route of each partner it
    pushes is walked whole. Breaks are left out: the exact figures come when the routes
    are timed (``timing``)."""
    lo = p - 1 if p > 0 else 0
    wait_before, past_before = _stretch_time_costs(day, routes, work, k, lo, last, -1, p, 0.0, False)
    wait_after, past_after = _stretch_time_costs(day, routes, work, k, lo, last, t, p, s_t, True)
    wait = wait_after - wait_before
    past = past_after - past_before
    for i in range(n_touched):
        k2 = routes.route_of[work.touched[i]]
        if k2 == k:
            continue
        seen = False
        for j in range(i):
            if routes.route_of[work.touched[j]] == k2:
                seen = True
                break
        if seen:
            continue
        last2 = routes.L[k2] - 1
        wait_before, past_before = _stretch_time_costs(day, routes, work, k2, 0, last2, -1, -1, 0.0, False)
        wait_after, past_after = _stretch_time_costs(day, routes, work, k2, 0, last2, -1, -1, 0.0, True)
        wait += wait_after - wait_before
        past += past_after - past_before
    return wait, past


@njit(cache=True)
def _stretch_time_costs(day, routes, work, k, lo, hi, t, p, s_t, moved):
    """Waiting between the visits at positions lo..hi of carer k's route and minutes past
    the soft ends of the shifts they close, as ``timing`` counts them; with task t put in
    at position p starting at ``s_t`` (t = -1: none) and, when ``moved``, the pushed visits
    at ``work.new_start``. Gaps and shift ends beyond the stretch are the same either way."""
    R, start, new_start = routes.R, routes.start, work.new_start
    tr = day.travel[day.carer_mode[k]]
    loc, dur = day.task_loc, day.task_dur
    m = hi - lo + 1 + (1 if t >= 0 else 0)
    wait = 0.0
    past = 0.0
    x = -1
    sx = 0.0
    shx = -1
    for j in range(m):
        i = lo + j
        if t >= 0 and i == p:
            y = t
            sy = s_t
        else:
            y = R[k, i - 1] if t >= 0 and i > p else R[k, i]
            sy = start[y]
            if moved and new_start[y] > -INF / 2:
                sy = new_start[y]
        shy = shift_of(day, k, sy, dur[y])
        if x >= 0:
            if shy == shx:
                gap = sy - sx - dur[x] - tr[loc[x], loc[y]]
                if gap > EPS:
                    wait += gap
            else:
                past += past_soft_end(day, k, shx, sx + dur[x])
        x = y
        sx = sy
        shx = shy
    if x >= 0 and hi == routes.L[k] - 1:  # the stretch ends the day: the carer goes home
        past += past_soft_end(day, k, shx, sx + dur[x] + tr[loc[x], day.carer_end[k]])
    return wait, past


@njit(cache=True)
def best_pair(day, costs, routes, work, pair, cur_max):
    """Cheapest synchronised placement of a double-handed visit's two parts.

    ``pair`` (a ``PairPrices``) holds each part's cheapest stand-alone position per carer
    (from ``single_costs``). The ``pair.candidates`` cheapest carers of each part are
    combined; for each pair of distinct carers the common (or gapped) start is the
    earliest both can make, and both placements are priced again at that start.
    ``pair.pin`` (or -1) must do one of the parts. Returns (cost, k0, p0, k1, p1, second best).
    """
    part0, part1, pin, candidates = pair.first, pair.second, pair.pin, pair.candidates
    t0, t1 = part0.task, part1.task
    gmin = day.task_gap_min[t0]
    gmax = day.task_gap_max[t0]
    cost0, cost1 = part0.cost, part1.cost
    order0 = np.argsort(cost0)[:candidates]
    order1 = np.argsort(cost1)[:candidates]
    if pin >= 0:  # the pinned carer's own placements must be among the candidates
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
            a0 = part0.start[k0]
            a1 = part1.start[k1]
            s0 = a0 if a0 > a1 - gmax else a1 - gmax
            s1 = a1 if a1 > s0 + gmin else s0 + gmin
            p0 = part0.position[k0]
            p1 = part1.position[k1]
            c0, _, nm0 = price_at(day, costs, routes, work, Placement(t0, k0, p0, s0, k1), cur_max, second)
            if c0 >= INF:
                continue
            c1, _, _ = price_at(day, costs, routes, work, Placement(t1, k1, p1, s1, k0), nm0, second - c0)
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
def single_costs(day, costs, routes, work, prices, carers, cur_max, cheapest_only=False):
    """Fill ``prices`` (a ``TaskPrices``) with the cheapest position (and its start) of
    its task on each carer in ``carers`` (INF if none).

    With ``cheapest_only`` only the overall cheapest matters: a carer that cannot beat
    the best found so far is left at INF, which saves pushing most routes.
    """
    t = prices.task
    out_cost, out_pos, out_start = prices.cost, prices.position, prices.start
    bound = INF
    for idx in range(carers.shape[0]):
        k = carers[idx]
        out_cost[k] = INF
        out_pos[k] = -1
        out_start[k] = INF
        if not costs.eligible[t, k]:
            continue
        lo, hi = _granular(day, routes, t, k)
        for p in range(lo, hi + 1):
            cutoff = out_cost[k]
            if cheapest_only and bound < cutoff:
                cutoff = bound
            c, st, _ = price_at(day, costs, routes, work, Placement(t, k, p, -1.0, -1), cur_max, cutoff)
            if c < out_cost[k]:
                out_cost[k] = c
                out_pos[k] = p
                out_start[k] = st
        if out_cost[k] < bound:
            bound = out_cost[k]


@njit(cache=True)
def cheapest_place(day, costs, routes, work, t, carers, cur_max, cost, position, start):
    """Task t's cheapest place on ``carers`` as (cost, carer, position), carer -1 when none
    (cost INF): one single-handed visit placed without regret, where only the cheapest
    carer matters (``single_costs`` with ``cheapest_only``). ``cost``, ``position`` and
    ``start`` are per-carer work space; on a tie the lowest carer number wins."""
    cost[:] = INF
    single_costs(day, costs, routes, work, TaskPrices(t, cost, position, start), carers, cur_max, True)
    best = INF
    k = -1
    for kk in range(cost.shape[0]):
        if cost[kk] < best:
            best = cost[kk]
            k = kk
    return best, k, position[k] if k >= 0 else -1


@njit(cache=True)
def _granular(day, routes, t, k):
    """The positions of carer k's route worth pricing for task t, lo..hi: around the
    visits that start inside its window (granular neighbourhoods)."""
    R, start = routes.R, routes.start
    n = routes.L[k]
    due = day.task_latest[t] if day.task_latest[t] < day.task_tgt_end[t] else day.task_tgt_end[t]
    lo = 0
    while lo < n and start[R[k, lo]] < day.task_release[t]:
        lo += 1
    hi = lo
    while hi < n and start[R[k, hi]] <= due:
        hi += 1
    lo = lo - GRANULAR_SLACK if lo > GRANULAR_SLACK else 0
    hi = hi + GRANULAR_SLACK if hi + GRANULAR_SLACK < n else n
    return lo, hi


@njit(cache=True)
def shortlist(day, costs, routes, t, most):
    """The ``most`` eligible carers where task t would likely cost least: ranked by the
    travel its detour adds, the pairing's cost and the lateness of arriving straight
    from the visit before, at the best of their granular positions. One pass over the
    routes' arrays, without pushing anything: a big day's first plan prices only these
    carers in full."""
    R, start = routes.R, routes.start
    K = routes.L.shape[0]
    loc = day.task_loc[t]
    score = np.full(K, INF)
    for k in range(K):
        if not costs.eligible[t, k]:
            continue
        n = routes.L[k]
        tr = day.travel[day.carer_mode[k]]
        lo, hi = _granular(day, routes, t, k)
        for p in range(lo, hi + 1):
            ready = day.task_release[t]
            if p == 0:
                prev_loc = day.carer_start[k]
            else:
                prev_loc = day.task_loc[R[k, p - 1]]
                arrive = start[R[k, p - 1]] + day.task_dur[R[k, p - 1]] + tr[prev_loc, loc]
                if arrive > ready:
                    ready = arrive
            next_loc = day.carer_end[k] if p == n else day.task_loc[R[k, p]]
            detour = tr[prev_loc, loc] + tr[loc, next_loc] - (tr[prev_loc, next_loc] if n > 0 else 0.0)
            late = ready - day.task_tgt_end[t]
            c = day.w_travel * detour + costs.assign_cost[t, k] + (day.w_late * late if late > 0.0 else 0.0)
            if c < score[k]:
                score[k] = c
    order = np.argsort(score)
    m = 0
    while m < most and m < K and score[order[m]] < INF:
        m += 1
    return order[:m]


@njit(cache=True)
def price_pending(day, costs, routes, work, cache, carers, cur_max, cheapest_only=False):
    """Refresh the cached best position on ``carers`` of every task still in ``cache``
    (a ``PriceCache``; rows set to -1 are skipped)."""
    for i in range(cache.rows.shape[0]):
        t = cache.rows[i]
        if t >= 0:
            prices = TaskPrices(t, cache.cost[i], cache.position[i], cache.start[i])
            single_costs(day, costs, routes, work, prices, carers, cur_max, cheapest_only)


@njit(cache=True)
def choose_insertion(day, costs, routes, work, pending, cache, cur_max):
    """Pick the pending visit to insert next: the one with the most regret (or the
    cheapest); placements that cannot be made or cost more than leaving the visit out
    come first so they are settled. ``pending`` is a ``Pending``, ``cache`` the
    ``PriceCache`` its rows point into. Returns (index into pending, cost, k0, p0, k1,
    p1), k0 = -1 when no placement exists."""
    regret, candidates = pending.regret, pending.pair_candidates
    best_i = -1
    best_score = -INF
    out = (INF, -1, -1, -1, -1)
    for i in range(pending.visits.shape[0]):
        v = pending.visits[i]
        r0 = pending.row0[i]
        r1 = pending.row1[i]
        if r1 < 0:
            row_costs = cache.cost[r0]
            k = -1
            cost = INF
            second = INF
            for kk in range(row_costs.shape[0]):
                c = row_costs[kk]
                if c < cost:
                    second = cost
                    cost = c
                    k = kk
                elif c < second:
                    second = c
            move = (cost, k, cache.position[r0, k] if k >= 0 else -1, -1, -1)
        else:
            part0 = TaskPrices(pending.task0[i], cache.cost[r0], cache.position[r0], cache.start[r0])
            part1 = TaskPrices(pending.task1[i], cache.cost[r1], cache.position[r1], cache.start[r1])
            pair = PairPrices(part0, part1, pending.pin[i], candidates)
            cost, k0, p0, k1, p1, second = best_pair(day, costs, routes, work, pair, cur_max)
            move = (cost, k0, p0, k1, p1)
        penalty = costs.visit_penalty[v]
        if move[1] < 0 or cost >= INF or cost > penalty:
            score = INF
        elif regret >= 2:
            score = (second if second < penalty else penalty) - cost
        else:
            score = -cost
        if score < INF:
            score += pending.noise[i] * (abs(cost) + 1.0)
        if score > best_score:
            best_score = score
            best_i = i
            out = move
    return best_i, out[0], out[1], out[2], out[3], out[4]
