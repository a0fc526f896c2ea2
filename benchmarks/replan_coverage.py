"""What a quick replan gives up against a fresh solve: the busiest carer off sick on the medium day.

    python -m benchmarks.replan_coverage [--times 08:00 10:00 14:00] [--replan-seconds 1 5]
                                         [--fresh-seconds 20] [--plan-seconds 20] [--seed 0]

The medium day (``fixtures/scenarios/medium.json.gz``, 400 calls, 36 carers) is planned
once (``--plan-seconds``, one worker, checked by the validator). Then, at each of
``--times``, the carer with the most calls in that plan phones in sick for the rest of the
day, and the day is replanned with each of ``--replan-seconds`` from that plan. For the
same updated day (``ReplanResult.problem``) a fresh ``solve`` of ``--fresh-seconds`` is
the yardstick. Per case: calls left unassigned by the replan and by the fresh solve, the
absent carer's calls still to start, the other carers' calls the replan moved
(``changes.moved_visits``, target: no more than the absent carer had left), the replan's
wall time, and the validator's verdict on every plan.

Target (issue 19): the 1-s replan leaves no more calls unassigned than the fresh 20-s
solve. Writes ``results/replan_coverage.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .runner import write_rows

ROOT = Path(__file__).resolve().parents[1]
MEDIUM = ROOT / "fixtures" / "scenarios" / "medium.json.gz"


def _minutes(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return 60.0 * int(hours) + int(minutes)


def busiest_carer(plan) -> str:
    """The carer with the most calls in ``plan`` (the first such by id on a tie)."""
    return max(sorted(plan.routes, key=lambda r: r.carer), key=lambda r: len(r.visits)).carer


def run(times: list[str], replan_seconds: list[float], fresh_seconds: float, plan_seconds: float, seed: int):
    from carescheduler.day.replan import replan
    from carescheduler.formats import read_problem
    from carescheduler.search.solver import solve
    from carescheduler.validator import validate

    problem = read_problem(MEDIUM)
    plan = solve(problem, time_limit=plan_seconds, seed=seed)
    if not validate(problem, plan).valid:
        raise SystemExit("the medium day's plan is not valid by the validator")
    carer = busiest_carer(plan)
    route = next(r for r in plan.routes if r.carer == carer)
    rows = []
    for hhmm in times:
        now = _minutes(hhmm)
        remaining = sum(pv.start >= now for pv in route.visits)
        fresh = None
        for seconds in replan_seconds:
            started = time.perf_counter()
            result = replan(
                problem, plan, [{"type": "carer_absent", "carer": carer}], now, time_limit=seconds, seed=seed
            )
            wall = time.perf_counter() - started
            if fresh is None:  # the same updated day for every replan of this time
                fresh = solve(result.problem, time_limit=fresh_seconds, seed=seed)
                fresh_valid = validate(result.problem, fresh).valid
            rows.append(
                {
                    "now": hhmm,
                    "carer": carer,
                    "absent_remaining": remaining,
                    "replan_s": seconds,
                    "replan_wall_s": round(wall, 3),
                    "replan_unassigned": len(result.plan.unassigned),
                    "fresh_s": fresh_seconds,
                    "fresh_unassigned": len(fresh.unassigned),
                    "moved_others": len(result.changes.moved_visits),
                    "replan_valid": validate(result.problem, result.plan).valid,
                    "fresh_valid": fresh_valid,
                }
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--times", nargs="+", default=["08:00", "10:00", "14:00"])
    parser.add_argument("--replan-seconds", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--fresh-seconds", type=float, default=20.0)
    parser.add_argument("--plan-seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="replan_coverage")
    args = parser.parse_args()
    rows = run(args.times, args.replan_seconds, args.fresh_seconds, args.plan_seconds, args.seed)
    write_rows(args.name, rows, f"; the medium day planned in {args.plan_seconds:g} s")


if __name__ == "__main__":
    main()
