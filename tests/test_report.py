"""The coordinator's HTML report: what it shows, that it escapes, that it scales, that a
real browser (Debian's chromium, headless) runs its script and paints a map, and that the page
passes axe-core's WCAG A/AA checks and works from the keyboard."""

from __future__ import annotations

import colorsys
import json
import subprocess
import sys
from collections import defaultdict
from html.parser import HTMLParser

import numpy as np
import pytest

from browser import CHROMIUM, NO_CHROMIUM, axe_findings, chromium, format_findings, png_rgb
from carescheduler import solve
from carescheduler.domain import Problem
from carescheduler.errors import InputError
from carescheduler.formats import read_problem, write_plan, write_problem
from carescheduler.plan import KPIs, Plan, PlannedVisit, Route, SolverInfo, UnassignedVisit
from carescheduler.report import carer_colour, render_report, road_runs, write_report
from carescheduler.scenarios.demo import demo_problem
from conftest import BENCHMARK_SAMPLES
from problem_factory import carer, client, location, problem_dict, visit

# -- helpers ----------------------------------------------------------------------------------


class Page(HTMLParser):
    """The elements of a rendered report, each with its attributes, its tooltip (a <title>
    or a ``data-tip``) and its enclosing timeline row (the ``data-carer`` of the nearest
    ``.row``)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._stack: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = self._record(tag, attrs)
        self._stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self._record(tag, attrs)

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        if self._stack:
            self._stack[-1]["text"] += data
            if self._stack[-1]["tag"] == "title" and len(self._stack) > 1:
                self._stack[-2]["title"] += data

    def _record(self, tag, attrs):
        attributes = dict(attrs)
        row = next(
            (
                e["attrs"]["data-carer"]
                for e in reversed(self._stack)
                if "row" in e["attrs"].get("class", "").split() and "data-carer" in e["attrs"]
            ),
            None,
        )
        element = {
            "tag": tag,
            "attrs": attributes,
            "classes": set(attributes.get("class", "").split()),
            "row": row,
            "text": "",
            "title": attributes.get("data-tip") or "",
        }
        self.elements.append(element)
        return element

    def find(self, tag: str | None, cls: str | None = None) -> list[dict]:
        """Elements by tag (None: any) and class."""
        return [e for e in self.elements if tag in (None, e["tag"]) and (cls is None or cls in e["classes"])]


def block_colour(element: dict) -> str:
    """A timeline block's carer colour (its ``--c`` style)."""
    return next(part.split(":", 1)[1] for part in element["attrs"]["style"].split(";") if part.startswith("--c:"))


def synthetic_plan(problem: Problem, carers: int | None = None, every_nth_unassigned: int = 40) -> Plan:
    """A plan that is quick to make at any size: visits dealt round the carers in window order.

    It ignores travel and skills (the report draws what it is given); double-handed visits
    go to two carers at the same start, and every n-th visit is left unassigned.
    """
    pool = [c.id for c in problem.carers[:carers]]
    free_at = {c: 0.0 for c in pool}
    routes: dict[str, list[PlannedVisit]] = defaultdict(list)
    unassigned = []
    turn = 0
    for n, v in enumerate(sorted(problem.visits, key=lambda v: (v.window.start, v.id))):
        if n % every_nth_unassigned == every_nth_unassigned - 1:
            unassigned.append(UnassignedVisit(visit=v.id, reason=f"synthetic reason for {v.id}"))
            continue
        team = [pool[(turn + i) % len(pool)] for i in range(v.carers_needed)]
        turn += v.carers_needed
        start = max([v.window.start] + [free_at[c] + 10 for c in team])
        for part, c in enumerate(team):
            partner = team[1 - part] if len(team) == 2 else None
            routes[c].append(
                PlannedVisit(
                    visit=v.id,
                    part=part,
                    client=v.client,
                    start=start,
                    end=start + v.duration,
                    travel_before=10,
                    partner=partner,
                )
            )
            free_at[c] = start + v.duration
    plan_routes = [
        Route(
            carer=c,
            visits=vs,
            leave_home=vs[0].start - 10,
            return_home=vs[-1].end + 10,
            travel_minutes=10.0 * (len(vs) + 1),
            working_minutes=sum(p.end - p.start + 10 for p in vs) + 10,
        )
        for c, vs in routes.items()
    ]
    assigned = len(problem.visits) - len(unassigned)
    kpis = KPIs(
        visits_total=len(problem.visits),
        visits_assigned=assigned,
        mandatory_unassigned=len(unassigned),
        coverage=assigned / len(problem.visits),
        travel_estimated=True,
    )
    return Plan(
        problem=problem.name,
        routes=plan_routes,
        unassigned=unassigned,
        kpis=kpis,
        solver=SolverInfo(status="synthetic"),
    )


