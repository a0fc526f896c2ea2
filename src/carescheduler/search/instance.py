"""The solver's numeric view of a problem: flat numpy arrays indexed by task and carer.

A *task* is one carer's part of a visit: a single-handed visit is one task, a
double-handed visit two tasks linked as partners. The search kernels and the CP-SAT
model read only these arrays; the pydantic problem is consulted again only to write the
plan and to explain unassigned visits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

import numpy as np
from numba import njit

from ..domain import Client, Location, Problem, TravelMode, Visit
from ..travel import estimated_modes, travel_matrix
from .records import EPS, INF, CostArrays, DayArrays

__all__ = ["EPS", "INF", "Instance", "TaskLookups", "TaskRows", "compile_problem", "compile_tasks", "fits_a_shift"]

MODES = [TravelMode.drive, TravelMode.walk]


@dataclass
class Instance:
    problem: Problem
    # tasks
    task_visit: np.ndarray  # int   (T,)
    task_part: np.ndarray  # int   (T,)
    task_loc: np.ndarray  # int   (T,)
    task_dur: np.ndarray  # float (T,)
    task_release: np.ndarray  # float (T,) earliest start the search uses
    task_latest: np.ndarray  # float (T,) hard latest start (INF if open)
    task_tgt_start: np.ndarray  # float (T,) soft window start (-INF if none)
    task_tgt_end: np.ndarray  # float (T,) soft window end (INF if none)
    task_partner: np.ndarray  # int   (T,) the other part of a double visit, -1 if none
    task_gap_min: np.ndarray  # float (T,) for part 0: start(part1) - start(part0) >= gap_min
    task_gap_max: np.ndarray  # float (T,) ... <= gap_max
    task_pin: np.ndarray  # int   (T,) the one carer pinned to a double visit (either part), -1 if none
    eligible: np.ndarray  # bool  (T, K)
    assign_cost: np.ndarray  # float (T, K) weighted soft-preference cost of the pairing
    # visits
    visit_tasks: np.ndarray  # int   (V, 2), -1 when single
    visit_penalty: np.ndarray  # float (V,) cost of leaving the visit unassigned
    visit_mandatory: np.ndarray  # bool (V,)
    # carers
    carer_mode: np.ndarray  # int (K,)
    carer_start: np.ndarray  # int (K,) location index
    carer_end: np.ndarray  # int (K,)
    shift_start: np.ndarray  # float (K, S), padded with INF
    shift_end: np.ndarray  # float (K, S), padded with -INF: the hard end (a soft shift's latest_end)
    shift_soft_end: np.ndarray  # float (K, S): where finishing later costs (INF: a hard end, no cost)
    n_shifts: np.ndarray  # int (K,)
    max_work: np.ndarray  # float (K,) INF if none
    contracted: np.ndarray  # float (K,) INF if none
    break_after: np.ndarray  # float (K,) INF if no rule
    break_dur: np.ndarray  # float (K,)
    break_earliest: np.ndarray  # float (K,)
    break_latest: np.ndarray  # float (K,)
    # travel
    travel: np.ndarray  # float (M, N, N)
    # weights
    w_late: float
    w_maxlate: float
    w_early: float
    w_travel: float
    w_overtime: float
    w_wait: float
    w_maxwait: float
    w_past_end: float
    travel_estimated: bool
    cpsat_time_scale: int | None = field(default=None, init=False, repr=False, compare=False)
    """Cached by ``cpsat_model.time_scale`` (not copied by ``dataclasses.replace``)."""
    _arrays: DayArrays | None = field(default=None, init=False, repr=False, compare=False)
    _costs: CostArrays | None = field(default=None, init=False, repr=False, compare=False)

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
        real = (self.shift_start < INF / 2) & (self.shift_end > -INF / 2)  # not padding
        span = np.where(real, np.maximum(self.shift_end - self.shift_start, 0.0), 0.0).sum(axis=1)
        longest = float(span.max(initial=0.0))
        return int(max(1, min(T, np.floor(longest / positive.min() + 1e-6) + 1)))

    @property
    def prices_time(self) -> bool:
        """Whether the objective prices carers' waiting or finishing past a soft shift end.
        Working those minutes out on every re-timed route is a cost the search only pays
        when they count; the plan's KPIs work them out once otherwise."""
        soft_ends = self.w_past_end > 0 and bool((self.shift_soft_end < INF / 2).any())
        return self.w_wait > 0 or self.w_maxwait > 0 or soft_ends

    def arrays(self) -> DayArrays:
        """The arrays the compiled timing reads, by name (``records.DayArrays``).

        Made once per instance: the arrays are shared, so writing into them in place
        (as the live day does) is seen by the kernels too."""
        if self._arrays is None:
            self._arrays = DayArrays(**{name: getattr(self, name) for name in DayArrays._fields})
        return self._arrays

    def costs(self) -> CostArrays:
        """Who may do what and what it costs, as the compiled pricing reads it (``records.CostArrays``)."""
        if self._costs is None:
            self._costs = CostArrays(**{name: getattr(self, name) for name in CostArrays._fields})
        return self._costs


