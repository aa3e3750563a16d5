"""The completion grid: every student of the course against every CPD course of its
qualification (like Moodle's course completion report), each cell completed, in progress,
completed late, late, missing, not needed or can't be tracked (the LMS cannot tell).

Built like the class view, from one query per kind for the whole course (students,
completion copies, module starts), then the pure rules engine per student: for the
students of the page only when the filter and order need no statuses (``grid_page``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from lti_tool.pathway.checklist import (
    CompletionCopy,
    completion_copies_of_many,
    completions_in_force,
)
from lti_tool.pathway.class_list import Student, students_of
from lti_tool.pathway.module_starts import effective_starts_of_many
from lti_tool.rules import CompletionStatus, Module, Qualification, evaluate
from lti_tool.rules.checklist import ModuleProgress, Requirement

COMPLETED = "completed"
COMPLETED_LATE = "completed_late"  # after the module's six-month deadline, though bound by it
IN_PROGRESS = "in_progress"
LATE = "late"
MISSING = "missing"
NOT_NEEDED = "not_needed"
UNTRACKABLE = "untrackable"  # the LMS cannot track the course: unknown, not missing

# Each status in words, and a mark that tells them apart without colour.
STATUS_LABELS = {
    COMPLETED: "completed",
    COMPLETED_LATE: "completed late",
    IN_PROGRESS: "in progress",
    LATE: "late",
    MISSING: "missing",
    NOT_NEEDED: "not needed",
    UNTRACKABLE: "can't be tracked",
}
STATUS_MARKS = {
    COMPLETED: "✔",
    COMPLETED_LATE: "✔!",
    IN_PROGRESS: "◐",
    LATE: "!",
    MISSING: "○",
    NOT_NEEDED: "\u2013",
    UNTRACKABLE: "?",
}
# Statuses counted as done, and as late, in the row counts and sort orders.
DONE = (COMPLETED, COMPLETED_LATE)
LATE_ONES = (LATE, COMPLETED_LATE)


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
    completion copies and module starts."""

    qualification: Qualification
    today: dt.date
    # Every stored copy: a student's completions are made when their rules run.
    completions: dict[int, list[CompletionCopy]]
    starts: dict[int, dict[str, dt.date]]


