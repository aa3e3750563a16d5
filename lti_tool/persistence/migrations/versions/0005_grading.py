"""grading

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 19:40:07.114663
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "assessment_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("module_code", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("override_reason", sa.String(length=500), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_user_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["changed_by_user_pk"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_pk"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("context_pk", "user_pk", "module_code", name="uq_result_ctx_user_mod"),
    )
    with op.batch_alter_table("assessment_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_results_user_pk"), ["user_pk"], unique=False
        )

    op.create_table(
        "line_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("module_code", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("context_pk", "module_code", name="uq_lineitem_ctx_mod"),
    )
    op.create_table(
        "sync_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "grade_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_pk", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=False),
        sa.Column("module_code", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["context_pk"], ["contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["result_pk"], ["assessment_results.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("grade_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grade_outbox_context_pk"), ["context_pk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_grade_outbox_job_id"), ["job_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_grade_outbox_result_pk"), ["result_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_grade_outbox_status"), ["status"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("grade_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grade_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_grade_outbox_result_pk"))
        batch_op.drop_index(batch_op.f("ix_grade_outbox_job_id"))
        batch_op.drop_index(batch_op.f("ix_grade_outbox_context_pk"))

    op.drop_table("grade_outbox")
    op.drop_table("sync_jobs")
    op.drop_table("line_items")
    with op.batch_alter_table("assessment_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_results_user_pk"))

    op.drop_table("assessment_results")
