"""what a registration does with a deployment it has never seen

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 00:30:00

``registrations.new_deployments``: ``accept`` (a validly signed launch from a new deployment
records it active) or ``hold`` (recorded inactive until an administrator approves it).
Every existing registration gets ``hold``, which is what the tool did before: no registration
trusts more after the upgrade than before it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("new_deployments", sa.String(length=8), server_default="hold", nullable=False)
        )
        batch_op.create_check_constraint(
            "ck_registration_new_deployments", "new_deployments IN ('accept', 'hold')"
        )


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint("ck_registration_new_deployments", type_="check")
        batch_op.drop_column("new_deployments")
