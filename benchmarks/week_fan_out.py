"""A week's days solved one after another, beside the same days solved at once as Ray tasks.

    python -m benchmarks.week_fan_out [--small] [--roster fixtures/scenarios/council-roster.json.gz]
                                      [--monday 2027-01-04] [--days 7] [--seconds 60]
                                      [--iterations 0] [--seed 0] [--cpus 2] [--address ADDRESS]

Both runs are ``plan_week(weekly=False)`` on exactly the same days, seeds and stop
(``[MaxRuntime(--seconds), MaxIterations(--iterations)]``: by default each day's first
plan): **one after another** in this process, then **fanned out** with
``params.parallel.ray_address`` set, each day a Ray task on one core (``cluster.solve_many``,
every plan validated on its return). Ray is started here with ``--cpus`` cores (or joined
at ``--address``); its workers are warmed first (they compile the solver's kernels) and
that is reported apart. The table gives the wall seconds, when each day finished, the days
valid (the validator), the total cost and the calls left unassigned for both, and how many
days got the very same plan.

The days are the council fixture roster's (``benchmarks.week``: about 5,000 calls and 440
carers a day on the Liechtenstein roads). ``--small`` uses the small roster (about 60
calls a day, straight-line travel) for a quick check; it writes ``results/week_fan_out_small.md``
instead of ``results/week_fan_out.md`` (and ``.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import time
from pathlib import Path

from .runner import RESULTS, stamp
from .week import MONDAY, ROOT, ROSTER, size_lines, week_days

SMALL_ROSTER = ROOT / "fixtures" / "scenarios" / "small-roster.json.gz"


def small_days(roster_path: Path, monday: dt.date, days: int):
    """The roster and its days from ``monday``, travel as the roster gives it (no roads)."""
    from carescheduler.roster import Roster, days_from_roster

    with gzip.open(roster_path, "rt", encoding="utf-8") as handle:
        roster = Roster.model_validate_json(handle.read())
    return roster, days_from_roster(roster, monday, monday + dt.timedelta(days=days - 1))


def start_ray(address: str | None, cpus: int) -> str:
    """Join the cluster at ``address``, or start a Ray here with ``cpus`` cores; the
    address ``solve_many`` is then given (it joins once per process)."""
    import logging

    from carescheduler.cluster import connect

    if address is not None:
        connect(address)
        return address
    import ray

    ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    return "local"


def warm_workers(address: str, cpus: int) -> float:
    """Seconds to have ``cpus`` Ray workers compile the kernels (small days, one each)."""
    from carescheduler.cluster import solve_many
    from carescheduler.params import MaxIterations, MaxRuntime
    from carescheduler.scenarios.demo import demo_problem

    started = time.monotonic()
    tiny = {n: demo_problem(clients=6, carers=3, seed=n) for n in range(cpus)}
    solve_many(tiny, [MaxRuntime(30), MaxIterations(3)], address=address)
    return time.monotonic() - started


def plan(roster, problems, stop, seed: int, address: str | None) -> dict:
    """One run of ``plan_week(weekly=False)``: its figures and each day's plan."""
    from carescheduler.params import ParallelParams, SolveParams
    from carescheduler.roster import plan_week
    from carescheduler.validator import validate

    params = None if address is None else SolveParams(parallel=ParallelParams(ray_address=address))
    finished: dict[str, float] = {}
    started = time.monotonic()

    def on_day_planned(date: dt.date, done: int, total: int) -> None:
        finished[str(date)] = round(time.monotonic() - started, 1)
        print(f"  {date} planned ({done} of {total}) at {finished[str(date)]} s", flush=True)

    week = plan_week(roster, problems, weekly=False, stop=stop, seed=seed, params=params, on_day_planned=on_day_planned)
    seconds = time.monotonic() - started
    reports = {d: validate(problems[d], p) for d, p in week.plans.items()}
    return {
        "seconds": round(seconds, 1),
        "days": len(reports),
        "days_valid": sum(r.valid for r in reports.values()),
        "cost": round(sum(r.cost.total for r in reports.values()), 1),
        "calls": sum(r.kpis.visits_total for r in reports.values()),
        "unassigned": sum(len(p.unassigned) for p in week.plans.values()),
        "finished": finished,
        "routes": {str(d): [[(v.visit, v.part) for v in r.visits] for r in p.routes] for d, p in week.plans.items()},
    }


