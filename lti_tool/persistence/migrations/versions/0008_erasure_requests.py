"""erasure requests

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_pk", sa.Integer(), nullable=True),
        sa.Column("user_pk", sa.Integer(), nullable=True),
        sa.Column("pending_user_pk", sa.Integer(), nullable=True),
        sa.Column("subject_sub", sa.String(length=255), nullable=True),
        sa.Column("requested_by_user_pk", sa.Integer(), nullable=True),
        sa.Column("requested_by_role", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=True),
        sa.Column("erased_counts", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["registration_pk"], ["registrations.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_pk"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["requested_by_user_pk"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pending_user_pk"),
    )
    op.create_index("ix_erasure_requests_registration_pk", "erasure_requests", ["registration_pk"])
    op.create_index("ix_erasure_requests_status", "erasure_requests", ["status"])


def downgrade() -> None:
    op.drop_index("ix_erasure_requests_status", table_name="erasure_requests")
    op.drop_index("ix_erasure_requests_registration_pk", table_name="erasure_requests")
    op.drop_table("erasure_requests")
