"""VRPTW benchmark runner on Solomon / Homberger (capacity dropped, travel minimised).

    python -m benchmarks.vrptw --set solomon --time-limit 10 [--instances C101 ...] [--jobs 2] [--no-compare]
                               [--seeds 0 1]

The published best-known values are hierarchical (vehicles first, then distance), so the
gap column compares our distance with theirs although we may use more carers.

``--compare`` (the default when PyVRP and pyvroom are installed: ``pip install -e ".[bench]"``)
instead solves exactly the same input (integer travel matrix) with our solver, PyVRP and
VROOM and writes the side-by-side table ``results/SET-compare-<time limit>s.*``; see
``compare.py``. ``--no-compare`` runs our solver alone against the best-known distances.

Each instance is solved once per seed (``--seed 3``, ``--seeds 0 1`` or ``--seeds 0,1``; 0 alone by
default); the seed goes to our ``solve`` (and to PyVRP's) and is a column of the result table.
"""

from __future__ import annotations

import argparse
import csv

from .runner import add_seed_option, command_line, run, shared_benchmarks


def jobs_for(
    set_name: str,
    instances: list[str] | None,
    time_limit: float,
    workers: int,
    seeds: list[int] | None = None,
    vroom_threads: int = 1,
) -> list[dict]:
    """One job per instance of the set (or of those named) and seed (0 alone by default);
    ValueError names any unknown instance."""
    folder = shared_benchmarks() / set_name
    jobs = []
    with open(folder / "bks.csv") as f:
        for row in csv.DictReader(f):
            if instances and row["instance"] not in instances:
                continue
            path = folder / (row.get("instance_file") or f"instances/{row['instance']}.txt")
            for seed in seeds or [0]:
                jobs.append(
                    {
                        "instance": row["instance"],
                        "path": str(path),
                        "bks": float(row["bks_distance"]),
                        "time_limit": time_limit,
                        "workers": workers,
                        "seed": seed,
                        "vroom_threads": vroom_threads,
                    }
                )
    missing = sorted(set(instances or ()) - {job["instance"] for job in jobs})
    if missing:
        raise ValueError(f"not in {set_name}/bks.csv: {', '.join(missing)}")
    return jobs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=["solomon", "homberger"], required=True)
    parser.add_argument("--instances", nargs="*")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--name")
    parser.add_argument(
        "--compare",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also solve with PyVRP and VROOM, side by side (default: on if they are installed)",
    )
    add_seed_option(parser)
    parser.add_argument("--vroom-threads", type=int, default=1, help="threads VROOM may use (with --compare)")
    args = parser.parse_args(argv)
    try:
        jobs = jobs_for(args.set, args.instances, args.time_limit, args.workers, args.seeds, args.vroom_threads)
    except ValueError as err:
        parser.error(str(err))
    compare = args.compare
    if compare is None or compare:
        from .compare import available

        if compare and not available():
            parser.error('--compare needs PyVRP and pyvroom: pip install -e ".[bench]"')
        compare = available()
    command = command_line("vrptw", argv)
    if compare:
        from .compare import run_compare

        run_compare(args.name or f"{args.set}-compare-{args.time_limit:g}s", jobs, args.jobs, command)
    else:
        run(args.name or f"{args.set}-{args.time_limit:g}s", jobs, args.jobs, command)


if __name__ == "__main__":
    main()
