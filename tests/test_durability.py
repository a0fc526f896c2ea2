"""A check-in that got a 2xx is on disk (SQLite): what is proved here, and how.

* The setting: every connection the service opens to SQLite is in WAL mode with
  ``synchronous=FULL`` (with ``NORMAL`` a commit in WAL mode is not synced; with ``OFF``
  nothing is).
* The claim: the server process, traced with ``strace``, syncs the database's write-ahead
  log (``fdatasync``, returning 0) after it reads a check-in's request and before it writes
  the 2xx answer. That is what survives a power cut, as far as the disk honours a sync;
  a real power cut (or dropping the page cache under a running server) cannot be staged
  on this machine, and ``kill -9`` (``test_api_process.py``) leaves the page cache intact.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.db import make_engine
from live_server import DATE, LiveServer
from test_api_process import _published_day

SYNCED = re.compile(r"^\d+\s+(?:f(?:data)?sync\(\d+<(?P<file>[^>]*)>\)|<\.\.\. f(?:data)?sync resumed>\))\s+= 0")
"""A sync that returned 0, in ``strace -f -y`` output (pid first)."""
UNFINISHED = re.compile(r"^\d+\s+f(?:data)?sync\(\d+<(?P<file>[^>]*)>")


def test_every_sqlite_connection_syncs_each_commit(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'service.db'}")
    try:
        connections = [engine.connect() for _ in range(3)]  # each new connection gets the settings
        for connection in connections:
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        for connection in connections:
            connection.close()
    finally:
        engine.dispose()


def _attach_strace(pid: int, log: Path) -> subprocess.Popen:
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed here (make test installs it as root with apt-get)")
    tracer = subprocess.Popen(
        [
            "strace",
            "-f",
            "-y",
            "-s",
            "64",
            "-e",
            "trace=read,write,recvfrom,sendto,fsync,fdatasync",
            "-o",
            str(log),
            "-p",
            f"{pid}",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert tracer.stderr is not None
    said = tracer.stderr.readline()  # "strace: Process N attached ..." once it traces every thread
    if "attached" not in said:
        tracer.kill()
        pytest.skip(f"strace cannot trace the server here: {said.strip()}")
    return tracer


def _synced_between(lines: list[str], first: int, last: int, wal: str) -> list[str]:
    """The syncs of ``wal`` that returned between lines ``first`` and ``last`` of a trace (a
    sync another thread's syscall interrupted shows as ``<... fdatasync resumed>``, its file
    on the ``<unfinished ...>`` line before)."""
    unfinished: dict[str, str] = {}
    synced = []
    for i, line in enumerate(lines[:last]):
        pid = line.split(maxsplit=1)[0]
        if "<unfinished ...>" in line and (started := UNFINISHED.match(line)):
            unfinished[pid] = started["file"]
        done = SYNCED.match(line)
        if done is None:
            continue
        file = done["file"] if done["file"] is not None else unfinished.pop(pid, "")
        if i > first and file.endswith(wal):
            synced.append(line)
    return synced


@pytest.mark.parametrize("live_server", [{"CARESCHEDULER_ALERT_SWEEP_SECONDS": "3600"}], indirect=True)
def test_a_check_in_is_synced_to_disk_before_its_2xx(live_server: LiveServer, tmp_path):
    plan = _published_day(live_server)
    route = next(r for r in plan["routes"] if r["visits"])
    phone = live_server.headers("carer", route["carer"])
    visit = route["visits"][0]["visit"]
    assert live_server.process is not None
    log = tmp_path / "strace.log"
    tracer = _attach_strace(live_server.process.pid, log)
    try:
        answer = httpx.post(
            f"{live_server.url}/v1/me/days/{DATE}/visits/{visit}/check-in",
            json={"at": 600},
            headers={**phone, "Idempotency-Key": "durable-check-in-1"},
            timeout=30,
        )
    finally:
        tracer.terminate()
        tracer.wait(30)
    assert answer.status_code == 200 and answer.json()["replayed"] is False, answer.text
    lines = log.read_text(errors="replace").splitlines()
    asked = next(i for i, line in enumerate(lines) if f'"POST /v1/me/days/{DATE}/visits/{visit}' in line[:400])
    answered = next(i for i, line in enumerate(lines) if i > asked and '"HTTP/1.1 200 OK' in line)
    synced = _synced_between(lines, asked, answered, "service.db-wal")
    assert synced, "no sync of the write-ahead log between the request and its 2xx:\n" + "\n".join(
        lines[asked : answered + 1]
    )
