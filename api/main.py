"""The FastAPI app: ``create_app()`` wires settings, database, worker and routes.

    uvicorn api.main:app        # settings from the environment (CARESCHEDULER_JWT_SECRET, DATABASE_URL)

On start-up the database is migrated to the latest schema (Alembic), jobs a restart
interrupted are queued again (or failed after three tries), and the worker processes
start.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from . import store
from .clock import ServiceClock
from .config import Settings, get_settings
from .db import make_engine, session_factory, transaction
from .docs import add_docs
from .feed import FeedHub
from .migrate import upgrade
from .problems import CatchUnexpected, add_problem_handlers, describe_problems, problem_response
from .road_maps import RoadMaps
from .routes import (
    board,
    carer,
    days,
    entities,
    figures,
    jobs,
    live,
    organisation,
    roster,
    roster_days,
    sign_in,
    webhooks,
    weeks,
)
from .worker import JobWorkers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        upgrade(settings.database_url)
        app.state.engine = make_engine(settings.database_url)
        app.state.sessions = session_factory(app.state.engine)
        app.state.feed_hub = FeedHub(app.state.sessions, settings.stream_poll_seconds)
        app.state.road_maps.start()
        with transaction(app.state.sessions) as session:
            store.requeue_interrupted(session)
        worker = (
            JobWorkers(
                settings.database_url,
                app.state.clock,
                settings.replan_workers,
                settings.solve_workers,
                settings,
                ray_address=settings.ray_address,
            )
            if settings.worker
            else None
        )
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            await app.state.feed_hub.close()
            if worker is not None:
                worker.stop()
            app.state.engine.dispose()

    app = FastAPI(
        generate_unique_id_function=operation_id,
        title="carescheduler",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load their scripts from a CDN: api/docs.py serves installed ones
        redoc_url=None,
        description="Care-at-home scheduling: days, plans, solve and replan jobs, events, "
        "recommendations, and the carers' own day.",
    )
    app.state.settings = settings
    app.state.clock = ServiceClock.of(settings)
    app.state.road_maps = RoadMaps(settings.road_files)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(CatchUnexpected)  # outermost of ours: whatever fails inside is answered
    add_problem_handlers(app)
    describe_problems(app)
    add_docs(app)

    @app.get("/health", tags=["health"], response_model=Health)
    def health() -> Health:
        return Health()

    app.include_router(carer.router)  # first: the phones' read is most of the traffic
    app.include_router(organisation.router)
    app.include_router(days.router)
    app.include_router(entities.router)
    app.include_router(roster.router)  # master data: carers and clients kept across days
    app.include_router(roster_days.router)  # the days generated from it, each date's one-off changes
    app.include_router(weeks.router)  # days planned together from the roster and history
    app.include_router(jobs.router)
    app.include_router(jobs.audit_router)
    app.include_router(live.router)
    app.include_router(webhooks.router)
    app.include_router(figures.router)
    app.include_router(sign_in.router)  # the browser's sign-in pages (the coordinator's board)
    app.include_router(figures.pages)  # before the board's: /board/{date} would take /board/figures
    app.include_router(board.router)  # the coordinator's pages (not in the API's schema)
    return app


class Health(BaseModel):
    status: Literal["ok"] = "ok"


def operation_id(route: APIRoute) -> str:
    """The route function's name (``check_in``, ``list_visits``): what a generated client calls."""
    return route.name.replace(" ", "_")


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413 before the app sees them
    (declared by Content-Length or counted as they stream in), so nothing is written."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await self._refuse(scope, receive, send)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send):
        response = problem_response(413, f"the request body is over {self.limit} bytes", scope.get("path"))
        await response(scope, receive, send)


def __getattr__(name: str):
    # ``uvicorn api.main:app``: the app is built on first use, from the environment.
    if name == "app":
        return create_app()
    raise AttributeError(name)