def compile_problem(problem: Problem) -> Instance:
    """Flatten ``problem`` into arrays, working out who may do which task."""
    loc_index = problem.location_index()
    w = problem.weights
    travel = np.stack(
        [
            travel_matrix(problem, m) if _mode_needed(problem, m) else np.zeros((len(problem.locations),) * 2)
            for m in MODES
        ]
    )
    tasks = compile_tasks(problem, problem.visits)
    shift_start, shift_end, n_shifts = _shift_table(problem)
    shift_soft_end = _soft_ends(problem, shift_end.shape[1])

    def opt(value):
        return INF if value is None else float(value)

    carers = problem.carers
    return Instance(
        problem=problem,
        **{f.name: getattr(tasks, f.name) for f in fields(TaskRows)},
        carer_mode=np.array([MODES.index(c.travel_mode) for c in carers], dtype=np.int64),
        carer_start=np.array([loc_index[c.start_location] for c in carers], dtype=np.int64),
        carer_end=np.array([loc_index[c.home_end] for c in carers], dtype=np.int64),
        shift_start=shift_start,
        shift_end=shift_end,
        shift_soft_end=shift_soft_end,
        n_shifts=n_shifts,
        max_work=np.array([opt(c.max_working_minutes) for c in carers]),
        contracted=np.array([opt(c.contracted_minutes) for c in carers]),
        break_after=np.array([opt(c.break_rule.after_minutes) if c.break_rule else INF for c in carers]),
        break_dur=np.array([c.break_rule.duration if c.break_rule else 0.0 for c in carers]),
        break_earliest=np.array(
            [c.break_rule.earliest if c.break_rule and c.break_rule.earliest is not None else -INF for c in carers]
        ),
        break_latest=np.array(
            [c.break_rule.latest if c.break_rule and c.break_rule.latest is not None else INF for c in carers]
        ),
        travel=np.ascontiguousarray(travel, dtype=np.float64),
        w_late=w.lateness,
        w_maxlate=w.max_lateness,
        w_early=w.earliness,
        w_travel=w.travel,
        w_overtime=w.overtime,
        w_wait=w.waiting,
        w_maxwait=w.max_waiting,
        w_past_end=w.past_shift_end,
        travel_estimated=bool(estimated_modes(problem)),
    )


@dataclass
class TaskRows:
    """The task and visit arrays of some visits, laid out exactly as in ``Instance``.

    ``compile_problem`` takes its task arrays from here, so the rows compiled for a
    single new visit (recommendations) are the very rows a full compile would give.
    Task ids in ``task_partner`` and ``visit_tasks`` are absolute (offset by
    ``first_task``); ``task_visit`` indexes the visit list that was compiled.
    """

    task_visit: np.ndarray  # int   (T,) index into the compiled visits
    task_part: np.ndarray  # int   (T,)
    task_loc: np.ndarray  # int   (T,)
    task_dur: np.ndarray  # float (T,)
    task_release: np.ndarray  # float (T,)
    task_latest: np.ndarray  # float (T,)
    task_tgt_start: np.ndarray  # float (T,)
    task_tgt_end: np.ndarray  # float (T,)
    task_partner: np.ndarray  # int   (T,) absolute task id, -1 if none
    task_gap_min: np.ndarray  # float (T,)
    task_gap_max: np.ndarray  # float (T,)
    task_pin: np.ndarray  # int   (T,) carer index, -1 if none
    eligible: np.ndarray  # bool  (T, K)
    assign_cost: np.ndarray  # float (T, K)
    visit_tasks: np.ndarray  # int   (V, 2) absolute task ids, -1 when single
    visit_penalty: np.ndarray  # float (V,)
    visit_mandatory: np.ndarray  # bool (V,)

    @property
    def n_tasks(self) -> int:
        return len(self.task_visit)


