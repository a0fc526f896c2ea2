"""The 2025 unified HHCRSP instances (Ceschia, Di Gaspero, Schaerf): every plan checked,
and the formulation's cost components per instance.

    python -m benchmarks.extended [--time-limit 60] [--jobs 2] [--instances small-000 ...] [--seeds 0]

The 49 instances of ``../shared/benchmarks/extended2025`` (20 ``small-*`` and 29
``training-*``), each solved once per seed with its time limit, one core each, ``--jobs`` at
a time. The objective is the reader's (``formats.extended``): travel, total and highest
tardiness and extra time after a shift's (soft) end, a third each; the authors publish no
weights and no best results for these sets. Each plan is checked by the independent
validator, its solution file written and read back (the same plan, the same cost), and the
row gives the formulation's components (``formats.extended_components``): travel, total and
highest tardiness, total waiting and max idle, extra time, balance, and the services left
unserved. Writes ``results/extended[_NAME].md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .runner import add_seed_option, command_line, shared_benchmarks, write_rows


def instances(names: list[str] | None) -> list[Path]:
    """The set's instance files (those whose name starts with one of ``names``, if given)."""
    folder = shared_benchmarks() / "extended2025" / "instances"
    files = sorted(folder.glob("*.json.gz"))
    if names:
        files = [f for f in files if any(f.name.startswith(n) for n in names)]
        if not files:
            raise ValueError(f"no instance in {folder} starts with {', '.join(names)}")
    return files


def solve_one(job: tuple[str, float, int]) -> dict:
    from carescheduler.formats import read_problem
    from carescheduler.formats.extended import extended_components, read_extended_solution, to_extended_solution
    from carescheduler.search.solver import solve
    from carescheduler.validator import validate

    path, time_limit, seed = job
    problem = read_problem(path)
    started = time.monotonic()
    plan = solve(problem, time_limit=time_limit, seed=seed)
    seconds = time.monotonic() - started
    report = validate(problem, plan)
    back = validate(problem, read_extended_solution(problem, to_extended_solution(problem, plan)))
    parts = extended_components(problem, plan)
    return {
        "instance": Path(path).name.removesuffix(".json.gz"),
        "seed": seed,
        "valid": report.valid,
        "solution_file_valid": back.valid and abs(back.cost.total - report.cost.total) <= 0.01,
        "unserved": parts.unserved,
        "travel": parts.travel,
        "total_tardiness": parts.total_tardiness,
        "highest_tardiness": parts.highest_tardiness,
        "total_waiting": parts.total_waiting,
        "max_idle": parts.max_idle,
        "total_extra_time": parts.total_extra_time,
        "balance": parts.balance,
        "cost": round(report.cost.total, 2),
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=2, help="instances solved at once (one core each)")
    parser.add_argument("--instances", nargs="*", help="instance names, or the start of them (small, training-112)")
    parser.add_argument("--name", default=None, help="results/extended_NAME (default: results/extended)")
    add_seed_option(parser)
    args = parser.parse_args(argv)
    jobs = [(str(path), args.time_limit, seed) for path in instances(args.instances) for seed in args.seeds]
    rows = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for row in pool.map(solve_one, jobs):
            print(row, flush=True)
            rows.append(row)
    name = "extended" if args.name is None else f"extended_{args.name}"
    write_rows(name, rows, note=f", `{command_line('extended', argv)}`")


if __name__ == "__main__":
    main()
