"""Speed benchmarks of the hot paths (pytest-benchmark): ``make bench``, not ``make test``.

Eight timings: building a first plan by regret insertion on a 100-visit day (Solomon C101),
one iteration of the large-neighbourhood search, the independent validator on a plan of
about 300 visits, and on that day a replan after an absence and a recommendation for a
new visit (``benchmarks/replan.py`` measures those two at council scale), a visit moved to
another carer and the coordinator's board rendered (``benchmarks/board_load.py`` times the
board in a browser on the council day), and the HTML report of that day. Each is run a
few rounds only (``benchmark.pedantic``) so the file takes a minute, and each also checks
its result, so a fast but wrong kernel fails too.

No test here asserts a time. ``make bench`` compares each benchmark's fastest round with
the stored baseline (``benchmarks/baselines/speed.json``, saved by ``make bench-baseline``
on a 2-core machine) and fails only when it is three times slower: a gross slowdown (an
accidental quadratic loop, a search iteration that suddenly costs tens of milliseconds),
not a busy machine. Finer comparisons are for two checkouts side by side (``farm-bench``,
``benchmarks/replan_side_by_side.py``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from carescheduler.formats import read_problem
from carescheduler.params import SearchParams, SolveParams
from carescheduler.scenarios.demo import demo_problem
from carescheduler.search.insertion import insert_visits
from carescheduler.search.instance import compile_problem
from carescheduler.search.lns import large_neighbourhood_search
from carescheduler.search.solution import Solution
from carescheduler.search.solver import plan_from_solution, solve
from carescheduler.validator import validate

C101 = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks" / "c101.txt.gz"


@pytest.fixture(scope="module")
def c101():
    problem = read_problem(C101)
    inst = compile_problem(problem)
    assert inst.n_visits == 100
    return problem, inst


def _construct(inst, seed: int = 0) -> tuple[Solution, list[int]]:
    rng = np.random.default_rng(seed)
    sol = Solution(inst)
    sol.refresh()
    left_out = insert_visits(sol, rng.permutation(inst.n_visits), rng, regret=2)
    return sol, left_out


@pytest.fixture(scope="module")
def constructed(c101):
    _, inst = c101
    sol, left_out = _construct(inst)  # also loads the compiled kernels before any timing
    assert not left_out
    return sol


def test_construction_c101(benchmark, c101):
    """Regret insertion of all 100 visits of C101 into an empty plan."""
    problem, inst = c101

    def fresh():
        rng = np.random.default_rng(0)
        sol = Solution(inst)
        sol.refresh()
        return (sol, rng.permutation(inst.n_visits), rng), {"regret": 2}

    results = []

    def construct(sol, order, rng, regret):
        results.append(sol)
        return insert_visits(sol, order, rng, regret=regret)

    left_out = benchmark.pedantic(construct, setup=fresh, rounds=5, warmup_rounds=1)
    sol = results[-1]
    assert left_out == []
    assert len(sol.unassigned_visits()) == 0
    assert sol.refresh()
    report = validate(problem, plan_from_solution(sol))
    assert report.valid, report.violations[:3]
    assert report.kpis.visits_assigned == 100
    assert report.cost.travel == pytest.approx(float(sol.travel.sum()), abs=1e-6)


def test_one_lns_iteration(benchmark, constructed):
    """One destroy-and-repair iteration of the search (no CP-SAT repair)."""
    before = constructed.total
    params = SolveParams(search=SearchParams(cpsat_every=0))

    def one_iteration():
        deadline = time.monotonic() + 3600.0
        return large_neighbourhood_search(constructed, deadline, np.random.default_rng(1), params, max_iterations=1)

    best, iterations, _ = benchmark.pedantic(one_iteration, rounds=20, warmup_rounds=1)
    assert iterations == 1
    assert constructed.total == before  # the search works on copies
    assert best.feasible
    assert len(best.unassigned_visits()) == 0
    assert best.total <= before + 1e-9  # the best plan never gets worse


@pytest.fixture(scope="module")
def care_day():
    """A demo day of about 300 visits, solved once (a fixed number of iterations)."""
    problem = demo_problem(clients=120, carers=40)
    plan = solve(problem, time_limit=60.0, seed=0, max_iterations=20)
    assert 250 <= len(problem.visits) <= 350
    return problem, plan


def test_validator_300_visits(benchmark, care_day):
    """The independent validator on a plan of about 300 visits."""
    problem, plan = care_day
    report = benchmark.pedantic(validate, args=(problem, plan), rounds=3, warmup_rounds=1)
    assert report.valid, report.violations[:3]
    assert report.cost.total == pytest.approx(plan.cost.total, abs=0.01)
    assert report.kpis.visits_assigned + len(plan.unassigned) == len(problem.visits)
    assert report.kpis.visits_assigned >= 250


def test_replan_an_absence_300_visits(benchmark, care_day):
    """Absorbing a carer's absence at 10:00 into the 300-visit day (time limit 1 s)."""
    from carescheduler.day.replan import replan

    problem, plan = care_day
    sick = max(plan.routes, key=lambda r: sum(pv.start >= 600 for pv in r.visits)).carer
    event = [{"type": "carer_absent", "carer": sick}]
    result = benchmark.pedantic(
        replan, args=(problem, plan, event, "10:00"), kwargs={"time_limit": 1.0}, rounds=3, warmup_rounds=1
    )
    assert validate(result.problem, result.plan).valid
    assert all(pv.start < 600 for pv in result.plan.route(sick).visits)


