"""Run sheets (``carescheduler.report.run_sheet``): each carer's day as the plan has it, in
order, with the partner of each double-up, escaped, refused for a carer not on the rota; and in
a real browser, printed, with no serious or critical accessibility finding."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from browser import axe_findings, format_findings
from carescheduler import solve
from carescheduler.domain import Problem
from carescheduler.errors import InputError
from carescheduler.plan import Plan, PlannedVisit, Route, format_minutes
from carescheduler.report import render_run_sheet, render_run_sheets
from carescheduler.validator import validate
from problem_factory import carer, client, location, problem_dict, visit

DAY = dt.date(2030, 6, 3)
VOID = {"meta", "link", "br", "img", "input", "hr", "col", "source", "area", "base", "wbr"}


# -- a tiny DOM ------------------------------------------------------------------------------------


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None]):
        self.tag = tag
        self.attrs = attrs
        self.classes = set((attrs.get("class") or "").split())
        self.children: list[Node | str] = []

    def text(self) -> str:
        """The text inside, whitespace collapsed (what a reader sees, roughly)."""
        parts = [c if isinstance(c, str) else f" {c.text()} " for c in self.children]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        out = []
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                    out.append(child)
                out += child.all(tag, cls)
        return out

    def one(self, tag: str | None = None, cls: str | None = None) -> Node:
        found = self.all(tag, cls)
        assert len(found) == 1, f"{len(found)} <{tag} class={cls}>"
        return found[0]

    def cells(self) -> dict[str, Node]:
        """A table row's cells by their first class (``no``, ``time``, ``who``...)."""
        return {(c.attrs.get("class") or "").split(" ")[0]: c for c in self.children if isinstance(c, Node)}


def parse(text: str) -> Node:
    root = Node("#document", {})
    stack = [root]

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            node = Node(tag, dict(attrs))
            stack[-1].children.append(node)
            if tag not in VOID:
                stack.append(node)

        def handle_startendtag(self, tag, attrs):
            stack[-1].children.append(Node(tag, dict(attrs)))

        def handle_endtag(self, tag):
            while len(stack) > 1:
                if stack.pop().tag == tag:
                    break

        def handle_data(self, data):
            stack[-1].children.append(data)

    parser = Parser(convert_charrefs=True)
    parser.feed(text)
    parser.close()
    return root


def minutes_text(minutes: float) -> str:
    total = round(minutes)
    return f"{total} min" if total < 60 else f"{total // 60} h {total % 60:02d} min"


# -- the day the tests print -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def day(small_day: Problem) -> tuple[Problem, Plan]:
    """The small generated day (names, addresses, tasks, doubles, breaks), solved."""
    plan = solve(small_day, time_limit=10, seed=0, max_iterations=10)
    assert any(r.breaks for r in plan.routes), "the day should have a break planned"
    assert any(pv.partner for r in plan.routes for pv in r.visits), "the day should have a double-up planned"
    return small_day, plan


def busiest(plan: Plan, *, with_break: bool = False, with_partner: bool = False) -> Route:
    routes = [
        r
        for r in plan.routes
        if (r.breaks or not with_break) and (any(pv.partner for pv in r.visits) or not with_partner)
    ]
    return max(routes, key=lambda r: (len(r.visits), r.carer))


# -- what a sheet says --------------------------------------------------------------------------


def test_a_sheet_lists_the_carers_visits_in_order_as_planned(day):
    problem, plan = day
    route = busiest(plan)
    page = parse(render_run_sheet(problem, plan, route.carer, date=DAY))
    rows = page.all("tr", "stop")
    assert [r.attrs["data-visit"] for r in rows] == [pv.visit for pv in route.visits]
    clients = {c.id: c for c in problem.clients}
    places = {loc.id: loc for loc in problem.locations}
    visits = {v.id: v for v in problem.visits}
    for number, (row, pv) in enumerate(zip(rows, route.visits, strict=True), start=1):
        cells = row.cells()
        assert row.children[0].tag == "th" and row.children[0].attrs["scope"] == "row"
        assert cells["no"].text() == str(number)
        assert cells["time"].text() == (
            f"{format_minutes(pv.start)}–{format_minutes(pv.end)} {minutes_text(pv.end - pv.start)}"
        )
        who = cells["who"]
        patient = clients[pv.client]
        assert who.one("strong").text() == patient.name
        assert who.one("span", "id").text() == patient.id
        assert who.one("span", "addr").text() == places[patient.location].address
        assert who.one("span", "phone").text() == f"Phone {patient.phone}"
        care = cells["care"]
        assert [li.text() for li in care.all("li")] == visits[pv.visit].tasks
        skills = visits[pv.visit].part_skills(pv.part)
        if skills:
            assert care.one("p", "skills").text() == "Needs: " + ", ".join(s.replace("_", " ") for s in skills)
        assert cells["travel"].text() == (minutes_text(pv.travel_before) if pv.travel_before > 0.01 else "—")
    # the times on the sheet run forward: leave home, visits and breaks, home
    times = [r.cells()["time"].text()[:5] for r in page.one("tbody").all("tr")]
    assert times == sorted(times)
    assert page.one("tbody").all("tr")[0].text().startswith(f"{format_minutes(route.leave_home)} Leave home:")
    assert page.one("tbody").all("tr")[-1].text().startswith(f"{format_minutes(route.return_home)} Home:")


