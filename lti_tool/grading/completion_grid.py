"""The completion grid: every student of the course against every CPD course of its
qualification (like Moodle's course completion report), each cell completed, in progress,
completed late, late, missing, not needed or can't be tracked (the LMS cannot tell).

Built like the class view, from one query per kind for the whole course (students,
completion copies, module starts), then the pure rules engine per student.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.lti.claims import normalise_roles
from lti_tool.pathway.checklist import completions_of_many
from lti_tool.pathway.module_starts import effective_starts_of_many
from lti_tool.persistence.models import Membership, User
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


def grid_rows(
    session: Session, qualification: Qualification, context_pk: int, today: dt.date
) -> list[GridRow]:
    """One row per student of the course (staff left out), by family name then name."""
    people = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_pk == User.id)
        .where(Membership.context_pk == context_pk)
        .order_by(User.family_name, User.name, User.sub)
    ).all()
    students = [
        user for user, membership in people if not normalise_roles(membership.roles or []).is_staff
    ]
    ids = [user.id for user in students]
    completions = completions_of_many(session, ids)
    starts = effective_starts_of_many(session, context_pk, ids)
    rows = []
    for user in students:
        checklist = evaluate(qualification, completions[user.id], starts[user.id], today)
        rows.append(
            GridRow(
                user_pk=user.id,
                sub=user.sub,
                name=user.name or f"User {user.sub}",
                email=user.email or "",
                statuses=course_statuses(qualification, checklist.modules),
            )
        )
    return rows


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
