"""The CP-SAT model of record: routing and scheduling of a set of carers and tasks.

Built for all carers it is the whole problem (used directly on small days); built for
two to four carers with everyone else frozen it is the repair step of the
large-neighbourhood search, hinted with the incumbent. Every hard rule is here:
eligibility (skills, gender, bans, pins), shifts, hard windows, travel, synchronised
double-handed visits on distinct carers, breaks and maximum working time.

Times are scaled integers (``scale`` ticks per minute); travel and durations are rounded
up so that any sequence the model accepts is feasible with the exact times, which the
caller recomputes with the search's own timing.

The model is built in named steps, each adding one family of variables and rules
(``_SubModel`` keeps them in dicts keyed by task, visit and carer): start times, who
does which visit, partners frozen on other routes, lateness, then per carer the route
(a circuit through home), its timing within shifts, its break and working time, the
minutes past soft shift ends and the waiting, then the longest wait, and last the
objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from .instance import INF, Instance
from .solution import Solution

__all__ = [
    "BUILD_SECONDS_PER_ARC",
    "SubproblemResult",
    "build_seconds",
    "solve_subproblem",
    "take_routes",
    "time_scale",
]

BUILD_SECONDS_PER_ARC = 25e-6
"""Building the model takes about this long per pair of tasks one carer could do one
after the other (measured: 5.4 s for one carer and 499 visits, 16.7 s for two and 600)."""


def build_seconds(inst: Instance, carers: list[int], visits: list[int]) -> float:
    """About how long building the model of ``visits`` on ``carers`` takes, at most: it
    grows with the square of each carer's tasks, so a caller with a time limit can skip
    a model of long routes that would take longer to build than it has."""
    tasks = inst.visit_tasks[np.asarray(visits, dtype=np.int64)].ravel()
    tasks = tasks[tasks >= 0]
    per_carer = np.asarray(inst.eligible[np.ix_(tasks, np.asarray(carers, dtype=np.int64))]).sum(axis=0)
    return BUILD_SECONDS_PER_ARC * float((per_carer.astype(np.float64) ** 2).sum())


def time_scale(inst: Instance) -> int:
    """1 tick per minute when all data are whole minutes, else 100 ticks per minute.

    Worked out once per instance (the travel matrices of a council day hold millions of
    numbers, and the search asks before every repair)."""
    if inst.cpsat_time_scale is None:
        values = [
            inst.task_dur,
            inst.task_release,
            inst.task_latest[inst.task_latest < INF / 2],
            inst.shift_start[inst.shift_start < INF / 2],
            inst.shift_end[inst.shift_end > -INF / 2],
        ]
        values += [inst.travel[m].ravel() for m in np.unique(inst.carer_mode)]
        whole = all(np.all(np.abs(v - np.round(v)) < 1e-9) for v in (np.asarray(x, dtype=float) for x in values))
        inst.cpsat_time_scale = 1 if whole else 100
    return inst.cpsat_time_scale


@dataclass
class SubproblemResult:
    routes: dict[int, list[int]]  # carer -> ordered tasks
    status: str
    objective: float


@dataclass
class _CarerRoute:
    """One carer's part of the model: a circuit through home (node 0) and the tasks."""

    k: int
    tasks: list[int]  # the tasks this carer may do
    node: dict[int, int]  # task -> circuit node
    used: cp_model.IntVar  # the carer works at all
    arcs: list[tuple[int, int, cp_model.BoolVarT]]  # (from node, to node, the arc is taken)
    shifts: list[tuple[int, int]]  # (start, end) in ticks
    depart: cp_model.IntVar  # leaves home
    back_home: cp_model.IntVar  # gets home
    breaks: dict[int, cp_model.IntVar] = field(default_factory=dict)  # task -> the break follows it
    in_shift: dict[int, list[cp_model.IntVar]] = field(default_factory=dict)  # task -> in shift s (if done)
    goes_home: dict[int, cp_model.IntVar] = field(default_factory=dict)  # task -> the day's last
    waits: list[cp_model.IntVar] = field(default_factory=list)  # per arc between two visits: its wait
    travel_terms: list[tuple[float, cp_model.IntVar]] = field(default_factory=list)
    work_terms: list[tuple[float, cp_model.IntVar]] = field(default_factory=list)


