"""management figures of published plans: per day, carer and client, as JSON

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_figures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.Column("day_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("after_day", sa.Boolean(), nullable=False),
        sa.Column("events_up_to", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["day_id"], ["days.id"]),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "scope", "subject"),
    )
    with op.batch_alter_table("plan_figures", schema=None) as batch_op:
        batch_op.create_index("ix_plan_figures_org_id_date", ["org_id", "date"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_figures_day_id"), ["day_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_figures_day_id"))
        batch_op.drop_index("ix_plan_figures_org_id_date")
    op.drop_table("plan_figures")
