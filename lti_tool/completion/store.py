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


def store_completions(
    session: Session,
    user_pk: int,
    source: str,
    completions: list[Completion],
    read_at: dt.datetime | None = None,
) -> None:
    """Upsert one source's records; courses not in ``completions`` keep their old rows."""
    store_many_completions(session, source, [(user_pk, completions, read_at or utcnow())])


def store_many_completions(
    session: Session, source: str, batch: list[tuple[int, list[Completion], dt.datetime]]
) -> None:
    """Upsert several students' records from one source in one statement. Each student's
    records carry the time they were read: a row already holding a later read is left alone
    (a class refresh writes its batch after a student's own refresh may have stored newer
    news), and the stored ``fetched_at`` is when the LMS was asked, not when this ran."""
    rows = []
    guesses: set[tuple[int, str]] = set()
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
                }
            )
            if item.status is CompletionStatus.UNTRACKABLE or not item.enrolled:
                guesses.add((user_pk, item.course_code))
    rows = _keep_known_completions(session, source, rows, guesses)
    if not rows:
        return
    # One multi-row upsert: a statement per course was most of a class refresh's cost. A
    # staff correction (``manual``) always replaces the last one; a read from the LMS only
    # an older read (workers' clocks are assumed in step, as NTP keeps them).
    columns = ("status", "started_at", "completed_at", "fetched_at")
    upsert(
        session,
        CompletionRecord,
        rows,
        ["user_pk", "course_code", "source"],
        columns,
        unless_newer=None if source == MANUAL_SOURCE else "fetched_at",
    )


def _keep_known_completions(
    session: Session, source: str, rows: list[dict[str, Any]], guesses: set[tuple[int, str]]
) -> list[dict[str, Any]]:
    """``rows`` with each of the ``guesses`` that would overwrite a stored completion turned
    back into that completion. A guess is an answer that says nothing of work done:
    ``untrackable`` (the course's completion criteria removed) or "not enrolled" (Moodle and
    Canvas forget an ended or suspended enrolment's progress). A course the LMS once reported
    completed stays completed: unknown never erases what was known."""
    if not guesses:
        return rows
    completed = {
        (row.user_pk, row.course_code): row
        for row in session.execute(
            select(
                CompletionRecord.user_pk,
                CompletionRecord.course_code,
                CompletionRecord.started_at,
                CompletionRecord.completed_at,
            ).where(
                CompletionRecord.source == source,
                CompletionRecord.status == CompletionStatus.COMPLETED.value,
                CompletionRecord.user_pk.in_({pk for pk, _ in guesses}),
            )
        ).all()
    }
    kept = []
    for row in rows:
        known = completed.get((row["user_pk"], row["course_code"]))
        if (row["user_pk"], row["course_code"]) in guesses and known is not None:
            # The stored completion is written again as it was: the read still counts as a
            # read (``fetched_at``), so the copy is fresh and not asked for on every launch.
            row = {
                **row,
                "status": CompletionStatus.COMPLETED.value,
                "started_at": known.started_at,
                "completed_at": known.completed_at,
            }
        kept.append(row)
    return kept
