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
import html
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path

from ..domain import Location, Problem, Visit
from ..errors import InputError
from ..plan import Plan, PlannedVisit, Route, format_minutes

__all__ = ["carer_colour", "render_report", "write_report"]

Polyline = Sequence[tuple[float, float]]
"""A road drawn under the map: points as (lon, lat), or (x, y) for planar problems."""

LATE_TOLERANCE = 0.01
"""Minutes past the target window before a start counts as late (absorbs float noise)."""

_MAP_WIDTH = 1000.0
_MAP_PAD = 24.0
_CROWDED = 60  # carers beyond which the map draws thinner runs, or a big day is one blot
_TL_WIDTH = 1200.0
_TL_LABEL = 190.0  # the carer-name column of the timeline
_TL_RIGHT = 24.0  # room for the last hour's label
_ROW = 22.0  # timeline row height
_SVG = 'xmlns="http://www.w3.org/2000/svg"'


def carer_colour(index: int) -> str:
    """The run colour of the ``index``-th carer: golden-angle hues over four lightness steps.

    Successive hues are 137.5 degrees apart, so neighbours in the list never look alike;
    hues come close again only every 13, 21, 34... carers, and those differ in lightness
    (the step is ``index % 4``). This keeps 40+ runs tellable apart without a fixed
    palette running out.
    """
    hue = (index * 137.508 + 210.0) % 360.0
    lightness = (34, 48, 58, 42)[index % 4]
    return f"hsl({hue:.1f},70%,{lightness}%)"


def render_report(
    problem: Problem,
    plan: Plan,
    *,
    title: str | None = None,
    roads: Sequence[Polyline] | None = None,
    attribution: str | None = None,
    runs: Mapping[str, Polyline] | None = None,
) -> str:
    """The report as a complete HTML document (inline CSS, SVG and a small script).

    ``roads`` are drawn faintly under the runs; ``attribution`` is the map's credit line
    (e.g. "© OpenStreetMap contributors"). ``runs`` are carers' runs along the roads
    (``road_runs``); a carer without one is drawn straight from stop to stop. Raises
    InputError if the plan names carers or visits the problem does not have (a plan of
    another day).
    """
    day = _Day(problem, plan)
    title = title or f"Care plan — {problem.name}"
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title><style>{_asset('report.css')}</style></head>\n<body>\n",
            _header(day, title),
            "<main>\n",
            _travel_notice(plan),
            _kpi_cards(day),
            _map_section(day, roads or (), attribution, runs or {}),
            _timeline_section(day),
            '<div class="pair-of-cards">',
            _unassigned_section(day),
            _cost_section(plan),
            "</div>\n",
            f"<footer>Made with carescheduler{_version()}.</footer>\n",
            '</main>\n<div id="tip" role="tooltip" hidden></div>\n',
            f"<script>{_asset('report.js')}</script>\n</body></html>\n",
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
) -> None:
    """Write :func:`render_report` to ``path`` (UTF-8)."""
    text = render_report(problem, plan, title=title, roads=roads, attribution=attribution, runs=runs)
    Path(path).write_text(text, encoding="utf-8")


# -- look-ups ---------------------------------------------------------------------------------


class _Day:
    """The problem and plan indexed the way the drawing needs them.

    Carers with visits get a row, a colour and an index in order of their first start;
    the index (never a user-given id) is what the page's script uses to find a carer's
    run, row and legend entry.
    """

    def __init__(self, problem: Problem, plan: Plan):
        self.problem = problem
        self.plan = plan
        self.carers = {c.id: c for c in problem.carers}
        self.clients = {c.id: c for c in problem.clients}
        self.visits = {v.id: v for v in problem.visits}
        self.visit_index = {v.id: i for i, v in enumerate(problem.visits)}
        self.locations = {loc.id: loc for loc in problem.locations}
        self._check_plan_is_for_problem()
        self.routes = sorted((r for r in plan.routes if r.visits), key=lambda r: (r.visits[0].start, r.carer))
        self.index = {r.carer: k for k, r in enumerate(self.routes)}
        self.colour = {r.carer: carer_colour(k) for k, r in enumerate(self.routes)}

    def _check_plan_is_for_problem(self) -> None:
        hint = "(is the plan for this problem?)"
        for i, route in enumerate(self.plan.routes):
            if route.carer not in self.carers:
                raise InputError(f"routes[{i}].carer", f"unknown carer {route.carer!r} {hint}")
            for j, pv in enumerate(route.visits):
                if pv.visit not in self.visits:
                    raise InputError(f"routes[{i}].visits[{j}].visit", f"unknown visit {pv.visit!r} {hint}")
        for i, item in enumerate(self.plan.unassigned):
            if item.visit not in self.visits:
                raise InputError(f"unassigned[{i}].visit", f"unknown visit {item.visit!r} {hint}")

    def carer_label(self, carer_id: str) -> str:
        carer = self.carers[carer_id]
        return carer.name or carer.id

    def client_label(self, client_id: str) -> str:
        client = self.clients.get(client_id)
        return f"{client.name} ({client.id})" if client is not None and client.name else client_id

    def late_visits(self) -> int:
        return sum(1 for r in self.routes for pv in r.visits if _lateness(self.visits[pv.visit], pv) > 0)


