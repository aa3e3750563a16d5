"""a course remembers when its roster was last asked for

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 14:20:00

``contexts.roster_asked_at``: when a roster refresh last asked the platform for the course's
members, written before it asks. A launch moves its membership's ``last_launch_at`` when it is
older than that (as well as hourly), so a roster answered before a launch never marks that
member as having left. A course whose roster was never asked for has none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("roster_asked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.drop_column("roster_asked_at")
