"""Charts of management figures (``roster.figures``) over a date range: coverage and
lateness per day, hours against contract per carer, and how many different carers each
client sees.

Each chart is inline SVG (no script, nothing from the network: it works on a page with
a strict Content-Security-Policy and in a saved file) with a title and a description a
screen reader reads out, and the same numbers in a table beneath it: a chart shows the
shape, the table gives the figures to quote. Colours and type come from the report's
style sheet (``report.css``: ``.chart``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..roster.figures import CarerTotals, ClientTotals, DayFigures
from .view import SVG_NS, esc

__all__ = ["MOST_CARERS_APART", "continuity_chart", "coverage_chart", "hours_chart"]

WIDTH = 720
"""The charts' drawing width (they scale to their card)."""
LEFT, RIGHT = 64, 16
MOST_CARERS_APART = 10
"""Clients seeing this many different carers or more share the histogram's last column."""


def _day_label(date: dt.date | None) -> str:
    return f"{date:%a} {date.day}" if date is not None else "?"


def _f(value: float) -> str:
    return f"{value:.1f}"


def _frame(ident: str, title: str, description: str, height: int, body: str) -> str:
    return (
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" {SVG_NS} role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{esc(title)}</title><desc id="{ident}-desc">{esc(description)}</desc>'
        f"{body}</svg>"
    )


def _section(ident: str, title: str, svg: str, head: Sequence[str], rows: Sequence[Sequence[str]], note: str) -> str:
    header = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<th scope="row">{esc(cell)}</th>' if i == 0 else f'<td class="num">{esc(cell)}</td>'
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<section class="card chart" id="{ident}" aria-labelledby="{ident}-h"><h2 id="{ident}-h">{esc(title)}</h2>'
        f'<figure class="chart-figure">{svg}<figcaption>{esc(note)}</figcaption></figure>'
        f"<details><summary>The numbers ({len(rows):,} rows)</summary>"
        f'<div class="scroll" tabindex="0" role="region" aria-label="{esc(title)}: the numbers"><table>'
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div></details></section>\n"
    )


def _empty(ident: str, title: str, text: str) -> str:
    return (
        f'<section class="card chart" id="{ident}" aria-labelledby="{ident}-h"><h2 id="{ident}-h">{esc(title)}</h2>'
        f'<p class="empty">{esc(text)}</p></section>\n'
    )


