"""Recommenders kept ready per published plan, so a coordinator's question is answered in
milliseconds rather than after compiling the day again (half a second on a council day)."""

from __future__ import annotations

import threading

from carescheduler.day.recommend import Recommendation, Recommender

from .cache import Lru, day_key, plan_of, problem_of
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


_cache = Lru(KEEP)


def recommender_for(day: Day, plan: PlanRow, now: float) -> SharedRecommender:
    """The Recommender for the day's published plan at about ``now``."""
    key = (*day_key(day), plan.id, int(now // MINUTES))
    return _cache.get(key, lambda: SharedRecommender(Recommender(problem_of(day), plan_of(plan), now)))
