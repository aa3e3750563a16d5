"""Manual completion records: staff record or correct one, or import a CSV file.

A manual record overrides what any LMS source says about that course for that student (it
is how a correction is made), and every change is in the audit log with who, when and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.audit import audit
from lti_tool.completion.store import MANUAL_SOURCE as MANUAL
from lti_tool.completion.store import store_completions
from lti_tool.csv_files import check_rows
from lti_tool.errors import InvalidInput, quoted
from lti_tool.pathway.checklist import student_named_in_file
from lti_tool.pathway.module_starts import parse_date
from lti_tool.persistence.locks import locked
from lti_tool.persistence.models import CompletionRecord, User
from lti_tool.rules import Completion, CompletionStatus, Qualification

CSV_COLUMNS = ("student", "course_code", "status", "completed_at")


@dataclass(frozen=True)
class ManualEntry:
    user_pk: int
    completion: Completion
    reason: str


def parse_entry(qualification: Qualification, code: str, body: Any, user_pk: int) -> ManualEntry:
    """Check one record: a code of the qualification, a status, dates that make sense."""
    if not isinstance(body, dict):
        raise InvalidInput("bad_body", "Give a status, the date completed and a reason.")
    codes = {c.code for m in qualification.modules for c in m.courses}
    if code not in codes:
        raise InvalidInput(
            "unknown_course", f"{quoted(code)} is not a CPD course of {qualification.code}."
        )
    try:
        status = CompletionStatus(_status_word(body.get("status", "")))
        if status is CompletionStatus.UNTRACKABLE:
            raise ValueError(status)  # only an LMS says it cannot track a course
    except ValueError:
        raise InvalidInput(
            "bad_status",
            "Status must be one of: not started, in progress, completed.",
        ) from None
    completed_at = _optional_date(body.get("completed_at"), "completed_at")
    started_at = _optional_date(body.get("started_at"), "started_at")
    if status is CompletionStatus.COMPLETED and completed_at is None:
        raise InvalidInput("missing_date", "A completed course needs the date it was completed on.")
    if status is not CompletionStatus.COMPLETED and completed_at is not None:
        raise InvalidInput(
            "bad_date", "Only a completed course has a completion date: leave it empty."
        )
    if completed_at and completed_at > _latest_completion_date():
        raise InvalidInput(
            "future_date",
            f"The completion date {completed_at.strftime('%d/%m/%Y')} is in the future: "
            "record a course once it is completed.",
        )
    if completed_at and started_at and started_at > completed_at:
        raise InvalidInput("bad_date", "The start date is after the completion date.")
    reason = body.get("reason") or ""
    if not isinstance(reason, str):
        raise InvalidInput("bad_reason", "The reason must be text: say why, in words.")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("missing_reason", "Give a reason: it is kept in the audit log.")
    return ManualEntry(user_pk, Completion(code, status, started_at, completed_at, MANUAL), reason)


def _status_word(value: Any) -> str:
    """``completed``, ``In progress``, ``not_started``: the words a tutor writes, as a status."""
    return "_".join(str(value).strip().lower().replace("-", " ").replace("_", " ").split())


def _latest_completion_date() -> dt.date:
    """Today, with a day's allowance: the tutor's today may be UTC's tomorrow."""
    return dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)


def _optional_date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    return parse_date(value, field)


def record_manual(
    session: Session, context_pk: int, entry: ManualEntry, actor_user_pk: int | None
) -> None:
    """Store a manual record (replacing an earlier manual one) and audit old → new. The
    student's row is locked first, so parallel corrections audit the value each replaced."""
    locked(session, select(User).where(User.id == entry.user_pk))
    old = session.scalar(
        select(CompletionRecord)
        .where(
            CompletionRecord.user_pk == entry.user_pk,
            CompletionRecord.course_code == entry.completion.course_code,
            CompletionRecord.source == MANUAL,
        )
        # the upsert below bypasses the session: a copy it holds may be out of date
        .execution_options(populate_existing=True)
    )
    before = _as_dict(old.status, old.started_at, old.completed_at) if old else None
    store_completions(session, entry.user_pk, MANUAL, [entry.completion])
    item = entry.completion
    audit(
        session,
        action="completion.manual",
        actor_user_pk=actor_user_pk,
        context_pk=context_pk,
        subject=item.course_code,
        subject_user_pk=entry.user_pk,
        old=before,
        new=_as_dict(item.status.value, item.started_at, item.completed_at),
        reason=entry.reason,
    )


def _as_dict(status: str, started: dt.date | None, completed: dt.date | None) -> dict[str, Any]:
    return {
        "status": status,
        "started_at": started.isoformat() if started else None,
        "completed_at": completed.isoformat() if completed else None,
    }


def parse_csv(
    session: Session, qualification: Qualification, context_pk: int, text: str, reason: str
) -> list[ManualEntry]:
    """Columns student (LMS user id, email or username), course_code, status, completed_at;
    checked whole."""

    names: dict[int, str] = {}

    def row(values: dict[str, str]) -> ManualEntry:
        user = student_named_in_file(session, context_pk, values["student"], values.get("email"))
        names[user.id] = user.name or values["student"]
        body = {**values, "reason": values.get("reason") or reason}
        return parse_entry(qualification, values["course_code"], body, user.id)

    def about(entry: ManualEntry) -> tuple[tuple[int, str], str]:
        code = entry.completion.course_code
        return (entry.user_pk, code), f"{code} for {names[entry.user_pk]}"

    # A student and course on two lines: one record would silently replace the other.
    return check_rows(text, CSV_COLUMNS, row, repeat_of=about)
