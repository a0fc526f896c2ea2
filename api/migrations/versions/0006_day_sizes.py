"""each day (and each replan's day) keeps how many carers, clients, visits and locations it
holds, so lists of days never parse a problem

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("days") as table:
        table.add_column(sa.Column("sizes", sa.JSON(), nullable=True))
    with op.batch_alter_table("plans") as table:
        table.add_column(sa.Column("sizes", sa.JSON(), nullable=True))
    days = sa.table("days", sa.column("id", sa.Integer), sa.column("problem", sa.Text), sa.column("sizes", sa.JSON))
    connection = op.get_bind()
    for day_id, text in connection.execute(sa.select(days.c.id, days.c.problem)).all():
        problem = json.loads(text)  # plain JSON: counting needs no model
        counts = {kind: len(problem.get(kind, [])) for kind in ("carers", "clients", "visits", "locations")}
        connection.execute(days.update().where(days.c.id == day_id).values(sizes=counts))


def downgrade() -> None:
    with op.batch_alter_table("plans") as table:
        table.drop_column("sizes")
    with op.batch_alter_table("days") as table:
        table.drop_column("sizes")
