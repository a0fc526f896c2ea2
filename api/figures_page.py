"""The coordinator's figures page (``/board/figures``): a date range's management figures
as cards, the report's charts (``carescheduler.report.charts``) and tables, with links
to the same tables as CSV. Plain HTML, no script: the range is a form that reloads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from carescheduler.report.charts import continuity_chart, coverage_chart, hours_chart
from carescheduler.report.view import duration_text, esc
from carescheduler.roster.figures import DayFigures, RangeSummary

from .board_page import STATIC


def figures_page(
    summary: RangeSummary | None,
    first: dt.date,
    last: dt.date,
    user: str,
    csrf: str,
    *,
    days: Sequence[DayFigures] = (),
    plans: Mapping[str, int] | None = None,
    error: str | None = None,
) -> str:
    """The whole page for the range ``first`` to ``last``; with ``error`` (a bad range
    asked for) only the form and the reason."""
    title = f"Figures — {_span(first, last)}"
    body = [f'<p class="notice" role="alert">{esc(error)}</p>'] if error else []
    if summary is not None:
        body += [
            _cards(summary),
            coverage_chart(days),
            hours_chart(summary.carers),
            continuity_chart(summary.clients),
            _tables(summary, days, plans or {}, first, last),
        ]
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f'<link rel="stylesheet" href="{STATIC}/report.css">',
            f'<link rel="stylesheet" href="{STATIC}/board.css"></head>\n',
            '<body class="board figures">\n<a class="skip" href="#figures-main">Skip to the figures</a>\n',
            _top_bar(title, first, last, user, csrf),
            f'<main id="figures-main" class="figures-main">\n{"".join(body)}</main>\n</body></html>\n',
        ]
    )


def _span(first: dt.date, last: dt.date) -> str:
    if first == last:
        return f"{first:%A} {first.day} {first:%B %Y}"
    return f"{first.day} {first:%B %Y} to {last.day} {last:%B %Y}"


def _top_bar(title: str, first: dt.date, last: dt.date, user: str, csrf: str) -> str:
    return (
        f'<header class="top"><div><h1>{esc(title)}</h1><p class="sub">Management figures of the published plans'
        "</p></div>"
        '<nav class="tools" aria-label="figures tools">'
        '<form class="range" method="get" action="/board/figures">'
        f'<label for="range-from">From</label><input id="range-from" name="from" type="date" value="{first}">'
        f'<label for="range-to">to</label><input id="range-to" name="to" type="date" value="{last}">'
        '<button type="submit">Show</button></form>'
        '<a href="/board">Back to the board</a>'
        f'<form method="post" action="/sign-out" class="sign-out"><input type="hidden" name="csrf" '
        f'value="{esc(csrf)}"><button type="submit">Sign out {esc(user)}</button></form></nav></header>\n'
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _hours(minutes: float | None) -> str:
    return "—" if minutes is None else f"{minutes / 60:,.1f}"


def _cards(summary: RangeSummary) -> str:
    t = summary.totals
    missed = "—" if t.visits_missed is None else f"{t.visits_missed:,}"
    km = "no coordinates" if t.distance_km is None else f"{t.distance_km:,.0f} km (estimated)"
    cards = [  # label, value, note, shown as a problem
        ("Days", f"{summary.days:,}", "with a published plan", False),
        ("Coverage", _share(t.coverage), f"{t.visits_covered:,} of {t.visits_total:,} visits planned", False),
        ("Missed", missed, "not known without check-ins" if t.visits_missed is None else "visits missed", False),
        (
            "Late starts",
            f"{t.late_starts:,}",
            f"{t.late_minutes_total:,.0f} min in all · max {t.late_minutes_max:,.0f} min",
            t.late_starts > 0,
        ),
        ("Travel", duration_text(t.travel_minutes), km, False),
        (
            "Hours",
            f"{_hours(t.working_minutes)} h",
            f"worked, of {_hours(t.contracted_minutes)} h contracted",
            False,
        ),
        ("Utilisation", _share(t.utilisation), "working over shift time", False),
        ("Overtime", duration_text(t.overtime_minutes), "beyond contracted minutes", t.overtime_minutes > 0),
        (
            "Continuity",
            f"{t.mean_carers_per_client:.1f}",
            f"different carers per client over the range · {_share(t.continuity)} by a known carer",
            False,
        ),
    ]
    body = "".join(
        f'<div class="kpi{" bad" if bad else ""}"><div class="l">{esc(label)}</div>'
        f'<div class="v">{esc(value)}</div><div class="s">{esc(note)}</div></div>'
        for label, value, note, bad in cards
    )
    return f'<section class="kpis" aria-label="the range in figures">{body}</section>\n'


def _csv_link(scope: str, first: dt.date, last: dt.date) -> str:
    query = urlencode({"from": first.isoformat(), "to": last.isoformat(), "format": "csv"})
    return f'<a class="csv" href="/v1/figures/{scope}?{query}" download>Download CSV ({scope})</a>'


def _table(ident: str, label: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    header = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<th scope="row">{esc(c)}</th>' if i == 0 else f'<td class="num">{esc(c)}</td>' for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    empty = "" if rows else '<p class="empty">Nothing in this range.</p>'
    return (
        f'<div class="scroll" id="{ident}" tabindex="0" role="region" aria-label="{esc(label)}"><table>'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>{empty}</div>"
    )


def _tables(
    summary: RangeSummary, days: Sequence[DayFigures], plans: Mapping[str, int], first: dt.date, last: dt.date
) -> str:
    day_rows = [
        [
            str(d.date),
            str(plans.get(str(d.date), "")),
            f"{d.visits_total:,}",
            f"{d.visits_covered:,}",
            f"{d.visits_unassigned:,}",
            "—" if d.visits_missed is None else f"{d.visits_missed:,}",
            f"{d.late_starts:,}",
            f"{d.late_minutes_total:,.0f}",
            f"{d.late_minutes_max:,.0f}",
            _hours(d.travel_minutes),
            "—" if d.distance_km is None else f"{d.distance_km:,.1f}",
            f"{d.carers_working:,}",
            f"{d.mean_carers_per_client:.2f}",
            _share(d.continuity),
            _hours(d.working_minutes),
            _hours(d.contracted_minutes),
            _share(d.utilisation),
            _hours(d.overtime_minutes),
        ]
        for d in days
    ]
    day_head = [
        "day", "plan", "visits", "covered", "unassigned", "missed", "late starts", "late min", "late max",
        "travel h", "km (est.)", "carers", "carers per client", "known carer", "worked h", "contracted h",
        "utilisation", "overtime h",
    ]  # fmt: skip
    carer_rows = [
        [
            f"{c.name} ({c.carer})" if c.name else c.carer,
            f"{c.days_worked:,}",
            f"{c.visits:,}",
            _hours(c.working_minutes),
            _hours(c.contracted_minutes),
            "—" if c.contracted_minutes is None else f"{(c.working_minutes - c.contracted_minutes) / 60:+,.1f}",
            _hours(c.overtime_minutes),
            _hours(c.travel_minutes),
            "—" if c.distance_km is None else f"{c.distance_km:,.1f}",
        ]
        for c in summary.carers
    ]
    carer_head = ["carer", "days worked", "visits", "worked h", "contracted h", "difference h", "overtime h",
                  "travel h", "km (est.)"]  # fmt: skip
    client_rows = [
        [
            f"{c.name} ({c.client})" if c.name else c.client,
            f"{c.days:,}",
            f"{c.visits_total:,}",
            f"{c.visits_covered:,}",
            "—" if c.visits_missed is None else f"{c.visits_missed:,}",
            f"{c.late_starts:,}",
            f"{c.distinct_carers:,}",
            ", ".join(c.carers),
        ]
        for c in summary.clients
    ]
    client_head = ["client", "days", "visits", "covered", "missed", "late starts", "different carers", "carers"]
    return (
        '<section class="card" id="tables" aria-labelledby="tables-h"><h2 id="tables-h">Tables</h2>'
        f"<h3>Per day {_csv_link('days', first, last)}</h3>"
        + _table("days-table", "figures per day", day_head, day_rows)
        + f"<h3>Per carer, over the range {_csv_link('carers', first, last)}</h3>"
        + _table("carers-table", "figures per carer", carer_head, carer_rows)
        + f"<h3>Per client, over the range {_csv_link('clients', first, last)}</h3>"
        + _table("clients-table", "figures per client", client_head, client_rows)
        + '<p class="hint">The CSV files hold a row per carer (or client) per day.</p></section>\n'
    )
