"""A page of the completion grid, as the tutor asks for it: the status and course filters,
the name search, the sort orders and page sizes (``GridQuery``), and the page itself
(``grid_page``), for which the rules engine runs only for the page's students when the
filter and order need no statuses. The grid's columns, rows and statuses are
``completion_grid.py``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from lti_tool.grading.completion_grid import (
    IN_PROGRESS,
    IN_PROGRESS_LATE,
    LATE,
    LATE_ONES,
    STATUS_LABELS,
    UNTRACKABLE,
    GridColumn,
    GridRow,
    load_grid,
    person_row,
    with_statuses,
)
from lti_tool.pathway.class_list import students_of
from lti_tool.rules import Qualification

ANY = "any"
STATUS_FILTERS = {
    ANY: "Any status",
    **{key: f"Has a course {v}" for key, v in STATUS_LABELS.items()},
    UNTRACKABLE: "Has a course that can't be tracked",
}
# "Has a course late" and "... in progress" include what is both.
_FILTER_MATCHES = {
    LATE: (LATE, IN_PROGRESS_LATE),
    IN_PROGRESS: (IN_PROGRESS, IN_PROGRESS_LATE),
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
        wanted = _FILTER_MATCHES.get(self.status, (self.status,))
        if self.course == ANY:
            return any(value in wanted for value in row.statuses.values())
        return row.statuses.get(self.course) in wanted


def _family_first(row: GridRow) -> tuple[str, str, str]:
    """Family name (the name's last word), then the whole name, then the LTI id."""
    name = row.name.casefold()
    return (name.split()[-1] if name.split() else "", name, row.sub)


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