@dataclass(frozen=True)
class TaskLookups:
    """What compiling tasks looks up: places and clients by id, and the carers' numbers,
    genders, skills and shifts. Built once (``TaskLookups.of``) where single visits are
    compiled again and again against one day, as recommendations do: on a council day
    building them costs more than compiling the visit."""

    locations: Mapping[str, int]
    clients: Mapping[str, Client]
    carer_index: dict[str, int]
    carer_gender: np.ndarray
    carer_skills: list[set[str]]
    shift_start: np.ndarray
    shift_end: np.ndarray

    @classmethod
    def of(cls, problem: Problem) -> TaskLookups:
        shift_start, shift_end, _ = _shift_table(problem)
        return cls(
            locations=problem.location_index(),
            clients={c.id: c for c in problem.clients},
            carer_index={c.id: k for k, c in enumerate(problem.carers)},
            carer_gender=np.array([c.gender.value if c.gender is not None else "" for c in problem.carers], dtype=str),
            carer_skills=[set(c.skills) for c in problem.carers],
            shift_start=shift_start,
            shift_end=shift_end,
        )

    def with_client(self, client: Client, location: Location | None = None) -> TaskLookups:
        """These look-ups and a new client (at a new place, if given), the rest shared."""
        places = self.locations if location is None else {**self.locations, location.id: len(self.locations)}
        return dataclasses.replace(self, locations=places, clients={**self.clients, client.id: client})


