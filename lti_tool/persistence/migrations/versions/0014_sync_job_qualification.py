"""a sync job keeps the qualification of the launch that started it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 11:10:00

``sync_jobs.qualification_code``: the qualification the tutor's launch followed when the sync
was started (the link's custom parameter ``qualification``, else the course's choice, else the
default), so the gradebook columns the sync makes are titled from it, as the pages are. A job
queued before this migration has none and is titled from the course's qualification.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qualification_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_jobs", schema=None) as batch_op:
        batch_op.drop_column("qualification_code")