def run(args) -> dict:
    from carescheduler import warm_up
    from carescheduler.params import MaxIterations, MaxRuntime

    started = time.monotonic()
    if args.small:
        roster, problems = small_days(args.roster or SMALL_ROSTER, args.monday, args.days)
    else:
        roster, problems = week_days(args.roster or ROSTER, args.monday, args.days)
    load_s = time.monotonic() - started
    sizes = {
        str(d): {"calls": len(p.visits), "carers": sum(1 for c in p.carers if c.shifts)} for d, p in problems.items()
    }
    stop = [MaxRuntime(args.seconds), MaxIterations(args.iterations)]
    warm_up()
    print("one after another", flush=True)
    alone = plan(roster, problems, stop, args.seed, None)
    address = start_ray(args.address, args.cpus)
    warm_s = warm_workers(address, args.cpus)
    print(f"fanned out (Ray workers warmed in {warm_s:.1f} s)", flush=True)
    fanned = plan(roster, problems, stop, args.seed, address)
    same = sum(alone["routes"][d] == fanned["routes"][d] for d in alone["routes"])
    for run_ in (alone, fanned):
        del run_["routes"]
    return {
        "load_seconds": round(load_s, 1),
        "warm_seconds": round(warm_s, 1),
        "sizes": sizes,
        "same_plans": same,
        "runs": {"one after another": alone, "fanned out": fanned},
    }


def command(args) -> str:
    parts = ["python -m benchmarks.week_fan_out"]
    if args.small:
        parts.append("--small")
    parts += [f"--monday {args.monday}", f"--days {args.days}", f"--seconds {args.seconds:g}"]
    parts += [f"--iterations {args.iterations}", f"--seed {args.seed}"]
    parts.append(f"--address {args.address}" if args.address else f"--cpus {args.cpus}")
    return " ".join(parts)


def write(result: dict, args) -> None:
    info = stamp()
    runs = result["runs"]
    names = list(runs)
    where = f"the Ray cluster at {args.address}" if args.address else f"a Ray started here with {args.cpus} CPUs"
    lines = [
        "# A week's days one after another beside the same days fanned out on Ray",
        "",
        f"Run {info.get('date', '')}, commit {info.get('commit', '')}, {info.get('cpu', '')},"
        f" {info.get('cores')} cores.",
        f"`{command(args)}`",
        "",
        f"Each day stops at MaxRuntime({args.seconds:g}), MaxIterations({args.iterations}); fanned out on {where}"
        f" (its workers warmed first, in {result['warm_seconds']} s, not counted below). Days loaded in"
        f" {result['load_seconds']} s. Calls / carers working:",
        "",
        *size_lines(result["sizes"]),
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        "| wall seconds | " + " | ".join(str(runs[n]["seconds"]) for n in names) + " |",
        "| days valid | " + " | ".join(f"{runs[n]['days_valid']} of {runs[n]['days']}" for n in names) + " |",
        "| total cost | " + " | ".join(f"{runs[n]['cost']:,}" for n in names) + " |",
        "| calls / unassigned | " + " | ".join(f"{runs[n]['calls']:,} / {runs[n]['unassigned']}" for n in names) + " |",
        "",
        f"The same plan both ways on {result['same_plans']} of {len(result['sizes'])} days. Seconds from the"
        " start when each day was planned:",
        "",
        "| | " + " | ".join(result["sizes"]) + " |",
        "|---|" + "---|" * len(result["sizes"]),
    ]
    for name in names:
        done = runs[name]["finished"]
        lines.append(f"| {name} | " + " | ".join(str(done.get(d, "")) for d in result["sizes"]) + " |")
    stem = "week_fan_out_small" if args.small else "week_fan_out"
    out = RESULTS / f"{stem}.md"
    out.write_text("\n".join(lines) + "\n")
    (RESULTS / f"{stem}.json").write_text(json.dumps({**info, **result}, indent=1, default=str) + "\n")
    print("\n".join(lines))
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="the small roster's days, for a quick check")
    parser.add_argument(
        "--roster", type=Path, default=None, help="default: the council roster (the small one with --small)"
    )
    parser.add_argument("--monday", type=dt.date.fromisoformat, default=MONDAY)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=60.0, help="each day's MaxRuntime")
    parser.add_argument("--iterations", type=int, default=0, help="each day's MaxIterations (0: the first plan)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpus", type=int, default=2, help="cores of the Ray started here")
    parser.add_argument("--address", default=None, help="join this Ray cluster instead of starting one")
    args = parser.parse_args()
    write(run(args), args)


if __name__ == "__main__":
    main()
