"""A source in activity mode reads a CPD course only from the activity (Canvas module) it is
mapped to: a mapping to a course without one (left from before the source moved to activity
mode) is refused by the refresh, so the course is never read. It reads "can't be tracked",
as an unmapped one does, not "not started", and staff read that it is not linked to a module."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import delete, update

from lti_tool.persistence.models import CompletionRecord, CourseMappingRow
from tests.support.class_refresh import staff_launch, with_canvas_source
from tests.support.lti import Launcher
from tests.support.pathway_web import student_page_and_checklist


def _status(checklist: dict[str, Any], code: str) -> str:
    return str(
        next(r for m in checklist["modules"] for r in m["requirements"] if r["code"] == code)[
            "status"
        ]
    )


def test_a_course_mapped_without_its_module_reads_cant_be_tracked(launcher: Launcher) -> None:
    from lti_tool.lti import claims as c

    with_canvas_source(launcher, "activity")
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(
            update(CourseMappingRow)
            .where(CourseMappingRow.course_code == "GB085")
            .values(activity_id=None)
        )
        session.execute(delete(CompletionRecord))
    custom = {"canvas_user_id": "1001", "canvas_course_id": "2"}
    _, checklist = student_page_and_checklist(launcher, changes={c.CUSTOM: custom})
    assert [_status(checklist, code) for code in ("GB084", "GB085")] == [
        "completed",
        "untrackable",
    ]

    staff, headers = staff_launch(launcher)
    preview = html.unescape(staff.get("/staff/students/1001", headers=headers).get_data(True))
    assert "GB085 is not linked to a Canvas module yet" in preview
