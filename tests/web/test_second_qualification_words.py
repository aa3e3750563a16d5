"""A course on the fictitious wound-care certificate (tests/fixtures/qualifications): the
pages say its own rules, never the clinical-leadership certificate's."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.lti import Launcher
from tests.support.pathway_web import add_completions, open_tool, parse_html

WOUND_CARE = Path(__file__).parents[1] / "fixtures" / "qualifications" / "wound-care.toml"


@pytest.fixture
def wound_care(tmp_path: Path, sqlite_tool_factory: Any) -> Launcher:
    """A tool whose only qualification is the wound-care certificate."""
    folder = tmp_path / "qualifications"
    folder.mkdir()
    shutil.copy(WOUND_CARE, folder)
    launcher: Launcher = sqlite_tool_factory(
        qualifications_dir=str(folder), default_qualification="WOUND-CARE"
    )
    return launcher


def main_text(page: str) -> str:
    return parse_html(page).find("main").text


def test_the_pages_name_the_four_month_deadline(wound_care: Launcher) -> None:
    teacher = open_tool(wound_care, "teacher1")
    starts = teacher.client.put(
        "/api/context/module-starts", json={"WC1": "2026-10-01"}, headers=teacher.bearer
    )
    assert starts.status_code == 200, starts.get_data(as_text=True)
    staff_home = main_text(teacher.client.get("/staff/", headers=teacher.bearer).get_data(True))
    assert "They start the four-month clock" in staff_home
    open_tool(wound_care, "student1")
    # W01 begun before WC1's start: free of the deadline, and the page says which.
    began = ("in_progress", dt.date(2026, 9, 1), None)
    add_completions(wound_care.app, "1001", {"W01": began})
    student = main_text(open_tool(wound_care, "student1").page)
    assert "started before the module: no four-month deadline" in student
    assert "six-month" not in student and "six-month" not in staff_home
