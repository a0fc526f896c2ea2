"""Every published best solution of Ceschia et al. (2024) is valid and costs what they say.

For the 70 Mankowska and 30 Italian instances in the shared benchmark folder: read the
instance, read its solution file into a Plan, validate it, and compare the recomputed
cost with ``bks.csv`` (``ub_ceschia2024`` for Mankowska, ``bks`` for the Italian set).
This checks the readers and the validator against each other and against the papers.

The benchmark folder is ``$CARESCHEDULER_BENCHMARKS`` or ``<repo>/../shared/benchmarks``;
the tests are skipped when it is absent.
"""

from __future__ import annotations

import csv
import gzip
import json

import pytest

from carescheduler.formats import read_plan, read_problem, to_iolab_solution
from conftest import SHARED_BENCHMARKS

BENCHMARKS = SHARED_BENCHMARKS
SETS = {
    # folder: (cost column, solution file column)
    "mankowska2014": ("ub_ceschia2024", "ceschia2024_solution_file"),
    "ceschia2024_italian": ("bks", "solution_file"),
}
TOLERANCE = 0.01


def _cases() -> list:
    cases = []
    for folder, (cost_column, solution_column) in SETS.items():
        table = BENCHMARKS / folder / "bks.csv"
        if not table.is_file():
            cases.append(pytest.param(folder, None, id=f"{folder}-absent"))
            continue
        with open(table, newline="") as handle:
            for row in csv.DictReader(handle):
                case = {
                    "instance": BENCHMARKS / folder / row["instance_file"],
                    "solution": BENCHMARKS / folder / row[solution_column],
                    "cost": float(row[cost_column]),
                }
                cases.append(pytest.param(folder, case, id=f"{folder}-{row['instance']}"))
    return cases


@pytest.mark.parametrize(("folder", "case"), _cases())
def test_published_solution_is_valid_with_published_cost(folder: str, case: dict | None) -> None:
    if case is None:
        pytest.skip(f"benchmark set {folder} not found under {BENCHMARKS} (set CARESCHEDULER_BENCHMARKS)")
    validator = pytest.importorskip("carescheduler.validator", reason="the validator module is not there yet")

    problem = read_problem(case["instance"])
    plan = read_plan(problem, case["solution"])
    assert plan.unassigned == [], "the published solution leaves visits out"

    report = validator.validate(problem, plan)
    messages = "\n".join(f"[{v.code}] {v.message}" for v in report.violations[:20])
    assert report.valid, f"{len(report.violations)} violation(s):\n{messages}"
    assert report.cost.total == pytest.approx(case["cost"], abs=TOLERANCE)

    # Writing the plan back gives the published routes.
    with gzip.open(case["solution"], "rt", encoding="utf-8") as handle:
        published = json.load(handle)
    written = to_iolab_solution(problem, plan)
    by_carer = {r["caregiver_id"]: r.get("locations", []) for r in published["routes"]}
    assert set(by_carer) <= {r["caregiver_id"] for r in written["routes"]}
    assert {r["caregiver_id"]: r["locations"] for r in written["routes"]} == {
        c: by_carer.get(c, []) for c in (r["caregiver_id"] for r in written["routes"])
    }
