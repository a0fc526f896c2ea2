"""The solver's numeric view of a problem: flat numpy arrays indexed by task and carer.

A *task* is one carer's part of a visit: a single-handed visit is one task, a
double-handed visit two tasks linked as partners. The search kernels and the CP-SAT
model read only these arrays; the pydantic problem is consulted again only to write the
plan and to explain unassigned visits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .domain import Problem, TravelMode
from .travel import estimated_modes, travel_matrix

__all__ = ["Instance", "compile_problem", "INF", "EPS"]

INF = 1.0e12
EPS = 1.0e-6
MODES = [TravelMode.drive, TravelMode.walk]


@dataclass
class Instance:
    problem: Problem
    # tasks
    task_visit: np.ndarray      # int   (T,)
    task_part: np.ndarray       # int   (T,)
    task_loc: np.ndarray        # int   (T,)
    task_dur: np.ndarray        # float (T,)
    task_release: np.ndarray    # float (T,) earliest start the search uses
    task_latest: np.ndarray     # float (T,) hard latest start (INF if open)
    task_tgt_start: np.ndarray  # float (T,) soft window start (-INF if none)
    task_tgt_end: np.ndarray    # float (T,) soft window end (INF if none)
    task_partner: np.ndarray    # int   (T,) the other part of a double visit, -1 if none
    task_gap_min: np.ndarray    # float (T,) for part 0: start(part1) - start(part0) >= gap_min
    task_gap_max: np.ndarray    # float (T,) ... <= gap_max
    task_pin: np.ndarray        # int   (T,) the one carer pinned to a double visit (either part), -1 if none
    eligible: np.ndarray        # bool  (T, K)
    assign_cost: np.ndarray     # float (T, K) weighted soft-preference cost of the pairing
    # visits
    visit_tasks: np.ndarray     # int   (V, 2), -1 when single
    visit_penalty: np.ndarray   # float (V,) cost of leaving the visit unassigned
    visit_mandatory: np.ndarray  # bool (V,)
    # carers
    carer_mode: np.ndarray      # int (K,)
    carer_start: np.ndarray     # int (K,) location index
    carer_end: np.ndarray       # int (K,)
    shift_start: np.ndarray     # float (K, S), padded with INF
    shift_end: np.ndarray       # float (K, S), padded with -INF
    n_shifts: np.ndarray        # int (K,)
    max_work: np.ndarray        # float (K,) INF if none
    contracted: np.ndarray      # float (K,) INF if none
    break_after: np.ndarray     # float (K,) INF if no rule
    break_dur: np.ndarray       # float (K,)
    break_earliest: np.ndarray  # float (K,)
    break_latest: np.ndarray    # float (K,)
    # travel
    travel: np.ndarray          # float (M, N, N)
    # weights
    w_late: float
    w_maxlate: float
    w_early: float
    w_travel: float
    w_overtime: float
    travel_estimated: bool

    @property
    def n_tasks(self) -> int:
        return len(self.task_visit)

    @property
    def n_carers(self) -> int:
        return len(self.carer_mode)

    @property
    def n_visits(self) -> int:
        return len(self.visit_penalty)

    @property
    def max_route_length(self) -> int:
        """How many tasks a carer's route can hold: every task must end within a shift,
        so no more than the shift time over the shortest task (all tasks if some take
        no time). Keeps the route table small on council days (hundreds of carers)."""
        T = self.n_tasks
        positive = self.task_dur[self.task_dur > 0]
        if T == 0 or len(positive) < T:
            return max(T, 1)
        span = np.where(np.isfinite(self.shift_start) & np.isfinite(self.shift_end),
                        self.shift_end - self.shift_start, 0.0).sum(axis=1)
        longest = float(span.max(initial=0.0))
        return int(max(1, min(T, np.floor(longest / positive.min() + 1e-6) + 1)))

    def kernel_args(self) -> tuple:
        """The arrays the numba kernels take, in their order (see ``kernels.py``)."""
        return (
            self.task_loc, self.task_dur, self.task_release, self.task_latest, self.task_tgt_start,
            self.task_tgt_end, self.task_partner, self.task_gap_min, self.task_gap_max,
            self.carer_mode, self.carer_start, self.carer_end, self.shift_start, self.shift_end,
            self.n_shifts, self.break_after, self.break_dur, self.break_earliest, self.break_latest,
            self.travel, self.w_late, self.w_maxlate, self.w_early, self.w_travel,
        )


def compile_problem(problem: Problem) -> Instance:
    """Flatten ``problem`` into arrays, working out who may do which task."""
    loc_index = problem.location_index()
    carer_index = {c.id: k for k, c in enumerate(problem.carers)}
    clients = {c.id: c for c in problem.clients}
    w = problem.weights
    K = len(problem.carers)

    travel = np.stack([travel_matrix(problem, m) if _mode_needed(problem, m) else
                       np.zeros((len(problem.locations),) * 2) for m in MODES])

    S = max(len(c.shifts) for c in problem.carers) if problem.carers else 1
    shift_start = np.full((K, S), INF)
    shift_end = np.full((K, S), -INF)
    n_shifts = np.zeros(K, dtype=np.int64)
    for k, carer in enumerate(problem.carers):
        n_shifts[k] = len(carer.shifts)
        for s, shift in enumerate(carer.shifts):
            shift_start[k, s] = shift.start
            shift_end[k, s] = shift.end

    rows: list[tuple] = []
    visit_tasks = np.full((len(problem.visits), 2), -1, dtype=np.int64)
    for v, visit in enumerate(problem.visits):
        for part in range(visit.carers_needed):
            visit_tasks[v, part] = len(rows)
            rows.append((v, part))
    T = len(rows)
    task_visit = np.array([r[0] for r in rows], dtype=np.int64)
    task_part = np.array([r[1] for r in rows], dtype=np.int64)
    task_loc = np.zeros(T, dtype=np.int64)
    task_dur = np.zeros(T)
    task_release = np.zeros(T)
    task_latest = np.full(T, INF)
    task_tgt_start = np.full(T, -INF)
    task_tgt_end = np.full(T, INF)
    task_partner = np.full(T, -1, dtype=np.int64)
    task_gap_min = np.zeros(T)
    task_gap_max = np.zeros(T)
    task_pin = np.full(T, -1, dtype=np.int64)
    eligible = np.zeros((T, K), dtype=bool)
    assign_cost = np.zeros((T, K))

    # Per-carer facts as arrays, so each task's eligibility and assignment cost over all
    # carers is a few vector operations (a council day has thousands of tasks x hundreds).
    skill_bit = {name: 1 << i for i, name in enumerate(dict.fromkeys(
        [*problem.skills, *(s for c in problem.carers for s in c.skills)]))}
    carer_mask = np.array([sum(skill_bit[s] for s in set(c.skills)) for c in problem.carers],
                          dtype=np.int64 if len(skill_bit) < 63 else object)
    carer_gender = np.array([c.gender.value if c.gender is not None else "" for c in problem.carers])
    for t, (v, part) in enumerate(rows):
        visit = problem.visits[v]
        client = clients[visit.client]
        task_loc[t] = loc_index[client.location]
        task_dur[t] = visit.part_duration(part)
        release = visit.window.start
        latest = INF if visit.window.end is None else visit.window.end
        if visit.target is not None:
            task_tgt_start[t] = visit.target.start
            task_tgt_end[t] = INF if visit.target.end is None else visit.target.end
        if visit.pinned_start is not None:
            release = latest = visit.pinned_start
        task_release[t] = release
        task_latest[t] = latest
        if visit.carers_needed == 2:
            task_partner[t] = visit_tasks[v, 1 - part]
            sync = visit.synchronisation
            task_gap_min[t] = sync.min_gap
            task_gap_max[t] = sync.max_gap
        needed = set(visit.part_skills(part))
        if not needed <= skill_bit.keys():
            ok = np.zeros(K, dtype=bool)   # a skill no carer has
        else:
            need = sum(skill_bit[s] for s in needed)
            ok = np.asarray((need & ~carer_mask) == 0, dtype=bool).reshape(K)
        for c in client.banned_carers:
            ok[carer_index[c]] = False
        if client.gender_requirement is not None:
            ok &= carer_gender == client.gender_requirement.value
        ok &= _fits_a_shift(shift_start, shift_end, release, latest, task_dur[t])
        eligible[t] = ok
        cost = np.zeros(K)
        if client.gender_preference is not None:
            cost += w.gender_preference * (carer_gender != client.gender_preference.value)
        if client.preferred_carers:
            cost += w.non_preferred_carer
            cost[[carer_index[c] for c in client.preferred_carers]] -= w.non_preferred_carer
        if client.historical_carers:
            cost += w.continuity
            cost[[carer_index[c] for c in client.historical_carers]] -= w.continuity
        assign_cost[t] = cost
        pinned = [carer_index[c] for c in visit.pinned_carers]
        if pinned and (visit.carers_needed == 1 or len(pinned) == 2):
            mask = np.zeros(K, dtype=bool)
            mask[pinned] = True
            eligible[t] &= mask
        elif pinned:
            task_pin[t] = pinned[0]   # one of the two parts must be theirs (checked by the search)

    # A double visit pinned to one carer who can do neither part cannot be done at all.
    for v, visit in enumerate(problem.visits):
        t0, t1 = visit_tasks[v]
        if t1 >= 0 and task_pin[t0] >= 0 and not (eligible[t0, task_pin[t0]] or eligible[t1, task_pin[t0]]):
            eligible[t0] = False
            eligible[t1] = False

    visit_penalty = np.array([
        w.unassigned_mandatory if v.mandatory else w.optional_value * v.value for v in problem.visits
    ])
    visit_mandatory = np.array([v.mandatory for v in problem.visits], dtype=bool)

    def opt(value):
        return INF if value is None else float(value)

    carers = problem.carers
    return Instance(
        problem=problem,
        task_visit=task_visit, task_part=task_part, task_loc=task_loc, task_dur=task_dur,
        task_release=task_release, task_latest=task_latest, task_tgt_start=task_tgt_start,
        task_tgt_end=task_tgt_end, task_partner=task_partner, task_gap_min=task_gap_min,
        task_gap_max=task_gap_max, task_pin=task_pin, eligible=eligible, assign_cost=assign_cost,
        visit_tasks=visit_tasks, visit_penalty=visit_penalty, visit_mandatory=visit_mandatory,
        carer_mode=np.array([MODES.index(c.travel_mode) for c in carers], dtype=np.int64),
        carer_start=np.array([loc_index[c.start_location] for c in carers], dtype=np.int64),
        carer_end=np.array([loc_index[c.home_end] for c in carers], dtype=np.int64),
        shift_start=shift_start, shift_end=shift_end, n_shifts=n_shifts,
        max_work=np.array([opt(c.max_working_minutes) for c in carers]),
        contracted=np.array([opt(c.contracted_minutes) for c in carers]),
        break_after=np.array([opt(c.break_rule.after_minutes) if c.break_rule else INF for c in carers]),
        break_dur=np.array([c.break_rule.duration if c.break_rule else 0.0 for c in carers]),
        break_earliest=np.array([
            c.break_rule.earliest if c.break_rule and c.break_rule.earliest is not None else -INF for c in carers
        ]),
        break_latest=np.array([
            c.break_rule.latest if c.break_rule and c.break_rule.latest is not None else INF for c in carers
        ]),
        travel=np.ascontiguousarray(travel, dtype=np.float64),
        w_late=w.lateness, w_maxlate=w.max_lateness, w_early=w.earliness, w_travel=w.travel,
        w_overtime=w.overtime,
        travel_estimated=bool(estimated_modes(problem)),
    )


def _mode_needed(problem: Problem, mode: TravelMode) -> bool:
    return any(c.travel_mode == mode for c in problem.carers) or any(m.mode == mode for m in problem.travel)


def _fits_a_shift(shift_start: np.ndarray, shift_end: np.ndarray, release: float, latest: float,
                  duration: float) -> np.ndarray:
    """Which carers have a shift the task can start in and finish within (padding shifts
    are (INF, -INF), which never fit)."""
    begin = np.maximum(release, shift_start)
    return ((begin + duration <= shift_end + EPS) & (begin <= latest + EPS)).any(axis=1)
