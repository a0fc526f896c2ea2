"""VRPTW benchmark runner on Solomon / Homberger (capacity dropped, travel minimised).

    python -m benchmarks.vrptw --set solomon --time-limit 10 [--instances C101 ...] [--jobs 2]

The published best-known values are hierarchical (vehicles first, then distance), so the
gap column compares our distance with theirs although we may use more carers.
"""

from __future__ import annotations

import argparse
import csv

from .runner import run, shared_benchmarks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=["solomon", "homberger"], required=True)
    parser.add_argument("--instances", nargs="*")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--name")
    args = parser.parse_args()
    folder = shared_benchmarks() / args.set
    jobs = []
    with open(folder / "bks.csv") as f:
        for row in csv.DictReader(f):
            if args.instances and row["instance"] not in args.instances:
                continue
            path = folder / (row.get("instance_file") or f"instances/{row['instance']}.txt")
            jobs.append({"instance": row["instance"], "path": str(path),
                         "bks": float(row["bks_distance"]), "time_limit": args.time_limit, "workers": args.workers})
    run(args.name or f"{args.set}-{args.time_limit:g}s", jobs, args.jobs)


if __name__ == "__main__":
    main()
