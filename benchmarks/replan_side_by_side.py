"""The replanning benchmark's cases on two checkouts, side by side in one run.

    python -m benchmarks.replan_side_by_side OTHER [OTHER ...] [--rounds 2] [--absences 12]
                                             [--recommendations 30] [--name replan_side_by_side]

This machine's speed drifts by a third within an hour, so speed claims compare checkouts
in turn, not runs made at different times. Each OTHER is a checkout of this repository
(``git worktree add /tmp/before <commit>``); this checkout is measured too. In each of
``--rounds`` rounds every checkout runs once, in its own process with its own code
(``src`` and ``benchmarks`` first on the path): the council day and its published plan
(``benchmarks.replan``'s, from the user cache), one untimed case of each kind, then
``--absences`` absences (``replan.absence``, cases from seed 0 as the replanning
benchmark draws them) and ``--recommendations`` recommendations on three Recommenders.
Writes ``results/<name>.md`` and ``.csv``: per checkout, p50 and p95 over all rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from .runner import write_rows

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, sys
root = sys.argv[1]
sys.path[:0] = [root + "/src", root]
import numpy as np
from benchmarks.council import SCENARIO, load_council
from benchmarks.replan import absence, published_plan, recommendations
problem = load_council()
plan = published_plan(problem, SCENARIO, 60.0, 0)[0]
absence(problem, plan, np.random.default_rng(9), 0, 1.0)
recommendations(problem, plan, np.random.default_rng(9), 2, builders=1)
rng = np.random.default_rng([0, 1])
absences = [absence(problem, plan, rng, i, 1.0)["seconds"] for i in range(int(sys.argv[2]))]
asked, _ = recommendations(problem, plan, np.random.default_rng([0, 3]), int(sys.argv[3]), builders=3)
print(json.dumps({"absences": absences, "recommendations": [r["seconds"] for r in asked]}))
"""


def _commit(root: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


def run(checkouts: list[Path], rounds: int, absences: int, recommendations: int) -> list[dict]:
    times: dict[Path, dict[str, list[float]]] = {c: {"absences": [], "recommendations": []} for c in checkouts}
    for r in range(rounds):
        for checkout in checkouts:
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, str(checkout), str(absences), str(recommendations)],
                capture_output=True,
                text=True,
                check=True,
                cwd=checkout,
                env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},  # the checkout's own code
            )
            found = json.loads(done.stdout.strip().splitlines()[-1])
            for kind in times[checkout]:
                times[checkout][kind] += found[kind]
            print(f"round {r + 1}: {checkout} done", flush=True)
    rows = []
    for checkout, kinds in times.items():
        row: dict = {"checkout": str(checkout), "commit": _commit(checkout)}
        for kind, seconds in kinds.items():
            row[f"{kind}_n"] = len(seconds)
            row[f"{kind}_p50_ms"] = round(1000 * float(np.percentile(seconds, 50)), 1)
            row[f"{kind}_p95_ms"] = round(1000 * float(np.percentile(seconds, 95)), 1)
        rows.append(row)
        print(row, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("others", type=Path, nargs="+", help="other checkouts of this repository")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--absences", type=int, default=12)
    parser.add_argument("--recommendations", type=int, default=30)
    parser.add_argument("--name", default="replan_side_by_side")
    args = parser.parse_args()
    checkouts = [c.resolve() for c in args.others] + [ROOT]
    rows = run(checkouts, args.rounds, args.absences, args.recommendations)
    note = f"; {args.rounds} rounds, {args.absences} absences and {args.recommendations} recommendations each"
    write_rows(args.name, rows, note)


if __name__ == "__main__":
    main()
