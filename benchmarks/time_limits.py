"""Does a solve keep its time limit, and hear a cancel, on days built to break it?

    python -m benchmarks.time_limits [--cases all|quick|NAME ...] [--cancel-after 1.0]

The days are the ones a probe of the service found overrunning (issue 15): two carers
whose shifts can take hundreds of short visits each (routes of 150 to 1,000 visits make
every insertion re-time a long route), and a day of 100,000 visits among 2,000 clients
and 200 carers. For each case ``solve`` runs with its time limit and the runner records
the wall time of the call (the problem already parsed) and the overrun past the limit;
the plan is checked by the independent validator. Then the same day is solved again with
a progress callback that cancels (raises) at the first report after ``--cancel-after``
seconds, as the service's job worker does, and the runner records how long after that
moment the call returned.

Writes ``results/time_limits.md`` and ``.csv`` and prints the table. The quick cases are
the ones ``benchmarks/test_time_limits.py`` runs in CI.
"""

from __future__ import annotations

import argparse
import csv
import time
from dataclasses import dataclass

import numpy as np

from carescheduler.domain import Problem
from carescheduler.search.solver import solve
from carescheduler.validator import validate

from .runner import RESULTS, stamp


@dataclass(frozen=True)
class Case:
    name: str
    visits: int
    carers: int
    clients: int
    window_minutes: float | None  # None: any time in the carers' shifts
    time_limit: float


CASES = [
    Case("2 carers, 300 visits", 300, 2, 300, None, 2.0),
    Case("2 carers, 600 visits", 600, 2, 600, None, 2.0),
    Case("2 carers, 600 visits, 30 s", 600, 2, 600, None, 30.0),
    Case("2 carers, 2,000 visits", 2000, 2, 1000, None, 2.0),
    Case("2 carers, 2,000 visits, 30 s", 2000, 2, 1000, None, 30.0),
    Case("100,000 visits", 100_000, 200, 2000, 120.0, 5.0),
]
QUICK = ["2 carers, 600 visits", "2 carers, 2,000 visits", "100,000 visits"]


def crowded_day(visits: int, carers: int, clients: int, window_minutes: float | None = None, seed: int = 0) -> Problem:
    """A day of many short visits (1 to 3 minutes) for few carers on shift 06:00-22:00,
    clients scattered over about 4 by 6 km; each visit's window opens at a random time
    and lasts ``window_minutes`` (None: the whole day), so the routes grow very long."""
    rng = np.random.default_rng(seed)
    lat = 47.10 + 0.05 * rng.random(clients)
    lon = 9.50 + 0.05 * rng.random(clients)
    opens = rng.integers(6 * 60, 20 * 60, visits)
    data = {
        "name": f"crowded-{visits}-visits-{carers}-carers",
        "locations": [{"id": "office", "lat": 47.125, "lon": 9.525}]
        + [{"id": f"home{i}", "lat": float(lat[i]), "lon": float(lon[i])} for i in range(clients)],
        "carers": [
            {"id": f"carer{k}", "start_location": "office", "shifts": [{"start": 360, "end": 1320}]}
            for k in range(carers)
        ],
        "clients": [{"id": f"client{i}", "location": f"home{i}"} for i in range(clients)],
        "visits": [
            {
                "id": f"visit{v}",
                "client": f"client{v % clients}",
                "duration": float(rng.integers(1, 4)),
                **(
                    {}
                    if window_minutes is None
                    else {"window": {"start": float(opens[v]), "end": float(opens[v]) + window_minutes}}
                ),
            }
            for v in range(visits)
        ],
    }
    return Problem.model_validate(data)


class _Cancelled(Exception):
    pass


def run_case(case: Case, cancel_after: float) -> dict:
    problem = crowded_day(case.visits, case.carers, case.clients, case.window_minutes)
    started = time.monotonic()
    plan = solve(problem, time_limit=case.time_limit)
    seconds = time.monotonic() - started
    report = validate(problem, plan)

    asked: list[float] = []

    def cancel(_progress) -> None:
        now = time.monotonic()
        if now - begun >= cancel_after:
            asked.append(now)
            raise _Cancelled

    begun = time.monotonic()
    try:
        solve(problem, time_limit=max(case.time_limit, 10 * cancel_after), progress=cancel)
        cancel_latency = float("nan")  # finished before the cancel
    except _Cancelled:
        cancel_latency = time.monotonic() - (begun + cancel_after)
    return {
        "case": case.name,
        "visits": case.visits,
        "carers": case.carers,
        "time_limit": case.time_limit,
        "seconds": round(seconds, 3),
        "overrun": round(seconds - case.time_limit, 3),
        "assigned": plan.kpis.visits_assigned,
        "unassigned": len(plan.unassigned),
        "untried": sum(u.reason.startswith("not tried") for u in plan.unassigned),
        "valid": report.valid,
        "cancel_after": cancel_after,
        "cancel_latency": round(cancel_latency, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="*", default=["all"], help="all, quick, or case names")
    parser.add_argument("--cancel-after", type=float, default=1.0)
    args = parser.parse_args(argv)
    names = {c.name for c in CASES}
    wanted = set(args.cases)
    if "all" in wanted:
        wanted = names
    if "quick" in wanted:
        wanted = (wanted - {"quick"}) | set(QUICK)
    unknown = wanted - names
    if unknown:
        parser.error(f"unknown cases: {', '.join(sorted(unknown))} (known: {', '.join(c.name for c in CASES)})")
    rows = []
    for case in CASES:
        if case.name in wanted:
            rows.append(run_case(case, args.cancel_after))
            print(rows[-1], flush=True)
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "time_limits.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    info = stamp()
    lines = [
        f"# Time limits and cancel ({info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores)",
        "",
        "| day | limit (s) | solve (s) | overrun (s) | assigned | unassigned (not tried) | valid "
        f"| cancel heard after (s, asked at {args.cancel_after:g} s) |",
        "|---|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['time_limit']:g} | {r['seconds']:.2f} | {r['overrun']:+.2f} | {r['assigned']:,} "
            f"| {r['unassigned']:,} ({r['untried']:,}) | {'yes' if r['valid'] else 'NO'} | {r['cancel_latency']:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    (RESULTS / "time_limits.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
