"""The service's in-memory caches hold a bounded amount: by count, and parsed days by
their weight, so a run of the largest days a service takes cannot fill its memory."""

from __future__ import annotations

from api import cache
from api.cache import Lru, problem_size
from carescheduler.scenarios.demo import demo_problem


def test_the_oldest_entries_go_when_the_weight_is_over_budget() -> None:
    lru = Lru(keep=16, weigh=len, budget=10)
    for key in "abc":
        lru.put(key, key * 4)
    assert lru.get("a", lambda: "rebuilt") == "rebuilt"  # a went to make room for c
    assert lru.weight() <= 10
    lru.put("huge", "x" * 50)  # the newest stays, alone, whatever it weighs
    assert lru.get("huge", lambda: "rebuilt") == "x" * 50
    assert lru.weight() == 50


def test_the_count_still_bounds_an_unweighed_cache() -> None:
    lru = Lru(keep=2)
    for key in "abc":
        lru.put(key, key)
    assert lru.get("a", lambda: "rebuilt") == "rebuilt"
    assert lru.weight() == 0


def test_parsed_days_are_weighed_by_their_entities() -> None:
    day = demo_problem(clients=10, carers=4)
    assert problem_size(day) == len(day.visits) + len(day.clients) + len(day.carers) + len(day.locations)
    held = cache.LatestPerDay(weigh=problem_size, budget=2 * problem_size(day))
    for n in range(5):
        held.put(("db", n, 1, None), day)
    assert held.weight() == 2 * problem_size(day)
    assert cache._problems._budget == cache.PROBLEM_BUDGET  # the service's days are weighed