def planned_pairs(plan: Plan) -> int:
    """Double-handed visits whose two parts are both on routes."""
    parts = defaultdict(int)
    for route in plan.routes:
        for pv in route.visits:
            if pv.partner is not None:
                parts[pv.visit] += 1
    return sum(1 for n in parts.values() if n == 2)


def legend_carers(page: Page) -> dict[str, str]:
    """The legend's ``data-pick`` index of each carer (its button's title is the carer id here)."""
    return {
        e["attrs"]["title"]: e["attrs"]["data-pick"]
        for e in page.elements
        if e["tag"] == "button" and "data-pick" in e["attrs"]
    }


@pytest.fixture(scope="module")
def solved() -> tuple[Problem, Plan]:
    problem = demo_problem()
    return problem, solve(problem, time_limit=5, seed=0, max_iterations=20)


# -- what the page shows ------------------------------------------------------------------------


def test_one_run_colour_per_carer_with_visits(solved):
    problem, plan = solved
    page = Page(render_report(problem, plan))
    working = [r.carer for r in plan.routes if r.visits]
    runs = page.find("polyline", "run")
    assert len(runs) == len(working)
    assert len({r["attrs"]["stroke"] for r in runs}) == len(working)
    assert set(legend_carers(page)) == set(working)
    # a carer's run, home squares and timeline blocks carry the same index and colour
    run_colour = {r["attrs"]["data-carer"]: r["attrs"]["stroke"] for r in runs}
    assert set(run_colour) == set(legend_carers(page).values())
    for home in page.find("rect", "home"):
        assert home["attrs"]["fill"] == run_colour[home["attrs"]["data-carer"]]
    blocks = [b for b in page.find(None, "visit") if b["row"] is not None]
    assert blocks
    for block in blocks:
        assert block_colour(block) == run_colour[block["row"]]


def test_every_planned_visit_is_in_its_carers_timeline_row(solved):
    problem, plan = solved
    page = Page(render_report(problem, plan))
    index = legend_carers(page)
    blocks = page.find(None, "visit")
    drawn = {(b["row"], b["title"].split(" · ")[0]) for b in blocks if b["row"] is not None}
    expected = {(index[r.carer], pv.visit) for r in plan.routes for pv in r.visits}
    assert drawn == expected
    assert len([b for b in blocks if b["row"] is not None]) == len(expected)
    # late starts are marked, and only those
    visits = {v.id: v for v in problem.visits}
    late = {
        (index[r.carer], pv.visit)
        for r in plan.routes
        for pv in r.visits
        if visits[pv.visit].target is not None and pv.start > visits[pv.visit].target.end + 0.01
    }
    assert {(b["row"], b["title"].split(" · ")[0]) for b in blocks if "is-late" in b["classes"]} == late


def test_rows_are_in_order_of_first_start(solved):
    problem, plan = solved
    page = Page(render_report(problem, plan))
    index = legend_carers(page)
    first = {index[r.carer]: r.visits[0].start for r in plan.routes if r.visits}
    rows = [e["attrs"]["data-carer"] for e in page.find("div", "row") if "data-carer" in e["attrs"]]
    assert [first[k] for k in rows] == sorted(first.values())


def test_double_ups_link_their_two_parts(solved):
    problem, plan = solved
    assert planned_pairs(plan) > 0, "the demo day should have a double-handed visit planned"
    page = Page(render_report(problem, plan))
    groups = defaultdict(list)
    for block in page.find(None, "pair"):
        if "data-pair" in block["attrs"]:
            groups[block["attrs"]["data-pair"]].append(block)
    assert sum(1 for g in groups.values() if len(g) == 2) == planned_pairs(plan)
    for parts in groups.values():
        assert len({p["row"] for p in parts}) == len(parts)  # two different carers


