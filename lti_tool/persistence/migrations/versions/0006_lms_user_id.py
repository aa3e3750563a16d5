"""lms user id

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 20:52:08.819551
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lms_user_id", sa.String(length=64), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("lms_user_id")
