"""The map of a day's runs: inline SVG on a plain projection, drawn by the report and by
the service's coordinator board alike.

Nothing is fetched (no tiles, no fonts): councils' machines are often offline. Latitude
and longitude are projected equirectangularly around the day's mean latitude (x/y
problems are drawn as given); roads, when given, are drawn faintly under the runs, and a
run along the roads (``road_runs``) replaces its straight stop-to-stop lines.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from ..domain import Location
from ..plan import format_minutes
from .view import SVG_NS, DayView, Polyline, esc, key, points_text

__all__ = ["Projection", "map_section"]

MAP_WIDTH = 1000.0
MAP_PAD = 24.0
CROWDED = 60  # carers beyond which the map draws thinner runs, or a big day is one blot


class Projection:
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
        self.height = min(max(MAP_WIDTH * (span_y / span_x if span_x > 0 else 1.0), 420.0), 640.0)
        inner_w, inner_h = MAP_WIDTH - 2 * MAP_PAD, self.height - 2 * MAP_PAD
        scales = [inner / span for inner, span in ((inner_w, span_x), (inner_h, span_y)) if span > 0]
        self.scale = min(scales) if scales else 1.0
        self.off_x = MAP_PAD + (inner_w - span_x * self.scale) / 2
        self.off_y = MAP_PAD + (inner_h - span_y * self.scale) / 2

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
        return -MAP_PAD <= x <= MAP_WIDTH + MAP_PAD and -MAP_PAD <= y <= self.height + MAP_PAD


def map_section(day: DayView, roads: Sequence[Polyline], attribution: str | None, runs: Mapping[str, Polyline]) -> str:
    projection = Projection(day.problem.locations)
    if projection.usable:
        figure = _map_figure(day, projection, roads, attribution, runs)
    else:
        figure = '<figure class="map"><p class="empty">No coordinates in this problem: no map.</p></figure>'
    return (
        '<section class="card" id="map"><h2>Runs <span class="n">home → visits → home, one colour per carer'
        f'</span></h2><div class="maprow">{figure}{_legend(day)}</div></section>\n'
    )


def _map_figure(
    day: DayView,
    projection: Projection,
    roads: Sequence[Polyline],
    attribution: str | None,
    runs: Mapping[str, Polyline],
) -> str:
    crowded = " crowded" if len(day.routes) > CROWDED else ""
    view = f"0 0 {MAP_WIDTH:.0f} {projection.height:.0f}"
    out = [
        (
            f'<figure class="map"><svg class="runs-map{crowded}" viewBox="{view}" {SVG_NS} role="img" '
            'aria-label="map of the runs">'
        )
    ]
    drawn = []
    for road in roads:
        points = [projection.point(float(a), float(b)) for a, b in road]
        if len(points) >= 2 and any(projection.inside(x, y) for x, y in points):
            drawn.append(f'<polyline class="road" points="{points_text(points)}"/>')
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
        + (f'<span class="credit">{esc(attribution)}</span>' if attribution else "")
        + ("</figcaption></figure>")
    )


def _map_runs(day: DayView, projection: Projection, runs: Mapping[str, Polyline]) -> str:
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
            f'points="{points_text(points)}"><title>{esc(day.carer_label(route.carer))}: '
            f"{len(route.visits)} visits</title></polyline>"
        )
    out.append("</g>")
    return "".join(out)


def _map_clients(day: DayView, projection: Projection) -> str:
    """A dot per client with visits today; rings mark double-ups and unassigned visits."""
    visits_at: dict[str, list[str]] = defaultdict(list)
    doubles, missed = set(), set()
    for route in day.routes:
        for pv in route.visits:
            visits_at[pv.client].append(f"{format_minutes(pv.start)} {pv.visit} — {day.carer_label(route.carer)}")
            if day.visits[pv.visit].carers_needed == 2:
                doubles.add(pv.client)
    for item in day.unassigned:
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
        dots.append(f'<circle class="client" {at} r="3.4"><title>{esc(tip)}</title></circle>')
        if client.id in doubles:
            rings.append(f'<circle class="double" {at} r="6.5"/>')
        if client.id in missed:
            rings.append(f'<circle class="missed" {at} r="9"/>')
    return f'<g class="clients">{"".join(dots)}</g><g class="rings">{"".join(rings)}</g>'


def _map_homes(day: DayView, projection: Projection) -> str:
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
                    f"<title>home of {esc(day.carer_label(route.carer))}</title></rect>"
                )
    out.append("</g>")
    return "".join(out)


def _scale_bar(projection: Projection) -> str:
    """A round-number kilometre bar between a tenth and a fifth of the map wide."""
    km_per_unit = 111.32 / projection.scale  # a degree of latitude is about 111.32 km
    target = MAP_WIDTH / 5 * km_per_unit
    length = next((n * 10**e for e in range(-2, 4) for n in (1, 2, 5) if n * 10**e >= target / 2), 1000)
    width = length / km_per_unit
    x, y = MAP_PAD, projection.height - 14
    return (
        f'<g class="scale"><rect x="{x - 4:.1f}" y="{y - 16:.1f}" width="{width + 8:.1f}" height="24" rx="3"/>'
        f'<path d="M{x:.1f} {y - 4:.1f}V{y:.1f}H{x + width:.1f}V{y - 4:.1f}"/>'
        f'<text x="{x + width / 2:.1f}" y="{y - 6:.1f}">{length:g} km</text></g>'
    )


def _legend(day: DayView) -> str:
    items = []
    for route in day.routes:
        k = day.index[route.carer]
        carer = day.carers[route.carer]
        label = day.carer_label(route.carer)
        who = f"{label} ({carer.id})" if carer.name else label
        items.append(
            f'<li data-carer="{k}"><button type="button" data-pick="{k}" title="{esc(who)}">'
            f'<i style="background:{day.colour[route.carer]}"></i><span class="name">{esc(label)}</span>'
            f'<span class="n">{len(route.visits)}</span></button></li>'
        )
    idle = len(day.problem.carers) - len(day.routes)
    foot = f'<p class="n">{idle:,} carers on the rota have no visits.</p>' if idle else ""
    return (
        f'<aside class="legend" aria-label="carers"><h3>Carers <span class="n">visits</span></h3>'
        f"<ul>{''.join(items)}</ul>{foot}</aside>"
    )


_MAP_KEY = (
    "<figcaption>"
    + key(12, '<rect x="1.5" y="1.5" width="9" height="9" fill="#52606d"/>', "carer's home")
    + key(12, '<circle cx="6" cy="6" r="3.4" class="client"/>', "client")
    + key(
        16,
        '<circle cx="8" cy="8" r="3.4" class="client"/><circle cx="8" cy="8" r="6.5" class="double"/>',
        "double-handed visit",
    )
    + key(
        20,
        '<circle cx="10" cy="10" r="3.4" class="client"/><circle cx="10" cy="10" r="8" class="missed"/>',
        "has an unassigned visit",
    )
    + '<span class="hint">Hover or click a run or a carer to pick it out.</span>'
)
