"""``solve()``: from a problem to a plan before a stop criterion is met.

The pipeline: compile the problem to arrays, build a first plan by regret insertion
(on big days one visit at a time, which prices each visit once), then improve it by
large-neighbourhood search with CP-SAT route repairs until the stop criteria say so
(``params``); small days are also handed whole to the CP-SAT model,
hinted with the best plan, which can prove them optimal. The best plan found so far is
always what comes back.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from ..domain import Problem
from ..errors import InputError
from ..params import SolveParams, StopCriterion, stop_rule
from ..plan import CostBreakdown, KPIs, Plan, Route, SolverInfo, UnassignedVisit
from . import timing
from .budget import Budget
from .cpsat_model import build_seconds, solve_subproblem
from .insertion import insert_visits
from .instance import Instance, compile_problem
from .lns import Progress, SearchRun, large_neighbourhood_search
from .parallel import parallel_search
from .reasons import Reasons
from .solution import Solution

__all__ = ["DEFAULT_SECONDS", "Progress", "plan_from_solution", "solve", "warm_up"]

DEFAULT_SECONDS = 10.0
"""The time limit of a solve whose stop criteria give none."""

WRITE_SECONDS_PER_VISIT = 8e-6
"""Time kept back from the search per visit of the day, to write the plan within the
limit (measured: 0.8 s for a day of 100,000 visits left unassigned, the worst case)."""


def solve(
    problem: Problem,
    stop: StopCriterion | Sequence[StopCriterion] | float | None = None,
    *,
    seed: int = 0,
    workers: int = 1,
    params: SolveParams | None = None,
    progress: Callable[[Progress], None] | None = None,
    time_limit: float | None = None,
    max_iterations: int | None = None,
) -> Plan:
    """Plan the day: the best plan found before the first ``stop`` criterion is met.

    ``stop`` is a criterion (``MaxRuntime``, ``MaxIterations``, ``NoImprovement``), a
    list of them, or seconds; a run always has a time limit (``DEFAULT_SECONDS`` unless
    a ``MaxRuntime`` says otherwise). ``time_limit`` and ``max_iterations`` are the
    same as ``MaxRuntime`` and ``MaxIterations``. ``workers`` is how many cores the
    search may use: that many searches run side by side and pool their best plan
    (``parallel``). ``seed`` and ``workers`` make a run reproducible given the same
    iteration count (a wall-clock limit can stop two runs at different iterations);
    ``MaxIterations`` bounds each search independently of the clock, for exactly
    repeatable runs. ``params`` holds every other setting of the search.
    """
    started = time.monotonic()
    rule = stop_rule(stop, DEFAULT_SECONDS, time_limit=time_limit, max_iterations=max_iterations)
    if seed < 0:
        raise InputError("seed", f"must be 0 or more, got {seed}")
    if workers < 1:
        raise InputError("workers", f"must be 1 or more, got {workers}")
    params = params or SolveParams()
    # The search stops a little early: writing the plan takes its turn (at most a fifth).
    deadline = started + rule.seconds - min(0.2 * rule.seconds, WRITE_SECONDS_PER_VISIT * len(problem.visits))
    inst = compile_problem(problem)
    rng = np.random.default_rng(seed)
    sol = Solution(inst)
    sol.refresh()
    # On council-sized days the first plan skips the slow exact pricing of visits the
    # kernels could not place (each costs hundreds of whole-day re-timings); the search
    # retries them, so a complete first plan comes sooner.
    exact: set[int] | None = set() if inst.n_tasks > params.construction.exact_max_tasks else None
    # The first plan stops where the time limit is: the visits not reached stay unassigned
    # and the progress callback (which may cancel) is heard throughout.
    budget = Budget(stop_at=deadline, report=_reporter(progress, started, sol, "construction"))
    in_order = inst.n_tasks >= params.construction.in_order_min_tasks
    visits = rng.permutation(inst.n_visits)
    if in_order:
        visits = first_plan_order(inst, visits)
    insert_visits(
        sol,
        visits,
        rng,
        regret=2,
        deadline=deadline,
        exact=exact,
        in_order=in_order,
        params=params.construction,
        budget=budget,
        shortlist=params.construction.first_plan_carers if in_order else 0,
    )
    if progress is not None:
        progress(Progress(time.monotonic() - started, 0, sol.total, len(sol.unassigned_visits()), "construction"))
    run = SearchRun(sol, 0, "time")
    status = "heuristic"
    everyone, every_visit = list(range(inst.n_carers)), list(range(inst.n_visits))
    small = inst.n_tasks <= params.search.full_model_max_tasks and build_seconds(inst, everyone, every_visit) < 0.5 * (
        deadline - started
    )
    lns_deadline = deadline
    if small:
        lns_deadline = started + 0.5 * (deadline - started)
    if time.monotonic() < lns_deadline:
        if workers > 1:
            run = parallel_search(
                sol, lns_deadline, seed, workers, params, progress, started, rule.iterations, rule.no_improvement
            )
        else:
            run = large_neighbourhood_search(
                sol, lns_deadline, rng, params, progress, started, seed, rule.iterations, rule.no_improvement
            )
    sol = run.best
    if small and inst.n_carers > 0 and time.monotonic() < deadline - 0.05:
        result = solve_subproblem(
            inst,
            sol,
            everyone,
            every_visit,
            deadline - time.monotonic(),
            seed=seed,
            workers=workers,
            deterministic=rule.iterations is not None,
        )
        if result is not None:
            trial = sol.copy()
            trial.replace_routes(result.routes)
            if trial.refresh() and trial.total <= sol.total + 1e-9:
                sol = trial
                # CP-SAT's times are rounded up; its proof holds for the plan it returned,
                # and for the objective its model has (waiting and soft shift ends are not in it yet).
                proved = result.status == "OPTIMAL" and not _beyond_the_model(sol.inst)
                status = "optimal" if proved else "heuristic"
    seconds = time.monotonic() - started
    if progress is not None:
        progress(Progress(seconds, run.iterations, sol.total, len(sol.unassigned_visits()), "done"))
    return plan_from_solution(
        sol,
        untried=budget.untried,
        solver_info=SolverInfo(
            status=status,
            seconds=round(seconds, 3),
            iterations=run.iterations,
            seed=seed,
            workers=workers,
            time_limit=rule.seconds,
            max_iterations=rule.iterations,
            no_improvement=rule.no_improvement,
            stopped_by=run.stopped_by,
        ),
    )


def first_plan_order(inst: Instance, visits: np.ndarray) -> np.ndarray:
    """``visits`` in the order a big day's first plan puts them in: double-handed visits
    first, while every carer still has room for both parts at once, then by when their
    window opens, so routes mostly grow at their ends (cheap to price and to re-time)."""
    first = inst.visit_tasks[visits, 0]
    single = inst.visit_tasks[visits, 1] < 0
    return visits[np.lexsort((inst.task_release[first], single))]


def _reporter(
    progress: Callable[[Progress], None] | None, started: float, sol: Solution, phase: str
) -> Callable[[], None] | None:
    """A budget's report: the progress of ``sol`` so far, in ``phase``."""
    if progress is None:
        return None
    return lambda: progress(Progress(time.monotonic() - started, 0, sol.total, len(sol.unassigned_visits()), phase))


