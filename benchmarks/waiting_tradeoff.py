"""What pricing carers' waiting costs a day: the waiting weight against travel, lateness
and coverage, so a provider can choose.

    python -m benchmarks.waiting_tradeoff [--scenario council] [--weights 0 0.2 0.5 1]
                                          [--time-limit 60] [--seeds 0]

The same day solved once per waiting weight (``ObjectiveWeights.waiting``, per minute of
unpaid gap between visits of one shift; everything else at its default), one core, the
same seed and time limit. Each plan is checked by the independent validator, and the row
gives what a provider weighs: unpaid gaps in all and per carer who waits, the longest
wait, travel, lateness, earliness, continuity (familiar faces), clients' wishes, overtime
and the visits left out. ``--scenario`` is ``council`` (about 5,000
visits on the Liechtenstein roads, ``benchmarks/council.py``), ``medium`` (the demo day)
or a path. Writes ``results/waiting_tradeoff[_NAME].md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .council import load_council
from .runner import add_seed_option, command_line, write_rows

ROOT = Path(__file__).resolve().parents[1]
MEDIUM = ROOT / "fixtures" / "scenarios" / "medium.json.gz"


def load(scenario: str):
    """The day to plan, with its travel times."""
    from carescheduler.formats import read_problem

    if scenario == "council":
        return load_council()
    return read_problem(MEDIUM if scenario == "medium" else Path(scenario))


def run_one(problem, weight: float, time_limit: float, seed: int) -> dict:
    from carescheduler.search.solver import solve
    from carescheduler.validator import validate

    weighted = problem.model_copy(update={"weights": problem.weights.model_copy(update={"waiting": weight})})
    started = time.monotonic()
    plan = solve(weighted, time_limit=time_limit, seed=seed)
    seconds = time.monotonic() - started
    report = validate(weighted, plan)
    k = report.kpis
    waiting_carers = len(k.waiting_by_carer)
    return {
        "waiting_weight": weight,
        "seed": seed,
        "valid": report.valid,
        "violations": " ".join(sorted({v.code for v in report.violations})),
        "unassigned": len(plan.unassigned),
        "mandatory_unassigned": k.mandatory_unassigned,
        "waiting_min": round(k.waiting_minutes, 1),
        "carers_waiting": waiting_carers,
        "waiting_per_waiting_carer_min": round(k.waiting_minutes / waiting_carers, 1) if waiting_carers else 0.0,
        "longest_wait_min": round(k.max_wait_minutes, 1),
        "travel_min": round(k.travel_minutes, 1),
        "lateness_min": round(k.total_lateness, 1),
        "late_max_min": round(k.max_lateness, 1),
        "earliness_cost": round(report.cost.earliness, 1),
        "continuity": round(k.continuity, 4),
        "continuity_cost": round(report.cost.continuity, 1),
        "preferences_cost": round(report.cost.preferences, 1),
        "overtime_min": round(k.overtime_minutes, 1),
        "cost_without_waiting": round(report.cost.total - report.cost.waiting - report.cost.max_waiting, 1),
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="council", help="council, medium, or a day's file")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.2, 0.5, 1.0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--name", default=None, help="results/waiting_tradeoff_NAME (default: the scenario)")
    add_seed_option(parser)
    args = parser.parse_args(argv)
    problem = load(args.scenario)
    rows = []
    for seed in args.seeds:
        for weight in args.weights:
            row = run_one(problem, weight, args.time_limit, seed)
            print(row, flush=True)
            rows.append(row)
    name = args.name or (args.scenario if args.scenario in ("council", "medium") else Path(args.scenario).stem)
    write_rows(f"waiting_tradeoff_{name}", rows, note=f", `{command_line('waiting_tradeoff', argv)}`")


if __name__ == "__main__":
    main()
