"""The export's assessment results (with their gradebook sync) and audit entries: the parts
where other people's values and results held for the exam board must be left out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool.persistence.models import AssessmentResultRow, AuditEntry, OutboxRow

# Audit actions that are always about one student (their subject column names them).
PERSONAL_ACTIONS = frozenset(
    {"result.save", "result.release", "module_start.student", "completion.manual"}
)


def iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def held(session: Session, user_pk: int, hide_held: bool) -> set[tuple[int, str]]:
    """(course, module) of the person's results still held back, when they are hidden."""
    if not hide_held:
        return set()
    rows = session.execute(
        select(AssessmentResultRow.context_pk, AssessmentResultRow.module_code).where(
            AssessmentResultRow.user_pk == user_pk, AssessmentResultRow.released.is_(False)
        )
    )
    return {(int(context_pk), str(module)) for context_pk, module in rows}


def results(
    session: Session, user_pk: int, courses: dict[int, dict[str, Any]], hide_held: bool = False
) -> list[dict[str, Any]]:
    rows = list(
        session.scalars(
            select(AssessmentResultRow)
            .where(AssessmentResultRow.user_pk == user_pk)
            .order_by(AssessmentResultRow.module_code, AssessmentResultRow.id)
        )
    )
    latest: dict[int, OutboxRow] = {}
    if rows:
        outbox = session.scalars(
            select(OutboxRow)
            .where(OutboxRow.result_pk.in_([row.id for row in rows]))
            .order_by(OutboxRow.id)
        )
        for item in outbox:
            latest[item.result_pk] = item  # ordered by id: the newest wins
    return [
        {
            "course": courses.get(row.context_pk),
            "module_code": row.module_code,
            "released": False,
            "held": "This result is held until the exam board releases it.",
        }
        if hide_held and not row.released
        else {
            "course": courses.get(row.context_pk),
            "module_code": row.module_code,
            "score": row.score,
            "max_score": row.max_score,
            "outcome": row.outcome,
            "comment": row.comment,
            "released": row.released,
            "override_reason": row.override_reason,
            "changed_at": iso(row.changed_at),
            "grade_sync": _sync(latest.get(row.id)),
        }
        for row in rows
    ]


def _sync(item: OutboxRow | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "status": item.status,
        "attempts": item.attempts,
        "last_error": item.last_error,
        "updated_at": iso(item.updated_at),
        "delivered_at": iso(item.delivered_at),
    }


def audit_entries(
    session: Session,
    user_pk: int,
    courses: dict[int, dict[str, Any]],
    held: set[tuple[int, str]] | frozenset[tuple[int, str]] = frozenset(),
) -> list[dict[str, Any]]:
    about = or_(AuditEntry.actor_user_pk == user_pk, AuditEntry.subject_user_pk == user_pk)
    entries: list[dict[str, Any]] = []
    for row in session.scalars(select(AuditEntry).where(about).order_by(AuditEntry.at)):
        is_subject = row.subject_user_pk == user_pk
        by_them = row.actor_user_pk == user_pk
        # About someone else: a named other person, or (once that person is erased and the
        # column cleared) an action that is always about one student.
        about_other = (
            by_them
            and not is_subject
            and (row.subject_user_pk is not None or row.action in PERSONAL_ACTIONS)
        )
        withheld = (
            is_subject
            and row.action.startswith("result.")
            and (row.context_pk or 0, row.subject or "") in held
        )
        about_other = about_other or withheld
        entries.append(
            {
                "at": iso(row.at),
                "action": row.action,
                "about_you": is_subject,
                "by_you": by_them,
                "course": courses.get(row.context_pk) if row.context_pk else None,
                "subject": row.subject,
                "old": None if about_other else row.old,
                "new": None if about_other else row.new,
                "reason": None if about_other else row.reason,
            }
        )
    return entries
