"""Road travel times from an OpenStreetMap file, read offline.

A council hands over a road file it downloaded once (OSM XML ``.osm``/``.osm.bz2``, or a
GraphML saved by osmnx); nothing here touches the internet. The file becomes a routable
graph for one travel mode:

* **drive**: the roads (``DRIVABLE``), one-way streets one way. Each road is timed at its
  ``maxspeed`` tag, or, where that is missing or unreadable (``"national"``, ``"none"``,
  ``"DE:urban"``), at a UK-style default for its highway type (``UK_HIGHWAY_KMH``).
  osmnx's own imputation averages whatever tags exist and can make a motorway 49 km/h.
* **walk**: a walk network (``extract.py`` cuts one from a ``.pbf``: footways, paths,
  steps and quiet streets) walked both ways, motorways removed, every way at the walking
  pace. Given a drive extract instead, walkers use its roads both ways; a walk that a
  footpath would shorten is then overestimated (a safe error for a rota).

``graph_from_xml`` turns every way of the file into an edge, so ways the mode may not
use (footpaths when driving, buildings, private roads) are dropped here: an unfiltered
extract cannot send a car down a footpath.

Both keep only the largest strongly connected part, so every place can reach every
other despite one-ways. A location is snapped to its nearest graph node; the
straight-line gap from the front door to that node (the *access leg*) is added at a slow
speed, so two homes on the same corner are still apart, and two homes snapped to the same
node are timed by the straight line between them.

The matrix comes from one Dijkstra per distinct snapped node (``scipy.sparse.csgraph``) and
is kept in factored form (``RoadTimes``): node-to-node times plus each location's node and
access leg. That form is small enough to cache and expands to the full matrix in one
gather.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat
from scipy.sparse import csr_matrix  # type: ignore[import-untyped, unused-ignore]  # scipy-stubs may be missing
from scipy.sparse.csgraph import dijkstra  # type: ignore[import-untyped, unused-ignore]  # scipy-stubs may be missing

from ..domain import TravelMode
from ..errors import InputError
from .estimate import haversine_km

__all__ = ["MAX_SNAP_KM", "UK_HIGHWAY_KMH", "RoadNetwork", "RoadSpeeds", "RoadTimes", "road_file_kind"]

MPH = 1.609344
"""km/h in one mph."""

UK_HIGHWAY_KMH = {
    "motorway": 70 * MPH,
    "motorway_link": 40 * MPH,
    "trunk": 60 * MPH,
    "trunk_link": 40 * MPH,  # national limit, single carriageway
    "primary": 50 * MPH,
    "primary_link": 30 * MPH,
    "secondary": 40 * MPH,
    "secondary_link": 30 * MPH,
    "tertiary": 30 * MPH,
    "tertiary_link": 30 * MPH,
    "unclassified": 30 * MPH,
    "residential": 30 * MPH,
    "road": 30 * MPH,
    "living_street": 10 * MPH,
    "service": 10 * MPH,
}
"""Typical speeds (km/h) by OSM highway type where a road has no usable ``maxspeed``.

UK limits (70 mph motorways, 60 mph single carriageways, 30 mph built-up) shaded down
for the bends and junctions of the roads a carer drives: A roads 50 mph, B roads 40 mph.
"""

MAX_SNAP_KM = 3.0
"""Default limit on how far a location may lie from its nearest road node.

Farther than this, the location is almost surely outside the area of the road file (or
its coordinates are wrong); a farm at the end of a long track may need a higher limit.
"""

DRIVABLE = frozenset(UK_HIGHWAY_KMH)
"""Highway types a car may use (plus any type given a speed in ``RoadSpeeds.highway_kmh``)."""

NOT_WALKABLE = frozenset({"motorway", "motorway_link", "bus_guideway", "busway", "construction", "proposed", "raceway"})
"""Highway types a pedestrian may not use; footways, paths and steps are walkable."""

XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2", ".xml.gz")
GRAPHML_SUFFIXES = (".graphml", ".graphml.gz", ".graphml.bz2")

_DIJKSTRA_CHUNK = 256  # source nodes per Dijkstra call: bounds memory on big graphs
_MIN_EDGE_SECONDS = 1e-3  # csgraph must not see a zero weight as a missing edge


class RoadSpeeds(BaseModel):
    """Speed settings of a road network; they change the times, so they key the cache."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    highway_kmh: dict[str, PositiveFloat] = Field(
        default_factory=lambda: dict(UK_HIGHWAY_KMH), description="drive speed by highway type where untagged, km/h"
    )
    fallback_kmh: PositiveFloat = Field(
        default=30 * MPH,
        description="drive speed of an untagged road whose type is neither in highway_kmh nor "
        "tagged anywhere else in the file (osmnx averages the tagged ones), km/h",
    )
    drive_access_kmh: PositiveFloat = Field(
        default=20.0, description="straight line from door to road node when driving: parking and the last few metres"
    )
    walk_kmh: PositiveFloat = Field(default=4.8, le=10, description="walking pace on every way, and to the door, km/h")

    def access_kmh(self, mode: TravelMode) -> float:
        return self.walk_kmh if mode == TravelMode.walk else self.drive_access_kmh