def warm_up() -> None:
    """Compile the numba kernels once (they are cached on disk), so that the first real
    solve on a machine spends its time limit searching rather than compiling: a small day
    (solved whole by CP-SAT) and one big enough for the search, with its moves between
    routes on whatever the defaults say (a cold compile of those takes tens of seconds)."""
    from ..params import SearchParams
    from ..scenarios.demo import demo_problem

    solve(demo_problem(clients=6, carers=3), time_limit=5.0, max_iterations=3)
    with_moves = SolveParams(search=SearchParams(between_routes_tries=50))
    solve(demo_problem(clients=30, carers=10, seed=3), time_limit=60.0, max_iterations=20, params=with_moves)


def _beyond_the_model(inst: Instance) -> bool:
    """Whether the objective has a term the CP-SAT model does not price exactly (so it
    proves nothing): waiting, which it counts at its own times, not the search's."""
    return inst.w_wait > 0 or inst.w_maxwait > 0


def plan_from_solution(sol: Solution, solver_info: SolverInfo | None = None, untried: Collection[int] = ()) -> Plan:
    """Write a solution as the public plan, with breaks, reasons and KPIs; the visits in
    ``untried`` are said to have been cut off by the time limit if they are unassigned."""
    inst: Instance = sol.inst
    problem = inst.problem
    routes = []
    day = inst.arrays()
    # Python lists, not arrays: read one value at a time for every visit of the day.
    task_visit, task_part, task_loc = inst.task_visit.tolist(), inst.task_part.tolist(), inst.task_loc.tolist()
    task_partner, task_dur = inst.task_partner.tolist(), inst.task_dur.tolist()
    start, route_of = sol.start.tolist(), sol.route_of.tolist()
    visits, carers = problem.visits, problem.carers
    with collections_paused():  # thousands of small models at once (see collections_paused)
        for k, carer in enumerate(carers):
            seq = sol.route(k)
            if not seq:
                routes.append(Route(carer=carer.id))
                continue
            tr = inst.travel[inst.carer_mode[k]]
            stops = [int(inst.carer_start[k]), *(task_loc[t] for t in seq)]
            legs = tr[stops[:-1], stops[1:]].tolist()
            planned = []
            for t, leg in zip(seq, legs, strict=True):
                visit = visits[task_visit[t]]
                p = task_partner[t]
                planned.append(
                    {
                        "visit": visit.id,
                        "part": task_part[t],
                        "client": visit.client,
                        "start": start[t],
                        "end": start[t] + task_dur[t],
                        "travel_before": leg,
                        "partner": carers[route_of[p]].id if p >= 0 else None,
                    }
                )
            breaks = []
            if timing.needs_break(day, sol.arrays, k):
                i = timing.break_gap(day, sol.arrays, k)
                if i >= 0:
                    b_start = max(start[seq[i]] + task_dur[seq[i]], float(inst.break_earliest[k]))
                    breaks.append({"start": b_start, "end": b_start + float(inst.break_dur[k])})
            leave, back = timing.route_span(day, sol.arrays, k)
            # one validation per route, its visits included: cheaper than one per visit
            routes.append(
                Route(
                    carer=carer.id,
                    visits=planned,
                    breaks=breaks,
                    leave_home=float(leave),
                    return_home=float(back),
                    travel_minutes=float(sol.travel[k]),
                    working_minutes=float(sol.working[k]),
                )
            )
    unassigned = []
    reasons = Reasons(inst, solver_info.time_limit if solver_info is not None else None)
    with collections_paused():
        for v in sol.unassigned_visits():
            v = int(v)
            beaten = not inst.visit_mandatory[v]
            reason = reasons.unassigned(v, beaten, untried=v in untried)
            unassigned.append(UnassignedVisit(visit=problem.visits[v].id, reason=reason))
    cost = sol.cost
    preferences = _preference_cost(sol)
    breakdown = CostBreakdown(
        unassigned=cost.unassigned,
        lateness=cost.lateness,
        max_lateness=cost.max_lateness,
        earliness=cost.earliness,
        travel=cost.travel,
        preferences=preferences,
        continuity=float(cost.assignment - preferences),  # the assignment cost is the two together
        overtime=cost.overtime,
        waiting=cost.waiting,
        max_waiting=cost.max_waiting,
        past_shift_end=cost.past_shift_end,
        total=cost.total,
    )
    return Plan(
        problem=problem.name,
        routes=routes,
        unassigned=unassigned,
        kpis=_kpis(sol),
        cost=breakdown,
        solver=solver_info or SolverInfo(),
    )


