"""A CPD course the registration's Moodle source has no mapping for, while the others are
mapped: the tool never asks Moodle about it, so the student reads "Can't be tracked yet", not
"Not started" (they may have finished it there), and staff see it as unknown too, told once
per course that it is not linked to a Moodle course yet and where it is linked; a tutor's
record and a completion once read from Moodle still count; once mapped and read, the course
reads as Moodle says."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
from sqlalchemy import delete, select

from lti_tool.completion.refresh import Student, refresh_student
from lti_tool.completion.setup import set_mapping
from lti_tool.persistence.models import CompletionRecord, CourseMappingRow, User
from lti_tool.sandbox.demo_data import course_id
from tests.support.class_refresh import finished_refresh, staff_launch, with_canvas_source
from tests.support.grade_sync import complete_courses
from tests.support.lti import Launcher
from tests.support.pathway_web import student_page_and_checklist

NOT_LINKED = (
    "GB085 is not linked to a Moodle course yet, so the tool cannot read it: the administrator "
    "who set the tool up for Moodle must link it on the tool's CPD course mapping page."
)


@pytest.fixture
def gb085_unmapped(with_moodle: Launcher) -> Launcher:
    """The sandbox registration with every CPD course mapped to its Moodle course but GB085
    (in Moodle, student1 has GB085 in progress)."""
    with with_moodle.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(delete(CourseMappingRow).where(CourseMappingRow.course_code == "GB085"))
    return with_moodle


def _status(checklist: dict[str, Any], code: str) -> str:
    return str(
        next(r for m in checklist["modules"] for r in m["requirements"] if r["code"] == code)[
            "status"
        ]
    )


def _row(page: str, code: str) -> str:
    row = page[page.index(f'<span class="code">{code}</span>') :]
    return row[: row.index("</tr>")]


def _refresh(launcher: Launcher, sub: str = "1001") -> None:
    services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        user = session.scalars(select(User).where(User.sub == sub)).one()
        student = Student(user.registration_id, user.id, user.sub, {}, None)
    refresh_student(services, student)


def test_the_student_reads_cant_be_tracked_not_not_started(gb085_unmapped: Launcher) -> None:
    page, checklist = student_page_and_checklist(gb085_unmapped)

    assert _status(checklist, "GB085") == "untrackable"
    # The mapped courses read from Moodle as usual.
    assert [_status(checklist, c) for c in ("GB084", "GB086")] == ["completed", "not_started"]
    b832 = checklist["modules"][0]
    assert b832["fully_known"] is False and b832["unknown_courses"] == ["GB085"]
    assert not any("GB085" in step for step in checklist["next_steps"])
    assert "GB085" not in [entry["code"] for entry in checklist["plan"]]

    row = _row(page, "GB085")
    assert "Can't be tracked yet" in row and "Your tutor has been told" in row
    assert "Not started" not in row
    assert "Your progress on GB085 can't be tracked yet" in page
    assert "Start GB085" not in page
    assert NOT_LINKED not in page  # staff words stay with staff


def test_the_class_view_and_grid_count_it_as_unknown(gb085_unmapped: Launcher) -> None:
    client, headers = staff_launch(gb085_unmapped)
    finished_refresh(client, headers)

    class_page = html.unescape(client.get("/staff/class/", headers=headers).get_data(as_text=True))
    assert "not fully known" in class_page
    only = client.get(
        "/staff/class/completion/?status=untrackable&course=GB085", headers=headers
    ).get_data(as_text=True)
    assert "4 students" in only


def test_staff_read_once_that_the_course_is_not_linked(gb085_unmapped: Launcher) -> None:
    client, headers = staff_launch(gb085_unmapped)
    finished_refresh(client, headers)

    class_page = html.unescape(client.get("/staff/class/", headers=headers).get_data(as_text=True))
    assert "Courses that can't be tracked" in class_page
    assert class_page.count(NOT_LINKED) == 1 and "Still needed by 4 students." in class_page
    grid = html.unescape(
        client.get("/staff/class/completion/", headers=headers).get_data(as_text=True)
    )
    assert grid.count(NOT_LINKED) == 1
    preview = html.unescape(
        client.get("/staff/students/1001", headers=headers).get_data(as_text=True)
    )
    assert preview.count(NOT_LINKED) == 1
    assert "Can't be tracked yet" in _row(preview, "GB085")


def test_a_tutors_record_still_counts(gb085_unmapped: Launcher) -> None:
    student_page_and_checklist(gb085_unmapped)  # student1 is known to the tool
    complete_courses(gb085_unmapped.app, ["1001"], ("GB085",))

    page, checklist = student_page_and_checklist(gb085_unmapped)
    assert _status(checklist, "GB085") == "completed"
    assert "Can't be tracked yet" not in _row(page, "GB085")

    client, headers = staff_launch(gb085_unmapped)
    finished_refresh(client, headers)
    preview = html.unescape(
        client.get("/staff/students/1001", headers=headers).get_data(as_text=True)
    )
    assert NOT_LINKED not in preview
    class_page = html.unescape(client.get("/staff/class/", headers=headers).get_data(as_text=True))
    assert "Still needed by 3 students." in class_page


def test_a_course_once_read_as_completed_stays_completed(with_moodle: Launcher) -> None:
    student_page_and_checklist(with_moodle)  # everything mapped: GB085 read from Moodle
    services = with_moodle.app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        user_pk = session.scalars(select(User.id).where(User.sub == "1001")).one()
        record = session.scalars(
            select(CompletionRecord).where(
                CompletionRecord.user_pk == user_pk, CompletionRecord.course_code == "GB085"
            )
        ).one()
        assert record.source == "moodle"
        # Moodle had reported GB085 completed before its mapping was removed.
        record.status, record.completed_at = "completed", dt.date(2026, 7, 31)
        session.execute(delete(CourseMappingRow).where(CourseMappingRow.course_code == "GB085"))

    _, checklist = student_page_and_checklist(with_moodle)
    assert _status(checklist, "GB085") == "completed"


def test_once_mapped_and_read_the_course_reads_as_moodle_says(gb085_unmapped: Launcher) -> None:
    _, before = student_page_and_checklist(gb085_unmapped)
    assert _status(before, "GB085") == "untrackable"
    with gb085_unmapped.app.extensions["lti_tool"].db.unit_of_work() as session:
        set_mapping(session, "sandbox", "GB085", str(course_id("GB085")))
    _refresh(gb085_unmapped)

    _, after = student_page_and_checklist(gb085_unmapped)
    assert _status(after, "GB085") == "in_progress"


def test_with_nothing_mapped_the_courses_read_as_before(with_moodle: Launcher) -> None:
    """A Moodle source with no course mapped is not set up yet: nothing is read, and the
    courses read as not started, as before (not every course "can't be tracked")."""
    with with_moodle.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(delete(CourseMappingRow))
    _, checklist = student_page_and_checklist(with_moodle)
    assert {_status(checklist, c) for c in ("GB080", "GB085", "GB087")} == {"not_started"}


@pytest.mark.parametrize(("mode", "thing"), [("course", "course"), ("activity", "module")])
def test_the_same_with_canvas_in_canvas_words(launcher: Launcher, mode: str, thing: str) -> None:
    from lti_tool.lti import claims as c

    with_canvas_source(launcher, mode)
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(delete(CourseMappingRow).where(CourseMappingRow.course_code == "GB085"))
    custom = {"canvas_user_id": "1001", "canvas_course_id": "2"}
    _, checklist = student_page_and_checklist(launcher, changes={c.CUSTOM: custom})
    assert [_status(checklist, code) for code in ("GB084", "GB085")] == [
        "completed",
        "untrackable",
    ]

    staff, headers = staff_launch(launcher)
    preview = html.unescape(staff.get("/staff/students/1001", headers=headers).get_data(True))
    assert f"GB085 is not linked to a Canvas {thing} yet" in preview
    assert "Can't be tracked yet" in _row(preview, "GB085")
