"""Erase one person from the database, keeping the audit log with the person taken out.

Used by an approved erasure request and by the retention purge. Runs in the caller's
transaction, so either everything listed here happens or nothing does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from lti_tool.grading.outbox import lock_in_order
from lti_tool.persistence.models import (
    AssessmentResultRow,
    AuditEntry,
    CompletionRecord,
    Membership,
    OutboxRow,
    StudentModuleStart,
    User,
    utcnow,
)
from lti_tool.persistence.models.privacy import ErasureRequest

ERASED = "[erased]"
PENDING, APPROVED, REJECTED, CLOSED = "pending", "approved", "rejected", "closed"
CLOSED_BY = "erased otherwise (retention purge or another request)"
# Names shorter than this are not scrubbed from free text on their own: "Al" would also
# match inside ordinary words far too often to be worth it (whole words only, anyway).
_MIN_NAME_LENGTH = 3


@dataclass(frozen=True)
class ErasedCounts:
    """How many rows of each kind an erasure removed or anonymised. Non-identifying."""

    completion_records: int = 0
    module_starts: int = 0
    assessment_results: int = 0
    outbox_rows: int = 0
    memberships: int = 0
    users: int = 0
    audit_entries_anonymised: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __add__(self, other: ErasedCounts) -> ErasedCounts:
        mine, theirs = self.as_dict(), other.as_dict()
        return ErasedCounts(**{key: mine[key] + theirs[key] for key in mine})


def identifying_strings(user: User) -> list[str]:
    """The values that name the person in free text: ids, email, names."""
    values = [user.sub, user.email, user.person_sourcedid, user.lms_user_id, user.name]
    values += [user.given_name, user.family_name]
    found = {v.strip() for v in values if v and len(v.strip()) >= _MIN_NAME_LENGTH}
    return sorted(found, key=len, reverse=True)


def scrub_text(text: str | None, needles: Iterable[str]) -> str | None:
    """``text`` with every whole-word occurrence of a needle replaced by ``[erased]``."""
    if not text:
        return text
    for needle in needles:
        text = re.sub(rf"(?<!\w){re.escape(needle)}(?!\w)", ERASED, text, flags=re.IGNORECASE)
    return text


def _scrub_json(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, needles)
    if isinstance(value, list):
        return [_scrub_json(v, needles) for v in value]
    if isinstance(value, dict):
        return {str(scrub_text(str(k), needles)): _scrub_json(v, needles) for k, v in value.items()}
    return value


def erase_user(session: Session, user_pk: int) -> ErasedCounts:
    """Delete the person's records and user row; anonymise the audit rows about or by them.

    The user row is deleted (not blanked) so nothing of the person stays; a later launch
    simply creates a new record. Audit rows are kept: the actor/subject columns pointing at
    the person are cleared and their ids, email and names are replaced in the free text.
    """
    user = session.get(User, user_pk)
    if user is None:
        return ErasedCounts()
    needles = identifying_strings(user)
    context_pks = list(
        session.scalars(select(Membership.context_pk).where(Membership.user_pk == user_pk))
    )
    # The rows about or by them, and the free text of their courses' rows (a staff reason
    # may name a student).
    about = or_(AuditEntry.actor_user_pk == user_pk, AuditEntry.subject_user_pk == user_pk)
    scope = or_(about, AuditEntry.context_pk.in_(context_pks)) if context_pks else about
    audited = anonymise_audit(session, scope, {user_pk}, needles)
    result_pks = list(
        session.scalars(
            select(AssessmentResultRow.id).where(AssessmentResultRow.user_pk == user_pk)
        )
    )
    outbox = 0
    if result_pks:
        # Locked first in the one order of outbox rows (grading/outbox.py): no deadlock with
        # a grade sync claiming or recording them.
        lock_in_order(session, OutboxRow.result_pk.in_(result_pks))
        outbox = _delete(session, OutboxRow, OutboxRow.result_pk.in_(result_pks))
    results = _delete(session, AssessmentResultRow, AssessmentResultRow.user_pk == user_pk)
    session.execute(
        update(AssessmentResultRow)
        .where(AssessmentResultRow.changed_by_user_pk == user_pk)
        .values(changed_by_user_pk=None)
    )
    starts = _delete(session, StudentModuleStart, StudentModuleStart.user_pk == user_pk)
    session.execute(
        update(StudentModuleStart)
        .where(StudentModuleStart.created_by_user_pk == user_pk)
        .values(created_by_user_pk=None)
    )
    completions = _delete(session, CompletionRecord, CompletionRecord.user_pk == user_pk)
    memberships = _delete(session, Membership, Membership.user_pk == user_pk)
    _forget_in_requests(session, user_pk)
    users = _delete(session, User, User.id == user_pk)
    return ErasedCounts(
        completion_records=completions,
        module_starts=starts,
        assessment_results=results,
        outbox_rows=outbox,
        memberships=memberships,
        users=users,
        audit_entries_anonymised=audited,
    )


def _delete(session: Session, model: Any, condition: Any) -> int:
    result: Any = session.execute(delete(model).where(condition))
    return int(result.rowcount or 0)


def anonymise_audit(session: Session, scope: Any, user_pks: set[int], needles: list[str]) -> int:
    """In the audit rows matching ``scope``: clear actor/subject columns pointing at
    ``user_pks`` and replace ``needles`` in the free text. Returns the rows changed."""
    changed = 0
    for entry in session.scalars(select(AuditEntry).where(scope)):
        touched = False
        if entry.actor_user_pk in user_pks:
            entry.actor_user_pk, touched = None, True
        if entry.subject_user_pk in user_pks:
            entry.subject_user_pk, touched = None, True
        for column in ("subject", "reason"):
            before = getattr(entry, column)
            after = scrub_text(before, needles)
            if after != before:
                setattr(entry, column, after)
                touched = True
        for column in ("old", "new"):
            before_json = getattr(entry, column)
            after_json = _scrub_json(before_json, needles)
            if after_json != before_json:
                setattr(entry, column, after_json)
                touched = True
        changed += touched
    session.flush()
    return changed


def _forget_in_requests(session: Session, user_pk: int) -> None:
    """Earlier requests about the person (rejected, or still pending) stop naming them; a
    pending one is closed, since there is nothing left to erase."""
    session.execute(
        update(ErasureRequest)
        .where(ErasureRequest.user_pk == user_pk, ErasureRequest.status == PENDING)
        .values(status=CLOSED, decided_at=utcnow(), decided_by=CLOSED_BY)
    )
    session.execute(
        update(ErasureRequest)
        .where(ErasureRequest.user_pk == user_pk)
        .values(user_pk=None, pending_user_pk=None, subject_sub=None, reason=None)
    )
    session.execute(
        update(ErasureRequest)
        .where(ErasureRequest.requested_by_user_pk == user_pk)
        .values(requested_by_user_pk=None)
    )
