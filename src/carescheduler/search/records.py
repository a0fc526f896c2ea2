"""The named records the compiled kernels read and write.

numba compiles a ``NamedTuple`` of arrays like a plain tuple, so the kernels read
``day.travel[day.carer_mode[k]]`` rather than a position in a long argument list, and
each kernel takes a handful of records instead of twenty arrays:

* ``DayArrays``: the compiled day as the timing reads it (``Instance.arrays()``);
* ``CostArrays``: who may do which task and what the plan's choices cost beyond timing
  (``Instance.costs()``);
* ``RouteArrays``: one solution's routes and their times (``Solution.arrays``), and
  ``RouteFigures`` what they come to (``Solution.figures``);
* ``CarerRoute``: one carer's route and what the timing needs of that carer;
* ``Scratch``: work space of the insertion pricing (pushed starts, a stack of partners);
* ``TaskPrices``, ``PairPrices`` and ``PriceCache``: the cheapest place of pending tasks
  on each carer;
* ``Pending``: the visits an insertion chooses among, and how it chooses;
* ``Placement``: one task at one position of one carer's route.

numba counts a reference to every array of a record passed to a function or read from
it, which costs more than the work of a small function: the whole-day kernels take the
records, bind the fields they use to local names before their loops, and hand per-carer
work a ``CarerRoute`` and the few arrays it reads.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "EPS",
    "INF",
    "CarerRoute",
    "CostArrays",
    "DayArrays",
    "PairPrices",
    "Pending",
    "Placement",
    "PriceCache",
    "RouteArrays",
    "RouteFigures",
    "Scratch",
    "TaskPrices",
]

INF = 1.0e12
"""Stands for "no bound" and "impossible" in the arrays (numba has no use for None)."""
EPS = 1.0e-6
"""Tolerance on times in minutes."""


class DayArrays(NamedTuple):
    """The compiled day as the timing reads it; the fields are ``Instance``'s own."""

    # tasks (T,): one carer's part of a visit
    task_loc: np.ndarray  # int: location index
    task_dur: np.ndarray
    task_release: np.ndarray  # earliest start
    task_latest: np.ndarray  # hard latest start (INF if open)
    task_tgt_start: np.ndarray  # soft window (-INF / INF if none)
    task_tgt_end: np.ndarray
    task_partner: np.ndarray  # int: the other part of a double visit, -1 if none
    task_gap_min: np.ndarray  # for part 0: start(part 1) - start(part 0) in [gap_min, gap_max]
    task_gap_max: np.ndarray
    # carers (K,)
    carer_mode: np.ndarray  # int: index into ``travel``
    carer_start: np.ndarray  # int: location index of home (start and end)
    carer_end: np.ndarray
    shift_start: np.ndarray  # (K, S), padded with INF
    shift_end: np.ndarray  # (K, S), padded with -INF: the hard end
    shift_soft_end: np.ndarray  # (K, S): finishing later costs (INF: the end is hard)
    n_shifts: np.ndarray  # int
    break_after: np.ndarray  # a break is due when the day is longer than this (INF: no rule)
    break_dur: np.ndarray
    break_earliest: np.ndarray
    break_latest: np.ndarray
    travel: np.ndarray  # (modes, N, N) minutes
    # weights of the objective
    w_late: float
    w_maxlate: float
    w_early: float
    w_travel: float
    w_overtime: float
    w_wait: float
    w_past_end: float
    prices_time: bool  # waiting or a soft shift end costs something (else the kernels skip them)


class CostArrays(NamedTuple):
    """Who may do which task, and what the plan's choices cost beyond their timing."""

    eligible: np.ndarray  # bool (T, K)
    assign_cost: np.ndarray  # (T, K) weighted soft cost of the pairing
    max_work: np.ndarray  # (K,) INF if none
    contracted: np.ndarray  # (K,) INF if none
    visit_tasks: np.ndarray  # int (V, 2), -1 when single
    visit_penalty: np.ndarray  # (V,) cost of leaving the visit out


