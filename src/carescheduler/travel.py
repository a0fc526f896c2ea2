"""Travel times between a problem's locations, per travel mode.

A problem normally carries its matrices (from a road network or a benchmark file). When
a mode has none, the times are estimated from coordinates: straight-line distance times
a detour factor at a typical speed for geographic coordinates, or plain Euclidean
distance (in minutes) for planar benchmark coordinates. Estimated matrices are flagged
so plans can say their travel is approximate.
"""

from __future__ import annotations

import numpy as np

from .domain import Problem, TravelMode

__all__ = ["DETOUR_FACTOR", "SPEED_KMH", "estimated_modes", "travel_matrix"]

DETOUR_FACTOR = 1.3
"""Road distance over straight-line distance, a common rule of thumb for mixed areas."""

SPEED_KMH = {TravelMode.drive: 30.0, TravelMode.walk: 4.8}
"""Door-to-door average speeds used when a matrix has to be estimated."""

_EARTH_RADIUS_KM = 6371.0088


def travel_matrix(problem: Problem, mode: TravelMode) -> np.ndarray:
    """The ``n x n`` travel-minute matrix for ``mode`` over ``problem.locations``."""
    for matrix in problem.travel:
        if matrix.mode == mode:
            return np.asarray(matrix.minutes, dtype=float)
    return _estimate(problem, mode)


def estimated_modes(problem: Problem) -> set[TravelMode]:
    """Modes used by some carer whose travel times are estimated rather than given."""
    given = {m.mode for m in problem.travel if not m.estimated}
    return {c.travel_mode for c in problem.carers} - given


def _estimate(problem: Problem, mode: TravelMode) -> np.ndarray:
    locations = problem.locations
    if all(x.lat is not None and x.lon is not None for x in locations):
        lat = np.radians([x.lat for x in locations])
        lon = np.radians([x.lon for x in locations])
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
        km = 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        return km * DETOUR_FACTOR / SPEED_KMH[mode] * 60.0
    if all(x.x is not None and x.y is not None for x in locations):
        x = np.array([p.x for p in locations], dtype=float)
        y = np.array([p.y for p in locations], dtype=float)
        return np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    raise ValueError(f"no travel matrix for mode {mode.value!r} and locations lack coordinates")