@contextmanager
def collections_paused() -> Iterator[None]:
    """Garbage collection paused: building tens of thousands of small models at once sets
    off collections that walk them all again and again (0.5 s of 1.3 s when a day of
    100,000 visits is cut short), and a replan of a council day, which a coordinator
    waits for, lost a tenth of a second to each. What is built holds no cycles that
    matter; reference counting frees it, and a collection catches the rest later."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pairs(sol: Solution) -> zip[tuple[int, int]]:
    """(visit, carer) of every task in a route, as Python ints (read one at a time)."""
    rows = np.flatnonzero(sol.route_of >= 0)
    return zip(sol.inst.task_visit[rows].tolist(), sol.route_of[rows].tolist(), strict=True)


def _preference_cost(sol: Solution) -> float:
    inst = sol.inst
    w = inst.problem.weights
    clients = {c.id: c for c in inst.problem.clients}
    total = 0.0
    for v, k in _pairs(sol):
        visit = inst.problem.visits[v]
        client = clients[visit.client]
        carer = inst.problem.carers[k]
        if client.gender_preference is not None and carer.gender != client.gender_preference:
            total += w.gender_preference
        if client.preferred_carers and carer.id not in client.preferred_carers:
            total += w.non_preferred_carer
    return total


def _kpis(sol: Solution) -> KPIs:
    inst = sol.inst
    problem = inst.problem
    n = inst.n_visits
    assigned = len(sol.assigned_visits())
    unassigned = sol.unassigned_visits()
    with_history = known = 0
    clients = {c.id: c for c in problem.clients}
    wait, wait_max, past_end = sol.time_costs()
    for v, k in _pairs(sol):
        client = clients[problem.visits[v].client]
        if client.historical_carers:
            with_history += 1
            known += problem.carers[k].id in client.historical_carers
    return KPIs(
        visits_total=n,
        visits_assigned=assigned,
        mandatory_unassigned=int(inst.visit_mandatory[unassigned].sum()),
        coverage=assigned / n if n else 1.0,
        travel_minutes=float(sol.travel.sum()),
        total_lateness=float(sol.late.sum()),
        max_lateness=sol.max_lateness(),
        continuity=known / with_history if with_history else 1.0,
        overtime_minutes=float(np.maximum(0.0, sol.working - inst.contracted).sum()),
        working_minutes={problem.carers[k].id: float(sol.working[k]) for k in range(inst.n_carers) if sol.L[k] > 0},
        waiting_minutes=float(wait.sum()),
        max_wait_minutes=float(wait_max.max(initial=0.0)),
        waiting_by_carer={problem.carers[k].id: float(wait[k]) for k in range(inst.n_carers) if wait[k] > 0},
        past_shift_end_minutes=float(past_end.sum()),
        travel_estimated=inst.travel_estimated,
    )
