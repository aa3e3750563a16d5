"""course groups

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 21:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("groups_url", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("group_sets_url", sa.String(length=1024), nullable=True))
        batch_op.add_column(
            sa.Column("groups_fetched_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "course_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("set_name", sa.String(length=255), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("context_pk", "group_id", name="uq_group_ctx_group"),
    )
    with op.batch_alter_table("course_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_groups_context_pk"), ["context_pk"], unique=False
        )
    op.create_table(
        "course_group_members",
        sa.Column("group_pk", sa.Integer(), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_pk"], ["course_groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_pk"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_pk", "user_pk"),
    )
    with op.batch_alter_table("course_group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_group_members_user_pk"), ["user_pk"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("course_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_group_members_user_pk"))
    op.drop_table("course_group_members")
    with op.batch_alter_table("course_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_groups_context_pk"))
    op.drop_table("course_groups")
    with op.batch_alter_table("contexts", schema=None) as batch_op:
        batch_op.drop_column("groups_fetched_at")
        batch_op.drop_column("group_sets_url")
        batch_op.drop_column("groups_url")
