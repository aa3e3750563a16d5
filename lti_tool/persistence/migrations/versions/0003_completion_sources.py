"""completion sources and course mappings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 19:24:07.966849
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "completion_sources",
        sa.Column("registration_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("endpoint_url", sa.String(length=1024), nullable=True),
        sa.Column("token_sealed", sa.Text(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("ags_threshold", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["registration_pk"], ["registrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("registration_pk"),
    )
    op.create_table(
        "course_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_pk", sa.Integer(), nullable=False),
        sa.Column("course_code", sa.String(length=32), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["registration_pk"], ["registrations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registration_pk", "course_code", name="uq_mapping_reg_code"),
    )


def downgrade() -> None:

    op.drop_table("course_mappings")
    op.drop_table("completion_sources")