def test_unassigned_visits_are_listed_with_their_reasons():
    problem = demo_problem(clients=30, carers=6)
    plan = synthetic_plan(problem, every_nth_unassigned=5)
    page = Page(render_report(problem, plan))
    reasons = [e["text"] for e in page.elements if e["tag"] == "td" and "reason" in e["classes"]]
    assert sorted(reasons) == sorted(u.reason for u in plan.unassigned)
    assert len(plan.unassigned) >= 5


def test_estimated_travel_notice_only_when_flagged(solved):
    problem, plan = solved
    flagged = plan.model_copy(update={"kpis": plan.kpis.model_copy(update={"travel_estimated": True})})
    plain = plan.model_copy(update={"kpis": plan.kpis.model_copy(update={"travel_estimated": False})})
    assert "Travel times are estimated" in render_report(problem, flagged)
    assert "Travel times are estimated" not in render_report(problem, plain)


def test_header_shows_problem_and_solver(solved):
    problem, plan = solved
    page = Page(render_report(problem, plan, title="Tuesday rota"))
    assert page.find("h1")[0]["text"] == "Tuesday rota"
    header = " ".join(e["text"] for e in page.elements if e["tag"] in ("p", "dt", "dd"))
    assert problem.name in header
    for key, value in plan.solver.items():
        assert key.replace("_", " ") in header
        if isinstance(value, str):
            assert value in header


def test_user_text_is_escaped():
    nasty = "<img src=x onerror=alert(1)>&\"'"
    data = problem_dict(
        locations=[location("o", 0, 0), location("a", 10, 0), location("b", 0, 10)],
        carers=[carer(f"c{nasty}", start="o", name=f"Ann {nasty}")],
        clients=[client(f"cl{nasty}", "a", name=f"Bea {nasty}"), client("cl2", "b")],
        visits=[visit(f"v{nasty}", f"cl{nasty}", start=480, end=600), visit("v2", "cl2", start=480, end=600)],
        name=f"day {nasty}",
    )
    problem = Problem.model_validate(data)
    plan = Plan(
        problem=problem.name,
        routes=[
            Route(
                carer=f"c{nasty}",
                visits=[PlannedVisit(visit=f"v{nasty}", client=f"cl{nasty}", start=490, end=520, travel_before=10)],
                leave_home=480,
                return_home=530,
                travel_minutes=20,
            )
        ],
        unassigned=[UnassignedVisit(visit="v2", reason=f"because {nasty}</td></tr></table><script>x()</script>")],
        solver=SolverInfo(status=nasty, source=f"k{nasty}"),
    )
    text = render_report(problem, plan, title=f"T {nasty}", attribution=f"© {nasty}")
    assert "<img" not in text and "<script>x()" not in text
    assert text.count("<script>") == 1  # only the report's own
    page = Page(text)
    # the text survives escaping intact: the browser shows exactly what the user typed
    assert page.find("h1")[0]["text"] == f"T {nasty}"
    assert any(e["title"].startswith(f"v{nasty} · Bea {nasty}") for e in page.find(None, "visit"))
    assert [e["text"] for e in page.elements if "reason" in e["classes"]] == [plan.unassigned[0].reason]
    assert any(e["text"] == f"© {nasty}" for e in page.elements if "credit" in e["classes"])
    assert any(e["text"] == nasty for e in page.elements if e["tag"] == "dd")


def test_roads_are_drawn_and_far_away_roads_left_out():
    problem = demo_problem(clients=20, carers=4)
    plan = synthetic_plan(problem)
    lats = [loc.lat for loc in problem.locations]
    lons = [loc.lon for loc in problem.locations]
    inside = [(min(lons), min(lats)), (max(lons), max(lats))]
    far = [(min(lons) + 5, min(lats) + 5), (max(lons) + 5, max(lats) + 5)]
    page = Page(render_report(problem, plan, roads=[inside, far, inside]))
    assert len(page.find("polyline", "road")) == 2


