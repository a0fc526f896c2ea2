"""How long other requests wait while the service takes in a big day.

    python -m benchmarks.upload_health [--root DIR] [--tries 3] [--oversized] [--name NAME]

Starts the service (uvicorn, no job workers, SQLite in a temporary folder) from ``--root``
(a checkout: this one by default, or another commit's worktree for a before/after), then
PUTs a day near the service's limits (20,000 visits, 6,000 clients with 1,500 characters of
notes each: about 17 MB of JSON; with ``--oversized`` the probe's 4 MB day of 100,000 visits,
which the service refuses) while asking ``/health`` every 20 ms, and prints the PUT's
time and the slowest and median ``/health`` answer while it ran; writes one row per try to
``results/NAME.md`` and ``.csv`` (``upload_health``, or ``upload_health_oversized``). A day's
validation used to run on the event loop, where every other request waited for it.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from api.config import Settings
from api.security import mint_token

from .runner import command_line, write_rows
from .service_load import _free_port
from .time_limits import crowded_day

ROOT = Path(__file__).resolve().parents[1]


def big_day() -> bytes:
    day = crowded_day(20_000, 200, 6_000, 120.0).model_dump(mode="json")
    for client in day["clients"]:
        client["notes"] = "n" * 1500
    return json.dumps(day).encode()


def oversized_day() -> bytes:
    """The probe's day: 100,000 lean visits (about 4 MB), over the service's ``day_max``."""
    day = crowded_day(1, 20, 500).model_dump(mode="json", exclude_defaults=True)
    day["visits"] = [{"id": f"v{i}", "client": f"client{i % 500}", "duration": 15} for i in range(100_000)]
    return json.dumps(day).encode()


def one_try(root: Path, body: bytes) -> dict:
    secret = secrets.token_urlsafe(48)
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "PYTHONPATH": str(root),
            "DATABASE_URL": f"sqlite:///{folder}/service.db",
            "CARESCHEDULER_JWT_SECRET": secret,
            "CARESCHEDULER_WORKER": "false",
        }
        command = [sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port), "--log-level", "warning"]
        server = subprocess.Popen(command, env=env, cwd=root)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = mint_token(Settings(jwt_secret=secret, database_url="sqlite://"), "bench", "coordinator", "bench")
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            done, put = threading.Event(), {}

            def send() -> None:
                started = time.monotonic()
                answer = httpx.put(f"{base}/v1/days/2030-06-03", content=body, headers=headers, timeout=300)
                put.update(status=answer.status_code, seconds=time.monotonic() - started)
                done.set()

            threading.Thread(target=send).start()
            waits = []
            while not done.is_set():
                started = time.monotonic()
                httpx.get(f"{base}/health", timeout=60)
                waits.append(time.monotonic() - started)
                time.sleep(0.02)
            return {
                "put_status": put["status"],
                "put_seconds": round(put["seconds"], 2),
                "health_max": round(max(waits), 3),
                "health_median": round(statistics.median(waits), 3),
                "polls": len(waits),
            }
        finally:
            server.terminate()
            server.wait(15)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose service runs")
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--oversized", action="store_true", help="the probe's 100,000-visit day (refused)")
    parser.add_argument("--name", help="result file name (default: upload_health[_oversized])")
    args = parser.parse_args(argv)
    body = oversized_day() if args.oversized else big_day()
    print(f"day: {len(body) / 1e6:.1f} MB of JSON; service from {args.root}")
    rows = []
    for number in range(args.tries):
        row = {"try": number, **one_try(args.root, body)}
        print(row, flush=True)
        rows.append(row)
    root = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=args.root
    ).stdout.strip()
    write_rows(
        args.name or ("upload_health_oversized" if args.oversized else "upload_health"),
        rows,
        f"; `{command_line('upload_health', argv)}`; a {len(body) / 1e6:.1f} MB day; "
        f"service from {args.root} (commit {root or 'unknown'}); seconds",
    )


if __name__ == "__main__":
    main()
