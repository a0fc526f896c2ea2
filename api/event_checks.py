"""Events checked against the day as it stands when they are posted.

A bad event (an unknown carer, a visit already started being cancelled, a check-in
stamped in the future) is refused to whoever sent it, at once, with the event's index
and field; nothing is recorded. Checking means applying the day's pending events and
the new ones to the published plan with the library (``refused_events``), at the
service's clock: what the replan will do, so an accepted event is one the replan can
apply. Pending events the day now refuses (time has passed since they came) are the
replan's to reject; they never count against the new ones.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from carescheduler import InputError, Plan
from carescheduler.day.apply import refused_events
from carescheduler.plan import format_minutes

from . import store
from .cache import plan_of
from .models import Day

STAMPS = {"check_in": "at", "check_out": "at"}
"""Event types stamped by a phone's clock, and the field holding the stamp."""


def on_service_clock(payloads: list[dict], now: float, drift: float) -> list[dict]:
    """``payloads`` with phone time stamps checked against the service's clock ``now``:
    a stamp up to ``drift`` minutes ahead is taken as now (the phone's clock runs fast), a
    later one is refused (``InputError`` naming the event and field)."""
    out = []
    for i, payload in enumerate(payloads):
        name = STAMPS.get(payload.get("type", ""))
        stamp = payload.get(name) if name else None
        if isinstance(stamp, int | float) and stamp > now:
            if stamp > now + drift:
                raise InputError(
                    f"events[{i}].{name}",
                    f"{format_minutes(stamp)} is later than the service's clock ({format_minutes(now)}) by more "
                    f"than the {drift:g} minutes a phone's clock may be ahead: check the phone's time",
                )
            payload = {**payload, name: now}
        out.append(payload)
    return out


def check_events(session: Session, day: Day, payloads: list[dict], now: float) -> None:
    """Raise ``InputError`` (field ``events[i]...``, ``i`` among ``payloads``) for the first
    new event the day refuses after its pending ones, at ``now``."""
    problem = store.day_problem(day)
    row = store.published(session, day)
    plan = plan_of(row) if row is not None else Plan()
    pending = [event.payload for event in store.pending_events(session, day)]
    for refusal in refused_events(problem, plan, [*pending, *payloads], now):
        if refusal.index >= len(pending):
            field = re.sub(r"^events\[\d+\]", f"events[{refusal.index - len(pending)}]", refusal.error.field)
            raise InputError(field, refusal.error.reason)
