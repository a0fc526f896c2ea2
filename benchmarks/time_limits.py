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

With ``--service`` the same days go through the service as it is deployed (its own
process and job workers, SQLite): each day is PUT (the 100,000-visit day is over the
service's ``day_max`` and must be refused), a solve job with the case's time limit runs,
and the runner records the job's run time (``finished_at - started_at``) and its overrun;
then a solve of 300 s is cancelled one second after it started running, and the runner
records how long after the cancel request the job showed ``cancelled``.

Writes ``results/time_limits.md`` (or ``time_limits_service.md``) and ``.csv`` and prints
the table. The quick cases are the ones ``benchmarks/test_time_limits.py`` runs in CI.
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


def run_service_case(case: Case, base: str, headers: dict[str, str], date: str) -> dict:
    """One case through the service at ``base``: PUT the day, a solve, a cancelled solve."""
    import datetime as dt

    import httpx

    problem = crowded_day(case.visits, case.carers, case.clients, case.window_minutes)
    put = httpx.put(f"{base}/v1/days/{date}", json=problem.model_dump(mode="json"), headers=headers, timeout=300)
    row: dict = {"case": case.name, "visits": case.visits, "time_limit": case.time_limit, "put": put.status_code}
    if put.status_code != 201:
        row["refused"] = put.json().get("detail", "")[:80]
        return row

    def job(job_id: str) -> dict:
        return httpx.get(f"{base}/v1/jobs/{job_id}", headers=headers, timeout=30).json()

    def until(job_id: str, states: tuple[str, ...], limit: float = 900) -> dict:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            state = job(job_id)
            if state["status"] in states:
                return state
            time.sleep(0.05)
        raise TimeoutError(f"{case.name}: job {job_id} not {states} within {limit} s")

    solve_job = httpx.post(f"{base}/v1/days/{date}/solve", json={"time_limit": case.time_limit}, headers=headers)
    done = until(solve_job.json()["id"], ("done", "failed", "cancelled"))
    ran = (
        dt.datetime.fromisoformat(done["finished_at"]) - dt.datetime.fromisoformat(done["started_at"])
    ).total_seconds()
    row.update(status=done["status"], job_seconds=round(ran, 3), overrun=round(ran - case.time_limit, 3))
    long_job = httpx.post(f"{base}/v1/days/{date}/solve", json={"time_limit": 300}, headers=headers).json()
    until(long_job["id"], ("running",))
    time.sleep(1.0)  # let it get well into its first plan
    asked = time.monotonic()
    httpx.post(f"{base}/v1/jobs/{long_job['id']}/cancel", headers=headers, timeout=30)
    cancelled = until(long_job["id"], ("cancelled", "done", "failed"))
    row.update(cancel_status=cancelled["status"], cancel_latency=round(time.monotonic() - asked, 3))
    return row


def service_main(cases: list[Case]) -> list[dict]:
    """The cases through a service started here (SQLite in a temporary folder)."""
    import datetime as dt
    import tempfile

    from api.config import Settings
    from api.security import mint_token

    from .service_load import SECRET, _free_port, start_server

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        port = _free_port()
        server = start_server(f"sqlite:///{folder}/service.db", port, 1, {"CARESCHEDULER_WORKER": "true"})
        try:
            token = mint_token(Settings(jwt_secret=SECRET, database_url="sqlite://"), "bench", "coordinator", "bench")
            headers = {"Authorization": f"Bearer {token}"}
            for i, case in enumerate(cases):
                date = (dt.date(2030, 6, 3) + dt.timedelta(days=i)).isoformat()
                rows.append(run_service_case(case, f"http://127.0.0.1:{port}", headers, date))
                print(rows[-1], flush=True)
        finally:
            server.terminate()
            server.wait(30)
    return rows


def service_table(rows: list[dict]) -> list[str]:
    lines = [
        "| day | limit (s) | PUT | job ran (s) | overrun (s) | cancel of a 300 s solve: shown cancelled after (s) |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        if r["put"] != 201:
            lines.append(f"| {r['case']} | {r['time_limit']:g} | {r['put']}: {r['refused']} | | | |")
            continue
        lines.append(
            f"| {r['case']} | {r['time_limit']:g} | 201 | {r['job_seconds']:.2f} | {r['overrun']:+.2f} "
            f"| {r['cancel_latency']:.2f} ({r['cancel_status']}) |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="*", default=["all"], help="all, quick, or case names")
    parser.add_argument("--cancel-after", type=float, default=1.0)
    parser.add_argument("--service", action="store_true", help="through the service (its process and workers)")
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
    RESULTS.mkdir(exist_ok=True)
    info = stamp()
    if args.service:
        rows = service_main([c for c in CASES if c.name in wanted])
        head = f"# Time limits and cancel through the service ({info['date']}, commit {info['commit']}, "
        text = "\n".join([head + f"{info['cpu']}, {info['cores']} cores)", "", *service_table(rows)]) + "\n"
        (RESULTS / "time_limits_service.md").write_text(text)
        print(text)
        return
    rows = []
    for case in CASES:
        if case.name in wanted:
            rows.append(run_case(case, args.cancel_after))
            print(rows[-1], flush=True)
    with (RESULTS / "time_limits.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
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
