"""Tool-administrator accounts (``lti-tool admin create``), for people who run the tool itself
rather than administer one LMS."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Integer, String
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.persistence.models.base import Base, utcnow


class ToolAdmin(Base):
    """A tool-admin account. Only a password hash is kept (werkzeug's scrypt/pbkdf2)."""

    __tablename__ = "tool_admins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(default=None)
