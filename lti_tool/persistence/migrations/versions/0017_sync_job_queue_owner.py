"""a sync job names the in-process queue that holds it

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 17:50:00

``sync_jobs.queue_owner``: the owner name of the process whose in-process (thread) queue
holds the job or runs it (``jobs/owners.py``), so another process can tell at once that the
job died with that process and queue it again; None with RQ (a job there outlives the
process that queued it) and for jobs queued before this migration, which the maintenance
sweep recovers as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_owner", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_jobs", schema=None) as batch_op:
        batch_op.drop_column("queue_owner")
