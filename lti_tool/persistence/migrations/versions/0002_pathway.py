"""pathway: context settings, module starts, completions, audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 19:09:43.595960
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "completion_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("course_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.Date(), nullable=True),
        sa.Column("completed_at", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_pk"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "user_pk", "course_code", "source", name="uq_completion_user_course_src"
        ),
    )
    with op.batch_alter_table("completion_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_completion_records_user_pk"), ["user_pk"], unique=False
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_pk", sa.Integer(), nullable=True),
        sa.Column("context_pk", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_user_pk", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["actor_user_pk"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["subject_user_pk"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_context_pk"), ["context_pk"], unique=False)

    op.create_table(
        "cohort_module_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("module_code", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("context_pk", "module_code", name="uq_cohort_start"),
    )
    op.create_table(
        "context_settings",
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("qualification_code", sa.String(length=64), nullable=True),
        sa.Column("copied_from_context_pk", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["copied_from_context_pk"], ["contexts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("context_pk"),
    )
    op.create_table(
        "student_module_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("module_code", sa.String(length=32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by_user_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_user_pk"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_pk"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "context_pk", "user_pk", "module_code", "attempt", name="uq_student_start_attempt"
        ),
    )


def downgrade() -> None:

    op.drop_table("student_module_starts")
    op.drop_table("context_settings")
    op.drop_table("cohort_module_starts")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_context_pk"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("completion_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_completion_records_user_pk"))

    op.drop_table("completion_records")
