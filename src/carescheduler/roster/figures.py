"""Management figures of published plans: per day, per carer and per client, and over a
date range.

A coordinator's manager asks the same questions every week: how many visits were
covered, how many started late and by how much, how many were missed, how far and how
long carers travelled, whether clients keep seeing the same faces, and how the hours
worked compare with the contracts. ``plan_figures`` answers them for one day's plan
(before the day from the plan alone; after it, given the visits' statuses, with the
missed visits too); ``summarise`` adds days up; ``week_summary_text`` prints the result;
``write_csv`` writes any of the tables. No HTTP, no storage: the service stores what
this computes.

Conventions, so the numbers can be checked by hand:

- A visit is *covered* when every carer it needs is planned; *unassigned* otherwise.
  A visit is *missed* when any of its carers' parts is missed (``day.status``).
- A *late start* is a carer's planned start after the visit's target window ends, or,
  with no target, after its window ends; each carer of a double-handed visit counts.
- *Travel* is the plan's own (home legs included); *distance* is estimated from
  latitude/longitude as great-circle km times ``Problem.travel_estimate.detour_factor``
  along the route, home to home. Planar (benchmark) coordinates have no km: None.
- *Working* minutes are visits and travel (``Route.working_minutes``); *utilisation* is
  working over shift minutes; *overtime* is working beyond ``contracted_minutes``.
- *Continuity*: the distinct carers a client sees, and the share of a client's
  carer-visits made by one of their ``historical_carers`` (None without a history).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..domain import Problem, Visit
from ..plan import Plan, natural_key
from ..travel.estimate import haversine_km

__all__ = [
    "CarerFigures",
    "CarerTotals",
    "ClientFigures",
    "ClientTotals",
    "DayFigures",
    "PlanFigures",
    "RangeSummary",
    "csv_text",
    "plan_figures",
    "start_lateness",
    "summarise",
    "week_summary_text",
    "write_csv",
]

LATE_TOLERANCE = 0.01
"""Minutes past the window before a start counts as late (absorbs float noise; as the report)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DayFigures(_Model):
    """One day's plan as a whole."""

    date: dt.date | None = None
    visits_total: int = 0
    visits_covered: int = 0
    visits_unassigned: int = 0
    visits_missed: int | None = Field(default=None, description="None: no statuses (before the day, or untracked)")
    coverage: float = Field(default=1.0, description="covered over total visits (1 with no visits)")
    late_starts: int = 0
    late_minutes_total: float = 0.0
    late_minutes_max: float = 0.0
    travel_minutes: float = 0.0
    travel_estimated: bool = Field(default=False, description="travel times estimated from coordinates, not roads")
    distance_km: float | None = Field(default=None, description="estimated from coordinates; None: no lat/lon")
    carers_working: int = Field(default=0, description="carers with at least one visit")
    mean_carers_per_client: float = Field(default=0.0, description="distinct carers per client with a visit planned")
    continuity: float | None = Field(default=None, description="share of carer-visits by a historical carer")
    working_minutes: float = 0.0
    contracted_minutes: float = Field(default=0.0, description="of the carers with a contract")
    shift_minutes: float = 0.0
    utilisation: float | None = Field(default=None, description="working over shift minutes")
    overtime_minutes: float = 0.0


class CarerFigures(_Model):
    """One carer's day (every carer with a shift or a route)."""

    date: dt.date | None = None
    carer: str
    name: str | None = None
    visits: int = Field(default=0, description="carer-visits planned")
    visits_missed: int | None = None
    clients: int = Field(default=0, description="distinct clients visited")
    late_starts: int = 0
    late_minutes_total: float = 0.0
    late_minutes_max: float = 0.0
    travel_minutes: float = 0.0
    distance_km: float | None = None
    working_minutes: float = 0.0
    contracted_minutes: float | None = None
    shift_minutes: float = 0.0
    utilisation: float | None = None
    overtime_minutes: float = 0.0


