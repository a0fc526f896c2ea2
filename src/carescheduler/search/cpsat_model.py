"""The CP-SAT model of record: routing and scheduling of a set of carers and tasks.

Built for all carers it is the whole problem (used directly on small days); built for
two to four carers with everyone else frozen it is the repair step of the
large-neighbourhood search, hinted with the incumbent. Every hard rule is here:
eligibility (skills, gender, bans, pins), shifts, hard windows, travel, synchronised
double-handed visits on distinct carers, breaks and maximum working time.

Times are scaled integers (``scale`` ticks per minute); travel and durations are rounded
up so that any sequence the model accepts is feasible with the exact times, which the
caller recomputes with the search's own timing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .instance import INF, Instance
from .solution import Solution

__all__ = ["SubproblemResult", "solve_subproblem", "take_routes", "time_scale"]


def time_scale(inst: Instance) -> int:
    """1 tick per minute when all data are whole minutes, else 100 ticks per minute.

    Worked out once per instance (the travel matrices of a council day hold millions of
    numbers, and the search asks before every repair)."""
    if inst.cpsat_time_scale is None:
        values = [inst.task_dur, inst.task_release, inst.task_latest[inst.task_latest < INF / 2],
                  inst.shift_start[inst.shift_start < INF / 2], inst.shift_end[inst.shift_end > -INF / 2]]
        values += [inst.travel[m].ravel() for m in np.unique(inst.carer_mode)]
        whole = all(np.all(np.abs(v - np.round(v)) < 1e-9) for v in (np.asarray(x, dtype=float) for x in values))
        inst.cpsat_time_scale = 1 if whole else 100
    return inst.cpsat_time_scale


@dataclass
class SubproblemResult:
    routes: dict[int, list[int]]   # carer -> ordered tasks
    status: str
    objective: float


def solve_subproblem(inst: Instance, sol: Solution, carers: list[int], visits: list[int], time_limit: float,
                     seed: int = 0, workers: int = 1, hint: bool = True,
                     deterministic: bool = False) -> SubproblemResult | None:
    """Re-plan ``visits`` on ``carers`` with every other route frozen as in ``sol``.

    ``deterministic`` bounds CP-SAT by its deterministic time (same answer every run)
    with the wall-clock limit kept only as a safety net.
    ``visits`` must include every visit currently on those carers. Returns the new
    routes of ``carers`` (visits left out are unassigned) or None if CP-SAT found
    nothing in time.
    """
    S = time_scale(inst)
    model = cp_model.CpModel()
    carers = [int(k) for k in carers]
    cset = set(carers)
    # A part already routed on a frozen carer stays there; the model only sees its time.
    tasks: list[int] = []
    for v in visits:
        for t in inst.visit_tasks[v]:
            if t >= 0 and (sol.route_of[t] < 0 or sol.route_of[t] in cset):
                tasks.append(int(t))
    tset = set(tasks)

    horizon = int(math.ceil(max(inst.shift_end[k, inst.n_shifts[k] - 1] for k in carers) * S)) + 1

    def up(x: float) -> int:
        return int(math.ceil(x * S - 1e-7))

    def down(x: float) -> int:
        return int(math.floor(x * S + 1e-7))

    start = {}
    for t in tasks:
        lo = up(inst.task_release[t])
        hi = horizon if inst.task_latest[t] >= INF / 2 else min(horizon, down(inst.task_latest[t]))
        if hi < lo:
            hi = lo
        start[t] = model.NewIntVar(lo, hi, f"s{t}")

    # Visit coverage: y[v] is the visit being done; each part goes to one carer.
    y = {}
    x: dict[tuple[int, int], cp_model.IntVar] = {}
    obj_terms: list[tuple[float, object]] = []
    obj_const = 0.0
    for v in visits:
        y[v] = model.NewBoolVar(f"y{v}")
        parts = [int(t) for t in inst.visit_tasks[v] if t >= 0 and t in tset]
        frozen_partner = False
        for t in parts:
            p = inst.task_partner[t]
            if p >= 0 and p not in tset and sol.route_of[p] >= 0:
                frozen_partner = True
        if frozen_partner:
            model.Add(y[v] == 1)
        obj_terms.append((-float(inst.visit_penalty[v]), y[v]))
        obj_const += float(inst.visit_penalty[v])
        for t in parts:
            lits = []
            for k in carers:
                if inst.eligible[t, k]:
                    x[t, k] = model.NewBoolVar(f"x{t}_{k}")
                    lits.append(x[t, k])
            model.Add(sum(lits) == y[v])
        pin = int(inst.task_pin[inst.visit_tasks[v, 0]])
        if pin >= 0:
            on_pin = [x[t, pin] for t in parts if (t, pin) in x]
            frozen_on_pin = any(sol.route_of[t] == pin for t in inst.visit_tasks[v] if t >= 0 and t not in tset)
            if not frozen_on_pin and on_pin:
                model.Add(sum(on_pin) >= y[v])
            elif not frozen_on_pin:
                model.Add(y[v] == 0)
        if len(parts) == 2:
            t0, t1 = parts
            for k in carers:
                if (t0, k) in x and (t1, k) in x:
                    model.AddBoolOr([x[t0, k].Not(), x[t1, k].Not()])
            gmin, gmax = inst.task_gap_min[t0], inst.task_gap_max[t0]
            d = model.NewIntVar(-horizon, horizon, f"g{v}")
            model.Add(d == start[t1] - start[t0])
            model.Add(d >= round(gmin * S)).OnlyEnforceIf(y[v])
            model.Add(d <= round(gmax * S)).OnlyEnforceIf(y[v])

    # Partners routed on frozen carers pin their counterpart's start (rounded outwards, so
    # a fractional frozen time leaves one tick either side; the exact re-timing decides).
    for t in tasks:
        p = int(inst.task_partner[t])
        if p >= 0 and p not in tset and sol.route_of[p] >= 0:
            sp = sol.start[p]
            if inst.task_part[t] == 0:   # s_p - s_t in [gmin, gmax]
                lo, hi = sp - inst.task_gap_max[t], sp - inst.task_gap_min[t]
            else:                        # s_t - s_p in [gmin, gmax] of the first part
                lo, hi = sp + inst.task_gap_min[p], sp + inst.task_gap_max[p]
            slack = 0 if S == 1 else 5   # rounding of travel along the chain before t
            model.Add(start[t] >= int(math.floor(lo * S + 1e-7)) - slack)
            model.Add(start[t] <= int(math.ceil(hi * S - 1e-7)) + slack)

    late = {}
    max_late = model.NewIntVar(0, horizon, "maxlate")
    frozen = [t for t in np.flatnonzero(sol.route_of >= 0) if sol.route_of[t] not in cset]
    frozen_max = max((sol.late[t] for t in frozen), default=0.0)
    model.Add(max_late >= (up(frozen_max) if frozen_max > 0 else 0))
    for t in tasks:
        if inst.task_tgt_end[t] < INF / 2 and (inst.w_late > 0 or inst.w_maxlate > 0):
            late[t] = model.NewIntVar(0, horizon, f"l{t}")
            model.Add(late[t] >= start[t] - down(inst.task_tgt_end[t]))
            model.Add(max_late >= late[t])
            obj_terms.append((inst.w_late / S, late[t]))
        if inst.task_tgt_start[t] > -INF / 2 and inst.w_early > 0:
            early = model.NewIntVar(0, horizon, f"e{t}")
            model.Add(early >= up(inst.task_tgt_start[t]) - start[t])
            obj_terms.append((inst.w_early / S, early))
    if inst.w_maxlate > 0:
        obj_terms.append((inst.w_maxlate / S, max_late))

    arcs_of: dict[int, list] = {}
    for k in carers:
        mode = inst.carer_mode[k]
        tr = inst.travel[mode]
        home, end_home = int(inst.carer_start[k]), int(inst.carer_end[k])
        mine = [t for t in tasks if (t, k) in x]
        nshift = int(inst.n_shifts[k])
        shifts = [(up(inst.shift_start[k, s]), down(inst.shift_end[k, s])) for s in range(nshift)]
        used = model.NewBoolVar(f"u{k}")
        arcs = [(0, 0, used.Not())]
        node = {t: i + 1 for i, t in enumerate(mine)}
        has_break = inst.break_after[k] < INF / 2
        B = up(inst.break_dur[k]) if has_break else 0
        be = up(inst.break_earliest[k]) if inst.break_earliest[k] > -INF / 2 else 0
        bl = down(inst.break_latest[k]) if inst.break_latest[k] < INF / 2 else horizon
        brk = {}
        depart = model.NewIntVar(-horizon, horizon, f"dep{k}")
        ret = model.NewIntVar(0, 2 * horizon, f"ret{k}")
        travel_terms = []
        work_terms = []
        for t in mine:
            xt = x[t, k]
            model.AddImplication(xt, used)
            arcs.append((node[t], node[t], xt.Not()))
            dur = up(inst.task_dur[t])
            work_terms.append((inst.task_dur[t], xt))
            obj_terms.append((float(inst.assign_cost[t, k]), xt))
            # shift membership
            if nshift == 1:
                lo, hi = shifts[0]
                model.Add(start[t] >= lo).OnlyEnforceIf(xt)
                model.Add(start[t] + dur <= hi).OnlyEnforceIf(xt)
                zs = [xt]
            else:
                zs = []
                for s, (lo, hi) in enumerate(shifts):
                    z = model.NewBoolVar(f"z{t}_{k}_{s}")
                    model.Add(start[t] >= lo).OnlyEnforceIf(z)
                    model.Add(start[t] + dur <= hi).OnlyEnforceIf(z)
                    zs.append(z)
                model.Add(sum(zs) == xt)
            if has_break:
                brk[t] = model.NewBoolVar(f"b{t}_{k}")
                model.AddImplication(brk[t], xt)
            # out of home
            a = model.NewBoolVar(f"a0_{t}_{k}")
            arcs.append((0, node[t], a))
            d_in = tr[home, inst.task_loc[t]]
            travel_terms.append((d_in, a))
            for s, (lo, hi) in enumerate(shifts):
                lits = [a] if nshift == 1 else [a, zs[s]]
                model.Add(start[t] >= lo + up(d_in)).OnlyEnforceIf(lits)
            model.Add(depart == start[t] - up(d_in)).OnlyEnforceIf(a)
            # back home
            b = model.NewBoolVar(f"a{t}_0_{k}")
            arcs.append((node[t], 0, b))
            d_out = tr[inst.task_loc[t], end_home]
            travel_terms.append((d_out, b))
            for s, (lo, hi) in enumerate(shifts):
                lits = [b] if nshift == 1 else [b, zs[s]]
                model.Add(start[t] + dur + up(d_out) <= hi).OnlyEnforceIf(lits)
            model.Add(ret == start[t] + dur + up(d_out)).OnlyEnforceIf(b)
            if has_break:
                model.AddImplication(b, brk[t].Not())
        for t in mine:
            dur = up(inst.task_dur[t])
            for u in mine:
                if u == t:
                    continue
                d = tr[inst.task_loc[t], inst.task_loc[u]]
                if inst.task_release[t] + inst.task_dur[t] + d > inst.task_latest[u] + 1e-6:
                    continue   # u cannot follow t in time
                if inst.task_partner[t] == u:
                    continue
                a = model.NewBoolVar(f"a{t}_{u}_{k}")
                arcs.append((node[t], node[u], a))
                travel_terms.append((d, a))
                if has_break:
                    model.Add(start[u] >= start[t] + dur + up(d)).OnlyEnforceIf([a, brk[t].Not()])
                    model.Add(start[u] >= start[t] + dur + up(d) + B).OnlyEnforceIf([a, brk[t]])
                    # the break lies between the visits and starts in its window, before or after the journey
                    model.Add(start[u] >= be + B).OnlyEnforceIf([a, brk[t]])
                    model.Add(start[t] + dur <= bl).OnlyEnforceIf([a, brk[t]])
                else:
                    model.Add(start[u] >= start[t] + dur + up(d)).OnlyEnforceIf(a)
        model.AddCircuit(arcs)
        arcs_of[k] = (arcs, node, used)
        for coef, lit in travel_terms:
            obj_terms.append((inst.w_travel * coef, lit))
        if has_break:
            need = model.NewBoolVar(f"need{k}")
            model.Add(ret - depart <= up(inst.break_after[k])).OnlyEnforceIf(need.Not())
            model.Add(sum(brk.values()) >= 1).OnlyEnforceIf(need)
            model.Add(sum(brk.values()) <= 1)
        work_expr = sum(int(round(c * 1000)) * lit for c, lit in work_terms + travel_terms)
        if inst.max_work[k] < INF / 2:
            model.Add(work_expr <= int(math.floor(inst.max_work[k] * 1000 + 1e-6)))
        if inst.contracted[k] < INF / 2 and inst.w_overtime > 0:
            ot = model.NewIntVar(0, 10**9, f"ot{k}")
            model.Add(ot >= work_expr - int(round(inst.contracted[k] * 1000)))
            obj_terms.append((inst.w_overtime / 1000.0, ot))

    terms = [(c, v) for c, v in obj_terms if c != 0]
    if terms:
        model.Minimize(sum(c * v for c, v in terms) + obj_const)

    if hint:
        _add_hints(model, inst, sol, carers, tasks, visits, start, y, x, arcs_of, S)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, float(time_limit)) * (4.0 if deterministic else 1.0)
    if deterministic:
        solver.parameters.max_deterministic_time = max(0.05, float(time_limit))
    solver.parameters.num_workers = max(1, int(workers))
    solver.parameters.random_seed = int(seed) % 2**31   # CP-SAT takes a 32-bit seed
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    routes = {}
    for k in carers:
        arcs, node, _ = arcs_of[k]
        succ = {}
        for i, j, lit in arcs:
            if i != j and solver.BooleanValue(lit):
                succ[i] = j
        inv = {n: t for t, n in node.items()}
        seq = []
        cur = succ.get(0, 0)
        while cur != 0:
            seq.append(inv[cur])
            cur = succ[cur]
        routes[k] = seq
    return SubproblemResult(routes, solver.StatusName(status), solver.ObjectiveValue() if terms else obj_const)


def _add_hints(model, inst, sol, carers, tasks, visits, start, y, x, arcs_of, S):
    for v in visits:
        model.AddHint(y[v], bool(sol.visit_assigned(v)))
    for (t, k), lit in x.items():
        model.AddHint(lit, bool(sol.route_of[t] == k))
    for k in carers:
        arcs, node, used = arcs_of[k]
        seq = [node[t] for t in sol.route(k) if t in node]
        model.AddHint(used, bool(seq))
        pairs = set(zip([0] + seq, seq + [0]))
        for i, j, lit in arcs:
            if i != j:
                model.AddHint(lit, (i, j) in pairs)


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
