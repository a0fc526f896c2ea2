"""Edits of one day's problem a carer, client, visit or place at a time, as a
coordinator's screen makes them before the day is planned (or before the next replan).

Each edit returns a new ``Problem`` that has passed every rule of the whole problem
(references, skills, travel sizes), or raises ``InputError`` naming the entity and the
reason; the problem given is never changed. A new place gets travel times estimated
from its coordinates and calibrated to the day's own times nearby; removing something
that others still refer to is refused with what refers to it, rather than silently
dropping those references.

Changes during a live day (absences, late arrivals, new clients at noon) are events
(``carescheduler.day.apply``): they also keep what has already happened.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import ValidationError

from ..domain import Carer, Client, Location, Problem, Visit
from ..errors import InputError, describe_validation_error
from ..travel.estimate import grow_travel

__all__ = [
    "ENTITIES",
    "ENTITY_NAMES",
    "Entity",
    "EntityInUse",
    "Kind",
    "MissingEntity",
    "entity",
    "put_entity",
    "remove_entity",
]

Kind = Literal["carers", "clients", "visits", "locations"]
Entity = Carer | Client | Visit | Location
ENTITIES: dict[Kind, type[Entity]] = {"carers": Carer, "clients": Client, "visits": Visit, "locations": Location}
"""The problem's lists that can be edited one item at a time, and their item types."""
ENTITY_NAMES: dict[Kind, str] = {"carers": "carer", "clients": "client", "visits": "visit", "locations": "place"}
"""What one item of each list is called in messages."""


class MissingEntity(InputError):
    """No carer, client, visit or place with that id in the day."""


class EntityInUse(InputError):
    """Removing it would leave others referring to nothing."""


def entity(problem: Problem, kind: Kind, entity_id: str) -> Entity:
    """One carer, client, visit or place of the day, by id."""
    for item in getattr(problem, kind):
        if item.id == entity_id:
            return item
    raise MissingEntity(f"{kind}/{entity_id}", f"no {ENTITY_NAMES[kind]} {entity_id!r} in this day")


def put_entity(problem: Problem, kind: Kind, item: Entity) -> tuple[Problem, bool]:
    """``problem`` with ``item`` added to ``kind`` or replacing the one with its id;
    returns (new problem, whether it was added)."""
    if not isinstance(item, ENTITIES[kind]):
        raise InputError(f"{kind}/{getattr(item, 'id', '?')}", f"expected a {ENTITIES[kind].__name__}")
    where = f"{kind}/{item.id}"
    items = list(getattr(problem, kind))
    index = next((i for i, x in enumerate(items) if x.id == item.id), None)
    update: dict = {}
    if index is None:
        items.append(item)
        if kind == "locations":
            update["travel"] = _grown(problem, items, where)
    else:
        old = items[index]
        if isinstance(old, Location) and isinstance(item, Location) and _moved(old, item):
            if any(not m.estimated for m in problem.travel):
                raise InputError(
                    f"{where}.lat",
                    "moving a known place would leave the day's road times to it "
                    "stale; replace the whole day with new travel times instead",
                )
            update["travel"] = []  # every matrix was estimated: the solver estimates them again
        items[index] = item
    update[kind] = items
    return _checked(problem, update, where), index is None


def remove_entity(problem: Problem, kind: Kind, entity_id: str) -> Problem:
    """``problem`` without that carer, client, visit or place; refused while anything
    else refers to it."""
    entity(problem, kind, entity_id)
    where = f"{kind}/{entity_id}"
    users = _referrers(problem, kind, entity_id)
    if users:
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        hint = " (a carer who is off today can stay with no shifts)" if kind == "carers" else ""
        raise EntityInUse(where, f"still referred to by {shown}; change those first{hint}")
    update: dict = {kind: [x for x in getattr(problem, kind) if x.id != entity_id]}
    if kind == "locations":
        keep = [i for i, x in enumerate(problem.locations) if x.id != entity_id]
        update["travel"] = [
            m.model_copy(update={"minutes": _rows_and_columns(m.minutes, keep)}) for m in problem.travel
        ]
    return _checked(problem, update, where)


def _referrers(problem: Problem, kind: str, entity_id: str) -> list[str]:
    """What in the day names this entity (``kind/id.field``)."""
    out = []
    if kind == "clients":
        out += [f"visits/{v.id}" for v in problem.visits if v.client == entity_id]
    elif kind == "carers":
        for client in problem.clients:
            out += [
                f"clients/{client.id}.{field}"
                for field in ("preferred_carers", "banned_carers", "historical_carers")
                if entity_id in getattr(client, field)
            ]
        out += [f"visits/{v.id}.pinned_carers" for v in problem.visits if entity_id in v.pinned_carers]
    elif kind == "locations":
        out += [f"clients/{c.id}.location" for c in problem.clients if c.location == entity_id]
        out += [
            f"carers/{c.id}.{field}"
            for c in problem.carers
            for field in ("start_location", "end_location")
            if getattr(c, field) == entity_id
        ]
    return out


def _grown(problem: Problem, locations: list[Location], where: str) -> list:
    try:
        return grow_travel(problem, locations)
    except InputError as error:
        raise InputError(where, error.reason) from None


def _moved(old: Location, new: Location) -> bool:
    return (old.lat, old.lon, old.x, old.y) != (new.lat, new.lon, new.x, new.y)


def _rows_and_columns(minutes, keep: list[int]) -> np.ndarray:
    return np.asarray(minutes, dtype=float)[np.ix_(keep, keep)]


def _checked(problem: Problem, update: dict, where: str) -> Problem:
    """The whole problem's rules, run again over the edited lists."""
    fields = {name: getattr(problem, name) for name in Problem.model_fields}
    try:
        return Problem.model_validate({**fields, **update})
    except ValidationError as error:
        found = describe_validation_error(error)
        raise InputError(f"{where} ({found.field})" if found.field else where, found.reason) from None
