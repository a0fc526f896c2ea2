"""A disk cache of road travel times, so a replan never recomputes a matrix.

An entry is keyed by everything that shapes the times: the road file's *contents* (not
its name or date), the travel mode, the speed settings and the locations' coordinates
rounded to 1e-6 degree (about 0.1 m). An entry is one ``.npz`` file of the factored
times (``RoadTimes.arrays()``), stored uncompressed: travel times compress by only
about 6%, and compressing a 5,000-location entry (15 MB) took 0.7 s against 0.04 s.
A damaged or unreadable entry counts as missing and is rewritten; a cache folder that
cannot be written only costs the saving.

The folder is ``cache_dir`` when given, else ``$CARESCHEDULER_CACHE``, else
``~/.cache/carescheduler``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["COORDINATE_DECIMALS", "MatrixCache", "default_cache_dir", "file_digest", "road_times_key"]

COORDINATE_DECIMALS = 6
"""Coordinates are rounded to this many decimals of a degree (about 0.1 m) for the key."""

_FORMAT = "road-times-1"  # bump when the stored arrays or how they are computed change


def default_cache_dir() -> Path:
    env = os.environ.get("CARESCHEDULER_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "carescheduler"


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: the same roads under another name share entries."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rounded(degrees) -> np.ndarray:
    """Coordinates as the cache sees them; computing from these makes a hit exact."""
    return np.round(np.asarray(degrees, dtype=float), COORDINATE_DECIMALS)


def road_times_key(roads_digest: str, mode: str, settings: dict, lat, lon) -> str:
    """The cache key of road times (coordinates are rounded here, see ``rounded``)."""
    digest = hashlib.sha256()
    header = {"format": _FORMAT, "roads": roads_digest, "mode": mode, "settings": settings}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for column in (lat, lon):
        micro = np.rint(rounded(column) * 10**COORDINATE_DECIMALS).astype("<i8")
        digest.update(micro.tobytes())
    return digest.hexdigest()


class MatrixCache:
    """Named arrays on disk, one ``.npz`` file per key."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``key``, or None when absent or unreadable."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
            return None

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Store atomically (a reader never sees half a file); a failure only warns."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".npz")
            try:
                with os.fdopen(handle, "wb") as f:
                    # numpy's stubs fear a key named allow_pickle; the names here are array names
                    np.savez(f, **arrays)  # type: ignore[arg-type]
                os.replace(temporary, self.path(key))
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
        except OSError as exc:
            warnings.warn(f"could not write the travel-time cache in {self.folder}: {exc}", stacklevel=2)
