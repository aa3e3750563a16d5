"""Storing completion copies: one source's word on each course of some students, in one
statement, without losing what is known (``refresh`` reads the LMS; this writes what it read,
and staff corrections, ``pathway/manual.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.persistence.models import CompletionRecord, utcnow
from lti_tool.persistence.upsert import upsert
from lti_tool.rules import Completion, CompletionStatus

MANUAL_SOURCE = "manual"  # pathway/manual.py: staff corrections
AGS_SOURCE = "ags"  # lms/ags_results.py: a course's gradebook


def store_completions(
    session: Session,
    user_pk: int,
    source: str,
    completions: list[Completion],
    read_at: dt.datetime | None = None,
    context_pk: int | None = None,
) -> None:
    """Upsert one source's records; courses not in ``completions`` keep their old rows.
    ``context_pk``: the course whose gradebook an AGS reading came from."""
    batch = [(user_pk, completions, read_at or utcnow())]
    store_many_completions(session, source, batch, context_pk)


def store_many_completions(
    session: Session,
    source: str,
    batch: list[tuple[int, list[Completion], dt.datetime]],
    context_pk: int | None = None,
) -> None:
    """Upsert several students' records from one source in one statement. Each student's
    records carry the time they were read: a row already holding a later read is left alone
    (a class refresh writes its batch after a student's own refresh may have stored newer
    news), and the stored ``fetched_at`` is when the LMS was asked, not when this ran. An AGS
    reading is one course's gradebook (``context_pk``), kept with the record it gave."""
    rows = []
    weak: set[tuple[int, str]] = set()
    origin = context_pk if source == AGS_SOURCE else None
    for user_pk, completions, read_at in batch:
        for item in {c.course_code: c for c in completions}.values():
            rows.append(
                {
                    "user_pk": user_pk,
                    "course_code": item.course_code,
                    "source": source,
                    "status": item.status.value,
                    "started_at": item.started_at,
                    "completed_at": item.completed_at,
                    "fetched_at": read_at,
                    "context_pk": origin,
                }
            )
            if _may_say_less(source, item):
                weak.add((user_pk, item.course_code))
    rows = _keep_known_completions(session, source, rows, weak)
    if not rows:
        return
    # One multi-row upsert: a statement per course was most of a class refresh's cost. A
    # staff correction (``manual``) always replaces the last one; a read from the LMS only
    # an older read (workers' clocks are assumed in step, as NTP keeps them).
    columns = ("status", "started_at", "completed_at", "fetched_at", "context_pk")
    upsert(
        session,
        CompletionRecord,
        rows,
        ["user_pk", "course_code", "source"],
        columns,
        unless_newer=None if source == MANUAL_SOURCE else "fetched_at",
    )


def _may_say_less(source: str, item: Completion) -> bool:
    """Whether ``item`` may say less than a stored record: a guess (``untrackable``, or "not
    enrolled": Moodle and Canvas forget an ended or suspended enrolment's progress), or an
    AGS reading short of completed (one course's gradebook; the student may have finished
    the CPD course in another's)."""
    if item.status is CompletionStatus.UNTRACKABLE or not item.enrolled:
        return True
    return source == AGS_SOURCE and item.status is not CompletionStatus.COMPLETED


def _keep_known_completions(
    session: Session, source: str, rows: list[dict[str, Any]], weak: set[tuple[int, str]]
) -> list[dict[str, Any]]:
    """``rows`` with each of the ``weak`` ones that would overwrite what is known turned back
    into the stored record. A guess never erases a completion: unknown never erases what was
    known. A gradebook (AGS) only records what it says of the student: a column with no
    score for them changes nothing stored, and a score below the threshold undoes only a
    completion the same course's gradebook gave."""
    if not weak:
        return rows
    query = select(
        CompletionRecord.user_pk,
        CompletionRecord.course_code,
        CompletionRecord.status,
        CompletionRecord.started_at,
        CompletionRecord.completed_at,
        CompletionRecord.context_pk,
    ).where(
        CompletionRecord.source == source,
        CompletionRecord.user_pk.in_({pk for pk, _ in weak}),
    )
    if source != AGS_SOURCE:
        query = query.where(CompletionRecord.status == CompletionStatus.COMPLETED.value)
    known = {(row.user_pk, row.course_code): row for row in session.execute(query).all()}
    kept = []
    for row in rows:
        key = (row["user_pk"], row["course_code"])
        stored = known.get(key) if key in weak else None
        if stored is not None and _stands(source, row, stored.status, stored.context_pk):
            # The stored record is written again as it was: the read still counts as a
            # read (``fetched_at``), so the copy is fresh and not asked for on every launch.
            row = {
                **row,
                "status": stored.status,
                "started_at": stored.started_at,
                "completed_at": stored.completed_at,
                "context_pk": stored.context_pk,
            }
        kept.append(row)
    return kept


def _stands(source: str, row: dict[str, Any], status: str, context_pk: int | None) -> bool:
    """Whether the stored record (its ``status``, from ``context_pk``'s gradebook) stands
    against the weak reading ``row``."""
    if source != AGS_SOURCE or row["status"] == CompletionStatus.NOT_STARTED.value:
        return True  # a guess over a completion; a gradebook with no score for them
    completed = status == CompletionStatus.COMPLETED.value
    return completed and context_pk != row["context_pk"]  # None: from a course not known
