"""Course groups (tutor groups) from the LTI Course Groups service, and who is in them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.persistence.models.base import Base, utcnow


class CourseGroup(Base):
    """One group of a course as the platform lists it (``set_name``: its group set)."""

    __tablename__ = "course_groups"
    __table_args__ = (UniqueConstraint("context_pk", "group_id", name="uq_group_ctx_group"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    context_pk: Mapped[int] = mapped_column(
        ForeignKey("contexts.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    set_name: Mapped[str | None] = mapped_column(String(255), default=None)
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CourseGroupMember(Base):
    """A student's membership of a course group."""

    __tablename__ = "course_group_members"
    group_pk: Mapped[int] = mapped_column(
        ForeignKey("course_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_pk: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