def test_the_header_names_the_carer_their_shifts_travel_and_the_date(day):
    problem, plan = day
    route = busiest(plan)
    person = problem.carer(route.carer)
    page = parse(render_run_sheet(problem, plan, route.carer, date=DAY))
    assert page.one("html").attrs["lang"] == "en"
    assert page.one("title").text() == f"Run sheet — {person.name}"
    assert page.one("h1").text() == f"Run sheet: {person.name}"
    facts = {d.all("dt")[0].text(): d.all("dd")[0].text() for d in page.one("dl", "facts").all("div")}
    shifts = ", ".join(f"{format_minutes(s.start)}–{format_minutes(s.end)}" for s in person.shifts)
    assert facts["Carer"] == f"{person.name} ({person.id})"
    assert facts["Date"] == "Monday 3 June 2030"
    assert facts["Shift" if len(person.shifts) == 1 else "Shifts"] == shifts
    assert facts["Travels"] == {"drive": "by car", "walk": "on foot"}[person.travel_mode.value]
    assert facts["Leave"] == format_minutes(route.leave_home)
    assert facts["Back"] == format_minutes(route.return_home)
    # the problem's own day when no date is given, and a date as text as it is
    dated = problem.model_copy(update={"day": dt.date(2030, 6, 4)})
    assert "Tuesday 4 June 2030" in render_run_sheet(dated, plan, route.carer)
    assert "date not given" in render_run_sheet(problem, plan, route.carer)
    assert "Bank holiday rota" in render_run_sheet(problem, plan, route.carer, date="Bank holiday rota")


def test_breaks_are_in_their_place_and_the_totals_add_up(day):
    problem, plan = day
    route = busiest(plan, with_break=True)
    page = parse(render_run_sheet(problem, plan, route.carer))
    body = page.one("tbody").all("tr")
    breaks = [r for r in body if "break" in r.classes]
    assert [b.cells()["time"].text() for b in breaks] == [
        f"{format_minutes(b.start)}–{format_minutes(b.end)}" for b in route.breaks
    ]
    for planned, row in zip(route.breaks, breaks, strict=True):
        at = body.index(row)
        before = [r.attrs["data-visit"] for r in body[:at] if "stop" in r.classes]
        assert before == [pv.visit for pv in route.visits if pv.start < planned.start]
        assert f"Break, {minutes_text(planned.end - planned.start)}" in row.text()
    totals = {d.all("dt")[0].text(): d.all("dd")[0].text() for d in page.one("section", "totals").all("div")}
    assert totals["Visits"] == str(len(route.visits))
    assert totals["Travel"] == minutes_text(route.travel_minutes)
    assert totals["Working time"] == minutes_text(route.working_minutes)
    assert totals["Time with clients"] == minutes_text(sum(pv.end - pv.start for pv in route.visits))
    assert totals["Breaks"] == minutes_text(sum(b.end - b.start for b in route.breaks))
    home_leg = route.travel_minutes - sum(pv.travel_before for pv in route.visits)
    assert body[-1].cells()["travel"].text() == minutes_text(home_leg)


def test_each_sheet_shows_the_carers_unpaid_gaps(day):
    """The unpaid gaps between calls are the validator's, carer by carer ("none" when the
    carer never waits)."""
    problem, plan = day
    waits = validate(problem, plan).kpis.waiting_by_carer
    assert waits

    def shown(plan: Plan, carer: str) -> str:
        page = parse(render_run_sheet(problem, plan, carer))
        totals = {d.all("dt")[0].text(): d.all("dd")[0].text() for d in page.one("section", "totals").all("div")}
        return totals["Unpaid gaps"]

    for route in plan.routes:
        if route.visits:
            assert shown(plan, route.carer) == (minutes_text(waits[route.carer]) if route.carer in waits else "none")
    carer = next(iter(waits))
    idle_free = {k: v for k, v in waits.items() if k != carer}
    unwaiting = plan.model_copy(update={"kpis": plan.kpis.model_copy(update={"waiting_by_carer": idle_free})})
    assert shown(unwaiting, carer) == "none"


