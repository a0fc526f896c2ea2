"""Load run of the service on loopback: the carers' day read at a fixed rate, and job
submission.

    python -m benchmarks.service_load [--scenario fixtures/scenarios/medium.json.gz] [--rate 500]
                                      [--seconds 30] [--users 50] [--server-workers 2]
                                      [--driver wrk|locust] [--revalidate 0.8]

Sets up a fresh database (SQLite, or ``--database postgresql``) holding the scenario as
today's day with a published plan (one solve), starts the service (uvicorn,
``--server-workers`` processes, no job worker: nothing else competes for the cores), and
drives it with ``--users`` phones (one keep-alive connection each) asking for their carers'
days, ``--rate`` requests per second in all, each request with a carer's token; a share
``--revalidate`` of the requests sends the ETag the phone already has in
``If-None-Match`` (a phone polling a day it holds: 304 while nothing changed). Then 50
solve jobs are submitted one after another (``POST /v1/days/{date}/solve``, 202) and timed. Reports the achieved rate,
p50/p95/p99 latency and errors of the read, and the submission latencies; writes
``results/<name>.md`` and ``.csv``.

Two load generators: ``wrk`` (C, the default when it is installed: ``apt-get install
wrk``), which leaves the cores to the server — a small script sends on a fixed timetable
of ``rate`` requests a second over the connections (latency is timed from sending to
the answer, so queueing inside the server counts); and ``locust``
(Python, FastHttpUser with constant throughput; ``pip install -e ".[bench]"``), which
needs about a core of its own at 500 req/s and so competes with the server on a 2-core
machine.

Targets: carer's-day read p95 at most 20 ms at 500 req/s with no errors; job submission
at most 50 ms.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from .runner import RESULTS, stamp

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "fixtures" / "scenarios" / "medium.json.gz"
SECRET = secrets.token_urlsafe(48)
ORG = "load"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(kind: str, folder: Path, cleanup: ExitStack, parser: argparse.ArgumentParser) -> str:
    """The URL of an empty database: a SQLite file in ``folder``, or a database on a
    throwaway local PostgreSQL server (stopped by ``cleanup``)."""
    if kind != "postgresql":
        return f"sqlite:///{folder / 'service.db'}"
    from tests.postgres_server import PostgresServer, server_programs

    programs = server_programs()
    if programs is None:
        parser.error("PostgreSQL's server is not installed (apt-get install postgresql)")
    postgres = PostgresServer(programs).start()
    cleanup.callback(postgres.stop)
    return postgres.new_database()


def prepare(url: str, scenario: Path, solve_seconds: float) -> tuple[str, list[str]]:
    """The database at ``url`` with today's day solved and published; returns (date, carers)."""
    from api import store
    from api.db import make_engine, session_factory, transaction
    from api.migrate import upgrade
    from carescheduler.formats import read_problem
    from carescheduler.search.solver import solve

    upgrade(url)
    sessions = session_factory(make_engine(url))
    problem = read_problem(scenario)
    plan = solve(problem, time_limit=solve_seconds)
    date = dt.date.today().isoformat()
    with transaction(sessions) as session:
        store.ensure_org(session, ORG)
        day = store.put_day(session, ORG, date, problem, None)
        store.publish(session, day, store.add_plan(session, day, plan, "solve", "load-run"))
    carers = [r.carer for r in plan.routes if r.visits]
    return date, carers


def start_server(url: str, port: int, workers: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    """uvicorn serving ``api.main:app`` on loopback with ``workers`` processes, the job
    worker off unless ``env`` (more settings) turns it on; returns once it answers."""
    import httpx

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CARESCHEDULER_JWT_SECRET": SECRET,
        "CARESCHEDULER_WORKER": "false",
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    command = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", str(workers), "--log-level", "warning", "--no-access-log"], env=env, cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the service did not start")


LOCUSTFILE = """
import random
from locust import FastHttpUser, constant_throughput, task

TOKENS = {tokens!r}
ETAGS = {etags!r}
DATE = {date!r}
REVALIDATE = {revalidate!r}


class Phone(FastHttpUser):
    wait_time = constant_throughput({per_user})

    def on_start(self):
        i = random.randrange(len(TOKENS))
        self.headers = {{"Authorization": "Bearer " + TOKENS[i]}}
        self.holding = {{**self.headers, "If-None-Match": ETAGS[i]}}

    @task
    def my_day(self):
        headers = self.holding if random.random() < REVALIDATE else self.headers
        self.client.get(f"/v1/me/days/{{DATE}}", headers=headers, name="carer day")
"""


