"""Recommenders kept ready per plan (the published one, or a draft a move made), so a
coordinator's question, or a move, is answered in milliseconds rather than after compiling
the day again (half a second on a council day)."""

from __future__ import annotations

import threading

from carescheduler.day.moves import MoveResult
from carescheduler.day.recommend import Recommendation, Recommender
from carescheduler.plan import Plan

from .cache import Lru, day_key, plan_of, plan_problem
from .models import Day, PlanRow

KEEP = 8
"""Recommenders kept (each holds a compiled day)."""

MINUTES = 5
"""A Recommender is built for ``now`` rounded down to this many minutes."""


class SharedRecommender:
    """A Recommender answers one question at a time: requests take turns."""

    def __init__(self, recommender: Recommender):
        self._recommender = recommender
        self._turn = threading.Lock()

    def recommend(self, *args, **kwargs) -> Recommendation:
        with self._turn:
            return self._recommender.recommend(*args, **kwargs)

    def move(self, visit: str, carer: str, partner: str | None, since: Plan | None) -> MoveResult:
        with self._turn:
            return self._recommender.move(visit, carer, partner, since=since)


_cache = Lru(KEEP)


def recommender_for(day: Day, plan: PlanRow, now: float) -> SharedRecommender:
    """The Recommender for one of the day's plans (the published one, or a draft, on the
    day it was made for) at about ``now``."""
    key = (*day_key(day), plan.id, int(now // MINUTES))
    return _cache.get(key, lambda: SharedRecommender(Recommender(plan_problem(day, plan), plan_of(plan), now)))