def test_runs_follow_the_roads_through_every_stop_in_order(small_day):
    """``road_runs`` draws each working carer's run along the roads of their mode, from home
    through each client's door in the planned order and home again; the report draws it so,
    and a carer without a run (no network for their mode) straight from stop to stop."""
    from carescheduler.travel.roads import RoadNetwork
    from conftest import OSM

    plan = solve(small_day, time_limit=5, seed=0, max_iterations=10)
    drive = RoadNetwork.load(OSM / "liechtenstein-20150727.drive.osm.bz2", "drive")
    runs = road_runs(small_day, plan, {"drive": drive})
    places = {loc.id: (loc.lon, loc.lat) for loc in small_day.locations}
    clients = {c.id: c.location for c in small_day.clients}
    carers = {c.id: c for c in small_day.carers}
    driving = [r for r in plan.routes if r.visits and carers[r.carer].travel_mode == "drive"]
    assert driving and set(runs) == {r.carer for r in driving}
    for route in driving:
        run, carer = runs[route.carer], carers[route.carer]
        stops = [places[carer.start_location], *(places[clients[pv.client]] for pv in route.visits)]
        at = 0
        for stop in [*stops, places[carer.home_end]]:
            at = run.index(stop, at)  # every stop, in order
        assert run[0] == stops[0] and run[-1] == places[carer.home_end]
        assert len(run) > len(stops) + 1  # and the roads in between
    page = Page(render_report(small_day, plan, runs=runs))
    drawn = sorted(len(r["attrs"]["points"].split()) for r in page.find("polyline", "run"))
    expected = [len(runs[r.carer]) if r.carer in runs else len(r.visits) + 2 for r in plan.routes if r.visits]
    assert drawn == sorted(expected)


def test_a_plan_of_another_day_is_rejected():
    problem = demo_problem(clients=10, carers=3)
    plan = synthetic_plan(problem)
    stranger = plan.model_copy(deep=True)
    stranger.routes[0].carer = "nobody-here"
    with pytest.raises(InputError, match="unknown carer 'nobody-here'"):
        render_report(problem, stranger)
    stranger = plan.model_copy(deep=True)
    stranger.routes[-1].visits[0].visit = "no-such-visit"
    with pytest.raises(InputError, match="unknown visit 'no-such-visit'"):
        render_report(problem, stranger)


def test_palette_keeps_forty_carers_apart():
    """Any two of the first 40 colours differ clearly in hue or in lightness; 400 are all different."""

    def hsl(index):
        hue, _, lightness = carer_colour(index)[4:-1].replace("%", "").split(",")
        return float(hue), float(lightness)

    colours = [hsl(i) for i in range(40)]
    for i in range(40):
        for j in range(i + 1, 40):
            hue_gap = abs(colours[i][0] - colours[j][0])
            hue_gap = min(hue_gap, 360 - hue_gap)
            assert hue_gap >= 15 or abs(colours[i][1] - colours[j][1]) >= 6, (i, j)
    assert len({carer_colour(i) for i in range(400)}) == 400


def test_a_council_day_report_stays_small():
    """How long rendering takes is a benchmark (``benchmarks/test_speed.py``, on a 300-visit day)."""
    problem = demo_problem(clients=1900, carers=400)
    plan = synthetic_plan(problem)
    assert len(problem.visits) > 4500
    text = render_report(problem, plan)
    size = len(text.encode())
    assert size / len(problem.visits) < 1200, f"{size / 1e6:.1f} MB for {len(problem.visits)} visits"
    page = Page(text)
    assert len([e for e in page.find("div", "row") if "data-carer" in e["attrs"]]) == len(
        [r for r in plan.routes if r.visits]
    )


