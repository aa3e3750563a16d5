"""Who is administering: a tool admin (every registration), an LMS admin (their own), or
whoever runs the ``lti-tool`` command (every registration, named apart in the audit log)."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Literal

from lti_tool.errors import Forbidden, NotFound

AdminKind = Literal["tool_admin", "lms_admin", "command_line"]
# How the audit log names the command line's user: no account name has a colon in it.
COMMAND_LINE_PREFIX = "cli:"


@dataclass(frozen=True)
class AdminIdentity:
    """An authorised administrator. ``registration_pk`` is None for tool admins (all
    registrations); an LMS admin is held to the registration they launched from."""

    name: str
    kind: AdminKind
    registration_pk: int | None
    user_pk: int | None = None  # the LMS admin's user row: the audit log's actor
    account_pk: int | None = None  # the tool-admin account

    @property
    def is_tool_admin(self) -> bool:
        """Tool admins and the command line (it runs on the tool's own server) may change
        every registration."""
        return self.kind in ("tool_admin", "command_line")

    @property
    def label(self) -> str:
        """How the audit log names them."""
        if self.kind == "command_line":
            return f"{COMMAND_LINE_PREFIX}{self.name}"
        if self.is_tool_admin:
            return f"tool admin {self.name}"
        return f"LMS admin {self.name} (registration {self.registration_pk})"

    def may_see(self, registration_pk: int) -> bool:
        return self.registration_pk is None or self.registration_pk == registration_pk


def command_line_identity(user: str | None = None) -> AdminIdentity:
    """Whoever runs ``lti-tool``: a tool admin's powers, recorded in the audit log as
    ``cli:<login name>`` (or ``cli:<user>`` when a name is given)."""
    if user is None:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name in some containers
            user = "unknown user"
    return AdminIdentity(name=user, kind="command_line", registration_pk=None)


def check_scope(identity: AdminIdentity, registration_pk: int) -> None:
    """NotFound (not 403: another platform's registrations are not even named) when the
    registration is outside the admin's scope."""
    if not identity.may_see(registration_pk):
        raise NotFound("unknown_registration", "There is no such registration.")


def require_tool_admin(identity: AdminIdentity, what: str) -> None:
    """Forbidden for LMS admins: ``what`` affects every platform."""
    if not identity.is_tool_admin:
        raise Forbidden(
            "tool_admin_only",
            f"{what} affects every platform using the tool, so only a tool administrator "
            "may do it.",
        )