@dataclass
class _SubModel:
    """The model under construction: CP-SAT variables kept in dicts keyed by domain ids."""

    inst: Instance
    sol: Solution
    carers: list[int]
    visits: list[int]
    tasks: list[int]
    scale: int
    horizon: int
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    start: dict[int, cp_model.IntVar] = field(default_factory=dict)  # task -> start tick
    done: dict[int, cp_model.IntVar] = field(default_factory=dict)  # visit -> is done
    does: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)  # (task, carer) -> does it
    routes: dict[int, _CarerRoute] = field(default_factory=dict)
    objective: list[tuple[float, cp_model.LinearExpr]] = field(default_factory=list)
    constant: float = 0.0

    def up(self, minutes: float) -> int:
        """Minutes as ticks, rounded up (travel and durations: never too short)."""
        return math.ceil(minutes * self.scale - 1e-7)

    def down(self, minutes: float) -> int:
        """Minutes as ticks, rounded down (deadlines: never too late)."""
        return math.floor(minutes * self.scale + 1e-7)


def solve_subproblem(
    inst: Instance,
    sol: Solution,
    carers: list[int],
    visits: list[int],
    time_limit: float,
    seed: int = 0,
    workers: int = 1,
    hint: bool = True,
    deterministic: bool = False,
) -> SubproblemResult | None:
    """Re-plan ``visits`` on ``carers`` with every other route frozen as in ``sol``.

    ``deterministic`` bounds CP-SAT by its deterministic time (same answer every run)
    with the wall-clock limit kept only as a safety net.
    ``visits`` must include every visit currently on those carers. Returns the new
    routes of ``carers`` (visits left out are unassigned) or None if CP-SAT found
    nothing in time.
    """
    sub = _new_submodel(inst, sol, [int(k) for k in carers], visits)
    _add_start_times(sub)
    _add_coverage(sub)
    _add_frozen_partners(sub)
    _add_lateness(sub)
    for k in sub.carers:
        _add_carer(sub, k)
    _add_longest_wait(sub)
    has_objective = _set_objective(sub)
    if hint:
        _add_hints(sub)
    return _solve(sub, time_limit, seed, workers, deterministic, has_objective)


# --- variables ---------------------------------------------------------------------------


def _new_submodel(inst: Instance, sol: Solution, carers: list[int], visits: list[int]) -> _SubModel:
    """The tasks the model places: a part already routed on a frozen carer stays there
    (the model only sees its time)."""
    cset = set(carers)
    tasks = [
        int(t)
        for v in visits
        for t in inst.visit_tasks[v]
        if t >= 0 and (sol.route_of[t] < 0 or sol.route_of[t] in cset)
    ]
    scale = time_scale(inst)
    horizon = math.ceil(max(inst.shift_end[k, inst.n_shifts[k] - 1] for k in carers) * scale) + 1
    return _SubModel(inst, sol, carers, list(visits), tasks, scale, horizon)


def _add_start_times(sub: _SubModel) -> None:
    """A start time per task, within its hard window."""
    inst = sub.inst
    for t in sub.tasks:
        lo = sub.up(inst.task_release[t])
        hi = sub.horizon if inst.task_latest[t] >= INF / 2 else min(sub.horizon, sub.down(inst.task_latest[t]))
        sub.start[t] = sub.model.new_int_var(lo, max(lo, hi), f"s{t}")