def run_locust(folder: Path, port: int, date: str, phones: Phones, rate: float, users: int, seconds: int) -> dict:
    locustfile = folder / "locustfile.py"
    text = LOCUSTFILE.format(
        tokens=phones.tokens, etags=phones.etags, revalidate=phones.revalidate, date=date, per_user=rate / users
    )
    locustfile.write_text(textwrap.dedent(text))
    prefix = folder / "locust"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=seconds + 120,
    )
    with open(f"{prefix}_stats.csv") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "carer day")
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rate": float(row["Requests/s"]),
        "p50_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
        "p99_ms": float(row["99%"]),
        "max_ms": float(row["Max Response Time"]),
    }


WRK_SCRIPT = """
local ffi = require("ffi")
ffi.cdef[[ typedef struct {{ long tv_sec; long tv_nsec; }} timespec; int clock_gettime(int, timespec *); ]]
local clock = ffi.new("timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)   -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local tokens = {{{tokens}}}
local etags = {{{etags}}}
local revalidate = {revalidate}
local path = "/v1/me/days/{date}"
local interval = {interval_ms}
local started = nil
local slot = 0
local sent = 0

request = function()
  sent = sent + 1
  local i = (sent % #tokens) + 1
  local headers = {{["Authorization"] = "Bearer " .. tokens[i]}}
  if (sent * 0.6180339887) % 1 < revalidate then headers["If-None-Match"] = etags[i] end
  return wrk.format("GET", path, headers)
end

-- the next request waits for its slot on a fixed timetable (one every interval ms in
-- all, whichever connection is free), so the rate holds whatever the latency
delay = function()
  if started == nil then started = now_ms() end
  slot = slot + 1
  return math.max(0, math.floor(started + slot * interval - now_ms()))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def run_wrk(folder: Path, port: int, date: str, phones: Phones, rate: float, users: int, seconds: int) -> dict:
    """``users`` keep-alive connections sending on a fixed timetable of ``rate`` requests
    a second in all (whichever connection is free takes the next slot); wrk counts an
    answer with status 400 or more as an error, as it does a failed socket."""
    script = folder / "phones.lua"
    tokens = ", ".join(f'"{t}"' for t in phones.tokens)
    etags = ", ".join("[[" + e + "]]" for e in phones.etags)
    script.write_text(
        WRK_SCRIPT.format(tokens=tokens, etags=etags, revalidate=phones.revalidate, date=date, interval_ms=1000 / rate)
    )
    done = subprocess.run(
        [
            "wrk",
            "-t",
            "1",
            "-c",
            str(users),
            "-d",
            f"{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    fields = next(line for line in done.stdout.splitlines() if line.startswith("RESULT")).split()[1:]
    requests, micros, socket_errors, status_errors, p50, p95, p99, most = map(int, fields)
    return {
        "requests": requests,
        "failures": socket_errors + status_errors,
        "rate": requests / (micros / 1e6),
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
        "max_ms": most / 1000,
    }


@dataclass
class Phones:
    """The carers' tokens, the ETag of each one's day, and the share of requests that
    send it back."""

    tokens: list[str]
    etags: list[str]
    revalidate: float


def held_days(port: int, date: str, tokens: list[str], revalidate: float) -> Phones:
    """Each phone reads its day once (as it would on starting) and keeps the ETag."""
    import httpx

    etags = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        for token in tokens:
            answer = client.get(f"/v1/me/days/{date}", headers={"Authorization": f"Bearer {token}"})
            answer.raise_for_status()
            etags.append(answer.headers["ETag"])
    return Phones(tokens, etags, revalidate)


def submissions(port: int, date: str, token: str, count: int = 50) -> list[float]:
    import httpx

    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(count):
            started = time.perf_counter()
            response = client.post(f"/v1/days/{date}/solve", json={"time_limit": 1})
            times.append(time.perf_counter() - started)
            assert response.status_code == 202, response.text
    return times


def main() -> None:
    from api.config import Settings
    from api.security import mint_token

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second in all")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--server-workers", type=int, default=2)
    parser.add_argument("--solve-seconds", type=float, default=10.0)
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="postgresql: a throwaway local server (Debian's postgresql package)",
    )
    parser.add_argument("--name", default="service_load", help="results file name")
    parser.add_argument(
        "--revalidate",
        type=float,
        default=0.8,
        help="share of reads sending the ETag the phone holds in If-None-Match (304 while unchanged)",
    )
    parser.add_argument(
        "--driver",
        choices=["wrk", "locust"],
        default="wrk" if shutil.which("wrk") else "locust",
        help="load generator (default wrk when installed)",
    )
    args = parser.parse_args()
    if args.driver == "wrk" and shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk), or use --driver locust")
    if args.driver == "locust" and importlib.util.find_spec("locust") is None:
        parser.error('locust is not installed: pip install -e ".[bench]"')

    settings = Settings(jwt_secret=SECRET, database_url="sqlite://")
    with tempfile.TemporaryDirectory(prefix="service-load-") as tmp, ExitStack() as cleanup:
        folder = Path(tmp)
        url = fresh_database(args.database, folder, cleanup, parser)
        date, carers = prepare(url, args.scenario, args.solve_seconds)
        tokens = [mint_token(settings, ORG, "carer", c, c) for c in carers]
        port = _free_port()
        server = start_server(url, port, args.server_workers)
        try:
            drive = run_wrk if args.driver == "wrk" else run_locust
            phones = held_days(port, date, tokens, args.revalidate)
            read = drive(folder, port, date, phones, args.rate, args.users, args.seconds)
            submit = submissions(port, date, mint_token(settings, ORG, "coordinator", "load-run"))
        finally:
            server.terminate()
            server.wait(30)
    submit_ms = sorted(1000 * t for t in submit)
    p95 = submit_ms[int(0.95 * (len(submit_ms) - 1))]
    lines = [
        (
            "carer's day read: achieved rate",
            f"{read['rate']:.0f} req/s",
            f"{args.rate:g} req/s",
            read["rate"] >= 0.95 * args.rate,
        ),
        (
            "carer's day read: requests / errors",
            f"{read['requests']} / {read['failures']}",
            "0 errors",
            read["failures"] == 0,
        ),
        (
            "carer's day read p50 / p95 / p99",
            f"{read['p50_ms']:.0f} / {read['p95_ms']:.0f} / {read['p99_ms']:.0f} ms",
            "p95 <= 20 ms",
            read["p95_ms"] <= 20,
        ),
        ("carer's day read max", f"{read['max_ms']:.0f} ms", "", None),
        (
            "job submission p50 / p95 / max",
            f"{statistics.median(submit_ms):.1f} / {p95:.1f} / {submit_ms[-1]:.1f} ms",
            "<= 50 ms",
            p95 <= 50,
        ),
    ]
    header = [
        f"`{args.scenario.name}` as today's day, published plan; {len(carers)} carers' tokens; "
        f"{args.users} phones ({args.driver}) at {args.rate:g} req/s for {args.seconds} s, "
        f"{args.revalidate:.0%} of the reads with the ETag held (304); uvicorn with "
        f"{args.server_workers} worker processes, "
        f"{'SQLite (WAL)' if args.database == 'sqlite' else 'PostgreSQL (local server)'}; "
        f"{args.driver} on the same machine."
    ]
    print("\n".join(header))
    for measure, value, target, ok in lines:
        print(f"{measure:>40}  {value:>24}  {target:>14}  {'' if ok is None else 'yes' if ok else 'NO'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / f"{args.name}.md", "w") as handle:
        info = stamp()
        handle.write(
            f"# {args.name}\n\n{info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores"
            "\n\n" + "\n".join(header) + "\n\n"
        )
        handle.write("| measure | value | target | met |\n|---|---:|---|---|\n")
        for measure, value, target, ok in lines:
            handle.write(f"| {measure} | {value} | {target} | {'' if ok is None else 'yes' if ok else 'no'} |\n")
    with open(RESULTS / f"{args.name}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["measure", "value"])
        writer.writerows([(k, v) for k, v in read.items()] + [("submit_ms", f"{t:.2f}") for t in submit_ms])


if __name__ == "__main__":
    main()
