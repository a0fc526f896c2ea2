"""Who visited whom, and when: the history continuity of care is taken from.

A client who saw the same few carers over the last weeks should keep seeing them. The
organisation already knows who that was: its published plans said who was sent, and the
carers' check-ins say who came. ``CareHistory`` gathers both (the service fills it from
its published plans and check-in events) and answers, for a client, the carers of recent
weeks, most visits first.

Where a visit was checked in, the check-in counts and the plan's carer for that visit
does not (someone else may have gone); a visit nobody checked in counts as planned.
Publishing a date again replaces what its earlier plan said.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from ..plan import Plan, natural_key

__all__ = ["CareHistory"]


class CareHistory:
    """Visits done (checked in) or sent (published), per client and date."""

    def __init__(self) -> None:
        # client -> date -> visit -> carers the published plan sent
        self._planned: dict[str, dict[dt.date, dict[str, set[str]]]] = {}
        # date -> clients a published plan of that date names (to replace it when republished)
        self._planned_clients: dict[dt.date, set[str]] = {}
        # client -> date -> [(visit or None, carer)] checked in
        self._checked: dict[str, dict[dt.date, list[tuple[str | None, str]]]] = {}
        # client -> date -> visits per carer, counted once asked (a week's planning asks
        # for every client on every day: thousands of times over the same dates)
        self._counted: dict[str, dict[dt.date, Counter[str]]] = {}

    def add_plan(self, date: dt.date, plan: Plan) -> None:
        """The published plan of ``date``: each carer-visit of its routes counts."""
        for client in self._planned_clients.pop(date, set()):
            self._planned[client].pop(date, None)
            self._counted.get(client, {}).pop(date, None)
        clients: set[str] = set()
        for route in plan.routes:
            for planned in route.visits:
                by_visit = self._planned.setdefault(planned.client, {}).setdefault(date, {})
                by_visit.setdefault(planned.visit, set()).add(route.carer)
                clients.add(planned.client)
                self._counted.get(planned.client, {}).pop(date, None)
        self._planned_clients[date] = clients

    def add_visit(self, date: dt.date, carer: str, client: str, visit: str | None = None) -> None:
        """A check-in: ``carer`` visited ``client`` on ``date`` (for ``visit``, if known,
        which then no longer counts for the carer the plan sent)."""
        self._checked.setdefault(client, {}).setdefault(date, []).append((visit, carer))
        self._counted.get(client, {}).pop(date, None)

    def visits(self, client: str, date: dt.date) -> list[tuple[str | None, str]]:
        """(visit, carer) of each visit to ``client`` on ``date`` that counts."""
        checked = self._checked.get(client, {}).get(date, [])
        done = {visit for visit, _ in checked if visit is not None}
        planned = self._planned.get(client, {}).get(date, {})
        counted = list(checked)
        for visit, carers in planned.items():
            if visit not in done:
                counted.extend((visit, carer) for carer in sorted(carers))
        return counted

    def recent_carers(self, client: str, before: dt.date, weeks: int) -> list[str]:
        """The carers who visited ``client`` in the ``weeks`` weeks before ``before``
        (not on it): most visits first, then the most recently seen."""
        if weeks <= 0:
            return []
        since = before - dt.timedelta(weeks=weeks)
        dates = set(self._planned.get(client, {})) | set(self._checked.get(client, {}))
        counted = self._counted.setdefault(client, {})
        count: Counter[str] = Counter()
        last: dict[str, dt.date] = {}
        for date in dates:
            if not since <= date < before:
                continue
            if date not in counted:
                counted[date] = Counter(carer for _, carer in self.visits(client, date))
            for carer, visits in counted[date].items():
                count[carer] += visits
                if last.get(carer, date) <= date:
                    last[carer] = date
        return sorted(count, key=lambda carer: (-count[carer], -last[carer].toordinal(), natural_key(carer)))
