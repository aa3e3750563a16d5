"""an AGS completion record remembers the course whose gradebook gave it

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 15:20:00

``completion_records.context_pk``: the course an AGS reading came from (each course's
gradebook is its own). A lower score in one course then undoes only a completion that same
course's gradebook gave, never another's. Records stored before have none: no course's
lower score undoes them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_completion_records_context_pk"


def upgrade() -> None:
    with op.batch_alter_table("completion_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context_pk", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            FOREIGN_KEY, "contexts", ["context_pk"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("completion_records", schema=None) as batch_op:
        batch_op.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        batch_op.drop_column("context_pk")
