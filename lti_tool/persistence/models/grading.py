"""Assessment results, the outbox that syncs them to the gradebook, line items, sync jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.persistence.models.base import Base, utcnow


class AssessmentResultRow(Base):
    """A student's result for one assessment module in one course. ``changed_at`` is the
    AGS score timestamp, so an older value can never overwrite a newer one."""

    __tablename__ = "assessment_results"
    __table_args__ = (
        UniqueConstraint("context_pk", "user_pk", "module_code", name="uq_result_ctx_user_mod"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    module_code: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=100.0)
    outcome: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    released: Mapped[bool] = mapped_column(Boolean, default=True)
    override_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changed_by_user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class OutboxRow(Base):
    """One score to deliver, written in the same transaction as the result change it carries.

    ``status``: pending → sending → delivered | failed | refused (a 4xx about the score
    itself: not sent again); a newer change of the same result supersedes a row not yet
    delivered. ``payload`` is the exact AGS score body, timestamp included, so a
    resend after a crash carries the same timestamp and changes nothing on the platform.
    """

    __tablename__ = "grade_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_pk: Mapped[int] = mapped_column(
        ForeignKey("assessment_results.id", ondelete="CASCADE"), index=True
    )
    context_pk: Mapped[int] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), index=True
    )
    module_code: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    job_id: Mapped[str | None] = mapped_column(String(36), default=None, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class LineItemRow(Base):
    """The gradebook column of an assessment module in a course. The row is claimed before
    the platform call that creates the column, so two syncs never create two columns."""

    __tablename__ = "line_items"
    __table_args__ = (UniqueConstraint("context_pk", "module_code", name="uq_lineitem_ctx_mod"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    module_code: Mapped[str] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(String(1024), default=None)
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SyncJobRow(Base):
    """A grade-sync run and its counts (its items are the outbox rows with its id).
    ``qualification_code``: the qualification of the launch that started it (its link's
    ``qualification`` custom parameter, else the course's), which titles the columns it makes.
    ``queue_owner``: the process whose in-process queue holds or runs it (``jobs/owners.py``),
    None on RQ."""

    __tablename__ = "sync_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    qualification_code: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    queue_owner: Mapped[str | None] = mapped_column(String(32), default=None)