def _add_coverage(sub: _SubModel) -> None:
    """Who does what: each visit is done or not (its penalty when not); each part of a
    done visit goes to one eligible carer; pins; a double visit's parts go to two
    carers, their starts in step."""
    inst, sol, model = sub.inst, sub.sol, sub.model
    tset = set(sub.tasks)
    S, horizon = sub.scale, sub.horizon
    for v in sub.visits:
        y = sub.done[v] = model.new_bool_var(f"y{v}")
        parts = [int(t) for t in inst.visit_tasks[v] if t >= 0 and t in tset]
        frozen_partner = any(
            inst.task_partner[t] >= 0 and inst.task_partner[t] not in tset and sol.route_of[inst.task_partner[t]] >= 0
            for t in parts
        )
        if frozen_partner:
            model.add(y == 1)
        sub.objective.append((-float(inst.visit_penalty[v]), y))
        sub.constant += float(inst.visit_penalty[v])
        for t in parts:
            lits = []
            for k in sub.carers:
                if inst.eligible[t, k]:
                    sub.does[t, k] = model.new_bool_var(f"x{t}_{k}")
                    lits.append(sub.does[t, k])
            model.add(sum(lits) == y)
        pin = int(inst.task_pin[inst.visit_tasks[v, 0]])
        if pin >= 0:
            on_pin = [sub.does[t, pin] for t in parts if (t, pin) in sub.does]
            frozen_on_pin = any(sol.route_of[t] == pin for t in inst.visit_tasks[v] if t >= 0 and t not in tset)
            if not frozen_on_pin and on_pin:
                model.add(sum(on_pin) >= y)
            elif not frozen_on_pin:
                model.add(y == 0)
        if len(parts) == 2:
            t0, t1 = parts
            for k in sub.carers:
                if (t0, k) in sub.does and (t1, k) in sub.does:
                    model.add_bool_or([sub.does[t0, k].negated(), sub.does[t1, k].negated()])
            gap = model.new_int_var(-horizon, horizon, f"g{v}")
            model.add(gap == sub.start[t1] - sub.start[t0])
            model.add(gap >= round(inst.task_gap_min[t0] * S)).only_enforce_if(y)
            model.add(gap <= round(inst.task_gap_max[t0] * S)).only_enforce_if(y)


def _add_frozen_partners(sub: _SubModel) -> None:
    """Partners routed on frozen carers pin their counterpart's start (rounded outwards,
    so a fractional frozen time leaves one tick either side; the exact re-timing decides)."""
    inst, sol, model = sub.inst, sub.sol, sub.model
    tset = set(sub.tasks)
    S = sub.scale
    for t in sub.tasks:
        p = int(inst.task_partner[t])
        if p < 0 or p in tset or sol.route_of[p] < 0:
            continue
        sp = sol.start[p]
        if inst.task_part[t] == 0:  # s_p - s_t in [gmin, gmax]
            lo, hi = sp - inst.task_gap_max[t], sp - inst.task_gap_min[t]
        else:  # s_t - s_p in [gmin, gmax] of the first part
            lo, hi = sp + inst.task_gap_min[p], sp + inst.task_gap_max[p]
        slack = 0 if S == 1 else 5  # rounding of travel along the chain before t
        model.add(sub.start[t] >= math.floor(lo * S + 1e-7) - slack)
        model.add(sub.start[t] <= math.ceil(hi * S - 1e-7) + slack)


def _add_lateness(sub: _SubModel) -> None:
    """Lateness after and earliness before the target window, and the maximum lateness
    (which cannot fall below that of the frozen routes). A visit left out is neither
    late nor early: its start variable still lies in its window, and a target that
    ends before the window opens would otherwise charge it lateness it never has."""
    inst, sol, model = sub.inst, sub.sol, sub.model
    S, horizon = sub.scale, sub.horizon
    cset = set(sub.carers)
    max_late = model.new_int_var(0, horizon, "maxlate")
    frozen = [t for t in np.flatnonzero(sol.route_of >= 0) if sol.route_of[t] not in cset]
    frozen_max = max((sol.late[t] for t in frozen), default=0.0)
    model.add(max_late >= (sub.up(frozen_max) if frozen_max > 0 else 0))
    for t in sub.tasks:
        done = sub.done[int(inst.task_visit[t])]
        if inst.task_tgt_end[t] < INF / 2 and (inst.w_late > 0 or inst.w_maxlate > 0):
            late = model.new_int_var(0, horizon, f"l{t}")
            model.add(late >= sub.start[t] - sub.down(inst.task_tgt_end[t])).only_enforce_if(done)
            model.add(max_late >= late)
            sub.objective.append((inst.w_late / S, late))
        if inst.task_tgt_start[t] > -INF / 2 and inst.w_early > 0:
            early = model.new_int_var(0, horizon, f"e{t}")
            model.add(early >= sub.up(inst.task_tgt_start[t]) - sub.start[t]).only_enforce_if(done)
            sub.objective.append((inst.w_early / S, early))
    if inst.w_maxlate > 0:
        sub.objective.append((inst.w_maxlate / S, max_late))


