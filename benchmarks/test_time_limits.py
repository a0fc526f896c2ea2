"""Solves keep their time limit on the days that broke it (pytest-benchmark, with the tests).

    .venv/bin/python -m pytest benchmarks/test_time_limits.py

The quick cases of ``benchmarks/time_limits.py`` (two carers with 600 and 2,000 short
visits, and a day of 100,000 visits), each solved once with its time limit. The time of
the call is the benchmark; its overrun past the limit is kept in the benchmark's
``extra_info`` and must stay under ``OVERRUN_CEILING``. That is the product's promise
(a solve returns within its limit plus a small constant), set well above what a 2-core
machine measures (under 0.05 s, ``benchmarks/RESULTS.md``) so that only a phase that
stops looking at the clock fails it: before, these days overran by 5 s to 150 s.
"""

from __future__ import annotations

import pytest

from carescheduler.search.solver import solve
from carescheduler.validator import validate

from .time_limits import CASES, QUICK, crowded_day

OVERRUN_CEILING = 1.5
"""Seconds a solve may run past its time limit here (measured: under 0.05 s)."""


@pytest.mark.parametrize("case", [c for c in CASES if c.name in QUICK], ids=lambda c: c.name)
def test_a_solve_keeps_its_time_limit(benchmark, case) -> None:
    problem = crowded_day(case.visits, case.carers, case.clients, case.window_minutes)
    plan = benchmark.pedantic(solve, args=(problem,), kwargs={"time_limit": case.time_limit}, rounds=1)
    overrun = benchmark.stats.stats.max - case.time_limit
    benchmark.extra_info["overrun_seconds"] = round(overrun, 3)
    report = validate(problem, plan)
    assert report.valid, report.violations[:3]
    assert plan.kpis.visits_assigned > 0
    assert plan.kpis.visits_assigned + len(plan.unassigned) == len(problem.visits)
    assert overrun < OVERRUN_CEILING, f"{case.name}: {overrun:.2f} s past its {case.time_limit:g} s limit"