def road_file_kind(path: Path, field: str = "roads") -> str:
    """``"xml"`` or ``"graphml"`` for a readable road file; an InputError naming ``field`` otherwise."""
    name = path.name.lower()
    if name.endswith(".pbf"):
        raise InputError(
            field,
            f"{path.name} is an OSM PBF file, which osmnx cannot read: convert it to OSM XML, "
            "keeping only the roads, for example `osmium tags-filter in.osm.pbf w/highway "
            "-o roads.osm.bz2`, or give a graph saved by osmnx as .graphml",
        )
    if name.endswith(XML_SUFFIXES):
        kind = "xml"
    elif name.endswith(GRAPHML_SUFFIXES):
        kind = "graphml"
    else:
        raise InputError(
            field,
            f"{path.name}: unsupported road file type; expected one of {', '.join(XML_SUFFIXES + GRAPHML_SUFFIXES)}",
        )
    if not path.is_file():
        raise InputError(field, f"road file {path} does not exist")
    return kind


@dataclass(frozen=True)
class RoadTimes:
    """Road travel times between ``n`` located points, in factored form.

    ``between_nodes[a, b]`` are seconds from distinct road node ``a`` to ``b``; point ``i``
    sits on node ``node[i]``, ``access[i]`` seconds away in a straight line. Points on the
    same node are timed along the straight line between them (``lat``, ``lon`` in degrees)
    at ``access_kmh``.
    """

    between_nodes: np.ndarray
    node: np.ndarray
    access: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    access_kmh: float

    def __post_init__(self) -> None:
        k, n = len(self.between_nodes), len(self.node)
        if self.between_nodes.shape != (k, k):
            raise ValueError(f"between_nodes must be square, got shape {self.between_nodes.shape}")
        if any(len(a) != n for a in (self.access, self.lat, self.lon)):
            raise ValueError("node, access, lat and lon must have one entry per point")
        if n and (self.node.min() < 0 or self.node.max() >= k):
            raise ValueError("node refers outside between_nodes")
        if not (np.isfinite(self.between_nodes).all() and np.isfinite(self.access).all() and self.access_kmh > 0):
            raise ValueError("times must be finite")

    def minutes(self) -> np.ndarray:
        """The full ``n x n`` matrix in minutes (zero diagonal), built in one gather."""
        access = self.access / 60.0
        rows = self.between_nodes[self.node] / 60.0  # n x k, then n x n: cheaper than np.ix_
        rows += access[:, None]
        matrix = np.take(rows, self.node, axis=1)
        matrix += access[None, :]
        order = np.argsort(self.node, kind="stable")
        starts = np.flatnonzero(np.diff(self.node[order], prepend=-1))
        for group in np.split(order, starts[1:]):
            if len(group) > 1:  # same node: the straight line between them is the shorter way
                lat, lon = self.lat[group], self.lon[group]
                km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
                matrix[np.ix_(group, group)] = km / self.access_kmh * 60.0
        np.fill_diagonal(matrix, 0.0)
        return matrix

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "between_nodes": self.between_nodes,
            "node": self.node,
            "access": self.access,
            "lat": self.lat,
            "lon": self.lon,
            "access_kmh": np.array(self.access_kmh),
        }

    @classmethod
    def from_arrays(cls, arrays) -> RoadTimes:
        floats = {
            name: np.asarray(arrays[name], dtype=np.float64) for name in ("between_nodes", "access", "lat", "lon")
        }
        return cls(node=np.asarray(arrays["node"], dtype=np.int64), access_kmh=float(arrays["access_kmh"]), **floats)