# --- one carer's route -------------------------------------------------------------------


def _add_carer(sub: _SubModel, k: int) -> None:
    """Carer k's route: per task its shift, the way out from home and back, then the
    order between tasks, the circuit, the break and the working time."""
    route = _new_route(sub, k)
    has_break = sub.inst.break_after[k] < INF / 2
    for t in route.tasks:
        does = sub.does[t, k]
        sub.model.add_implication(does, route.used)
        route.arcs.append((route.node[t], route.node[t], does.negated()))  # a task not done is skipped
        route.work_terms.append((sub.inst.task_dur[t], does))
        sub.objective.append((float(sub.inst.assign_cost[t, k]), does))
        shift_of = route.in_shift[t] = _add_shift_membership(sub, route, t)
        if has_break:
            route.breaks[t] = sub.model.new_bool_var(f"b{t}_{k}")
            sub.model.add_implication(route.breaks[t], does)
        _add_way_out(sub, route, t, shift_of)
        _add_way_home(sub, route, t, shift_of)
    for t in route.tasks:
        for u in route.tasks:
            if u != t:
                _add_one_after_another(sub, route, t, u)
    sub.model.add_circuit(route.arcs)
    sub.routes[k] = route
    for coef, lit in route.travel_terms:
        sub.objective.append((sub.inst.w_travel * coef, lit))
    _add_break_rule(sub, route)
    _add_working_time(sub, route)
    _add_past_shift_end(sub, route)
    _add_waiting(sub, route)


def _new_route(sub: _SubModel, k: int) -> _CarerRoute:
    inst, model = sub.inst, sub.model
    tasks = [t for t in sub.tasks if (t, k) in sub.does]
    shifts = [(sub.up(inst.shift_start[k, s]), sub.down(inst.shift_end[k, s])) for s in range(int(inst.n_shifts[k]))]
    used = model.new_bool_var(f"u{k}")
    route = _CarerRoute(
        k=k,
        tasks=tasks,
        node={t: i + 1 for i, t in enumerate(tasks)},
        used=used,
        arcs=[(0, 0, used.negated())],
        shifts=shifts,
        depart=model.new_int_var(-sub.horizon, sub.horizon, f"dep{k}"),
        back_home=model.new_int_var(0, 2 * sub.horizon, f"ret{k}"),
    )
    return route


def _add_shift_membership(sub: _SubModel, route: _CarerRoute, t: int) -> list[cp_model.IntVar]:
    """Task t, if this carer does it, lies inside one of their shifts; returns the
    literal of each shift holding it."""
    model, start = sub.model, sub.start[t]
    does = sub.does[t, route.k]
    dur = sub.up(sub.inst.task_dur[t])
    if len(route.shifts) == 1:
        lo, hi = route.shifts[0]
        model.add(start >= lo).only_enforce_if(does)
        model.add(start + dur <= hi).only_enforce_if(does)
        return [does]
    shift_of = []
    for s, (lo, hi) in enumerate(route.shifts):
        z = model.new_bool_var(f"z{t}_{route.k}_{s}")
        model.add(start >= lo).only_enforce_if(z)
        model.add(start + dur <= hi).only_enforce_if(z)
        shift_of.append(z)
    model.add(sum(shift_of) == does)
    return shift_of