# -- command line -------------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carescheduler", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_report_command_writes_the_page_and_rejects_bad_input(tmp_path):
    problem = demo_problem(clients=12, carers=4)
    plan = synthetic_plan(problem)
    write_problem(problem, tmp_path / "day.json")
    write_plan(plan, tmp_path / "plan.json")
    out = tmp_path / "report.html"
    ok = run_cli("report", str(tmp_path / "day.json"), str(tmp_path / "plan.json"), "--out", str(out))
    assert ok.returncode == 0, ok.stderr
    assert out.read_text(encoding="utf-8") == render_report(problem, plan)

    missing = run_cli("report", str(tmp_path / "day.json"), str(tmp_path / "nope.json"), "--out", str(out))
    assert missing.returncode == 2
    assert "nope.json" in missing.stderr and "Traceback" not in missing.stderr

    other = demo_problem(clients=12, carers=2)
    write_problem(other, tmp_path / "other.json")
    wrong = run_cli("report", str(tmp_path / "other.json"), str(tmp_path / "plan.json"), "--out", str(out))
    assert wrong.returncode == 2
    assert "unknown" in wrong.stderr and "Traceback" not in wrong.stderr


def test_report_of_an_imported_solution_recomputes_its_figures(tmp_path):
    """An iolab solution carries no KPIs; the page shows the validator's instead of zeros."""
    fixtures = BENCHMARK_SAMPLES
    instance = fixtures / "InstanzCPLEX_HCSRP_10_1.txt.gz"
    solution = next(fixtures.glob("sol-InstanzCPLEX_HCSRP_10_1*.json*"))
    out = tmp_path / "report.html"
    result = run_cli("report", str(instance), str(solution), "--out", str(out))
    assert result.returncode == 0, result.stderr
    visits = len(read_problem(instance).visits)
    notes = [e["text"] for e in Page(out.read_text(encoding="utf-8")).elements if "s" in e["classes"]]
    assert f"{visits:,} of {visits:,} visits planned" in notes


