"""Carers' runs along the roads, for a map: without them a run is drawn as straight lines
from stop to stop, a tangle across the streets it really follows."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from ..domain import Problem, TravelMode
from ..plan import Plan
from ..travel.roads import RoadNetwork

__all__ = ["road_runs"]

Point = tuple[float, float]


def road_runs(problem: Problem, plan: Plan, networks: Mapping[TravelMode | str, RoadNetwork]) -> dict[str, list[Point]]:
    """Each working carer's run (home, their visits in order, home) as one (lon, lat)
    polyline along the roads of their travel mode's network (the fastest way, as the
    road travel times are measured). Carers whose mode has no network, or with a stop
    that has no coordinates, are left out: a map draws their runs straight."""
    by_mode = {TravelMode(mode): network for mode, network in networks.items()}
    places = {loc.id: loc for loc in problem.locations}
    carers = {c.id: c for c in problem.carers}
    clients = {c.id: c for c in problem.clients}
    legs: dict[TravelMode, list[tuple[Point, Point]]] = {}
    owners: dict[TravelMode, list[str]] = {}
    for route in plan.routes:
        carer = carers[route.carer]
        mode = TravelMode(carer.travel_mode)
        if not route.visits or mode not in by_mode:
            continue
        stops = [carer.start_location, *(clients[pv.client].location for pv in route.visits), carer.home_end]
        located = [
            (lat, lon)
            for lat, lon in ((places[s].lat, places[s].lon) for s in stops)
            if lat is not None and lon is not None
        ]
        if len(located) < len(stops):  # a stop without coordinates
            continue
        for a, b in itertools.pairwise(located):
            legs.setdefault(mode, []).append((a, b))
            owners.setdefault(mode, []).append(route.carer)
    runs: dict[str, list[Point]] = {}
    for mode, mode_legs in legs.items():
        for carer_id, line in zip(owners[mode], by_mode[mode].paths(mode_legs), strict=True):
            run = runs.setdefault(carer_id, [])
            run.extend(line[1:] if run else line)
    return runs
