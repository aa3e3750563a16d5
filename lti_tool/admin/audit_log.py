"""The audit log as admins write and read it: every admin change names the admin; reading is
newest first, paged, filtered by action and course, and limited to the admin's scope."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased

from lti_tool.admin.audit_words import describe
from lti_tool.admin.identity import AdminIdentity
from lti_tool.audit import ADMIN_KEY, audit, registration_subject
from lti_tool.container import Services
from lti_tool.persistence.models import AuditEntry, Context, Deployment, User

PER_PAGE = 50


def record_admin_change(
    session: Session,
    identity: AdminIdentity,
    *,
    action: str,
    subject: str,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Audit an admin's change in the caller's transaction, naming the admin."""
    audit(
        session,
        action=action,
        actor_user_pk=identity.user_pk,
        context_pk=None,
        subject=subject,
        old=old,
        new={**(new or {}), ADMIN_KEY: identity.label},
        reason=reason,
    )


def contexts_of(registration_pk: int) -> Any:
    """A sub-select of the courses (contexts) belonging to one registration."""
    return (
        select(Context.id)
        .join(Deployment, Deployment.id == Context.deployment_pk)
        .where(Deployment.registration_id == registration_pk)
    )


def scope_filter(identity: AdminIdentity) -> ColumnElement[bool] | None:
    """What an LMS admin may read: their courses' entries and admin changes to their
    registration. None for tool admins (everything)."""
    pk = identity.registration_pk
    if pk is None:
        return None
    subject = registration_subject(pk)
    return or_(
        AuditEntry.context_pk.in_(contexts_of(pk)),
        AuditEntry.subject == subject,
        AuditEntry.subject.like(subject + "/%"),
    )


@dataclass(frozen=True)
class AuditRow:
    at: dt.datetime
    action: str
    actor: str
    course: str | None
    subject: str | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    reason: str | None
    summary: str = ""  # what changed, in words, naming the student


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    pages: int
    total: int
    actions: list[str]
    courses: list[tuple[int, str]]


def audit_page(
    services: Services,
    identity: AdminIdentity,
    *,
    action: str | None = None,
    context_pk: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> AuditPage:
    """One page of the audit log, newest first, within the admin's scope."""
    conditions: list[ColumnElement[bool]] = []
    scope = scope_filter(identity)
    if scope is not None:
        conditions.append(scope)
    filtered = list(conditions)
    if action:
        filtered.append(AuditEntry.action == action)
    if context_pk is not None:
        filtered.append(AuditEntry.context_pk == context_pk)
    student = aliased(User)
    with services.db.read_only() as session:
        total = int(session.scalar(select(func.count(AuditEntry.id)).where(*filtered)) or 0)
        pages = max(1, math.ceil(total / per_page))
        page = min(max(1, page), pages)
        found = session.execute(
            select(AuditEntry, User.name, Context.title, Context.context_id, student.name)
            .outerjoin(User, User.id == AuditEntry.actor_user_pk)
            .outerjoin(student, student.id == AuditEntry.subject_user_pk)
            .outerjoin(Context, Context.id == AuditEntry.context_pk)
            .where(*filtered)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        actions = list(
            session.scalars(
                select(AuditEntry.action).where(*conditions).distinct().order_by(AuditEntry.action)
            )
        )
        course_query = select(Context.id, Context.title, Context.context_id).order_by(
            Context.title, Context.id
        )
        if identity.registration_pk is not None:
            course_query = course_query.where(Context.id.in_(contexts_of(identity.registration_pk)))
        courses = [(pk, title or cid) for pk, title, cid in session.execute(course_query)]
    rows = [_row(entry, actor, title or cid, about) for entry, actor, title, cid, about in found]
    return AuditPage(rows, page, pages, total, actions, courses)


def _row(
    entry: AuditEntry, actor_name: str | None, course: str | None, student_name: str | None = None
) -> AuditRow:
    new = dict(entry.new) if entry.new is not None else None
    admin = new.pop(ADMIN_KEY, None) if new is not None else None
    if admin:
        actor = str(admin)
    elif entry.actor_user_pk is not None:
        actor = actor_name or f"user {entry.actor_user_pk}"
    else:
        actor = "—"
    return AuditRow(
        at=entry.at,
        action=entry.action,
        actor=actor,
        course=course,
        subject=entry.subject,
        old=entry.old,
        new=new or None,
        reason=entry.reason,
        summary=describe(
            entry.action, entry.subject, _student(entry, student_name), entry.old, new
        ),
    )


def _student(entry: AuditEntry, name: str | None) -> str | None:
    if entry.subject_user_pk is None:
        return None
    return name or f"user {entry.subject_user_pk}"