class ClientFigures(_Model):
    """One client's day (every client with a visit that day)."""

    date: dt.date | None = None
    client: str
    name: str | None = None
    visits_total: int = 0
    visits_covered: int = 0
    visits_unassigned: int = 0
    visits_missed: int | None = None
    late_starts: int = 0
    late_minutes_total: float = 0.0
    late_minutes_max: float = 0.0
    carer_visits: int = Field(default=0, description="carer-visits planned (a double-handed visit counts twice)")
    distinct_carers: int = 0
    carers: list[str] = Field(default_factory=list, description="who visits, in order of first visit")
    continuity: float | None = Field(default=None, description="share of carer-visits by a historical carer")


class PlanFigures(_Model):
    """A plan's figures: the day's row, one row per carer and one per client."""

    day: DayFigures
    carers: list[CarerFigures] = Field(default_factory=list)
    clients: list[ClientFigures] = Field(default_factory=list)


def start_lateness(visit: Visit, start: float) -> float:
    """Minutes ``start`` lies beyond the visit's target window, or its window when it has
    no target (0 when on time, or when the window is open)."""
    target = visit.target if visit.target is not None else visit.window
    if target.end is None:
        return 0.0
    late = start - target.end
    return late if late > LATE_TOLERANCE else 0.0


@dataclass(slots=True)
class _Tally:
    """What one carer's or one client's rows add up while the routes are read: plain
    attributes, not the models' (a council day is 5,000 visits, on every publish)."""

    visits: int = 0
    missed: int = 0
    late_starts: int = 0
    late_total: float = 0.0
    late_max: float = 0.0
    kept: int = 0
    travel: float = 0.0
    working: float = 0.0
    km: float = 0.0
    people: dict[str, None] = field(default_factory=dict)  # carers (of a client) or clients (of a carer), in order

    def late(self, minutes: float) -> None:
        if minutes > 0:
            self.late_starts += 1
            self.late_total += minutes
            self.late_max = max(self.late_max, minutes)


