"""The audit log: every staff change, with who, when, old → new and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool.persistence.models import AuditEntry

# The key in ``new`` that names the admin (tool admins have no user row to point at).
ADMIN_KEY = "admin"


def registration_subject(registration_pk: int, detail: str | None = None) -> str:
    """The ``subject`` of an admin change: ``registration:3`` or ``registration:3/…``."""
    base = f"registration:{registration_pk}"
    return f"{base}/{detail}" if detail else base


def deployment_subject(registration_pk: int, deployment_pk: int) -> str:
    """The ``subject`` of a change to one deployment: ``registration:3/deployment:7``."""
    return registration_subject(registration_pk, f"deployment:{deployment_pk}")


def audit(
    session: Session,
    *,
    action: str,
    actor_user_pk: int | None,
    context_pk: int | None,
    subject: str | None = None,
    subject_user_pk: int | None = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Add an audit row to the caller's transaction (written only if the change is)."""
    session.add(
        AuditEntry(
            action=action,
            actor_user_pk=actor_user_pk,
            context_pk=context_pk,
            subject=subject,
            subject_user_pk=subject_user_pk,
            old=old,
            new=new,
            reason=(reason or None) and reason[:500],
        )
    )
