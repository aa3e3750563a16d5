"""The whole class at once: hours, eligibility, risks, results and their sync status.

Built from five queries for the whole course (not per student), then the pure rules engine
per student, so 500 students stay quick; a page in the default order runs the rules for the
students it shows only (``ClassData``, ``person_row``, ``with_modules``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.completion.unmapped import Unread, source_mapping
from lti_tool.grading.class_columns import class_columns
from lti_tool.pathway.checklist import (
    CompletionCopy,
    completion_copies_of_many,
    completions_in_force,
)
from lti_tool.pathway.class_list import Student, students_of
from lti_tool.pathway.module_starts import effective_starts_of_many
from lti_tool.persistence.models import (
    AssessmentResultRow,
    OutboxRow,
)
from lti_tool.rules import (
    AssessmentOutcome,
    AssessmentResult,
    Qualification,
    evaluate,
)


@dataclass(frozen=True)
class ClassData:
    """What the class view reads of some students of a course, one query per kind (not
    per student): each one's completion copy, module starts, results and their sync status."""

    qualification: Qualification
    today: dt.date
    # Every stored copy: a student's completions are made when their rules run.
    completions: dict[int, list[CompletionCopy]]
    read_at: dict[int, dt.datetime]
    starts: dict[int, dict[str, dt.date]]
    results: dict[int, dict[str, Result]]
    sync: dict[int, SyncState]
    # The CPD courses the course's LMS source never reads: unknown for every student.
    unread: Unread


def load_class(
    session: Session,
    qualification: Qualification,
    context_pk: int,
    today: dt.date,
    ids: list[int],
) -> ClassData:
    """The class data (``ClassData``) of the students ``ids``; no rules are run yet."""
    copies = completion_copies_of_many(session, ids)
    results: dict[int, dict[str, Result]] = defaultdict(dict)
    for row in session.execute(
        select(*(getattr(AssessmentResultRow, name) for name in Result._fields)).where(
            AssessmentResultRow.context_pk == context_pk, AssessmentResultRow.user_pk.in_(ids)
        )
    ):
        result = Result(*row)
        results[result.user_pk][result.module_code] = result
    return ClassData(
        qualification=qualification,
        today=today,
        completions=copies,
        read_at=lms_read_at(copies),
        starts=effective_starts_of_many(session, context_pk, ids),
        results=results,
        sync=latest_sync(session, context_pk),
        unread=Unread.of(source_mapping(session, context_pk), qualification),
    )


def class_rows(
    session: Session, qualification: Qualification, context_pk: int, today: dt.date
) -> list[dict[str, Any]]:
    """One entry per active student, sorted by family name then name."""
    students = students_of(session, context_pk)
    data = load_class(session, qualification, context_pk, today, [s.pk for s in students])
    return [with_modules(data, person_row(student)) for student in students]


def person_row(student: Student) -> dict[str, Any]:
    """A student's row without its ``modules`` (``with_modules`` adds them): what the
    default order (by name) and the "has not opened the tool" filter need, no rules run."""
    return {
        "user_pk": student.pk,
        "sub": student.sub,
        "name": student.name,
        "email": student.email,
        "status": student.status,
        "launched": student.last_launch_at is not None,
        # When the LMS was last read for this student; None: never (not a zero).
        "read_at": None,  # known with the modules (``with_modules``)
    }


