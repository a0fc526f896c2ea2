"""The service as it runs: ``python -m api serve`` in its own process on a loopback port,
with its worker processes, a SQLite database of its own and a clock that stands still.

For tests that need real HTTP (a generated client, a browser, a kill -9, a stream of server
events) rather than FastAPI's in-process test client. ``AppServer`` serves an app from a
thread of the test's own process instead, for tests that reach into the app's state (its
clock, its database) and run its jobs when they choose; ``EventReader`` reads a
Server-Sent Events stream. The ``live_server`` fixture
(``conftest.py``) gives a started one; a test that needs other settings passes them,
``@pytest.mark.parametrize("live_server", [{"CARESCHEDULER_WORKER": "false"}], indirect=True)``,
or makes its own ``LiveServer``.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import httpx
import uvicorn

from api.config import Settings
from api.main import create_app
from api.security import mint_token
from api.worker import run_pending_jobs

ROOT = Path(__file__).resolve().parents[1]
DATE = "2030-06-03"
"""The day the tests plan (a Monday)."""
NOW = f"{DATE}T10:30:00"
"""Where the service's clock stands still (``CARESCHEDULER_FROZEN_CLOCK``, London time)."""
SECRET = secrets.token_urlsafe(48)
ORG = "north"

T = TypeVar("T")


def listening_socket() -> socket.socket:
    """A loopback socket on a port the system chose, already listening: held by the test for
    as long as its server lives, so no other program can take the port between its choice
    and its use (the server is handed the socket itself)."""
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.bind(("127.0.0.1", 0))
    held.listen(128)
    return held


def wait_for(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """Poll ``check`` until it returns something other than None (or fail after ``timeout``
    seconds): how a test waits on a server, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(every)


class LiveServer:
    """One server process. ``env`` adds to (or overrides) the service's settings; the database
    is ``workdir/service.db`` unless ``DATABASE_URL`` is given. ``start`` again after ``kill``
    brings it back on the same port and database: this process holds the listening socket
    and hands it to each server process it starts."""

    def __init__(self, workdir: Path, env: Mapping[str, str] | None = None):
        self.workdir = workdir
        self.socket = listening_socket()
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = workdir / "service.db"
        self.log = workdir / "server.log"
        self.env = {
            "DATABASE_URL": f"sqlite:///{self.database}",
            "CARESCHEDULER_JWT_SECRET": SECRET,
            "CARESCHEDULER_FROZEN_CLOCK": NOW,
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> LiveServer:
        # this checkout's library first: a worktree's, not the one the environment installed
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), **self.env}
        with self.log.open("ab") as log:  # the server's own output, for when it fails
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api", "serve", "--fd", str(self.socket.fileno())],
                cwd=self.workdir,  # no .env from the checkout
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=[self.socket.fileno()],
            )
        try:
            wait_for(self._answers, timeout, f"the server on port {self.port}")
        except (TimeoutError, RuntimeError):
            self.stop()
            raise RuntimeError(f"the server did not start:\n{self.output()}") from None
        return self

    def _answers(self) -> bool | None:
        assert self.process is not None
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200 or None
        except httpx.TransportError:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited") from None
            return None

    def output(self, tail: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else ""

    def kill(self) -> None:
        """``kill -9``: no clean shutdown (its worker processes notice and leave)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def settings(self) -> Settings:
        """Enough of the server's settings to mint tokens it accepts."""
        return Settings(jwt_secret=self.env["CARESCHEDULER_JWT_SECRET"], database_url="sqlite://")

    def token(self, role: str = "coordinator", carer: str | None = None, org: str = ORG) -> str:
        return mint_token(self.settings(), org, role, carer or role, carer)

    def headers(self, role: str = "coordinator", carer: str | None = None, org: str = ORG) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, carer, org)}"}

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.socket.close()


class AppServer:
    """``create_app(settings)`` served by uvicorn from a thread of this process: real HTTP,
    with the running app at hand (``.app``: its clock, its database sessions). Jobs do
    not run by themselves (``worker`` off): a test runs them with ``run_jobs`` when it
    chooses, at the app's service clock."""

    def __init__(self, settings: Settings):
        self.app = create_app(settings.model_copy(update={"worker": False}))
        self._socket = listening_socket()
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:  # poll until it listens (or fail)
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(15)
        self._socket.close()

    def run_jobs(self) -> int:
        return run_pending_jobs(self.app.state.sessions, clock=self.app.state.clock)

    @contextlib.contextmanager
    def stream(self, path: str, headers: dict) -> Iterator[EventReader]:
        """A Server-Sent Events connection to ``path``, read in a thread."""
        reader = EventReader(f"{self.url}{path}", headers)
        try:
            reader.connected.wait(15)
            yield reader
        finally:
            reader.close()


class EventReader:
    """Reads an SSE stream into a queue of ``{"id", "event", "data"}`` (data parsed as JSON)."""

    def __init__(self, url: str, headers: dict):
        self.events: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.ended = threading.Event()
        """Set when the server ended the stream (not when the test closed it)."""
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as answer:
                assert answer.status_code == 200, answer.read()
                self.connected.set()
                event: dict = {}
                for line in answer.iter_lines():
                    if line == "":
                        if "data" in event:
                            event["data"] = json.loads(event["data"])
                            self.events.put(event)
                        event = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        event[name] = value.removeprefix(" ")
        except Exception as error:  # closed by the test, or a failure the test will see
            if not self._closed:
                self.events.put(error)
        else:
            self.ended.set()
        finally:
            self.connected.set()

    def until(self, done: Callable[[dict], bool], timeout: float = 30) -> list[dict]:
        """The events received up to and including the first that is ``done``."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(event, Exception):
                raise event
            seen.append(event)
            if done(event):
                return seen

    def close(self) -> None:
        self._closed = True
        self._client.close()
