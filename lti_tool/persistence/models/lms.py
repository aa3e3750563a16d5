"""Completion-source settings and CPD course mappings per registration."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.persistence.models.base import Base, utcnow


class CompletionSourceConfig(Base):
    """Where a registration's completion data comes from: Moodle web services, Canvas REST,
    AGS results or manual records; the API token is stored encrypted."""

    __tablename__ = "completion_sources"
    registration_pk: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    endpoint_url: Mapped[str | None] = mapped_column(String(1024), default=None)
    token_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    mode: Mapped[str] = mapped_column(String(16), default="course")
    ags_threshold: Mapped[float] = mapped_column(default=0.5)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CourseMappingRow(Base):
    """One CPD course code → an LMS course (and activity/module, in activity mode)."""

    __tablename__ = "course_mappings"
    __table_args__ = (
        UniqueConstraint("registration_pk", "course_code", name="uq_mapping_reg_code"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_pk: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    course_code: Mapped[str] = mapped_column(String(32))
    course_id: Mapped[str] = mapped_column(String(64))
    activity_id: Mapped[str | None] = mapped_column(String(64), default=None)
    label: Mapped[str | None] = mapped_column(String(255), default=None)
    origin: Mapped[str] = mapped_column(String(16), default="admin")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
