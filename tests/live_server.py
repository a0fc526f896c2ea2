"""The service on a real socket: uvicorn serving ``create_app(settings)`` from a thread on
a free loopback port, for tests that need real HTTP (streams, generated clients).

Jobs do not run by themselves (``worker`` off): a test runs them with ``run_jobs`` when
it chooses, at the app's service clock.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import uvicorn

from api.config import Settings
from api.main import create_app
from api.worker import run_pending_jobs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, settings: Settings):
        self.app = create_app(settings.model_copy(update={"worker": False}))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
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
