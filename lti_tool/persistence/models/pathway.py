"""Course settings, module start dates, completion copies and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.persistence.models.base import Base, utcnow


class ContextSettings(Base):
    """Per-course choices staff make: the qualification it tracks, where it was copied from."""

    __tablename__ = "context_settings"
    context_pk: Mapped[int] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), primary_key=True
    )
    qualification_code: Mapped[str | None] = mapped_column(String(64), default=None)
    copied_from_context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CohortModuleStart(Base):
    """The assessment-module start date of a course's cohort (e.g. a module starting on 30 May)."""

    __tablename__ = "cohort_module_starts"
    __table_args__ = (UniqueConstraint("context_pk", "module_code", name="uq_cohort_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    module_code: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32), default="staff")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StudentModuleStart(Base):
    """One attempt's start for one student (late registration, resit); the latest attempt is
    in force and earlier ones are kept as history."""

    __tablename__ = "student_module_starts"
    __table_args__ = (
        UniqueConstraint(
            "context_pk", "user_pk", "module_code", "attempt", name="uq_student_start_attempt"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    module_code: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    created_by_user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CompletionRecord(Base):
    """The tool's dated copy of one source's word on one CPD course for one student."""

    __tablename__ = "completion_records"
    __table_args__ = (
        UniqueConstraint("user_pk", "course_code", "source", name="uq_completion_user_course_src"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.date | None] = mapped_column(Date, default=None)
    completed_at: Mapped[dt.date | None] = mapped_column(Date, default=None)
    source: Mapped[str] = mapped_column(String(32))
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # An AGS record's course: the gradebook it was read from (``completion/store.py``).
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="SET NULL"), default=None
    )


class AuditEntry(Base):
    """Who changed what, when, from what to what, and why. Kept when people are erased
    (the actor and subject columns are then cleared, the rest stays)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    context_pk: Mapped[int | None] = mapped_column(
        ForeignKey("contexts.id", ondelete="SET NULL"), default=None, index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    subject_user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    subject: Mapped[str | None] = mapped_column(String(255), default=None)
    old: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
