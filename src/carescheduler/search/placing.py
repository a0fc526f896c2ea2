"""Placing one single-handed visit for good, in one compiled call: price it, put it in,
time the routes it moves, and undo it all if the timing turns it down.

A search's repair puts its visits back one at a time, tens of thousands of times a
second on a small day: done in Python, calling the pricing and the timing kernels in
turn, the calls themselves cost as much as the work. ``insertion`` uses this for the
common case and keeps the rare ones (the exact pricing, retries) in Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .pricing import cheapest_place
from .timing import evaluate_inserted

__all__ = ["LEFT_OUT", "NO_PLACE", "PLACED", "RULED_OUT", "place_cheapest"]

PLACED = 1
"""The visit is in, at its cheapest place, and the plan is timed."""
LEFT_OUT = 0
"""Its cheapest place costs more than leaving it out: nothing changed."""
NO_PLACE = -1
"""No carer can take it as the kernels price it: nothing changed."""
RULED_OUT = 2
"""Its cheapest carer's route, once timed, turned it down: the plan is as it was."""


@njit(cache=True)
def _copy_into(routes, figures, from_routes, from_figures):
    """Overwrite one plan's arrays with another's (the same shapes)."""
    routes.R[...] = from_routes.R
    routes.L[...] = from_routes.L
    routes.route_of[...] = from_routes.route_of
    routes.start[...] = from_routes.start
    routes.lb[...] = from_routes.lb
    routes.hold[...] = from_routes.hold
    routes.brk[...] = from_routes.brk
    routes.working[...] = from_routes.working
    figures.travel[...] = from_figures.travel
    figures.late[...] = from_figures.late
    figures.early[...] = from_figures.early
    figures.wait[...] = from_figures.wait
    figures.wait_max[...] = from_figures.wait_max
    figures.past_end[...] = from_figures.past_end


@njit(cache=True)
def _insert(routes, t, k, p):
    """Put task t at position p of carer k's route (``Solution.insert``)."""
    n = routes.L[k]
    for i in range(n, p, -1):
        routes.R[k, i] = routes.R[k, i - 1]
    routes.R[k, p] = t
    routes.L[k] = n + 1
    routes.route_of[t] = k
    if routes.brk[k] >= p:  # the break stays in its gap, which moved one place on
        routes.brk[k] += 1


@njit(cache=True)
def place_cheapest(day, costs, routes, figures, spare, spare_figures, work, t, carers, cur_max, penalty, buffers):
    """Put task t (a single-handed visit's) at its cheapest place on ``carers`` and time
    the plan, which must be timed and feasible. Returns (status, carer, timing result):
    ``PLACED`` with ``timing.evaluate``'s tuple for the new plan; ``LEFT_OUT`` when the
    cheapest place costs more than ``penalty``; ``NO_PLACE`` when there is none; or
    ``RULED_OUT`` when the carer's timing refused it, the plan restored exactly from
    ``spare``/``spare_figures`` (work space of the same shapes). ``buffers`` holds the
    per-carer work space of ``cheapest_place`` (cost, position, start)."""
    cost, k, p = cheapest_place(day, costs, routes, work, t, carers, cur_max, buffers[0], buffers[1], buffers[2])
    refused = (False, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    if k < 0:
        return NO_PLACE, -1, refused
    if cost > penalty:
        return LEFT_OUT, k, refused
    if routes.L[k] >= routes.R.shape[1]:  # the route cannot hold another task
        return RULED_OUT, k, refused
    _copy_into(spare, spare_figures, routes, figures)
    _insert(routes, t, k, p)
    result = evaluate_inserted(
        day, costs, routes, figures, np.array([k], dtype=np.int64), np.array([t], dtype=np.int64), True
    )
    if result[0]:
        return PLACED, k, result
    _copy_into(routes, figures, spare, spare_figures)
    return RULED_OUT, k, refused
