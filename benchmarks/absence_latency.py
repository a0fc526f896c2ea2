"""A carer's absence, from the phone's report to the published replan, while another
organisation's solve keeps a worker busy.

    python -m benchmarks.absence_latency [--scenario fixtures/scenarios/medium.json.gz]
                                         [--tries 20] [--solve-seconds 30]
                                         [--database sqlite|postgresql]

Sets up a fresh database with two organisations: ``care`` holds the scenario as today's
day with a published plan, ``busy`` the same day to solve. Starts the service as it is
deployed (uvicorn, its job workers: by default one that runs replans only and one that
runs any job), with its clock standing at 08:00 today so that most of the day is still
to come. Then, ``--tries`` times: makes sure a ``--solve-seconds`` solve of ``busy`` is
running, has one of ``care``'s carers report an absence from the phone
(``POST /v1/me/days/{date}/absence``) and times until the replan job that absorbs it is
done (its plan is published in the same transaction). Each try is another carer; the
absences add up over the day.

Reports p50/p95/max of the report-to-published time, and of its parts (the job's wait
in the queue, its run); writes ``results/<name>.md`` and ``.csv``.

Target: p95 at most 3 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import secrets
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from .runner import RESULTS, stamp
from .service_load import _free_port, fresh_database, start_server

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "fixtures" / "scenarios" / "medium.json.gz"
SECRET = secrets.token_urlsafe(48)
TARGET_SECONDS = 3.0


def prepare(url: str, scenario: Path, date: str, solve_seconds: float) -> list[str]:
    """``care``'s day solved and published, ``busy``'s day loaded; returns the carers with
    visits in ``care``'s plan."""
    from api import store
    from api.db import make_engine, session_factory, transaction
    from api.migrate import upgrade
    from carescheduler.formats import read_problem
    from carescheduler.search.solver import solve

    upgrade(url)
    sessions = session_factory(make_engine(url))
    problem = read_problem(scenario)
    plan = solve(problem, time_limit=solve_seconds)
    with transaction(sessions) as session:
        for org in ("care", "busy"):
            store.ensure_org(session, org)
            day = store.put_day(session, org, date, problem, None)
            if org == "care":
                store.publish(session, day, store.add_plan(session, day, plan, "solve", "absence-run"))
    return sorted((r for r in plan.routes if r.visits), key=lambda r: -len(r.visits))


def start_service(url: str, port: int, frozen_at: str, replan_workers: int, solve_workers: int) -> subprocess.Popen:
    """The service as deployed (one uvicorn process, its job workers), its clock at ``frozen_at``."""
    settings = {
        "CARESCHEDULER_JWT_SECRET": SECRET,
        "CARESCHEDULER_WORKER": "true",
        "CARESCHEDULER_FROZEN_CLOCK": frozen_at,
        "CARESCHEDULER_REPLAN_WORKERS": str(replan_workers),
        "CARESCHEDULER_SOLVE_WORKERS": str(solve_workers),
    }
    return start_server(url, port, 1, settings)


def _wait(client, job: str, statuses: tuple[str, ...], poll: float, limit: float = 120.0) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        state = client.get(f"/v1/jobs/{job}").json()
        if state["status"] in statuses:
            return state
        time.sleep(poll)
    raise RuntimeError(f"job {job} still {state['status']} after {limit:g} s")


