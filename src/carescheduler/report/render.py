"""The coordinator's report of a plan: one self-contained HTML page.

A coordinator would rather look at a day than read it, so the page shows the runs on a
map (one colour per carer), a timeline per carer (visits, travel, breaks, shifts, with
the two halves of a double-up linked), the KPIs, the cost and every unassigned visit with
its reason. Councils print these and their machines are often offline, so nothing is
fetched: no CDN, web fonts or map tiles. The map is inline SVG on a plain projection; a
road network can be drawn underneath from plain coordinate lists.

    from carescheduler.report import write_report
    write_report(problem, plan, "report.html", attribution="© OpenStreetMap contributors")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..domain import Problem
from ..plan import Plan
from .figures import cost_section, kpi_cards, unassigned_section
from .runs_map import map_section
from .timeline import timeline_section
from .view import DayView, Polyline, asset, carer_colour, esc, plain

__all__ = ["carer_colour", "render_report", "write_report"]


def render_report(
    problem: Problem,
    plan: Plan,
    *,
    title: str | None = None,
    roads: Sequence[Polyline] | None = None,
    attribution: str | None = None,
    runs: Mapping[str, Polyline] | None = None,
    date: dt.date | None = None,
) -> str:
    """The report as a complete HTML document (inline CSS, SVG and a small script).

    ``roads`` are drawn faintly under the runs; ``attribution`` is the map's credit line
    (e.g. "© OpenStreetMap contributors"). ``runs`` are carers' runs along the roads
    (``road_runs``); a carer without one is drawn straight from stop to stop. ``date``
    is the day's, when the problem does not say it (``Problem.day``). Raises
    InputError if the plan names carers or visits the problem does not have (a plan of
    another day).
    """
    day = DayView(problem, plan)
    title = title or f"Care plan — {problem.name}"
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title><style>{asset('report.css')}</style></head>\n<body>\n",
            _header(day, title, date or day.problem.day),
            "<main>\n",
            _travel_notice(plan),
            kpi_cards(day),
            map_section(day, roads or (), attribution, runs or {}),
            timeline_section(day),
            '<div class="pair-of-cards">',
            unassigned_section(day),
            cost_section(plan),
            "</div>\n",
            f"<footer>Made with carescheduler{_version()}.</footer>\n",
            '</main>\n<div id="tip" role="tooltip" hidden></div>\n',
            f"<script>{asset('report.js')}</script>\n</body></html>\n",
        ]
    )


def write_report(
    problem: Problem,
    plan: Plan,
    path: str | Path,
    *,
    title: str | None = None,
    roads: Sequence[Polyline] | None = None,
    attribution: str | None = None,
    runs: Mapping[str, Polyline] | None = None,
    date: dt.date | None = None,
) -> None:
    """Write :func:`render_report` to ``path`` (UTF-8)."""
    text = render_report(problem, plan, title=title, roads=roads, attribution=attribution, runs=runs, date=date)
    Path(path).write_text(text, encoding="utf-8")


# -- header and notice ----------------------------------------------------------------------


def _header(day: DayView, title: str, when: dt.date | None) -> str:
    problem = day.problem
    facts = [
        *([f"{when:%A} {when.day} {when:%B %Y}"] if isinstance(when, dt.date) else []),
        f"{len(problem.visits):,} visits",
        f"{len(problem.carers):,} carers ({len(day.routes):,} with visits)",
    ]
    if problem.name not in title:
        facts.insert(0, problem.name)
    solver = "".join(
        f"<div><dt>{esc(str(key).replace('_', ' '))}</dt><dd>{esc(plain(value))}</dd></div>"
        for key, value in day.plan.solver.items()
    )
    solver_block = f'<dl class="solver">{solver}</dl>' if solver else ""
    return (
        f'<header class="top"><div><h1>{esc(title)}</h1><p class="sub">{" · ".join(esc(f) for f in facts)}</p>'
        f"</div>{solver_block}</header>\n"
    )


def _travel_notice(plan: Plan) -> str:
    if not plan.kpis.travel_estimated:
        return ""
    return (
        '<p class="notice" id="travel-estimated"><strong>Travel times are estimated</strong> from '
        "straight-line distances between the addresses (no road network or travel matrix was given): "
        "real journeys may take longer or shorter than shown.</p>\n"
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f" {version('carescheduler')}"
    except PackageNotFoundError:
        return ""
