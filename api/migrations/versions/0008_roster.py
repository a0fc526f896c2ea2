"""the roster: an organisation's carers and clients (a row each, the library's JSON) and
its settings and version, kept across days

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_state",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.Text(), nullable=True),
        sa.Column("settings_version", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("org_id"),
    )
    for table in ("roster_carers", "roster_clients"):
        op.create_table(
            table,
            sa.Column("org_id", sa.String(length=64), nullable=False),
            sa.Column("id", sa.String(length=200), nullable=False),
            sa.Column("data", sa.Text(), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["org_id"], ["organisations.id"]),
            sa.PrimaryKeyConstraint("org_id", "id"),
        )


def downgrade() -> None:
    op.drop_table("roster_clients")
    op.drop_table("roster_carers")
    op.drop_table("roster_state")