def test_recommend_a_new_visit_300_visits(benchmark, care_day):
    """Carers for a new visit on a prepared 300-visit day."""
    from carescheduler.day.recommend import Recommender
    from carescheduler.domain import Visit

    problem, plan = care_day
    recommender = Recommender(problem, plan, now="09:00")
    visit = Visit(id="extra", client=problem.clients[0].id, duration=30, window={"start": "11:00", "end": "13:00"})
    answer = benchmark.pedantic(recommender.recommend, args=(visit,), rounds=20, warmup_rounds=1)
    assert answer.options and len(answer.options) + len(answer.unavailable) >= len(problem.carers) - 1


def test_board_page_300_visits(benchmark, care_day):
    """The coordinator's board for the 300-visit day, as the service renders it (its first
    50 carers' rows drawn, the others left for the page to fetch as they scroll near)."""
    from api.board_page import BoardState, board_page
    from carescheduler.day.status import visit_statuses
    from carescheduler.report.view import DayView

    problem, plan = care_day

    def render() -> str:
        statuses = visit_statuses(problem, plan, [], 600.0)
        state = BoardState("2030-06-03", "north", "alice", "token", 1, "published", 1, '"1.1"', 600.0, statuses)
        return board_page(DayView(problem, plan), state)

    page = benchmark.pedantic(render, rounds=5, warmup_rounds=1)
    working = [r for r in plan.routes if r.visits]
    assert page.count('<div class="row" role="listitem"') == min(len(working), 50)
    assert page.count('class="tl-chunk later"') == max(0, (len(working) - 1) // 25 + 1 - 2)


def test_move_a_visit_300_visits(benchmark, care_day):
    """A visit given to another carer (the board's drag and drop) on a prepared day."""
    from carescheduler.day.recommend import Recommender

    problem, plan = care_day
    recommender = Recommender(problem, plan, now="09:00")
    route = next(r for r in plan.routes if r.visits and r.visits[-1].start > 660 and r.visits[-1].partner is None)
    visit = route.visits[-1].visit
    taker = next(o.carer for o in recommender.recommend(visit, top=10).options if o.carer != route.carer)
    result = benchmark.pedantic(recommender.move, args=(visit, taker), rounds=5, warmup_rounds=1)
    assert validate(result.problem, result.plan).valid
    assert any(pv.visit == visit for pv in result.plan.route(taker).visits)


def test_report_300_visits(benchmark, care_day):
    """The HTML report of the 300-visit day (``carescheduler report``)."""
    from carescheduler.report import render_report

    problem, plan = care_day
    text = benchmark.pedantic(render_report, args=(problem, plan), rounds=3, warmup_rounds=1)
    assert all(f'data-visit="{pv.visit}"' in text for r in plan.routes for pv in r.visits)
