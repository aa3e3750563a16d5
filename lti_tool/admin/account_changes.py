"""Tool-admin accounts created and changed (``lti-tool admin …``; no page does it), audited
like every other admin change. Passwords are never recorded."""

from __future__ import annotations

from lti_tool.admin import accounts
from lti_tool.admin.audit_log import record_admin_change
from lti_tool.admin.identity import AdminIdentity, require_tool_admin
from lti_tool.admin.login import SESSION_KIND
from lti_tool.container import Services

CREATE = "admin_account.create"
DEACTIVATE = "admin_account.deactivate"
NEW_CREDENTIAL = "admin_account.password"


def account_subject(username: str) -> str:
    return f"tool-admin:{username}"


def create_account(
    services: Services, identity: AdminIdentity, username: str, password: str
) -> str:
    """A new active tool admin; returns the username as stored (trimmed)."""
    require_tool_admin(identity, "Creating a tool-admin account")
    with services.db.unit_of_work() as session:
        name = accounts.create_admin(session, username, password).username
        record_admin_change(
            session, identity, action=CREATE, subject=account_subject(name), new={"active": True}
        )
    return name


def deactivate_account(services: Services, identity: AdminIdentity, username: str) -> None:
    """The account can no longer sign in; its open sessions end at once."""
    require_tool_admin(identity, "Deactivating a tool-admin account")
    with services.db.unit_of_work() as session:
        existing = accounts.find_admin(session, username)
        was = existing.active if existing is not None else None
        row = accounts.deactivate_admin(session, username)
        account_pk, name = row.id, row.username
        record_admin_change(
            session,
            identity,
            action=DEACTIVATE,
            subject=account_subject(name),
            old={"active": was},
            new={"active": False},
        )
    # Its sessions end at once: the health page trusts an open session when the database
    # does not answer (admin/login.py health_page_admin).
    services.store.delete_matching(SESSION_KIND, lambda data: data.get("account_pk") == account_pk)


def set_account_password(
    services: Services, identity: AdminIdentity, username: str, password: str
) -> None:
    """A new password; the sessions opened with the old one end at once."""
    require_tool_admin(identity, "Changing a tool admin's password")
    with services.db.unit_of_work() as session:
        row = accounts.set_password(session, username, password)
        account_pk, name = row.id, row.username
        record_admin_change(
            session, identity, action=NEW_CREDENTIAL, subject=account_subject(name), new={}
        )
    services.store.delete_matching(SESSION_KIND, lambda data: data.get("account_pk") == account_pk)
