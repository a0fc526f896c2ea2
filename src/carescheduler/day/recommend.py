"""Recommendations: who could take a visit, where in their day, and at what cost.

For a new or unassigned visit a coordinator wants the few best carers, each with the
place in their day the visit would take, its start and what it adds to the plan's cost,
and for every other carer the reason they cannot (skill, gender, ban, shift, pins, or
no room in their day). Pricing is the search's fast insertion evaluation; each option
offered is then checked by re-timing the routes the visit moves (``refresh_inserted``).
No CP-SAT call.

``Recommender`` keeps one published day ready (compiled at ``now``, the plan loaded,
spare room for one new visit at one new place), so each question costs milliseconds;
``recommend`` is the one-off form. A Recommender answers one question at a time.
``Recommender.move`` applies a choice (``moves``): the visit given to a carer, as a new plan.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..domain import Client, Location, Problem, Visit
from ..errors import InputError, describe_validation_error
from ..params import SolveParams
from ..plan import Plan, format_minutes
from ..search import pricing
from ..search.instance import INF, MODES, Instance, TaskLookups, compile_tasks, fits_a_shift
from ..search.pricing import GRANULAR_SLACK
from ..search.reasons import CarerObstacles, window_text
from ..search.records import PairPrices, TaskPrices
from ..search.solution import Solution
from ..search.solver import collections_paused
from ..travel.estimate import PlaceCoordinates, estimate_new_places
from .live import LiveDay, live_day

if TYPE_CHECKING:
    from .moves import MoveResult

__all__ = ["CarerOption", "CarerUnavailable", "Recommendation", "Recommender", "VisitRequest", "recommend"]

Placement = list[tuple[int, int, int]]
"""Where a visit would go: (task, carer, position) for each of its one or two parts."""

EXACT_TRIALS = 200
"""Re-timings of the whole day one question may take where the compiled pricing finds no place."""

BEFORE_THE_DAY = -1.0e9
"""The ``now`` of a day not yet started: nothing has happened and nothing is held."""

Obstacle = Literal["skill", "gender", "banned", "shift", "pinned", "time", "costlier"]


class VisitRequest(BaseModel):
    """What to find carers for: a visit of the day (by id) or a new visit, with its new
    client (and their home, if it is a new place) when the client is new too."""

    model_config = ConfigDict(extra="forbid")

    visit: Visit | str
    client: Client | None = None
    location: Location | None = None

    @classmethod
    def from_data(cls, data: object) -> VisitRequest:
        """A request, or a bare visit object."""
        if isinstance(data, dict) and "visit" not in data:
            data = {"visit": data}
        return cls.model_validate(data)


class CarerOption(BaseModel):
    """One way to fit the visit in: the carer, where in their day, and what it costs."""

    carer: str
    partner: str | None = Field(default=None, description="the second carer, for a double-handed visit")
    position: int = Field(description="the visit's place in the carer's day (0: first)")
    after: str | None = Field(default=None, description="the visit it follows (none: the day's first)")
    start: float
    cost_delta: float = Field(
        description="what the plan's cost rises by, including later starts it causes for visits already planned"
    )
    travel_delta: float = Field(description="extra travel minutes (of both carers for a double-handed visit)")


class CarerUnavailable(BaseModel):
    """Why a carer is not among the options."""

    carer: str
    code: Obstacle
    reason: str


class Recommendation(BaseModel):
    visit: str
    options: list[CarerOption] = Field(default_factory=list, description="cheapest first")
    unavailable: list[CarerUnavailable] = Field(default_factory=list, description="every other carer, with why")


def recommend(
    problem: Problem,
    plan: Plan,
    visit: Visit | str | VisitRequest,
    top: int = 5,
    now: float | str | None = None,
    *,
    client: Client | None = None,
    location: Location | None = None,
) -> Recommendation:
    """The ``top`` carers for ``visit`` (an id in the day, or a new visit; ``client`` and
    ``location`` when it is for a new client) given the published ``plan`` at ``now``."""
    return Recommender(problem, plan, now).recommend(visit, top, client=client, location=location)


class Recommender:
    """A published day kept ready for recommendations."""

    def __init__(self, problem: Problem, plan: Plan, now: float | str | None = None, params: SolveParams | None = None):
        self._params = params or SolveParams()
        day = live_day(problem, plan, [], BEFORE_THE_DAY if now is None else now, self._params.replan)
        self.problem = day.update.problem
        self.now = day.update.now
        self._visit_index = {v.id: i for i, v in enumerate(self.problem.visits)}
        self._facts = day.old.facts
        self._held = _held_by_plan(day, self._params.replan.freeze_minutes)
        # What a move needs to write a plan on the day's real objective (``moves``). The
        # real model is kept without its travel, which the spare-room copy holds: a
        # council day's matrices are tens of megabytes.
        self._update, self._old, self._relaxed = day.update, day.old, day.relaxed
        self._base = dataclasses.replace(day.base, travel=np.zeros((day.base.travel.shape[0], 0, 0)))
        self._inst = _with_spare_room(day.model)
        self._sol = Solution(self._inst)
        self._sol.replace_routes({k: day.solution.route(k) for k in range(day.model.n_carers)})
        self._sol.refresh()
        self._without = self._sol.copy()  # the plan without a planned visit asked about
        self._trial = self._sol.copy()  # work space for checking options
        self._lookups = TaskLookups.of(self.problem)
        self._places = PlaceCoordinates.of(self.problem.locations)

    # -- the question ---------------------------------------------------------------------
    def move(self, visit: str, carer: str, partner: str | None = None, *, since: Plan | None = None) -> MoveResult:
        """Give ``visit`` (an id of the day) to ``carer`` (with ``partner``, or the cheapest
        one, for a double-handed visit) at the cheapest place in their day: the new plan,
        the day it is valid for and what changed against ``since`` (by default the plan
        this Recommender holds). Raises ``moves.MoveRefused`` with the reason a
        recommendation gives when they cannot take it. This Recommender is not changed."""
        from .moves import move_on  # moves builds on this module's pricing

        return move_on(self, visit, carer, partner, since)

    def recommend(
        self,
        visit: Visit | str | VisitRequest | dict,
        top: int = 5,
        *,
        client: Client | None = None,
        location: Location | None = None,
    ) -> Recommendation:
        """The ``top`` options for a visit of the day (its id) or a new visit (a Visit,
        a VisitRequest, or either as JSON-like data)."""
        if isinstance(visit, dict):
            try:
                visit = VisitRequest.from_data(
                    visit
                    if client is None and location is None
                    else {"visit": visit, "client": client, "location": location}
                )
            except ValidationError as error:
                raise describe_validation_error(error) from None
        if isinstance(visit, VisitRequest):
            request = visit
            visit, client, location = request.visit, request.client, request.location
        if top < 1:
            raise InputError("top", f"must be at least 1, got {top}")
        with collections_paused():  # a coordinator waits for it: collect afterwards
            if isinstance(visit, str):
                return self._for_planned_visit(visit, top)
            return self._for_new_visit(visit, top, client, location)

    def _for_planned_visit(self, visit_id: str, top: int) -> Recommendation:
        v = self._visit_index.get(visit_id)
        if v is None:
            raise InputError("visit", f"unknown visit {visit_id!r}")
        tasks = [int(t) for t in self._inst.visit_tasks[v] if t >= 0]
        if self._facts[tasks].any():
            raise InputError("visit", f"visit {visit_id} has already started")
        sol = self._sol
        if sol.visit_assigned(v):  # the alternatives to where it is now
            sol = self._without
            sol.copy_from(self._sol)
            sol.remove_visit(v)
            sol.refresh_removed()
        penalty = float(self._inst.visit_penalty[v])
        return self._answer(self.problem, self.problem.visits[v], tasks, sol, penalty, top)

    def _for_new_visit(
        self, visit: Visit, top: int, client: Client | None, location: Location | None
    ) -> Recommendation:
        problem = self._with_client(visit, client, location)
        lookups = self._lookups if client is None else self._lookups.with_client(client, location)
        inst = self._inst
        T, V, N = inst.n_tasks - 2, inst.n_visits - 1, len(self.problem.locations)
        rows = compile_tasks(problem, [visit], first_task=T, lookups=lookups)
        n = rows.n_tasks
        spare = slice(T, T + n)
        for name in (
            "task_part",
            "task_loc",
            "task_dur",
            "task_release",
            "task_latest",
            "task_tgt_start",
            "task_tgt_end",
            "task_partner",
            "task_gap_min",
            "task_gap_max",
            "task_pin",
            "eligible",
            "assign_cost",
        ):
            getattr(inst, name)[spare] = getattr(rows, name)
        inst.eligible[T + n : T + 2] = False
        inst.visit_tasks[V] = rows.visit_tasks[0]
        if location is not None:
            places = self._places.plus([location])
            for m in range(inst.travel.shape[0]):
                out, back = estimate_new_places(problem, MODES[m], inst.travel[m, :N, :N], places)
                inst.travel[m, N, :] = out[0]
                inst.travel[m, :, N] = back[:, 0]
        # As for any open task of the live day: nothing before now, and only in a shift.
        release = np.maximum(inst.task_release[spare], self.now)
        inst.task_release[spare] = release
        inst.eligible[spare] &= fits_a_shift(
            inst.shift_start, inst.shift_end, release, inst.task_latest[spare], inst.task_dur[spare]
        )
        try:
            return self._answer(problem, visit, list(range(T, T + n)), self._sol, 0.0, top)
        finally:
            inst.eligible[T : T + 2] = False

    def _with_client(self, visit: Visit, client: Client | None, location: Location | None) -> Problem:
        """The day's problem, with the new client and place when the visit is for one."""
        problem = self.problem
        if visit.id in self._visit_index:
            raise InputError("visit.id", f"visit {visit.id!r} is already in the day; ask by its id instead")
        known = self._lookups.clients
        if client is None:
            if visit.client not in known:
                raise InputError("visit.client", f"unknown client {visit.client!r} (give the new client too)")
            if location is not None:
                raise InputError("location", "a new place is only for a new client")
            return problem
        if client.id in known:
            raise InputError("client.id", f"client {client.id!r} already exists")
        if visit.client != client.id:
            raise InputError("visit.client", f"is {visit.client!r}, not the new client {client.id!r}")
        places = self._lookups.locations
        if location is None:
            if client.location not in places:
                raise InputError("client.location", f"unknown location {client.location!r} (give it in location)")
            return problem.model_copy(update={"clients": [*problem.clients, client]})
        if location.id in places:
            raise InputError("location.id", f"location {location.id!r} already exists")
        if client.location != location.id:
            raise InputError("client.location", f"is {client.location!r} but the new place is {location.id!r}")
        if location.lat is None and location.x is None:
            raise InputError("location", f"new place {location.id!r} needs lat/lon (or x/y) to estimate travel")
        return problem.model_copy(
            update={"clients": [*problem.clients, client], "locations": [*problem.locations, location]}
        )

    # -- pricing ----------------------------------------------------------------------------
    def _answer(
        self, problem: Problem, visit: Visit, tasks: list[int], sol: Solution, penalty: float, top: int
    ) -> Recommendation:
        offer = _Offer(problem, self._inst, sol, penalty, top, self._trial)
        candidates = self._candidates(tasks, sol)
        offer.take(candidates)
        if len(offer.options) < top and len(tasks) == 1:
            # The compiled pricing looks only near the visit's target window: where that
            # found too few places, the other carers' places are re-timed one by one.
            priced = {k for _, placement in candidates for _, k, _ in placement}
            others = [k for k in range(self._inst.n_carers) if k not in priced]
            offer.take(_cheapest_per_carer(_retimed(sol, _single_places(sol, tasks[0], others), whole_day=False)))
        options = sorted(offer.options, key=lambda o: o.cost_delta)  # estimates chose them; re-timed costs order them
        in_options = {o.carer for o in options} | {o.partner for o in options if o.partner}
        return Recommendation(
            visit=visit.id,
            options=options,
            unavailable=self._why_not(problem, visit, tasks, in_options, offer.costlier),
        )

    def _candidates(self, tasks: list[int], sol: Solution) -> list[tuple[float, Placement]]:
        """Placements by their estimated cost: [(cost, [(task, carer, position), ...])]."""
        inst = self._inst
        K = inst.n_carers
        day, costs = inst.arrays(), inst.costs()
        carers = np.arange(K, dtype=np.int64)
        work = sol.scratch()
        cur_max = sol.max_lateness()
        priced: list[TaskPrices] = []
        for t in tasks:
            if priced and _twin_parts(inst, tasks[0], t):  # most double-handed visits: price once
                twin = priced[0]
                priced.append(TaskPrices(t, twin.cost.copy(), twin.position.copy(), twin.start.copy()))
                continue
            prices = TaskPrices(t, np.full(K, INF), np.full(K, -1, dtype=np.int64), np.full(K, INF))
            pricing.single_costs(day, costs, sol.arrays, work, prices, carers, cur_max)
            priced.append(prices)
        if len(tasks) == 1:
            by_carer, pos = priced[0].cost, priced[0].position
            return [
                (float(by_carer[k]), [(tasks[0], int(k), int(pos[k]))])
                for k in np.argsort(by_carer)
                if by_carer[k] < INF
            ]
        part0, part1 = priced
        t0, t1 = tasks
        c0, c1 = part0.cost, part1.cost
        pairs: dict[tuple[int, int], tuple[float, Placement]] = {}
        candidates = self._params.construction.pair_candidates
        leads = set(np.argsort(c0)[:candidates]) | set(np.argsort(c1)[:candidates])
        found: list[tuple[float, Placement]] = []
        for lead in sorted(int(k) for k in leads if min(c0[k], c1[k]) < INF):
            pair = PairPrices(part0, part1, lead, candidates)
            cost, k0, q0, k1, q1, _ = pricing.best_pair(day, costs, sol.arrays, work, pair, cur_max)
            if cost < INF and k0 >= 0:
                first, second = ((t0, k0, q0), (t1, k1, q1)) if k0 == lead else ((t1, k1, q1), (t0, k0, q0))
                found.append((float(cost), [(int(t), int(k), int(q)) for t, k, q in (first, second)]))
            else:
                # The compiled pricing turns down a pair whose pushes run into the other
                # part's route; re-timing the day finds whether such a pair works.
                others = [int(k) for k in np.argsort(np.minimum(c0, c1))[: candidates + 1] if k != lead]
                found += _retimed(sol, _pair_places(sol, tasks, lead, others), whole_day=False)
        for price, placement in found:
            a, b = placement[0][1], placement[1][1]
            key = (min(a, b), max(a, b))  # the same two carers, whoever leads
            if key not in pairs or price < pairs[key][0]:
                pairs[key] = (price, placement)
        return sorted(pairs.values(), key=lambda item: item[0])

    def _why_not(
        self, problem: Problem, visit: Visit, tasks: list[int], offered: set[str], costlier: dict[str, float]
    ) -> list[CarerUnavailable]:
        inst = self._inst
        client = self._lookups.clients.get(visit.client) or next(
            c
            for c in reversed(problem.clients)
            if c.id == visit.client  # a new client comes last
        )
        may: list[bool] = np.any(inst.eligible[tasks], axis=0).tolist()
        obstacle_of = CarerObstacles(visit, client, self._lookups)
        # The words that do not depend on the carer, written once for hundreds of carers.
        window, now = window_text(visit), format_minutes(self.now)
        after_now = f" after now ({now})" if self.now > BEFORE_THE_DAY else ""
        not_earlier = self._not_earlier(visit, tasks)
        passed = visit.window.end is not None and visit.window.end < self.now
        too_late = f"cannot start it in time: its window ({window}) has passed (now {now})"
        pinned = set(visit.pinned_carers)
        pinned_to = f"the visit is pinned to {', '.join(visit.pinned_carers)}"
        held = self._held.get(visit.id)
        held_by = (
            f"cannot take it: it starts within {self._params.replan.freeze_minutes:g} minutes of now "
            f"({now}), so it stays with {', '.join(held)}"
            if held
            else ""
        )
        no_shift = f"has no shift time left for it {window}{after_now}{not_earlier}"
        no_room = (
            f"cannot fit it in {window} without breaking a window, shift, break or working-time limit{not_earlier}"
        )
        out = []
        for k, carer in enumerate(problem.carers):
            if carer.id in offered:
                continue
            obstacle = None if passed else obstacle_of(k)
            if passed:
                code, words = "time", too_late
            elif obstacle is not None:
                code, words = obstacle
            elif pinned and carer.id not in pinned:
                code, words = "pinned", pinned_to
            elif held is not None and carer.id not in held:
                code, words = "pinned", held_by
            elif not may[k]:
                code, words = "shift", no_shift
            elif carer.id in costlier:
                code, words = "costlier", f"could take it, at a higher cost (about +{costlier[carer.id]:.1f})"
            else:
                code, words = "time", no_room
            out.append(CarerUnavailable(carer=carer.id, code=code, reason=f"{carer.id} {words}"))
        return out

    def _not_earlier(self, visit: Visit, tasks: list[int]) -> str:
        """A clause saying a planned visit does not start before its planned start (the live
        day keeps it so), when that is later than its window opens and now; else ''."""
        old = self._old
        planned = [float(old.kept_start[t]) for t in tasks if t < len(old.kept_carer) and old.kept_carer[t] >= 0]
        if not planned or min(planned) <= max(visit.window.start, self.now) + 1e-6:
            return ""
        return f" (not before {format_minutes(min(planned))}, its planned start: a planned visit does not move earlier)"