def plan_figures(
    problem: Problem,
    plan: Plan,
    statuses: Mapping[tuple[str, str], str] | None = None,
    *,
    date: dt.date | None = None,
) -> PlanFigures:
    """The figures of ``plan`` for ``problem`` (the day it was made for).

    ``statuses`` maps (visit, carer) to a ``day.status`` status (``visit_statuses``):
    given, the missed visits are counted; without it they are None (not yet known).
    One pass over the routes: cheap enough to run on every publish of a council day."""
    visits = {v.id: v for v in problem.visits}
    history = {c.id: set(c.historical_carers) for c in problem.clients}
    date = date or problem.day
    km = _route_distances(problem, plan)
    tracked = statuses is not None

    parts: dict[str, int] = {}  # visit -> carer-parts planned
    missed_visits: set[str] = set()
    by_carer = {c.id: _Tally() for c in problem.carers}
    by_client: dict[str, _Tally] = {}
    for visit in problem.visits:  # clients in the day's order, each with a visit
        by_client.setdefault(visit.client, _Tally())
    for route in plan.routes:
        carer = by_carer.get(route.carer)
        if carer is None:
            continue  # a route of a carer the day no longer has: not this day's figures
        carer.travel += route.travel_minutes
        carer.working += route.working_minutes
        carer.km += km.get(route.carer, 0.0) if km is not None else 0.0
        for pv in route.visits:
            planned = visits.get(pv.visit)
            if planned is None:
                continue
            parts[pv.visit] = parts.get(pv.visit, 0) + 1
            client = by_client[planned.client]
            carer.visits += 1
            client.visits += 1
            carer.people[planned.client] = None
            client.people[route.carer] = None
            late = start_lateness(planned, pv.start)
            carer.late(late)
            client.late(late)
            if route.carer in history[planned.client]:
                client.kept += 1
            if statuses is not None and statuses.get((pv.visit, route.carer)) == "missed":
                carer.missed += 1
                missed_visits.add(pv.visit)

    carers = []
    for person in problem.carers:
        t = by_carer[person.id]
        shift = sum(s.end - s.start for s in person.shifts)
        if not t.visits and shift <= 0:
            continue
        contracted = person.contracted_minutes
        carers.append(
            CarerFigures(
                date=date,
                carer=person.id,
                name=person.name,
                visits=t.visits,
                visits_missed=t.missed if tracked else None,
                clients=len(t.people),
                late_starts=t.late_starts,
                late_minutes_total=t.late_total,
                late_minutes_max=t.late_max,
                travel_minutes=t.travel,
                distance_km=t.km if km is not None else None,
                working_minutes=t.working,
                contracted_minutes=contracted,
                shift_minutes=shift,
                utilisation=t.working / shift if shift > 0 else None,
                overtime_minutes=max(0.0, t.working - contracted) if contracted is not None else 0.0,
            )
        )
    carers.sort(key=lambda r: natural_key(r.carer))

    totals: dict[str, list[int]] = {c: [0, 0, 0] for c in by_client}  # visits, covered, missed
    for visit in problem.visits:
        counts = totals[visit.client]
        counts[0] += 1
        counts[1] += parts.get(visit.id, 0) >= visit.carers_needed
        counts[2] += visit.id in missed_visits
    names = {c.id: c.name for c in problem.clients}
    clients = []
    for client_id, t in by_client.items():
        total, covered, missed = totals[client_id]
        clients.append(
            ClientFigures(
                date=date,
                client=client_id,
                name=names.get(client_id),
                visits_total=total,
                visits_covered=covered,
                visits_unassigned=total - covered,
                visits_missed=missed if tracked else None,
                late_starts=t.late_starts,
                late_minutes_total=t.late_total,
                late_minutes_max=t.late_max,
                carer_visits=t.visits,
                distinct_carers=len(t.people),
                carers=list(t.people),
                continuity=t.kept / t.visits if history[client_id] and t.visits else None,
            )
        )

    with_history = [by_client[c] for c in by_client if history[c] and by_client[c].visits]
    seen = [c for c in clients if c.distinct_carers]
    covered = sum(c.visits_covered for c in clients)
    total = len(problem.visits)
    shift_minutes = sum(r.shift_minutes for r in carers)
    working = sum(r.working_minutes for r in carers)
    day = DayFigures(
        date=date,
        visits_total=total,
        visits_covered=covered,
        visits_unassigned=total - covered,
        visits_missed=len(missed_visits) if tracked else None,
        coverage=covered / total if total else 1.0,
        late_starts=sum(r.late_starts for r in carers),
        late_minutes_total=sum(r.late_minutes_total for r in carers),
        late_minutes_max=max((r.late_minutes_max for r in carers), default=0.0),
        travel_minutes=sum(r.travel_minutes for r in carers),
        travel_estimated=plan.kpis.travel_estimated,
        distance_km=sum(r.distance_km or 0.0 for r in carers) if km is not None else None,
        carers_working=sum(1 for r in carers if r.visits),
        mean_carers_per_client=sum(c.distinct_carers for c in seen) / len(seen) if seen else 0.0,
        continuity=(sum(t.kept for t in with_history) / sum(t.visits for t in with_history) if with_history else None),
        working_minutes=working,
        contracted_minutes=sum(r.contracted_minutes or 0.0 for r in carers),
        shift_minutes=shift_minutes,
        utilisation=working / shift_minutes if shift_minutes > 0 else None,
        overtime_minutes=sum(r.overtime_minutes for r in carers),
    )
    return PlanFigures(day=day, carers=carers, clients=clients)


