"""The day's timeline: one row per working carer, drawn by the report and by the service's
coordinator board alike.

Each row shows the carer's shifts, breaks, travel, waiting and visits as labelled
blocks (start time and client), the two halves of a double-up sharing a ``data-pair``
the page's script links; a lane above the carers holds the unassigned visits with their
reasons. Rows are plain HTML placed by percentages of the day, so they need no script
to lay out, stay sharp at any zoom and can be focused, clicked and dragged. Rows come
in chunks of ``CHUNK_ROWS`` that the browser skips drawing until they scroll into view
(``content-visibility``): a council day of 440 carers opens as fast as its first screen.

A visit's status (planned, checked in, done, late, missed) is a class for its colour
and a mark on the block (status is never told by colour alone).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import InputError
from ..plan import PlannedVisit, Route, UnassignedVisit, format_minutes
from .view import LATE_TOLERANCE, STATUSES, DayView, clip, duration_text, esc, key, lateness

__all__ = ["CHUNK_ROWS", "ROW_PX", "Statuses", "day_span", "timeline_chunk", "timeline_section"]

CHUNK_ROWS = 25
"""Rows per chunk the browser draws or skips as one."""
ROW_PX = 28
"""A carer row's height in CSS pixels (the style sheet's ``--row``)."""

MOST_LANES = 6
"""Sub-rows of the unassigned lane at most; beyond, blocks overlap (the table lists all)."""

Statuses = Mapping[tuple[str, str], str]
"""A visit's status by (visit, carer): a double-up's two carers check in apart."""


def timeline_section(
    day: DayView,
    *,
    now: float | None = None,
    statuses: Statuses | None = None,
    interactive: bool = False,
    heading: str = "Timeline",
    later: str | None = None,
    drawn_chunks: int = 2,
) -> str:
    """The timeline card. ``now`` (minutes after midnight) draws the "now" line;
    ``statuses`` marks visits; ``interactive`` makes visits and the unassigned lane's
    blocks buttons (the board acts on them; the report only shows them).

    With ``later`` (a URL; the chunk's number is added as ``chunk=N``) only the first
    ``drawn_chunks`` chunks of rows are in the page; the others are empty placeholders
    of their height that the page's script fills from ``later`` (``timeline_chunk``)
    as they scroll near: a council day opens with 50 rows, not 440."""
    if not day.routes and not day.unassigned:
        return (
            f'<section class="card" id="timeline"><h2>{esc(heading)}</h2>'
            '<p class="empty">No visits planned.</p></section>\n'
        )
    t0, t1 = day_span(day, now)
    scale = _Scale(t0, t1)
    hours = "".join(
        f'<span style="left:{scale(hour * 60):.3f}%">{hour % 24:02d}:00</span>'
        for hour in range(int(t0 // 60), int(t1 // 60) + 1)
    )
    grid = "".join(f'<i style="left:{scale(hour * 60):.3f}%"></i>' for hour in range(int(t0 // 60), int(t1 // 60) + 1))
    chunks = []
    for k in range((len(day.routes) + CHUNK_ROWS - 1) // CHUNK_ROWS):
        height = len(day.routes[k * CHUNK_ROWS : (k + 1) * CHUNK_ROWS]) * ROW_PX
        if later is not None and k >= drawn_chunks:
            chunks.append(
                f'<div class="tl-chunk later" data-src="{esc(later)}{"&" if "?" in later else "?"}chunk={k}" '
                f'style="height:{height}px" aria-busy="true"></div>'
            )
        else:
            rows = _chunk_rows(day, k, scale, statuses, interactive)
            chunks.append(f'<div class="tl-chunk" style="contain-intrinsic-size:auto {height}px">{rows}</div>')
    now_line = ""
    if now is not None:
        now_line = (
            f'<div class="now" id="now-line" data-t0="{t0:g}" data-t1="{t1:g}" style="--f:{scale(now) / 100:.5f}">'
            f"<span>now {format_minutes(now)}</span></div>"
        )
    pairs = sum(1 for r in day.routes for pv in r.visits if day.visits[pv.visit].carers_needed == 2) // 2
    return (
        f'<section class="card" id="timeline" data-t0="{t0:g}" data-t1="{t1:g}"><h2>{esc(heading)} '
        f'<span class="n">{len(day.routes):,} carers · {day.late_visits():,} late · {pairs:,} double-ups · '
        f"{len(day.unassigned):,} unassigned</span></h2>{_key_line(statuses is not None)}"
        f'<div class="tl"><div class="tl-axis" aria-hidden="true"><div class="track">{hours}</div></div>'
        f'<div class="tl-body"><div class="tl-grid" aria-hidden="true"><div class="track">{grid}</div></div>'
        f"{_unassigned_lane(day, scale, interactive)}"
        f'<div class="tl-rows" role="list" aria-label="carers\' days">{"".join(chunks)}</div>'
        f'{now_line}<svg class="links" id="links" aria-hidden="true"></svg></div></div></section>\n'
    )


def timeline_chunk(
    day: DayView,
    chunk: int,
    *,
    now: float | None = None,
    statuses: Statuses | None = None,
    interactive: bool = False,
) -> str:
    """The rows of chunk ``chunk`` (0: the first ``CHUNK_ROWS`` carers), placed on the
    same scale as ``timeline_section`` with the same day and ``now`` places them.
    Raises InputError for a chunk the day does not have."""
    if not 0 <= chunk < max(1, (len(day.routes) + CHUNK_ROWS - 1) // CHUNK_ROWS):
        raise InputError("chunk", f"the timeline has no chunk {chunk} ({len(day.routes)} rows of carers)")
    return _chunk_rows(day, chunk, _Scale(*day_span(day, now)), statuses, interactive)


def _chunk_rows(day: DayView, chunk: int, scale: _Scale, statuses: Statuses | None, interactive: bool) -> str:
    routes = day.routes[chunk * CHUNK_ROWS : (chunk + 1) * CHUNK_ROWS]
    return "".join(_row(day, route, scale, statuses, interactive) for route in routes)


class _Scale:
    """Minutes after midnight to a percentage of the timeline's track."""

    def __init__(self, t0: float, t1: float):
        self.t0 = t0
        self.span = max(t1 - t0, 1.0)

    def __call__(self, t: float) -> float:
        return (t - self.t0) / self.span * 100.0

    def box(self, start: float, end: float, least: float = 0.08) -> str:
        """The style placing a block from ``start`` to ``end``."""
        left = self(start)
        return f"left:{left:.3f}%;width:{max(self(end) - left, least):.3f}%"


def day_span(day: DayView, now: float | None = None) -> tuple[float, float]:
    """Whole hours covering every drawn shift, departure, return, unassigned window and now."""
    starts, ends = [], []
    for route in day.routes:
        shifts = day.carers[route.carer].shifts
        starts += [s.start for s in shifts] + [route.visits[0].start - route.visits[0].travel_before]
        ends += [s.end for s in shifts] + [route.visits[-1].end]
        starts += [route.leave_home] if route.leave_home is not None else []
        ends += [route.return_home] if route.return_home is not None else []
    for item in day.unassigned:
        visit = day.visits[item.visit]
        starts.append(visit.window.start)
        ends.append(visit.window.start + visit.duration)
    if now is not None and starts and min(starts) - 120 <= now <= max(ends) + 120:
        starts.append(now)
        ends.append(now)
    if not starts:
        return 0.0, 24 * 60.0
    return math.floor(min(starts) / 60) * 60, math.ceil(max(ends) / 60) * 60


def _row(day: DayView, route: Route, scale: _Scale, statuses: Statuses | None, interactive: bool) -> str:
    k = day.index[route.carer]
    colour = day.colour[route.carer]
    carer = day.carers[route.carer]
    out = []
    for shift in carer.shifts:
        out.append(
            _bar(
                "shift",
                scale,
                shift.start,
                shift.end,
                f"shift {format_minutes(shift.start)}–{format_minutes(shift.end)}",
            )
        )
    for b in route.breaks:
        out.append(_bar("break", scale, b.start, b.end, f"break {format_minutes(b.start)}–{format_minutes(b.end)}"))
    for start, end, where, waits_until in _travel_legs(route):
        out.append(
            _bar(
                "travel",
                scale,
                start,
                end,
                f"travel {where}, {duration_text(end - start)} ({format_minutes(start)}–{format_minutes(end)})",
            )
        )
        if waits_until - end >= 1.0:
            out.append(
                _bar(
                    "wait",
                    scale,
                    end,
                    waits_until,
                    f"waiting {duration_text(waits_until - end)} ({format_minutes(end)}–{format_minutes(waits_until)})",
                )
            )
    out += [_visit_block(day, route.carer, pv, colour, scale, statuses, interactive) for pv in route.visits]
    label = day.carer_label(route.carer)
    summary = (
        f"{label}: {len(route.visits)} visits, working {duration_text(route.working_minutes)}, "
        f"travel {duration_text(route.travel_minutes)}"
    )
    if gaps := day.plan.kpis.waiting_by_carer.get(route.carer):
        summary += f", unpaid gaps {duration_text(gaps)}"
    return (
        f'<div class="row" role="listitem" data-carer="{k}" data-carer-id="{esc(route.carer)}" '
        f'aria-label="{esc(summary)}"><div class="label" data-pick="{k}" data-tip="{esc(summary)}">'
        f'<i style="background:{colour}"></i><span class="name">{esc(clip(label, 24))}</span>'
        f'<span class="count">{len(route.visits)}</span></div><div class="track">{"".join(out)}</div></div>'
    )


def _travel_legs(route: Route) -> list[tuple[float, float, str, float]]:
    """When each journey is drawn, and until when the carer then waits.

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
            end = min(start + pv.travel_before, max(pv.start, start))
            legs.append((start, end, "from home" if j == 0 else "from the previous visit", pv.start))
        previous_end = pv.end
    home_leg = route.travel_minutes - sum(pv.travel_before for pv in route.visits)
    if home_leg > LATE_TOLERANCE:
        start = _after_breaks(previous_end, home_leg, breaks)
        end = start + home_leg
        if route.return_home is not None:
            end = min(end, max(route.return_home, start))
        legs.append((start, end, "home", end))
    return legs


def _after_breaks(t: float, length: float, breaks: list[tuple[float, float]]) -> float:
    """The first moment from ``t`` at which ``length`` minutes of travel overlap no break."""
    for start, end in breaks:
        if start < t + length and end > t:
            t = end
    return t


def _visit_block(
    day: DayView,
    carer: str,
    pv: PlannedVisit,
    colour: str,
    scale: _Scale,
    statuses: Statuses | None,
    interactive: bool,
) -> str:
    """A visit on its carer's row, labelled with its start and client; its tooltip's first
    line starts with the visit id."""
    visit = day.visits[pv.visit]
    lines = [
        f"{pv.visit} · {day.client_label(pv.client)}",
        f"{format_minutes(pv.start)}–{format_minutes(pv.end)} ({duration_text(pv.end - pv.start)})",
    ]
    if visit.target is not None:
        target_end = "" if visit.target.end is None else format_minutes(visit.target.end)
        lines.append(f"target {format_minutes(visit.target.start)}–{target_end}")
    late = lateness(visit, pv)
    if late > 0:
        lines.append(f"LATE by {duration_text(max(late, 1.0))}")
    if pv.travel_before > 0:
        lines.append(f"{duration_text(pv.travel_before)} travel before")
    classes, attrs = ["visit"], [f'data-visit="{esc(pv.visit)}"']
    if visit.carers_needed == 2:
        classes.append("pair")
        attrs.append(f'data-pair="{day.visit_index[pv.visit]}"')
        lines.append(f"double-handed with {day.carer_label(pv.partner) if pv.partner else '?'}")
    if late > 0:
        classes.append("is-late")
    status = (statuses or {}).get((pv.visit, carer), "planned")
    mark, words = STATUSES.get(status, STATUSES["planned"])
    if statuses is not None:
        classes.append(f"st-{status}")
        lines.append(f"status: {words}")
    tip = "\n".join(lines)
    inner = (
        f'<i class="mark" aria-hidden="true">{mark}</i><b>{format_minutes(pv.start)}</b> '
        f"{esc(day.client_short(pv.client))}"
    )
    style = f'style="{scale.box(pv.start, pv.end)};--c:{colour}"'
    if interactive:
        # the name starts with the words on the block (voice control users say what they see)
        shown = f"{format_minutes(pv.start)} {day.client_short(pv.client)}"
        label = f"{shown}: {tip.replace(chr(10), '; ')}; on {day.carer_label(carer)}'s day"
        return (
            f'<button type="button" class="{" ".join(classes)}" {" ".join(attrs)} {style} draggable="true" '
            f'data-tip="{esc(tip)}" aria-label="{esc(label)}">{inner}</button>'
        )
    return f'<span class="{" ".join(classes)}" {" ".join(attrs)} {style} data-tip="{esc(tip)}">{inner}</span>'


def _unassigned_lane(day: DayView, scale: _Scale, interactive: bool) -> str:
    """The visits nobody has, at their windows, stacked so none hides another."""
    items = sorted(day.unassigned, key=lambda u: (day.visits[u.visit].window.start, u.visit))
    if not items:
        return ""
    lanes: list[float] = []  # where each sub-row is free from
    blocks = []
    for item in items:
        visit = day.visits[item.visit]
        start = visit.window.start
        end = start + max(visit.duration, 30.0)
        lane = next((i for i, free in enumerate(lanes) if free <= start), len(lanes))
        if lane == MOST_LANES:  # a crowded hour overlaps on the soonest free lane
            lane = min(range(MOST_LANES), key=lanes.__getitem__)
        if lane == len(lanes):
            lanes.append(end)
        lanes[lane] = end
        blocks.append(_unassigned_block(day, item, scale, lane, interactive))
    return (
        f'<div class="row unassigned" role="group" aria-label="{len(items):,} unassigned visits" '
        f'style="--lanes:{len(lanes)}"><div class="label"><i></i><span class="name">Unassigned</span>'
        f'<span class="count">{len(items):,}</span></div><div class="track">{"".join(blocks)}</div></div>'
    )


def _unassigned_block(day: DayView, item: UnassignedVisit, scale: _Scale, lane: int, interactive: bool) -> str:
    visit = day.visits[item.visit]
    window_end = "open" if visit.window.end is None else format_minutes(visit.window.end)
    kind = "mandatory" if visit.mandatory else "optional"
    tip = (
        f"{item.visit} · {day.client_label(visit.client)}\nmay start {format_minutes(visit.window.start)}–"
        f"{window_end}, {visit.duration:g} min, {kind}\nunassigned: {item.reason}"
    )
    style = f'style="{scale.box(visit.window.start, visit.window.start + visit.duration)};--lane:{lane}"'
    shown = f"{format_minutes(visit.window.start)} {day.client_short(visit.client)}"
    inner = (
        f'<i class="mark" aria-hidden="true">?</i><b>{format_minutes(visit.window.start)}</b> '
        f"{esc(day.client_short(visit.client))}"
    )
    if interactive:
        return (
            f'<button type="button" class="visit open {kind}" data-visit="{esc(item.visit)}" {style} draggable="true" '
            f'data-tip="{esc(tip)}" aria-label="{esc(shown + ": " + tip.replace(chr(10), "; "))}">{inner}</button>'
        )
    return (
        f'<span class="visit open {kind}" data-visit="{esc(item.visit)}" {style} data-tip="{esc(tip)}">{inner}</span>'
    )


def _bar(kind: str, scale: _Scale, start: float, end: float, tip: str) -> str:
    return f'<span class="{kind}" style="{scale.box(start, end)}" data-tip="{esc(tip)}"></span>'


def _key_line(with_status: bool) -> str:
    items = [
        key(22, '<rect class="k-shift" y="3" width="22" height="16"/>', "on shift"),
        key(22, '<rect y="4" width="22" height="14" rx="2" fill="#52606d"/>', "visit (start, client)"),
        key(22, '<rect class="k-travel" y="9" width="22" height="4"/>', "travel"),
        key(22, '<line class="k-wait" x1="0" y1="11" x2="22" y2="11"/>', "waiting"),
        key(22, '<rect class="k-break" y="4" width="22" height="14"/>', "break"),
        key(22, '<rect class="k-pair" x="1" y="4" width="20" height="14" rx="2"/>', "double-up (hover: both carers)"),
        key(
            22,
            '<rect y="4" width="22" height="14" rx="2" fill="#9aa5b1"/>'
            '<rect class="k-late" y="18" width="22" height="3"/>',
            "late start",
        ),
    ]
    if with_status:
        items += [
            f'<span class="key status st-{name}"><i class="mark">{mark or "·"}</i>{words}</span>'
            for name, (mark, words) in STATUSES.items()
        ]
    return f'<p class="tl-key">{"".join(items)}</p>'
