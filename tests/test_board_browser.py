"""The coordinator's board in a real browser (Debian's chromium under Playwright), as a
coordinator uses it: sign in with a one-time link, open the demo day, report an absence,
see the preview name the changed carers, publish, and see the board and the carer's
phone change; ask "who can take this?" for an unassigned visit and apply the answer
(undo once on the way); drag a visit onto a carer the rules refuse and read why. Each
step writes a screenshot (``test-screenshots/board-*.png``) and is checked with axe-core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from browser import axe_findings, format_findings, launch_chromium, new_page
from carescheduler.formats import read_problem
from carescheduler.plan import Plan
from conftest import MEDIUM, OSM
from live_server import DATE, ORG, LiveServer, wait_for

NOW = 10 * 60 + 30  # the live server's frozen clock: 10:30
EXTRA = "extra-tea"
"""A visit added to the day after its plan was published: nobody has it until a replan,
or until the coordinator gives it to someone."""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("board")
    roads = json.dumps({"drive": str(OSM / "liechtenstein-20150727.drive.osm.bz2")})
    with LiveServer(workdir, {"CARESCHEDULER_ROAD_FILES": roads}) as server:
        coordinator = server.headers()
        client = httpx.Client(base_url=server.url, headers=coordinator, timeout=60)
        assert client.put(f"/v1/days/{DATE}", json=read_problem(MEDIUM).model_dump(mode="json")).status_code == 201
        job = client.post(f"/v1/days/{DATE}/solve", json={"time_limit": 8, "publish": True}).json()["id"]
        wait_for(lambda: client.get(f"/v1/jobs/{job}").json()["status"] == "done" or None, 120, "the first solve")
        morning_reported(server, client)
        yield server, client


def morning_reported(server: LiveServer, client: httpx.Client) -> None:
    """What the phones said this morning: every carer checked in and out of each visit
    that began before now, but one whose phone stayed silent (their visits show late or
    missed)."""
    plan = published(client)
    working = [r for r in plan.routes if r.visits]
    silent = next(r for r in working if r.visits[0].start < NOW - 30)
    for route in working:
        if route is silent:
            continue
        phone = server.headers("carer", carer=route.carer)
        for pv in route.visits:
            if pv.start >= NOW:
                break
            for step, at in (("check-in", pv.start), ("check-out", pv.end)):
                if at < NOW:
                    url = f"/v1/me/days/{DATE}/visits/{pv.visit}/{step}"
                    answer = client.post(
                        url, json={"at": at}, headers={**phone, "Idempotency-Key": f"{pv.visit}-{step}"}
                    )
                    assert answer.status_code == 200, answer.text


def sign_in_link(server: LiveServer, *extra: str) -> str:
    """A one-time link, made as ``make serve`` makes the demo coordinator's."""
    result = subprocess.run(
        [sys.executable, "-m", "api", "sign-in-link", "--org", ORG, "--base-url", server.url, *extra],
        cwd=server.workdir,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return next(line for line in result.stdout.split() if line.startswith("http"))


def published(client: httpx.Client) -> Plan:
    return Plan.model_validate(client.get(f"/v1/days/{DATE}/plan").json()["plan"])


def check_accessible(page, what: str) -> None:
    findings = axe_findings(page)
    assert not findings, f"{what}: {format_findings(findings)}"


def test_a_coordinator_acts_on_the_day(served, screenshots):
    server, api = served
    plan = published(api)
    problem = read_problem(MEDIUM)
    # the absent carer: one with visits still to come
    absent = next(r.carer for r in plan.routes[2:] if sum(pv.start > NOW + 30 for pv in r.visits) >= 3)

    with launch_chromium() as browser, new_page(browser, width=1600, height=1000) as page:
        shot = lambda name: page.screenshot(path=str(screenshots / f"board-{name}.png"))  # noqa: E731

        # 1. sign in with the one-time link: a page with a button (a link preview does not use it)
        page.goto(sign_in_link(server, "--subject", "ann"))
        shot("1-sign-in")
        check_accessible(page, "sign-in page")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/board/{DATE}")
        page.wait_for_selector("body[data-board-ready='1']")
        page.wait_for_selector("#live.on")  # the stream is open
        shot("2-board")
        check_accessible(page, "the board")
        assert page.locator(".row[data-carer-id]").count() == len([r for r in plan.routes if r.visits])
        assert page.locator("#now-line").is_visible()
        assert (
            page.locator(".visit.st-done").count() > 0 and page.locator(".visit.st-missed, .visit.st-late").count() > 0
        )

        # a phone checks in while the coordinator watches: the block turns, without a reload
        route = next(r for r in plan.routes[1:] if any(pv.start > NOW for pv in r.visits))
        coming = next(pv.visit for pv in route.visits if pv.start > NOW)
        phone = {**server.headers("carer", carer=route.carer), "Idempotency-Key": "live-check-in"}
        assert api.post(f"/v1/me/days/{DATE}/visits/{coming}/check-in", json={}, headers=phone).status_code == 200
        page.wait_for_selector(f".row[data-carer-id='{route.carer}'] .visit[data-visit='{coming}'].st-checked_in")
        assert "checked in" in page.locator(
            f".row[data-carer-id='{route.carer}'] .visit[data-visit='{coming}']"
        ).get_attribute("aria-label")

        # 2. report an absence: the replan is a draft, previewed with the carers it changes
        form = page.locator("form[data-type='carer_absent']")
        form.locator("select[name='carer']").select_option(absent)
        form.get_by_role("button", name="Preview the replan").click()
        page.wait_for_url("**?plan=*")
        page.wait_for_selector("body[data-board-ready='1']")
        shot("3-absence-preview")
        check_accessible(page, "the preview")
        changed = page.locator("#preview li[data-changed-carer]").evaluate_all(
            "items => items.map(li => li.getAttribute('data-changed-carer'))"
        )
        assert absent in changed and len(changed) >= 2
        draft = int(page.locator("body").get_attribute("data-plan"))
        assert published(api).cost == plan.cost  # nothing sent to anyone yet

        # 3. publish: the board shows the new plan; the absent carer has nothing left after now
        page.get_by_role("button", name="Publish to carers").click()
        page.wait_for_url(f"**/board/{DATE}")
        page.wait_for_selector("body[data-board-ready='1']")
        assert page.locator("body").get_attribute("data-plan") == str(draft)
        after = published(api)
        gained = next(c for c in changed if c != absent and any(r.carer == c for r in after.routes))
        row = after_route = next(r for r in after.routes if r.carer == absent)
        assert all(pv.start <= NOW for pv in after_route.visits), row
        shot("4-published")

    # 4. the carer who took work sees it on their phone
    with launch_chromium() as browser, new_page(browser, width=390, height=844, is_mobile=True) as phone:
        phone.goto(sign_in_link(server, "--subject", gained, "--role", "carer", "--carer", gained))
        phone.get_by_role("button", name="Sign in").click()
        phone.wait_for_url(f"**/me/{DATE}")
        mine = next(r for r in after.routes if r.carer == gained)
        shown = phone.locator("tr.stop[data-visit]").evaluate_all("rows => rows.map(r => r.dataset.visit)")
        assert shown == [pv.visit for pv in mine.visits]  # the new plan's day, in order
        phone.screenshot(path=str(screenshots / "board-5-carer-phone.png"), full_page=True)
        check_accessible(phone, "the carer's day")

    with launch_chromium() as browser, new_page(browser, width=1600, height=1000) as page:
        shot = lambda name: page.screenshot(path=str(screenshots / f"board-{name}.png"))  # noqa: E731
        # an integration adds a visit to the day: the published plan does not have it
        tag = api.get(f"/v1/days/{DATE}").headers["ETag"]
        extra = {"id": EXTRA, "client": problem.clients[0].id, "duration": 30, "window": {"start": 840, "end": 960}}
        assert api.put(f"/v1/days/{DATE}/visits/{EXTRA}", json=extra, headers={"If-Match": tag}).status_code == 201
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(sign_in_link(server, "--subject", "ann"))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("body[data-board-ready='1']")

        # 5. "who can take this?" on the unassigned visit; apply, undo, apply again, publish
        def ask_and_apply() -> str:
            page.locator(f".visit.open[data-visit='{EXTRA}']").click()
            page.get_by_role("button", name="Who can take this?").click()
            first = page.locator("#recommendations button[data-apply]").first
            first.wait_for()
            shot("6-who-can-take-this")
            check_accessible(page, "the recommendations")
            carer = first.get_attribute("data-apply")
            first.click()
            page.wait_for_url("**?plan=*")
            page.wait_for_selector("body[data-board-ready='1']")
            return carer

        taker = ask_and_apply()
        assert page.locator(f".row[data-carer-id='{taker}'] .visit[data-visit='{EXTRA}']").count() == 1
        page.get_by_role("button", name="Undo").click()
        page.wait_for_url(f"**/board/{DATE}")
        page.wait_for_selector("body[data-board-ready='1']")
        assert page.locator(f".visit.open[data-visit='{EXTRA}']").count() == 1  # back as it was
        taker = ask_and_apply()
        shot("7-applied-preview")
        page.get_by_role("button", name="Publish to carers").click()
        page.wait_for_url(f"**/board/{DATE}")
        page.wait_for_selector("body[data-board-ready='1']")
        assert any(pv.visit == EXTRA for r in published(api).routes if r.carer == taker for pv in r.visits)

        # 6. a drag the rules refuse: a visit needing a skill onto a carer without it
        now_plan = published(api)
        skills = {c.id: set(c.skills) for c in problem.carers}
        visits = {v.id: v for v in problem.visits}
        working = [r.carer for r in now_plan.routes if r.visits]
        visit, stranger = next(
            (pv.visit, other)
            for r in now_plan.routes
            for pv in r.visits
            if pv.visit in visits  # not one added during the test
            and pv.start > NOW + 60
            and visits[pv.visit].carers_needed == 1
            and visits[pv.visit].skills
            for other in working
            if not set(visits[pv.visit].skills) <= skills[other]
        )
        source = page.locator(f".row[data-carer-id] .visit[data-visit='{visit}']")
        target = page.locator(f".row[data-carer-id='{stranger}'] .label")
        page.set_viewport_size({"width": 1600, "height": 1900})  # both rows in view: a drag does not scroll
        # held by its start (a neighbour's block may overlap its middle on a crowded row)
        source.drag_to(target, source_position={"x": 3, "y": 10})
        refusal = page.locator("#refusal")
        try:
            refusal.wait_for(state="visible", timeout=10_000)
        except Exception:
            shot("8-no-refusal")
            raise AssertionError(
                f"no refusal shown; the board said: {page.locator('#say').inner_text()!r}; "
                f"errors: {errors}; dragged {visit} onto {stranger}"
            ) from None
        assert stranger in refusal.inner_text() and "skill" in refusal.inner_text().lower()
        shot("8-drag-refused")
        check_accessible(page, "the refusal")
        assert all(pv.visit != visit for r in published(api).routes if r.carer == stranger for pv in r.visits)


def test_every_event_form_drafts_a_replan(served, screenshots):
    """Each of the board's event forms sends its event and opens the replan as a draft;
    discarding it leaves the published plan as it was (its event stays pending: the next
    form's replan drafts it again with its own)."""
    server, api = served
    plan = published(api)
    problem = read_problem(MEDIUM)
    carer = next(r.carer for r in plan.routes if sum(pv.start > NOW + 60 for pv in r.visits) >= 2)
    cancelled, changed = [
        pv.visit
        for r in plan.routes
        for pv in r.visits
        if pv.start > NOW + 120 and pv.partner is None and r.carer != carer
    ][:2]
    place = problem.clients[5].location
    fills = {
        "carer_delayed": {"select[name='carer']": carer, "input[name='minutes']": "40"},
        "visit_cancelled": {"input[name='visit']": cancelled, "input[name='reason']": "in hospital"},
        "visit_changed": {"input[name='visit']": changed, "input[name='duration']": "45"},
        "client_added": {
            "input[name='client']": "new-client",
            "input[name='name']": "Ada Lovelace",
            "select[name='location']": place,
            "input[name='window_start']": "15:00",
            "input[name='window_end']": "16:30",
            "input[name='duration']": "30",
        },
    }
    with launch_chromium() as browser, new_page(browser, width=1600, height=1000) as page:
        page.goto(sign_in_link(server, "--subject", "ann"))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("body[data-board-ready='1']")
        for kind, fields in fills.items():
            form = page.locator(f"form[data-type='{kind}']")
            form.locator("xpath=..").locator("summary").click()  # open its <details>
            for selector, value in fields.items():
                control = form.locator(selector)
                if selector.startswith("select"):
                    control.select_option(value)
                else:
                    control.fill(value)
            form.get_by_role("button", name="Preview the replan").click()
            page.wait_for_url("**?plan=*")
            page.wait_for_selector("body[data-board-ready='1']")
            assert page.locator("#preview").is_visible(), kind
            page.screenshot(path=str(screenshots / f"board-form-{kind}.png"))
            before = published(api).cost
            page.get_by_role("button", name="Discard draft").click()
            page.wait_for_url(f"**/board/{DATE}")
            page.wait_for_selector("body[data-board-ready='1']")
            assert published(api).cost == before, kind
