"""Everything the tool holds about one person, as one JSON-ready document.

Pure queries, no Flask: the privacy page and the JSON download both show this document.
The shape is versioned (``schema_version``); fields are only ever added within a version.

Audit entries *by* the person about someone else keep when and what but leave out the other
person's values and the reason (``old``, ``new``, ``reason``): those are the other person's
data, not theirs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.persistence.models import (
    AssessmentResultRow,
    AuditEntry,
    CompletionRecord,
    Context,
    CourseGroup,
    CourseGroupMember,
    Membership,
    Registration,
    StudentModuleStart,
    User,
    utcnow,
)
from lti_tool.persistence.models.privacy import ErasureRequest
from lti_tool.privacy.export_results import audit_entries, held, iso, results

SCHEMA = "lti-tool/personal-data"
SCHEMA_VERSION = 1
IDENTITY_FIELDS = (
    "sub",
    "name",
    "given_name",
    "family_name",
    "email",
    "person_sourcedid",
    "lms_user_id",
)


def find_user(session: Session, registration_pk: int, sub: str) -> User | None:
    """The person ``sub`` of a registration, or None when the tool has never seen them."""
    return session.scalars(
        select(User).where(User.registration_id == registration_pk, User.sub == sub)
    ).first()


def personal_data(
    session: Session, registration_pk: int, sub: str, *, hide_held: bool = False
) -> dict[str, Any]:
    """The export document for ``sub``; ``found`` is False (and every list empty) when the
    tool holds nothing about them. With ``hide_held`` (the person asking about themself),
    results the course holds back for the exam board show only that they are held, and the
    audit entries of those results lose their values, until release (exam marks may be
    withheld until published: UK DPA 2018 Sch. 2 para 25)."""
    registration = session.get(Registration, registration_pk)
    user = find_user(session, registration_pk, sub)
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(utcnow()),
        "platform": {
            "name": registration.name if registration else None,
            "issuer": registration.issuer if registration else None,
        },
        "found": user is not None,
        "identity": None,
        "memberships": [],
        "completion_records": [],
        "module_starts": [],
        "assessment_results": [],
        "audit_entries": [],
        "erasure_requests": [],
    }
    if user is None:
        document["identity"] = {"sub": sub}
        return document
    courses = _courses(session, user.id)
    document.update(
        identity={
            **{field: getattr(user, field) for field in IDENTITY_FIELDS},
            "updated_at": iso(user.updated_at),
        },
        memberships=_memberships(session, user.id, courses),
        completion_records=_completions(session, user.id),
        module_starts=_module_starts(session, user.id, courses),
        assessment_results=results(session, user.id, courses, hide_held),
        audit_entries=audit_entries(session, user.id, courses, held(session, user.id, hide_held)),
        erasure_requests=_requests(session, user.id),
    )
    return document


def _courses(session: Session, user_pk: int) -> dict[int, dict[str, Any]]:
    """The courses the person's rows point at, keyed by context pk, as the export names them."""
    pks: set[int] = set()
    for model in (Membership, StudentModuleStart, AssessmentResultRow):
        pks.update(session.scalars(select(model.context_pk).where(model.user_pk == user_pk)))
    about = or_(AuditEntry.actor_user_pk == user_pk, AuditEntry.subject_user_pk == user_pk)
    pks.update(
        pk for pk in session.scalars(select(AuditEntry.context_pk).where(about)) if pk is not None
    )
    if not pks:
        return {}
    contexts = session.scalars(select(Context).where(Context.id.in_(pks)))
    return {
        ctx.id: {"context_id": ctx.context_id, "title": ctx.title, "label": ctx.label}
        for ctx in contexts
    }


def _memberships(
    session: Session, user_pk: int, courses: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Membership).where(Membership.user_pk == user_pk).order_by(Membership.id)
    )
    groups: dict[int, list[str]] = {}
    for context_pk, name in session.execute(
        select(CourseGroup.context_pk, CourseGroup.name)
        .join(CourseGroupMember, CourseGroupMember.group_pk == CourseGroup.id)
        .where(CourseGroupMember.user_pk == user_pk)
        .order_by(CourseGroup.name)
    ):
        groups.setdefault(int(context_pk), []).append(str(name))
    return [
        {
            "course": courses.get(row.context_pk),
            "roles": list(row.roles or []),
            "groups": groups.get(row.context_pk, []),
            "status": row.status,
            "in_roster": row.in_roster,
            "last_launch_at": iso(row.last_launch_at),
            "roster_seen_at": iso(row.roster_seen_at),
        }
        for row in rows
    ]


def _completions(session: Session, user_pk: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CompletionRecord)
        .where(CompletionRecord.user_pk == user_pk)
        .order_by(CompletionRecord.source, CompletionRecord.course_code)
    )
    return [
        {
            "source": row.source,
            "course_code": row.course_code,
            "status": row.status,
            "started_at": iso(row.started_at),
            "completed_at": iso(row.completed_at),
            "fetched_at": iso(row.fetched_at),
        }
        for row in rows
    ]


def _module_starts(
    session: Session, user_pk: int, courses: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(StudentModuleStart)
        .where(StudentModuleStart.user_pk == user_pk)
        .order_by(StudentModuleStart.module_code, StudentModuleStart.attempt)
    )
    return [
        {
            "course": courses.get(row.context_pk),
            "module_code": row.module_code,
            "attempt": row.attempt,
            "start_date": iso(row.start_date),
            "reason": row.reason,
            "recorded_at": iso(row.created_at),
        }
        for row in rows
    ]


def _requests(session: Session, user_pk: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ErasureRequest)
        .where(ErasureRequest.user_pk == user_pk)
        .order_by(ErasureRequest.requested_at)
    )
    return [
        {
            "id": row.id,
            "status": row.status,
            "requested_at": iso(row.requested_at),
            "requested_by": row.requested_by_role,
            "reason": row.reason,
            "decided_at": iso(row.decided_at),
            "decision_reason": row.decision_reason,
        }
        for row in rows
    ]
