"""roster

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 19:32:17.473762
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("roster_fetched_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(
            sa.Column("in_roster", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("roster_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            "last_launch_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )


def downgrade() -> None:

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.alter_column(
            "last_launch_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.drop_column("roster_seen_at")
        batch_op.drop_column("in_roster")
        batch_op.drop_column("status")

    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.drop_column("roster_fetched_at")
