"""Travel times between a problem's locations, per travel mode.

A problem normally carries its matrices: from a road network (``road_travel`` fills them
from an OpenStreetMap file, see ``roads``) or from a benchmark file. When a mode has
none, the times are estimated from coordinates (``estimate``) and flagged, so plans can
say their travel is approximate.

    problem = road_travel(problem, {"drive": "area.drive.osm.bz2", "walk": "area.drive_service.osm.bz2"})

The road modules (osmnx, scipy) are imported only when roads are used: solving a problem
that already has its matrices does not pay for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..domain import Problem, TravelMatrix, TravelMode
from ..errors import InputError
from .estimate import DETOUR_FACTOR, SPEED_KMH, estimate_matrix

if TYPE_CHECKING:
    from .roads import RoadSpeeds, RoadTimes

__all__ = ["DETOUR_FACTOR", "SPEED_KMH", "estimated_modes", "road_matrix", "road_travel", "travel_matrix"]


def travel_matrix(problem: Problem, mode: TravelMode) -> np.ndarray:
    """The ``n x n`` travel-minute matrix for ``mode`` over ``problem.locations``.

    A matrix given as an array is returned as it is (read-only), not copied.
    """
    for matrix in problem.travel:
        if matrix.mode == mode:
            return np.asarray(matrix.minutes, dtype=float)
    return estimate_matrix(problem, mode)


def estimated_modes(problem: Problem) -> set[TravelMode]:
    """Modes used by some carer whose travel times are estimated rather than given."""
    given = {m.mode for m in problem.travel if not m.estimated}
    return {c.travel_mode for c in problem.carers} - given


def road_matrix(
    roads_file: str | Path,
    mode: TravelMode | str,
    lat: Sequence[float],
    lon: Sequence[float],
    *,
    ids: Sequence[str] | None = None,
    speeds: RoadSpeeds | None = None,
    cache_dir: str | Path | None = None,
    max_snap_km: float | None = None,
    field: str = "roads",
) -> np.ndarray:
    """Road travel minutes between points (degrees) for ``mode``, from the cache when it has them.

    ``speeds`` is a ``roads.RoadSpeeds`` (UK-style defaults when None) and
    ``max_snap_km`` how far a point may lie from the roads (``roads.MAX_SNAP_KM`` when
    None); errors name ``field`` for the file and ``locations[i]`` (with ``ids[i]``) for
    a point.
    """
    from .cache import MatrixCache, file_digest, road_times_key, rounded
    from .roads import MAX_SNAP_KM, RoadNetwork, RoadSpeeds, road_file_kind

    path, mode = Path(roads_file), TravelMode(mode)
    speeds = speeds if speeds is not None else RoadSpeeds()
    lats, lons = rounded(lat), rounded(lon)
    if lats.shape != lons.shape or lats.ndim != 1:
        raise ValueError(f"lat and lon must be two lists of equal length, got shapes {lats.shape} and {lons.shape}")
    road_file_kind(path, field)
    cache = MatrixCache(cache_dir)
    key = road_times_key(file_digest(path), mode.value, speeds.model_dump(), lats, lons)
    times = _sound_entry(cache.load(key), lats, lons)
    if times is None:
        network = RoadNetwork.load(path, mode, speeds, field=field)
        times = network.times(
            lats,
            lons,
            ids=list(ids) if ids is not None else None,
            max_snap_km=MAX_SNAP_KM if max_snap_km is None else max_snap_km,
        )
        cache.save(key, times.arrays())
    return times.minutes()


def road_travel(
    problem: Problem,
    roads: str | Path | Mapping[TravelMode | str, str | Path],
    cache_dir: str | Path | None = None,
    *,
    speeds: RoadSpeeds | None = None,
    max_snap_km: float | None = None,
) -> Problem:
    """A copy of ``problem`` with a road travel matrix for each mode its carers use.

    ``roads`` is one road file for every mode or a file per mode (``{"drive": ...,
    "walk": ...}``); a mode it leaves out keeps its given matrix or is estimated (and
    flagged). Every location needs ``lat``/``lon``. The walking pace is the problem's
    ``travel_estimate.walk_kmh`` unless ``speeds`` (a ``roads.RoadSpeeds``) says otherwise.
    """
    from .roads import RoadSpeeds

    files = _road_files(roads, [m for m in TravelMode if any(c.travel_mode == m for c in problem.carers)])
    if not files:
        return problem.model_copy()
    lat: list[float] = []
    lon: list[float] = []
    for i, location in enumerate(problem.locations):
        if location.lat is None or location.lon is None:
            raise InputError(
                f"locations[{i}]",
                f"location {location.id!r} has no lat/lon; road travel times need "
                "the WGS84 coordinates of every location",
            )
        lat.append(location.lat)
        lon.append(location.lon)
    if speeds is None:
        speeds = RoadSpeeds(walk_kmh=problem.travel_estimate.walk_kmh)
    ids = [x.id for x in problem.locations]
    computed = {
        mode: TravelMatrix(
            mode=mode,
            minutes=road_matrix(
                path, mode, lat, lon, ids=ids, speeds=speeds, cache_dir=cache_dir, max_snap_km=max_snap_km, field=field
            ),
        )
        for mode, (path, field) in files.items()
    }
    travel = [m for m in problem.travel if m.mode not in computed] + list(computed.values())
    return Problem.model_validate({**dict(problem), "travel": travel})


def _sound_entry(stored: dict[str, np.ndarray] | None, lat: np.ndarray, lon: np.ndarray) -> RoadTimes | None:
    """The cached times if the entry is whole and for exactly these points; None: recompute."""
    from .roads import RoadTimes

    if stored is None:
        return None
    try:
        times = RoadTimes.from_arrays(stored)
    except (KeyError, TypeError, ValueError):
        return None
    return times if np.array_equal(times.lat, lat) and np.array_equal(times.lon, lon) else None


def _road_files(roads, modes: list[TravelMode]) -> dict[TravelMode, tuple[Path, str]]:
    """The road file (and the field naming it in errors) of each needed mode."""
    if isinstance(roads, (str, Path)):
        return {mode: (Path(roads), "roads") for mode in modes}
    files = {}
    for name, path in roads.items():
        try:
            mode = TravelMode(name)
        except ValueError:
            raise InputError(
                f"roads[{name!r}]",
                f"unknown travel mode {name!r} (expected one of {', '.join(m.value for m in TravelMode)})",
            ) from None
        if mode in modes:
            files[mode] = (Path(path), f"roads[{mode.value!r}]")
    return dict(sorted(files.items(), key=lambda item: list(TravelMode).index(item[0])))