def load_grid(
    session: Session, qualification: Qualification, context_pk: int, today: dt.date, ids: list[int]
) -> GridData:
    """The grid data (``GridData``) of the students ``ids``; no rules are run yet."""
    return GridData(
        qualification,
        today,
        completion_copies_of_many(session, ids),
        effective_starts_of_many(session, context_pk, ids),
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
    checklist = evaluate(
        data.qualification,
        completions_in_force(data.completions.get(row.user_pk, [])),
        data.starts[row.user_pk],
        data.today,
    )
    return replace(row, statuses=course_statuses(data.qualification, checklist.modules))


@dataclass(frozen=True)
class GridPage:
    """One page of the grid: its rows, how many students the query keeps, the page shown
    (asked pages are kept within range) and how many pages there are."""

    rows: list[GridRow]
    total: int
    page: int
    pages: int


def grid_page(
    session: Session,
    qualification: Qualification,
    context_pk: int,
    today: dt.date,
    query: GridQuery,
    page: int,
    size: int | None,
    members: set[int] | None,
) -> GridPage:
    """Page ``page`` of the rows ``query`` keeps (``size`` a page, None: all on one), only
    ``members``' when given. The grid data is read and the rules engine run for everyone
    only when the query's filter or order needs the statuses; else for the page's students
    only, whatever the size of the class."""
    rows = [person_row(student) for student in students_of(session, context_pk)]
    if members is not None:
        rows = [row for row in rows if row.user_pk in members]
    everyone = query.needs_statuses
    if everyone:
        data = load_grid(session, qualification, context_pk, today, [r.user_pk for r in rows])
        rows = [with_statuses(data, row) for row in rows]
    rows = query.apply(rows)
    size = size or max(1, len(rows))
    pages = max(1, -(-len(rows) // size))
    page = min(max(1, page), pages)
    shown = rows[(page - 1) * size : page * size]
    if not everyone:
        data = load_grid(session, qualification, context_pk, today, [r.user_pk for r in shown])
        shown = [with_statuses(data, row) for row in shown]
    return GridPage(shown, len(rows), page, pages)


def course_statuses(
    qualification: Qualification, modules: Iterable[ModuleProgress]
) -> dict[str, str]:
    """Each course's status, the first module that lists it deciding."""
    statuses: dict[str, str] = {}
    for module, progress in zip(qualification.modules, modules, strict=True):
        optional_done = _optional_groups_done(module, progress)
        for requirement in progress.requirements:
            status = _status(requirement)
            if status == MISSING and requirement.code in optional_done:
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
    if requirement.overdue:
        return LATE
    if requirement.status is CompletionStatus.IN_PROGRESS:
        return IN_PROGRESS
    return MISSING


ANY = "any"
STATUS_FILTERS = {
    ANY: "Any status",
    **{key: f"Has a course {v}" for key, v in STATUS_LABELS.items()},
    UNTRACKABLE: "Has a course that can't be tracked",
}
SORTS = {
    "name": "Name, A to Z",
    "name_desc": "Name, Z to A",
    "most_completed": "Most courses completed",
    "fewest_completed": "Fewest courses completed",
    "most_late": "Most courses late",
}
_NAME_SORTS = ("name", "name_desc")
PAGE_SIZES = {"25": 25, "50": 50, "100": 100, "all": None}
DEFAULT_PAGE_SIZE = "50"


@dataclass(frozen=True)
class GridQuery:
    """What the tutor asked the grid for; anything unknown falls back to everyone."""

    status: str = ANY
    course: str = ANY
    search: str = ""
    sort: str = "name"

    @classmethod
    def of(
        cls,
        columns: Iterable[GridColumn],
        status: str | None,
        course: str | None,
        search: str | None,
        sort: str | None,
    ) -> GridQuery:
        codes = {column.code for column in columns}
        return cls(
            status=status if status in STATUS_FILTERS else ANY,
            course=course if course in codes else ANY,
            search=(search or "").strip()[:100],
            sort=sort if sort in SORTS else "name",
        )

    @property
    def needs_statuses(self) -> bool:
        """Whether the filter or the order reads the rows' statuses (else only names and
        email addresses: a page can be chosen before the rules run)."""
        return self.status != ANY or self.sort not in _NAME_SORTS

    def apply(self, rows: Iterable[GridRow]) -> list[GridRow]:
        """The rows this query keeps, in its order."""
        words = self.search.casefold().split()
        kept = [row for row in rows if self._keeps(row, words)]
        key = _family_first
        if self.sort == "name_desc":
            return sorted(kept, key=key, reverse=True)
        if self.sort == "most_completed":
            return sorted(kept, key=lambda r: (-r.completed, key(r)))
        if self.sort == "fewest_completed":
            return sorted(kept, key=lambda r: (r.completed, key(r)))
        if self.sort == "most_late":
            return sorted(kept, key=lambda r: (-r.count(*LATE_ONES), key(r)))
        return sorted(kept, key=key)

    def _keeps(self, row: GridRow, words: list[str]) -> bool:
        haystack = f"{row.name} {row.email}".casefold()
        if not all(word in haystack for word in words):
            return False
        if self.status == ANY:
            return True
        if self.course == ANY:
            return self.status in row.statuses.values()
        return row.statuses.get(self.course) == self.status


def _family_first(row: GridRow) -> tuple[str, str, str]:
    """Family name (the name's last word), then the whole name, then the LTI id."""
    name = row.name.casefold()
    return (name.split()[-1] if name.split() else "", name, row.sub)
