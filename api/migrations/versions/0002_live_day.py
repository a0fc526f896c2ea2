"""the live day: events keep the hash of the request that recorded them (an
Idempotency-Key reused with another body is refused); jobs have a priority (a replan
absorbing events before a coordinator's replan before a solve)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as table:
        table.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("jobs") as table:
        table.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="2"))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as table:
        table.drop_column("priority")
    with op.batch_alter_table("events") as table:
        table.drop_column("request_hash")
