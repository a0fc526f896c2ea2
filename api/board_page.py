"""The coordinator's board as an HTML page: the day's plan drawn with the report's own
timeline, map and figures (``carescheduler.report``), and the forms and panels a
coordinator acts through. The page is complete without its script, which adds the acts
(``static/board.js``): it reads what it needs from ``data-`` attributes here and calls
the JSON API with the page's session cookie and CSRF token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from carescheduler.plan import format_minutes
from carescheduler.report.figures import cost_section, kpi_cards, unassigned_section
from carescheduler.report.runs_map import map_section
from carescheduler.report.timeline import Statuses, timeline_section
from carescheduler.report.view import DayView, Polyline, esc

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""Every board page: its own scripts only, nothing from elsewhere, never in a frame."""

STATIC = "/board/static"
"""Where the page's style sheets and scripts are served (same origin: no CDN)."""


@dataclass
class BoardState:
    """What the page shows beyond the plan: which plan it is and what it is for."""

    date: str
    organisation: str
    user: str
    csrf: str
    plan_number: int
    plan_status: str
    published_number: int | None
    etag: str
    now: float | None
    statuses: Statuses | None = None
    changes: dict | None = None
    back: Sequence[int] = ()
    before: tuple[float, float, int] | None = None
    """The published plan's coverage, cost and unassigned visits, beside a draft's."""
    attribution: str | None = None
    roads: Sequence[Polyline] = ()
    days: Sequence[str] = field(default_factory=list)


def board_page(view: DayView, state: BoardState) -> str:
    """The whole page for ``view`` (a plan of the day with its problem)."""
    draft = state.plan_status == "draft"
    title = f"Board — {_long_date(state.date)}"
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f'<meta name="csrf-token" content="{esc(state.csrf)}">',
            f"<title>{esc(title)}</title>",
            f'<link rel="stylesheet" href="{STATIC}/report.css">',
            f'<link rel="stylesheet" href="{STATIC}/board.css"></head>\n',
            f'<body class="board{" drafting" if draft else ""}" data-date="{esc(state.date)}" '
            f'data-plan="{state.plan_number}" data-status="{esc(state.plan_status)}" '
            f'data-published="{state.published_number or ""}" data-etag="{esc(state.etag)}" '
            f'data-now="{"" if state.now is None else f"{state.now:.2f}"}" '
            f'data-back="{",".join(str(n) for n in state.back)}">\n',
            '<a class="skip" href="#timeline">Skip to the timeline</a>\n',
            _top_bar(view, state, title),
            '<main class="board-main">\n<div class="board-left">\n',
            _draft_banner(view, state) if draft else "",
            kpi_cards(view),
            timeline_section(
                view,
                now=state.now,
                statuses=state.statuses,
                interactive=True,
                heading="Carers' day",
                later=f"/board/{state.date}/rows?plan={state.plan_number}",
            ),
            '<div class="pair-of-cards">',
            unassigned_section(view),
            cost_section(view.plan),
            "</div>\n</div>\n",
            '<div class="board-right">\n',
            map_section(view, state.roads, state.attribution, {}),
            _visit_panel(view),
            _events_panel(view),
            _carer_panel(),
            "</div>\n</main>\n",
            '<div id="tip" role="tooltip" hidden></div>\n',
            '<div id="say" class="say" role="status" aria-live="polite"></div>\n',
            '<div id="drag-verdict" class="drag-verdict" aria-live="polite"></div>\n',
            f'<script src="{STATIC}/report.js"></script>\n',
            f'<script src="{STATIC}/board.js"></script>\n</body></html>\n',
        ]
    )


def _long_date(date: str) -> str:
    day = dt.date.fromisoformat(date)
    return f"{day:%A} {day.day} {day:%B %Y}"


