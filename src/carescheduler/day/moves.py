"""Moving a visit to another carer: a coordinator's choice, applied to the day.

On the coordinator's board a visit is dragged onto another carer's row, or one of the
options "who can take this?" offered is clicked. ``Recommender.move`` (``move_visit`` is
the one-off form) gives the visit to that carer, and to a partner for a double-handed
visit (the cheapest one unless named), at the cheapest place in their day that still
re-times to a valid day. Everything else stays where it was; only the visits after it
in its new carers' days may start later. A move follows the rules of the live day, as a
recommendation does: what already happened stays, nothing starts before now, a planned
visit does not start earlier than it was planned, and a visit about to start
(``ReplanSettings.freeze_minutes``) stays with its carer.

The answer is a whole plan of the day on its real objective, the day it is valid for
(what already happened pinned, as after a replan) and what changed for whom. A carer who
cannot take the visit is refused (``MoveRefused``) with the reason a recommendation gives
for them. The Recommender itself is not changed: it answers further questions after.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..domain import Problem, Visit
from ..errors import InputError
from ..params import SolveParams
from ..plan import Plan, SolverInfo, UnassignedVisit, carer_changes, natural_key, starts_by_carer
from ..search import pricing
from ..search.instance import INF, Instance
from ..search.reasons import window_text
from ..search.records import TaskPrices
from ..search.solution import Solution
from ..search.solver import plan_from_solution
from .apply import DayUpdate
from .live import LiveDay
from .recommend import BEFORE_THE_DAY, Placement, Recommender, _pair_places, _retimed
from .replan import PlanChanges, _finalise

__all__ = ["MoveRefused", "MoveResult", "move_visit"]

MOVE_TRIALS = 1000
"""Re-timings of the whole day one move may take to find the cheapest place."""


class MoveRefused(InputError):
    """A move the day does not allow: ``field`` is ``carer`` or ``partner`` (they cannot
    take the visit, for the reason a recommendation gives) or ``visit`` (it has started)."""


@dataclass
class MoveResult:
    problem: Problem
    """The day the plan is valid for: what already happened at ``now`` pinned to its carers."""
    plan: Plan
    changes: PlanChanges
    """Against the plan the move started from, or the plan given as ``since``."""
    seconds: float


def move_visit(
    problem: Problem,
    plan: Plan,
    visit: str,
    carer: str,
    now: float | str | None = None,
    *,
    partner: str | None = None,
    since: Plan | None = None,
    params: SolveParams | None = None,
) -> MoveResult:
    """Give ``visit`` to ``carer`` (and ``partner``) in the published ``plan`` at ``now``:
    the one-off form of ``Recommender.move``."""
    return Recommender(problem, plan, now, params).move(visit, carer, partner, since=since)


def move_on(rec: Recommender, visit_id: str, carer_id: str, partner_id: str | None, since: Plan | None) -> MoveResult:
    """``Recommender.move``: the visit's cheapest valid place with the carer(s), written
    out as a plan. Works on copies of the Recommender's day."""
    started = time.monotonic()
    v, k, mate = _look_up(rec, visit_id, carer_id, partner_id)
    inst, problem = rec._inst, rec.problem
    visit = problem.visits[v]
    tasks = [int(t) for t in inst.visit_tasks[v] if t >= 0]
    holders = [problem.carers[int(rec._sol.route_of[t])].id for t in tasks if rec._sol.route_of[t] >= 0]
    if rec._facts[tasks].any():
        raise MoveRefused("visit", f"visit {visit_id} has already started; it stays with {' and '.join(holders)}")
    wanted = {carer_id} if mate is None else {carer_id, problem.carers[mate].id}
    if carer_id in holders and (len(tasks) == 1 or mate is None or wanted == set(holders)):
        who = " and ".join(sorted(wanted, key=natural_key))
        more = " (name a partner to change the other carer)" if len(tasks) == 2 and mate is None else ""
        raise MoveRefused("carer", f"{who} already {'has' if len(wanted) == 1 else 'have'} visit {visit_id}{more}")
    sol = rec._sol.copy()
    if sol.visit_assigned(v):
        sol.remove_visit(v)
        sol.refresh()
    if len(tasks) == 1:
        places: Iterator[Placement] = _every_place(sol, tasks[0], k)
    else:
        partners = [mate] if mate is not None else _likely_partners(rec, sol, tasks, k)
        places = _pair_places(sol, tasks, k, partners)
    trial = sol.copy()
    for _, placement in sorted(_retimed(sol, places, MOVE_TRIALS), key=lambda item: item[0]):
        trial.copy_from(sol)
        for t, c, p in placement:
            trial.insert(t, c, p)
        if trial.refresh():
            written = _written(rec, trial, visit_id, since, started)
            if written is not None:
                return written
    raise _refusal(rec, visit, tasks, k, mate)


