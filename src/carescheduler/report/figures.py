"""The day in figures: the KPI cards, the unassigned visits with their reasons, and the
cost by term, as the report and the coordinator board both show them."""

from __future__ import annotations

from ..plan import Plan, format_minutes
from .view import LATE_TOLERANCE, DayView, duration_text, esc

__all__ = ["cost_section", "kpi_cards", "unassigned_section"]


def kpi_cards(day: DayView) -> str:
    k = day.plan.kpis
    estimated = " (estimated)" if k.travel_estimated else ""
    cards = [  # label, value, note, shown as a problem
        ("Coverage", f"{k.coverage:.1%}", f"{k.visits_assigned:,} of {k.visits_total:,} visits planned", False),
        (
            "Mandatory unassigned",
            f"{k.mandatory_unassigned:,}",
            f"{len(day.unassigned):,} visits unassigned in all",
            k.mandatory_unassigned > 0,
        ),
        ("Travel", duration_text(k.travel_minutes), f"{k.travel_minutes:,.0f} min{estimated}", False),
        (
            "Lateness",
            f"{k.total_lateness:,.0f} min",
            f"{day.late_visits():,} late carer-visits · max {k.max_lateness:,.0f} min",
            k.max_lateness > LATE_TOLERANCE,
        ),
        ("Continuity", f"{k.continuity:.0%}", "known carer, where the client has a history", False),
        ("Overtime", duration_text(k.overtime_minutes), "beyond contracted minutes", False),
        (
            "Unpaid gaps",
            duration_text(k.waiting_minutes),
            f"waiting between visits, {len(k.waiting_by_carer):,} carers · longest {k.max_wait_minutes:,.0f} min",
            False,
        ),
        ("Carers used", f"{len(day.routes):,}", f"of {len(day.problem.carers):,} on the rota", False),
    ]
    body = "".join(
        f'<div class="kpi{" bad" if bad else ""}"><div class="l">{esc(label)}</div>'
        f'<div class="v">{esc(value)}</div><div class="s">{esc(note)}</div></div>'
        for label, value, note, bad in cards
    )
    return f'<section class="kpis" aria-label="key figures">{body}</section>\n'


def unassigned_section(day: DayView) -> str:
    items = sorted(day.unassigned, key=lambda u: (day.visits[u.visit].window.start, u.visit))
    head = f'<section class="card" id="unassigned"><h2>Unassigned visits <span class="n">{len(items):,}</span></h2>'
    if not items:
        return head + '<p class="empty">Every visit is planned.</p></section>'
    rows = []
    for item in items:
        visit = day.visits[item.visit]
        window_end = "open" if visit.window.end is None else format_minutes(visit.window.end)
        kind = "mandatory" if visit.mandatory else "optional"
        rows.append(
            f'<tr class="{kind}"><td class="id">{esc(item.visit)}</td>'
            f'<td class="id">{esc(day.client_label(visit.client))}</td>'
            f'<td class="num">{format_minutes(visit.window.start)}–{window_end}</td>'
            f'<td class="num">{visit.duration:g} min</td>'
            f'<td class="id">{visit.carers_needed} carer{"s" if visit.carers_needed > 1 else ""}</td>'
            f'<td class="kind">{kind}</td><td class="reason">{esc(item.reason)}</td></tr>'
        )
    return (
        head + '<div class="scroll" tabindex="0" role="region" aria-label="unassigned visits"><table><thead><tr>'
        '<th scope="col">visit</th><th scope="col">client</th>'
        '<th scope="col">may start</th><th scope="col">length</th><th scope="col">needs</th><th scope="col">kind</th>'
        '<th scope="col">why it is unassigned</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


_COST_TERMS = [  # field, label, what it measures (from the KPIs, where they have it)
    ("unassigned", "unassigned visits", lambda p: f"{len(p.unassigned):,} visits"),
    ("lateness", "lateness", lambda p: f"{p.kpis.total_lateness:,.0f} min"),
    ("max_lateness", "largest lateness", lambda p: f"{p.kpis.max_lateness:,.0f} min"),
    ("earliness", "earliness", None),
    ("travel", "travel", lambda p: f"{p.kpis.travel_minutes:,.0f} min"),
    ("preferences", "preferences not met", None),
    ("continuity", "new carer to a client", lambda p: f"{p.kpis.continuity:.0%} known"),
    ("overtime", "overtime", lambda p: f"{p.kpis.overtime_minutes:,.0f} min"),
    ("waiting", "unpaid gaps (waiting)", lambda p: f"{p.kpis.waiting_minutes:,.0f} min"),
    ("max_waiting", "longest wait", lambda p: f"{p.kpis.max_wait_minutes:,.0f} min"),
    ("past_shift_end", "finishing after a shift's end", lambda p: f"{p.kpis.past_shift_end_minutes:,.0f} min"),
]


def cost_section(plan: Plan) -> str:
    """The objective's terms: what each measures in its own unit (minutes, visits), and
    the weighted points it adds to the total, which is what the solver compares."""
    cost = plan.cost
    rows = []
    for field, label, measure in _COST_TERMS:
        value = getattr(cost, field)
        share = min(max(value / cost.total, 0.0), 1.0) if cost.total > 0 else 0.0
        measured = measure(plan) if measure is not None else ""
        rows.append(
            f'<tr><th scope="row">{label}</th><td class="num">{esc(measured)}</td><td class="num">{value:,.1f}</td>'
            f'<td class="bar"><span style="width:{share * 100:.1f}%"></span></td></tr>'
        )
    rows.append(
        f'<tr class="total"><th scope="row">total</th><td></td><td class="num">{cost.total:,.1f}</td><td></td></tr>'
    )
    return (
        '<section class="card" id="cost"><h2>Cost <span class="n">each term in its unit, and its weighted points'
        '</span></h2><table><thead><tr><th scope="col">term</th><th scope="col" class="num">measured</th>'
        '<th scope="col" class="num">points</th><th scope="col"><span class="sr">share of the total</span></th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
