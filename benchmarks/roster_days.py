"""How long a day takes to generate from a council-sized roster.

    python -m benchmarks.roster_days [--clients 2000] [--carers 600] [--seed 0] [--repeats 3]

The roster is made up (fixed seed): clients spread over a 20 km square with packages of
one to four calls a day (a quarter double-handed, some only on weekdays), which gives
about 5,000 calls a day; carers with split shifts five days a week, and a tenth of them
on leave for the week measured. Each day of the week that holds the clocks going
forward (Monday 23 to Sunday 29 March 2026) is generated ``--repeats`` times with
``roster.day_from_roster``; the table gives the median and the slowest, then one call of
``days_from_roster`` for the whole week. Writes ``results/roster-days.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time

from carescheduler.roster import Roster, day_from_roster, days_from_roster

from .runner import RESULTS, stamp

WEEK = [dt.date(2026, 3, 23) + dt.timedelta(days=d) for d in range(7)]
CALL_TIMES = [("07:30", "09:00"), ("11:30", "13:00"), ("16:30", "18:00"), ("20:00", "21:30")]


def council_roster(clients: int, carers: int, seed: int) -> Roster:
    rng = random.Random(seed)
    weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    def home() -> dict:
        return {"lat": 52.0 + rng.random() * 0.18, "lon": -1.0 + rng.random() * 0.29, "address": "1 Some Street"}

    staff = []
    for i in range(carers):
        split = [{"start": "07:00", "end": "13:30"}, {"start": "16:00", "end": "22:00"}]
        staff.append(
            {
                "id": f"carer-{i}",
                "home": home(),
                "skills": rng.sample(["hoist", "meds", "peg"], rng.randint(0, 2)),
                "contracted_hours": rng.choice([16, 24, 30, 37.5]),
                "max_daily_hours": 10,
                "availability": {d: split for d in rng.sample(weekdays, 5)},
                "absences": [{"start": "2026-03-23", "end": "2026-03-29"}] if rng.random() < 0.1 else [],
                "works_bank_holidays": rng.random() < 0.8,
            }
        )
    people = []
    for i in range(clients):
        package = []
        for j, (start, end) in enumerate(CALL_TIMES[: rng.choice([1, 2, 3, 3, 4])]):
            two = rng.random() < 0.25
            package.append(
                {
                    "id": f"call-{j}",
                    "weekdays": weekdays if rng.random() < 0.85 else weekdays[:5],
                    "window": {"start": start, "end": end},
                    "duration": rng.choice([15, 30, 30, 45, 60]),
                    "skills": rng.sample(["hoist", "meds"], 1) if two else [],
                    "carers_needed": 2 if two else 1,
                    "tasks": ["personal care", "medication"],
                }
            )
        people.append(
            {
                "id": f"client-{i}",
                "home": home(),
                "preferred_carers": [f"carer-{rng.randrange(carers)}" for _ in range(rng.randint(0, 2))],
                "package": package,
            }
        )
    return Roster.model_validate(
        {"name": "council", "skills": ["hoist", "meds", "peg"], "carers": staff, "clients": people}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--carers", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--name", default="roster-days")
    args = parser.parse_args()
    roster = council_roster(args.clients, args.carers, args.seed)
    day_from_roster(roster, WEEK[0])  # imports and the bank-holiday calendar, outside the timings
    rows = []
    for date in WEEK:
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            problem = day_from_roster(roster, date)
            seconds.append(time.perf_counter() - started)
        rows.append((date, len(problem.visits), len(problem.carers), statistics.median(seconds), max(seconds)))
        print(f"{date:%a %d %b}  {rows[-1][1]:>5} visits  {rows[-1][2]:>4} carers  {rows[-1][3]:.3f} s", flush=True)
    started = time.perf_counter()
    days_from_roster(roster, WEEK[0], WEEK[-1])
    week_s = time.perf_counter() - started
    print(f"the week at once: {week_s:.2f} s", flush=True)
    info = stamp()
    lines = [
        f"# {args.name}",
        "",
        f"{info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores",
        "",
        f"A made-up roster of {args.clients} clients and {args.carers} carers (seed {args.seed}); "
        f"each day generated {args.repeats} times with `day_from_roster`.",
        "",
        "| date | visits | carers | median s | slowest s |",
        "|---|---:|---:|---:|---:|",
        *(f"| {d:%a %d %b %Y} | {v} | {c} | {m:.3f} | {s:.3f} |" for d, v, c, m, s in rows),
        "",
        f"`days_from_roster` for the week: {week_s:.2f} s.",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
