"""The pooled search through Ray beside forked processes, same seeds and same time.

    python -m benchmarks.cluster_search [--days medium branch council] [--seeds 0 1]
                                        [--seconds medium=20 branch=30 council=60]
                                        [--curve-seconds 120] [--name cluster_search]

On this machine, two searches pool their best plan every round (``workers=2``): once
as today (this process and a forked one), once with the second search a Ray actor on a
Ray started here with this machine's cores (``ParallelParams.ray_address="local"``).
The Ray actor is started before the clock runs (``warm_searchers``), as a service keeps
its actors warm: what is measured is a search's overhead, not a cold start. Each seed
runs both ways back to back (the order alternating by seed), and the table gives for
each the iterations made and the cost and coverage reached, and Ray's ratio to forked.

The days: ``medium`` (the demo day, 400 calls), ``branch`` (a generated day of 1,000
calls and 88 carers on the Liechtenstein roads: a branch of a national provider) and
``council`` (5,000 calls, 440 carers). For the capacity note, the ``branch`` day is also
solved once on one core for ``--curve-seconds``, recording when the first plan is
complete and the best cost at marks. Every plan is checked by the independent
validator. Writes ``results/cluster_search.md`` and ``.json`` (``--name`` for another name).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from .runner import RESULTS, stamp

ROOT = Path(__file__).resolve().parents[1]
MEDIUM = ROOT / "fixtures" / "scenarios" / "medium.json.gz"
ROADS = ROOT / "fixtures" / "osm" / "liechtenstein-20150727.drive.osm.bz2"
FOOTPATHS = ROOT / "fixtures" / "osm" / "liechtenstein-20150727.walk.osm.bz2"
SECONDS = {"medium": 20.0, "branch": 30.0, "council": 60.0}
MARKS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0)


def load_day(name: str):
    from carescheduler.formats import read_problem

    if name == "medium":
        return read_problem(MEDIUM)
    if name == "council":
        from .council import load_council

        return load_council()
    if name == "branch":
        from carescheduler.scenarios.generator import generate_from_roads

        return generate_from_roads(ROADS, 1000, 88, seed=1, walk_file=FOOTPATHS)
    raise SystemExit(f"unknown day {name!r}: medium, branch or council")


def one_run(problem, seconds: float, seed: int, address: str | None) -> dict:
    from carescheduler.params import SolveParams
    from carescheduler.search.solver import solve
    from carescheduler.validator import validate

    first_plan: list[float] = []

    def progress(p) -> None:
        if p.phase == "construction":  # the last such report is the first plan's end
            first_plan[:] = [p.seconds]

    started = time.monotonic()
    plan = solve(
        problem, time_limit=seconds, seed=seed, workers=2, params=SolveParams().on_ray(address), progress=progress
    )
    wall = time.monotonic() - started
    report = validate(problem, plan)
    return {
        "how": "ray" if address else "forked",
        "seed": seed,
        "seconds": round(wall, 2),
        "first_plan_s": round(first_plan[0], 2) if first_plan else None,
        "iterations": plan.solver.iterations,
        "cost": round(report.cost.total, 1),
        "unassigned": len(plan.unassigned),
        "valid": report.valid,
    }


def curve(problem, seconds: float) -> dict:
    """One search on one core: when the first plan is complete, the best cost at marks."""
    from carescheduler.search.solver import solve
    from carescheduler.validator import validate

    first: list[float] = []
    best: dict[float, float] = {}

    def progress(p) -> None:
        if p.phase == "construction":  # the last such report is the first plan's end
            first[:] = [p.seconds]
        for mark in MARKS:
            if p.seconds <= mark and p.phase != "construction":
                best[mark] = p.best_cost

    plan = solve(problem, time_limit=seconds, seed=0, workers=1, progress=progress)
    report = validate(problem, plan)
    return {
        "visits": len(problem.visits),
        "carers": len(problem.carers),
        "first_plan_s": round(first[0], 2) if first else None,
        "cost_at": {f"{m:g}": round(c, 1) for m, c in sorted(best.items()) if m <= seconds},
        "final_cost": round(report.cost.total, 1),
        "unassigned": len(plan.unassigned),
        "valid": report.valid,
    }


def run(days: list[str], seeds: list[int], seconds: dict[str, float], curve_seconds: float) -> dict:
    from carescheduler.cluster import connect
    from carescheduler.cluster.searchers import warm_searchers

    connect("local")  # a Ray on this machine, with its cores
    warm_searchers("local", 1)
    result: dict = {"days": {}, "curve": None}
    for name in days:
        problem = load_day(name)
        rows = []
        for seed in seeds:
            order = ["local", None] if seed % 2 else [None, "local"]
            for address in order:
                row = one_run(problem, seconds[name], seed, address)
                print(name, row, flush=True)
                rows.append(row)
        result["days"][name] = {"visits": len(problem.visits), "seconds": seconds[name], "runs": rows}
        if name == "branch" and curve_seconds > 0:
            result["curve"] = curve(problem, curve_seconds)
            print("curve", result["curve"], flush=True)
    return result


def _ratio(rows: list[dict], key: str) -> float:
    by_seed: dict[int, dict[str, float]] = {}
    for r in rows:
        by_seed.setdefault(r["seed"], {})[r["how"]] = r[key]
    ratios = [v["ray"] / v["forked"] for v in by_seed.values() if v.get("forked")]
    return statistics.mean(ratios) if ratios else float("nan")


def write(result: dict, args) -> None:
    info = stamp()
    seconds = " ".join(f"{k}={v:g}" for k, v in args.seconds.items() if k in args.days)
    lines = [
        "# The pooled search: Ray actor beside a forked process (2 searches, 2 cores)",
        "",
        f"Run {info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores.",
        f"`python -m benchmarks.cluster_search --days {' '.join(args.days)} --seeds {' '.join(map(str, args.seeds))}"
        f" --seconds {seconds} --curve-seconds {args.curve_seconds:g}"
        + ("" if args.name == "cluster_search" else f" --name {args.name}")
        + "`",
        "",
        "| day | calls | seconds | seed | how | iterations | cost | unassigned | valid |",
        "|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for name, day in result["days"].items():
        for r in day["runs"]:
            lines.append(
                f"| {name} | {day['visits']:,} | {day['seconds']:g} | {r['seed']} | {r['how']} | {r['iterations']:,}"
                f" | {r['cost']:,.1f} | {r['unassigned']} | {r['valid']} |"
            )
    lines += ["", "Ray over forked, mean over seeds (1.000 = no overhead):", "", "| day | iterations | cost |"]
    lines.append("|---|---:|---:|")
    for name, day in result["days"].items():
        lines.append(f"| {name} | {_ratio(day['runs'], 'iterations'):.3f} | {_ratio(day['runs'], 'cost'):.4f} |")
    if result["curve"]:
        c = result["curve"]
        lines += [
            "",
            f"The branch day ({c['visits']:,} calls, {c['carers']} carers) on one core: first plan complete at"
            f" {c['first_plan_s']} s; best cost by then:",
            "",
            "| " + " | ".join(f"{m} s" for m in c["cost_at"]) + " |",
            "|" + "---:|" * len(c["cost_at"]),
            "| " + " | ".join(f"{v:,.1f}" for v in c["cost_at"].values()) + " |",
            "",
            f"Final cost {c['final_cost']:,.1f}, {c['unassigned']} unassigned, valid {c['valid']}.",
        ]
    out = RESULTS / f"{args.name}.md"
    out.write_text("\n".join(lines) + "\n")
    (RESULTS / f"{args.name}.json").write_text(json.dumps({**info, **result}, indent=1) + "\n")
    print("\n".join(lines))
    print(f"wrote {out}")


def _seconds(items: list[str]) -> dict[str, float]:
    given = dict(SECONDS)
    for item in items:
        name, _, value = item.partition("=")
        given[name] = float(value)
    return given


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", nargs="+", default=["medium", "branch", "council"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--seconds", nargs="*", default=[], help="per day: NAME=SECONDS")
    parser.add_argument("--curve-seconds", type=float, default=120.0, help="the branch day's one-core run (0: none)")
    parser.add_argument("--name", default="cluster_search", help="results file name (results/NAME.md and .json)")
    args = parser.parse_args()
    args.seconds = _seconds(args.seconds)
    write(run(args.days, args.seeds, args.seconds, args.curve_seconds), args)


if __name__ == "__main__":
    main()
