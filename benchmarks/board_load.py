"""How fast the coordinator's board opens the council day in a real browser, and whether
it stays responsive.

    python -m benchmarks.board_load [--loads 5] [--plan-seconds 60]

The council day (about 5,000 visits and 400 carers on the roads) with its published
plan (solved once, then read from the user cache: ``benchmarks.replan.published_plan``)
is written into a fresh SQLite database at 10:30 on the day, the service is started on it
(no job workers) and Debian's chromium, headless under Playwright, signs in with a
one-time link and opens ``/board/{date}`` ``--loads`` times. Each load is timed from the
navigation to the board's script having wired the page (``data-board-ready``), with the
browser's own timings beside it (first byte, DOMContentLoaded, load). Then, on the loaded
page: scrolled to the end until the last carers' rows, which the page fetches as they
come near, are drawn; then scrolling to the top and to the middle (to the next painted
frame); and a visit clicked until its panel shows. Target: the board loads in at most 2 s. Writes
``results/board_load.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from .council import SCENARIO, load_council
from .replan import published_plan
from .runner import RESULTS, stamp
from .service_load import SECRET, _free_port, start_server

ROOT = Path(__file__).resolve().parents[1]
DATE = "2030-06-03"
ORG = "council"
TARGET_SECONDS = 2.0


def prepare(folder: Path, secret: str, plan_seconds: float) -> tuple[str, dict]:
    """The council day and its plan in a new database; a sign-in link's path for it."""
    from api import store
    from api.browser_sessions import create_link
    from api.config import Settings
    from api.db import make_engine, session_factory, transaction
    from api.migrate import upgrade

    problem = load_council(SCENARIO)
    plan, _, cached, seconds = published_plan(problem, SCENARIO, plan_seconds, 0)
    url = f"sqlite:///{folder}/service.db"
    upgrade(url)
    settings = Settings(jwt_secret=secret, database_url=url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        store.ensure_org(session, ORG, "Council care at home")
        day = store.put_day(session, ORG, DATE, problem, None)
        row = store.add_plan(session, day, plan, "solve", "benchmark")
        store.publish(session, day, row)
        link = create_link(session, settings, ORG, "bench-coordinator")
    engine.dispose()
    facts = {
        "visits": len(problem.visits),
        "carers": len(problem.carers),
        "working": sum(1 for r in plan.routes if r.visits),
        "unassigned": len(plan.unassigned),
        "plan": "cached" if cached else f"solved in {seconds:.0f} s",
    }
    return link, facts


def measure(base: str, link: str, loads: int) -> dict:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no chromium (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        page.goto(base + link)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("body[data-board-ready='1']", timeout=60_000)
        rows = []
        for _ in range(loads):
            started = time.perf_counter()
            page.goto(f"{base}/board/{DATE}", wait_until="commit")
            page.wait_for_selector("body[data-board-ready='1']", timeout=60_000)
            ready = time.perf_counter() - started
            timing = page.evaluate(
                "() => { const n = performance.getEntriesByType('navigation')[0];"
                " return {first_byte: n.responseStart, dom: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
                " bytes: n.transferSize}; }"
            )
            rows.append({"ready": ready, **timing})
        size = page.evaluate("() => document.documentElement.outerHTML.length")
        drawn = page.evaluate(
            "() => new Promise(done => { const box = document.getElementById('timeline');"
            " const last = () => document.querySelector('.tl-rows > .tl-chunk:last-child .row');"
            " const t0 = performance.now(); box.scrollTop = box.scrollHeight;"
            " if (last()) return done(0);"
            " new MutationObserver((_, watcher) => { if (last()) { watcher.disconnect();"
            " done(performance.now() - t0); } }).observe(box, {childList: true, subtree: true}); })"
        )
        scroll = page.evaluate(
            "async () => { const box = document.getElementById('timeline'); const t0 = performance.now();"
            " box.scrollTop = 0; await new Promise(r => requestAnimationFrame(() =>"
            " requestAnimationFrame(r))); const down = performance.now() - t0; const t1 = performance.now();"
            " box.scrollTop = box.scrollHeight / 2;"
            " await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));"
            " return [down, performance.now() - t1]; }"
        )
        started = time.perf_counter()
        page.locator(".row[data-carer-id] button.visit").first.click()
        page.wait_for_selector("#visit-panel:not([hidden])")
        click = time.perf_counter() - started
        browser.close()
    ready = [r["ready"] for r in rows]
    return {
        "loads": loads,
        "ready_median_s": statistics.median(ready),
        "ready_max_s": max(ready),
        "first_byte_ms": statistics.median(r["first_byte"] for r in rows),
        "dom_content_loaded_ms": statistics.median(r["dom"] for r in rows),
        "load_ms": statistics.median(r["load"] for r in rows),
        "page_mb": size / 1e6,
        "scroll_to_end_ms": scroll[0],
        "scroll_back_ms": scroll[1],
        "last_rows_drawn_ms": drawn,
        "click_to_panel_ms": click * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--plan-seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    secret = SECRET
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        link, facts = prepare(folder, secret, args.plan_seconds)
        port = _free_port()
        url = f"sqlite:///{folder}/service.db"
        server = start_server(url, port, 1, {"CARESCHEDULER_FROZEN_CLOCK": f"{DATE}T10:30:00"})
        try:
            result = measure(f"http://127.0.0.1:{port}", link, args.loads)
        finally:
            server.terminate()
            server.wait(15)
    meta = stamp()
    verdict = "met" if result["ready_max_s"] <= TARGET_SECONDS else "MISSED"
    lines = [
        "# The board on the council day",
        "",
        f"`python -m benchmarks.board_load --loads {args.loads}` · commit {meta['commit']} · {meta['date']} · "
        f"{meta['cpu']} ({meta['cores']} cores) · headless chromium",
        "",
        f"Day: {facts['visits']:,} visits, {facts['carers']:,} carers ({facts['working']:,} with visits), "
        f"{facts['unassigned']:,} unassigned; plan {facts['plan']}. Page {result['page_mb']:.1f} MB.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| navigation to board ready, median of {args.loads} | {result['ready_median_s']:.2f} s |",
        f"| navigation to board ready, slowest | {result['ready_max_s']:.2f} s |",
        f"| first byte (browser, median) | {result['first_byte_ms']:.0f} ms |",
        f"| DOMContentLoaded (median) | {result['dom_content_loaded_ms']:.0f} ms |",
        f"| load event (median) | {result['load_ms']:.0f} ms |",
        f"| scroll to the end until its last rows are drawn (fetched as they come near) | "
        f"{result['last_rows_drawn_ms']:.0f} ms |",
        f"| then, all rows drawn: scroll to the top, to the next frame | {result['scroll_to_end_ms']:.0f} ms |",
        f"| then scroll to the middle, to the next frame | {result['scroll_back_ms']:.0f} ms |",
        f"| click a visit until its panel shows | {result['click_to_panel_ms']:.0f} ms |",
        "",
        f"Target: ready in at most {TARGET_SECONDS:g} s: **{verdict}**.",
        "",
    ]
    text = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "board_load.md").write_text(text)
    print(text)
    print(f"({dt.datetime.now():%H:%M:%S})")


if __name__ == "__main__":
    main()
