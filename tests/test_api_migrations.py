"""The Alembic migrations build exactly the schema the models describe, and go down again,
on SQLite and on PostgreSQL (``database_url``: a fresh database each)."""

from __future__ import annotations

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from api.migrate import alembic_config, upgrade
from api.models import Base


def test_migrations_match_the_models(database_url):
    url = database_url
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def test_days_stored_before_their_sizes_get_them_counted(database_url, small_day):
    """Migration 0006 counts each stored day's carers, clients, visits and places (lists of
    days read the counts and parse no problem)."""
    import sqlalchemy as sa

    url = database_url
    upgrade(url, "0005")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO organisations (id, name, created_at) VALUES ('o', 'o', '2030-01-01')"))
        connection.execute(
            sa.text(
                "INSERT INTO days (org_id, date, problem, version, created_at, updated_at) "
                "VALUES ('o', '2030-06-03', :problem, 1, '2030-01-01', '2030-01-01')"
            ),
            {"problem": small_day.model_dump_json()},
        )
    upgrade(url)
    with engine.connect() as connection:
        [sizes] = connection.execute(sa.text("SELECT sizes FROM days")).scalars().all()
    engine.dispose()
    counted = json.loads(sizes) if isinstance(sizes, str) else sizes
    assert counted == {
        "carers": len(small_day.carers),
        "clients": len(small_day.clients),
        "visits": len(small_day.visits),
        "locations": len(small_day.locations),
    }
