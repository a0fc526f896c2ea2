"""Management figures (``carescheduler.roster.figures``) of a small day worked out by hand:
three carers, two clients, four visits (one double-handed, one left unassigned), every
place on the Greenwich meridian so that distances are a multiple of one hundredth of a
degree of latitude."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from html.parser import HTMLParser

import pytest

from carescheduler.domain import Problem
from carescheduler.plan import Plan
from carescheduler.report.charts import continuity_chart, coverage_chart, hours_chart
from carescheduler.roster.figures import (
    CarerFigures,
    ClientFigures,
    ClientTotals,
    csv_text,
    plan_figures,
    start_lateness,
    summarise,
    week_summary_text,
)

STEP_KM = 6371.0088 * math.radians(0.01)
"""Great-circle km between two places 0.01 degrees of latitude apart on one meridian."""
DETOUR = 1.3

DAY = {
    "day": "2030-06-03",
    "locations": [
        {"id": "base", "lat": 51.00, "lon": 0.0},
        {"id": "x-home", "lat": 51.01, "lon": 0.0},
        {"id": "y-home", "lat": 51.02, "lon": 0.0},
    ],
    "carers": [
        {"id": "a", "name": "Ann", "start_location": "base", "shifts": [{"start": 480, "end": 720}],
         "contracted_minutes": 120},
        {"id": "b", "name": "Ben", "start_location": "base", "shifts": [{"start": 480, "end": 660}]},
        {"id": "c", "name": "Cat", "start_location": "base", "shifts": [{"start": 600, "end": 700}],
         "contracted_minutes": 60},
    ],
    "clients": [
        {"id": "x", "name": "Xavier", "location": "x-home", "historical_carers": ["a"]},
        {"id": "y", "name": "Yvonne", "location": "y-home"},
    ],
    "visits": [
        {"id": "v1", "client": "x", "duration": 30, "window": {"start": 480, "end": 540},
         "target": {"start": 480, "end": 500}},
        {"id": "v2", "client": "x", "duration": 30, "window": {"start": 600, "end": 660}, "carers_needed": 2},
        {"id": "v3", "client": "y", "duration": 60, "window": {"start": 500, "end": 560},
         "target": {"start": 500, "end": 510}},
        {"id": "v4", "client": "y", "duration": 20, "window": {"start": 700, "end": 720}},
    ],
}  # fmt: skip

FIRST = {
    "routes": [
        {"carer": "a", "travel_minutes": 15, "working_minutes": 150, "visits": [
            {"visit": "v1", "client": "x", "start": 510, "end": 540},  # 10 min after the target
            {"visit": "v2", "client": "x", "start": 600, "end": 630, "partner": "b"},
        ]},
        {"carer": "b", "travel_minutes": 20, "working_minutes": 110, "visits": [
            {"visit": "v3", "client": "y", "start": 525, "end": 585},  # 15 min after the target
            {"visit": "v2", "part": 1, "client": "x", "start": 600, "end": 630, "partner": "a"},
        ]},
    ],
    "unassigned": [{"visit": "v4", "reason": "nobody free"}],
}  # fmt: skip

SECOND = {  # another day: the carers swap clients, nobody is late
    "routes": [
        {"carer": "a", "travel_minutes": 10, "working_minutes": 120, "visits": [
            {"visit": "v3", "client": "y", "start": 505, "end": 565},
            {"visit": "v2", "client": "x", "start": 600, "end": 630, "partner": "b"},
        ]},
        {"carer": "b", "travel_minutes": 10, "working_minutes": 80, "visits": [
            {"visit": "v1", "client": "x", "start": 490, "end": 520},
            {"visit": "v2", "part": 1, "client": "x", "start": 600, "end": 630, "partner": "a"},
        ]},
    ],
    "unassigned": [{"visit": "v4", "reason": "nobody free"}],
}  # fmt: skip


@pytest.fixture()
def day() -> Problem:
    return Problem.model_validate(DAY)


def test_the_day_row_counts_cover_lateness_travel_and_hours(day):
    figures = plan_figures(day, Plan.model_validate(FIRST)).day
    assert figures.date == dt.date(2030, 6, 3)
    assert (figures.visits_total, figures.visits_covered, figures.visits_unassigned) == (4, 3, 1)
    assert figures.coverage == pytest.approx(3 / 4)
    assert figures.visits_missed is None  # no statuses: not known before the day
    assert (figures.late_starts, figures.late_minutes_total, figures.late_minutes_max) == (2, 25, 15)
    assert figures.travel_minutes == 35
    # Ann: base -> x -> x -> base is 1 + 0 + 1 steps; Ben: base -> y -> x -> base is 2 + 1 + 1
    assert figures.distance_km == pytest.approx(6 * STEP_KM * DETOUR)
    assert figures.carers_working == 2
    assert figures.mean_carers_per_client == pytest.approx((2 + 1) / 2)
    assert figures.continuity == pytest.approx(2 / 3)  # x's carer-visits: Ann twice (known), Ben once
    assert figures.working_minutes == 260
    assert figures.contracted_minutes == 120 + 60  # Ben has no contract
    assert figures.shift_minutes == 240 + 180 + 100
    assert figures.utilisation == pytest.approx(260 / 520)
    assert figures.overtime_minutes == 150 - 120


def test_each_carer_and_client_has_a_row(day):
    figures = plan_figures(day, Plan.model_validate(FIRST))
    ann, ben, cat = figures.carers
    assert [c.carer for c in figures.carers] == ["a", "b", "c"]  # Cat has a shift but no visits
    assert (ann.visits, ann.clients, ann.late_starts, ann.late_minutes_max) == (2, 1, 1, 10)
    assert ann.distance_km == pytest.approx(2 * STEP_KM * DETOUR)
    assert (ann.utilisation, ann.overtime_minutes) == (pytest.approx(150 / 240), 30)
    assert (ben.visits, ben.clients, ben.contracted_minutes, ben.overtime_minutes) == (2, 2, None, 0)
    assert ben.distance_km == pytest.approx(4 * STEP_KM * DETOUR)
    assert (cat.visits, cat.working_minutes, cat.utilisation, cat.overtime_minutes) == (0, 0, 0, 0)
    x, y = figures.clients
    assert (x.client, x.visits_total, x.visits_covered, x.visits_unassigned) == ("x", 2, 2, 0)
    assert (x.carers, x.distinct_carers, x.carer_visits) == (["a", "b"], 2, 3)
    assert x.continuity == pytest.approx(2 / 3)
    assert (x.late_starts, x.late_minutes_total) == (1, 10)
    assert (y.visits_total, y.visits_covered, y.visits_unassigned, y.carers) == (2, 1, 1, ["b"])
    assert y.continuity is None  # no history: nothing to keep


def test_statuses_after_the_day_count_missed_visits(day):
    statuses = {("v1", "a"): "done", ("v2", "a"): "missed", ("v2", "b"): "done", ("v3", "b"): "missed"}
    figures = plan_figures(day, Plan.model_validate(FIRST), statuses)
    assert figures.day.visits_missed == 2  # v2 (one of its two carers missed it) and v3
    assert [c.visits_missed for c in figures.carers] == [1, 1, 0]
    assert [c.visits_missed for c in figures.clients] == [1, 1]


def test_lateness_is_against_the_target_else_the_window(day):
    v1, v2, _, v4 = day.visits
    assert start_lateness(v1, 500) == 0 and start_lateness(v1, 507) == 7  # target ends 500
    assert start_lateness(v2, 659) == 0 and start_lateness(v2, 665) == 5  # no target: window ends 660
    open_ended = v4.model_copy(update={"window": v4.window.model_copy(update={"end": None})})
    assert start_lateness(open_ended, 900) == 0


def test_planar_coordinates_have_no_distance(day):
    planar = day.model_copy(
        update={"locations": [loc.model_copy(update={"lat": None, "lon": None, "x": i, "y": 0}) for i, loc in
                              enumerate(day.locations)]}
    )  # fmt: skip
    figures = plan_figures(planar, Plan.model_validate(FIRST))
    assert figures.day.distance_km is None and all(c.distance_km is None for c in figures.carers)


def test_a_range_adds_days_up_and_counts_carers_per_client_over_it(day):
    first = plan_figures(day, Plan.model_validate(FIRST))
    second = plan_figures(day, Plan.model_validate(SECOND), date=dt.date(2030, 6, 4))
    summary = summarise([first.day, second.day], [*first.carers, *second.carers], [*first.clients, *second.clients])
    assert (summary.start, summary.end, summary.days) == (dt.date(2030, 6, 3), dt.date(2030, 6, 4), 2)
    t = summary.totals
    assert (t.visits_total, t.visits_covered, t.late_starts, t.late_minutes_max) == (8, 6, 2, 15)
    assert t.travel_minutes == 35 + 20 and t.working_minutes == 260 + 200
    assert t.continuity == pytest.approx((2 + 1) / (3 + 3))  # x: Ann twice on day one, once on day two
    assert summary.per_day["late_starts"] == 1 and summary.per_day["travel_minutes"] == 27.5
    ann, ben, cat = summary.carers
    assert (ann.working_minutes, ann.contracted_minutes, ann.overtime_minutes) == (270, 240, 30)
    assert (ben.working_minutes, ben.contracted_minutes, ben.days_worked) == (190, None, 2)
    assert (cat.working_minutes, cat.contracted_minutes, cat.days_worked, cat.days) == (0, 120, 0, 2)
    x, y = summary.clients
    assert (x.distinct_carers, y.distinct_carers) == (2, 2)  # y: Ben on day one, Ann on day two
    assert t.mean_carers_per_client == 2  # over the range, where each day alone has (2 + 1) / 2
    assert (x.visits_total, y.visits_covered) == (4, 2)


def test_the_week_summary_reads_the_totals(day):
    first = plan_figures(day, Plan.model_validate(FIRST))
    text = week_summary_text(summarise([first.day], first.carers, first.clients))
    assert "2030-06-03 to 2030-06-03: 1 day" in text
    assert "4 planned, 3 covered (75.0%), 1 unassigned, missed not known" in text
    assert "Late starts   2, 25 min in all, at most 15 min" in text
    ann = next(line for line in text.splitlines() if "Ann" in line)
    assert ann.split() == ["Ann", "2.5", "h", "of", "2.0", "h", "(+0.5", "h)"]  # 150 worked of 120 contracted


def test_csv_has_a_header_and_a_row_per_subject(day):
    figures = plan_figures(day, Plan.model_validate(FIRST))
    rows = list(csv.DictReader(io.StringIO(csv_text(figures.clients, ClientFigures))))
    assert [r["client"] for r in rows] == ["x", "y"]
    assert rows[0]["carers"] == "a b" and rows[0]["visits_missed"] == "" and rows[1]["continuity"] == ""
    empty = csv_text([], CarerFigures).splitlines()
    assert empty == [",".join(CarerFigures.model_fields)]


# -- charts (carescheduler.report.charts) ----------------------------------------------------------


class Shapes(HTMLParser):
    """Each element's tag and attributes, and the text of <title>, <desc> and table cells."""

    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            self.texts.setdefault(self._open[-1], []).append(data)

    def rects(self, kind: str) -> list[dict]:
        return [a for t, a in self.found if t == "rect" and a.get("class") == kind]