def _top_bar(view: DayView, state: BoardState, title: str) -> str:
    problem = view.problem
    plan = (
        f"draft plan {state.plan_number}"
        if state.plan_status == "draft"
        else f"plan {state.plan_number} ({state.plan_status})"
    )
    now = f" · now {format_minutes(state.now)}" if state.now is not None else ""
    days = "".join(
        f'<option value="{esc(d)}"{" selected" if d == state.date else ""}>{esc(d)}</option>' for d in state.days
    )
    picker = (
        f'<form class="days" method="get" action="/board"><label for="day-pick">Day</label>'
        f'<select id="day-pick" name="date">{days}</select><button type="submit">Open</button></form>'
        if state.days
        else ""
    )
    return (
        f'<header class="top"><div><h1>{esc(title)}</h1><p class="sub">{esc(state.organisation)} · '
        f'<span id="plan-label">{esc(plan)}</span> · {len(problem.visits):,} visits · '
        f'{len(problem.carers):,} carers<span id="clock">{esc(now)}</span> · '
        f'<span id="live" class="live">live updates: connecting</span></p></div>'
        f'<nav class="tools" aria-label="board tools">{picker}'
        f'<a href="/board/{esc(state.date)}/run-sheets">Run sheets</a><a href="/board/figures">Figures</a>'
        f'<form method="post" action="/sign-out" class="sign-out"><input type="hidden" name="csrf" '
        f'value="{esc(state.csrf)}"><button type="submit">Sign out {esc(state.user)}</button></form></nav></header>\n'
    )


def _draft_banner(view: DayView, state: BoardState) -> str:
    """A draft's preview: who changes and how, and coverage and cost, against the
    published plan."""
    changes = state.changes or {}
    carers = changes.get("carers") or []
    items = []
    for change in carers:
        parts = []
        if change.get("added"):
            parts.append(f"takes {', '.join(change['added'])}")
        if change.get("removed"):
            parts.append(f"no longer has {', '.join(change['removed'])}")
        for item in change.get("retimed") or []:
            before, after = item.get("before"), item.get("after")
            when = (
                f" {format_minutes(before)} → {format_minutes(after)}"
                if isinstance(before, int | float) and isinstance(after, int | float)
                else ""
            )
            parts.append(f"{item.get('visit')} retimed{when}")
        items.append(
            f'<li data-changed-carer="{esc(change["carer"])}"><strong>{esc(_who(view, change["carer"]))}</strong>: '
            f"{esc('; '.join(parts) or 'changed')}</li>"
        )
    moved = changes.get("moved_visits") or []
    warnings = "".join(f"<li>{esc(w)}</li>" for w in changes.get("warnings") or [])
    summary = f"{len(carers)} carer{'s' if len(carers) != 1 else ''} change" + (
        f" · {len(moved)} visits of others moved" if moved else ""
    )
    return (
        f'<section class="card preview" id="preview" aria-labelledby="preview-h"><h2 id="preview-h">'
        f'Preview of draft plan {state.plan_number} <span class="n">{esc(summary)} — not yet sent to '
        f"anyone</span></h2>{_delta(view, state)}"
        f'<ul class="changes" tabindex="0" aria-label="changes by carer">{"".join(items) or NO_CHANGE}</ul>'
        f"{f'<ul class=warnings>{warnings}</ul>' if warnings else ''}"
        '<div class="actions"><button type="button" id="publish" class="primary">Publish to carers</button>'
        '<button type="button" id="undo">Undo</button>'
        '<button type="button" id="discard">Discard draft</button></div></section>\n'
    )


def _who(view: DayView, carer: str) -> str:
    label = view.carer_label(carer)
    return label if label == carer else f"{label} ({carer})"


NO_CHANGE = "<li>No carer’s day changes.</li>"


def _delta(view: DayView, state: BoardState) -> str:
    kpis, cost = view.plan.kpis, view.plan.cost.total
    if state.before is None:
        return f'<p class="delta">coverage {kpis.coverage:.1%} · cost {cost:,.0f}</p>'
    coverage0, cost0, unassigned0 = state.before
    change = cost - cost0
    return (
        f'<p class="delta" id="delta">coverage {coverage0:.1%} → <strong>{kpis.coverage:.1%}</strong> · '
        f"unassigned {unassigned0:,} → <strong>{len(view.unassigned):,}</strong> · cost {cost0:,.0f} → "
        f"<strong>{cost:,.0f}</strong> ({change:+,.0f})</p>"
    )


