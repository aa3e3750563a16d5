"""Module start dates from a CSV file, validated whole before anything is written.

Columns: ``student`` (the LTI user id, ``sub``), ``module``, ``start_date`` (YYYY-MM-DD),
``reason`` (optional). A row whose student is ``*`` sets the cohort's date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lti_tool.errors import ToolError
from lti_tool.pathway import module_starts as ms
from lti_tool.pathway.checklist import student_in_context
from lti_tool.rules import Qualification

REQUIRED = ("student", "module", "start_date")
MAX_ROWS = 5000


class CsvRejected(ToolError):
    status = 422
    title = "The file was not imported"

    def __init__(self, errors: list[str]) -> None:
        super().__init__("csv_invalid", "Nothing was imported. " + " ".join(errors[:20]))
        self.errors = errors


@dataclass(frozen=True)
class StartRow:
    line: int
    user_pk: int | None  # None: the cohort
    module: str
    start: dt.date
    reason: str


def parse_rows(
    session: Session, qualification: Qualification, context_pk: int, text: str
) -> list[StartRow]:
    """Every row checked; all problems reported by line number, or none written."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [h for h in REQUIRED if h not in header]
    if missing:
        raise CsvRejected([f"Line 1: missing column(s) {', '.join(missing)}."])
    reader.fieldnames = header
    rows: list[StartRow] = []
    errors: list[str] = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            errors.append(f"More than {MAX_ROWS} rows; split the file.")
            break
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        try:
            module = ms.check_module(qualification, values["module"])
            start = ms.parse_date(values["start_date"], "start_date")
            student = values["student"]
            user_pk = (
                None if student == "*" else student_in_context(session, context_pk, student).id
            )
        except ToolError as exc:
            errors.append(f"Line {number}: {exc.message}")
            continue
        rows.append(StartRow(number, user_pk, module, start, values.get("reason", "")))
    if errors:
        raise CsvRejected(errors)
    if not rows:
        raise CsvRejected(["The file has no data rows."])
    return rows


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
