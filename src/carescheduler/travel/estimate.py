"""Travel times estimated from coordinates, for modes that have no matrix.

Geographic coordinates give straight-line (great-circle) distance times a detour factor
at a door-to-door average speed (``Problem.travel_estimate``); planar x/y coordinates
(benchmark data) give plain Euclidean distance, taken as minutes. Either way the times
are a guess, so plans say so (``KPIs.travel_estimated``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..domain import Location, Problem, TravelEstimate, TravelMatrix, TravelMode
from ..errors import InputError

__all__ = [
    "DETOUR_FACTOR",
    "EARTH_RADIUS_KM",
    "SPEED_KMH",
    "PlaceCoordinates",
    "estimate_matrix",
    "estimate_new_places",
    "estimate_times",
    "grow_travel",
    "haversine_km",
]

_DEFAULTS = TravelEstimate()

DETOUR_FACTOR = _DEFAULTS.detour_factor
"""Default road distance over straight-line distance (``TravelEstimate.detour_factor``)."""

SPEED_KMH = {TravelMode.drive: _DEFAULTS.drive_kmh, TravelMode.walk: _DEFAULTS.walk_kmh}
"""Default door-to-door speeds per mode (``TravelEstimate.drive_kmh`` and ``walk_kmh``)."""

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the usual choice for great-circle distances."""


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (numpy broadcasting)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def estimate_matrix(problem: Problem, mode: TravelMode) -> np.ndarray:
    """The estimated ``n x n`` travel-minute matrix for ``mode`` over ``problem.locations``
    (read-only).

    The last few are kept, keyed by the coordinates and the estimate's settings: on a
    council day (thousands of places) a matrix takes a fifth of a second, and replanning
    asks for the same ones several times (applying events, then compiling the day)."""
    key = _estimate_key(problem, mode)
    with _lock:
        if key in _estimated:
            _estimated.move_to_end(key)
            return _estimated[key]
    everywhere = range(len(problem.locations))
    minutes = estimate_times(problem, mode, everywhere, everywhere)
    minutes.flags.writeable = False
    with _lock:
        _estimated[key] = minutes
        while len(_estimated) > _KEEP:
            _estimated.popitem(last=False)
    return minutes


_KEEP = 4
_estimated: OrderedDict[bytes, np.ndarray] = OrderedDict()
_lock = threading.Lock()


def _estimate_key(problem: Problem, mode: TravelMode) -> bytes:
    coordinates = np.array(
        [(x.lat, x.lon, x.x, x.y) for x in problem.locations], dtype=float
    )  # None becomes nan: part of the key
    settings = problem.travel_estimate
    digest = hashlib.blake2b(coordinates.tobytes(), digest_size=20)
    digest.update(f"{TravelMode(mode).value}:{settings.model_dump_json()}".encode())
    return digest.digest()


@dataclass(frozen=True)
class PlaceCoordinates:
    """The places' coordinates as arrays, read once from the locations: a council day has
    thousands of places, and a recommendation for a new client estimates four times.
    ``geographic``: lat/lon (True), planar x/y (False), or None when a place has neither."""

    geographic: bool | None
    a: np.ndarray
    b: np.ndarray

    @classmethod
    def of(cls, locations: list[Location]) -> PlaceCoordinates:
        if all(x.lat is not None and x.lon is not None for x in locations):
            return cls(True, _floats(x.lat for x in locations), _floats(x.lon for x in locations))
        if all(x.x is not None and x.y is not None for x in locations):
            return cls(False, _floats(x.x for x in locations), _floats(x.y for x in locations))
        return cls(None, np.empty(0), np.empty(0))

    def plus(self, locations: list[Location]) -> PlaceCoordinates:
        """These places followed by ``locations``."""
        new = PlaceCoordinates.of(locations)
        if self.geographic is None or new.geographic is not self.geographic:
            return PlaceCoordinates(None, np.empty(0), np.empty(0))
        return PlaceCoordinates(self.geographic, np.concatenate([self.a, new.a]), np.concatenate([self.b, new.b]))


def _floats(values) -> np.ndarray:
    return np.array(list(values), dtype=float)