def _nice_top(value: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten, at least ``value`` (and at least 1)."""
    if value <= 1:
        return 1.0
    scale = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * scale:
            return float(step * scale)
    return float(10 * scale)


def coverage_chart(days: Sequence[DayFigures], ident: str = "coverage") -> str:
    """Coverage (share of visits planned in full) and late starts, a column each per day."""
    title = "Coverage and late starts per day"
    days = [d for d in days if d.date is not None]
    if not days:
        return _empty(ident, title, "No published plans in this range.")
    days = sorted(days, key=lambda d: d.date or dt.date.min)
    panel, gap, top_pad, axis = 110, 46, 22, 34
    height = top_pad + panel + gap + panel + axis
    step = (WIDTH - LEFT - RIGHT) / len(days)
    bar = min(46.0, step * 0.62)
    most_late = _nice_top(max(d.late_starts for d in days))
    cover_base, late_base = top_pad + panel, top_pad + panel + gap + panel
    parts = [
        f'<text class="axis-title" x="{LEFT}" y="14">coverage</text>',
        f'<text class="axis-title" x="{LEFT}" y="{cover_base + gap - 8}">late starts</text>',
    ]
    for share in (0.0, 0.5, 1.0):
        y = cover_base - share * panel
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{_f(y + 4)}">{share:.0%}</text>')
    for count in (0.0, most_late / 2, most_late):
        y = late_base - count / most_late * panel
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{_f(y + 4)}">{count:g}</text>')
    for i, d in enumerate(days):
        x = LEFT + i * step + (step - bar) / 2
        h = d.coverage * panel
        label = _day_label(d.date)
        parts.append(
            f'<rect class="bar" x="{_f(x)}" y="{_f(cover_base - h)}" width="{_f(bar)}" height="{_f(h)}">'
            f"<title>{esc(label)}: {d.coverage:.1%} covered ({d.visits_covered:,} of {d.visits_total:,})</title></rect>"
        )
        late = d.late_starts / most_late * panel
        parts.append(
            f'<rect class="bar late" x="{_f(x)}" y="{_f(late_base - late)}" width="{_f(bar)}" height="{_f(late)}">'
            f"<title>{esc(label)}: {d.late_starts:,} late starts, {d.late_minutes_total:,.0f} min in all</title></rect>"
        )
        middle = x + bar / 2
        parts.append(f'<text class="label" x="{_f(middle)}" y="{height - 12}">{esc(label)}</text>')
    worst = min(days, key=lambda d: d.coverage)
    latest = max(days, key=lambda d: d.late_starts)
    description = (
        f"{len(days)} days from {days[0].date} to {days[-1].date}. Coverage was lowest on {worst.date} "
        f"at {worst.coverage:.1%} and highest at {max(d.coverage for d in days):.1%}. "
        f"{sum(d.late_starts for d in days):,} late starts in all, most on {latest.date} ({latest.late_starts:,})."
    )
    rows = [
        [
            f"{d.date} ({_day_label(d.date)})",
            f"{d.visits_total:,}",
            f"{d.visits_covered:,}",
            f"{d.coverage:.1%}",
            "—" if d.visits_missed is None else f"{d.visits_missed:,}",
            f"{d.late_starts:,}",
            f"{d.late_minutes_total:,.0f}",
            f"{d.late_minutes_max:,.0f}",
        ]
        for d in days
    ]
    head = ["day", "visits", "covered", "coverage", "missed", "late starts", "late min (all)", "late min (most)"]
    svg = _frame(ident, title, description, height, "".join(parts))
    note = "Covered: every carer the visit needs is planned. Late: a start after the target window (else the window)."
    return _section(ident, title, svg, head, rows, note)


def hours_chart(carers: Sequence[CarerTotals], ident: str = "hours") -> str:
    """Hours worked per carer as bars, the contracted hours marked on each; the part of a
    bar beyond the contract is drawn as overtime."""
    title = "Hours against contract per carer"
    if not carers:
        return _empty(ident, title, "No carers worked in this range.")
    row, top_pad, axis, left = 20, 10, 30, 170
    height = top_pad + row * len(carers) + axis
    most = _nice_top(max(max(c.working_minutes, c.contracted_minutes or 0.0) for c in carers) / 60)
    span = WIDTH - left - RIGHT - 40
    parts = []
    for k in range(5):
        hours = most * k / 4
        x = left + hours / most * span
        parts.append(f'<line class="grid" x1="{_f(x)}" x2="{_f(x)}" y1="{top_pad}" y2="{height - axis}"/>')
        parts.append(f'<text class="label" x="{_f(x)}" y="{height - 12}">{hours:g} h</text>')
    for i, c in enumerate(carers):
        y = top_pad + i * row
        worked, contract = c.working_minutes / 60, (c.contracted_minutes or 0.0) / 60
        within = min(worked, contract) if c.contracted_minutes is not None else worked
        name = c.name or c.carer
        text = f"{name}: {worked:,.1f} h worked" + (
            f" of {contract:,.1f} h contracted" if c.contracted_minutes is not None else ", no contract"
        )
        parts.append(f'<text class="name" x="{left - 8}" y="{y + 14}">{esc(name[:24])}</text>')
        parts.append(
            f'<rect class="bar" x="{left}" y="{y + 4}" width="{_f(within / most * span)}" height="12">'
            f"<title>{esc(text)}</title></rect>"
        )
        if worked > within:
            parts.append(
                f'<rect class="bar over" x="{_f(left + within / most * span)}" y="{y + 4}" '
                f'width="{_f((worked - within) / most * span)}" height="12"><title>{esc(text)}</title></rect>'
            )
        if c.contracted_minutes is not None:
            x = left + contract / most * span
            parts.append(f'<line class="contract" x1="{_f(x)}" x2="{_f(x)}" y1="{y + 1}" y2="{y + 19}"/>')
    over = [c for c in carers if c.contracted_minutes is not None and c.working_minutes > c.contracted_minutes]
    under = [c for c in carers if c.contracted_minutes is not None and c.working_minutes < c.contracted_minutes]
    description = (
        f"{len(carers)} carers. {len(over)} worked beyond their contracted hours, {len(under)} worked fewer; "
        f"{sum(c.working_minutes for c in carers) / 60:,.1f} hours worked in all against "
        f"{sum(c.contracted_minutes or 0.0 for c in carers) / 60:,.1f} contracted."
    )
    rows = [
        [
            f"{c.name} ({c.carer})" if c.name else c.carer,
            f"{c.days_worked:,}",
            f"{c.working_minutes / 60:,.1f}",
            "—" if c.contracted_minutes is None else f"{c.contracted_minutes / 60:,.1f}",
            "—" if c.contracted_minutes is None else f"{(c.working_minutes - c.contracted_minutes) / 60:+,.1f}",
            f"{c.overtime_minutes / 60:,.1f}",
        ]
        for c in carers
    ]
    head = ["carer", "days worked", "hours worked", "hours contracted", "difference", "overtime (h)"]
    svg = _frame(ident, title, description, height, "".join(parts))
    note = "Bar: hours worked (visits and travel); dark line: hours contracted; red: beyond the contract."
    return _section(ident, title, svg, head, rows, note)


def continuity_chart(clients: Sequence[ClientTotals], ident: str = "continuity") -> str:
    """How many clients saw 1, 2, 3... different carers over the range (a histogram)."""
    title = "Different carers per client"
    seen = [c for c in clients if c.distinct_carers]
    if not seen:
        return _empty(ident, title, "No client had a visit planned in this range.")
    widest = min(max(c.distinct_carers for c in seen), MOST_CARERS_APART)
    counts = [0] * widest
    for c in seen:
        counts[min(c.distinct_carers, widest) - 1] += 1
    panel, top_pad, axis = 160, 16, 44
    height = top_pad + panel + axis
    most = _nice_top(max(counts))
    step = (WIDTH - LEFT - RIGHT) / widest
    bar = min(52.0, step * 0.7)
    base = top_pad + panel
    parts = []
    for value in (0.0, most / 2, most):
        y = base - value / most * panel
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{_f(y + 4)}">{value:g}</text>')
    labels = []
    for k, n in enumerate(counts, start=1):
        label = f"{k}+" if k == MOST_CARERS_APART else str(k)
        labels.append(label)
        x = LEFT + (k - 1) * step + (step - bar) / 2
        h = n / most * panel
        parts.append(
            f'<rect class="bar" x="{_f(x)}" y="{_f(base - h)}" width="{_f(bar)}" height="{_f(h)}">'
            f"<title>{n:,} clients saw {label} different carer{'s' if k > 1 else ''}</title></rect>"
        )
        parts.append(f'<text class="label" x="{_f(x + bar / 2)}" y="{base + 16}">{label}</text>')
    parts.append(f'<text class="label" x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{height - 6}">different carers</text>')
    mean = sum(c.distinct_carers for c in seen) / len(seen)
    description = (
        f"{len(seen):,} clients; on average each saw {mean:.1f} different carers. "
        + "; ".join(f"{n:,} saw {label}" for label, n in zip(labels, counts, strict=True))
        + "."
    )
    rows = [[label, f"{n:,}", f"{n / len(seen):.0%}"] for label, n in zip(labels, counts, strict=True)]
    head = ["different carers", "clients", "share of clients"]
    svg = _frame(ident, title, description, height, "".join(parts))
    note = "Fewer different carers is better continuity of care: the same faces at the door."
    return _section(ident, title, svg, head, rows, note)
