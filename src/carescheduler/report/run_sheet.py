"""Run sheets: one carer's day on paper.

Not every carer has a phone that works in every village, and many like a sheet in the car
anyway. A run sheet is that carer's day in the order they will drive or walk it: when to
leave home, each call with its planned times, the client, the address, what to do there and
who else comes for a double-handed call, the minutes of travel before each stop, the breaks,
and the day's totals (the unpaid gaps between calls among them). It is a complete HTML page
with its style inline (``@media print`` lays it out on A4) and no script, so it prints from
any browser, offline.

    from carescheduler.report import render_run_sheet, render_run_sheets
    Path("carer001.html").write_text(render_run_sheet(problem, plan, "carer001"), encoding="utf-8")
    Path("run-sheets.html").write_text(render_run_sheets(problem, plan), encoding="utf-8")  # a page each

Key-safe codes and other access notes are left off paper unless asked for
(``access_notes=True``): a sheet lost in the street would name the house and how to get in.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from ..domain import Carer, Location, Problem, TravelMode, Visit
from ..errors import InputError
from ..plan import Plan, PlannedBreak, PlannedVisit, Route, format_minutes

__all__ = ["render_run_sheet", "render_run_sheets"]

LATE_TOLERANCE = 0.01
"""Minutes past the agreed time before a planned start counts as late (absorbs float noise)."""

_MODES = {TravelMode.drive: "by car", TravelMode.walk: "on foot"}


def render_run_sheet(
    problem: Problem,
    plan: Plan,
    carer_id: str,
    *,
    title: str | None = None,
    date: dt.date | str | None = None,
    access_notes: bool = False,
) -> str:
    """One carer's run sheet as a complete HTML document (inline CSS, no script).

    ``date`` is the day printed on the sheet (default: ``problem.day``); ``access_notes``
    prints the clients' access notes (key safes) too. A carer with no visits gets a sheet
    that says so. Raises InputError for a carer the problem does not have, or a plan whose
    route for them names visits the problem does not have (a plan of another day)."""
    day = _Day(problem, plan)
    sheet = _sheet(day, carer_id, "carer", date, access_notes, heading="h1")
    return _document(title or f"Run sheet — {_carer_label(day.carers[carer_id])}", sheet)


def render_run_sheets(
    problem: Problem,
    plan: Plan,
    carers: Iterable[str] | None = None,
    *,
    title: str | None = None,
    date: dt.date | str | None = None,
    access_notes: bool = False,
) -> str:
    """The run sheets of several carers in one HTML document, each printed on its own page.

    ``carers`` are carer ids in the order to print them (default: every carer with visits,
    in the problem's order). On screen the page opens with a list of the sheets; paper
    gets the sheets alone. Raises InputError as :func:`render_run_sheet` does."""
    if carers is None:
        working = {r.carer for r in plan.routes if r.visits}
        chosen = [c.id for c in problem.carers if c.id in working]
    else:
        chosen = list(carers)
    day = _Day(problem, plan)
    sheets = [
        _sheet(day, carer_id, f"carers[{i}]", date, access_notes, heading="h2", anchor=f"sheet-{i + 1}")
        for i, carer_id in enumerate(chosen)
    ]
    title = title or f"Run sheets — {problem.name}"
    when = _date_text(problem, date)
    contents = "".join(
        f'<li><a href="#sheet-{i + 1}">{_e(_carer_label(day.carers[c]))}</a></li>' for i, c in enumerate(chosen)
    )
    intro = (
        f'<header class="contents"><h1>{_e(title)}</h1><p>{_e(when)} · {len(chosen)} run sheet'
        f"{'' if len(chosen) == 1 else 's'}, each prints on a page of its own.</p>"
        + (f'<nav aria-label="run sheets"><ol>{contents}</ol></nav>' if chosen else "<p>No carer has visits.</p>")
        + "</header>"
    )
    return _document(title, intro + "".join(sheets))


# -- one sheet ------------------------------------------------------------------------------------


class _Day:
    """The problem and plan indexed once for all the sheets printed from them."""

    def __init__(self, problem: Problem, plan: Plan):
        self.problem = problem
        self.plan = plan
        self.carers = {c.id: c for c in problem.carers}
        self.clients = {c.id: c for c in problem.clients}
        self.visits = {v.id: v for v in problem.visits}
        self.places = {loc.id: loc for loc in problem.locations}
        self.routes = {r.carer: (i, r) for i, r in reversed(list(enumerate(plan.routes)))}  # the first, as plan.route
        self.starts = {(r.carer, pv.visit, pv.part): pv.start for r in plan.routes for pv in r.visits}

    def route(self, carer_id: str) -> Route | None:
        """The carer's route, checked against the problem (a plan of another day is refused)."""
        if carer_id not in self.routes:
            return None
        i, route = self.routes[carer_id]
        for j, pv in enumerate(route.visits):
            if pv.visit not in self.visits:
                raise InputError(
                    f"routes[{i}].visits[{j}].visit", f"unknown visit {pv.visit!r} (is the plan for this problem?)"
                )
        return route

    def partner_start(self, pv: PlannedVisit) -> float | None:
        """When the other carer of a double-handed visit is planned to start their part."""
        return None if pv.partner is None else self.starts.get((pv.partner, pv.visit, 1 - pv.part))


@dataclass
class _Stop:
    """A visit of the carer's route with what the sheet says about it."""

    number: int
    planned: PlannedVisit
    visit: Visit


def _sheet(
    day: _Day,
    carer_id: str,
    field: str,
    date: dt.date | str | None,
    access_notes: bool,
    *,
    heading: str,
    anchor: str | None = None,
) -> str:
    if carer_id not in day.carers:
        raise InputError(field, f"unknown carer {carer_id!r} (not on this day's rota)")
    carer = day.carers[carer_id]
    route = day.route(carer_id)
    problem = day.problem
    ident = f' id="{anchor}"' if anchor else ""
    name = _carer_label(carer)
    out = [
        f'<article class="sheet"{ident} aria-labelledby="{anchor or "sheet"}-title">',
        f'<header><{heading} id="{anchor or "sheet"}-title">Run sheet: {_e(name)}</{heading}>',
        _facts(day, carer, route, date),
        "</header>",
    ]
    if route is None or not route.visits:
        out.append(f'<p class="empty">No visits planned for {_e(name)} on this day.</p>')
    else:
        stops = [_Stop(n, pv, day.visits[pv.visit]) for n, pv in enumerate(route.visits, start=1)]
        out.append(_stops_table(day, route, stops, access_notes))
        out.append(_totals(route, day.plan.kpis.waiting_by_carer.get(carer_id, 0.0)))
    out.append(
        f'<p class="foot">{_e(problem.name)} · {_e(carer.id)} · planned times; the plan may change after '
        "this sheet is printed, so check with the office or the app if in doubt.</p></article>"
    )
    return "".join(out)


def _facts(day: _Day, carer: Carer, route: Route | None, date: dt.date | str | None) -> str:
    places = day.places
    shifts = ", ".join(f"{format_minutes(s.start)}–{format_minutes(s.end)}" for s in carer.shifts) or "none"
    home = _place_text(places.get(carer.start_location), carer.start_location)
    facts = [
        ("Carer", f"{carer.name} ({carer.id})" if carer.name else carer.id),
        ("Date", _date_text(day.problem, date)),
        ("Shift" if len(carer.shifts) == 1 else "Shifts", shifts),
        ("Travels", _MODES.get(carer.travel_mode, carer.travel_mode.value)),
        ("Starts from", home),
    ]
    if carer.home_end != carer.start_location:
        facts.append(("Ends at", _place_text(places.get(carer.home_end), carer.home_end)))
    if route is not None and route.visits:
        if route.leave_home is not None:
            facts.append(("Leave", format_minutes(route.leave_home)))
        if route.return_home is not None:
            facts.append(("Back", format_minutes(route.return_home)))
    body = "".join(f"<div><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>" for label, value in facts)
    return f'<dl class="facts">{body}</dl>'


def _stops_table(day: _Day, route: Route, stops: Sequence[_Stop], access_notes: bool) -> str:
    carers, places = day.carers, day.places
    rows = []
    breaks = sorted(route.breaks, key=lambda b: b.start)
    for stop in stops:
        while breaks and breaks[0].start < stop.planned.start:
            rows.append(_break_row(breaks.pop(0)))
        rows.append(_stop_row(day, stop, access_notes))
    rows += [_break_row(b) for b in breaks]
    home_leg = route.travel_minutes - sum(pv.travel_before for pv in route.visits)
    back = "" if route.return_home is None else format_minutes(route.return_home)
    rows.append(
        f'<tr class="home"><td></td><td class="time">{back}</td><td colspan="3">Home: '
        f"{_e(_place_text(places.get(carers[route.carer].home_end), carers[route.carer].home_end))}</td>"
        f'<td class="travel num">{_minutes(home_leg) if home_leg > LATE_TOLERANCE else ""}</td></tr>'
    )
    leave = "" if route.leave_home is None else format_minutes(route.leave_home)
    start = carers[route.carer].start_location
    first = (
        f'<tr class="home"><td></td><td class="time">{leave}</td><td colspan="3">Leave home: '
        f"{_e(_place_text(places.get(start), start))}</td><td></td></tr>"
    )
    return (
        '<table class="stops"><caption>Visits in order <span>(travel: minutes from the previous stop)</span>'
        '</caption><thead><tr><th scope="col" class="num">No.</th><th scope="col">Time</th>'
        '<th scope="col">Client and address</th><th scope="col">What to do</th><th scope="col">With</th>'
        '<th scope="col" class="num">Travel</th>'
        f"</tr></thead><tbody>{first}{''.join(rows)}</tbody></table>"
    )


def _stop_row(day: _Day, stop: _Stop, access_notes: bool) -> str:
    pv, visit = stop.planned, stop.visit
    client = day.clients.get(pv.client)
    who = [f"<strong>{_e(client.name or client.id) if client else _e(pv.client)}</strong>"]
    if client is not None and client.name:
        who.append(f'<span class="id">{_e(client.id)}</span>')
    location = day.places.get(client.location) if client is not None else None
    who.append(f'<span class="addr">{_e(_place_text(location, client.location if client else ""))}</span>')
    if client is not None and client.phone:
        who.append(f'<span class="phone">Phone {_e(client.phone)}</span>')

    care = []
    if visit.tasks:
        care.append("<ul>" + "".join(f"<li>{_e(task)}</li>" for task in visit.tasks) + "</ul>")
    skills = visit.part_skills(pv.part)
    if skills:
        care.append(f'<p class="skills">Needs: {_e(", ".join(s.replace("_", " ") for s in skills))}</p>')
    if client is not None and client.notes:
        care.append(f'<p class="note">Note: {_e(client.notes)}</p>')
    if access_notes and client is not None and client.access_notes:
        care.append(f'<p class="note">Access: {_e(client.access_notes)}</p>')
    if visit.target is not None and visit.target.end is not None and pv.start > visit.target.end + LATE_TOLERANCE:
        agreed = f"{format_minutes(visit.target.start)}–{format_minutes(visit.target.end)}"
        care.append(
            f'<p class="late"><strong>Later than agreed:</strong> {_minutes(pv.start - visit.target.end)} after '
            f"the client's time ({agreed}).</p>"
        )

    partner = ""
    if pv.partner is not None:
        other = day.carers.get(pv.partner)
        partner = _e(_carer_label(other) if other is not None else pv.partner)
        if other is not None and other.name:
            partner += f' <span class="id">{_e(other.id)}</span>'
        theirs = day.partner_start(pv)
        if theirs is not None and abs(theirs - pv.start) > LATE_TOLERANCE:
            partner += f'<span class="when">arrives {format_minutes(theirs)}</span>'
    elif visit.carers_needed == 2:
        partner = "second carer not planned"
    travel = _minutes(pv.travel_before) if pv.travel_before > LATE_TOLERANCE else "—"
    return (
        f'<tr class="stop" data-visit="{_e(pv.visit)}"><th scope="row" class="no num">{stop.number}</th>'
        f'<td class="time">{format_minutes(pv.start)}–{format_minutes(pv.end)}'
        f'<span class="len">{_minutes(pv.end - pv.start)}</span></td>'
        f'<td class="who">{"".join(who)}</td><td class="care">{"".join(care)}</td>'
        f'<td class="with">{partner}</td><td class="travel num">{travel}</td></tr>'
    )


def _break_row(b: PlannedBreak) -> str:
    return (
        f'<tr class="break"><td></td><td class="time">{format_minutes(b.start)}–{format_minutes(b.end)}</td>'
        f'<td colspan="4">Break, {_minutes(b.end - b.start)}</td></tr>'
    )


def _totals(route: Route, waiting: float) -> str:
    """The day's sums; ``waiting`` is the carer's unpaid gaps (the plan's KPIs), shown so
    a carer sees the idle time the office planned."""
    visiting = sum(pv.end - pv.start for pv in route.visits)
    breaks = sum(b.end - b.start for b in route.breaks)
    totals = [
        ("Visits", str(len(route.visits))),
        ("Time with clients", _minutes(visiting)),
        ("Travel", _minutes(route.travel_minutes)),
        ("Breaks", _minutes(breaks) if route.breaks else "none"),
        ("Unpaid gaps", _minutes(waiting) if waiting > LATE_TOLERANCE else "none"),
        ("Working time", _minutes(route.working_minutes)),
    ]
    if route.leave_home is not None and route.return_home is not None:
        totals.append(("Out", f"{format_minutes(route.leave_home)}–{format_minutes(route.return_home)}"))
    body = "".join(f"<div><dt>{label}</dt><dd>{_e(value)}</dd></div>" for label, value in totals)
    return f'<section class="totals" aria-label="totals"><h3>Totals</h3><dl>{body}</dl></section>'


# -- look-ups and formatting ----------------------------------------------------------------------


def _carer_label(carer: Carer) -> str:
    return carer.name or carer.id


def _place_text(location: Location | None, location_id: str) -> str:
    """An address as a carer would look for it: the street address, else the coordinates."""
    if location is None:
        return location_id
    if location.address:
        return location.address
    if location.lat is not None and location.lon is not None:
        return f"{location.lat:.5f}, {location.lon:.5f} ({location.id})"
    return location.id


def _date_text(problem: Problem, date: dt.date | str | None) -> str:
    when = date if date is not None else problem.day
    if isinstance(when, dt.date):
        return f"{when:%A} {when.day} {when:%B %Y}"
    return when or "date not given"


def _minutes(minutes: float) -> str:
    total = round(minutes)
    return f"{total} min" if total < 60 else f"{total // 60} h {total % 60:02d} min"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_css()}</style></head>\n<body><main>{body}</main></body></html>\n"
    )


@cache
def _css() -> str:
    """The sheet's style, kept beside this module as a package file."""
    return files(__package__).joinpath("run_sheet.css").read_text(encoding="utf-8")