def test_the_coverage_chart_draws_each_day_and_tables_the_numbers(day):
    first = plan_figures(day, Plan.model_validate(FIRST)).day
    second = plan_figures(day, Plan.model_validate(SECOND), date=dt.date(2030, 6, 4)).day
    chart = Shapes(coverage_chart([second, first]))
    covered = chart.rects("bar")
    assert [float(r["height"]) for r in covered] == pytest.approx([110 * 3 / 4, 110 * 3 / 4])  # both 3 of 4
    late = chart.rects("bar late")
    assert [float(r["height"]) for r in late] == pytest.approx([110 * 2 / 2, 0])  # 2 then 0 late; axis top 2
    assert chart.texts["title"][0] == "Coverage and late starts per day"
    assert "Coverage was lowest on 2030-06-03 at 75.0%" in chart.texts["desc"][0]
    assert chart.texts["th"][-2:] == ["2030-06-03 (Mon 3)", "2030-06-04 (Tue 4)"]  # in date order
    svg = next(a for t, a in chart.found if t == "svg")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "coverage-title coverage-desc"


def test_the_hours_chart_marks_the_contract_and_the_overtime(day):
    first = plan_figures(day, Plan.model_validate(FIRST))
    carers = summarise([first.day], first.carers).carers  # Ann 2.5 h of 2, Ben 1.8 h (none), Cat 0 of 1
    chart = Shapes(hours_chart(carers))
    scale = (720 - 170 - 16 - 40) / 5  # drawing units per hour: the axis runs to 5 h
    bars = chart.rects("bar")
    assert [float(b["width"]) for b in bars] == pytest.approx([2 * scale, 110 / 60 * scale, 0], abs=0.05)  # 0.1 drawn
    [over] = chart.rects("bar over")
    assert float(over["width"]) == pytest.approx(0.5 * scale, abs=0.05)
    assert float(over["x"]) == pytest.approx(170 + 2 * scale, abs=0.05)
    contracts = [float(a["x1"]) for t, a in chart.found if t == "line" and a.get("class") == "contract"]
    assert contracts == pytest.approx([170 + 2 * scale, 170 + 1 * scale], abs=0.05)  # Ben has no contract: no mark


def test_the_continuity_chart_counts_clients_by_different_carers():
    clients = [ClientTotals(client=f"c{i}", distinct_carers=n) for i, n in enumerate([1, 2, 2, 11, 0])]
    chart = Shapes(continuity_chart(clients))
    heights = [float(r["height"]) for r in chart.rects("bar")]
    assert len(heights) == 10  # 1 to 9, then 10 or more
    assert heights[0] == pytest.approx(160 / 2) and heights[1] == pytest.approx(160)  # axis top: 2 clients
    assert heights[9] == pytest.approx(160 / 2) and not any(heights[2:9])
    assert "4 clients; on average each saw 4.0 different carers" in chart.texts["desc"][0]


def test_charts_with_nothing_to_draw_say_so():
    assert "No published plans" in coverage_chart([])
    assert "No carers" in hours_chart([])
    assert "No client" in continuity_chart([ClientTotals(client="c")])
