"""The replan-coverage benchmark runner (issue 19's yardstick) on a short run: one row per
replan, the busiest carer picked, every plan checked by the validator."""

from __future__ import annotations

from benchmarks.replan_coverage import busiest_carer, run
from carescheduler.plan import Plan, PlannedVisit, Route


def test_the_busiest_carer_has_the_most_calls() -> None:
    def route(carer: str, n: int) -> Route:
        visits = [PlannedVisit(visit=f"{carer}{i}", client="x", start=i, end=i) for i in range(n)]
        return Route(carer=carer, visits=visits)

    assert busiest_carer(Plan(problem="d", routes=[route("a", 2), route("b", 5), route("c", 5)])) == "b"


def test_a_short_run_reports_each_replan_beside_the_fresh_solve() -> None:
    rows = run(["10:00"], [0.5, 1.0], fresh_seconds=1.0, plan_seconds=2.0, seed=0)
    assert [r["replan_s"] for r in rows] == [0.5, 1.0]
    assert len({r["carer"] for r in rows}) == 1 and rows[0]["absent_remaining"] > 0
    assert rows[0]["fresh_unassigned"] == rows[1]["fresh_unassigned"]  # one fresh solve per time
    assert all(r["replan_valid"] and r["fresh_valid"] for r in rows)