def test_a_double_up_names_the_other_carer_on_both_sheets(day):
    problem, plan = day
    doubles = [(r.carer, pv) for r in plan.routes for pv in r.visits if pv.partner is not None]
    assert doubles
    sheets = {r.carer: parse(render_run_sheet(problem, plan, r.carer)) for r in plan.routes if r.visits}
    for carer_id, pv in doubles:
        row = next(r for r in sheets[carer_id].all("tr", "stop") if r.attrs["data-visit"] == pv.visit)
        partner = problem.carer(pv.partner)
        assert row.cells()["with"].text().startswith(f"{partner.name} {partner.id}")
        other = next(r for r in sheets[pv.partner].all("tr", "stop") if r.attrs["data-visit"] == pv.visit)
        assert other.cells()["with"].text().startswith(problem.carer(carer_id).name)
    singles = [
        r
        for s in sheets.values()
        for r in s.all("tr", "stop")
        if problem.visit(r.attrs["data-visit"]).carers_needed == 1
    ]
    assert all(r.cells()["with"].text() == "" for r in singles)


def test_a_partner_starting_at_another_time_is_said_so():
    """A sequential double-up: each sheet says when the other carer arrives."""
    problem = Problem.model_validate(
        problem_dict(
            locations=[location("o"), location("a", 5, 0)],
            carers=[carer("c1", start="o", name="Ann"), carer("c2", start="o", name="Bo")],
            clients=[client("k", "a", name="Kit")],
            visits=[visit("v", "k", carers_needed=2, synchronisation={"kind": "sequential", "max_gap": 30})],
        )
    )
    plan = Plan(
        routes=[
            Route(carer="c1", visits=[PlannedVisit(visit="v", part=0, client="k", start=480, end=510, partner="c2")]),
            Route(carer="c2", visits=[PlannedVisit(visit="v", part=1, client="k", start=495, end=525, partner="c1")]),
        ]
    )
    first = parse(render_run_sheet(problem, plan, "c1")).one("tr", "stop").cells()["with"].text()
    second = parse(render_run_sheet(problem, plan, "c2")).one("tr", "stop").cells()["with"].text()
    assert (first, second) == ("Bo c2 arrives 08:15", "Ann c1 arrives 08:00")


def test_late_starts_are_said_in_words_and_only_those(day):
    problem, plan = day
    for route in plan.routes:
        page = parse(render_run_sheet(problem, plan, route.carer))
        for row, pv in zip(page.all("tr", "stop"), route.visits, strict=True):
            target = problem.visit(pv.visit).target
            late = target is not None and target.end is not None and pv.start > target.end + 0.01
            notes = row.all("p", "late")
            assert len(notes) == int(late)
            if late:
                assert notes[0].text().startswith(f"Later than agreed: {minutes_text(pv.start - target.end)} after")


def test_access_notes_are_printed_only_when_asked(day):
    problem, plan = day
    route = next(r for r in plan.routes if any(problem.client(pv.client).access_notes for pv in r.visits))
    notes = {problem.client(pv.client).access_notes for pv in route.visits} - {None}
    plain = render_run_sheet(problem, plan, route.carer)
    asked = render_run_sheet(problem, plan, route.carer, access_notes=True)
    assert not any(note in plain for note in notes)
    assert all(f"Access: {note}" in parse(asked).text() for note in notes)


def test_hostile_text_is_escaped_and_shown_as_typed():
    nasty = "<img src=x onerror=alert(1)>&\"'"
    data = problem_dict(
        locations=[location("o"), {"id": f"a{nasty}", "x": 5, "y": 0, "address": f"1 {nasty} Road"}],
        carers=[
            carer(f"c{nasty}", start="o", name=f"Ann {nasty}"),
            carer("c2", start="o", name=f"Bo {nasty}"),
        ],
        clients=[client(f"k{nasty}", f"a{nasty}", name=f"Kit {nasty}", phone=nasty, notes=f"dog {nasty}")],
        visits=[visit(f"v{nasty}", f"k{nasty}", carers_needed=2, tasks=[f"wash {nasty}"], skills=["hoist"])],
        name=f"day {nasty}",
    )
    problem = Problem.model_validate(data)
    parts = [
        PlannedVisit(visit=f"v{nasty}", part=k, client=f"k{nasty}", start=490, end=520, travel_before=5, partner=p)
        for k, p in ((0, "c2"), (1, f"c{nasty}"))
    ]
    plan = Plan(
        routes=[
            Route(carer=f"c{nasty}", visits=[parts[0]], leave_home=485, return_home=525, travel_minutes=10),
            Route(carer="c2", visits=[parts[1]], leave_home=485, return_home=525, travel_minutes=10),
        ]
    )
    for text in (
        render_run_sheet(problem, plan, f"c{nasty}", title=f"T {nasty}", date=nasty),
        render_run_sheets(problem, plan, title=f"T {nasty}", date=nasty),
    ):
        assert "<img" not in text and "<script" not in text
        page = parse(text)
        assert page.one("title").text() == f"T {nasty}"
        row = page.all("tr", "stop")[0]
        assert row.attrs["data-visit"] == f"v{nasty}"
        who = row.cells()["who"]
        assert who.one("strong").text() == f"Kit {nasty}"
        assert who.one("span", "addr").text() == f"1 {nasty} Road"
        assert who.one("span", "phone").text() == f"Phone {nasty}"
        assert row.cells()["care"].all("li")[0].text() == f"wash {nasty}"
        assert row.cells()["with"].text() == f"Bo {nasty} c2"
        assert f"Date {nasty}" in page.all("dl", "facts")[0].text()
        assert f"day {nasty}" in page.all("p", "foot")[0].text()


