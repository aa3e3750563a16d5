"""The completion grid: every student of the course against every CPD course of its
qualification (like Moodle's course completion report), each cell completed, in progress,
completed late, in progress (late or not), late, missing, not needed (an optional group made
up, or the module passed) or can't be tracked (the LMS cannot tell).

Built like the class view, from one query per kind for the whole course (students,
completion copies, module starts), then the pure rules engine per student. This module holds
the grid's building blocks (statuses, columns, rows, the data read); a filtered, sorted page
of it is ``completion_grid_page.py``'s.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.completion.unmapped import Unread, source_mapping
from lti_tool.pathway.checklist import (
    CompletionCopy,
    completion_copies_of_many,
    completions_in_force,
)
from lti_tool.pathway.class_list import Student, students_of
from lti_tool.pathway.module_starts import effective_starts_of_many
from lti_tool.persistence.models import AssessmentResultRow
from lti_tool.rules import CompletionStatus, Module, Qualification, evaluate
from lti_tool.rules.checklist import ModuleProgress, Requirement
from lti_tool.rules.records import AssessmentOutcome, AssessmentResult

COMPLETED = "completed"
COMPLETED_LATE = "completed_late"  # after the module's six-month deadline, though bound by it
IN_PROGRESS = "in_progress"
IN_PROGRESS_LATE = "in_progress_late"  # begun, and past the module's deadline
LATE = "late"  # not begun, and past the module's deadline
MISSING = "missing"
NOT_NEEDED = "not_needed"
UNTRACKABLE = "untrackable"  # the LMS cannot track the course: unknown, not missing

PASS = AssessmentOutcome.PASS
PASSED = AssessmentResult(PASS)

# Each status in words, and a mark that tells them apart without colour.
STATUS_LABELS = {
    COMPLETED: "completed",
    COMPLETED_LATE: "completed late",
    IN_PROGRESS: "in progress",
    IN_PROGRESS_LATE: "in progress, late",
    LATE: "late",
    MISSING: "missing",
    NOT_NEEDED: "not needed",
    UNTRACKABLE: "can't be tracked",
}
STATUS_MARKS = {
    COMPLETED: "✔",
    COMPLETED_LATE: "✔!",
    IN_PROGRESS: "◐",
    IN_PROGRESS_LATE: "◐!",
    LATE: "!",
    MISSING: "○",
    NOT_NEEDED: "\u2013",
    UNTRACKABLE: "?",
}
# Statuses counted as done, and as late, in the row counts and sort orders.
DONE = (COMPLETED, COMPLETED_LATE)
LATE_ONES = (LATE, IN_PROGRESS_LATE, COMPLETED_LATE)


@dataclass(frozen=True)
class GridColumn:
    """One CPD course of the qualification, under the module it counts for."""

    code: str
    title: str
    hours: int
    module_code: str


@dataclass(frozen=True)
class GridRow:
    """One student: their CPD courses' statuses by course code."""

    user_pk: int
    sub: str
    name: str
    email: str
    statuses: dict[str, str]

    def count(self, *statuses: str) -> int:
        return sum(1 for value in self.statuses.values() if value in statuses)

    @property
    def completed(self) -> int:
        """Courses completed, in time or late."""
        return self.count(*DONE)


def grid_columns(qualification: Qualification) -> tuple[GridColumn, ...]:
    """The qualification's CPD courses in its file's order (a course shared by two modules
    once, under the first)."""
    seen: set[str] = set()
    columns = []
    for module in qualification.modules:
        for course in module.courses:
            if course.code not in seen:
                seen.add(course.code)
                columns.append(GridColumn(course.code, course.title, course.hours, module.code))
    return tuple(columns)


@dataclass(frozen=True)
class GridData:
    """What the grid reads of some students of a course, one query per kind: their
    completion copies, module starts and passes."""

    qualification: Qualification
    today: dt.date
    # Every stored copy: a student's completions are made when their rules run.
    completions: dict[int, list[CompletionCopy]]
    starts: dict[int, dict[str, dt.date]]
    # The modules each student has a recorded pass for, held or released (as the class
    # view counts them): their unfinished courses are no longer needed, nor late.
    passed: dict[int, set[str]]
    # The CPD courses the course's LMS source never reads: unknown for every student.
    unread: Unread


