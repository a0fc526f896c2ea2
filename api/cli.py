"""``python -m api`` (or ``carescheduler-service`` once installed): run the service, mint
tokens, migrate the database.

    python -m api serve --demo          # the embedded default (SQLite) with the demo day loaded
    python -m api token --org demo --role coordinator --subject alice
    python -m api token --org demo --role carer --carer carer003 --subject carer003
    python -m api migrate

Settings come from the environment (``CARESCHEDULER_JWT_SECRET``, ``DATABASE_URL``, see
``api/config.py``). ``serve`` writes a random secret to ``.env`` (not in git) when none is
set, so a fresh checkout starts with one command.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import typer

from .config import Settings
from .security import ROLES, mint_token

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The carescheduler service.")

ENV_FILE = Path(".env")
DEMO_ORG = "demo"
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
"""Where ``serve --demo`` puts its tokens when its output is not a terminal."""


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
) -> None:
    """Run the service (OpenAPI docs at /docs)."""
    import uvicorn

    from .main import create_app

    ensure_secret()
    settings = _settings()
    if demo and not settings.road_files:
        settings = settings.model_copy(update={"road_files": demo_road_files()})
    app_ = create_app(settings)
    if demo:
        load_demo(settings)
    uvicorn.run(app_, host=host, port=port, log_level="info")


def demo_road_files() -> dict[str, str]:
    """The demo day's roads (Liechtenstein's OpenStreetMap extracts in a checkout): the
    board draws runs along them."""
    from carescheduler.cli import MEDIUM_PATHS, MEDIUM_ROADS

    if not DEMO_DAY.exists():
        return {}
    return {mode: str(path) for mode, path in (("drive", MEDIUM_ROADS), ("walk", MEDIUM_PATHS)) if path.exists()}


def load_demo(settings: Settings) -> None:
    """Today's demo day for organisation ``demo`` with a solve job queued to publish, and
    tokens for a coordinator and one carer printed."""
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
    tokens = (
        f"coordinator token: {mint_token(settings, DEMO_ORG, 'coordinator', 'demo-coordinator')}\n"
        f"carer token ({carer}): {mint_token(settings, DEMO_ORG, 'carer', carer, carer)}\n"
    )
    if sys.stdout.isatty():
        typer.echo(tokens, nl=False)
    else:  # the output goes to a log: bearer tokens must not
        with os.fdopen(os.open(DEMO_TOKENS, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w") as handle:
            handle.write(tokens)
        typer.echo(f"demo tokens written to {DEMO_TOKENS} (readable by you only; not shown: output is not a terminal)")


def main() -> None:  # pragma: no cover - console entry point (carescheduler-service)
    app()
