"""A Moodle course without completion criteria, end to end through the (sandbox) Moodle, which
answers ``nocriteriaset`` byte for byte as Moodle 4.5.6 did (tests/integration/lms/moodle/
test_fake_contract.py): the student reads "Can't be tracked yet", never "Not started" nor a
"Start GB085" step; staff read the cause in the class view, the completion grid, the student
preview and the class refresh's result; the student's other courses read as usual."""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from lti_tool.sandbox import SandboxServer
from lti_tool.sandbox.demo_data import course_id
from tests.support.class_refresh import finished_refresh, staff_launch
from tests.support.lti import Launcher
from tests.support.pathway_web import student_page_and_checklist

CAUSE = (
    "GB085's Moodle course has no completion criteria set: a Moodle teacher must set them in "
    "Course completion settings"
)


@pytest.fixture
def gb085_without_criteria(sandbox_server: SandboxServer) -> Iterator[Any]:
    """The sandbox Moodle's GB085 course with its completion criteria removed (restored after:
    the sandbox is shared by the whole session)."""
    fake = sandbox_server.app.extensions["moodle_ws"]
    fake.reset_faults()
    course = fake.data.courses[course_id("GB085")]
    criteria = list(course.criteria)
    course.criteria = []
    yield fake
    course.criteria = criteria
    fake.reset_faults()


def _requirement(checklist: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for m in checklist["modules"] for r in m["requirements"] if r["code"] == code)


def test_the_student_reads_cant_be_tracked_and_no_start_step(
    with_moodle: Launcher, gb085_without_criteria: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="lti_tool.completion"):
        page, checklist = student_page_and_checklist(with_moodle)

    gb085 = _requirement(checklist, "GB085")
    assert gb085["status"] == "untrackable"  # a plain field in the JSON
    assert gb085["counts"] is False
    # The other courses of the same student still read normally.
    assert [_requirement(checklist, c)["status"] for c in ("GB080", "GB084", "GB086")] == [
        "completed",
        "completed",
        "not_started",
    ]
    b832 = checklist["modules"][0]
    assert b832["hours_completed"] == 150 and b832["cpd_complete"] is False
    assert b832["fully_known"] is False and b832["unknown_courses"] == ["GB085"]
    assert not any("GB085" in step for step in checklist["next_steps"])
    assert any(step.startswith("Start GB086") for step in checklist["next_steps"])
    assert "GB085" not in [entry["code"] for entry in checklist["plan"]]
    # Everything that could be read was: the student is not told the platform failed.
    assert checklist["refresh"]["status"] == "untrackable" and checklist["refresh"]["ok"]
    assert checklist["refresh"]["errors"] == []  # the cause is for staff

    row = page[page.index('<span class="code">GB085</span>') :]
    row = row[: row.index("</tr>")]
    assert "Can't be tracked yet" in row and "Your tutor has been told" in row
    assert "Not started" not in row
    assert "CPD progress not fully known yet" in page
    assert "Your progress on GB085 can't be tracked yet" in page
    assert "Start GB085" not in page
    assert "could not be read" not in page
    assert CAUSE not in page  # staff words stay with staff

    warnings = [
        r.fields  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "lti_tool.completion" and r.levelno == logging.WARNING
    ]
    assert [(w["cpd_course"], w["failure"], w["status"]) for w in warnings] == [
        ("GB085", "CourseUntrackable", "untrackable")
    ]
    assert warnings[0]["registration"] is not None and warnings[0]["course"] is not None


def test_staff_read_the_cause_everywhere(
    with_moodle: Launcher, gb085_without_criteria: Any
) -> None:
    client, headers = staff_launch(with_moodle)
    progress = finished_refresh(client, headers)

    # Every student was read: none is "could not be read" because of GB085.
    assert (progress["done"], progress["failed"]) == (4, 0)
    assert [u["code"] for u in progress["untrackable"]] == ["GB085"]
    assert progress["untrackable"][0]["cause"].startswith(CAUSE)

    class_page = html.unescape(client.get("/staff/class/", headers=headers).get_data(as_text=True))
    assert "Courses that can't be tracked" in class_page
    assert CAUSE in class_page and "Still needed by 4 students." in class_page
    assert "can't track GB085" in class_page
    assert "not fully known" in class_page

    grid = html.unescape(
        client.get("/staff/class/completion/", headers=headers).get_data(as_text=True)
    )
    assert CAUSE in grid
    assert 'class="s-untrackable"' in grid and "can't be tracked" in grid
    only = client.get(
        "/staff/class/completion/?status=untrackable&course=GB085", headers=headers
    ).get_data(as_text=True)
    assert "4 students" in only

    preview = html.unescape(
        client.get("/staff/students/1001", headers=headers).get_data(as_text=True)
    )
    assert CAUSE in preview
    assert "Can't be tracked yet" in preview
    assert "read, but some courses can't be tracked" in preview


def test_once_criteria_are_set_the_course_reads_again(
    with_moodle: Launcher, gb085_without_criteria: Any
) -> None:
    _, before = student_page_and_checklist(with_moodle)
    assert _requirement(before, "GB085")["status"] == "untrackable"
    course = gb085_without_criteria.data.courses[course_id("GB085")]
    course.criteria = [a.cmid for a in course.activities]
    from lti_tool.completion.refresh import Student, refresh_student
    from lti_tool.persistence.models import User

    services = with_moodle.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        user = session.query(User).filter(User.sub == "1001").one()
        student = Student(user.registration_id, user.id, user.sub, {}, None)
    assert refresh_student(services, student).status == "ok"

    _, after = student_page_and_checklist(with_moodle)
    assert _requirement(after, "GB085")["status"] == "in_progress"


def test_a_course_once_read_as_completed_stays_completed_when_it_cannot_be_tracked(
    with_moodle: Launcher, gb085_without_criteria: Any
) -> None:
    from sqlalchemy import select, update

    from lti_tool.completion.refresh import Student, refresh_student
    from lti_tool.persistence.models import CompletionRecord, User

    # GB085 untrackable, GB084 completed (both from Moodle)
    _, first = student_page_and_checklist(with_moodle)
    assert _requirement(first, "GB084")["status"] == "completed"
    services = with_moodle.app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        user = session.scalars(select(User).where(User.sub == "1001")).one()
        student = Student(user.registration_id, user.id, user.sub, {}, None)
        # Moodle had reported GB085 completed before its criteria were removed.
        session.execute(
            update(CompletionRecord)
            .where(CompletionRecord.user_pk == user.id, CompletionRecord.course_code == "GB085")
            .values(status="completed", completed_at=dt.date(2026, 7, 31))
        )

    assert refresh_student(services, student).status == "untrackable"

    with services.db.read_only() as session:
        stored = session.scalars(
            select(CompletionRecord).where(
                CompletionRecord.user_pk == student.user_pk,
                CompletionRecord.course_code.in_(["GB085", "GB086"]),
            )
        ).all()
        assert {r.course_code: r.status for r in stored} == {
            "GB085": "completed",  # unknown never erases what was known
            "GB086": "not_started",
        }