class _Offer:
    """The options offered so far: placements checked by re-timing the moved routes, the first
    ``top`` carers that can take the visit, and the carers that could at a higher cost."""

    def __init__(self, problem: Problem, inst: Instance, sol: Solution, penalty: float, top: int, trial: Solution):
        self.problem, self.inst, self.sol, self.top = problem, inst, sol, top
        self.trial = trial  # overwritten for each placement tried
        self.base_cost = sol.total - penalty
        self.base_travel = float(sol.travel.sum())
        self.options: list[CarerOption] = []
        self.offered: set[str] = set()
        self.costlier: dict[str, float] = {}

    def take(self, candidates: list[tuple[float, Placement]]) -> None:
        """Offer the candidates in turn (cheapest first) that re-time to a valid day."""
        problem, trial = self.problem, self.trial
        for cost, placement in candidates:
            carers = tuple(problem.carers[k].id for _, k, _ in placement)
            if len(self.options) >= self.top:
                for c in carers:
                    self.costlier.setdefault(c, cost)
                continue
            if carers[0] in self.offered:
                continue
            trial.copy_from(self.sol)
            for t, k, p in placement:
                trial.insert(t, k, p)
            if not _refreshed(trial, placement):
                continue
            t, k, _ = placement[0]
            route = trial.route(k)
            p = route.index(t)
            self.options.append(
                CarerOption(
                    carer=carers[0],
                    partner=carers[1] if len(carers) > 1 else None,
                    position=p,
                    after=problem.visits[self.inst.task_visit[route[p - 1]]].id if p > 0 else None,
                    start=float(trial.start[t]),
                    cost_delta=float(trial.total - self.base_cost),
                    travel_delta=float(trial.travel.sum() - self.base_travel),
                )
            )
            self.offered.add(carers[0])


