"""An unmapped CPD course in an optional group the student has already made up with other
courses is not needed: the completion grid and its CSV say "not needed", as they did before
the course read as can't be tracked, not "can't be tracked"."""

from __future__ import annotations

import csv
import io

from sqlalchemy import delete

from lti_tool.persistence.models import CourseMappingRow
from tests.support.class_refresh import finished_refresh, staff_launch
from tests.support.grade_sync import complete_courses
from tests.support.lti import Launcher
from tests.support.pathway_web import student_page_and_checklist


def test_a_course_of_a_group_made_up_reads_as_not_needed(with_moodle: Launcher) -> None:
    with with_moodle.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(delete(CourseMappingRow).where(CourseMappingRow.course_code == "GB092"))
    student_page_and_checklist(with_moodle)  # student1 is known to the tool
    # B833 asks for two of GB090, GB091 and GB092: a tutor records the first two as done.
    complete_courses(with_moodle.app, ["1001"], ("GB090", "GB091"))
    client, headers = staff_launch(with_moodle)
    finished_refresh(client, headers)

    export = client.get("/staff/class/completion/completion.csv", headers=headers)
    lines = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    mine = next(line for line in lines if line["student"] == "1001")
    assert (mine["GB090"], mine["GB091"]) == ("completed", "completed")
    assert mine["GB092"] == "not needed"