def _add_way_out(sub: _SubModel, route: _CarerRoute, t: int, shift_of: list) -> None:
    """Task t as the day's first: the carer leaves home no earlier than its shift starts."""
    inst, model = sub.inst, sub.model
    k = route.k
    arc = model.new_bool_var(f"a0_{t}_{k}")
    route.arcs.append((0, route.node[t], arc))
    d_in = inst.travel[inst.carer_mode[k]][inst.carer_start[k], inst.task_loc[t]]
    route.travel_terms.append((d_in, arc))
    for s, (lo, _) in enumerate(route.shifts):
        lits = [arc] if len(route.shifts) == 1 else [arc, shift_of[s]]
        model.add(sub.start[t] >= lo + sub.up(d_in)).only_enforce_if(lits)
    model.add(route.depart == sub.start[t] - sub.up(d_in)).only_enforce_if(arc)


def _add_way_home(sub: _SubModel, route: _CarerRoute, t: int, shift_of: list) -> None:
    """Task t as the day's last: the carer is home by the end of its shift (no break after it)."""
    inst, model = sub.inst, sub.model
    k = route.k
    arc = route.goes_home[t] = model.new_bool_var(f"a{t}_0_{k}")
    route.arcs.append((route.node[t], 0, arc))
    d_out = inst.travel[inst.carer_mode[k]][inst.task_loc[t], inst.carer_end[k]]
    route.travel_terms.append((d_out, arc))
    dur = sub.up(inst.task_dur[t])
    for s, (_, hi) in enumerate(route.shifts):
        lits = [arc] if len(route.shifts) == 1 else [arc, shift_of[s]]
        model.add(sub.start[t] + dur + sub.up(d_out) <= hi).only_enforce_if(lits)
    model.add(route.back_home == sub.start[t] + dur + sub.up(d_out)).only_enforce_if(arc)
    if t in route.breaks:
        model.add_implication(arc, route.breaks[t].negated())


def _add_one_after_another(sub: _SubModel, route: _CarerRoute, t: int, u: int) -> None:
    """u straight after t: u starts once t is done and the carer has travelled (and had
    their break between them, inside its window, if it goes there). Pairs that cannot
    follow in time, and a double visit's two parts, get no arc."""
    inst, model = sub.inst, sub.model
    k = route.k
    d = inst.travel[inst.carer_mode[k]][inst.task_loc[t], inst.task_loc[u]]
    if inst.task_release[t] + inst.task_dur[t] + d > inst.task_latest[u] + 1e-6:
        return
    if inst.task_partner[t] == u:
        return
    arc = model.new_bool_var(f"a{t}_{u}_{k}")
    route.arcs.append((route.node[t], route.node[u], arc))
    route.travel_terms.append((d, arc))
    ready = sub.start[t] + sub.up(inst.task_dur[t]) + sub.up(d)
    if _waits_by_arc(sub, route):
        _add_arc_wait(sub, route, t, u, arc, ready)
    if t not in route.breaks:
        model.add(sub.start[u] >= ready).only_enforce_if(arc)
        return
    brk = route.breaks[t]
    length = sub.up(inst.break_dur[k])
    earliest = sub.up(inst.break_earliest[k]) if inst.break_earliest[k] > -INF / 2 else 0
    latest = sub.down(inst.break_latest[k]) if inst.break_latest[k] < INF / 2 else sub.horizon
    model.add(sub.start[u] >= ready).only_enforce_if([arc, brk.negated()])
    model.add(sub.start[u] >= ready + length).only_enforce_if([arc, brk])
    # the break lies between the visits and starts in its window, before or after the journey
    model.add(sub.start[u] >= earliest + length).only_enforce_if([arc, brk])
    model.add(sub.start[t] + sub.up(inst.task_dur[t]) <= latest).only_enforce_if([arc, brk])


def _waits_by_arc(sub: _SubModel, route: _CarerRoute) -> bool:
    """Whether the carer's waits are modelled gap by gap: for the longest wait, and for
    waiting where the carer has split shifts (``_add_waiting`` sums one shift's day)."""
    inst = sub.inst
    return inst.w_maxwait > 0 or (inst.w_wait > 0 and len(route.shifts) > 1)


