"""The organisation's roster: the carers and clients kept across days, and its settings.

    GET    /v1/roster                      the whole roster (ETag: the roster's; If-None-Match: 304)
    GET    /v1/roster/settings             settings (ETag); PUT replaces them (If-Match)
    GET    /v1/roster/carers               carers in the order of their ids, in pages
    GET    /v1/roster/carers/{id}          one carer (ETag: the carer's)
    PUT    /v1/roster/carers/{id}          add (no If-Match, or If-None-Match: *) or replace (If-Match)
    DELETE /v1/roster/carers/{id}          remove (If-Match; 409 while a client prefers or bans them)
    POST   /v1/roster/import               the CSV files (docs/roster-template), all or nothing
    GET    /v1/roster/export               the CSV files

and the same for ``clients``. Every change regenerates the days from today on that still
follow the roster (``roster_days``; a date's one-off changes the change no longer fits are
a 422 naming them; the days and the changes have routes of their own,
``routes/roster_days.py``). Coordinators change the roster (each change audited);
coordinators and integrations read it; carers get 403. The checks live in the library
(``carescheduler.roster``) and the store (``api/roster_store.py``).
"""

# No ``from __future__ import annotations``: the routes are made in a loop, and FastAPI
# must see each one's body type itself rather than a name it would look up later.

import datetime as dt
from typing import TYPE_CHECKING, Annotated, TypeAlias

from fastapi import APIRouter, Body, Depends, Header, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from carescheduler import InputError
from carescheduler.roster import Roster, RosterCarer, RosterClient
from carescheduler.roster.csv_import import ROSTER_FILES
from carescheduler.roster.settings import RosterSettings

from .. import roster_days, roster_store, store
from ..clock import ServiceClock
from ..deps import CHANGES, Coordinator, IfMatch, IfNoneMatch, Planner, SessionDep, get_clock, preconditions
from ..pagination import PageDep
from ..problems import error_responses
from ..roster_store import Kind, RosterChanges

router = APIRouter(prefix="/v1/roster", tags=["roster"], responses=error_responses(401, 403, 422))
Clock = Annotated[ServiceClock, Depends(get_clock)]


def today(clock: ServiceClock) -> dt.date:
    """Today on the service's clock: the first day a roster change regenerates."""
    return clock.now().date()


@router.get(
    "",
    response_model=Roster,
    summary="The whole roster: settings, carers and clients",
    responses={304: {"description": "If-None-Match is the roster's ETag: unchanged since"}},
)
def read_roster(
    session: SessionDep,
    principal: Planner,
    if_none_match: Annotated[str | None, Header(description="the roster's ETag you hold")] = None,
) -> Response:
    tag = roster_store.roster_etag(session, principal.org)
    if if_none_match is not None and tag in [part.strip() for part in if_none_match.split(",")]:
        return Response(status_code=304, headers={"ETag": tag})
    roster = roster_store.load_roster(session, principal.org)
    # answered as it is: FastAPI would check the roster's thousands of models a second time
    return Response(roster.model_dump_json(), media_type="application/json", headers={"ETag": tag})


@router.get("/settings", response_model=RosterSettings, summary="The roster's settings")
def read_roster_settings(session: SessionDep, principal: Planner, response: Response) -> RosterSettings:
    """The defaults until some are put; the ETag is needed to replace them."""
    settings, tag = roster_store.read_settings(session, principal.org)
    response.headers["ETag"] = tag
    return settings


@router.put("/settings", response_model=RosterSettings, summary="Replace the roster's settings", responses=CHANGES)
def put_roster_settings(
    settings: RosterSettings,
    session: SessionDep,
    principal: Coordinator,
    response: Response,
    clock: Clock,
    if_match: IfMatch = None,
) -> RosterSettings:
    """Refused (422) while a skill taken out is still held by a carer or needed by a call.
    The days from today that follow the roster are regenerated."""
    with preconditions():
        tag = roster_store.put_settings(session, principal.org, settings, if_match)
    roster_days.regenerate_future(session, principal.org, today(clock), principal)
    store.audit(session, principal, "replace roster settings", "roster/settings", etag=tag)
    response.headers["ETag"] = tag
    return settings


class RosterFiles(BaseModel):
    """The roster's files by name, each file's text (``docs/roster-template/README.md``)."""

    model_config = ConfigDict(extra="forbid")
    files: dict[str, str] = Field(
        description=f"file name ({', '.join(ROSTER_FILES)}) to its text; files left out are not read",
        examples=[{"carers.csv": "id,name,lat,lon\namina,Amina Okafor,53.48,-2.24\n"}],
    )


