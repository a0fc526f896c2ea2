"""VRPTW benchmark runner on Solomon / Homberger (capacity dropped, travel minimised).

    python -m benchmarks.vrptw --set solomon --time-limit 10 [--instances C101 ...] [--jobs 2] [--no-compare]

The published best-known values are hierarchical (vehicles first, then distance), so the
gap column compares our distance with theirs although we may use more carers.

``--compare`` (the default when PyVRP and pyvroom are installed: ``pip install -e ".[bench]"``)
instead solves exactly the same input (integer travel matrix) with our solver, PyVRP and
VROOM and writes the side-by-side table ``results/SET-compare-<time limit>s.*``; see
``compare.py``. ``--no-compare`` runs our solver alone against the best-known distances.
"""

from __future__ import annotations

import argparse
import csv

from .runner import run, shared_benchmarks


def main() -> None:
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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vroom-threads", type=int, default=1, help="threads VROOM may use (with --compare)")
    args = parser.parse_args()
    folder = shared_benchmarks() / args.set
    jobs = []
    with open(folder / "bks.csv") as f:
        for row in csv.DictReader(f):
            if args.instances and row["instance"] not in args.instances:
                continue
            path = folder / (row.get("instance_file") or f"instances/{row['instance']}.txt")
            jobs.append(
                {
                    "instance": row["instance"],
                    "path": str(path),
                    "bks": float(row["bks_distance"]),
                    "time_limit": args.time_limit,
                    "workers": args.workers,
                    "seed": args.seed,
                    "vroom_threads": args.vroom_threads,
                }
            )
    if args.instances:
        missing = sorted(set(args.instances) - {job["instance"] for job in jobs})
        if missing:
            parser.error(f"not in {args.set}/bks.csv: {', '.join(missing)}")
    compare = args.compare
    if compare is None or compare:
        from .compare import available

        if compare and not available():
            parser.error('--compare needs PyVRP and pyvroom: pip install -e ".[bench]"')
        compare = available()
    if compare:
        from .compare import run_compare

        run_compare(args.name or f"{args.set}-compare-{args.time_limit:g}s", jobs, args.jobs)
    else:
        run(args.name or f"{args.set}-{args.time_limit:g}s", jobs, args.jobs)


if __name__ == "__main__":
    main()
