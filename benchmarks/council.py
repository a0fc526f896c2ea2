"""Council-scale day: first plan time, coverage, peak memory and quality over time.

    python -m benchmarks.council [--scenario fixtures/scenarios/council.json.gz] [--time-limit 300]
                                 [--marks 15 60 300] [--workers 1]

One solve of the generated council day (about 5,000 visits and 400 carers on the
Liechtenstein roads and footpaths, travel times from ``fixtures/osm`` through the disk cache). The
progress callback records when the first plan is complete and the best cost at each
mark; the final plan is checked by the independent validator. A visit counts as
*coverable* when no structural rule (skills, gender, bans, pins, shifts) rules it out
for every carer. Peak memory is the resident high-water mark of this process and of
its search processes. Writes ``results/council.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from .runner import write_rows

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "fixtures" / "scenarios" / "council.json.gz"
ROADS = ROOT / "fixtures" / "osm" / "liechtenstein-20150727.drive.osm.bz2"
FOOTPATHS = ROOT / "fixtures" / "osm" / "liechtenstein-20150727.walk.osm.bz2"


def load_council(scenario: Path = SCENARIO, roads: Path = ROADS, footpaths: Path = FOOTPATHS):
    """The council problem with its travel times on the roads (drivers) and footpaths
    (walkers), built once and then read from the disk cache."""
    from carescheduler.formats import read_problem
    from carescheduler.travel import road_travel

    return road_travel(read_problem(scenario), {"drive": roads, "walk": footpaths})


def run(scenario: Path, time_limit: float, marks: list[float], workers: int, seed: int) -> dict:
    from carescheduler.search.instance import compile_problem
    from carescheduler.search.reasons import Reasons
    from carescheduler.search.solver import solve
    from carescheduler.validator import validate

    started = time.monotonic()
    problem = load_council(scenario)
    load_s = time.monotonic() - started
    inst = compile_problem(problem)
    reasons = Reasons(inst)
    coverable = [v for v in range(inst.n_visits) if reasons.structural(v) is None]
    first: dict = {}
    at_mark: dict[float, float] = {}
    pending = sorted(marks)

    def progress(p) -> None:
        if p.phase == "construction":  # reported now and then while it runs; the last is the first plan's end
            first.update(seconds=p.seconds, cost=p.best_cost, unassigned=p.unassigned)
        while pending and p.seconds >= pending[0]:
            at_mark[pending.pop(0)] = p.best_cost

    plan = solve(problem, time_limit=time_limit, seed=seed, workers=workers, progress=progress)
    report = validate(problem, plan)
    for mark in pending:  # marks past the end of the run hold the final cost
        at_mark[mark] = plan.cost.total
    ids = {problem.visits[v].id for v in coverable}
    uncovered = [u for u in plan.unassigned if u.visit in ids]
    peak_mb = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ) / 1024.0
    row = {
        "scenario": scenario.name,
        "visits": len(problem.visits),
        "carers": len(problem.carers),
        "double_handed": sum(v.carers_needed == 2 for v in problem.visits),
        "load_s": round(load_s, 2),
        "first_plan_s": round(first.get("seconds", float("nan")), 2),
        "first_plan_unassigned": first.get("unassigned"),
        "coverable": len(coverable),
        "uncovered_coverable": len(uncovered),
        "unassigned": len(plan.unassigned),
        "valid": report.valid,
        "peak_mb": round(peak_mb),
        "iterations": plan.solver.iterations,
        "travel_min": round(plan.kpis.travel_minutes),
        "lateness_min": round(plan.kpis.total_lateness),
        "workers": workers,
        "time_limit": time_limit,
    }
    row["first_plan_cost"] = round(first.get("cost", float("nan")), 1)
    for mark in sorted(at_mark):
        row[f"cost_at_{mark:g}s"] = round(at_mark[mark], 1)
    row["final_cost"] = round(plan.cost.total, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--marks", type=float, nargs="*", default=[15.0, 60.0, 300.0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="council")
    args = parser.parse_args()
    row = run(args.scenario, args.time_limit, args.marks, args.workers, args.seed)
    for key, value in row.items():
        print(f"{key:>24}  {value}")
    write_rows(args.name, [row])


if __name__ == "__main__":
    main()
