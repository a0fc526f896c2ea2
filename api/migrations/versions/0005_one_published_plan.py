"""one published plan per day, enforced by the database (a partial unique index), whoever
publishes: two publishes at the same moment cannot both win

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a day published twice before this (the race it closes) keeps its newest plan published
    op.execute(
        "UPDATE plans SET status = 'superseded' WHERE status = 'published' AND id NOT IN "
        "(SELECT published_plan_id FROM days WHERE published_plan_id IS NOT NULL)"
    )
    op.create_index(
        "one_published_plan_per_day",
        "plans",
        ["day_id"],
        unique=True,
        sqlite_where=sa.text("status = 'published'"),
        postgresql_where=sa.text("status = 'published'"),
    )


def downgrade() -> None:
    op.drop_index("one_published_plan_per_day", table_name="plans")