def test_an_unknown_carer_or_a_plan_of_another_day_is_refused(day):
    problem, plan = day
    with pytest.raises(InputError, match="unknown carer 'nobody'") as error:
        render_run_sheet(problem, plan, "nobody")
    assert error.value.field == "carer"
    working = plan.routes[0].carer
    with pytest.raises(InputError) as error:
        render_run_sheets(problem, plan, [working, "nobody"])
    assert error.value.field == "carers[1]"
    stranger = plan.model_copy(deep=True)
    stranger.routes[0].visits[0].visit = "no-such-visit"
    with pytest.raises(InputError, match="unknown visit 'no-such-visit'"):
        render_run_sheet(problem, stranger, stranger.routes[0].carer)


def test_a_carer_without_visits_gets_a_sheet_that_says_so(day):
    problem, plan = day
    idle = plan.model_copy(update={"routes": [r for r in plan.routes if r.carer != problem.carers[0].id]})
    page = parse(render_run_sheet(problem, idle, problem.carers[0].id))
    assert page.all("table") == []
    assert page.one("p", "empty").text() == f"No visits planned for {problem.carers[0].name} on this day."


def test_all_sheets_print_one_carer_to_a_page_and_need_nothing_else(day):
    problem, plan = day
    text = render_run_sheets(problem, plan, date=DAY)
    page = parse(text)
    working = [c.id for c in problem.carers if (r := plan.route(c.id)) is not None and r.visits]
    sheets = page.all("article", "sheet")
    assert [s.one("dl", "facts").all("dd")[0].text() for s in sheets] == [
        f"{problem.carer(c).name} ({c})" for c in working
    ]
    assert [a.attrs["href"] for a in page.one("nav").all("a")] == [f"#{s.attrs['id']}" for s in sheets]
    assert [h.text() for h in page.all("h2")] == [f"Run sheet: {problem.carer(c).name}" for c in working]
    assert len(page.all("h1")) == 1
    # chosen carers in the order given; nothing fetched, nothing run
    chosen = parse(render_run_sheets(problem, plan, [working[-1], working[0]]))
    assert [s.one("h2").text() for s in chosen.all("article")] == [
        f"Run sheet: {problem.carer(c).name}" for c in (working[-1], working[0])
    ]
    assert "<script" not in text and not page.all("link") and not page.all("img")
    assert not re.search(r"(src|href)=\"(?!#)", text) and "url(" not in text and "@import" not in text
    assert "@media print" in text and "break-after:page" in text


# -- in a real browser ----------------------------------------------------------------------------


def test_printed_in_a_browser_each_sheet_is_a_page_and_reads_well(day, tmp_path, browser_page, screenshots):
    problem, plan = day
    route = busiest(plan, with_partner=True)
    page = browser_page
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    single = tmp_path / "sheet.html"
    single.write_text(render_run_sheet(problem, plan, route.carer, date=DAY), encoding="utf-8")
    page.goto(single.as_uri())
    page.screenshot(path=screenshots / "run-sheet-screen.png", full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=screenshots / "run-sheet-print.png", full_page=True)
    findings = axe_findings(page)
    assert not findings, format_findings(findings)

    every = tmp_path / "sheets.html"
    every.write_text(render_run_sheets(problem, plan, date=DAY), encoding="utf-8")
    page.goto(every.as_uri())
    breaks = page.evaluate("[...document.querySelectorAll('article.sheet')].map(s => getComputedStyle(s).breakAfter)")
    assert breaks == ["page"] * (len(breaks) - 1) + ["auto"]
    assert page.evaluate("getComputedStyle(document.querySelector('header.contents')).display") == "none"
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages >= len(breaks) == len([r for r in plan.routes if r.visits])
    findings = axe_findings(page)
    assert not findings, format_findings(findings)
    page.emulate_media(media="screen")
    findings = axe_findings(page)  # the list of sheets, shown on screen only
    assert not findings, format_findings(findings)
