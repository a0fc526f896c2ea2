"""Parsed days and plans kept in memory, keyed by what identifies their content.

A day's problem is stored as the library's JSON (a few megabytes on a council day,
its travel matrices apart: ``travel_store``): parsing it on every phone's request would
take seconds. A day's content only changes with its version, its matrices hardly ever,
and a plan never changes, so each is parsed once per process and the carers' views of
a published plan are built once.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import object_session

from carescheduler import Plan, Problem

from . import travel_store
from .models import Day, PlanRow

T = TypeVar("T")
KEEP = 16
PROBLEM_BUDGET = 120_000
"""Parsed days held per process, in entities (visits, clients, carers, places): about
300 MB (a council day of 5,000 visits is 9,700 entities and 24 MB parsed), so a run of
the largest days a service takes (``day_max``) cannot fill the server's memory."""


def problem_size(problem: Problem) -> int:
    """What a parsed day weighs in the cache: its entities, which its memory follows."""
    return len(problem.visits) + len(problem.clients) + len(problem.carers) + len(problem.locations)


class Lru:
    """A small least-recently-used map, safe across request threads: at most ``keep``
    entries and, given ``weigh``, at most ``budget`` of their total weight (the newest
    entry is kept whatever it weighs)."""

    def __init__(self, keep: int = KEEP, weigh: Callable[[Any], int] | None = None, budget: int = 0):
        self._items: OrderedDict = OrderedDict()
        self._weights: dict = {}
        self._lock = threading.Lock()
        self._keep = keep
        self._weigh = weigh
        self._budget = budget

    def get(self, key, build: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        self.put(key, value)
        return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if self._weigh is not None:
                self._weights[key] = self._weigh(value)
            while len(self._items) > self._keep or (
                self._weigh is not None and len(self._items) > 1 and sum(self._weights.values()) > self._budget
            ):
                old, _ = self._items.popitem(last=False)
                self._weights.pop(old, None)

    def weight(self) -> int:
        """The total weight held (0 without ``weigh``)."""
        with self._lock:
            return sum(self._weights.values())


class LatestPerDay(Lru):
    """An ``Lru`` keyed ``(database, day id, ...)`` that keeps one entry per day: a day's
    new version replaces the old one at once, rather than a council day's versions piling
    up (each is tens of thousands of objects for the garbage collector to walk).

    What it keeps lives long, so it is moved out of the collector's sight
    (``gc.freeze``): without that, parsing a council day's new version set off full
    collections over every problem held, several tenths of a second each. Frozen objects
    are still freed by reference counting when dropped (pydantic models hold no cycles)."""

    def put(self, key, value) -> None:
        with self._lock:
            for old in [k for k in self._items if k[:2] == key[:2] and k != key]:
                del self._items[old]
                self._weights.pop(old, None)
        super().put(key, value)
        gc.freeze()


_problems = LatestPerDay(weigh=problem_size, budget=PROBLEM_BUDGET)
_plans = Lru()
_views = LatestPerDay()
_travel = Lru(keep=4)


def _database(row: Day | PlanRow) -> str:
    """Which database a row came from (a process may serve more than one, as tests do)."""
    session = object_session(row)
    assert session is not None, "rows are cached while their session is open (their problem or plan loads lazily)"
    return str(session.get_bind().engine.url)


def day_key(day: Day) -> tuple:
    return _database(day), day.id, day.version, day.updated_at


def problem_of(day: Day) -> Problem:
    return _problems.get(day_key(day), lambda: _load(day))


def _load(day: Day) -> Problem:
    key = day.travel_key
    if key is None:
        return Problem.model_validate_json(day.problem)
    session = object_session(day)
    assert session is not None, "a day's problem loads while its session is open"
    travel = _travel.get((_database(day), key), lambda: travel_store.matrices(session, key))
    return travel_store.load(session, day.problem, key, travel)


def plan_problem(day: Day, row: PlanRow) -> Problem:
    """The day a plan is valid for: a draft's own (a replan's or a move's), else the day's.
    A draft's is parsed each time (it is asked for once, to build a Recommender); its
    matrices are the day's, held once."""
    if row.id == day.published_plan_id:  # publishing made its problem the day's
        return problem_of(day)
    return stored_problem(day, row)


def stored_problem(day: Day, row: PlanRow) -> Problem:
    """The problem stored with a plan, if any, else the day's (for a published plan whose
    day was replaced since: the day the plan was made for, not the day as it is now)."""
    if row.problem is None:
        return problem_of(day)
    if row.travel_key is None:
        return Problem.model_validate_json(row.problem)
    session = object_session(row)
    assert session is not None, "a plan's problem loads while its session is open"
    key = row.travel_key
    travel = _travel.get((_database(row), key), lambda: travel_store.matrices(session, key))
    return travel_store.load(session, row.problem, key, travel)


def plan_of(row: PlanRow) -> Plan:
    return _plans.get((_database(row), row.id, row.created_at), lambda: Plan.model_validate_json(row.plan))


def remember(day: Day, problem: Problem, row: PlanRow, plan: Plan) -> None:
    """Keep a day's problem and a plan this process has just written (flushed, so that
    their keys are final): the next job on the day need not parse them back."""
    _problems.put(day_key(day), problem)
    if day.travel_key is not None:
        _travel.put((_database(day), day.travel_key), problem.travel)
    remember_plan(row, plan)


def remember_plan(row: PlanRow, plan: Plan) -> None:
    """Keep a plan this process has just written (flushed): it need not be parsed back."""
    _plans.put((_database(row), row.id, row.created_at), plan)


def carer_views(day: Day, row: PlanRow, build: Callable[[Problem, Plan], dict]) -> dict:
    """``build(problem, plan)`` (carer -> their day) once per day version and plan."""
    return _views.get((*day_key(day), row.id), lambda: build(problem_of(day), plan_of(row)))
