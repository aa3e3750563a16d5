"""The completion grid's pure parts: a status per CPD course from the rules engine, and the
query's filters, search and sort orders."""

from __future__ import annotations

from datetime import date

from lti_tool.grading.completion_grid import (
    COMPLETED,
    IN_PROGRESS,
    IN_PROGRESS_LATE,
    LATE,
    MISSING,
    NOT_NEEDED,
    GridRow,
    course_statuses,
    grid_columns,
)
from lti_tool.grading.completion_grid_page import GridQuery
from lti_tool.rules import evaluate
from tests.unit.rules.support import done, going, made_up, pgcert

TODAY = date(2027, 6, 1)


def statuses(completions: list, starts: dict[str, date]) -> dict[str, str]:
    qualification = made_up()
    checklist = evaluate(qualification, completions, starts, TODAY)
    return course_statuses(qualification, checklist.modules)


def test_each_course_gets_one_status() -> None:
    got = statuses(
        [done("T5"), done("T6"), done("T7"), going("T2"), going("T1")],
        {"X100": date(2027, 1, 15)},  # X100's three months ended on 15 April
    )
    assert got == {
        "T1": IN_PROGRESS_LATE,  # begun, but past the deadline
        "T2": IN_PROGRESS_LATE,
        "T3": LATE,  # one of T3 or T4: the one a plan would take is late
        "T4": MISSING,
        "T5": COMPLETED,
        "T6": COMPLETED,
        "T7": COMPLETED,
        "T8": NOT_NEEDED,  # three of four chosen
    }


def test_without_a_deadline_nothing_is_late() -> None:
    got = statuses([going("T1"), done("T3")], {})
    assert (got["T1"], got["T2"], got["T3"], got["T4"]) == (
        IN_PROGRESS,
        MISSING,
        COMPLETED,
        NOT_NEEDED,  # one of T3 and T4 is enough
    )
    assert got["T5"] == MISSING


def test_columns_follow_the_file() -> None:
    assert [c.code for c in grid_columns(made_up())] == [f"T{n}" for n in range(1, 9)]
    assert {c.module_code for c in grid_columns(made_up())} == {"X100", "X200"}
    codes = [c.code for c in grid_columns(pgcert())]
    assert len(codes) == len(set(codes)) and codes[0] == "GB080"


def _row(sub: str, name: str, **statuses: str) -> GridRow:
    return GridRow(user_pk=int(sub), sub=sub, name=name, email=f"{sub}@x.org", statuses=statuses)


ROWS = [
    _row("1", "Zoë Adams", T1=COMPLETED, T2=COMPLETED),
    _row("2", "Ann Young", T1=LATE, T2=LATE),
    _row("3", "Bob Young", T1=COMPLETED, T2=LATE),
]


def names(query: GridQuery) -> list[str]:
    return [row.name for row in query.apply(ROWS)]


def test_queries_filter_search_and_sort() -> None:
    columns = grid_columns(made_up())
    assert names(GridQuery()) == ["Zoë Adams", "Ann Young", "Bob Young"]  # family name first
    assert names(GridQuery(sort="name_desc")) == ["Bob Young", "Ann Young", "Zoë Adams"]
    assert names(GridQuery(sort="most_late")) == ["Ann Young", "Bob Young", "Zoë Adams"]
    assert names(GridQuery(sort="fewest_completed"))[0] == "Ann Young"
    assert names(GridQuery(status=LATE)) == ["Ann Young", "Bob Young"]
    assert names(GridQuery(status=COMPLETED, course="T2")) == ["Zoë Adams"]
    assert names(GridQuery(search="ZOË")) == ["Zoë Adams"]
    assert names(GridQuery(search="young bob")) == ["Bob Young"]
    assert names(GridQuery(search="3@x")) == ["Bob Young"]
    odd = GridQuery.of(columns, "bogus", "B832", "  ann ", "../")
    assert odd == GridQuery(search="ann")
