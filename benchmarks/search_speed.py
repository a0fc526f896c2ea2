"""How fast the search iterates: seconds for a fixed budget of iterations on one instance.

    python -m benchmarks.search_speed [--instance G5] [--iterations 1500] [--seed 0] [--runs 1]

One search on one core with ``MaxIterations`` (and a time limit far away), so every run
makes the same moves and two builds of the library can be compared side by side on the
same work: the iterations per second of the search phase, and the first plan's time. The
progress callback marks when the first plan is built and when the search ends. Prints one
JSON line per run. Uses only ``carescheduler.solve``, ``formats.read_problem`` and the
progress callback, so it also runs against an older checkout on ``PYTHONPATH``.

``--instance`` is a Mankowska label (A1 ... G10) from ``../shared/benchmarks`` or a path.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

from .runner import shared_benchmarks


def instance_path(name: str) -> Path:
    """A Mankowska instance by its label (``G5``), or a file."""
    if Path(name).exists():
        return Path(name)
    folder = shared_benchmarks() / "mankowska2014"
    with (folder / "bks.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["label"] == name:
                return folder / row["instance_file"]
    raise SystemExit(f"error: --instance: {name!r} is neither a file nor a Mankowska label (A1 ... G10)")


def run(path: Path, iterations: int, seed: int) -> dict:
    from carescheduler import solve
    from carescheduler.formats import read_problem

    problem = read_problem(path)
    marks: dict[str, tuple[float, int]] = {}

    def progress(p) -> None:
        if p.phase in ("construction", "done"):
            marks[p.phase] = (p.seconds, p.iterations)

    started = time.monotonic()
    plan = solve(problem, time_limit=3600, seed=seed, max_iterations=iterations, progress=progress)
    wall = time.monotonic() - started
    first, _ = marks["construction"]
    done, made = marks["done"]
    search = done - first
    return {
        "instance": path.name,
        "iterations": made,
        "first_plan_s": round(first, 4),
        "search_s": round(search, 4),
        "iterations_per_s": round(made / search, 2) if search > 0 else None,
        "cost": round(plan.cost.total, 6),
        "wall_s": round(wall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instance", default="G5")
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    path = instance_path(args.instance)
    for _ in range(args.runs):
        print(json.dumps(run(path, args.iterations, args.seed)), flush=True)


if __name__ == "__main__":
    main()
