"""Grade sync for a course on the fictitious wound-care certificate: one gradebook column per
module of *its* qualification, titled from its own file, even when another qualification the
tool knows uses the same module code with another title."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from lti_tool.lti import claims as c
from tests.support.grade_sync import record_result, run_sync
from tests.support.lti import Launcher
from tests.support.pathway_web import add_completions, open_tool

WOUND_CARE = Path(__file__).parents[1] / "fixtures" / "qualifications" / "wound-care.toml"
DONE = ("completed", dt.date(2026, 10, 2), dt.date(2026, 10, 20))


@pytest.fixture
def two_wound_cares(tmp_path: Path, sqlite_tool_factory: Any) -> Launcher:
    """The wound-care certificate, and a later file reusing its module codes with other
    titles (a second intake's own award)."""
    folder = tmp_path / "qualifications"
    folder.mkdir()
    shutil.copy(WOUND_CARE, folder)
    other = WOUND_CARE.read_text().replace('"WOUND-CARE"', '"WOUND-CARE-NURSES"')
    other = other.replace("Assessing wounds", "Wound assessment for nurses")
    (folder / "z-wound-care-nurses.toml").write_text(other)
    launcher: Launcher = sqlite_tool_factory(
        qualifications_dir=str(folder), default_qualification="WOUND-CARE"
    )
    # The platform checks the tool's token requests against this tool's keys.
    launcher.platform.tool_jwks_source = lambda: (
        launcher.app.test_client().get("/.well-known/jwks.json").json
    )
    return launcher


def test_each_module_gets_a_column_titled_from_the_courses_qualification(
    two_wound_cares: Launcher, ags: Any
) -> None:
    teacher = open_tool(two_wound_cares, "teacher1")
    open_tool(two_wound_cares, "student1")
    courses = ("W01", "W02", "W03", "W04", "W05", "W08", "W10")
    add_completions(two_wound_cares.app, "1001", dict.fromkeys(courses, DONE))
    for module in ("WC1", "WC2", "WC3"):
        record_result(teacher.client, teacher.bearer, "1001", 70, module=module)
    job = run_sync(teacher.client, teacher.bearer)
    assert (job["status"], job["done"], job["failed"]) == ("done", 3, 0), job
    created = {c.resource_id: c.label for c in ags.lineitem_creates}
    assert created == {
        "WC1": "WC1 Assessing wounds",
        "WC2": "WC2 Dressings and devices",
        "WC3": "WC3 Complex wounds",
    }


def test_columns_are_titled_from_the_qualification_the_link_names(
    two_wound_cares: Launcher, ags: Any
) -> None:
    """The link's custom parameter qualification= beats the course's qualification on every
    page of its launch (staff cannot override it): the columns a sync started from that
    launch makes are titled from it too, not from the course's."""
    nurses = {c.CUSTOM: {"qualification": "WOUND-CARE-NURSES"}}
    teacher = open_tool(two_wound_cares, "teacher1", changes=nurses)
    open_tool(two_wound_cares, "student1", changes=nurses)
    courses = ("W01", "W02", "W03", "W04", "W05", "W08", "W10")
    add_completions(two_wound_cares.app, "1001", dict.fromkeys(courses, DONE))
    for module in ("WC1", "WC2"):
        record_result(teacher.client, teacher.bearer, "1001", 70, module=module)
    job = run_sync(teacher.client, teacher.bearer)
    assert (job["status"], job["done"], job["failed"]) == ("done", 2, 0), job
    created = {c.resource_id: c.label for c in ags.lineitem_creates}
    assert created == {"WC1": "WC1 Wound assessment for nurses", "WC2": "WC2 Dressings and devices"}
