"""Debian's chromium, headless, as the tests drive it.

Two ways in. The command line (``chromium``): a page's DOM after its scripts ran, a
screenshot, and the PNG decoded (``png_rgb``) to check what was painted. Playwright, for a
page a test works like a person does (sign in, click, drag, type, print): ``launch_chromium``
and ``new_page`` here, or the ``chromium_browser`` and ``browser_page`` fixtures
(``conftest.py``) that use them; ``axe_findings`` runs axe-core's accessibility rules on a
page, and ``screenshot_dir`` is where a test leaves its pictures for a person to look at.

    def test_the_page_is_accessible(browser_page, screenshots):
        browser_page.goto(url)
        browser_page.screenshot(path=screenshots / "page.png", full_page=True)
        findings = axe_findings(browser_page)
        assert not findings, format_findings(findings)

The browser resolves no name but loopback's (``OFFLINE``): a page that reached for anything
outside this machine (a CDN, web fonts) fails as it would offline, and the browser's own
background calls to its vendor go nowhere. Playwright drives Debian's chromium
(``executable_path``), never a browser of its own: nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "no chromium binary (Debian: apt-get install chromium; `make test` installs it when run as root)"
OFFLINE = "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost"
"""Every host name but loopback's unresolvable."""
NO_PLAYWRIGHT = "no playwright for Python (pip install -e '.[test]', which `make setup` runs)"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core, from npm at the version package-lock.json pins (``make js``)."""
NO_AXE = f"no axe-core at {AXE} (`make js` installs it with npm; without npm the accessibility checks are skipped)"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
"""axe-core's rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA (2.2 added no level-A rule)."""
SCREENSHOTS = "CARESCHEDULER_SCREENSHOTS"
"""The environment variable naming where screenshots go (default: test-screenshots/ in the repository)."""


def png_rgb(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG (what chromium writes) into an (h, w, 3) array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[pos + 8 : pos + 8 + length])
        elif kind == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    bpp = 3 if colour_type == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(chunks)), dtype=np.uint8).reshape(height, 1 + width * bpp)
    out = np.zeros((height, width * bpp), dtype=np.uint8)
    prior = np.zeros(width * bpp, dtype=np.int64)
    for r in range(height):
        kind, line = int(raw[r, 0]), raw[r, 1:].astype(np.int64)
        if kind == 0:
            row = line
        elif kind == 1:
            row = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) & 255
        elif kind == 2:
            row = (line + prior) & 255
        else:  # average and Paeth depend on the left neighbour: byte by byte
            cur, up = line.tolist(), prior.tolist()
            for i in range(len(cur)):
                a = cur[i - bpp] if i >= bpp else 0
                if kind == 3:
                    cur[i] = (cur[i] + ((a + up[i]) >> 1)) & 255
                    continue
                b, c = up[i], (up[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            row = np.array(cur, dtype=np.int64)
        out[r] = row
        prior = row
    return out.reshape(height, width, bpp)[:, :, :3]


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",  # no update checks, no sign-in, no field trials
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        f"--host-resolver-rules={OFFLINE}",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        preexec_fn=(lambda: os.nice(10)) if hasattr(os, "nice") else None,
    )


# -- Playwright ---------------------------------------------------------------------------------


@contextlib.contextmanager
def launch_chromium(*args: str) -> Iterator[Browser]:
    """Debian's chromium under Playwright, headless and offline (``OFFLINE``); ``args`` are
    more command-line switches. Skips the test when chromium or Playwright is missing."""
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(NO_PLAYWRIGHT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                f"--host-resolver-rules={OFFLINE}",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--no-first-run",
                *args,
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def new_page(browser: Browser, *, width: int = 1280, height: int = 900, **options: Any) -> Iterator[Page]:
    """A page in a fresh browser context (its own cookies and storage), closed afterwards.

    ``options`` go to ``Browser.new_context`` (``locale``, ``color_scheme``,
    ``device_scale_factor``...). The locale is en-GB and the time zone London's unless
    given: dates and times show as a coordinator here sees them."""
    options.setdefault("locale", "en-GB")
    options.setdefault("timezone_id", "Europe/London")
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot_dir() -> Path:
    """Where tests leave screenshots for a person to look at after a run: ``$CARESCHEDULER_SCREENSHOTS``,
    or ``test-screenshots/`` in the repository (git ignores it). Made if missing."""
    path = Path(os.environ.get(SCREENSHOTS) or ROOT / "test-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- axe-core -------------------------------------------------------------------------------------


def axe_findings(
    page: Page,
    impacts: Iterable[str] = ("serious", "critical"),
    *,
    tags: Iterable[str] = WCAG_TAGS,
    include: str | None = None,
    disable: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1/2.2 A and AA violations on the page as it is now, those of the
    given ``impacts`` (of minor, moderate, serious, critical). Each is ``{"id", "impact",
    "help", "url", "nodes": [{"target", "html", "summary"}]}``; ``format_findings`` makes
    them readable. ``include`` limits the check to a CSS selector's elements; ``disable``
    names rules not to run. Skips the test when axe-core is not installed (``make js``).

    The checker is evaluated through the browser's debugging protocol, not added as a
    script element, so a page whose Content-Security-Policy forbids inline scripts and
    eval is checked as it is served."""
    if not AXE.exists():
        pytest.skip(NO_AXE)
    if not page.evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    if disable := list(disable):
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    violations = page.evaluate(
        """([include, options]) => axe.run(include === null ? document : {include: [include]}, options)
            .then(result => result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
            })))""",
        [include, options],
    )
    wanted = set(impacts)
    return [v for v in violations if v["impact"] in wanted]


def format_findings(findings: list[dict[str, Any]], nodes: int = 5) -> str:
    """axe findings as lines a person can act on: rule, impact, what to fix, and up to ``nodes``
    elements of each (selector, markup, axe's summary)."""
    lines = [f"{len(findings)} accessibility finding(s):"]
    for finding in findings:
        lines.append(f"- {finding['id']} ({finding['impact']}): {finding['help']} <{finding['url']}>")
        for node in finding["nodes"][:nodes]:
            lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:200]}")
            lines += [f"      {line}" for line in (node["summary"] or "").splitlines()]
        if len(finding["nodes"]) > nodes:
            lines.append(f"    ... and {len(finding['nodes']) - nodes} more")
    return "\n".join(lines)