def _refreshed(trial: Solution, placement: Placement, whole_day: bool = True) -> bool:
    """Re-time ``trial`` after ``placement`` was put into it: only the routes it moves
    (and, with ``whole_day``, the whole day when those cannot take it)."""
    tasks = np.array([t for t, _, _ in placement], dtype=np.int64)
    carers = np.array([k for _, k, _ in placement], dtype=np.int64)
    return trial.refresh_inserted(carers, tasks, whole_day)


def _retimed(
    sol: Solution, placements: Iterable[Placement], limit: int = EXACT_TRIALS, whole_day: bool = True
) -> list[tuple[float, Placement]]:
    """Placements of one visit priced by re-timing the routes they move (as the compiled
    pricing prices them: what the visit adds), those that break a rule left out. Slower
    than the compiled pricing, so at most ``limit`` of them. Without ``whole_day`` a
    placement the moved routes cannot take is left out without timing the whole day
    (where placing a break afresh might save it): for a recommendation's many tries."""
    inst = sol.inst
    trial = sol.copy()
    out: list[tuple[float, Placement]] = []
    for placement in itertools.islice(placements, limit):
        base = sol.total - inst.visit_penalty[inst.task_visit[placement[0][0]]]
        trial.copy_from(sol)
        for t, k, p in placement:
            trial.insert(t, k, p)
        if _refreshed(trial, placement, whole_day):
            out.append((float(trial.total - base), placement))
    return out


