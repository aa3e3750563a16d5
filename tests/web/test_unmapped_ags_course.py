"""An AGS source finds every CPD course by its code only while nothing is mapped: once some
codes are mapped (a registration moved from Moodle to AGS keeps its mappings) it looks for
those alone, so an unmapped course is never read and reads "can't be tracked", not "not
started", though its gradebook column says the student passed it."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

from sqlalchemy import delete

from lti_tool.completion.setup import set_mapping
from lti_tool.persistence.models import CourseMappingRow
from lti_tool.sandbox import SandboxServer
from tests.support.class_refresh import configure_sandbox_source, staff_launch
from tests.support.lti import Launcher
from tests.support.pathway_web import student_page_and_checklist


def _status(checklist: dict[str, Any], code: str) -> str:
    return str(
        next(r for m in checklist["modules"] for r in m["requirements"] if r["code"] == code)[
            "status"
        ]
    )


def test_an_ags_course_left_unmapped_reads_cant_be_tracked(
    launcher: Launcher, sandbox_server: SandboxServer
) -> None:
    from lti_tool.sandbox.ags_store import Grade

    ags = sandbox_server.app.extensions["ags"]
    ags.reset()
    configure_sandbox_source(launcher, kind="ags", ags_threshold=0.6)
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(delete(CourseMappingRow))
        set_mapping(session, "sandbox", "GB080", "-")
    seconds = int(dt.datetime(2026, 10, 1, 10, tzinfo=dt.UTC).timestamp())
    try:
        for code in ("GB080", "GB081"):  # student1 passed both in the gradebook
            item = ags.add_lineitem(code, 100, resource_id=code, tag=code)
            stamp = "2026-10-01T10:00:00.000Z"
            grade = Grade("1001", 90.0, 100.0, None, stamp, seconds, "Completed", "FullyGraded")
            ags.store.record(item.id, grade)
        _, checklist = student_page_and_checklist(launcher)
        assert _status(checklist, "GB080") == "completed"
        assert _status(checklist, "GB081") == "untrackable"

        client, headers = staff_launch(launcher)
        preview = html.unescape(client.get("/staff/students/1001", headers=headers).get_data(True))
        assert "GB081 is not on the tool's CPD course mapping page" in preview
    finally:
        ags.reset()
