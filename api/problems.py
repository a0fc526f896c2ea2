"""Every error as RFC 9457 problem details (``application/problem+json``).

One shape for all of them, whoever raised it: the library (an ``InputError`` names the
field), FastAPI's request checks (each bad field), the routes (``HTTPException``) and the
middleware. ``detail`` says what went wrong in a sentence a person can act on; ``field``
(and ``errors`` for several) says where, so that a phone or an integration can point at it.
"""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from carescheduler import InputError
from carescheduler.day.editing import EntityInUse, MissingEntity

log = logging.getLogger("carescheduler.service")

MEDIA_TYPE = "application/problem+json"

LIBRARY_ERRORS: dict[type[Exception], int] = {
    InputError: 422,  # bad input: names the field and the reason; nothing was written
    MissingEntity: 404,  # no such carer, client, visit or place in the day
    EntityInUse: 409,  # a removal that others still refer to
}
"""The HTTP status of each error the library raises for the caller to act on."""


class FieldError(BaseModel):
    field: str = Field(description="where: a dotted path into the request (body.events[1].carer), or a header")
    reason: str


# Not ``Problem``: that is the day's problem (the library's model), and two schemas of one
# name get module-qualified names in the spec, which a generated client would carry.
class ProblemDetails(BaseModel):
    """An error (RFC 9457)."""

    type: str = Field(default="about:blank", description="about:blank: the status says what kind of error it is")
    title: str = Field(description="the status's name")
    status: int
    detail: str = Field(description="what went wrong, in a sentence a person can act on")
    instance: str | None = Field(default=None, description="the request's path")
    field: str | None = Field(default=None, description="the field at fault, when there is one")
    errors: list[FieldError] = Field(default_factory=list, description="every field at fault (request checks)")


def problem_response(
    status: int,
    detail: str,
    instance: str | None = None,
    field: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ProblemDetails(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        field=field or None,
        errors=errors or [],
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers, media_type=MEDIA_TYPE
    )


def error_responses(*statuses: int) -> dict[int | str, dict]:
    """OpenAPI ``responses`` entries for a route's error statuses, all problem details."""
    return {
        status: {"model": ProblemDetails, "description": HTTPStatus(status).phrase, "content": {MEDIA_TYPE: {}}}
        for status in statuses
    }


def describe_problems(app: FastAPI) -> None:
    """Say in the spec that errors come as ``application/problem+json``: FastAPI puts an extra
    response's model under ``application/json`` and leaves our media type without a schema,
    so a generated client could not read an error. Done once, on the spec FastAPI caches."""
    make = app.openapi
    moved = False

    def openapi() -> dict:
        nonlocal moved
        spec = make()
        if not moved:
            operations = [op for path in spec.get("paths", {}).values() for op in path.values()]
            for response in (r for op in operations for r in op.get("responses", {}).values()):
                content = response.get("content", {})
                if MEDIA_TYPE in content and "schema" in content.get("application/json", {}):
                    content[MEDIA_TYPE] = content.pop("application/json")
            moved = True
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's way to change the spec


def unexpected_error(error: BaseException, where: str) -> str:
    """Log an error nobody expected, with its traceback, under a new id; the caller (or a
    job's record) gets only the id: a traceback tells an attacker the server's paths and
    code, and a user nothing they can act on."""
    error_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s in %s", error_id, where, exc_info=error)
    return f"unexpected error {error_id}: the service's log has the details"


class CatchUnexpected:
    """Answer an error nobody expected with problem details (500, an error id) and keep
    the connection: Starlette's own last resort answers plain text and then raises again,
    and the server drops the connection a phone may be reusing."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            detail = unexpected_error(error, f"{scope.get('method')} {scope.get('path')}")
            if started:  # part of an answer is out: nothing sensible can follow it
                raise
            await problem_response(500, detail, scope.get("path"))(scope, receive, send)


def add_problem_handlers(app: FastAPI) -> None:
    """Turn every error into problem details, once, for every route (Starlette picks the
    most specific class: a missing entity is a 404 although it is an ``InputError`` too)."""

    async def library(request: Request, error: Exception) -> JSONResponse:
        status = next(LIBRARY_ERRORS[kind] for kind in type(error).__mro__ if kind in LIBRARY_ERRORS)
        field = getattr(error, "field", None)
        # an error holding several problems (a roster's CSV files) names each in ``errors``
        errors = [FieldError(field=p.field, reason=p.reason) for p in getattr(error, "problems", ())]
        return problem_response(status, str(error), request.url.path, field, errors)

    async def http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        headers = dict(error.headers) if error.headers else None
        return problem_response(error.status_code, str(error.detail), request.url.path, headers=headers)

    async def invalid(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        errors = [
            FieldError(field=_where(item.get("loc", ())), reason=item.get("msg", "invalid")) for item in error.errors()
        ]
        first = errors[0] if errors else FieldError(field="", reason="invalid request")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return problem_response(422, f"{first.field}: {first.reason}{more}", request.url.path, first.field, errors)

    for kind in LIBRARY_ERRORS:
        app.add_exception_handler(kind, library)
    app.add_exception_handler(HTTPException, http)
    app.add_exception_handler(RequestValidationError, invalid)


def _where(location: tuple | list) -> str:
    """``("body", "events", 1, "carer")`` -> ``body.events[1].carer`` (pydantic's union
    branch names, such as ``check_in``, are left out where a discriminator picked them)."""
    out = ""
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and ("[" in part or "(" in part):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out
