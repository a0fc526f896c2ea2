"""Shared machinery of the benchmark runners: run instances in parallel, write CSV/markdown.

Each instance is solved in its own process (``--jobs`` at a time) with the library's
``solve``; every plan is checked by the independent validator. Results are stamped with
the date, commit, CPU and worker count so runs can be compared later.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def shared_benchmarks() -> Path:
    env = os.environ.get("CARESCHEDULER_BENCHMARKS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "benchmarks"


class _Seeds(argparse.Action):
    """``--seeds 0 1 2``, ``--seeds 0,1,2`` or ``--seed 3``: a flat list of ints."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        seeds = []
        for value in values:
            for part in value.split(","):
                try:
                    seeds.append(int(part))
                except ValueError:
                    parser.error(f"{option_string}: not a seed: {part!r}")
        setattr(namespace, self.dest, seeds)


def add_seed_option(parser: argparse.ArgumentParser) -> None:
    """The runners' seed option: one run per instance and seed, each seed given to ``solve``
    (and recorded in the result rows)."""
    parser.add_argument(
        "--seeds",
        "--seed",
        dest="seeds",
        nargs="+",
        action=_Seeds,
        default=[0],
        metavar="N",
        help="solver seeds, one run per instance and seed: --seed 3, --seeds 0 1 or --seeds 0,1 (default: 0)",
    )


def stamp() -> dict:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "commit": commit,
        "cpu": cpu,
        "cores": os.cpu_count(),
    }


def stamp_with_changes() -> dict:
    """``stamp()``, its commit marked ``+changes`` when src/ has uncommitted edits."""
    info = stamp()
    try:
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], capture_output=True, text=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except OSError:
        changed = ""
    if changed:
        info["commit"] += "+changes"
    return info


def solve_one(job: dict) -> dict:
    """Run in a worker process: read, solve, validate one instance."""
    from carescheduler.formats import read_iolab_solution, read_problem, to_iolab_solution
    from carescheduler.search.solver import solve
    from carescheduler.validator import validate

    problem = read_problem(job["path"])
    started = time.monotonic()
    plan = solve(problem, time_limit=job["time_limit"], seed=job.get("seed", 0), workers=job.get("workers", 1))
    seconds = time.monotonic() - started
    report = validate(problem, plan)
    # The iolab export must describe the same plan: read it back and validate it too.
    exported = validate(problem, read_iolab_solution(problem, to_iolab_solution(problem, plan)))
    export_ok = exported.valid and abs(exported.cost.total - report.cost.total) <= 0.01
    bks = job.get("bks")
    cost = report.cost.total
    gap = 100.0 * (cost - bks) / bks if bks else None
    return {
        "instance": job["instance"],
        "seed": job.get("seed", 0),
        "cost": round(cost, 3),
        "bks": bks,
        "gap_pct": None if gap is None else round(gap, 2),
        "seconds": round(seconds, 2),
        "valid": report.valid,
        "export_valid": export_ok,
        "unassigned": len(plan.unassigned),
        "iterations": plan.solver.iterations,
        "status": plan.solver.status,
    }


def command_line(module: str, argv: list[str] | None) -> str:
    """The command that reproduces a run, for its result file."""
    return f"python -m benchmarks.{module} {shlex.join(sys.argv[1:] if argv is None else argv)}".strip()


def run(name: str, jobs: list[dict], parallel: int, command: str | None = None) -> list[dict]:
    info = stamp_with_changes()  # before solving: a commit made while this runs is not what ran
    rows = []
    with ProcessPoolExecutor(max_workers=parallel) as pool:
        for row in pool.map(solve_one, jobs):
            print(
                f"{row['instance']:>50}  seed {row['seed']}  cost {row['cost']:>10}  bks {row['bks']}  "
                f"gap {row['gap_pct']}%  valid {row['valid']}  {row['seconds']} s",
                flush=True,
            )
            rows.append(row)
    write(name, rows, command, info)
    return rows


def write(name: str, rows: list[dict], command: str | None = None, info: dict | None = None) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = info or stamp()
    gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
    instances = len({r["instance"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})
    runs = (
        f"{len(rows)} instances"
        if len(seeds) == 1
        else f"{len(rows)} runs ({instances} instances, seeds {' '.join(map(str, seeds))})"
    )
    summary = (
        f"{runs}, {sum(r['valid'] for r in rows)} valid, "
        f"{sum(r['export_valid'] for r in rows)} iolab exports valid; "
        + (f"mean gap {sum(gaps) / len(gaps):.2f}%, max gap {max(gaps):.2f}%" if gaps else "no gaps")
    )
    with open(RESULTS / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# {name}",
        "",
        f"{info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores",
        "",
        *([f"`{command}`", ""] if command else []),
        summary,
        "",
        "| instance | seed | cost | best known | gap % | seconds | valid | export valid | unassigned |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['instance']} | {r['seed']} | {r['cost']} | {r['bks']} | {r['gap_pct']} | {r['seconds']} | "
            f"{r['valid']} | {r['export_valid']} | {r['unassigned']} |"
        )
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print(summary)


def write_rows(name: str, rows: list[dict], note: str = "") -> None:
    """``results/NAME.csv`` and a Markdown table of the same rows, stamped with the date,
    commit and machine (and ``note``)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = stamp()
    with open(RESULTS / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    keys = list(rows[0])
    lines = [
        f"# {name}",
        "",
        f"{info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores{note}",
        "",
    ]
    lines += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
