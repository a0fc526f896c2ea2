"""Searching on several cores (``workers > 1``): forked searches pooling their best plan.

The pooled plan must be as valid as a one-core plan, a fixed iteration budget must give
the same plan every time, and a worker process that fails or hangs must neither be
hidden nor hold the solve past its time limit.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from hypothesis import given, settings

from carescheduler.params import ParallelParams, SolveParams
from carescheduler.scenarios.demo import demo_problem
from carescheduler.search import parallel
from carescheduler.search.insertion import insert_visits
from carescheduler.search.instance import compile_problem
from carescheduler.search.solution import Solution
from carescheduler.search.solver import solve
from problem_factory import assert_valid
from test_solver_properties import PROPERTY_SETTINGS, problems

pytestmark = pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(), reason="worker processes are forked"
)


def _routes(plan):
    return [[(v.visit, v.part) for v in r.visits] for r in plan.routes]


@pytest.fixture(scope="module")
def day():
    # more than the whole-day CP-SAT threshold, so the plan is the pooled search's
    return demo_problem(clients=30, carers=10, seed=3)


def test_two_workers_give_a_valid_plan_that_repeats_for_a_fixed_budget(day) -> None:
    first = solve(day, time_limit=60, seed=5, workers=2, max_iterations=120)
    second = solve(day, time_limit=60, seed=5, workers=2, max_iterations=120)
    assert_valid(day, first)
    assert _routes(first) == _routes(second)
    assert first.cost.total == second.cost.total
    # both processes' iterations are counted
    assert first.solver.iterations > 120


def test_a_repeatable_runs_rounds_end_by_iterations_not_the_clock(day, monkeypatch) -> None:
    """A round cut by the clock (a searcher slowed by compiling its kernels, a loaded node)
    would stop at another iteration and give another plan: in a repeatable run every
    round, this process's and the helpers', may run to the solve's deadline."""
    real = parallel.large_neighbourhood_search
    own: list[float] = []
    sent: list[float] = []
    send = parallel._Helper.send

    def noting(sol, deadline, *args, **kwargs):
        own.append(deadline)
        return real(sol, deadline, *args, **kwargs)

    def send_noting(helper, message):
        sent.append(message[2])  # the round's end the helper is given
        send(helper, message)

    monkeypatch.setattr(parallel, "large_neighbourhood_search", noting)
    monkeypatch.setattr(parallel._Helper, "send", send_noting)
    called = time.monotonic()
    solve(day, time_limit=60, seed=5, workers=2, max_iterations=120)
    assert len(own) == parallel.rounds_for(None, 120) > 1
    assert len(set(own)) == 1 and sent == own  # one end for every round: the deadline
    assert called + 59 < own[0] <= time.monotonic() + 60


def test_pooled_search_is_no_worse_than_its_start_and_keeps_the_helpers_work(day) -> None:
    inst = compile_problem(day)
    sol = Solution(inst)
    sol.refresh()
    insert_visits(sol, np.arange(inst.n_visits), np.random.default_rng(0))
    start_cost = sol.total
    best, iterations, _ = parallel.parallel_search(
        sol, time.monotonic() + 60, seed=1, processes=3, params=SolveParams(), max_iterations=60
    )
    assert best.refresh() and best.total <= start_cost
    assert iterations >= 3 * 60 - 3  # three searches, each about its share of every round


def test_a_failing_worker_process_is_reported(day, monkeypatch) -> None:
    parent = os.getpid()
    real = parallel.large_neighbourhood_search

    def fails_in_a_worker(*args, **kwargs):
        if os.getpid() != parent:
            raise ValueError("boom in the worker")
        return real(*args, **kwargs)

    monkeypatch.setattr(parallel, "large_neighbourhood_search", fails_in_a_worker)
    with pytest.raises(RuntimeError, match="boom in the worker"):
        solve(day, time_limit=30, seed=0, workers=2, max_iterations=40)


def test_a_hung_worker_is_given_up_and_the_time_limit_kept(day, monkeypatch) -> None:
    """The solve waits for a worker no later than its time limit plus the grace, then stops
    it: checked on the deadlines the solve sets, not on a stopwatch."""
    parent = os.getpid()
    real = parallel.large_neighbourhood_search

    def hangs_in_a_worker(*args, **kwargs):
        if os.getpid() != parent:
            time.sleep(3600)  # stands for a worker that never answers
        return real(*args, **kwargs)

    waited_until: list[float] = []
    stopped: list = []
    receive, stop = parallel._Helper.receive, parallel._Helper.stop

    def receive_noting(helper, until):
        waited_until.append(until)
        return receive(helper, until)

    def stop_noting(helper):
        stop(helper)
        stopped.append(helper.process)

    monkeypatch.setattr(parallel, "large_neighbourhood_search", hangs_in_a_worker)
    monkeypatch.setattr(parallel._Helper, "receive", receive_noting)
    monkeypatch.setattr(parallel._Helper, "stop", stop_noting)
    called = time.monotonic()
    plan = solve(day, time_limit=3, seed=0, workers=2, params=SolveParams(parallel=ParallelParams(grace_seconds=0.5)))
    assert_valid(day, plan)
    assert waited_until and max(waited_until) <= called + 3 + 0.5  # the limit and the grace, no more
    assert stopped and not any(process.is_alive() for process in stopped)  # and the hung worker is gone


def test_rounds_follow_the_run_length() -> None:
    assert parallel.rounds_for(0.5, None) == 1
    assert parallel.rounds_for(60, None) == 6
    assert parallel.rounds_for(600, None) == 40  # rounds last at most 15 s
    assert parallel.rounds_for(None, 10) == 1
    assert parallel.rounds_for(None, 1000) == 6


@settings(max_examples=25, **PROPERTY_SETTINGS)
@given(problem=problems())
def test_pooled_plans_pass_the_validator(problem) -> None:
    plan = solve(problem, time_limit=2, seed=0, workers=2, max_iterations=40)
    assert_valid(problem, plan)