def _visit_panel(view: DayView) -> str:
    carers = "".join(f'<option value="{esc(c.id)}">{esc(view.carer_label(c.id))}</option>' for c in view.problem.carers)
    return (
        '<section class="card panel" id="visit-panel" aria-labelledby="visit-h" hidden>'
        '<h2 id="visit-h">Visit <span id="visit-id"></span></h2><p id="visit-facts" class="facts"></p>'
        '<div class="actions"><button type="button" id="who">Who can take this?</button>'
        '<button type="button" id="cancel-visit">Cancel this visit</button></div>'
        '<form id="move-form" class="inline"><label for="move-to">Move to carer</label>'
        f'<select id="move-to" name="carer">{carers}</select><button type="submit">Move</button></form>'
        '<p id="refusal" class="refusal" role="alert" hidden></p>'
        '<div id="recommendations" aria-live="polite"></div></section>\n'
    )


def _events_panel(view: DayView) -> str:
    """A form per event a coordinator reports; each asks for a replan preview."""
    carers = "".join(f'<option value="{esc(c.id)}">{esc(view.carer_label(c.id))}</option>' for c in view.problem.carers)
    places = "".join(f'<option value="{esc(x.id)}">{esc(x.address or x.id)}</option>' for x in view.problem.locations)

    def form(kind: str, legend: str, fields: str, open_: bool = False) -> str:
        return (
            f'<details class="event"{" open" if open_ else ""}><summary>{legend}</summary>'
            f'<form class="event-form" data-type="{kind}">{fields}<button type="submit">Preview the replan</button>'
            "</form></details>"
        )

    def field(name: str, label: str, control: str) -> str:
        ident = f"f-{name}-{abs(hash(label)) % 10000}"
        return f'<p><label for="{ident}">{label}</label>{control.replace("ID", ident)}</p>'

    return (
        '<section class="card panel" id="events" aria-labelledby="events-h"><h2 id="events-h">Report an event</h2>'
        + form(
            "carer_absent",
            "Carer absent",
            field("carer", "Carer", f'<select id="ID" name="carer" required>{carers}</select>')
            + field("start", "From (HH:MM, empty: now)", '<input id="ID" name="start" type="time">')
            + field("end", "Until (empty: rest of the day)", '<input id="ID" name="end" type="time">')
            + field("reason", "Reason", '<input id="ID" name="reason" maxlength="500">'),
            open_=True,
        )
        + form(
            "carer_delayed",
            "Carer delayed",
            field("carer", "Carer", f'<select id="ID" name="carer" required>{carers}</select>')
            + field("minutes", "Minutes late", _number("minutes", 1, 600, required=True))
            + field("reason", "Reason", '<input id="ID" name="reason" maxlength="500">'),
        )
        + form(
            "visit_cancelled",
            "Visit cancelled",
            field("visit", "Visit id", '<input id="ID" name="visit" required maxlength="200">')
            + field("reason", "Reason", '<input id="ID" name="reason" maxlength="500">'),
        )
        + form(
            "visit_changed",
            "Visit changed",
            field("visit", "Visit id", '<input id="ID" name="visit" required maxlength="200">')
            + field("window_start", "May start from", '<input id="ID" name="window_start" type="time">')
            + field("window_end", "Must start by", '<input id="ID" name="window_end" type="time">')
            + field("duration", "Length (minutes)", _number("duration", 1, 720)),
        )
        + form(
            "client_added",
            "New client with visits",
            field("client", "Client id", '<input id="ID" name="client" required maxlength="200">')
            + field("name", "Name", '<input id="ID" name="name" maxlength="200">')
            + field("location", "Home (a known address)", f'<select id="ID" name="location">{places}</select>')
            + field("window_start", "Visit may start from", '<input id="ID" name="window_start" type="time" required>')
            + field("window_end", "Visit must start by", '<input id="ID" name="window_end" type="time" required>')
            + field("duration", "Length (minutes)", _number("duration", 5, 720, required=True))
            + field(
                "count",
                "Carers needed",
                '<select id="ID" name="carers_needed"><option>1</option><option>2</option></select>',
            ),
        )
        + "</section>\n"
    )


def _number(name: str, least: int, most: int, *, required: bool = False) -> str:
    return f'<input id="ID" name="{name}" type="number" min="{least}" max="{most}"{" required" if required else ""}>'


def _carer_panel() -> str:
    return (
        '<section class="card panel" id="carer-panel" aria-labelledby="carer-h" hidden>'
        '<h2 id="carer-h">Carer <span id="carer-id"></span></h2><p id="carer-facts" class="facts"></p>'
        '<p><a id="run-sheet" href="#">Run sheet (printable)</a></p></section>\n'
    )
