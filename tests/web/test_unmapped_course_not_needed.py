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


def test_staff_are_told_how_many_students_still_need_it(with_moodle: Launcher) -> None:
    """The panel names the course once, and counts only the students who still need it: not
    student1, whose group is made up, nor student2, who passed B833."""
    import html

    from tests.support.pathway_web import parse_html

    with with_moodle.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(delete(CourseMappingRow).where(CourseMappingRow.course_code == "GB092"))
    student_page_and_checklist(with_moodle)
    complete_courses(with_moodle.app, ["1001"], ("GB090", "GB091"))
    client, headers = staff_launch(with_moodle)
    finished_refresh(client, headers)
    passed = client.put(
        "/api/context/results/B833/1002",
        json={"score": 70, "outcome": "pass", "override_reason": "exam board", "released": True},
        headers=headers,
    )
    assert passed.status_code == 200, passed.get_data(as_text=True)

    for path in ("/staff/class/", "/staff/class/completion/"):
        page = parse_html(client.get(path, headers=headers).get_data(as_text=True))
        item = next(li for li in page.find(id="untrackable").find_all("li") if "GB092" in li.text)
        said = html.unescape(item.text)
        assert said.count("GB092") == 1, said
        assert said.startswith("GB092 is not linked to a Moodle course yet"), said
        assert said.endswith("Still needed by 2 students."), said
