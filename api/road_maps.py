"""The road networks the board draws carers' runs along, read once per process in the
background: an OpenStreetMap extract takes seconds to read, and no request should wait
for it (until it is read, runs are drawn straight from stop to stop)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from carescheduler.travel.roads import RoadNetwork

log = logging.getLogger(__name__)


class RoadMaps:
    """The networks named in the settings (``road_files``: mode -> file), by mode."""

    def __init__(self, files: Mapping[str, str]):
        self._files = {mode: Path(path) for mode, path in files.items()}
        self._networks: dict[str, RoadNetwork] = {}
        self._ready = threading.Event()
        self.error: str | None = None
        if not self._files:
            self._ready.set()

    def start(self) -> None:
        if not self._ready.is_set():
            threading.Thread(target=self._read, name="road-maps", daemon=True).start()

    def _read(self) -> None:
        try:
            for mode, path in self._files.items():
                self._networks[mode] = RoadNetwork.load(path, mode)
        except Exception as error:  # a map is a nicety: the board goes on without it
            self.error = f"{type(error).__name__}: {error}"
            log.warning("road networks for the board not read: %s", self.error)
        finally:
            self._ready.set()

    @property
    def configured(self) -> bool:
        return bool(self._files)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def networks(self) -> dict[str, RoadNetwork]:
        """The networks read so far ({} until all are read, or if reading failed)."""
        return dict(self._networks) if self._ready.is_set() and self.error is None else {}
