"""Tool-admin accounts: created from the command line, only a password hash kept."""

from __future__ import annotations

import functools
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from lti_tool.errors import ToolError
from lti_tool.persistence.models import ToolAdmin, utcnow

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class AccountError(ToolError):
    """A tool-admin account could not be created or changed."""

    status = 422
    title = "The account could not be changed"


def check_username(username: str) -> str:
    username = username.strip()
    if not _USERNAME.match(username):
        raise AccountError(
            "bad_username",
            "A username is 1 to 64 letters, digits or . _ @ - (starting with a letter or digit).",
        )
    return username


def check_password(password: str) -> None:
    """Refuse passwords shorter than 12 characters (or absurdly long ones)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "short_password", f"The password must be at least {MIN_PASSWORD_LENGTH} characters."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("long_password", "The password is too long.")


def find_admin(session: Session, username: str) -> ToolAdmin | None:
    return session.scalar(select(ToolAdmin).where(ToolAdmin.username == username.strip()))


def _existing(session: Session, username: str) -> ToolAdmin:
    row = find_admin(session, username)
    if row is None:
        raise AccountError("unknown_admin", f"There is no tool admin called {username!r}.")
    return row


def create_admin(session: Session, username: str, password: str) -> ToolAdmin:
    """A new active tool admin; refuses a taken username and short passwords."""
    username = check_username(username)
    check_password(password)
    if find_admin(session, username) is not None:
        raise AccountError("duplicate", f"A tool admin called {username!r} already exists.")
    row = ToolAdmin(username=username, password_hash=generate_password_hash(password))
    session.add(row)
    session.flush()
    return row


def list_admins(session: Session) -> list[ToolAdmin]:
    return list(session.scalars(select(ToolAdmin).order_by(ToolAdmin.username)))


def deactivate_admin(session: Session, username: str) -> ToolAdmin:
    """The account can no longer log in; its open sessions end at their next request."""
    row = _existing(session, username)
    row.active = False
    session.flush()
    return row


def set_password(session: Session, username: str, password: str) -> ToolAdmin:
    check_password(password)
    row = _existing(session, username)
    row.password_hash = generate_password_hash(password)
    session.flush()
    return row


@functools.cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> ToolAdmin | None:
    """The active account whose password this is, else None. An unknown or inactive user
    costs the same hash check as a wrong password, so timing does not tell them apart."""
    row = find_admin(session, username) if _USERNAME.match(username.strip()) else None
    if row is None or not row.active:
        check_password_hash(_decoy_hash(), password)
        return None
    if not check_password_hash(row.password_hash, password):
        return None
    row.last_login_at = utcnow()
    return row
