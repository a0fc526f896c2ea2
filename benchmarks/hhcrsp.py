"""Home-care benchmark runner: Mankowska 2014 (A-G) and the Italian set of Ceschia et al.

python -m benchmarks.hhcrsp --set mankowska --time-limit 10 [--instances A1 B3 ...] [--jobs 2] [--seeds 0 1]

Each instance is solved once per seed (``--seed 3``, ``--seeds 0 1`` or ``--seeds 0,1``; 0 alone by
default); the seed goes to ``solve`` and is a column of the result table.
"""

from __future__ import annotations

import argparse
import csv

from .runner import add_seed_option, command_line, run, shared_benchmarks


def _names(row: dict) -> set[str]:
    """What --instances may call an instance: its label (A1), its file stem, or the
    Italian set's number before the city (instance_007)."""
    return {row.get("label") or row["instance"], row["instance"], row["instance"].split("-")[0]}


def jobs_for(
    set_name: str, instances: list[str] | None, time_limit: float, workers: int, seeds: list[int] | None = None
) -> list[dict]:
    """One job per instance of the set (or of those named) and seed (0 alone by default);
    ValueError names any unknown instance."""
    folder = shared_benchmarks() / ("mankowska2014" if set_name == "mankowska" else "ceschia2024_italian")
    jobs = []
    matched: set[str] = set()
    with open(folder / "bks.csv") as f:
        for row in csv.DictReader(f):
            label = row.get("label") or row["instance"]
            if instances:
                names = _names(row) & set(instances)
                if not names:
                    continue
                matched |= names
            bks = float(row["bks_published"] if set_name == "mankowska" else row["bks"])
            for seed in seeds or [0]:
                jobs.append(
                    {
                        "instance": label,
                        "path": str(folder / row["instance_file"]),
                        "bks": bks,
                        "time_limit": time_limit,
                        "workers": workers,
                        "seed": seed,
                    }
                )
    missing = sorted(set(instances or ()) - matched)
    if missing:
        raise ValueError(f"not in {folder.name}/bks.csv: {', '.join(missing)}")
    return jobs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=["mankowska", "italian"], required=True)
    parser.add_argument("--instances", nargs="*")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1, help="cores per solve (parallel searches)")
    parser.add_argument("--jobs", type=int, default=2, help="instances solved at once")
    add_seed_option(parser)
    parser.add_argument("--name", help="result file name (default: SET-<time limit>s)")
    args = parser.parse_args(argv)
    try:
        jobs = jobs_for(args.set, args.instances, args.time_limit, args.workers, args.seeds)
    except ValueError as err:
        parser.error(str(err))
    run(args.name or f"{args.set}-{args.time_limit:g}s", jobs, args.jobs, command_line("hhcrsp", argv))


if __name__ == "__main__":
    main()