def _add_arc_wait(sub: _SubModel, route: _CarerRoute, t: int, u: int, arc, ready) -> None:
    """The wait before u when the carer goes straight from t to u within one shift: u's
    start less t's end, the journey and the break if it goes there."""
    model = sub.model
    wait = model.new_int_var(0, 2 * sub.horizon, f"w{t}_{u}_{route.k}")
    idle = sub.start[u] - ready
    if t in route.breaks:
        idle -= sub.up(sub.inst.break_dur[route.k]) * route.breaks[t]
    if len(route.shifts) == 1:
        model.add(wait >= idle).only_enforce_if(arc)
    else:
        for s in range(len(route.shifts)):
            model.add(wait >= idle).only_enforce_if([arc, route.in_shift[t][s], route.in_shift[u][s]])
    route.waits.append(wait)


def _add_break_rule(sub: _SubModel, route: _CarerRoute) -> None:
    """A day longer than the rule's limit (leaving home to getting back) has one break."""
    if sub.inst.break_after[route.k] >= INF / 2:
        return
    model = sub.model
    need = model.new_bool_var(f"need{route.k}")
    model.add(route.back_home - route.depart <= sub.up(sub.inst.break_after[route.k])).only_enforce_if(need.negated())
    model.add(sum(route.breaks.values()) >= 1).only_enforce_if(need)
    model.add(sum(route.breaks.values()) <= 1)


def _add_working_time(sub: _SubModel, route: _CarerRoute) -> None:
    """Visit and travel minutes within the carer's maximum; beyond their contract, overtime."""
    inst, model = sub.inst, sub.model
    k = route.k
    work = sum(round(c * 1000) * lit for c, lit in route.work_terms + route.travel_terms)
    if inst.max_work[k] < INF / 2:
        model.add(work <= math.floor(inst.max_work[k] * 1000 + 1e-6))
    if inst.contracted[k] < INF / 2 and inst.w_overtime > 0:
        overtime = model.new_int_var(0, 10**9, f"ot{k}")
        model.add(overtime >= work - round(inst.contracted[k] * 1000))
        sub.objective.append((inst.w_overtime / 1000.0, overtime))


def _add_past_shift_end(sub: _SubModel, route: _CarerRoute) -> None:
    """Minutes past each soft shift end: the shift's last visit ends (the day's last: the
    carer gets home) that long after it, as ``timing`` counts them; exact for the model's
    earliest times, which the search's timing keeps."""
    inst, model = sub.inst, sub.model
    k = route.k
    if inst.w_past_end <= 0:
        return
    tr = inst.travel[inst.carer_mode[k]]
    for s in range(len(route.shifts)):
        if inst.shift_soft_end[k, s] >= INF / 2:
            continue
        soft = sub.down(inst.shift_soft_end[k, s])
        past = model.new_int_var(0, 2 * sub.horizon, f"past{k}_{s}")
        for t in route.tasks:
            end = sub.start[t] + sub.up(inst.task_dur[t])
            model.add(past >= end - soft).only_enforce_if(route.in_shift[t][s])
            home = sub.up(tr[inst.task_loc[t], inst.carer_end[k]])
            model.add(past >= end + home - soft).only_enforce_if([route.in_shift[t][s], route.goes_home[t]])
        sub.objective.append((inst.w_past_end / sub.scale, past))


def _add_waiting(sub: _SubModel, route: _CarerRoute) -> None:
    """The carer's waiting, priced at the model's own times, which may wait less than the
    search's earliest ones: a guide for the repair, not a proof. With one shift it is the
    day from leaving home to getting back less the visits, the journeys and the break
    (one variable); with split shifts (off between them) the sum of the waits gap by gap
    (``_add_arc_wait``), which also give the longest wait (``_add_longest_wait``)."""
    inst, model = sub.inst, sub.model
    k = route.k
    if inst.w_wait <= 0:
        return
    if len(route.shifts) != 1:
        for wait in route.waits:
            sub.objective.append((inst.w_wait / sub.scale, wait))
        return
    terms = [(sub.up(inst.task_dur[t]), sub.does[t, k]) for t in route.tasks]
    terms += [(sub.up(d), arc) for d, arc in route.travel_terms]
    terms += [(sub.up(inst.break_dur[k]), brk) for brk in route.breaks.values()]
    busy = cp_model.LinearExpr.weighted_sum([lit for _, lit in terms], [c for c, _ in terms])
    wait = model.new_int_var(0, 2 * sub.horizon, f"wait{k}")
    model.add(wait >= route.back_home - route.depart - busy).only_enforce_if(route.used)
    sub.objective.append((inst.w_wait / sub.scale, wait))