@router.post(
    "/import",
    response_model=RosterChanges,
    summary="Import the roster from CSV files",
    responses={412: {"description": "If-Match is not the roster's ETag"}},
)
def import_roster(
    body: RosterFiles,
    session: SessionDep,
    principal: Coordinator,
    response: Response,
    clock: Clock,
    replace: Annotated[
        bool, Query(description="true: carers and clients not in the files are removed; false: added and updated")
    ] = False,
    if_match: Annotated[str | None, Header(description="the roster's ETag, to import onto what you read")] = None,
) -> RosterChanges:
    """All or nothing: a problem anywhere is a 422 naming every problem by file, row and
    column (``errors``), and nothing is written."""
    with preconditions():
        changes, tag = roster_store.import_files(session, principal.org, body.files, replace, if_match)
    roster_days.regenerate_future(session, principal.org, today(clock), principal)
    store.audit(
        session, principal, "import roster", "roster", replace=replace, **changes.model_dump(exclude={"version"})
    )
    response.headers["ETag"] = tag
    return changes


@router.get("/export", response_model=RosterFiles, summary="The roster as CSV files")
def export_roster(session: SessionDep, principal: Planner, response: Response) -> RosterFiles:
    """The files ``POST /v1/roster/import?replace=true`` reads back as the same roster."""
    files, tag = roster_store.export_files(session, principal.org)
    response.headers["ETag"] = tag
    return RosterFiles(files=files)


def _add_routes(kind: Kind, model: type, one: str) -> None:
    path = f"/{kind}"

    # FastAPI must see the kind's own model, chosen at run time; for mypy it is either.
    if TYPE_CHECKING:
        Model: TypeAlias = RosterCarer | RosterClient
    else:
        Model = model

    @router.get(path, response_model=list[Model], name=f"list roster {kind}", summary=f"The roster's {kind}")
    def read_all(
        session: SessionDep,
        principal: Planner,
        page: PageDep,
        after: Annotated[str | None, Query(max_length=200, description=f"the id of the last {one} you have")] = None,
    ):
        """In the order of their ids."""
        return page.of(roster_store.entities(session, principal.org, kind, after, page.fetch), lambda item: item.id)

    @router.get(
        path + "/{item_id}",
        response_model=Model,
        name=f"read roster {one}",
        summary=f"One {one} of the roster",
        responses=error_responses(404),
    )
    def read_one(item_id: str, session: SessionDep, principal: Planner, response: Response):
        item, tag = roster_store.read_entity(session, principal.org, kind, item_id)  # MissingEntity: 404
        response.headers["ETag"] = tag
        return item

    @router.put(
        path + "/{item_id}",
        response_model=Model,
        name=f"put roster {one}",
        summary=f"Add or replace a {one} of the roster",
        responses={**CHANGES, 201: {"model": Model, "description": f"the {one} was added"}},
    )
    def put(
        item_id: str,
        item: Annotated[Model, Body()],
        session: SessionDep,
        principal: Coordinator,
        response: Response,
        clock: Clock,
        if_match: IfMatch = None,
        if_none_match: IfNoneMatch = None,
    ):
        if item.id != item_id:
            raise InputError("id", f"the body's id {item.id!r} is not the path's {item_id!r}")
        touched = roster_days.weekdays_touched(session, principal.org, kind, item_id)  # as it was
        with preconditions():
            tag, added = roster_store.put_entity(session, principal.org, kind, item, if_match, if_none_match)
        touched |= roster_days.weekdays_of(item)
        roster_days.regenerate_future(session, principal.org, today(clock), principal, touched)
        action = f"{'add' if added else 'replace'} roster {one}"
        store.audit(session, principal, action, f"roster/{kind}/{item_id}", etag=tag)
        response.headers["ETag"] = tag
        response.status_code = 201 if added else 200
        return item

    @router.delete(
        path + "/{item_id}",
        status_code=204,
        name=f"remove roster {one}",
        summary=f"Remove a {one} from the roster",
        responses={**CHANGES, **error_responses(404, 409)},
    )
    def remove(
        item_id: str, session: SessionDep, principal: Coordinator, clock: Clock, if_match: IfMatch = None
    ) -> Response:
        touched = roster_days.weekdays_touched(session, principal.org, kind, item_id)
        with preconditions():  # MissingEntity 404, EntityInUse 409
            roster_store.delete_entity(session, principal.org, kind, item_id, if_match)
        roster_days.regenerate_future(session, principal.org, today(clock), principal, touched)
        store.audit(session, principal, f"remove roster {one}", f"roster/{kind}/{item_id}")
        return Response(status_code=204)


_add_routes("carers", RosterCarer, "carer")
_add_routes("clients", RosterClient, "client")