def _single_places(sol: Solution, task: int, carers: list[int]) -> Iterator[Placement]:
    """Every place near its window for a single-handed task on each of ``carers``."""
    for k in carers:
        if sol.inst.eligible[task, k] and sol.room(k):
            for p in _positions_near(sol, task, k):
                yield [(task, k, p)]


def _pair_places(sol: Solution, tasks: list[int], lead: int, others: list[int]) -> Iterator[Placement]:
    """Places near its window for a double-handed visit's two parts, one part on carer
    ``lead`` and the other on one of ``others`` (with the visit's pinned carer, if any)."""
    inst = sol.inst
    pin = int(inst.task_pin[tasks[0]])
    for mine, theirs in (tasks, tasks[::-1]):
        if not inst.eligible[mine, lead] or not sol.room(lead):
            continue
        for other in others:
            if not inst.eligible[theirs, other] or not sol.room(other) or (pin >= 0 and pin not in (lead, other)):
                continue
            for p in _positions_near(sol, mine, lead):
                for q in _positions_near(sol, theirs, other):
                    yield [(mine, lead, p), (theirs, other, q)]


def _twin_parts(inst: Instance, a: int, b: int) -> bool:
    """Whether two parts of a double-handed visit are alike in everything pricing one
    part alone reads (place, duration, window, target, pin, who may do it and at what
    cost), so that they price alike on every carer."""
    read = ("task_loc", "task_dur", "task_release", "task_latest", "task_tgt_start", "task_tgt_end", "task_pin")
    same = all(getattr(inst, name)[a] == getattr(inst, name)[b] for name in read)
    return same and bool(
        np.array_equal(inst.eligible[a], inst.eligible[b]) and np.array_equal(inst.assign_cost[a], inst.assign_cost[b])
    )


