"""travel apart: a day's (and a replan's) travel matrices stored once per content in
``travel``, the problem's JSON without them (``api/travel_store.py``)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:22:51.621903
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "travel",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("matrices", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("travel_key", sa.String(length=64), nullable=True))

    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("travel_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    stored = op.get_bind().execute(sa.text("SELECT count(*) FROM days WHERE travel_key IS NOT NULL")).scalar()
    if stored:
        raise RuntimeError(f"{stored} days keep their travel matrices apart: downgrading would lose them")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("travel_key")

    with op.batch_alter_table("days", schema=None) as batch_op:
        batch_op.drop_column("travel_key")

    op.drop_table("travel")
