"""Street addresses for generated days: on the named streets of a road file, or made up.

A home on real roads is given a house number on the nearest *named* street of the road
graph (an edge with a ``name`` tag), and the name of the nearest town or village when
the file carries place nodes (``place=city|town|village|suburb|hamlet``; road files cut
to highways usually do not). A day without roads gets ordinary made-up English street
names, one per few hundred metres, so neighbours share a street.

House numbers and made-up names are drawn from the random stream of the day's people
(``people.People``), never from the stream that places the visits.
"""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol
from xml.etree.ElementTree import iterparse

import numpy as np
from numpy.typing import ArrayLike

from ..domain import Location

__all__ = ["MadeUpStreets", "RoadStreets", "Streets", "set_addresses"]

PLACE_KINDS = frozenset({"city", "town", "village", "suburb", "hamlet"})
"""OSM ``place`` values that name where a home is (not localities, farms or fields)."""
PLACE_KM = 4.0
"""A place node farther than this from a home does not name it."""
SAMPLE_KM = 0.015
"""Streets are looked up on points this far apart along each named road."""
MADE_UP_CELL_KM = 0.3
"""A made-up street covers a square of about this side."""
HOUSE_NUMBERS = 120
"""House numbers are drawn from 1 to this (distinct on a street while they last)."""

STEMS = (
    "Church", "Mill", "Station", "Victoria", "Albert", "Park", "Chapel", "Oak", "Elm", "Beech",
    "Willow", "Meadow", "Orchard", "Brook", "Bridge", "Market", "School", "Green", "Manor",
    "Rectory", "Vicarage", "Farm", "Westfield", "Highfield", "Springfield", "Windsor", "York",
    "Nelson", "Wellington", "Hawthorn", "Holly", "Ash", "Cedar", "Poplar", "Rose", "Primrose",
    "Heather", "Fern", "Kingsley", "Queens", "Grange", "Priory", "Hollow", "Sandy", "Castle",
)  # fmt: skip
SUFFIXES = (
    "Road", "Street", "Lane", "Close", "Avenue", "Drive", "Way", "Crescent", "Gardens",
    "Terrace", "Grove", "Court", "Place", "View",
)  # fmt: skip


class Streets(Protocol):
    """Where a point is: the street and, if known, the town or village of each point."""

    def at(self, lon: np.ndarray, lat: np.ndarray) -> list[tuple[str, str | None]]: ...


def _planar_km(lon: ArrayLike, lat: ArrayLike, lat0: float) -> np.ndarray:
    """Kilometres east and north on a plane touching the earth at latitude ``lat0``."""
    return np.column_stack([np.asarray(lon) * 111.32 * math.cos(math.radians(lat0)), np.asarray(lat) * 110.574])


class RoadStreets:
    """The named streets (and places) of a road network, looked up by position."""

    def __init__(self, lines: Sequence[tuple[str, np.ndarray]], places: Sequence[tuple[str, float, float]] = ()):
        """``lines``: (street name, (k, 2) array of lon, lat along it); ``places``: (name, lon, lat)."""
        from scipy.spatial import cKDTree  # type: ignore[import-untyped, unused-ignore]  # scipy-stubs may be missing

        if not lines:
            raise ValueError("lines: no named street to take addresses from")
        self._lat0 = float(np.mean(np.concatenate([coords[:, 1] for _, coords in lines])))
        points, names = [], []
        for name, coords in lines:
            xy = _planar_km(coords[:, 0], coords[:, 1], self._lat0)
            for a, b in itertools.pairwise(xy):
                steps = max(1, math.ceil(float(np.hypot(*(b - a))) / SAMPLE_KM))
                points.append(a + np.linspace(0.0, 1.0, steps + 1)[:, None] * (b - a))
                names.extend([name] * (steps + 1))
        self._names = names
        self._tree = cKDTree(np.vstack(points))
        self._places = [name for name, _, _ in places]
        self._place_tree = (
            cKDTree(_planar_km([p[1] for p in places], [p[2] for p in places], self._lat0)) if places else None
        )

    @classmethod
    def of_network(cls, network, road_file: str | Path | None = None) -> RoadStreets | None:
        """The named edges of ``network`` (``travel.roads.RoadNetwork``) and the place nodes of
        ``road_file`` (OSM XML only); None when no edge has a name."""
        graph = network.graph
        lines = []
        for u, v, data in graph.edges(data=True):
            name = _street_name(data.get("name"))
            if name is None:
                continue
            if "geometry" in data:
                coords = np.asarray(data["geometry"].coords, dtype=float)
            else:
                coords = np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in (u, v)], dtype=float)
            lines.append((name, coords))
        if not lines:
            return None
        return cls(lines, place_nodes(road_file) if road_file is not None else [])

    def at(self, lon: np.ndarray, lat: np.ndarray) -> list[tuple[str, str | None]]:
        xy = _planar_km(lon, lat, self._lat0)
        _, nearest = self._tree.query(xy)
        streets = [self._names[int(i)] for i in np.atleast_1d(nearest)]
        places: list[str | None] = [None] * len(streets)
        if self._place_tree is not None:
            km, which = (np.atleast_1d(a) for a in self._place_tree.query(xy))
            places = [self._places[int(i)] if d <= PLACE_KM else None for d, i in zip(km, which, strict=True)]
        return list(zip(streets, places, strict=True))


