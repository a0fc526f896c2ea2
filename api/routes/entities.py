"""A day's carers, clients, visits and places one at a time: what a coordinator's screen
reads and edits between solves.

    GET    /v1/days/{date}/visits            the day's visits, in pages (``api/pagination.py``)
    GET    /v1/days/{date}/visits/{id}       one visit (ETag: the day's)
    PUT    /v1/days/{date}/visits/{id}       add or replace it (If-Match: the day's ETag)
    DELETE /v1/days/{date}/visits/{id}       remove it (If-Match)

and the same for ``carers``, ``clients`` and ``locations``. Each edit is checked against
the whole day by the library (``carescheduler.day.editing``) and makes a new version of the
day; plans already made stay as they were until the next solve or replan.
"""

# No ``from __future__ import annotations``: the routes are made in a loop, and FastAPI
# must see each one's body type itself rather than a name it would look up later.

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Response

from carescheduler import InputError
from carescheduler.day.editing import ENTITIES, ENTITY_NAMES, Entity, Kind, entity, put_entity, remove_entity

from .. import store
from ..config import Settings
from ..deps import DatePath, Planner, SessionDep, check_day_size, check_if_match, find_day, get_settings
from ..pagination import PageDep
from ..problems import error_responses

router = APIRouter(
    prefix="/v1/days", tags=["carers, clients, visits and places"], responses=error_responses(401, 403, 404, 422)
)

IfMatch = Annotated[str | None, Header(description="the day's ETag, from any read of the day")]
CHANGES: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match does not match"},
    428: {"description": "If-Match missing"},
}


def _add_routes(kind: Kind, model: type, one: str) -> None:
    path = f"/{{date}}/{kind}"

    # FastAPI must see the kind's own model, chosen at run time; for mypy it is any of them.
    if TYPE_CHECKING:
        Model: TypeAlias = Entity
    else:
        Model = model

    @router.get(path, response_model=list[Model], name=f"list {kind}", summary=f"The day's {kind}")
    def read_all(
        date: DatePath,
        session: SessionDep,
        principal: Planner,
        response: Response,
        page: PageDep,
        after: Annotated[str | None, Query(max_length=200, description=f"the id of the last {one} you have")] = None,
    ):
        """In the day's order; one added since comes last, one replaced keeps its place."""
        day = find_day(session, principal, date)
        response.headers["ETag"] = store.etag(day)
        items = getattr(store.day_problem(day), kind)
        ids = [item.id for item in items]
        if after is not None and after not in ids:
            raise InputError("query.after", f"no {one} {after} in the day to continue after (removed since?)")
        return page.of(items[ids.index(after) + 1 if after is not None else 0 :], lambda item: item.id)

    @router.get(
        path + "/{item_id}",
        response_model=Model,
        name=f"read {one}",
        summary=f"One {one}",
        responses={404: {"description": f"no such {one} in the day"}},
    )
    def read_one(date: DatePath, item_id: str, session: SessionDep, principal: Planner, response: Response):
        day = find_day(session, principal, date)
        response.headers["ETag"] = store.etag(day)
        return entity(store.day_problem(day), kind, item_id)  # MissingEntity: 404 (main.py)

    @router.put(
        path + "/{item_id}",
        response_model=Model,
        name=f"put {one}",
        summary=f"Add or replace a {one}",
        responses={**CHANGES, 201: {"model": Model, "description": f"the {one} was added"}},
    )
    def put(
        date: DatePath,
        item_id: str,
        item: Annotated[Model, Body()],
        session: SessionDep,
        principal: Planner,
        response: Response,
        if_match: IfMatch = None,
        settings: Settings = Depends(get_settings),
    ):
        if item.id != item_id:
            raise HTTPException(422, f"id: the body's id {item.id!r} is not the path's {item_id!r}")
        day = find_day(session, principal, date)
        check_if_match(session, day, if_match)
        problem, added = put_entity(store.day_problem(day), kind, item)
        check_day_size(problem, settings)
        store.put_day(session, principal.org, date, problem, day)
        store.audit(
            session,
            principal,
            f"{'add' if added else 'replace'} {one}",
            f"{date}/{kind}/{item_id}",
            version=day.version,
        )
        response.headers["ETag"] = store.etag(day)
        response.status_code = 201 if added else 200
        return item

    @router.delete(
        path + "/{item_id}",
        status_code=204,
        name=f"remove {one}",
        summary=f"Remove a {one}",
        responses={**CHANGES, 404: {"description": f"no such {one}"}, 409: {"description": "others still refer to it"}},
    )
    def remove(
        date: DatePath, item_id: str, session: SessionDep, principal: Planner, if_match: IfMatch = None
    ) -> Response:
        day = find_day(session, principal, date)
        check_if_match(session, day, if_match)
        problem = remove_entity(store.day_problem(day), kind, item_id)  # MissingEntity 404, EntityInUse 409
        store.put_day(session, principal.org, date, problem, day)
        store.audit(session, principal, f"remove {one}", f"{date}/{kind}/{item_id}", version=day.version)
        return Response(status_code=204, headers={"ETag": store.etag(day)})


for _kind, _model in ENTITIES.items():
    _add_routes(_kind, _model, ENTITY_NAMES[_kind])
