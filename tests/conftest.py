"""What the tests share: where the data are, the days most tests start from, the service
running in its own process (``live_server``), the service's databases (``database_url``:
SQLite and a throwaway PostgreSQL server, ``postgres``), a Ray cluster of two nodes on loopback
(``ray_cluster``: see ``ray_cluster.py``), and a real browser (``chromium_browser``,
``browser_page``, ``screenshots``: see ``browser.py``).

The constants are plain paths (importable as ``from conftest import SCENARIOS``, for
tests that parametrise over files); the fixtures load each day once per session.

``pytest --hypothesis-profile=no-shrink`` reports a property test's first failing example
at once instead of shrinking it first (shrinking a solver's input can take minutes).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import Phase, settings

from benchmarks.runner import shared_benchmarks
from browser import launch_chromium, new_page, screenshot_dir
from carescheduler.domain import Problem
from carescheduler.formats import read_problem
from live_server import LiveServer
from postgres_server import PostgresServer, server_programs
from ray_cluster import RayCluster

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

settings.register_profile("no-shrink", phases=[Phase.explicit, Phase.reuse, Phase.generate])

ROOT = Path(__file__).resolve().parents[1]
"""The repository."""
FIXTURES = ROOT / "fixtures"
BENCHMARK_SAMPLES = FIXTURES / "benchmarks"
"""Small copies of public benchmark instances and published solutions."""
SCENARIOS = FIXTURES / "scenarios"
"""Generated care days: small (60 visits), medium (the demo day), council."""
OSM = FIXTURES / "osm"
"""OpenStreetMap extracts the travel tests read offline."""
EXAMPLES = FIXTURES / "examples"
"""The plan and events files the README's examples use."""
SMALL = SCENARIOS / "small.json.gz"
MEDIUM = SCENARIOS / "medium.json.gz"
SHARED_BENCHMARKS = shared_benchmarks()
"""The full public benchmark sets beside the repository (absent on some machines)."""


@pytest.fixture(scope="session")
def small_day() -> Problem:
    """The small generated day: 60 visits, 6 carers, doubles, skills and breaks."""
    return read_problem(SMALL)


@pytest.fixture(scope="session")
def medium_day() -> Problem:
    """The demo day: about 400 visits and 36 carers on real roads."""
    return read_problem(MEDIUM)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    """A PostgreSQL server for the session (``postgres_server.py``), or None where its server
    programs are not installed."""
    programs = server_programs()
    if programs is None:
        yield None
        return
    server = PostgresServer(programs).start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, postgres) -> str:
    """A fresh, empty database for the service: each test using it runs on SQLite and on
    PostgreSQL (``pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)`` for
    one only)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    if postgres is None:
        pytest.skip("PostgreSQL's server is not installed here (make test installs it as root with apt-get)")
    return postgres.new_database()


@pytest.fixture()
def live_server(request, tmp_path) -> Iterator[LiveServer]:
    """The service running in its own process (``live_server.py``): a free port, its worker
    processes, a fresh SQLite database, the clock standing at ``live_server.NOW``. Other
    settings by indirect parametrisation: a dict of environment variables."""
    with LiveServer(tmp_path, getattr(request, "param", None)) as server:
        yield server


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[RayCluster]:
    """A Ray cluster of a head and a second node on loopback, joined by this process, once
    per test module (a test that kills a node adds one back)."""
    with RayCluster(nodes=2) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Debian's chromium under Playwright, headless and offline, started once per session
    (skips when chromium or Playwright is missing)."""
    with launch_chromium() as browser:
        yield browser


@pytest.fixture()
def browser_page(chromium_browser: Browser) -> Iterator[Page]:
    """A fresh page (its own context: no cookies or storage from another test), 1280 x 900."""
    with new_page(chromium_browser) as page:
        yield page


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """The folder tests write screenshots to (``$CARESCHEDULER_SCREENSHOTS``, else test-screenshots/)."""
    return screenshot_dir()