def _street_name(value) -> str | None:
    """An edge's street name; an edge osmnx merged from differently named ways lists them
    in no fixed order, so the first in alphabetical order stands for all."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        names = sorted(str(v).strip() for v in value if str(v).strip())
        return names[0] if names else None
    return None


def place_nodes(road_file: str | Path) -> list[tuple[str, float, float]]:
    """The towns and villages of an OSM XML file as (name, lon, lat); none from GraphML."""
    path = Path(road_file)
    name = path.name.lower()
    if not name.endswith((".osm", ".xml", ".osm.bz2", ".xml.bz2", ".osm.gz", ".xml.gz")):
        return []
    out = []
    with _open(path) as stream:
        for _, element in iterparse(stream):
            if element.tag == "node":
                tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                if tags.get("place") in PLACE_KINDS and tags.get("name"):
                    out.append((str(tags["name"]), float(element.get("lon", "nan")), float(element.get("lat", "nan"))))
                element.clear()
            elif element.tag in ("way", "relation"):
                element.clear()
    return [p for p in out if math.isfinite(p[1]) and math.isfinite(p[2])]


def _open(path: Path) -> io.BufferedIOBase:
    if path.name.lower().endswith(".bz2"):
        return bz2.open(path, "rb")
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


class MadeUpStreets:
    """Ordinary English street names for a day without roads: one per square of
    ``MADE_UP_CELL_KM``, each name used once while there are unused ones."""

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        self._cells: dict[tuple[int, int], str] = {}
        self._unused = [f"{stem} {suffix}" for stem in STEMS for suffix in SUFFIXES]

    def at(self, lon: np.ndarray, lat: np.ndarray) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        for x, y in zip(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), strict=True):
            east = x * 111.32 * math.cos(math.radians(y))
            cell = (math.floor(east / MADE_UP_CELL_KM), math.floor(y * 110.574 / MADE_UP_CELL_KM))
            if cell not in self._cells:
                if not self._unused:
                    self._unused = [f"{stem} {suffix}" for stem in STEMS for suffix in SUFFIXES]
                self._cells[cell] = self._unused.pop(int(self._rng.integers(len(self._unused))))
            out.append((self._cells[cell], None))
        return out


def set_addresses(locations: list[Location], streets: Streets, rng: np.random.Generator) -> None:
    """Give each located place a street address: ``"12 Mill Lane"`` or ``"12 Mill Lane, Vaduz"``."""
    located = [x for x in locations if x.lat is not None and x.lon is not None]
    if not located:
        return
    found = streets.at(np.array([x.lon for x in located]), np.array([x.lat for x in located]))
    taken: dict[str, set[int]] = {}
    for location, (street, place) in zip(located, found, strict=True):
        numbers = taken.setdefault(f"{street}, {place}", set())
        number = int(rng.integers(1, HOUSE_NUMBERS + 1))
        if number in numbers:  # a neighbour has it: the next free number along the street
            number = next(n for n in range(1, len(numbers) + 2) if n not in numbers)
        numbers.add(number)
        location.address = f"{number} {street}" + (f", {place}" if place else "")
