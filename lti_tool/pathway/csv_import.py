"""Module start dates from a CSV file, validated whole before anything is written.

Columns: ``student`` (the LMS user id, ``sub``, or the student's email or username),
``module``, ``start_date`` (31/12/2026 or 2026-12-31),
``reason`` (optional). A row whose student is ``*`` sets the cohort's date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lti_tool.csv_files import check_rows
from lti_tool.pathway import module_starts as ms
from lti_tool.pathway.checklist import student_named_in_file
from lti_tool.rules import Qualification

REQUIRED = ("student", "module", "start_date")


@dataclass(frozen=True)
class StartRow:
    user_pk: int | None  # None: the cohort
    module: str
    start: dt.date
    reason: str


def parse_rows(
    session: Session, qualification: Qualification, context_pk: int, text: str
) -> list[StartRow]:
    """Every row checked; all problems reported by line number, or none written."""

    def row(values: dict[str, str]) -> StartRow:
        module = ms.check_module(qualification, values["module"])
        start = ms.parse_date(values["start_date"], "start_date")
        student = values["student"]
        user_pk = None if student == "*" else student_named_in_file(session, context_pk, student).id
        return StartRow(user_pk, module, start, values.get("reason", ""))

    return check_rows(text, REQUIRED, row)


def import_module_starts(
    session: Session,
    qualification: Qualification,
    context_pk: int,
    text: str,
    actor_user_pk: int | None,
) -> int:
    """Apply a checked file inside the caller's transaction; returns the rows applied."""
    rows = parse_rows(session, qualification, context_pk, text)
    for row in rows:
        if row.user_pk is None:
            ms.set_cohort_starts(session, context_pk, {row.module: row.start}, actor_user_pk)
        else:
            ms.add_student_start(
                session, context_pk, row.user_pk, row.module, row.start, row.reason, actor_user_pk
            )
    return len(rows)
