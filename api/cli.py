"""``python -m api`` (or ``carescheduler-service`` once installed): run the service, mint
tokens, migrate the database.

    python -m api serve --demo          # the embedded default (SQLite) with the demo day loaded
    python -m api token --org demo --role coordinator --subject alice
    python -m api token --org demo --role carer --carer carer003 --subject carer003
    python -m api sign-in-link --org demo --subject alice   # a one-time link to the board
    python -m api migrate
    python -m api figures --org demo                        # the week's management figures

Settings come from the environment (``CARESCHEDULER_JWT_SECRET``, ``DATABASE_URL``, see
``api/config.py``). ``serve`` writes a random secret to ``.env`` (not in git) when none is
set, so a fresh checkout starts with one command.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from .config import Settings
from .security import ROLES, mint_token

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The carescheduler service.")

ENV_FILE = Path(".env")
DEMO_ORG = "demo"
DEMO_COORDINATOR = "demo-coordinator"
DEMO_DAY = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "medium.json.gz"
"""The demo day in a checkout; an installed service uses the library's built-in town instead."""


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as error:
        typer.echo(f"error: settings: {error}".splitlines()[0], err=True)
        raise typer.Exit(2) from None


def ensure_secret() -> None:
    """A random JWT secret in ``.env`` when the environment has none (kept out of git)."""
    if os.environ.get("CARESCHEDULER_JWT_SECRET"):
        return
    text = ENV_FILE.read_text() if ENV_FILE.exists() else ""
    if "CARESCHEDULER_JWT_SECRET=" in text:
        return
    with ENV_FILE.open("a") as handle:
        handle.write(f"CARESCHEDULER_JWT_SECRET={secrets.token_urlsafe(48)}\n")
    ENV_FILE.chmod(0o600)
    typer.echo(f"wrote a new JWT secret to {ENV_FILE} (keep it private; tokens depend on it)", err=True)


DEMO_TOKENS = "demo-tokens.txt"
"""Where ``serve --demo`` puts its tokens and sign-in link when its output is not a terminal."""
DEFAULT_URL = "http://127.0.0.1:8000"
"""Where ``serve`` listens unless told otherwise."""


@app.command()
def token(
    org: str = typer.Option(..., help="organisation the token is for"),
    role: str = typer.Option(..., help=f"one of {', '.join(ROLES)}"),
    subject: str = typer.Option(..., help="who holds it (a user name, a system's name)"),
    carer: str | None = typer.Option(None, help="the carer's id (role carer)"),
    hours: float | None = typer.Option(None, help="lifetime (default: the service's)"),
) -> None:
    """Mint a bearer token."""
    try:
        typer.echo(mint_token(_settings(), org, role, subject, carer, hours))
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


@app.command("sign-in-link")
def sign_in_link(
    org: str = typer.Option(..., help="organisation the browser signs in to"),
    subject: str = typer.Option(..., help="who signs in (their user name)"),
    role: str = typer.Option("coordinator", help="coordinator or carer"),
    carer: str | None = typer.Option(None, help="the carer's id (role carer)"),
    base_url: str = typer.Option(DEFAULT_URL, help="the service's address, as the browser reaches it"),
) -> None:
    """Make a one-time link that signs a browser in (the coordinator's board)."""
    from .db import make_engine, session_factory
    from .migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        typer.echo(make_sign_in_link(session_factory(engine), settings, base_url, org, subject, role, carer))
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"(it signs in once, within {settings.sign_in_link_minutes:g} minutes)", err=True)


def make_sign_in_link(
    sessions: sessionmaker[Session],
    settings: Settings,
    base_url: str,
    org: str,
    subject: str,
    role: str = "coordinator",
    carer: str | None = None,
) -> str:
    """A one-time sign-in link, whole: ``base_url`` and the link's path."""
    from .browser_sessions import create_link
    from .db import transaction

    with transaction(sessions) as session:
        path = create_link(session, settings, org, subject, role, carer)
    return base_url.rstrip("/") + path