def _indices(values) -> np.ndarray:
    if isinstance(values, range):  # the usual case, and much faster than a list
        return np.arange(values.start, values.stop, values.step, dtype=np.int64)
    return np.asarray(list(values), dtype=np.int64)


def estimate_times(
    problem: Problem, mode: TravelMode, sources, targets, places: PlaceCoordinates | None = None
) -> np.ndarray:
    """Estimated travel minutes from ``problem.locations[i]`` for i in ``sources`` to each
    of ``targets`` (index sequences), so a few new places need not cost a whole matrix.
    ``places``: the locations' coordinates when the caller has them already."""
    places = PlaceCoordinates.of(problem.locations) if places is None else places
    sources, targets = _indices(sources), _indices(targets)
    a, b = places.a, places.b
    if places.geographic:
        km = haversine_km(a[sources, None], b[sources, None], a[None, targets], b[None, targets])
        settings = problem.travel_estimate
        return km * settings.detour_factor / settings.speed_kmh(mode) * 60.0
    if places.geographic is False:
        return np.hypot(a[sources, None] - a[None, targets], b[sources, None] - b[None, targets])
    raise ValueError(f"no travel matrix for mode {mode.value!r} and locations lack coordinates")


def estimate_new_places(
    problem: Problem, mode: TravelMode, given: np.ndarray, places: PlaceCoordinates | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Travel minutes to and from places appended to ``problem.locations`` after the
    ``given`` matrix's: (rows from the new places to all, columns from all to the new).

    Estimated from coordinates and scaled by how the given times compare with the
    estimates among the known places nearest the new ones, so that a new client
    lands on the scale of the road times the day already has. ``places``: the
    locations' coordinates when the caller has them already.
    """
    places = PlaceCoordinates.of(problem.locations) if places is None else places
    n_old, n = given.shape[0], len(problem.locations)
    new, everywhere = range(n_old, n), range(n)
    rows = estimate_times(problem, mode, new, everywhere, places)
    rows *= _calibration(problem, mode, given, rows[:, :n_old], places)
    return rows, rows.T.copy()  # the estimate is the same either way


def _calibration(
    problem: Problem,
    mode: TravelMode,
    given: np.ndarray,
    to_known: np.ndarray,
    places: PlaceCoordinates,
    nearest: int = 30,
) -> float:
    """Given over estimated time among the known places nearest the new ones (1 when
    that cannot tell). ``to_known``: the estimates from the new places to the known."""
    n_old = given.shape[0]
    if n_old < 2:
        return 1.0
    near = np.unique(np.argsort(to_known, axis=1)[:, :nearest])
    guess = estimate_times(problem, mode, near, near, places)
    mask = guess > 1e-6
    return float(np.median(given[np.ix_(near, near)][mask] / guess[mask])) if mask.any() else 1.0


def grow_travel(problem: Problem, locations: list[Location]) -> list[TravelMatrix]:
    """``problem``'s travel matrices grown for ``locations`` (the problem's own, then new
    ones): the known times kept, the new places' rows and columns estimated and
    calibrated to the times the day already has near them (``estimate_new_places``)."""
    n_old, n = len(problem.locations), len(locations)
    if n == n_old or not problem.travel:
        return list(problem.travel)
    for location in locations[n_old:]:
        if not location.has_coordinates():
            raise InputError(
                "location",
                f"new location {location.id!r} needs lat/lon (or x/y) to estimate "
                "travel times to the day's other places",
            )
    for i, location in enumerate(problem.locations):
        if not location.has_coordinates():
            raise InputError(
                f"locations[{i}]",
                f"location {location.id!r} has no coordinates, so travel to the new places cannot be estimated",
            )
    grown = problem.model_copy(update={"locations": locations})
    places = PlaceCoordinates.of(locations)  # read once for every mode
    matrices = []
    for matrix in problem.travel:
        given = np.asarray(matrix.minutes, dtype=float)
        rows, columns = estimate_new_places(grown, matrix.mode, given, places)
        full = np.empty((n, n))
        full[:n_old, :n_old] = given
        full[n_old:, :] = rows
        full[:, n_old:] = columns
        matrices.append(TravelMatrix(mode=matrix.mode, minutes=full, estimated=matrix.estimated))
    return matrices