class RoadNetwork:
    """A routable road graph for one travel mode (see the module docstring)."""

    def __init__(self, graph, mode: TravelMode, speeds: RoadSpeeds, source: str = "roads", field: str = "roads"):
        if graph.number_of_edges() == 0:
            raise InputError(field, f"{source} has no roads usable for mode {TravelMode(mode).value!r}")
        self.graph = graph
        self.mode = TravelMode(mode)
        self.speeds = speeds
        self.source = source
        self.node_ids = np.array(list(graph.nodes), dtype=np.int64)
        self.node_lat = np.array([graph.nodes[n]["y"] for n in self.node_ids], dtype=float)
        self.node_lon = np.array([graph.nodes[n]["x"] for n in self.node_ids], dtype=float)
        self.adjacency = _adjacency(graph, self.node_ids)

    @classmethod
    def load(
        cls, path: str | Path, mode: TravelMode | str, speeds: RoadSpeeds | None = None, field: str = "roads"
    ) -> RoadNetwork:
        """Read ``path`` (never the internet) and prepare it for ``mode``."""
        import osmnx as ox

        path = Path(path)
        mode = TravelMode(mode)
        speeds = speeds or RoadSpeeds()
        kind = road_file_kind(path, field)
        ox.settings.use_cache = False  # reading a file needs no HTTP cache; do not create ./cache
        ox.settings.log_console = False
        try:
            if kind == "xml":
                graph = ox.graph_from_xml(path, bidirectional=mode == TravelMode.walk, simplify=True, retain_all=False)
            else:
                graph = ox.load_graphml(path)
        except Exception as exc:  # a truncated or clipped file surfaces as many exception types
            raise InputError(field, f"cannot read road file {path.name}: {exc}") from exc
        graph = _usable(graph, mode, speeds)
        if graph.number_of_edges():
            graph = _timed(ox.truncate.largest_component(graph, strongly=True), mode, speeds)
        return cls(graph, mode, speeds, source=path.name, field=field)

    def polylines(self) -> list[list[tuple[float, float]]]:
        """The roads as (lon, lat) polylines, each street once (for drawing maps)."""
        lines, seen = [], set()
        for u, v, data in self.graph.edges(data=True):
            if (v, u) in seen or (u, v) in seen:
                continue
            seen.add((u, v))
            if "geometry" in data:
                lines.append([(float(x), float(y)) for x, y in data["geometry"].coords])
            else:
                a, b = self.graph.nodes[u], self.graph.nodes[v]
                lines.append([(float(a["x"]), float(a["y"])), (float(b["x"]), float(b["y"]))])
        return lines

    def snap(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each point's nearest node (an index into ``node_ids``) and its distance in metres."""
        import osmnx as ox

        nearest = np.atleast_1d(ox.distance.nearest_nodes(self.graph, X=np.asarray(lon), Y=np.asarray(lat)))
        order = np.argsort(self.node_ids)
        index = order[np.searchsorted(self.node_ids, nearest, sorter=order)]
        metres = haversine_km(lat, lon, self.node_lat[index], self.node_lon[index]) * 1000.0
        return index, metres

    def times(self, lat, lon, ids: list[str] | None = None, max_snap_km: float = MAX_SNAP_KM) -> RoadTimes:
        """Travel times between the points (degrees); an InputError names a point too far from any road."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        if len(lat) == 0:
            return RoadTimes(
                np.zeros((0, 0)), np.zeros(0, dtype=np.int64), np.zeros(0), lat, lon, self.speeds.access_kmh(self.mode)
            )
        index, metres = self.snap(lat, lon)
        far = np.flatnonzero(metres > max_snap_km * 1000.0)
        if len(far):
            i = int(far[0])
            name = f"location {ids[i]!r}" if ids is not None else f"point {i}"
            more = f" ({len(far) - 1} more locations are too far too)" if len(far) > 1 else ""
            raise InputError(
                f"locations[{i}]",
                f"{name} at ({lat[i]:.5f}, {lon[i]:.5f}) is {metres[i] / 1000:.1f} "
                f"km from the nearest road of {self.source} (limit {max_snap_km:g} "
                f"km): is the road file for this area?{more}",
            )
        nodes, node = np.unique(index, return_inverse=True)
        between = np.empty((len(nodes), len(nodes)))
        for start in range(0, len(nodes), _DIJKSTRA_CHUNK):
            sources = nodes[start : start + _DIJKSTRA_CHUNK]
            between[start : start + len(sources)] = dijkstra(self.adjacency, directed=True, indices=sources)[:, nodes]
        access_kmh = self.speeds.access_kmh(self.mode)
        access = metres / 1000.0 / access_kmh * 3600.0
        return RoadTimes(between, node.astype(np.int64), access, lat, lon, access_kmh)

    def paths(self, legs: list[tuple[tuple[float, float], tuple[float, float]]]) -> list[list[tuple[float, float]]]:
        """The way along the roads of each leg ``((lat, lon) from, (lat, lon) to)``: a
        (lon, lat) polyline from the start to its nearest node, along the fastest roads
        (the ones ``times`` measures; each road's own shape where the file has one) and
        on to the end. For drawing a carer's run on a map."""
        if not legs:
            return []
        ends = np.array([point for leg in legs for point in leg], dtype=float)
        index, _ = self.snap(ends[:, 0], ends[:, 1])
        starts, stops = index[0::2], index[1::2]
        sources = np.unique(starts)
        row_of = {int(node): i for i, node in enumerate(sources)}
        _, previous = dijkstra(self.adjacency, directed=True, indices=sources, return_predecessors=True)
        lines = []
        for (a, b), first, last in zip(legs, starts, stops, strict=True):
            nodes = [int(last)]
            before = previous[row_of[int(first)]]
            while nodes[-1] != first and before[nodes[-1]] >= 0:
                nodes.append(int(before[nodes[-1]]))
            nodes.reverse()
            line = [(a[1], a[0])]
            line.append((float(self.node_lon[nodes[0]]), float(self.node_lat[nodes[0]])))
            for u, v in itertools.pairwise(nodes):
                line.extend(self._edge_shape(u, v)[1:])
            line.append((b[1], b[0]))
            lines.append(line)
        return lines

    def _edge_shape(self, u: int, v: int) -> list[tuple[float, float]]:
        """The fastest edge from node index ``u`` to ``v`` as (lon, lat) points, u first."""
        start, end = int(self.node_ids[u]), int(self.node_ids[v])
        data = min(self.graph[start][end].values(), key=lambda d: d.get("travel_time", 0.0))
        here = (float(self.node_lon[u]), float(self.node_lat[u]))
        there = (float(self.node_lon[v]), float(self.node_lat[v]))
        if "geometry" not in data:
            return [here, there]
        shape = [(float(x), float(y)) for x, y in data["geometry"].coords]
        # a walking edge added the other way round keeps its way's shape: turn it to run u -> v
        if np.hypot(shape[0][0] - here[0], shape[0][1] - here[1]) > np.hypot(
            shape[-1][0] - here[0], shape[-1][1] - here[1]
        ):
            shape.reverse()
        return [here, *shape[1:-1], there]


def _usable(graph, mode: TravelMode, speeds: RoadSpeeds):
    """The ways ``mode`` may use; when walking, every one of them both ways.

    An edge merged from several ways (osmnx lists their tags) must be usable all along.
    """
    drivable = DRIVABLE | set(speeds.highway_kmh)

    def allowed(data) -> bool:
        highways = _as_list(data.get("highway"))
        if not highways or "private" in _as_list(data.get("access")):
            return False
        if mode == TravelMode.walk:
            return not any(h in NOT_WALKABLE for h in highways)
        return all(h in drivable for h in highways) and "no" not in _as_list(data.get("access"))

    graph.remove_edges_from([(u, v, k) for u, v, k, data in graph.edges(keys=True, data=True) if not allowed(data)])
    if mode == TravelMode.walk:
        for u, v, data in list(graph.edges(data=True)):
            if not graph.has_edge(v, u):
                graph.add_edge(v, u, **data)
    return graph


def _timed(graph, mode: TravelMode, speeds: RoadSpeeds):
    """Set ``speed_kph`` and ``travel_time`` (seconds) on every edge for ``mode``."""
    import networkx as nx
    import osmnx as ox

    if mode == TravelMode.walk:
        nx.set_edge_attributes(graph, speeds.walk_kmh, "speed_kph")
    else:
        graph = ox.add_edge_speeds(graph, hwy_speeds=dict(speeds.highway_kmh), fallback=speeds.fallback_kmh)
    return ox.add_edge_travel_times(graph)


def _adjacency(graph, node_ids: np.ndarray) -> csr_matrix:
    """Sparse seconds from node to node, the fastest of any parallel edges."""
    position = {n: i for i, n in enumerate(node_ids.tolist())}
    edges = [(position[u], position[v], t) for u, v, t in graph.edges(data="travel_time")]
    n = len(node_ids)
    if not edges:
        return csr_matrix((n, n))
    u, v, seconds = (np.array(column) for column in zip(*edges, strict=True))
    seconds = np.maximum(seconds.astype(float), _MIN_EDGE_SECONDS)
    order = np.lexsort((seconds, v, u))  # fastest first within each (u, v)
    u, v, seconds = u[order], v[order], seconds[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return csr_matrix((seconds[first], (u[first], v[first])), shape=(n, n))  # csr would *sum* duplicates


def _as_list(value) -> list:
    """osmnx keeps a list of tags on an edge merged from several ways, a single tag otherwise."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