def compile_tasks(
    problem: Problem, visits: Sequence[Visit], first_task: int = 0, lookups: TaskLookups | None = None
) -> TaskRows:
    """The task rows of ``visits`` (whose clients, skills and carers are ``problem``'s),
    numbered from ``first_task``: one code path for a whole day and for a visit added
    later, so both agree to the bit. ``lookups``: ``TaskLookups.of(problem)``, when the
    caller keeps them.

    Eligibility and assignment cost are worked out per distinct skill set, client and
    time window and then gathered per task: a council day has thousands of tasks but a
    few hundred windows, a few dozen skill sets and many visits per client.
    """
    lookups = TaskLookups.of(problem) if lookups is None else lookups
    loc_index, carer_index, clients_by_id = lookups.locations, lookups.carer_index, lookups.clients
    K = len(problem.carers)
    V = len(visits)

    # Task numbering: a visit's parts are consecutive tasks.
    parts_per_visit = np.array([visit.carers_needed for visit in visits], dtype=np.int64)
    first_local_task = np.cumsum(parts_per_visit) - parts_per_visit
    T = int(parts_per_visit.sum())
    task_visit = np.repeat(np.arange(V, dtype=np.int64), parts_per_visit)
    task_part = np.arange(T, dtype=np.int64) - first_local_task[task_visit]
    is_double = parts_per_visit == 2
    local_visit_tasks = np.full((V, 2), -1, dtype=np.int64)
    local_visit_tasks[:, 0] = first_local_task
    local_visit_tasks[is_double, 1] = first_local_task[is_double] + 1

    # Per visit: where, when and what each part needs. Rules shared by many visits
    # (client, skill set, window) are numbered here and evaluated once further down.
    client_row: dict[str, int] = {}
    skill_set_row: dict[frozenset[str], int] = {}
    window_row: dict[tuple[float, float, float], int] = {}
    visit_client, visit_loc, visit_release, visit_latest = [], [], [], []
    visit_tgt_start, visit_tgt_end, visit_gap_min, visit_gap_max = [], [], [], []
    task_dur, task_skill_set, task_window = [], [], []
    for visit in visits:
        client = clients_by_id[visit.client]
        visit_client.append(client_row.setdefault(client.id, len(client_row)))
        visit_loc.append(loc_index[client.location])
        release = visit.window.start
        latest = INF if visit.window.end is None else visit.window.end
        if visit.pinned_start is not None:
            release = latest = visit.pinned_start
        visit_release.append(release)
        visit_latest.append(latest)
        visit_tgt_start.append(-INF if visit.target is None else visit.target.start)
        visit_tgt_end.append(INF if visit.target is None or visit.target.end is None else visit.target.end)
        sync = visit.synchronisation if visit.carers_needed == 2 else None
        visit_gap_min.append(0.0 if sync is None else sync.min_gap)
        visit_gap_max.append(0.0 if sync is None else sync.max_gap)
        for part in range(visit.carers_needed):
            duration = visit.part_duration(part)
            task_dur.append(duration)
            task_skill_set.append(skill_set_row.setdefault(frozenset(visit.part_skills(part)), len(skill_set_row)))
            task_window.append(window_row.setdefault((release, latest, duration), len(window_row)))

    def per_task(values: list, dtype=np.float64) -> np.ndarray:
        return np.array(values, dtype=dtype).reshape(V)[task_visit]

    task_partner = np.where(is_double[task_visit], first_local_task[task_visit] + 1 - task_part, -1)

    # Who may do each task, and at what soft cost: the skill, client and window rules,
    # each evaluated once per distinct value and gathered by task.
    client_allows, client_cost = _client_rules(
        problem, [clients_by_id[c] for c in client_row], carer_index, lookups.carer_gender
    )
    windows = np.array(list(window_row), dtype=np.float64).reshape(len(window_row), 3)
    window_fits = fits_a_shift(lookups.shift_start, lookups.shift_end, windows[:, 0], windows[:, 1], windows[:, 2])
    carer_skills = lookups.carer_skills
    has_skills = np.array(
        [[needed <= skills for skills in carer_skills] for needed in skill_set_row], dtype=bool
    ).reshape(len(skill_set_row), K)
    task_client = np.array(visit_client, dtype=np.int64).reshape(V)[task_visit]
    eligible = (
        has_skills[np.array(task_skill_set, dtype=np.int64)]
        & client_allows[task_client]
        & window_fits[np.array(task_window, dtype=np.int64)]
    )
    assign_cost = client_cost[task_client]

    # Pinned carers: the only ones allowed, except a double visit pinned to one carer,
    # where one of the two parts must be theirs (checked by the search).
    task_pin = np.full(T, -1, dtype=np.int64)
    for v, visit in enumerate(visits):
        if not visit.pinned_carers:
            continue
        pinned = [carer_index[c] for c in visit.pinned_carers]
        tasks = local_visit_tasks[v, : visit.carers_needed]
        if visit.carers_needed == 1 or len(pinned) == 2:
            allowed = np.zeros(K, dtype=bool)
            allowed[pinned] = True
            eligible[tasks] &= allowed
        else:
            task_pin[tasks] = pinned[0]
            # A double visit pinned to one carer who can do neither part cannot be done at all.
            if not eligible[tasks, pinned[0]].any():
                eligible[tasks] = False

    w = problem.weights
    return TaskRows(
        task_visit=task_visit,
        task_part=task_part,
        task_loc=per_task(visit_loc, np.int64),
        task_dur=np.array(task_dur, dtype=np.float64).reshape(T),
        task_release=per_task(visit_release),
        task_latest=per_task(visit_latest),
        task_tgt_start=per_task(visit_tgt_start),
        task_tgt_end=per_task(visit_tgt_end),
        task_partner=np.where(task_partner >= 0, task_partner + first_task, -1),
        task_gap_min=per_task(visit_gap_min),
        task_gap_max=per_task(visit_gap_max),
        task_pin=task_pin,
        eligible=eligible,
        assign_cost=assign_cost,
        visit_tasks=np.where(local_visit_tasks >= 0, local_visit_tasks + first_task, -1),
        visit_penalty=np.array([w.unassigned_mandatory if v.mandatory else w.optional_value * v.value for v in visits]),
        visit_mandatory=np.array([v.mandatory for v in visits], dtype=bool),
    )


