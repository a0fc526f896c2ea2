"""A working solution of the search: carers' task sequences, their times and cost.

Sequences are the decision; start times follow from them (``timing.schedule``), so a
solution is always consistent after ``refresh()``. Copies are cheap array copies, which
the large-neighbourhood search relies on to try a change and throw it away. The arrays
are also held together as ``RouteArrays`` (``arrays``) and ``RouteFigures``
(``figures``), which is what the compiled kernels take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import timing
from .instance import INF, Instance
from .records import RouteArrays, RouteFigures, Scratch, scratch_for

__all__ = ["Cost", "Solution"]


@dataclass(frozen=True)
class Cost:
    """The solver's own account of a solution's objective (the validator keeps its own)."""

    unassigned: float
    lateness: float
    max_lateness: float
    earliness: float
    travel: float
    assignment: float
    overtime: float
    waiting: float = 0.0
    max_waiting: float = 0.0
    past_shift_end: float = 0.0

    @property
    def total(self) -> float:
        return (
            self.unassigned
            + self.lateness
            + self.max_lateness
            + self.earliness
            + self.travel
            + self.assignment
            + self.overtime
            + self.waiting
            + self.max_waiting
            + self.past_shift_end
        )


class Solution:
    """Carers' task sequences in ``R``/``L`` and what follows from them (see ``RouteArrays``
    and ``RouteFigures``)."""

    def __init__(self, inst: Instance):
        K, T = inst.n_carers, inst.n_tasks
        routes = RouteArrays(
            R=np.full((K, inst.max_route_length), -1, dtype=np.int64),
            L=np.zeros(K, dtype=np.int64),
            route_of=np.full(T, -1, dtype=np.int64),
            start=np.zeros(T),
            lb=np.zeros(T),
            hold=np.zeros(T),
            brk=np.full(K, -1, dtype=np.int64),
            working=np.zeros(K),
        )
        figures = RouteFigures(
            travel=np.zeros(K),
            late=np.zeros(T),
            early=np.zeros(T),
            wait=np.zeros(K),
            wait_max=np.zeros(K),
            past_end=np.zeros(K),
        )
        self._own(inst, routes, figures)
        self.feasible = True
        self._cost: Cost | None = None

    def _own(self, inst: Instance, arrays: RouteArrays, figures: RouteFigures) -> None:
        self.inst = inst
        self.arrays = arrays
        self.figures = figures
        self.R, self.L, self.route_of, self.start, self.lb, self.hold, self.brk, self.working = arrays
        self.travel, self.late, self.early, self.wait, self.wait_max, self.past_end = figures
        self._spare: Solution | None = None  # what ``snapshot`` keeps
        self._placing: tuple[Scratch, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def copy(self) -> Solution:
        other = Solution.__new__(Solution)
        other._own(
            self.inst,
            RouteArrays(*(array.copy() for array in self.arrays)),
            RouteFigures(*(array.copy() for array in self.figures)),
        )
        other.feasible = self.feasible
        other._cost = self._cost
        return other

    def copy_from(self, other: Solution) -> None:
        """Overwrite this solution with ``other`` in place (no new arrays)."""
        for mine, theirs in zip((*self.arrays, *self.figures), (*other.arrays, *other.figures), strict=True):
            mine[...] = theirs
        self.feasible = other.feasible
        self._cost = other._cost

    def snapshot(self) -> None:
        """Keep the plan as it is now for ``restore`` (in one spare copy, reused)."""
        if self._spare is None:
            self._spare = self.copy()
        else:
            self._spare.copy_from(self)

    def spare(self) -> Solution:
        """The spare copy ``snapshot`` keeps, as work space of this plan's shapes: a
        compiled placement (``placing``) keeps the plan in it to undo itself."""
        if self._spare is None:
            self._spare = self.copy()
        return self._spare

    def restore(self) -> None:
        """Go back to the plan the last ``snapshot`` kept."""
        assert self._spare is not None, "restore() without a snapshot()"
        self.copy_from(self._spare)

    def scratch(self) -> Scratch:
        """Work space for the insertion pricing (pushed starts, stacks of partners)."""
        return scratch_for(self.inst.n_tasks)

    def placing_space(self) -> tuple[Scratch, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Work space kept for placing visits into this plan one at a time (the pricing's
        scratch and per-carer prices): a search's repair places tens of thousands."""
        if self._placing is None:
            K = self.inst.n_carers
            self._placing = (self.scratch(), (np.empty(K), np.empty(K, dtype=np.int64), np.empty(K)))
        return self._placing

    # --- structure -------------------------------------------------------------------
    def route(self, k: int) -> list[int]:
        return self.R[k, : self.L[k]].tolist()

    def _check_fits(self, k: int, n: int) -> None:
        if n > self.R.shape[1]:
            raise ValueError(f"route of carer {k} is full ({n} tasks cannot fit in its shifts)")

    def set_route(self, k: int, tasks: list[int]) -> None:
        self._check_fits(k, len(tasks))
        for t in self.route(k):
            self.route_of[t] = -1
        self.L[k] = len(tasks)
        self.brk[k] = -1  # a new sequence: its break is placed when it is timed
        self.R[k, : len(tasks)] = tasks
        self.R[k, len(tasks) :] = -1
        for t in tasks:
            self.route_of[t] = k

    def replace_routes(self, routes: dict[int, list[int]]) -> None:
        """Give each carer in ``routes`` its new sequence (tasks may move between them)."""
        for k in routes:
            self.set_route(k, [])
        for k, tasks in routes.items():
            self.set_route(k, tasks)

    def place(self, placements: dict[int, list[tuple[float, int]]]) -> None:
        """Give carers routes of tasks ordered by the times given: ``{k: [(time, t), ...]}``
        (how a plan written elsewhere, by visit ids and times, becomes sequences)."""
        self.replace_routes({k: [t for _, t in sorted(items)] for k, items in placements.items()})

    def load_routes(self, R: np.ndarray, L: np.ndarray) -> bool:
        """Take over another solution's sequences (as sent between processes) and re-time."""
        self.R[...] = R
        self.L[...] = L
        self.route_of[:] = -1
        for k in range(self.inst.n_carers):
            self.route_of[self.R[k, : self.L[k]]] = k
        return self.refresh()

    def room(self, k: int) -> bool:
        """Whether carer k's route can take one more task (see ``Instance.max_route_length``)."""
        return self.L[k] < self.R.shape[1]

    def insert(self, t: int, k: int, p: int) -> None:
        n = self.L[k]
        self._check_fits(k, n + 1)
        self.R[k, p + 1 : n + 1] = self.R[k, p:n].copy()
        self.R[k, p] = t
        self.L[k] = n + 1
        self.route_of[t] = k
        if self.brk[k] >= p:  # the break stays in its gap, which moved one place on
            self.brk[k] += 1

    def remove_task(self, t: int) -> None:
        k = self.route_of[t]
        if k < 0:
            return
        n = self.L[k]
        p = self.R[k, :n].tolist().index(t)
        self.R[k, p : n - 1] = self.R[k, p + 1 : n].copy()
        self.R[k, n - 1] = -1
        self.L[k] = n - 1
        self.route_of[t] = -1
        if self.brk[k] >= p:  # the break stays between the same visits (none before the first)
            self.brk[k] -= 1
        if self.brk[k] >= n - 2:  # it followed the last visit, now gone: no gap is left for it
            self.brk[k] = -1

    def remove_visit(self, v: int) -> None:
        for t in self.inst.visit_tasks[v]:
            if t >= 0:
                self.remove_task(int(t))

    def visit_assigned(self, v: int) -> bool:
        return self.route_of[self.inst.visit_tasks[v, 0]] >= 0

    def assigned_visits(self) -> np.ndarray:
        return np.flatnonzero(self.route_of[self.inst.visit_tasks[:, 0]] >= 0)

    def unassigned_visits(self) -> np.ndarray:
        return np.flatnonzero(self.route_of[self.inst.visit_tasks[:, 0]] < 0)

    # --- timing and cost -------------------------------------------------------------
    def refresh(self) -> bool:
        """Re-time every route (breaks included) and recompute the cost."""
        return self.take(timing.evaluate(self.inst.arrays(), self.inst.costs(), self.arrays, self.figures))

    def refresh_inserted(self, carers: np.ndarray, tasks: np.ndarray, whole_day: bool = True) -> bool:
        """``refresh`` after ``tasks`` were inserted into the routes of ``carers`` (and
        nothing else changed since the last refresh): only the routes the insertion
        moves are timed again, unless a rule or a break needs the whole day. A plan
        that was not feasible when last timed is timed whole: its times hold nothing.
        Without ``whole_day``, a plan the moved routes cannot take is simply not
        feasible (and its times hold nothing): for trying many placements fast."""
        if not self.timed:
            return self.refresh()
        arrays, costs = self.inst.arrays(), self.inst.costs()
        return self.take(timing.evaluate_inserted(arrays, costs, self.arrays, self.figures, carers, tasks, whole_day))

    def refresh_removed(self) -> bool:
        """``refresh`` after visits were taken out of a timed plan. The whole day is
        timed with its breaks placed afresh; should that fail (placing breaks afresh is a
        heuristic), it is timed with every break kept in its gap, which taking visits
        out cannot make infeasible where travel times obey the triangle inequality."""
        brk, hold = self.brk.copy(), self.hold.copy()
        if self.refresh():
            return True
        self.brk[...] = brk
        self.hold[...] = hold
        return self.refresh_kept()

    def refresh_kept(self) -> bool:
        """Time the whole day with every break kept where ``brk`` has it (none placed)."""
        return self.take(timing.evaluate_kept(self.inst.arrays(), self.inst.costs(), self.arrays, self.figures))

    def account(self) -> bool:
        """Recompute the cost at the current starts, without re-timing: for times set
        from outside (a replan keeps what already happened at its actual times)."""
        return self.take(timing.totals(self.inst.arrays(), self.inst.costs(), self.arrays, self.figures))

    def take(self, result: tuple) -> bool:
        """Adopt a timing kernel's answer (``timing.evaluate``'s tuple) for these arrays as
        they now are: whether the plan is feasible and what it costs."""
        feasible, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime, wait, wait_max, past_end = (
            result
        )
        inst = self.inst
        self.feasible = bool(feasible)
        self._cost = Cost(
            unassigned=unassigned,
            lateness=inst.w_late * late_sum,
            max_lateness=inst.w_maxlate * late_max,
            earliness=inst.w_early * early_sum,
            travel=inst.w_travel * travel,
            assignment=assignment,
            overtime=inst.w_overtime * overtime,
            waiting=inst.w_wait * wait,
            max_waiting=inst.w_maxwait * wait_max,
            past_shift_end=inst.w_past_end * past_end,
        )
        return self.feasible

    @property
    def timed(self) -> bool:
        """Whether the plan was last timed feasible: if nothing changed since, an
        insertion can re-time only the routes it moves (``refresh_inserted``)."""
        return self._cost is not None and self.feasible

    @property
    def cost(self) -> Cost:
        """The solver's account of the objective (timed first if it never was)."""
        if self._cost is None:
            self.refresh()
        assert self._cost is not None  # refresh always sets it
        return self._cost

    @property
    def total(self) -> float:
        return self.cost.total if self.feasible else INF

    def time_costs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each carer's waiting minutes, longest wait and minutes past soft shift ends at
        the current times: the figures when the objective prices them (the kernels then
        keep them), else worked out here, leaving the figures as they are."""
        if self.inst.prices_time:
            return self.wait, self.wait_max, self.past_end
        K = self.inst.n_carers
        figures = self.figures._replace(wait=np.zeros(K), wait_max=np.zeros(K), past_end=np.zeros(K))
        timing.time_costs(self.inst.arrays(), self.arrays, figures)
        return figures.wait, figures.wait_max, figures.past_end

    def max_lateness(self) -> float:
        return float(self.late.max(initial=0.0))
