"""The browser tests' own tools (``browser.py``): Playwright drives Debian's chromium offline, and
axe-core finds what it should on a page, also one served with a strict Content-Security-Policy."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator, Mapping

import pytest

from browser import AXE, WCAG_TAGS, axe_findings, format_findings

STRICT_CSP = "default-src 'self'"

CLEAN = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>A clean page</title>
<link rel="stylesheet" href="/style.css"></head><body><main><h1>Runs</h1>
<p>Ann visits Bea at 08:00.</p><button type="button">Show the map</button></main>
<script>document.body.setAttribute("data-inline-ran", "1")</script>
<script src="/page.js"></script></body></html>"""

FLAWED = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>A flawed page</title>
<link rel="stylesheet" href="/style.css"></head><body><main><h1>Runs</h1>
<img src="/photo.png"><p class="faint">Hard to read</p><button type="button"></button></main></body></html>"""

FILES = {
    "/clean.html": ("text/html", CLEAN),
    "/flawed.html": ("text/html", FLAWED),
    "/style.css": ("text/css", "body{font:16px sans-serif;color:#222;background:#fff}.faint{color:#bbb}"),
    "/page.js": ("text/javascript", 'document.body.setAttribute("data-file-ran", "1");'),
}


@contextlib.contextmanager
def serve(files: Mapping[str, tuple[str, str]], headers: Mapping[str, str]) -> Iterator[str]:
    """``files`` (path -> content type, text) on a free loopback port, each answer with
    ``headers``; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path not in files:
                self.send_error(404)
                return
            kind, text = files[self.path]
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_page_under_a_strict_content_security_policy_is_still_checked(browser_page):
    page = browser_page
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    with serve(FILES, {"Content-Security-Policy": STRICT_CSP}) as url:
        page.goto(f"{url}/clean.html")
        # the policy is in force: the inline script was refused, the page's own file ran
        assert page.evaluate("document.body.getAttribute('data-inline-ran')") is None
        assert page.evaluate("document.body.getAttribute('data-file-ran')") == "1"
        assert any("inline" in m for m in blocked), blocked
        findings = axe_findings(page)
        assert not findings, format_findings(findings)

        page.goto(f"{url}/flawed.html")
        found = {f["id"]: f for f in axe_findings(page)}
    assert set(found) == {"image-alt", "button-name", "color-contrast"}, format_findings(list(found.values()))
    assert found["image-alt"]["impact"] == "critical"
    assert found["color-contrast"]["impact"] == "serious"
    assert 'class="faint"' in found["color-contrast"]["nodes"][0]["html"]
    assert "contrast" in found["color-contrast"]["nodes"][0]["summary"]


def test_findings_are_filtered_by_impact_and_read_well(browser_page):
    page = browser_page
    page.set_content(FLAWED.replace('<link rel="stylesheet" href="/style.css">', "<style>.faint{color:#bbb}</style>"))
    critical = axe_findings(page, impacts=("critical",))
    assert {f["id"] for f in critical} == {"image-alt", "button-name"}
    only_images = axe_findings(page, impacts=("critical",), include="img")
    assert [f["id"] for f in only_images] == ["image-alt"]
    assert axe_findings(page, disable=["image-alt", "button-name", "color-contrast"]) == []
    text = format_findings(critical)
    assert text.startswith("2 accessibility finding(s):")
    assert "- image-alt (critical): Images must have alternative text" in text
    assert '<img src="/photo.png">' in text


def test_the_wcag_tags_are_ones_axe_knows():
    if not AXE.exists():
        pytest.skip("axe-core not installed")
    source = AXE.read_text(encoding="utf-8")
    for tag in WCAG_TAGS:
        assert f'"{tag}"' in source or f"'{tag}'" in source, tag


def test_the_browser_reaches_nothing_outside_this_machine(browser_page):
    """No name resolves but loopback's: a page reaching for a CDN fails as it would offline."""
    from playwright.sync_api import Error

    with pytest.raises(Error, match="ERR_NAME_NOT_RESOLVED"):
        browser_page.goto("http://cdn.example.com/", timeout=20_000)