def test_demo_writes_its_report(tmp_path):
    result = run_cli("demo", "--time-limit", "0", "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "report.html").read_text(encoding="utf-8")
    plan = json.loads((tmp_path / "demo-plan.json").read_text())
    assert len(Page(text).find("polyline", "run")) == len([r for r in plan["routes"] if r["visits"]])


# -- a real browser -------------------------------------------------------------------------------


HOVER_PROBE = """<script>
(function () {
  var body = document.body, over = function (el) { el.dispatchEvent(new MouseEvent("mouseover", {bubbles: true})); };
  var part = document.querySelector(".pair[data-pair]"), key = part.getAttribute("data-pair");
  over(part);
  body.setAttribute("data-probe-linked", document.querySelectorAll('.link[data-pair="' + key + '"]').length);
  body.setAttribute("data-probe-lines", document.querySelectorAll("#links line").length);
  var tip = document.getElementById("tip");
  body.setAttribute("data-probe-tip", tip.hidden ? "" : tip.textContent);
  body.setAttribute("data-probe-visit", (part.getAttribute("data-tip") || "").split(" · ")[0]);
  over(document.querySelector(".legend [data-pick]"));
  body.setAttribute("data-probe-focus", [document.querySelectorAll(".run.on").length,
    document.querySelectorAll(".row.on").length, body.classList.contains("focus") ? 1 : 0].join(","));
})();
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_in_a_headless_browser_the_script_runs_and_the_map_is_painted(solved, tmp_path):
    problem, plan = solved
    page = tmp_path / "report.html"
    write_report(problem, plan, page, attribution="© OpenStreetMap contributors")

    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = next(e for e in Page(dom.stdout).elements if e["tag"] == "body")
    assert body["attrs"].get("data-ready") == "1", "the report's script did not finish"
    assert body["attrs"].get("data-linked-pairs") == str(planned_pairs(plan))

    # hover a double-up and a legend entry, as a coordinator would, and read back what changed
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", HOVER_PROBE + "</body>"), encoding="utf-8")
    dom = chromium("--dump-dom", probed.as_uri(), profile=tmp_path / "profile")
    body = next(e for e in Page(dom.stdout).elements if e["tag"] == "body")
    assert body["attrs"].get("data-probe-linked") == "2"  # both halves outlined
    assert body["attrs"].get("data-probe-lines") == "1"  # and joined by a line
    doubles = {pv.visit for route in plan.routes for pv in route.visits if pv.partner is not None}
    assert body["attrs"].get("data-probe-visit") in doubles
    assert body["attrs"].get("data-probe-tip", "").startswith(body["attrs"]["data-probe-visit"] + " · ")  # tooltip
    assert body["attrs"].get("data-probe-focus") == "1,1,1"  # one run, one row, the page dimmed

    shot = tmp_path / "report.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri(), profile=tmp_path / "profile")
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    pixels = png_rgb(shot)
    assert pixels.shape == (1000, 1400, 3)
    # the runs are painted: many strongly coloured pixels, spread over many hues
    rgb = pixels.reshape(-1, 3).astype(float) / 255
    vivid = rgb[(rgb.max(axis=1) - rgb.min(axis=1)) > 0.35]
    assert len(vivid) > 5000, f"only {len(vivid)} coloured pixels"
    hues = np.array([colorsys.rgb_to_hsv(*p)[0] for p in vivid[:: max(1, len(vivid) // 5000)]])
    buckets = np.bincount((hues * 12).astype(int) % 12, minlength=12)
    assert (buckets > len(hues) / 200).sum() >= 8, buckets


def test_the_report_is_accessible_and_its_legend_works_from_the_keyboard(solved, tmp_path, browser_page, screenshots):
    """axe-core finds no serious or critical WCAG 2.0-2.2 A/AA problem, neither as the page
    opens nor with a carer picked out; Tab reaches the legend, whose buttons pick a carer out
    on focus, pin them with Enter (saying so with aria-pressed) and let go with Escape; late
    starts carry a mark of their own, not only a colour."""
    problem, plan = solved
    path = tmp_path / "report.html"
    write_report(problem, plan, path, attribution="© OpenStreetMap contributors")
    page = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    page.screenshot(path=screenshots / "report.png", full_page=True)

    # late starts: each late block has its own mark (an underline drawn inside the block),
    # which stands out from the page (3:1)
    late = page.locator(".visit.is-late")
    assert late.count() > 0, "the demo plan should have a late start"
    marks = page.evaluate(
        """() => [...document.querySelectorAll(".visit.is-late")].map(block => getComputedStyle(block).boxShadow)"""
    )
    assert all(mark.startswith("rgb(") and "inset" in mark for mark in marks), set(marks)
    for shadow in set(marks):
        red, green, blue = (int(x) for x in shadow[shadow.index("(") + 1 : shadow.index(")")].split(","))
        assert _contrast_with_white(red, green, blue) >= 3, shadow

    legend = page.locator(".legend button[data-pick]")
    first = legend.nth(0)
    assert first.get_attribute("aria-pressed") == "false"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('data-pick')") == "0"
    assert page.evaluate("document.body.classList.contains('focus')")  # focus picks the carer out
    assert page.locator(".run.on").get_attribute("data-carer") == "0"
    page.keyboard.press("Enter")
    assert first.get_attribute("aria-pressed") == "true"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('data-pick')") == "1"
    assert legend.nth(1).get_attribute("aria-pressed") == "false"
    page.screenshot(path=screenshots / "report-carer-picked.png")
    findings = axe_findings(page)
    assert not findings, format_findings(findings)
    page.keyboard.press("Escape")
    assert first.get_attribute("aria-pressed") == "false"
    page.evaluate("document.activeElement.blur()")
    assert not page.evaluate("document.body.classList.contains('focus')")

    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    findings = axe_findings(page)
    assert not findings, format_findings(findings)
    assert not errors, errors


def test_a_long_list_of_unassigned_visits_scrolls_from_the_keyboard(tmp_path, browser_page):
    problem = demo_problem(clients=40, carers=6)
    plan = synthetic_plan(problem, every_nth_unassigned=2)
    path = tmp_path / "report.html"
    write_report(problem, plan, path)
    page = browser_page
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-ready='1']")
    region = page.get_by_role("region", name="unassigned visits")
    assert region.evaluate("el => el.scrollHeight > el.clientHeight"), "the table should scroll"
    region.focus()
    page.keyboard.press("End")
    # the browser may scroll smoothly: wait until it has moved (fails after 5 s if it never does)
    page.wait_for_function("el => el.scrollTop > 0", arg=region.element_handle(), timeout=5000)
    findings = axe_findings(page, include="#unassigned")
    assert not findings, format_findings(findings)


def _contrast_with_white(red: int, green: int, blue: int) -> float:
    """WCAG's contrast ratio of an sRGB colour against white."""

    def channel(c: int) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)
    return 1.05 / (luminance + 0.05)