def load_grid(
    session: Session, qualification: Qualification, context_pk: int, today: dt.date, ids: list[int]
) -> GridData:
    """The grid data (``GridData``) of the students ``ids``; no rules are run yet."""
    passed: dict[int, set[str]] = defaultdict(set)
    for user_pk, module_code in session.execute(
        select(AssessmentResultRow.user_pk, AssessmentResultRow.module_code).where(
            AssessmentResultRow.context_pk == context_pk,
            AssessmentResultRow.user_pk.in_(ids),
            AssessmentResultRow.outcome == AssessmentOutcome.PASS.value,
        )
    ):
        passed[user_pk].add(module_code)
    return GridData(
        qualification,
        today,
        completion_copies_of_many(session, ids),
        effective_starts_of_many(session, context_pk, ids),
        passed,
        Unread.of(source_mapping(session, context_pk), qualification),
    )


def grid_rows(
    session: Session, qualification: Qualification, context_pk: int, today: dt.date
) -> list[GridRow]:
    """One row per student of the course (staff left out), by family name then name."""
    students = students_of(session, context_pk)
    data = load_grid(session, qualification, context_pk, today, [s.pk for s in students])
    return [with_statuses(data, person_row(student)) for student in students]


def person_row(user: Student) -> GridRow:
    """A student's row with no statuses yet (``with_statuses`` adds them): what the name
    orders and the search need, no rules run."""
    return GridRow(
        user_pk=user.pk,
        sub=user.sub,
        name=user.name or f"User {user.sub}",
        email=user.email or "",
        statuses={},
    )


def with_statuses(data: GridData, row: GridRow) -> GridRow:
    """``row`` with its courses' statuses: the rules engine run on the student's data."""
    completions = data.unread.applied(completions_in_force(data.completions.get(row.user_pk, [])))
    checklist = evaluate(
        data.qualification,
        completions,
        data.starts[row.user_pk],
        data.today,
        {code: PASSED for code in data.passed.get(row.user_pk, ())},
    )
    return replace(row, statuses=course_statuses(data.qualification, checklist.modules))


def course_statuses(
    qualification: Qualification, modules: Iterable[ModuleProgress]
) -> dict[str, str]:
    """Each course's status, the first module that lists it deciding."""
    statuses: dict[str, str] = {}
    for module, progress in zip(qualification.modules, modules, strict=True):
        optional_done = _optional_groups_done(module, progress)
        passed = progress.assessment is not None and progress.assessment.outcome is PASS
        for requirement in progress.requirements:
            status = _status(requirement)
            if status not in DONE and passed:
                status = NOT_NEEDED  # the module is passed: nothing more is needed for it
            if status in (MISSING, UNTRACKABLE) and requirement.code in optional_done:
                status = NOT_NEEDED  # the group is made up by other courses: not a gap
            statuses.setdefault(requirement.code, status)
    return statuses


def _optional_groups_done(module: Module, progress: ModuleProgress) -> set[str]:
    """The courses of the module's optional groups that already have enough completed."""
    done = {r.code for r in progress.requirements if r.status is CompletionStatus.COMPLETED}
    return {
        code
        for group in module.optional_groups
        if len(done & set(group.courses)) >= group.choose
        for code in group.courses
    }


def _status(requirement: Requirement) -> str:
    if requirement.status is CompletionStatus.COMPLETED:
        return COMPLETED_LATE if requirement.late else COMPLETED
    if requirement.status is CompletionStatus.UNTRACKABLE:
        return UNTRACKABLE
    if requirement.status is CompletionStatus.IN_PROGRESS:
        return IN_PROGRESS_LATE if requirement.overdue else IN_PROGRESS
    if requirement.overdue:
        return LATE
    return MISSING
