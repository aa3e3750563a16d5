"""The student's page a launch lands on reads each thing once: the course's settings, the
student's completion records, their start dates (cohort and own attempts in one statement),
their results (read once, for the rules and for the page) and the course links (registration,
source and mappings in one statement). The count does not grow with what the student has
(issue 14: the landing GET is part of the launch). The session store's reads are not
counted: in production they go to Redis, here to the embedded table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from lti_tool.pathway.module_starts import add_student_start, set_cohort_starts
from lti_tool.persistence.models import Context
from tests.support.grade_sync import B832_CODES, complete_courses
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, open_tool, user_pk
from tests.support.statements import sql_statements
from tests.web.test_student_page import _record_result, _source


def _student_page(student: Opened) -> tuple[str, list[str]]:
    with sql_statements(student.client.application) as seen:
        page = student.client.get("/me")
    assert page.status_code == 200
    return page.get_data(as_text=True), seen


MOODLE = "/moodle/webservice/rest/server.php"


def _give_the_student_everything(launcher: Launcher) -> None:
    """A held result, completions, a cohort start, an own attempt and mapped courses."""
    mapped = {code: str(n) for n, code in enumerate(B832_CODES, start=3)}
    _source(launcher, "moodle", launcher.platform.issuer + MOODLE, mapped)
    _record_result(launcher, released=False)  # also completes the B832 courses
    complete_courses(launcher.app, ["1001"], ("GB087",))
    student = user_pk(launcher.app, "1001")
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        context_pk = session.scalars(select(Context.id)).one()
        set_cohort_starts(
            session, context_pk, {"B832": dt.date(2026, 1, 5), "B833": dt.date(2026, 7, 6)}, None
        )
        add_student_start(session, context_pk, student, "B833", dt.date(2026, 9, 7), "Late", None)


def test_the_student_page_reads_each_thing_once_however_much_the_student_has(
    launcher: Launcher,
) -> None:
    student = open_tool(launcher)
    # The LMS source is set before, its courses mapped after: the links are read either way.
    _source(launcher, "moodle", launcher.platform.issuer + MOODLE, {})
    _, bare = _student_page(student)
    _give_the_student_everything(launcher)
    page, full = _student_page(student)
    # What was added shows: the links, the held result, the student's own start over the
    # cohort's (6 July).
    assert page.count('class="lms-link"') == len(B832_CODES), page
    assert "it will appear here once it is released" in page
    assert "Module start 5 January 2026" in page, page
    assert "Module start 7 September 2026" in page and "6 July 2026" not in page, page
    assert len(full) == len(bare), "\n".join([*bare, "----", *full])
    for table in ("context_settings", "assessment_results", "completion_records"):
        reads = [sql for sql in full if f"from {table}" in sql]
        assert len(reads) == 1, (table, full)
    tool_reads = [sql for sql in full if "from ephemeral" not in sql]  # the session store
    assert len(tool_reads) <= 5, tool_reads