def _route_distances(problem: Problem, plan: Plan) -> dict[str, float] | None:
    """Estimated km per carer along their route (home, the visits' clients, home), or None
    when the day's places have no latitude/longitude. All legs in one numpy call."""
    if not problem.locations or not all(x.lat is not None and x.lon is not None for x in problem.locations):
        return None
    index = problem.location_index()
    lat = np.array([x.lat for x in problem.locations], dtype=float)
    lon = np.array([x.lon for x in problem.locations], dtype=float)
    carers = {c.id: c for c in problem.carers}
    homes = {c.id: index[c.location] for c in problem.clients}
    visit_home = {v.id: homes[v.client] for v in problem.visits}
    origins: list[int] = []
    targets: list[int] = []
    owners: list[int] = []
    names: list[str] = []
    for route in plan.routes:
        carer = carers.get(route.carer)
        stops = [visit_home[pv.visit] for pv in route.visits if pv.visit in visit_home]
        if carer is None or not stops:
            continue
        path = [index[carer.start_location], *stops, index[carer.home_end]]
        origins += path[:-1]
        targets += path[1:]
        owners += [len(names)] * (len(path) - 1)
        names.append(route.carer)
    if not names:
        return {}
    legs = haversine_km(lat[origins], lon[origins], lat[targets], lon[targets]) * problem.travel_estimate.detour_factor
    sums = np.bincount(np.asarray(owners), weights=legs, minlength=len(names))
    out: dict[str, float] = {}
    for name, value in zip(names, sums, strict=True):
        out[name] = out.get(name, 0.0) + float(value)
    return out


# -- over a date range ---------------------------------------------------------------------------


class CarerTotals(_Model):
    """A carer over a date range: hours worked against contract."""

    carer: str
    name: str | None = None
    days: int = Field(default=0, description="days with a row (a shift or a route)")
    days_worked: int = Field(default=0, description="days with at least one visit")
    visits: int = 0
    working_minutes: float = 0.0
    contracted_minutes: float | None = Field(default=None, description="None: no contract on any day")
    overtime_minutes: float = 0.0
    travel_minutes: float = 0.0
    distance_km: float | None = None


class ClientTotals(_Model):
    """A client over a date range: how many different carers came."""

    client: str
    name: str | None = None
    days: int = 0
    visits_total: int = 0
    visits_covered: int = 0
    visits_missed: int | None = None
    late_starts: int = 0
    distinct_carers: int = 0
    carers: list[str] = Field(default_factory=list)


class RangeSummary(_Model):
    """Days added up: totals, means per day, per carer and per client."""

    start: dt.date | None = None
    end: dt.date | None = None
    days: int = Field(default=0, description="days with a published plan")
    totals: DayFigures = Field(
        default_factory=DayFigures,
        description="summed (maxima: the largest; ratios pooled; carers per client: distinct over the range)",
    )
    per_day: dict[str, float] = Field(default_factory=dict, description="means per day of the counts and minutes")
    carers: list[CarerTotals] = Field(default_factory=list)
    clients: list[ClientTotals] = Field(default_factory=list)


_PER_DAY = (
    "visits_total",
    "visits_covered",
    "visits_unassigned",
    "late_starts",
    "late_minutes_total",
    "travel_minutes",
    "working_minutes",
    "overtime_minutes",
    "carers_working",
)


