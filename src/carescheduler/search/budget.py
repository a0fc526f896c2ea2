"""How long an insertion may go on, and who hears from it while it does.

A solve's time limit and a service's cancel must hold inside every phase, the first
plan included: on a day of long routes or a hundred thousand visits, putting every
visit in once takes far longer than the limit. An insertion given a budget stops
placing visits when its time is up (they stay unassigned, counted as untried) and calls
``report`` now and then, which may raise to cancel the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["REPORT_SECONDS", "Budget"]

REPORT_SECONDS = 0.25
"""The least time between two calls of a budget's ``report``."""


@dataclass
class Budget:
    """``stop_at`` is a ``time.monotonic()`` value (None: no limit); ``report`` is called
    at most every ``every`` seconds from ``step``; ``untried`` collects the visits an
    insertion did not get to before ``stop_at``."""

    stop_at: float | None = None
    report: Callable[[], None] | None = None
    every: float = REPORT_SECONDS
    untried: set[int] = field(default_factory=set)
    _last: float = field(default=0.0, repr=False)

    def spent(self) -> bool:
        """Whether the time is up (checks the clock)."""
        return self.stop_at is not None and time.monotonic() >= self.stop_at

    def step(self) -> bool:
        """After a unit of work: report if it is time to, and say whether to go on."""
        now = time.monotonic()
        if self.report is not None and now - self._last >= self.every:
            self._last = now
            self.report()
        return self.stop_at is None or now < self.stop_at