class RouteArrays(NamedTuple):
    """One solution's routes (the decisions), their times and each carer's working minutes."""

    R: np.ndarray  # int (K, max route length): carer k's tasks in order in R[k, :L[k]]
    L: np.ndarray  # int (K,)
    route_of: np.ndarray  # int (T,): the carer doing each task, -1 if none
    start: np.ndarray  # (T,) start times
    lb: np.ndarray  # (T,) lower bounds on starts while timing (work space)
    hold: np.ndarray  # (T,) extra release per task (-INF when none)
    brk: np.ndarray  # int (K,): the break follows this position of the route, -1 if none
    working: np.ndarray  # (K,) working minutes per carer (visits and travel)


class RouteFigures(NamedTuple):
    """What one solution's routes come to, besides working minutes (``RouteArrays``)."""

    travel: np.ndarray  # (K,) travel minutes per carer
    late: np.ndarray  # (T,) minutes after the target window
    early: np.ndarray  # (T,) minutes before the target window
    wait: np.ndarray  # (K,) minutes each carer waits between visits of one shift
    wait_max: np.ndarray  # (K,) each carer's longest single wait
    past_end: np.ndarray  # (K,) minutes each carer finishes after their shifts' (soft) ends


class CarerRoute(NamedTuple):
    """One carer's route as the timing walks it: the tasks in order, the travel minutes of
    the carer's mode, home, and the break rule (``timing.carer_route`` builds it)."""

    carer: int
    tasks: np.ndarray  # int: R[k, :L[k]]
    travel: np.ndarray  # (N, N) minutes of the carer's mode
    home_start: int
    home_end: int
    break_after: float  # INF: no rule
    break_dur: float
    break_earliest: float
    break_latest: float


class Scratch(NamedTuple):
    """Work space of the insertion pricing: the starts of tasks a placement pushes
    (-INF when not pushed), which those are, and a stack of partners to push next."""

    new_start: np.ndarray
    touched: np.ndarray
    stack_task: np.ndarray
    stack_req: np.ndarray


class TaskPrices(NamedTuple):
    """The cheapest position (and its start) of one task on each carer (cost INF: none)."""

    task: int
    cost: np.ndarray  # (K,)
    position: np.ndarray  # int (K,)
    start: np.ndarray  # (K,)


class PairPrices(NamedTuple):
    """A double-handed visit's two parts priced alone (``TaskPrices`` each), the carer who
    must do one of them (-1: none), and how many of each part's cheapest carers to pair."""

    first: TaskPrices
    second: TaskPrices
    pin: int
    candidates: int


class PriceCache(NamedTuple):
    """``TaskPrices`` of many tasks: row i belongs to task ``rows[i]`` (-1: no longer priced)."""

    rows: np.ndarray  # int (P,)
    cost: np.ndarray  # (P, K)
    position: np.ndarray  # int (P, K)
    start: np.ndarray  # (P, K)


class Pending(NamedTuple):
    """The visits an insertion step chooses among, with their rows in the ``PriceCache``,
    and how it chooses."""

    visits: np.ndarray  # int (n,)
    row0: np.ndarray  # int: cache row of the first part
    row1: np.ndarray  # int: cache row of the second part, -1 when single
    task0: np.ndarray  # int: the first part
    task1: np.ndarray  # int: the second part, -1 when single
    pin: np.ndarray  # int: the carer who must do one part of a double visit, -1 if none
    noise: np.ndarray  # random jitter of the choice (0: none)
    regret: int  # 2: the visit with the most to lose goes first; 1: the cheapest
    pair_candidates: int  # cheapest carers per part combined for a double-handed visit


class Placement(NamedTuple):
    """Task ``task`` at position ``position`` of carer ``carer``'s route: as early as it
    can (``start`` < 0) or exactly at ``start`` (a synchronised part); ``partner_carer``
    holds the other part when a pair is being priced (-1: none)."""

    task: int
    carer: int
    position: int
    start: float
    partner_carer: int


def scratch_for(n_tasks: int) -> Scratch:
    """Fresh work space for pricing insertions into a day of ``n_tasks`` tasks."""
    return Scratch(
        np.full(n_tasks, -INF),
        np.zeros(n_tasks, dtype=np.int64),
        np.zeros(n_tasks + 1, dtype=np.int64),
        np.zeros(n_tasks + 1),
    )