def summarise(
    days: Sequence[DayFigures],
    carers: Iterable[CarerFigures] = (),
    clients: Iterable[ClientFigures] = (),
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> RangeSummary:
    """The rows of several days added up. Counts and minutes are summed; the largest
    lateness is the largest of the days; coverage, utilisation and continuity are pooled
    (a busy day weighs more than a quiet one); missed visits and km are summed over the
    days that know them (None if none does). Distinct carers per client count each
    carer once over the whole range."""
    known_missed = [d.visits_missed for d in days if d.visits_missed is not None]
    known_km = [d.distance_km for d in days if d.distance_km is not None]
    total = sum(d.visits_total for d in days)
    covered = sum(d.visits_covered for d in days)
    shift = sum(d.shift_minutes for d in days)
    working = sum(d.working_minutes for d in days)
    carers, clients = list(carers), list(clients)
    client_totals = _client_totals(clients)
    seen = [c for c in client_totals if c.distinct_carers]
    totals = DayFigures(
        date=None,
        visits_total=total,
        visits_covered=covered,
        visits_unassigned=sum(d.visits_unassigned for d in days),
        visits_missed=sum(known_missed) if known_missed else None,
        coverage=covered / total if total else 1.0,
        late_starts=sum(d.late_starts for d in days),
        late_minutes_total=sum(d.late_minutes_total for d in days),
        late_minutes_max=max((d.late_minutes_max for d in days), default=0.0),
        travel_minutes=sum(d.travel_minutes for d in days),
        travel_estimated=any(d.travel_estimated for d in days),
        distance_km=sum(known_km) if known_km else None,
        carers_working=(
            len({c.carer for c in carers if c.visits}) if carers else max((d.carers_working for d in days), default=0)
        ),
        mean_carers_per_client=sum(c.distinct_carers for c in seen) / len(seen) if seen else 0.0,
        continuity=_pooled_continuity(clients, days),
        working_minutes=working,
        contracted_minutes=sum(d.contracted_minutes for d in days),
        shift_minutes=shift,
        utilisation=working / shift if shift > 0 else None,
        overtime_minutes=sum(d.overtime_minutes for d in days),
    )
    per_day = {name: float(sum(getattr(d, name) for d in days)) / len(days) for name in _PER_DAY} if days else {}
    dates = [d.date for d in days if d.date is not None]
    return RangeSummary(
        start=start or min(dates, default=None),
        end=end or max(dates, default=None),
        days=len(days),
        totals=totals,
        per_day=per_day,
        carers=_carer_totals(carers),
        clients=client_totals,
    )


def _carer_totals(carers: Iterable[CarerFigures]) -> list[CarerTotals]:
    out: dict[str, CarerTotals] = {}
    for row in carers:
        total = out.setdefault(row.carer, CarerTotals(carer=row.carer, name=row.name))
        total.name = row.name or total.name
        total.days += 1
        total.days_worked += 1 if row.visits else 0
        total.visits += row.visits
        total.working_minutes += row.working_minutes
        if row.contracted_minutes is not None:
            total.contracted_minutes = (total.contracted_minutes or 0.0) + row.contracted_minutes
        total.overtime_minutes += row.overtime_minutes
        total.travel_minutes += row.travel_minutes
        if row.distance_km is not None:
            total.distance_km = (total.distance_km or 0.0) + row.distance_km
    return sorted(out.values(), key=lambda t: natural_key(t.carer))


def _client_totals(clients: Iterable[ClientFigures]) -> list[ClientTotals]:
    out: dict[str, ClientTotals] = {}
    for row in clients:
        total = out.setdefault(row.client, ClientTotals(client=row.client, name=row.name))
        total.name = row.name or total.name
        total.days += 1
        total.visits_total += row.visits_total
        total.visits_covered += row.visits_covered
        if row.visits_missed is not None:
            total.visits_missed = (total.visits_missed or 0) + row.visits_missed
        total.late_starts += row.late_starts
        total.carers += [c for c in row.carers if c not in total.carers]
    for total in out.values():
        total.distinct_carers = len(total.carers)
    return sorted(out.values(), key=lambda t: natural_key(t.client))


def _pooled_continuity(clients: Sequence[ClientFigures], days: Sequence[DayFigures]) -> float | None:
    """Carer-visits by a historical carer over all carer-visits to clients with a history:
    from the client rows when given, else the days' shares weighted by their covered visits."""
    rows = [c for c in clients if c.continuity is not None and c.carer_visits]
    if rows:
        return sum(c.continuity * c.carer_visits for c in rows if c.continuity is not None) / sum(
            c.carer_visits for c in rows
        )
    known = [d for d in days if d.continuity is not None and d.visits_covered]
    if not known:
        return None
    return sum((d.continuity or 0.0) * d.visits_covered for d in known) / sum(d.visits_covered for d in known)


# -- as text and CSV ------------------------------------------------------------------------------


def _hours(minutes: float) -> str:
    return f"{minutes / 60:,.1f} h"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def week_summary_text(summary: RangeSummary, *, carers: int = 10, plans: str = "a published plan") -> str:
    """A week's (or any range's) summary as plain text for a terminal or an e-mail: the
    totals, the means per day, and the ``carers`` most over and under their contracts.
    ``plans`` says what the days' plans are (the service's are published ones)."""
    t = summary.totals
    span = f"{summary.start} to {summary.end}" if summary.start else "no days"
    km = "n/a (no coordinates)" if t.distance_km is None else f"{t.distance_km:,.0f} km (estimated)"
    missed = "not known (no check-ins)" if t.visits_missed is None else f"{t.visits_missed:,}"
    lines = [
        f"Figures {span}: {summary.days} day{'s' if summary.days != 1 else ''} with {plans}",
        "",
        f"Visits        {t.visits_total:,} planned, {t.visits_covered:,} covered ({_share(t.coverage)}), "
        f"{t.visits_unassigned:,} unassigned, missed {missed}",
        f"Late starts   {t.late_starts:,}, {t.late_minutes_total:,.0f} min in all, "
        f"at most {t.late_minutes_max:,.0f} min",
        f"Travel        {_hours(t.travel_minutes)}{' (estimated)' if t.travel_estimated else ''}, {km}",
        f"Hours         {_hours(t.working_minutes)} worked of {_hours(t.contracted_minutes)} contracted, "
        f"overtime {_hours(t.overtime_minutes)}, utilisation {_share(t.utilisation)}",
        f"Continuity    {t.mean_carers_per_client:.1f} different carers per client over the range, "
        f"{_share(t.continuity)} of visits by a known carer",
    ]
    if summary.days:
        d = summary.per_day
        lines += [
            "",
            f"Per day       {d['visits_total']:,.1f} visits, {d['late_starts']:,.1f} late starts, "
            f"{_hours(d['travel_minutes'])} travel, {d['carers_working']:,.1f} carers working",
        ]
    contracted = [c for c in summary.carers if c.contracted_minutes]
    if contracted:
        ranked = sorted(contracted, key=lambda c: -abs(c.working_minutes - (c.contracted_minutes or 0.0)))[:carers]
        lines += ["", "Hours against contract (largest differences first)"]
        width = max(len(c.name or c.carer) for c in ranked)
        for c in ranked:
            difference = c.working_minutes - (c.contracted_minutes or 0.0)
            lines.append(
                f"  {(c.name or c.carer):<{width}}  {_hours(c.working_minutes):>9} of "
                f"{_hours(c.contracted_minutes or 0.0):>9}  ({difference / 60:+,.1f} h)"
            )
    if summary.clients:
        many = sum(1 for c in summary.clients if c.distinct_carers > 3)
        lines += [
            "",
            f"Clients       {len(summary.clients):,} visited; {many:,} saw more than 3 different carers",
        ]
    return "\n".join(lines) + "\n"


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(x) for x in value)
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_csv(rows: Iterable[BaseModel], out: IO[str], model: type[BaseModel]) -> None:
    """``rows`` (of ``model``) as CSV with a header of ``model``'s fields, so an empty
    table still says what it would hold; lists are space-separated, None is empty."""
    fields = list(model.model_fields)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in fields])


def csv_text(rows: Iterable[BaseModel], model: type[BaseModel]) -> str:
    """``write_csv`` into a string."""
    buffer = io.StringIO()
    write_csv(rows, buffer, model)
    return buffer.getvalue()
