"""Erasure requests from the Data Privacy Launch, decided by a tool admin."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.persistence.models.base import Base, utcnow


class ErasureRequest(Base):
    """A request to erase one person's data in one registration.

    While pending it names the person (``user_pk``, ``subject_sub``) and whoever asked.
    Once approved, the identifying columns are cleared and only a non-identifying record
    stays: when, who decided, and the counts of what was erased. ``pending_user_pk`` is set
    only while pending; its unique constraint keeps one open request per person even when
    two requests race (NULLs never collide).
    """

    __tablename__ = "erasure_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_pk: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), default=None, index=True
    )
    user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    pending_user_pk: Mapped[int | None] = mapped_column(Integer, default=None, unique=True)
    subject_sub: Mapped[str | None] = mapped_column(String(255), default=None)
    requested_by_user_pk: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    # "self" when the person asked, "lms_admin" when an LMS administrator asked for them.
    requested_by_role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(255), default=None)
    decision_reason: Mapped[str | None] = mapped_column(String(1000), default=None)
    erased_counts: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