def service_url(host: str, port: int) -> str:
    """The address a browser on this machine opens for ``serve --host --port`` (a server
    listening on every address is reached at 127.0.0.1)."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@app.command()
def figures(
    org: str = typer.Option(..., help="the organisation"),
    start: str | None = typer.Option(None, "--from", help="the first day, YYYY-MM-DD (default: a week before --to)"),
    end: str | None = typer.Option(None, "--to", help="the last day, YYYY-MM-DD (default: the service's today)"),
) -> None:
    """Print the management figures of the published plans of a week (or any range)."""
    from carescheduler import InputError
    from carescheduler.roster.figures import summarise, week_summary_text

    from .clock import ServiceClock
    from .db import make_engine, session_factory, transaction
    from .migrate import upgrade
    from .plan_figures import date_range, figures_in_range

    settings = _settings()
    clock = ServiceClock.of(settings)
    try:
        first, last = date_range(start, end, clock)
    except InputError as error:
        typer.echo(f"error: --{error.field}: {error.reason}", err=True)
        raise typer.Exit(2) from None
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            found = figures_in_range(session, org, first, last, clock)
            summary = summarise(found.days, found.carers, found.clients, start=first, end=last)
    finally:
        engine.dispose()
    typer.echo(week_summary_text(summary), nl=False)


@app.command()
def migrate() -> None:
    """Bring the database to the latest schema."""
    from .migrate import upgrade

    upgrade(_settings().database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8000),
    demo: bool = typer.Option(False, help="load the demo day (today) for organisation 'demo' and solve it"),
    fd: int | None = typer.Option(
        None, help="serve on this already-listening socket (a file descriptor) instead of --host and --port"
    ),
) -> None:
    """Run the service (OpenAPI docs at /docs). ``--fd`` takes a socket its parent opened
    (socket activation, or a test that holds its port so no other program can take it)."""
    import uvicorn

    from .main import create_app

    ensure_secret()
    settings = _settings()
    if demo and not settings.road_files:
        settings = settings.model_copy(update={"road_files": demo_road_files()})
    app_ = create_app(settings)
    if demo:
        load_demo(settings, service_url(host, port))
    if fd is not None:
        uvicorn.run(app_, fd=fd, log_level="info")
    else:
        uvicorn.run(app_, host=host, port=port, log_level="info")


def demo_road_files() -> dict[str, str]:
    """The demo day's roads (Liechtenstein's OpenStreetMap extracts in a checkout): the
    board draws runs along them."""
    from carescheduler.cli import MEDIUM_PATHS, MEDIUM_ROADS

    if not DEMO_DAY.exists():
        return {}
    return {mode: str(path) for mode, path in (("drive", MEDIUM_ROADS), ("walk", MEDIUM_PATHS)) if path.exists()}


def load_demo(settings: Settings, base_url: str = DEFAULT_URL) -> None:
    """Today's demo day for organisation ``demo`` with a solve job queued to publish, and
    tokens for a coordinator and one carer and a sign-in link for the coordinator's board
    (at ``base_url``) printed."""
    from carescheduler.formats import read_problem
    from carescheduler.scenarios import demo_problem

    from . import store
    from .clock import ServiceClock
    from .db import make_engine, session_factory, transaction
    from .migrate import upgrade

    upgrade(settings.database_url)
    sessions = session_factory(make_engine(settings.database_url))
    today = ServiceClock.of(settings).now().date().isoformat()
    problem = read_problem(DEMO_DAY) if DEMO_DAY.exists() else demo_problem()
    with transaction(sessions) as session:
        store.ensure_org(session, DEMO_ORG, "Demo care provider")
        day = store.find_day(session, DEMO_ORG, today)
        if day is None:
            day = store.put_day(session, DEMO_ORG, today, problem, None)
            store.add_job(session, day, "solve", {"time_limit": 20.0, "seed": 0, "publish": True}, "demo")
    carer = problem.carers[0].id
    typer.echo(
        f"demo day {today} for organisation '{DEMO_ORG}' ({len(problem.visits)} visits); "
        "a 20 s solve job publishes its plan"
    )
    link = make_sign_in_link(sessions, settings, base_url, DEMO_ORG, DEMO_COORDINATOR)
    tokens = (
        f"coordinator token: {mint_token(settings, DEMO_ORG, 'coordinator', DEMO_COORDINATOR)}\n"
        f"carer token ({carer}): {mint_token(settings, DEMO_ORG, 'carer', carer, carer)}\n"
        f"the coordinator's board, signed in once within {settings.sign_in_link_minutes:g} minutes "
        f"(then: python -m api sign-in-link --org {DEMO_ORG} --subject {DEMO_COORDINATOR}): {link}\n"
    )
    if sys.stdout.isatty():
        typer.echo(tokens, nl=False)
    else:  # the output goes to a log: bearer tokens and sign-in links must not
        with os.fdopen(os.open(DEMO_TOKENS, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(tokens)
        typer.echo(
            f"demo tokens and sign-in link written to {DEMO_TOKENS} "
            "(readable by you only; not shown: output is not a terminal)"
        )


def main() -> None:  # pragma: no cover - console entry point (carescheduler-service)
    app()