def _cheapest_per_carer(priced: list[tuple[float, Placement]]) -> list[tuple[float, Placement]]:
    best: dict[int, tuple[float, Placement]] = {}
    for cost, placement in priced:
        k = placement[0][1]
        if k not in best or cost < best[k][0]:
            best[k] = (cost, placement)
    return sorted(best.values(), key=lambda item: item[0])


def _positions_near(sol: Solution, t: int, k: int) -> range:
    """Positions of carer k's route near task t's window: from the last visit starting
    before it opens to the first starting after its latest start, and two either side."""
    inst = sol.inst
    starts = sol.start[sol.R[k, : sol.L[k]]]
    lo = int(np.searchsorted(starts, inst.task_release[t]))
    hi = int(np.searchsorted(starts, inst.task_latest[t], side="right"))
    return range(max(0, lo - GRANULAR_SLACK), min(len(starts), hi + GRANULAR_SLACK) + 1)


def _held_by_plan(day: LiveDay, freeze_minutes: float) -> dict[str, list[str]]:
    """Visits starting within the freeze of now, which the live day keeps with their
    carers (``live._disruption_model``): visit id -> those carers."""
    old, base = day.old, day.base
    away = day.update.unavailable_carers
    carers = day.update.problem.carers
    held: dict[str, list[str]] = {}
    for t in np.flatnonzero((old.kept_carer >= 0) & (old.kept_start < day.update.now + freeze_minutes)):
        carer = carers[old.kept_carer[t]].id
        if carer not in away:
            held.setdefault(day.update.problem.visits[base.task_visit[t]].id, []).append(carer)
    return held