def _shift_table(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each carer's shifts as (K, S) start and end arrays padded with (INF, -INF), and
    how many each has."""
    K = len(problem.carers)
    S = max([1, *(len(c.shifts) for c in problem.carers)])
    shift_start = np.full((K, S), INF)
    shift_end = np.full((K, S), -INF)
    n_shifts = np.zeros(K, dtype=np.int64)
    for k, carer in enumerate(problem.carers):
        n_shifts[k] = len(carer.shifts)
        for s, shift in enumerate(carer.shifts):
            shift_start[k, s] = shift.start
            shift_end[k, s] = shift.hard_end
    return shift_start, shift_end, n_shifts


def _soft_ends(problem: Problem, width: int) -> np.ndarray:
    """Each carer's soft shift ends as a (K, S) array: a shift's ``end`` where it has a
    later ``latest_end``, INF where its end is hard (finishing later is impossible, not
    costed) and for padding."""
    soft = np.full((len(problem.carers), width), INF)
    for k, carer in enumerate(problem.carers):
        for s, shift in enumerate(carer.shifts):
            if shift.latest_end is not None and shift.latest_end > shift.end:
                soft[k, s] = shift.end
    return soft


def _client_rules(
    problem: Problem, clients: list[Client], carer_index: dict[str, int], carer_gender: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per client (rows) and carer (columns): may the carer visit (bans, gender
    requirement), and the weighted cost of the pairing (gender preference, preferred
    carers, continuity). Each rule is applied to all clients that have it at once."""
    w = problem.weights
    allows = np.ones((len(clients), len(carer_index)), dtype=bool)
    cost = np.zeros((len(clients), len(carer_index)))

    def having(field: str) -> tuple[list[int], list]:
        rows = [r for r, client in enumerate(clients) if getattr(client, field)]
        return rows, [getattr(clients[r], field) for r in rows]

    def listed(field: str) -> tuple[list[int], tuple[np.ndarray, np.ndarray]]:
        """The clients with a non-empty carer list, and their (client, carer) cells."""
        rows, lists = having(field)
        cells = np.array(
            [(r, carer_index[c]) for r, names in zip(rows, lists, strict=True) for c in names], dtype=np.int64
        ).reshape(-1, 2)
        return rows, (cells[:, 0], cells[:, 1])

    _, banned = listed("banned_carers")
    allows[banned] = False
    rows, required = having("gender_requirement")
    allows[rows] &= carer_gender == np.array([g.value for g in required], dtype=str).reshape(-1, 1)
    rows, preferred_gender = having("gender_preference")
    cost[rows] += w.gender_preference * (
        carer_gender != np.array([g.value for g in preferred_gender], dtype=str).reshape(-1, 1)
    )
    # Everyone costs the weight, the listed carers nothing (a carer listed twice still
    # counts once).
    for name, weight in (("preferred_carers", w.non_preferred_carer), ("historical_carers", w.continuity)):
        rows, cells = listed(name)
        cost[rows] += weight
        cost[cells] -= weight
    return allows, cost


def _mode_needed(problem: Problem, mode: TravelMode) -> bool:
    return any(c.travel_mode == mode for c in problem.carers) or any(m.mode == mode for m in problem.travel)


def fits_a_shift(
    shift_start: np.ndarray, shift_end: np.ndarray, release: np.ndarray, latest: np.ndarray, duration: np.ndarray
) -> np.ndarray:
    """(W, K): which carers have a shift that each of W windows (release, latest start,
    duration) can start in and finish within (padding shifts are (INF, -INF), which
    never fit). Compiled: a live council day asks it of ten thousand tasks and hundreds
    of carers, which numpy's broadcasting does in tens of milliseconds."""
    out = np.empty((len(release), shift_start.shape[0]), dtype=np.bool_)
    _fits_a_shift(
        np.ascontiguousarray(shift_start, dtype=np.float64),
        np.ascontiguousarray(shift_end, dtype=np.float64),
        np.ascontiguousarray(release, dtype=np.float64),
        np.ascontiguousarray(latest, dtype=np.float64),
        np.ascontiguousarray(duration, dtype=np.float64),
        out,
    )
    return out


@njit(cache=True)
def _fits_a_shift(shift_start, shift_end, release, latest, duration, out):
    for w in range(release.shape[0]):
        for k in range(shift_start.shape[0]):
            fits = False
            for s in range(shift_start.shape[1]):
                begin = max(release[w], shift_start[k, s])
                if begin + duration[w] <= shift_end[k, s] + EPS and begin <= latest[w] + EPS:
                    fits = True
                    break
            out[w, k] = fits