# -- header, notice, KPIs -----------------------------------------------------------------------


def _header(day: _Day, title: str) -> str:
    problem = day.problem
    when = problem.day
    date = f"{when:%A} {when.day} {when:%B %Y}" if isinstance(when, dt.date) else "no date given"
    facts = [
        date,
        f"{len(problem.visits):,} visits",
        f"{len(problem.carers):,} carers ({len(day.routes):,} with visits)",
    ]
    if problem.name not in title:
        facts.insert(0, problem.name)
    solver = "".join(
        f"<div><dt>{_e(str(key).replace('_', ' '))}</dt><dd>{_e(_plain(value))}</dd></div>"
        for key, value in day.plan.solver.items()
    )
    solver_block = f'<dl class="solver">{solver}</dl>' if solver else ""
    return (
        f'<header class="top"><div><h1>{_e(title)}</h1><p class="sub">{" · ".join(_e(f) for f in facts)}</p>'
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


def _kpi_cards(day: _Day) -> str:
    k = day.plan.kpis
    estimated = " (estimated)" if k.travel_estimated else ""
    cards = [  # label, value, note, shown as a problem
        ("Coverage", f"{k.coverage:.1%}", f"{k.visits_assigned:,} of {k.visits_total:,} visits planned", False),
        (
            "Mandatory unassigned",
            f"{k.mandatory_unassigned:,}",
            f"{len(day.plan.unassigned):,} visits unassigned in all",
            k.mandatory_unassigned > 0,
        ),
        ("Travel", _duration(k.travel_minutes), f"{k.travel_minutes:,.0f} min{estimated}", False),
        (
            "Lateness",
            f"{k.total_lateness:,.0f} min",
            f"{day.late_visits():,} late carer-visits · max {k.max_lateness:,.0f} min",
            k.max_lateness > LATE_TOLERANCE,
        ),
        ("Continuity", f"{k.continuity:.0%}", "known carer, where the client has a history", False),
        ("Overtime", _duration(k.overtime_minutes), "beyond contracted minutes", False),
        ("Carers used", f"{len(day.routes):,}", f"of {len(day.problem.carers):,} on the rota", False),
    ]
    body = "".join(
        f'<div class="kpi{" bad" if bad else ""}"><div class="l">{_e(label)}</div>'
        f'<div class="v">{_e(value)}</div><div class="s">{_e(note)}</div></div>'
        for label, value, note, bad in cards
    )
    return f'<section class="kpis" aria-label="key figures">{body}</section>\n'


# -- map ------------------------------------------------------------------------------------------


class _Projection:
    """Map coordinates: equirectangular around the mean latitude, or x/y as given.

    Latitude/longitude is used when any location has it (it is what road data comes in);
    the y axis is flipped so north (or +y) is up, and the drawing is centred in the frame.
    """

    def __init__(self, locations: Sequence[Location]):
        self.geographic = any(loc.lat is not None and loc.lon is not None for loc in locations)
        raw = [p for p in map(self._raw, locations) if p is not None]
        self.usable = bool(raw)
        self.height = 0.0
        if not raw:
            return
        mean_lat = sum(y for _, y in raw) / len(raw)
        self.x_scale = math.cos(math.radians(mean_lat)) if self.geographic else 1.0
        xs = [x * self.x_scale for x, _ in raw]
        ys = [y for _, y in raw]
        self.x0, self.y1 = min(xs), max(ys)
        span_x, span_y = max(xs) - self.x0, self.y1 - min(ys)
        self.height = min(max(_MAP_WIDTH * (span_y / span_x if span_x > 0 else 1.0), 420.0), 640.0)
        inner_w, inner_h = _MAP_WIDTH - 2 * _MAP_PAD, self.height - 2 * _MAP_PAD
        scales = [inner / span for inner, span in ((inner_w, span_x), (inner_h, span_y)) if span > 0]
        self.scale = min(scales) if scales else 1.0
        self.off_x = _MAP_PAD + (inner_w - span_x * self.scale) / 2
        self.off_y = _MAP_PAD + (inner_h - span_y * self.scale) / 2

    def _raw(self, loc: Location | None) -> tuple[float, float] | None:
        if loc is None:
            return None
        a, b = (loc.lon, loc.lat) if self.geographic else (loc.x, loc.y)
        return None if a is None or b is None else (a, b)

    def of(self, loc: Location | None) -> tuple[float, float] | None:
        raw = self._raw(loc)
        return None if raw is None else self.point(*raw)

    def point(self, a: float, b: float) -> tuple[float, float]:
        return self.off_x + (a * self.x_scale - self.x0) * self.scale, self.off_y + (self.y1 - b) * self.scale

    def inside(self, x: float, y: float) -> bool:
        return -_MAP_PAD <= x <= _MAP_WIDTH + _MAP_PAD and -_MAP_PAD <= y <= self.height + _MAP_PAD


def _map_section(day: _Day, roads: Sequence[Polyline], attribution: str | None, runs: Mapping[str, Polyline]) -> str:
    projection = _Projection(day.problem.locations)
    if projection.usable:
        figure = _map_figure(day, projection, roads, attribution, runs)
    else:
        figure = '<figure class="map"><p class="empty">No coordinates in this problem: no map.</p></figure>'
    return (
        '<section class="card" id="map"><h2>Runs <span class="n">home → visits → home, one colour per carer'
        f'</span></h2><div class="maprow">{figure}{_legend(day)}</div></section>\n'
    )


def _map_figure(
    day: _Day, projection: _Projection, roads: Sequence[Polyline], attribution: str | None, runs: Mapping[str, Polyline]
) -> str:
    crowded = " crowded" if len(day.routes) > _CROWDED else ""
    view = f"0 0 {_MAP_WIDTH:.0f} {projection.height:.0f}"
    out = [
        (
            f'<figure class="map"><svg class="runs-map{crowded}" viewBox="{view}" {_SVG} role="img" '
            'aria-label="map of the runs">'
        )
    ]
    drawn = []
    for road in roads:
        points = [projection.point(float(a), float(b)) for a, b in road]
        if len(points) >= 2 and any(projection.inside(x, y) for x, y in points):
            drawn.append(f'<polyline class="road" points="{_points(points)}"/>')
    if drawn:
        out.append(f'<g class="roads">{"".join(drawn)}</g>')
    out.append(_map_runs(day, projection, runs))
    out.append(_map_clients(day, projection))
    out.append(_map_homes(day, projection))  # last, so no run hides where a carer starts
    if projection.geographic:
        out.append(_scale_bar(projection))
    out.append("</svg>")
    return (
        "".join(out)
        + _MAP_KEY
        + (f'<span class="credit">{_e(attribution)}</span>' if attribution else "")
        + ("</figcaption></figure>")
    )


def _map_runs(day: _Day, projection: _Projection, runs: Mapping[str, Polyline]) -> str:
    out = ['<g class="runs">']
    for route in day.routes:
        carer = day.carers[route.carer]
        if route.carer in runs:  # along the roads
            points = [projection.point(float(a), float(b)) for a, b in runs[route.carer]]
        else:
            stops = [carer.start_location, *(day.clients[pv.client].location for pv in route.visits), carer.home_end]
            points = [p for p in (projection.of(day.locations.get(s)) for s in stops) if p is not None]
        k = day.index[route.carer]
        out.append(
            f'<polyline class="run" data-carer="{k}" data-pick="{k}" stroke="{day.colour[route.carer]}" '
            f'points="{_points(points)}"><title>{_e(day.carer_label(route.carer))}: '
            f"{len(route.visits)} visits</title></polyline>"
        )
    out.append("</g>")
    return "".join(out)


def _map_clients(day: _Day, projection: _Projection) -> str:
    """A dot per client with visits today; rings mark double-ups and unassigned visits."""
    visits_at: dict[str, list[str]] = defaultdict(list)
    doubles, missed = set(), set()
    for route in day.routes:
        for pv in route.visits:
            visits_at[pv.client].append(f"{format_minutes(pv.start)} {pv.visit} — {day.carer_label(route.carer)}")
            if day.visits[pv.visit].carers_needed == 2:
                doubles.add(pv.client)
    for item in day.plan.unassigned:
        client_id = day.visits[item.visit].client
        missed.add(client_id)
        visits_at[client_id].append(f"{item.visit} — unassigned")
    dots, rings = [], []
    for client in day.problem.clients:
        point = projection.of(day.locations.get(client.location))
        if point is None or client.id not in visits_at:
            continue
        at = f'cx="{point[0]:.1f}" cy="{point[1]:.1f}"'
        tip = "\n".join([day.client_label(client.id), *sorted(visits_at[client.id])])
        dots.append(f'<circle class="client" {at} r="3.4"><title>{_e(tip)}</title></circle>')
        if client.id in doubles:
            rings.append(f'<circle class="double" {at} r="6.5"/>')
        if client.id in missed:
            rings.append(f'<circle class="missed" {at} r="9"/>')
    return f'<g class="clients">{"".join(dots)}</g><g class="rings">{"".join(rings)}</g>'


def _map_homes(day: _Day, projection: _Projection) -> str:
    out = ['<g class="homes">']
    for route in day.routes:
        carer = day.carers[route.carer]
        k = day.index[route.carer]
        for loc_id in dict.fromkeys([carer.start_location, carer.home_end]):
            point = projection.of(day.locations.get(loc_id))
            if point is not None:
                out.append(
                    f'<rect class="home" data-carer="{k}" data-pick="{k}" x="{point[0] - 4.5:.1f}" '
                    f'y="{point[1] - 4.5:.1f}" width="9" height="9" fill="{day.colour[route.carer]}">'
                    f"<title>home of {_e(day.carer_label(route.carer))}</title></rect>"
                )
    out.append("</g>")
    return "".join(out)


def _scale_bar(projection: _Projection) -> str:
    """A round-number kilometre bar between a tenth and a fifth of the map wide."""
    km_per_unit = 111.32 / projection.scale  # a degree of latitude is about 111.32 km
    target = _MAP_WIDTH / 5 * km_per_unit
    length = next((n * 10**e for e in range(-2, 4) for n in (1, 2, 5) if n * 10**e >= target / 2), 1000)
    width = length / km_per_unit
    x, y = _MAP_PAD, projection.height - 14
    return (
        f'<g class="scale"><rect x="{x - 4:.1f}" y="{y - 16:.1f}" width="{width + 8:.1f}" height="24" rx="3"/>'
        f'<path d="M{x:.1f} {y - 4:.1f}V{y:.1f}H{x + width:.1f}V{y - 4:.1f}"/>'
        f'<text x="{x + width / 2:.1f}" y="{y - 6:.1f}">{length:g} km</text></g>'
    )


def _legend(day: _Day) -> str:
    items = []
    for route in day.routes:
        k = day.index[route.carer]
        carer = day.carers[route.carer]
        label = day.carer_label(route.carer)
        who = f"{label} ({carer.id})" if carer.name else label
        items.append(
            f'<li data-carer="{k}"><button type="button" data-pick="{k}" title="{_e(who)}">'
            f'<i style="background:{day.colour[route.carer]}"></i><span class="name">{_e(label)}</span>'
            f'<span class="n">{len(route.visits)}</span></button></li>'
        )
    idle = len(day.problem.carers) - len(day.routes)
    foot = f'<p class="n">{idle:,} carers on the rota have no visits.</p>' if idle else ""
    return (
        f'<aside class="legend" aria-label="carers"><h3>Carers <span class="n">visits</span></h3>'
        f"<ul>{''.join(items)}</ul>{foot}</aside>"
    )


def _key(width: int, shapes: str, label: str) -> str:
    return f'<span class="key"><svg width="{width}" height="{width}">{shapes}</svg>{label}</span>'


_MAP_KEY = (
    "<figcaption>"
    + _key(12, '<rect x="1.5" y="1.5" width="9" height="9" fill="#52606d"/>', "carer's home")
    + _key(12, '<circle cx="6" cy="6" r="3.4" class="client"/>', "client")
    + _key(
        16,
        '<circle cx="8" cy="8" r="3.4" class="client"/><circle cx="8" cy="8" r="6.5" class="double"/>',
        "double-handed visit",
    )
    + _key(
        20,
        '<circle cx="10" cy="10" r="3.4" class="client"/><circle cx="10" cy="10" r="8" class="missed"/>',
        "has an unassigned visit",
    )
    + '<span class="hint">Hover or click a run or a carer to pick it out.</span>'
)


# -- timeline -------------------------------------------------------------------------------------


def _timeline_section(day: _Day) -> str:
    if not day.routes:
        return (
            '<section class="card" id="timeline"><h2>Timeline</h2><p class="empty">No visits planned.</p></section>\n'
        )
    t0, t1 = _day_span(day)
    x_of = _TimeScale(t0, t1)
    height = len(day.routes) * _ROW + 6
    labels, grid = [], []
    for hour in range(int(t0 // 60), int(t1 // 60) + 1):
        x = x_of(hour * 60)
        labels.append(f'<text x="{x:.1f}" y="15">{hour:02d}:00</text>')
        grid.append(f'<line class="grid" x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height:.0f}"/>')
    rows = [_timeline_row(day, route, i, x_of) for i, route in enumerate(day.routes)]
    pairs = sum(1 for r in day.routes for pv in r.visits if day.visits[pv.visit].carers_needed == 2) // 2
    return (
        f'<section class="card" id="timeline"><h2>Timeline <span class="n">{len(day.routes):,} carers · '
        f"{day.late_visits():,} late · {pairs:,} double-ups</span></h2>{_TIMELINE_KEY}"
        f'<div class="axis-wrap"><svg class="axis" viewBox="0 0 {_TL_WIDTH:.0f} 22" {_SVG}>{"".join(labels)}'
        f'</svg></div><svg class="rows" viewBox="0 0 {_TL_WIDTH:.0f} {height:.0f}" {_SVG}>{_hatch("hatch")}'
        f'<g>{"".join(grid)}</g>{"".join(rows)}<g id="links"></g></svg></section>\n'
    )


class _TimeScale:
    """Minutes after midnight to x in the timeline's coordinates."""

    def __init__(self, t0: float, t1: float):
        self.t0 = t0
        self.per_minute = (_TL_WIDTH - _TL_LABEL - _TL_RIGHT) / max(t1 - t0, 1.0)

    def __call__(self, t: float) -> float:
        return _TL_LABEL + (t - self.t0) * self.per_minute


def _day_span(day: _Day) -> tuple[float, float]:
    """Whole hours covering every drawn shift, departure and return."""
    starts, ends = [], []
    for route in day.routes:
        shifts = day.carers[route.carer].shifts
        starts += [s.start for s in shifts] + [route.visits[0].start - route.visits[0].travel_before]
        ends += [s.end for s in shifts] + [route.visits[-1].end]
        starts += [route.leave_home] if route.leave_home is not None else []
        ends += [route.return_home] if route.return_home is not None else []
    return math.floor(min(starts) / 60) * 60, math.ceil(max(ends) / 60) * 60


def _timeline_row(day: _Day, route: Route, i: int, x_of: _TimeScale) -> str:
    k = day.index[route.carer]
    colour = day.colour[route.carer]
    top = 3 + i * _ROW
    out = [f'<g class="row" data-carer="{k}">']
    if i % 2:
        out.append(f'<rect class="stripe" x="0" y="{top:.0f}" width="{_TL_WIDTH:.0f}" height="{_ROW:.0f}"/>')
    for shift in day.carers[route.carer].shifts:
        out.append(
            _bar(
                "shift",
                x_of,
                shift.start,
                shift.end,
                top + 2,
                _ROW - 4,
                f"shift {format_minutes(shift.start)}–{format_minutes(shift.end)}",
            )
        )
    for b in route.breaks:
        out.append(
            _bar("break", x_of, b.start, b.end, top + 4, 14, f"break {format_minutes(b.start)}–{format_minutes(b.end)}")
        )
    for start, end, where in _travel_legs(route):
        out.append(
            _bar(
                "travel",
                x_of,
                start,
                end,
                top + 9,
                4,
                f"travel {where}, {_duration(end - start)} ({format_minutes(start)}–{format_minutes(end)})",
            )
        )
    out += [_visit_block(day, pv, colour, x_of, top) for pv in route.visits]
    label = day.carer_label(route.carer)
    out.append(
        f'<g class="label" data-pick="{k}"><rect x="6" y="{top + 6:.0f}" width="10" height="10" rx="2" '
        f'fill="{colour}"/><text x="22" y="{top + 15:.0f}">{_e(_clip(label, 22))}</text>'
        f'<text class="count" x="{_TL_LABEL - 8:.0f}" y="{top + 15:.0f}">{len(route.visits)}</text>'
        f"<title>{_e(label)}: {len(route.visits)} visits, working {_duration(route.working_minutes)}, "
        f"travel {_duration(route.travel_minutes)}</title></g></g>"
    )
    return "".join(out)


def _travel_legs(route: Route) -> list[tuple[float, float, str]]:
    """When each journey is drawn: it sets off as soon as the previous stop is done.

    The plan gives only the minutes of travel before each visit, so the honest drawing
    starts the journey when the carer leaves home or finishes the previous visit (after any
    break taken there); the rest of the gap to the visit's start is waiting. The last leg,
    home, is the route's travel not spent before visits.
    """
    legs = []
    breaks = sorted((b.start, b.end) for b in route.breaks)
    first = route.visits[0]
    previous_end = route.leave_home if route.leave_home is not None else first.start - first.travel_before
    for j, pv in enumerate(route.visits):
        if pv.travel_before > 0:
            start = _after_breaks(previous_end, pv.travel_before, breaks)
            legs.append(
                (
                    start,
                    min(start + pv.travel_before, max(pv.start, start)),
                    "from home" if j == 0 else "from the previous visit",
                )
            )
        previous_end = pv.end
    home_leg = route.travel_minutes - sum(pv.travel_before for pv in route.visits)
    if home_leg > LATE_TOLERANCE:
        start = _after_breaks(previous_end, home_leg, breaks)
        end = start + home_leg
        if route.return_home is not None:
            end = min(end, max(route.return_home, start))
        legs.append((start, end, "home"))
    return legs


def _after_breaks(t: float, length: float, breaks: list[tuple[float, float]]) -> float:
    """The first moment from ``t`` at which ``length`` minutes of travel overlap no break."""
    for start, end in breaks:
        if start < t + length and end > t:
            t = end
    return t


def _visit_block(day: _Day, pv: PlannedVisit, colour: str, x_of: _TimeScale, top: float) -> str:
    """A visit on its carer's row; its tooltip's first line starts with the visit id."""
    visit = day.visits[pv.visit]
    x, width = x_of(pv.start), max(x_of(pv.end) - x_of(pv.start), 1.5)
    lines = [
        f"{pv.visit} · {day.client_label(pv.client)}",
        f"{format_minutes(pv.start)}–{format_minutes(pv.end)} ({_duration(pv.end - pv.start)})",
    ]
    if visit.target is not None:
        target_end = "" if visit.target.end is None else format_minutes(visit.target.end)
        lines.append(f"target {format_minutes(visit.target.start)}–{target_end}")
    lateness = _lateness(visit, pv)
    if lateness > 0:
        lines.append(f"LATE by {_duration(max(lateness, 1.0))}")
    if pv.travel_before > 0:
        lines.append(f"{_duration(pv.travel_before)} travel before")
    classes, pair = "visit", ""
    if visit.carers_needed == 2:
        classes, pair = "visit pair", f' data-pair="{day.visit_index[pv.visit]}"'
        partner = day.carer_label(pv.partner) if pv.partner in day.carers else (pv.partner or "?")
        lines.append(f"double-handed with {partner}")
    if lateness > 0:
        classes += " is-late"
    block = (
        f'<rect class="{classes}"{pair} x="{x:.1f}" y="{top + 4:.1f}" width="{width:.1f}" height="14" rx="2" '
        f'fill="{colour}"><title>{_e(chr(10).join(lines))}</title></rect>'
    )
    if lateness > 0:
        block += f'<rect class="late" x="{x:.1f}" y="{top + 18.5:.1f}" width="{width:.1f}" height="2.5"/>'
    return block


def _lateness(visit: Visit, pv: PlannedVisit) -> float:
    """Minutes this start lies after the visit's target window (0 when on time or no target)."""
    if visit.target is None or visit.target.end is None:
        return 0.0
    late = pv.start - visit.target.end
    return late if late > LATE_TOLERANCE else 0.0


def _bar(kind: str, x_of: _TimeScale, start: float, end: float, y: float, height: float, tip: str) -> str:
    x = x_of(start)
    width = max(x_of(end) - x, 0.8)
    return (
        f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.0f}">'
        f"<title>{_e(tip)}</title></rect>"
    )


def _hatch(pattern_id: str) -> str:
    return (
        f'<defs><pattern id="{pattern_id}" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="5" height="5" fill="#fdf1d8"/>'
        '<rect width="2" height="5" fill="#e0a93b"/></pattern></defs>'
    )


_TIMELINE_KEY = (
    '<p class="tl-key">'
    + _key(22, '<rect class="shift" y="4" width="22" height="14"/>', "on shift")
    + _key(22, '<rect y="4" width="22" height="14" rx="2" fill="#52606d"/>', "visit")
    + _key(22, '<rect class="travel" y="9" width="22" height="4"/>', "travel (then waiting until the visit)")
    + _key(
        22,
        _hatch("hatch-key") + '<rect y="4" width="22" height="14" fill="url(#hatch-key)" stroke="#b7791f" '
        'stroke-width=".6"/>',
        "break",
    )
    + _key(
        22,
        '<rect class="visit pair" x="1" y="4" width="20" height="14" rx="2" fill="#9aa5b1"/>',
        "double-up (hover: both carers)",
    )
    + _key(
        22,
        '<rect y="4" width="22" height="14" rx="2" fill="#9aa5b1"/><rect class="late" y="18.5" width="22" '
        'height="2.5"/>',
        "late start",
    )
    + "</p>"
)


# -- tables ---------------------------------------------------------------------------------------


def _unassigned_section(day: _Day) -> str:
    items = sorted(day.plan.unassigned, key=lambda u: (day.visits[u.visit].window.start, u.visit))
    head = f'<section class="card" id="unassigned"><h2>Unassigned visits <span class="n">{len(items):,}</span></h2>'
    if not items:
        return head + '<p class="empty">Every visit is planned.</p></section>'
    rows = []
    for item in items:
        visit = day.visits[item.visit]
        window_end = "open" if visit.window.end is None else format_minutes(visit.window.end)
        kind = "mandatory" if visit.mandatory else "optional"
        rows.append(
            f'<tr class="{kind}"><td class="id">{_e(item.visit)}</td>'
            f'<td class="id">{_e(day.client_label(visit.client))}</td>'
            f'<td class="num">{format_minutes(visit.window.start)}–{window_end}</td>'
            f'<td class="num">{visit.duration:g} min</td>'
            f'<td class="id">{visit.carers_needed} carer{"s" if visit.carers_needed > 1 else ""}</td>'
            f'<td class="kind">{kind}</td><td class="reason">{_e(item.reason)}</td></tr>'
        )
    return (
        head + '<div class="scroll" tabindex="0" role="region" aria-label="unassigned visits"><table><thead><tr>'
        '<th scope="col">visit</th><th scope="col">client</th><th scope="col">may start</th><th scope="col">length</th>'
        '<th scope="col">needs</th><th scope="col">kind</th><th scope="col">why it is unassigned</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


_COST_TERMS = [
    ("unassigned", "unassigned visits"),
    ("lateness", "lateness"),
    ("max_lateness", "largest lateness"),
    ("earliness", "earliness"),
    ("travel", "travel"),
    ("preferences", "preferences not met"),
    ("continuity", "new carer to a client"),
    ("overtime", "overtime"),
]


def _cost_section(plan: Plan) -> str:
    cost = plan.cost
    rows = []
    for field, label in _COST_TERMS:
        value = getattr(cost, field)
        share = min(max(value / cost.total, 0.0), 1.0) if cost.total > 0 else 0.0
        rows.append(
            f'<tr><td>{label}</td><td class="num">{value:,.1f}</td><td class="bar">'
            f'<span style="width:{share * 100:.1f}%"></span></td></tr>'
        )
    rows.append(f'<tr class="total"><td>total</td><td class="num">{cost.total:,.1f}</td><td></td></tr>')
    return (
        '<section class="card" id="cost"><h2>Cost <span class="n">weighted objective terms</span></h2>'
        f"<table><tbody>{''.join(rows)}</tbody></table></section>"
    )


# -- small formatting helpers ---------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _points(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _duration(minutes: float) -> str:
    total = round(minutes)
    return f"{total} min" if total < 60 else f"{total // 60} h {total % 60:02d} min"


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _plain(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f" {version('carescheduler')}"
    except PackageNotFoundError:
        return ""


@cache
def _asset(name: str) -> str:
    """The page's style sheet or script, kept beside this module as package files."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