def _with_spare_room(model: Instance) -> Instance:
    """A copy of the model with two unused task rows (one new visit) and one unused
    place, which a recommendation for a brand-new visit fills in."""
    T, V, N = model.n_tasks, model.n_visits, model.travel.shape[1]
    longest = float(model.task_dur.max(initial=1.0)) or 1.0  # keeps the route table as wide as before

    def grown(array: np.ndarray, fill, count: int = 2) -> np.ndarray:
        extra = np.full((count, *array.shape[1:]), fill, dtype=array.dtype)
        return np.concatenate([array, extra])

    travel = np.zeros((model.travel.shape[0], N + 1, N + 1))
    travel[:, :N, :N] = model.travel
    return dataclasses.replace(
        model,
        task_visit=grown(model.task_visit, V),
        task_part=np.concatenate([model.task_part, [0, 1]]),
        task_loc=grown(model.task_loc, N),
        task_dur=grown(model.task_dur, longest),
        task_release=grown(model.task_release, 0.0),
        task_latest=grown(model.task_latest, INF),
        task_tgt_start=grown(model.task_tgt_start, -INF),
        task_tgt_end=grown(model.task_tgt_end, INF),
        task_partner=grown(model.task_partner, -1),
        task_gap_min=grown(model.task_gap_min, 0.0),
        task_gap_max=grown(model.task_gap_max, 0.0),
        task_pin=grown(model.task_pin, -1),
        eligible=grown(model.eligible, False),
        assign_cost=grown(model.assign_cost, 0.0),
        visit_tasks=np.concatenate([model.visit_tasks, [[T, -1]]]),
        visit_penalty=grown(model.visit_penalty, 0.0, 1),
        visit_mandatory=grown(model.visit_mandatory, False, 1),
        travel=travel,
    )