def _add_longest_wait(sub: _SubModel) -> None:
    """The longest single wait of any carer, no shorter than that of the routes kept
    frozen outside the model."""
    inst, sol, model = sub.inst, sub.sol, sub.model
    if inst.w_maxwait <= 0:
        return
    cset = set(sub.carers)
    frozen = max((float(w) for k, w in enumerate(sol.wait_max) if k not in cset), default=0.0)
    floor = sub.up(frozen) if frozen > 0 else 0
    longest = model.new_int_var(floor, max(floor, 2 * sub.horizon), "maxwait")
    for route in sub.routes.values():
        for wait in route.waits:
            model.add(longest >= wait)
    sub.objective.append((inst.w_maxwait / sub.scale, longest))


# --- objective, hints, solving -----------------------------------------------------------


def _set_objective(sub: _SubModel) -> bool:
    """Minimise the weighted terms (plus the penalties of visits left out); False when
    nothing is weighted."""
    terms = [(c, v) for c, v in sub.objective if c != 0]
    if terms:
        sub.model.minimize(sum(c * v for c, v in terms) + sub.constant)
    return bool(terms)


def _add_hints(sub: _SubModel) -> None:
    """The incumbent's routes as the search's starting point."""
    sol, model = sub.sol, sub.model
    for v in sub.visits:
        model.add_hint(sub.done[v], bool(sol.visit_assigned(v)))
    for (t, k), does in sub.does.items():
        model.add_hint(does, bool(sol.route_of[t] == k))
    for k, route in sub.routes.items():
        seq = [route.node[t] for t in sol.route(k) if t in route.node]
        model.add_hint(route.used, bool(seq))
        pairs = set(zip([0, *seq], [*seq, 0], strict=True))
        for i, j, arc in route.arcs:
            if i != j:
                model.add_hint(arc, (i, j) in pairs)


def _solve(
    sub: _SubModel, time_limit: float, seed: int, workers: int, deterministic: bool, has_objective: bool
) -> SubproblemResult | None:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, float(time_limit)) * (4.0 if deterministic else 1.0)
    if deterministic:
        solver.parameters.max_deterministic_time = max(0.05, float(time_limit))
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.random_seed = int(seed) % 2**31  # CP-SAT takes a 32-bit seed
    status = solver.solve(sub.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    routes = {}
    for k, route in sub.routes.items():
        succ = {i: j for i, j, lit in route.arcs if i != j and solver.boolean_value(lit)}
        task_at = {n: t for t, n in route.node.items()}
        seq = []
        cur = succ.get(0, 0)
        while cur != 0:
            seq.append(task_at[cur])
            cur = succ[cur]
        routes[k] = seq
    return SubproblemResult(
        routes, solver.status_name(status), solver.objective_value if has_objective else sub.constant
    )


def take_routes(sol: Solution, result: SubproblemResult, carers: list[int], visits: list[int]) -> bool:
    """Give ``carers`` the sub-model's routes and re-time; a visit whose part stayed on a
    frozen route while the other part was dropped is removed whole."""
    inst = sol.inst
    sol.replace_routes({k: result.routes.get(k, []) for k in carers})
    for v in visits:
        parts = [t for t in inst.visit_tasks[v] if t >= 0]
        if len(parts) == 2 and (sol.route_of[parts[0]] < 0) != (sol.route_of[parts[1]] < 0):
            sol.remove_visit(v)
    return sol.refresh()
