"""A throwaway PostgreSQL server on loopback for the tests (Debian's ``postgresql``).

The service's tests run against SQLite and, when PostgreSQL's server programs are on this
machine, against a real PostgreSQL too: a cluster made in a temporary folder, listening on
a Unix socket in that folder only (no TCP port another program could hold), stopped at the
end. ``make test`` installs the Debian package
when it can (root with apt-get); without it the PostgreSQL runs are skipped, saying why.
As root the server runs as the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def server_programs() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, if PostgreSQL's server is installed."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


class PostgresServer:
    def __init__(self, programs: Path):
        self.programs = programs
        self.folder = Path(tempfile.mkdtemp(prefix="carescheduler-pg-"))
        self.data = self.folder / "data"
        self._as_postgres = os.geteuid() == 0
        self._databases = 0

    def _run(self, *args: str) -> None:
        command = [str(self.programs / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def start(self) -> PostgresServer:
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "tester", "--no-sync", "-E", "UTF8")
        options = f"-k {self.folder} -c listen_addresses='' -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start")
        return self

    def new_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        self._databases += 1
        name = f"test_{self._databases}"
        with psycopg.connect(f"host={self.folder} user=tester dbname=postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://tester@/{name}?host={self.folder}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
