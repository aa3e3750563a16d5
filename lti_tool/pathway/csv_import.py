"""Module start dates from a CSV file, validated whole before anything is written.

Columns: ``student`` (the LMS user id, ``sub``, or the student's email or username),
``module``, ``start_date`` (31/12/2026 or 2026-12-31),
``reason`` (optional). A row whose student is ``*`` sets the cohort's date.

A student's row is a new attempt (a late registration or a resit), unless it gives the date of
the attempt already in force: a file uploaded twice adds no resits. A student and module, or
the cohort and a module, on two lines is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.csv_files import check_rows
from lti_tool.pathway import module_starts as ms
from lti_tool.pathway.checklist import student_named_in_file
from lti_tool.persistence.models import StudentModuleStart
from lti_tool.rules import Qualification

REQUIRED = ("student", "module", "start_date")


@dataclass(frozen=True)
class StartRow:
    user_pk: int | None  # None: the cohort
    module: str
    start: dt.date
    reason: str
    who: str  # the student in words, for a repeated line


class StartsImported(NamedTuple):
    added: int  # start dates recorded
    already: int  # rows giving the start already in force: nothing written


def parse_rows(
    session: Session, qualification: Qualification, context_pk: int, text: str
) -> list[StartRow]:
    """Every row checked; all problems reported by line number, or none written."""

    def row(values: dict[str, str]) -> StartRow:
        module = ms.check_module(qualification, values["module"])
        start = ms.parse_date(values["start_date"], "start_date")
        student = values["student"]
        if student == "*":
            return StartRow(None, module, start, values.get("reason", ""), "the cohort")
        user = student_named_in_file(session, context_pk, student, values.get("email"))
        return StartRow(user.id, module, start, values.get("reason", ""), user.name or student)

    return check_rows(
        text,
        REQUIRED,
        row,
        repeat_of=lambda r: ((r.user_pk, r.module), f"{r.module} for {r.who}"),
    )


def import_module_starts(
    session: Session,
    qualification: Qualification,
    context_pk: int,
    text: str,
    actor_user_pk: int | None,
) -> StartsImported:
    """Apply a checked file inside the caller's transaction."""
    rows = parse_rows(session, qualification, context_pk, text)
    in_force = _latest_attempts(session, context_pk)
    added = already = 0
    for row in rows:
        if row.user_pk is None:
            ms.set_cohort_starts(session, context_pk, {row.module: row.start}, actor_user_pk)
        elif in_force.get((row.user_pk, row.module)) == row.start:
            already += 1
            continue
        else:
            ms.add_student_start(
                session, context_pk, row.user_pk, row.module, row.start, row.reason, actor_user_pk
            )
        added += 1
    return StartsImported(added, already)


def _latest_attempts(session: Session, context_pk: int) -> dict[tuple[int, str], dt.date]:
    """Each student's start date of their latest attempt at each module, in the course."""
    latest: dict[tuple[int, str], dt.date] = {}
    for user_pk, module, start in session.execute(
        select(
            StudentModuleStart.user_pk,
            StudentModuleStart.module_code,
            StudentModuleStart.start_date,
        )
        .where(StudentModuleStart.context_pk == context_pk)
        .order_by(StudentModuleStart.attempt)
    ):
        latest[(user_pk, module)] = start
    return latest