def run(port: int, date: str, carers: list[str], tries: int, solve_seconds: float) -> list[dict]:
    import httpx

    from api.config import Settings
    from api.security import mint_token

    settings = Settings(jwt_secret=SECRET, database_url="sqlite://")
    base = f"http://127.0.0.1:{port}"
    busy = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {mint_token(settings, 'busy', 'coordinator', 'b')}"}
    )
    care = httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {mint_token(settings, 'care', 'coordinator', 'c')}"}
    )
    solving: str | None = None
    rows = []
    with busy, care:
        for i, carer in enumerate(carers[:tries]):
            if solving is None or busy.get(f"/v1/jobs/{solving}").json()["status"] != "running":
                solving = busy.post(f"/v1/days/{date}/solve", json={"time_limit": solve_seconds}).json()["id"]
                _wait(busy, solving, ("running",), 0.05)
                time.sleep(1.0)  # let the solve get going: the absence must compete with it
                # and one more queued behind it, so that the solve worker stays busy
                busy.post(f"/v1/days/{date}/solve", json={"time_limit": solve_seconds})
            phone = {"Authorization": f"Bearer {mint_token(settings, 'care', 'carer', carer, carer)}"}
            started = time.perf_counter()
            reported = httpx.post(
                f"{base}/v1/me/days/{date}/absence",
                json={"reason": "unwell"},
                headers={**phone, "Idempotency-Key": f"absence-run-{i:04d}"},
                timeout=30,
            )
            reported_s = time.perf_counter() - started
            assert reported.status_code == 200 and reported.json()["job"], reported.text
            job = _wait(care, reported.json()["job"], ("done", "failed"), 0.05)
            total = time.perf_counter() - started
            assert job["status"] == "done", job
            busy_throughout = busy.get(f"/v1/jobs/{solving}").json()["status"] == "running"
            started_at = dt.datetime.fromisoformat(job["started_at"])
            waited = (started_at - dt.datetime.fromisoformat(job["created_at"])).total_seconds()
            ran = (dt.datetime.fromisoformat(job["finished_at"]) - started_at).total_seconds()
            rows.append(
                {
                    "try": i,
                    "carer": carer,
                    "report_s": round(reported_s, 3),
                    "queued_s": round(waited, 3),
                    "run_s": round(ran, 3),
                    "published_s": round(total, 3),
                    "plan": job["result_plan"],
                    "solve_running_throughout": busy_throughout,
                }
            )
            print(
                f"{i:3d} {carer:>12}  report {reported_s:6.3f} s  queued {waited:6.3f} s  run {ran:6.3f} s  "
                f"published {total:6.3f} s"
            )
    return rows


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--solve-seconds", type=float, default=30.0, help="the busy organisation's solve")
    parser.add_argument("--plan-seconds", type=float, default=10.0, help="the solve of the published plan")
    parser.add_argument("--replan-workers", type=int, default=1)
    parser.add_argument("--solve-workers", type=int, default=1)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--name", default="absence_latency", help="results file name")
    args = parser.parse_args()

    date = dt.date.today().isoformat()
    with tempfile.TemporaryDirectory(prefix="absence-run-") as tmp, ExitStack() as cleanup:
        url = fresh_database(args.database, Path(tmp), cleanup, parser)
        routes = prepare(url, args.scenario, date, args.plan_seconds)
        if len(routes) < args.tries:
            parser.error(f"the scenario has {len(routes)} carers with visits, fewer than --tries {args.tries}")
        port = _free_port()
        server = start_service(url, port, f"{date}T08:00:00", args.replan_workers, args.solve_workers)
        try:
            rows = run(port, date, [r.carer for r in routes], args.tries, args.solve_seconds)
        finally:
            server.terminate()
            server.wait(30)

    published = [r["published_s"] for r in rows]
    queued = [r["queued_s"] for r in rows]
    ran = [r["run_s"] for r in rows]
    p95 = _pct(published, 0.95)
    throughout = sum(r["solve_running_throughout"] for r in rows)
    lines = [
        (
            "report to published: p50 / p95 / max",
            f"{statistics.median(published):.2f} / {p95:.2f} / {max(published):.2f} s",
            f"p95 <= {TARGET_SECONDS:g} s",
            p95 <= TARGET_SECONDS,
        ),
        (
            "job waiting in the queue: p50 / p95 / max",
            f"{statistics.median(queued):.2f} / {_pct(queued, 0.95):.2f} / {max(queued):.2f} s",
            "",
            None,
        ),
        (
            "job running (replan and publish): p50 / p95 / max",
            f"{statistics.median(ran):.2f} / {_pct(ran, 0.95):.2f} / {max(ran):.2f} s",
            "",
            None,
        ),
    ]
    header = (
        f"`{args.scenario.name}` as today's day (clock at 08:00), published plan; {len(rows)} absences from the "
        f"phone, one carer each, adding up; meanwhile a {args.solve_seconds:g} s solve of another organisation "
        f"runs (the same solve from the report to the publication in {throughout} of {len(rows)} tries, "
        f"another queued behind it in the rest); {args.replan_workers} replan worker(s), "
        f"{args.solve_workers} solve worker(s); "
        f"{'SQLite (WAL)' if args.database == 'sqlite' else 'PostgreSQL (local server)'}; one uvicorn process."
    )
    print(header)
    for measure, value, target, ok in lines:
        print(f"{measure:>50}  {value:>24}  {target:>12}  {'' if ok is None else 'yes' if ok else 'NO'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = stamp()
    with open(RESULTS / f"{args.name}.md", "w") as handle:
        handle.write(
            f"# {args.name}\n\n{info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores\n\n"
            f"{header}\n\n| measure | value | target | met |\n|---|---:|---|---|\n"
        )
        for measure, value, target, ok in lines:
            handle.write(f"| {measure} | {value} | {target} | {'' if ok is None else 'yes' if ok else 'no'} |\n")
    with open(RESULTS / f"{args.name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