def with_modules(data: ClassData, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (a ``person_row``) with its ``modules``: the rules engine run on the
    student's completion, starts and results."""
    mine = data.results.get(row["user_pk"], {})
    assessments = {
        code: AssessmentResult(AssessmentOutcome(r.outcome), r.score, r.max_score)
        for code, r in mine.items()
    }
    in_force = completions_in_force(data.completions.get(row["user_pk"], []))
    completions = data.unread.applied(in_force)
    checklist = evaluate(
        data.qualification,
        completions,
        data.starts[row["user_pk"]],
        data.today,
        assessments,
    )
    modules = []
    for module in checklist.modules:
        held = mine.get(module.code)
        modules.append(
            {
                "code": module.code,
                "hours_completed": module.hours_completed,
                "hours_required": module.hours_required,
                "cpd_complete": module.cpd_complete,
                # False while a course it needs cannot be tracked by the LMS.
                "fully_known": module.fully_known,
                "at_risk": any(r.at_risk for r in module.requirements),
                "overdue": any(r.overdue for r in module.requirements),
                "result": _result(held, data.sync.get(held.id) if held else None),
            }
        )
    row["read_at"] = data.read_at.get(row["user_pk"])
    row["modules"] = modules
    return row


def lms_read_at(copies: dict[int, list[CompletionCopy]]) -> dict[int, dt.datetime]:
    """When each student's completion was last read from an LMS (manual records aside)."""
    read_at = {}
    for pk, mine in copies.items():
        fetched = [copy.fetched_at for copy in mine if copy.source != "manual"]
        if fetched:
            read_at[pk] = max(fetched)
    return read_at


def latest_sync(session: Session, context_pk: int) -> dict[int, SyncState]:
    """The newest outbox row of each result (what the sync status column shows)."""
    rows = session.execute(
        select(OutboxRow.result_pk, OutboxRow.status, OutboxRow.delivered_at, OutboxRow.last_error)
        .where(OutboxRow.context_pk == context_pk, OutboxRow.status != "superseded")
        .order_by(OutboxRow.id)
    )
    return {
        int(result_pk): SyncState(status, delivered_at, last_error)
        for result_pk, status, delivered_at, last_error in rows
    }


class Result(NamedTuple):
    """The columns of a stored result the class view shows (``AssessmentResultRow``)."""

    id: int
    user_pk: int
    module_code: str
    score: float
    max_score: float
    outcome: str
    comment: str | None
    released: bool
    override_reason: str | None
    changed_at: dt.datetime


class SyncState(NamedTuple):
    """The columns of a result's newest outbox row the class view shows (``OutboxRow``)."""

    status: str
    delivered_at: dt.datetime | None
    last_error: str | None


def _result(result: Result | None, outbox: SyncState | None) -> dict[str, Any] | None:
    if result is None:
        return None
    if not result.released:
        sync = {"status": "held", "synced_at": None, "error": None}
    elif outbox is None:
        sync = {"status": "pending", "synced_at": None, "error": None}
    else:
        sync = {
            "status": {"sending": "pending"}.get(outbox.status, outbox.status),
            "synced_at": outbox.delivered_at.isoformat() if outbox.delivered_at else None,
            "error": outbox.last_error,
        }
    return {
        "score": result.score,
        "max": result.max_score,
        "outcome": result.outcome,
        "comment": result.comment,
        "released": result.released,
        # What a change sends back as expected_changed_at (the class table's cells do).
        "changed_at": result.changed_at.isoformat(),
        "override_reason": result.override_reason,
        "sync": sync,
    }


@dataclass(frozen=True)
class ClassPage:
    """One page of the class view: its rows, how many students the filter keeps, the page
    shown (the last one when a later page was asked for) and how many pages there are."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def class_page(
    session: Session,
    qualification: Qualification,
    context_pk: int,
    today: dt.date,
    *,
    filter_name: str,
    sort_name: str,
    page: int,
    size: int,
    members: set[int] | None = None,
) -> ClassPage:
    """The rows of page ``page`` (``size`` a page) under a filter and order of the class
    view (``class_columns``), only ``members``' when given. The filter and the default
    order (by name) read only who the students are: then the class data is read and the
    rules engine run for the page's students only, whatever the size of the class."""
    layout = class_columns(qualification)
    rows = [person_row(student) for student in students_of(session, context_pk)]
    if members is not None:
        rows = [row for row in rows if row["user_pk"] in members]
    everyone = layout.needs_modules(filter_name, sort_name)
    if everyone:
        data = load_class(session, qualification, context_pk, today, _pks(rows))
        rows = [with_modules(data, row) for row in rows]
    rows = [row for row in rows if layout.keep(row, filter_name)]
    rows.sort(key=layout.sort_key(sort_name))
    pages = max(1, -(-len(rows) // size))
    shown = rows[(page - 1) * size : page * size]
    if not everyone:
        data = load_class(session, qualification, context_pk, today, _pks(shown))
        shown = [with_modules(data, row) for row in shown]
    return ClassPage(shown, len(rows), min(page, pages), pages)


def _pks(rows: list[dict[str, Any]]) -> list[int]:
    return [int(row["user_pk"]) for row in rows]