def _look_up(rec: Recommender, visit_id: str, carer_id: str, partner_id: str | None) -> tuple[int, int, int | None]:
    """The visit's and carers' indices; an ``InputError`` naming the field for an id the
    day does not know or a partner that does not fit the visit."""
    v = rec._visit_index.get(visit_id)
    if v is None:
        raise InputError("visit", f"unknown visit {visit_id!r}")
    carers = {c.id: k for k, c in enumerate(rec.problem.carers)}
    if carer_id not in carers:
        raise InputError("carer", f"unknown carer {carer_id!r}")
    if partner_id is None:
        return v, carers[carer_id], None
    if rec.problem.visits[v].carers_needed == 1:
        raise InputError("partner", f"visit {visit_id} needs one carer, not a partner")
    if partner_id not in carers:
        raise InputError("partner", f"unknown carer {partner_id!r}")
    if partner_id == carer_id:
        raise InputError("partner", f"is {carer_id} again: a double-handed visit needs two carers")
    return v, carers[carer_id], carers[partner_id]


def _every_place(sol: Solution, t: int, k: int) -> Iterator[Placement]:
    """Every position in carer k's day for a single-handed task."""
    if sol.inst.eligible[t, k] and sol.room(k):
        for p in range(int(sol.L[k]) + 1):
            yield [(t, k, p)]


def _likely_partners(rec: Recommender, sol: Solution, tasks: list[int], k: int) -> list[int]:
    """The carers most likely to make the cheapest pair with carer k, by the compiled
    pricing of each part alone (the visit's pinned carer only, if it has one)."""
    inst = sol.inst
    pin = int(inst.task_pin[tasks[0]])
    if pin >= 0 and pin != k:
        return [pin]
    K = inst.n_carers
    day, costs, work = inst.arrays(), inst.costs(), sol.scratch()
    carers = np.arange(K, dtype=np.int64)
    cheapest = np.full(K, INF)
    for t in tasks:
        prices = TaskPrices(t, np.full(K, INF), np.full(K, -1, dtype=np.int64), np.full(K, INF))
        pricing.single_costs(day, costs, sol.arrays, work, prices, carers, sol.max_lateness())
        cheapest = np.minimum(cheapest, prices.cost)
    able = [int(c) for c in np.flatnonzero(inst.eligible[tasks].any(axis=0)) if c != k]
    return sorted(able, key=lambda c: cheapest[c])[: rec._params.construction.pair_candidates]


# --- the answer ------------------------------------------------------------------------------


