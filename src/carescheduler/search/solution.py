"""A working solution of the search: carers' task sequences, their times and cost.

Sequences are the decision; start times follow from them (``kernels.schedule``), so a
solution is always consistent after ``refresh()``. Copies are cheap array copies, which
the large-neighbourhood search relies on to try a change and throw it away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels
from .instance import INF, Instance

__all__ = ["Cost", "Solution"]

_ARRAYS = ("R", "L", "route_of", "start", "lb", "hold", "brk", "travel", "working", "late", "early")
"""The per-solution arrays a copy carries over."""


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

    @property
    def total(self) -> float:
        return (self.unassigned + self.lateness + self.max_lateness + self.earliness + self.travel
                + self.assignment + self.overtime)


class Solution:
    def __init__(self, inst: Instance):
        self.inst = inst
        K, T = inst.n_carers, inst.n_tasks
        self.R = np.full((K, inst.max_route_length), -1, dtype=np.int64)
        self.L = np.zeros(K, dtype=np.int64)
        self.route_of = np.full(T, -1, dtype=np.int64)
        self.start = np.zeros(T)
        self.lb = np.zeros(T)
        self.hold = np.zeros(T)
        self.brk = np.full(K, -1, dtype=np.int64)
        self.travel = np.zeros(K)
        self.working = np.zeros(K)
        self.late = np.zeros(T)
        self.early = np.zeros(T)
        self.feasible = True
        self.cost: Cost | None = None

    def copy(self) -> Solution:
        other = Solution.__new__(Solution)
        other.inst = self.inst
        for name in _ARRAYS:
            setattr(other, name, getattr(self, name).copy())
        other.feasible = self.feasible
        other.cost = self.cost
        return other

    def copy_from(self, other: Solution) -> None:
        """Overwrite this solution with ``other`` in place (no new arrays)."""
        for name in _ARRAYS:
            getattr(self, name)[...] = getattr(other, name)
        self.feasible = other.feasible
        self.cost = other.cost

    def scratch(self) -> tuple:
        """Work arrays the insertion pricing needs (route of each task, pushed starts, stacks)."""
        T = self.inst.n_tasks
        return (self.route_of, np.full(T, -1.0e12), np.zeros(T, dtype=np.int64),
                np.zeros(T + 1, dtype=np.int64), np.zeros(T + 1))

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
        self.R[k, : len(tasks)] = tasks
        self.R[k, len(tasks):] = -1
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
        self.R[k, p + 1: n + 1] = self.R[k, p:n].copy()
        self.R[k, p] = t
        self.L[k] = n + 1
        self.route_of[t] = k

    def remove_task(self, t: int) -> None:
        k = self.route_of[t]
        if k < 0:
            return
        n = self.L[k]
        row = self.R[k, :n]
        p = int(np.flatnonzero(row == t)[0])
        self.R[k, p: n - 1] = self.R[k, p + 1: n].copy()
        self.R[k, n - 1] = -1
        self.L[k] = n - 1
        self.route_of[t] = -1

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
        inst = self.inst
        result = kernels.evaluate(
            self.R, self.L, self.route_of, self.brk, self.start, self.lb, self.hold, inst.kernel_args(),
            inst.visit_tasks[:, 0], inst.visit_penalty, inst.assign_cost, inst.max_work, inst.contracted,
            self.travel, self.working, self.late, self.early)
        return self._take(result)

    def account(self) -> bool:
        """Recompute the cost at the current starts, without re-timing: for times set
        from outside (a replan keeps what already happened at its actual times)."""
        inst = self.inst
        result = kernels.totals(
            self.R, self.L, self.route_of, self.start, inst.kernel_args(), inst.visit_tasks[:, 0],
            inst.visit_penalty, inst.assign_cost, inst.max_work, inst.contracted, self.travel, self.working,
            self.late, self.early)
        return self._take(result)

    def _take(self, result: tuple) -> bool:
        feasible, unassigned, late_sum, late_max, early_sum, travel, assignment, overtime = result
        inst = self.inst
        self.feasible = bool(feasible)
        self.cost = Cost(
            unassigned=unassigned,
            lateness=inst.w_late * late_sum,
            max_lateness=inst.w_maxlate * late_max,
            earliness=inst.w_early * early_sum,
            travel=inst.w_travel * travel,
            assignment=assignment,
            overtime=inst.w_overtime * overtime,
        )
        return self.feasible

    @property
    def total(self) -> float:
        if self.cost is None:
            self.refresh()
        return self.cost.total if self.feasible else INF

    def max_lateness(self) -> float:
        return float(self.late.max(initial=0.0))
