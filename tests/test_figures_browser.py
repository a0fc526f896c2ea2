"""The figures page in a real browser (Debian's chromium under Playwright): a week of
published plans of the small day, the coordinator signed in with a one-time link, the
page opened from the board's link; its charts drawn, its tables there, axe-core finding
nothing serious, and a screenshot (``test-screenshots/figures.png``) to look at."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from browser import axe_findings, format_findings
from carescheduler.formats import read_problem
from conftest import SMALL
from live_server import DATE, LiveServer, wait_for
from test_board_browser import sign_in_link

WEEK = [(dt.date.fromisoformat(DATE) - dt.timedelta(days=k)).isoformat() for k in range(6, -1, -1)]
"""The seven days up to the live server's today: the page's default range."""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The server with the small day published on each day of the week, solved with
    different time limits: the days differ."""
    with LiveServer(tmp_path_factory.mktemp("figures")) as server:
        client = httpx.Client(base_url=server.url, headers=server.headers(), timeout=60)
        day = read_problem(SMALL).model_dump(mode="json")
        for k, date in enumerate(WEEK):  # one at a time: the service takes few solves in hand
            assert client.put(f"/v1/days/{date}", json=day).status_code == 201
            solve = client.post(f"/v1/days/{date}/solve", json={"time_limit": 1 + (k % 3), "publish": True})
            assert solve.status_code == 202, solve.text
            job = solve.json()["id"]
            wait_for(lambda job=job: client.get(f"/v1/jobs/{job}").json()["status"] == "done" or None, 300, "a solve")
        yield server, client


def test_the_figures_page_draws_the_week(served, browser_page, screenshots):
    server, client = served
    page = browser_page
    page.goto(sign_in_link(server, "--subject", "ann"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/board/{DATE}")
    page.get_by_role("link", name="Figures").click()
    page.wait_for_url("**/board/figures")
    assert page.title().startswith("Figures — 28 May 2030 to 3 June 2030")

    columns = page.locator("#coverage rect.bar:not(.late)")
    assert columns.count() == len(WEEK)
    assert page.locator("#hours rect.bar").count() >= 1 and page.locator("#hours line.contract").count() >= 1
    assert page.locator("#continuity rect.bar").count() >= 1
    expected = client.get("/v1/figures/days", params={"from": WEEK[0], "to": WEEK[-1]}).json()
    shown = page.locator("#days-table tbody tr")
    assert shown.count() == len(expected["days"]) == len(WEEK)
    first = shown.nth(0).locator("td").nth(1).inner_text()  # visits of the first day
    assert first == f"{expected['days'][0]['visits_total']:,}"

    page.locator("#coverage summary").click()  # the chart's numbers open beneath it
    assert page.locator("#coverage table tbody tr").count() == len(WEEK)
    page.screenshot(path=screenshots / "figures.png", full_page=True)
    findings = axe_findings(page)
    assert not findings, format_findings(findings)

    with page.expect_download() as download:
        page.locator("a.csv", has_text="days").click()
    assert download.value.suggested_filename == f"figures-days-{WEEK[0]}-to-{WEEK[-1]}.csv"
