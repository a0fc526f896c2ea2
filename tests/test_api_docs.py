"""The API's documentation pages work offline: ``/docs`` (Swagger UI) and ``/redoc`` load
their scripts and styles from this server (files installed with the service), and in a real
browser that can reach nothing but this machine they render every operation."""

from __future__ import annotations

import html
import json
import re
import secrets
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from browser import CHROMIUM, NO_CHROMIUM, chromium, png_rgb

PAGES = ["/docs", "/redoc"]


class References(HTMLParser):
    """Every URL a page names: src, href, ReDoc's spec-url and Swagger UI's ``url:``."""

    def __init__(self, text: str):
        super().__init__()
        self.urls: list[str] = []
        self.feed(text)
        self.urls += re.findall(r"""\burl:\s*['"]([^'"]+)['"]""", text)

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href", "spec-url") and value]


@pytest.fixture(scope="module")
def client():
    """The app without its start-up (no database: the pages and their files need none)."""
    return TestClient(create_app(Settings(jwt_secret=secrets.token_urlsafe(48), database_url="sqlite://")))


@pytest.mark.parametrize("page", PAGES)
def test_the_docs_pages_name_only_this_server_and_each_asset_answers(client, page):
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    urls = References(response.text).urls
    assert any(url.endswith(".js") for url in urls) and "/openapi.json" in urls, urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), f"{page} names {url}"
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content, url
    assert "googleapis" not in response.text and "cdn" not in response.text.lower()


def _operations(spec: dict) -> list[dict]:
    return [op for path in spec["paths"].values() for op in path.values()]


def _page_requests(netlog: Path) -> list[str]:
    """The URLs the page itself asked for (the browser's own calls have no origin)."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start
        and "url" in event.get("params", {})
        and (event["params"].get("initiator") != "not an origin" or event["params"].get("request_type") == "main frame")
    ]


def _painted(shot: Path, colour: tuple[int, int, int]) -> int:
    """How many pixels are (nearly) ``colour``."""
    pixels = png_rgb(shot).astype(int)
    return int((np.abs(pixels - np.array(colour)).max(axis=2) <= 8).sum())


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
@pytest.mark.parametrize("live_server", [{"CARESCHEDULER_WORKER": "false"}], indirect=True, ids=["no-worker"])
def test_in_a_browser_offline_the_docs_render_every_operation(live_server, tmp_path):
    spec = httpx.get(f"{live_server.url}/openapi.json", timeout=10).json()
    operations = _operations(spec)
    budget = "--virtual-time-budget=30000"  # until the page's scripts have fetched the spec and drawn it

    netlog = tmp_path / "docs-net.json"
    dom = chromium("--dump-dom", budget, f"--log-net-log={netlog}", f"{live_server.url}/docs", profile=tmp_path / "p1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    shown = re.findall(r'class="opblock-summary-operation-id"[^>]*>([^<]+)<', dom.stdout)
    assert sorted(shown) == sorted(op["operationId"] for op in operations)
    requested = _page_requests(netlog)
    assert f"{live_server.url}/docs/assets/swagger-ui-bundle.js" in requested
    assert f"{live_server.url}/openapi.json" in requested
    assert all(url.startswith(f"{live_server.url}/") for url in requested), requested

    shot = tmp_path / "docs.png"
    result = chromium(
        f"--screenshot={shot}", "--window-size=1280,1600", budget, f"{live_server.url}/docs", profile=tmp_path / "p2"
    )
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    # Swagger UI's method badges, in its own colours: drawn with its stylesheet
    assert _painted(shot, (0x61, 0xAF, 0xFE)) > 2000, "no GET badges"
    assert _painted(shot, (0x49, 0xCC, 0x90)) > 2000, "no POST badges"

    netlog = tmp_path / "redoc-net.json"
    dom = chromium("--dump-dom", budget, f"--log-net-log={netlog}", f"{live_server.url}/redoc", profile=tmp_path / "p3")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = html.unescape(dom.stdout)
    missing = [op["summary"] for op in operations if op["summary"] not in text]
    assert not missing, missing
    requested = _page_requests(netlog)
    assert f"{live_server.url}/docs/assets/redoc.standalone.js" in requested
    assert all(url.startswith(f"{live_server.url}/") for url in requested), requested