def _written(rec: Recommender, trial: Solution, visit_id: str, since: Plan | None, started: float) -> MoveResult | None:
    """The re-timed day as a plan on the day's real objective (None if that breaks a rule
    the live day's model did not see, which the caller takes as no place)."""
    N = rec._inst.travel.shape[1] - 1  # the spare-room copy has one more place
    base = dataclasses.replace(rec._base, travel=np.ascontiguousarray(rec._inst.travel[:, :N, :N]))
    update = dataclasses.replace(rec._update, warnings=list(rec._update.warnings))  # _finalise may add some
    sol = _in_real_rows(trial, base)
    day = LiveDay(update, base, base, rec._old, sol, set(), rec._relaxed)
    final, problem = _finalise(day, sol)
    if not final.feasible:
        return None
    plan = plan_from_solution(final, SolverInfo(status="move", now=rec.now if rec.now > BEFORE_THE_DAY else None))
    # A move applies no events, so no carer is away: of replan's reasons only a window
    # passed unstarted applies (asked per visit, as replan's would cost a look through
    # the whole plan for each of a council day's hundreds of unassigned visits).
    plan.unassigned = [
        UnassignedVisit(visit=u.visit, reason=update.missed.get(u.visit, u.reason)) for u in plan.unassigned
    ]
    changes = _changes(update, plan, since, visit_id, rec._params.replan.tolerance_minutes)
    seconds = time.monotonic() - started
    plan.solver.seconds = round(seconds, 3)
    return MoveResult(problem=problem, plan=plan, changes=changes, seconds=seconds)


def _in_real_rows(sol: Solution, base: Instance) -> Solution:
    """``sol`` (on the Recommender's copy, two spare task rows longer) on the day's own
    rows: same routes, times, breaks and figures."""
    T = base.n_tasks
    out = Solution(base)
    out.replace_routes({k: sol.route(k) for k in range(base.n_carers) if sol.L[k]})
    for name in ("start", "lb", "hold", "late", "early"):
        getattr(out, name)[...] = getattr(sol, name)[:T]
    for name in ("brk", "working", "travel"):
        getattr(out, name)[...] = getattr(sol, name)
    out.feasible = sol.feasible
    return out


def _changes(update: DayUpdate, plan: Plan, since: Plan | None, visit_id: str, tolerance: float) -> PlanChanges:
    """Per carer what the move changed against ``since`` (or the plan it started from),
    and the other visits that changed carer or moved beyond the tolerance."""
    before: dict[str, dict[str, float]] = {}
    if since is None:
        for (v, _), (carer, start) in update.placed.items():
            before.setdefault(carer, {})[v] = start
    else:
        before = starts_by_carer(since)
    after = starts_by_carer(plan)
    happened = {v for v, _ in update.happened}

    def carers_of(starts: dict[str, dict[str, float]]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for carer, visits in starts.items():
            for v in visits:
                out.setdefault(v, set()).add(carer)
        return out

    was, now = carers_of(before), carers_of(after)
    moved = [
        v
        for v, carers in was.items()
        if v != visit_id
        and v not in happened
        and (
            now.get(v, set()) != carers
            or any(abs(after[c][v] - before[c][v]) > tolerance + 1e-9 for c in carers & now.get(v, set()))
        )
    ]
    return PlanChanges(
        carers=carer_changes(before, after, tolerance, unchanged=happened),
        moved_visits=sorted(moved, key=natural_key),
        unassigned=list(plan.unassigned),
        warnings=list(update.warnings),
    )


def _refusal(rec: Recommender, visit: Visit, tasks: list[int], k: int, mate: int | None) -> MoveRefused:
    """Why the carer (or the partner) cannot take the visit: the reason a recommendation
    gives for them, or, where each could take it alone, that they cannot together."""
    reasons = {u.carer: u for u in rec._why_not(rec.problem, visit, tasks, set(), {})}
    carer = rec.problem.carers[k].id
    mine = reasons[carer]
    passed = visit.window.end is not None and visit.window.end < rec.now
    if mate is None or mine.code != "time" or passed:
        return MoveRefused("carer", mine.reason)
    partner = rec.problem.carers[mate].id
    if reasons[partner].code != "time":
        return MoveRefused("partner", reasons[partner].reason)
    return MoveRefused(
        "carer",
        f"{carer} and {partner} cannot both fit it in {window_text(visit)} without breaking a window, "
        f"shift, break or working-time limit{rec._not_earlier(visit, tasks)}",
    )
