"""A class of any size: the class view's and the grid's pages take the same SQL statements
for 20 or 200 students, and a page chosen before the rules run (the default order by name)
shows what running the rules for the whole class and paging after would show."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from lti_tool.grading.class_columns import class_columns
from lti_tool.grading.class_view import class_page, class_rows
from lti_tool.grading.completion_grid import grid_rows
from lti_tool.grading.completion_grid_page import GridQuery, grid_page
from lti_tool.persistence.models import (
    AssessmentResultRow,
    CompletionRecord,
    Membership,
    StudentModuleStart,
    User,
)
from lti_tool.resources import resource_dir
from lti_tool.rules import load_qualification
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, open_tool
from tests.web.test_completion_grid import LEARNER, _queries

CODES = [f"GB{n:03d}" for n in range(80, 93)]
PAGES = ("/staff/class/", "/staff/class/completion/", "/staff/class/?filter=at_risk")
TODAY = dt.date(2026, 9, 1)


def _add_students(launcher: Launcher, first: int, count: int) -> int:
    """Students ``first`` … ``first + count - 1``: student n has finished the first n % 14
    CPD courses (and started the next when n is even), every tenth has a course recorded by
    hand, every fifth a B832 result and every 25th a resit start. Returns the course."""
    db = launcher.app.extensions["lti_tool"].db
    with db.unit_of_work() as session:
        teacher, membership = session.execute(
            select(User, Membership).join(Membership, Membership.user_pk == User.id)
        ).first()  # type: ignore[misc]
        context_pk = membership.context_pk
        for n in range(first, first + count):
            user = User(
                registration_id=teacher.registration_id,
                sub=f"9{n:04d}",
                # Family names out of the order of the ids, some shared, one missing.
                name=None if n == 7 else f"Learner {n} {'Zed' if n % 3 else 'Able'}{n % 11}",
                family_name=f"{'Zed' if n % 3 else 'Able'}{n % 11}",
                email=f"learner{n}@example.org",
            )
            session.add(user)
            session.flush()
            launched = dt.datetime(2026, 3, 1, tzinfo=dt.UTC) if n % 3 else None
            session.add(
                Membership(
                    context_pk=context_pk, user_pk=user.id, roles=[LEARNER], last_launch_at=launched
                )
            )
            begun = dt.date(2026, 1, 5) + dt.timedelta(days=n % 40)
            done = n % 14
            for k, code in enumerate(CODES[:done]):
                day = begun + dt.timedelta(days=9 * k)
                session.add(_record(user.id, code, "completed", day, "moodle"))
            if n % 2 == 0 and done < len(CODES):
                session.add(_record(user.id, CODES[done], "in_progress", None, "moodle"))
            if n % 10 == 0:
                session.add(_record(user.id, "GB092", "completed", begun, "manual"))
            if n % 5 == 0:
                session.add(
                    AssessmentResultRow(
                        context_pk=context_pk,
                        user_pk=user.id,
                        module_code="B832",
                        score=float(30 + n % 70),
                        outcome="pass" if 30 + n % 70 >= 50 else "fail",
                        released=n % 2 == 0,
                    )
                )
            if n % 25 == 0:
                session.add(
                    StudentModuleStart(
                        context_pk=context_pk,
                        user_pk=user.id,
                        module_code="B832",
                        attempt=2,
                        start_date=dt.date(2026, 3, 1),
                    )
                )
    return int(context_pk)


def _record(
    user_pk: int, code: str, status: str, completed: dt.date | None, source: str
) -> CompletionRecord:
    return CompletionRecord(
        user_pk=user_pk, course_code=code, status=status, completed_at=completed, source=source
    )


def _statements(teacher: Opened, launcher: Launcher, url: str) -> int:
    with _queries(launcher) as seen:
        response = teacher.client.get(url, headers=teacher.bearer)
        assert response.status_code == 200, response.get_data(as_text=True)
    return len(seen)


def test_a_page_takes_the_same_statements_for_20_or_200_students(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    _add_students(launcher, 0, 20)
    small = [_statements(teacher, launcher, url) for url in PAGES]
    _add_students(launcher, 20, 180)
    large = [_statements(teacher, launcher, url) for url in PAGES]
    assert small == large, (small, large)


def _qualification() -> Any:
    return load_qualification(
        resource_dir("config") / "qualifications" / "pgcert-clinical-leadership.toml"
    )


def test_a_page_by_name_shows_what_the_whole_class_run_through_the_rules_shows(
    launcher: Launcher,
) -> None:
    open_tool(launcher, "teacher1")
    context_pk = _add_students(launcher, 0, 130)
    qualification = _qualification()
    layout = class_columns(qualification)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        everyone = class_rows(session, qualification, context_pk, TODAY)
        for chosen, sort in (("all", "name"), ("not_launched", "name"), ("at_risk", "b832_hours")):
            kept = sorted(
                (row for row in everyone if layout.keep(row, chosen)),
                key=layout.sort_key(sort),
            )
            assert any(row["modules"][0]["result"] for row in kept)  # results are compared
            for page in (1, 2, 3, 9):
                found = class_page(
                    session,
                    qualification,
                    context_pk,
                    TODAY,
                    filter_name=chosen,
                    sort_name=sort,
                    page=page,
                    size=50,
                )
                assert found.total == len(kept)
                assert found.rows == kept[(page - 1) * 50 : page * 50], (chosen, sort, page)


def test_a_grid_page_by_name_shows_what_the_whole_grid_shows(launcher: Launcher) -> None:
    open_tool(launcher, "teacher1")
    context_pk = _add_students(launcher, 0, 130)
    qualification = _qualification()
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        everyone = grid_rows(session, qualification, context_pk, TODAY)
        for query in (
            GridQuery(),
            GridQuery(sort="name_desc", search="zed"),
            GridQuery(status="in_progress", sort="most_completed"),
        ):
            kept = query.apply(everyone)
            for page, size in ((1, 25), (3, 25), (2, 100), (1, None)):
                found = grid_page(
                    session, qualification, context_pk, TODAY, query, page, size, None
                )
                width = size or max(1, len(kept))
                shown = min(page, -(-len(kept) // width))  # a page past the end: the last
                assert (found.total, found.page) == (len(kept), shown)
                assert found.rows == kept[(shown - 1) * width : shown * width], (query, page)
                assert all(row.statuses for row in found.rows)


def test_the_courses_that_cant_be_tracked_take_the_same_statements_for_any_class(
    launcher: Launcher,
) -> None:
    """With a course the source never reads (GB092 unmapped), the panel saying for how many
    students it still matters reads the class in as many statements for 200 as for 20."""
    from lti_tool.persistence.models import CompletionSourceConfig, CourseMappingRow

    teacher = open_tool(launcher, "teacher1")
    db = launcher.app.extensions["lti_tool"].db
    _add_students(launcher, 0, 20)
    with db.unit_of_work() as session:  # set after the tutor's launch: no class refresh runs
        registration_pk = session.scalars(select(User.registration_id)).first()
        assert registration_pk is not None
        session.add(CompletionSourceConfig(registration_pk=registration_pk, kind="moodle"))
        session.add_all(
            CourseMappingRow(registration_pk=registration_pk, course_code=code, course_id=str(n))
            for n, code in enumerate(CODES[:-1], start=3)
        )
    small = [_statements(teacher, launcher, url) for url in PAGES]
    page = teacher.client.get(PAGES[0], headers=teacher.bearer).get_data(as_text=True)
    assert "Still needed by" in page
    _add_students(launcher, 20, 180)
    large = [_statements(teacher, launcher, url) for url in PAGES]
    assert small == large, (small, large)
