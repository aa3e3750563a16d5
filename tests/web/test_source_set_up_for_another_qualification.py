"""One platform, two qualifications: its Moodle source has the clinical-leadership courses
mapped and none of the wound-care certificate's. For a course on the wound-care certificate
the source is not set up yet, as with nothing mapped at all: its courses read as before (not
"can't be tracked", each said to staff to be not linked), and the student is told nothing has
been received for them yet."""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from lti_tool.completion.setup import set_mapping
from lti_tool.persistence.models import CourseMappingRow
from lti_tool.resources import resource_dir
from tests.support.class_refresh import configure_sandbox_source, staff_launch, with_moodle_source
from tests.support.lti import Launcher
from tests.support.pathway_web import student_page_and_checklist

WOUND_CARE = Path(__file__).parents[1] / "fixtures" / "qualifications" / "wound-care.toml"
NOTHING_YET = "No course completion has been received from your learning platform yet"


def _both_qualifications(tmp_path: Path, sqlite_tool_factory: Any) -> Launcher:
    """A tool knowing both qualifications, its courses on the wound-care certificate."""
    folder = tmp_path / "qualifications"
    folder.mkdir()
    shutil.copy(WOUND_CARE, folder)
    shutil.copy(
        resource_dir("config") / "qualifications" / "pgcert-clinical-leadership.toml", folder
    )
    launcher: Launcher = sqlite_tool_factory(
        qualifications_dir=str(folder), default_qualification="WOUND-CARE"
    )
    return launcher


@pytest.fixture
def wound_care_course(tmp_path: Path, sqlite_tool_factory: Any) -> Launcher:
    """The sandbox Moodle mapped for the clinical-leadership courses only."""
    return with_moodle_source(_both_qualifications(tmp_path, sqlite_tool_factory))


def test_courses_of_a_qualification_with_nothing_mapped_read_as_before(
    wound_care_course: Launcher,
) -> None:
    page, checklist = student_page_and_checklist(wound_care_course)
    statuses = {r["code"]: r["status"] for m in checklist["modules"] for r in m["requirements"]}
    assert set(statuses) >= {"W01", "W02", "W03"}
    assert set(statuses.values()) == {"not_started"}, statuses
    assert "Can't be tracked yet" not in page
    assert NOTHING_YET in page

    staff, headers = staff_launch(wound_care_course)
    for path in ("/staff/students/1001", "/staff/class/", "/staff/class/completion/"):
        shown = html.unescape(staff.get(path, headers=headers).get_data(as_text=True))
        assert "is not linked" not in shown, path
        assert "Courses that can't be tracked" not in shown, path


def test_an_ags_source_finds_them_by_their_codes(tmp_path: Path, sqlite_tool_factory: Any) -> None:
    """As with nothing mapped at all, the refresh looks for the wound-care courses' gradebook
    columns by their codes, and for the mapped clinical-leadership course alone of its own."""
    from lti_tool.completion.refresh import prepare_source
    from tests.web.test_admin_access import sandbox_pk

    launcher = _both_qualifications(tmp_path, sqlite_tool_factory)
    configure_sandbox_source(launcher, kind="ags", ags_threshold=0.6)
    services = launcher.app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        session.execute(delete(CourseMappingRow))
        set_mapping(session, "sandbox", "GB080", "-")  # a clinical-leadership course only
    prepared = prepare_source(services, sandbox_pk(launcher.app), None)
    assert prepared is not None
    read = [m.code for m in prepared.mapping]
    assert "GB080" in read and "GB081" not in read
    assert {"W01", "W02", "W12"} <= set(read) and len(read) == len(set(read))
