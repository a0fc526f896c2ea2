"""A council week planned with the weekly terms, beside the same seven days planned one by one.

    python -m benchmarks.week [--roster fixtures/scenarios/council-roster.json.gz]
                              [--monday 2027-01-04] [--days 7] [--time-limit 60] [--seed 0]
                              [--first-only]

The days come from the council fixture roster (``days_from_roster``: about 5,000 calls
and 440 carers a day), with travel times on the Liechtenstein roads and footpaths
(``road_travel``, through the disk cache). Both runs get exactly these days and no care
history (the roster's first week), and each day's solve runs on one core:

- **weekly**: ``plan_week`` — hours left in the week, rest between days, contract owed
  spread over the days left, continuity from the week's earlier days with the roster's
  cap;
- **one by one**: ``plan_week(weekly=False)`` — each day solved alone, as a council
  would without this work.

Each is run twice: stopping every day after its first plan (``MaxIterations(0)``: the
time to the first valid week), then searching ``--time-limit`` seconds a day. For each
run the table gives the seconds, whether every day is valid and the week keeps the 48 h
and 11 h rules (``validate_week``), calls not covered, distinct carers per client over
the week (mean, 90th percentile, most, clients above the cap) and the spread of worked
minus contracted hours over the carers with a contract who work that week. Writes
``results/week.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import time
from pathlib import Path

import numpy as np

from .runner import RESULTS, stamp

ROOT = Path(__file__).resolve().parents[1]
ROSTER = ROOT / "fixtures" / "scenarios" / "council-roster.json.gz"
ROADS = ROOT / "fixtures" / "osm" / "liechtenstein-20150727.drive.osm.bz2"
FOOTPATHS = ROOT / "fixtures" / "osm" / "liechtenstein-20150727.walk.osm.bz2"
MONDAY = dt.date(2027, 1, 4)


def week_days(roster_path: Path, monday: dt.date, days: int):
    """The roster and its days from ``monday``, each with road and footpath travel times."""
    from carescheduler.roster import Roster, days_from_roster
    from carescheduler.travel import road_travel

    with gzip.open(roster_path, "rt", encoding="utf-8") as handle:
        roster = Roster.model_validate_json(handle.read())
    generated = days_from_roster(roster, monday, monday + dt.timedelta(days=days - 1))
    return roster, {d: road_travel(p, {"drive": ROADS, "walk": FOOTPATHS}) for d, p in generated.items()}


def figures_of(week, cap: int | None) -> dict:
    """What the week is like: validity, coverage, continuity and fair hours."""
    report = week.report
    counts = np.array(list(week.figures.carers_per_client.values()), dtype=float)
    differences = np.array([h.difference_minutes for h in week.figures.hours], dtype=float)
    return {
        "seconds": round(week.figures.seconds, 1),
        "days_valid": sum(r.valid for r in report.days.values()),
        "days": len(report.days),
        "week_valid": report.valid,
        "week_violations": sum(v.code in ("rest", "weekly_hours") for v in report.violations),
        "calls": sum(r.kpis.visits_total for r in report.days.values()),
        "uncovered": sum(r.kpis.visits_total - r.kpis.visits_assigned for r in report.days.values()),
        "mandatory_uncovered": sum(r.kpis.mandatory_unassigned for r in report.days.values()),
        "travel_hours": round(sum(r.kpis.travel_minutes for r in report.days.values()) / 60.0),
        "late_minutes": round(sum(r.kpis.total_lateness for r in report.days.values())),
        "carers_per_client_mean": round(float(counts.mean()), 2) if len(counts) else 0.0,
        "carers_per_client_p90": float(np.percentile(counts, 90)) if len(counts) else 0.0,
        "carers_per_client_max": int(counts.max()) if len(counts) else 0,
        "clients": len(counts),
        "clients_over_cap": len(week.figures.clients_over_cap),
        "cap": cap,
        "carers_with_contract": len(differences),
        "spread_std_hours": round(week.figures.spread_std_minutes / 60.0, 2),
        "spread_range_hours": round(week.figures.spread_range_minutes / 60.0, 1),
        "mean_abs_difference_hours": round(float(np.abs(differences).mean()) / 60.0, 2) if len(differences) else 0.0,
        "notes": len(week.notes),
        "uncovered_by_day": {str(d): r.kpis.visits_total - r.kpis.visits_assigned for d, r in report.days.items()},
        "week_violations_by_code": {
            code: sum(v.code == code for v in report.violations) for code in ("rest", "weekly_hours")
        },
    }


def run(roster_path: Path, monday: dt.date, days: int, time_limit: float, seed: int, first_only: bool) -> dict:
    from carescheduler.params import MaxIterations, MaxRuntime
    from carescheduler.roster import plan_week

    started = time.monotonic()
    roster, problems = week_days(roster_path, monday, days)
    load_s = time.monotonic() - started
    cap = roster.rules.continuity_cap
    sizes = {
        str(d): {"calls": len(p.visits), "carers": sum(1 for c in p.carers if c.shifts)} for d, p in problems.items()
    }
    runs: dict[str, dict] = {}
    stops = {"first plan": [MaxRuntime(600), MaxIterations(0)]}
    if not first_only:
        stops[f"{time_limit:g} s a day"] = [MaxRuntime(time_limit)]
    for label, stop in stops.items():
        for weekly in (True, False):
            name = f"{'weekly' if weekly else 'one by one'}, {label}"
            print(f"planning: {name}", flush=True)
            week = plan_week(roster, problems, None, weekly=weekly, stop=stop, seed=seed)
            runs[name] = figures_of(week, cap)
            print(json.dumps(runs[name]), flush=True)
    return {"load_seconds": round(load_s, 1), "sizes": sizes, "runs": runs}


ROWS = [
    ("seconds to plan the week", "seconds"),
    ("days valid", "days_valid"),
    ("11 h rest / 48 h broken", None),
    ("calls / not covered", None),
    ("travel hours", "travel_hours"),
    ("late minutes", "late_minutes"),
    ("distinct carers per client: mean", "carers_per_client_mean"),
    ("90th percentile / most", None),
    ("clients above the cap", "clients_over_cap"),
    ("worked - contracted: std (h)", "spread_std_hours"),
    ("range (h)", "spread_range_hours"),
    ("mean absolute (h)", "mean_abs_difference_hours"),
    ("notes", "notes"),
]


def _cell(row: dict, key: str | None, label: str) -> str:
    if label.startswith("calls"):
        return f"{row['calls']:,} / {row['uncovered']} ({row['mandatory_uncovered']} mandatory)"
    if label.startswith("11 h"):
        broken = row["week_violations_by_code"]
        return f"{broken['rest']} / {broken['weekly_hours']}"
    if label.startswith("90th"):
        return f"{row['carers_per_client_p90']:g} / {row['carers_per_client_max']}"
    if key == "days_valid":
        return f"{row['days_valid']} of {row['days']}"
    value = row[key] if key else ""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def size_lines(sizes: dict) -> list[str]:
    """A table of each date's calls and carers working (the weeks' benchmarks share it)."""
    return [
        "| " + " | ".join(sizes) + " |",
        "|" + "---|" * len(sizes),
        "| " + " | ".join(f"{s['calls']:,} / {s['carers']}" for s in sizes.values()) + " |",
    ]


def write(result: dict, args) -> None:
    info = stamp()
    names = list(result["runs"])
    lines = [
        "# A council week: weekly terms beside days one by one",
        "",
        f"Run {info.get('date', '')}, commit {info.get('commit', '')}, {info.get('cpu', '')}.",
        f"`python -m benchmarks.week --monday {args.monday} --days {args.days} --time-limit {args.time_limit:g}"
        f" --seed {args.seed}{' --first-only' if args.first_only else ''}`",
        "",
        f"Days and road times loaded in {result['load_seconds']} s. Calls / carers working:",
        "",
        *size_lines(result["sizes"]),
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for label, key in ROWS:
        lines.append(f"| {label} | " + " | ".join(_cell(result["runs"][n], key, label) for n in names) + " |")
    lines += ["", "Calls not covered, by day:", "", "| | " + " | ".join(result["sizes"]) + " |"]
    lines.append("|---|" + "---|" * len(result["sizes"]))
    for name in names:
        by_day = result["runs"][name]["uncovered_by_day"]
        lines.append(f"| {name} | " + " | ".join(str(by_day.get(d, "")) for d in result["sizes"]) + " |")
    out = RESULTS / "week.md"
    out.write_text("\n".join(lines) + "\n")
    (RESULTS / "week.json").write_text(json.dumps({**info, **result}, indent=1, default=str) + "\n")
    print("\n".join(lines))
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roster", type=Path, default=ROSTER)
    parser.add_argument("--monday", type=dt.date.fromisoformat, default=MONDAY)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds of search a day")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--first-only", action="store_true", help="only the first plan of each day")
    args = parser.parse_args()
    write(run(args.roster, args.monday, args.days, args.time_limit, args.seed, args.first_only), args)


if __name__ == "__main__":
    main()
