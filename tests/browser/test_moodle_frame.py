"""Issue 17, done as a new user would find it: the tool inside a stock Moodle's course page.

The tool answers over HTTPS as ``https://tool.test`` and the course page is on another site
(the sandbox LMS at ``http://127.0.0.1``) offering no platform storage, like Moodle. Chromium
blocks third-party cookies (its default), so only the tool's partitioned cookies are kept in
the frame. A teacher and a student use every state-changing form of their pages and every
download, in the frame; each answer must be the page they expected, not "The form expired".
A browser that keeps no cookie for the tool in the frame at all reaches the launched page
through the way out, though the platform's message hint works only once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lti_tool.persistence.models import SigningKey
from tests.browser.conftest import LiveSite, blocking_profile, running_site, screenshot
from tests.support.backends import MigratedBackends

pytestmark = pytest.mark.browser

TOOL_HOST = "tool.test"
STARTS_CSV = b"student,module,start_date,reason\n*,B833,2027-10-31,\n"
COMPLETIONS_CSV = b"student,course_code,status,completed_at\n1001,GB080,completed,2026-05-01\n"
RESULTS_CSV = (
    b"student,module,score,outcome,override_reason,released\n"
    b"1001,B833,64,pass,CPD checked by hand,false\n"
)


@pytest.fixture
def moodle_like(
    tmp_path: Path, migrated: MigratedBackends, tool_key_template: SigningKey
) -> Iterator[LiveSite]:
    with running_site(tmp_path, migrated, tool_key_template, tool_host=TOOL_HOST, tls=True) as site:
        yield site


def _tool_frame(page: Any) -> Any:
    frame = page.frame(name="lti-tool")
    assert frame is not None
    return frame


def _answered(tool: Any, expected: str) -> None:
    """The page the form returned to shows ``expected``, and no refusal."""
    tool.wait_for_selector(f"text={expected}")
    body = tool.inner_text("body")
    assert "The form expired" not in body and "Please launch the tool again" not in body


def _file(name: str, content: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/csv", "buffer": content}


def _form_with(tool: Any, selector: str) -> Any:
    return tool.locator("form", has=tool.locator(selector))


def test_teacher_and_student_use_every_form_and_download_in_a_moodle_frame(
    moodle_like: LiveSite, playwright_driver: Any, tmp_path: Path
) -> None:
    site = moodle_like
    with blocking_profile(playwright_driver, tmp_path, map_host=TOOL_HOST) as browser:
        page = browser.new_page()

        # The student: their data page, its JSON download, and the erasure request.
        page.goto(site.sandbox_url + "/course/student1?storage=none")
        tool = _tool_frame(page)
        tool.wait_for_selector("h1:text('My pathway')")
        tool.get_by_role("link", name="Your data in this tool").click()
        tool.wait_for_selector("h1:text('Your data in this tool')")
        with page.expect_download() as downloading:
            tool.get_by_role("link", name="Download as JSON").click()
        exported = json.loads(Path(downloading.value.path()).read_text())
        assert exported["identity"]["sub"] == "1001"
        tool.fill("#erasure-reason", "Leaving the course")
        tool.get_by_role("button", name="Request erasure").click()
        _answered(tool, "Erasure requested.")
        screenshot(page, "moodle-frame-student")

        # The teacher: course settings.
        page.goto(site.sandbox_url + "/course/teacher1?storage=none")
        tool = _tool_frame(page)
        tool.wait_for_selector("h1:text('Course settings')")
        tool.fill("#start-B832", "2027-05-30")
        tool.get_by_role("button", name="Save start dates").click()
        _answered(tool, "Start dates saved.")
        assert tool.input_value("#start-B832") == "2027-05-30"

        tool.set_input_files("#csv-file", _file("starts.csv", STARTS_CSV))
        _form_with(tool, "#csv-file").get_by_role("button", name="Import").click()
        _answered(tool, "Imported 1 start date.")

        tool.set_input_files("#completion-file", _file("completions.csv", COMPLETIONS_CSV))
        tool.fill("#completion-reason", "certificates checked")
        _form_with(tool, "#completion-file").get_by_role("button", name="Import").click()
        _answered(tool, "Imported 1 completion record.")

        _form_with(tool, "#qualification-code").get_by_role("button", name="Save").click()
        _answered(tool, "This course now tracks the chosen qualification.")

        # The class page: results, release, grade sync, and its CSV download.
        tool.get_by_role("link", name="Students and results").click()
        tool.wait_for_selector("h1:text-is('Students and results')")
        tool.locator("summary", has_text="Import results from a CSV file").click()
        tool.set_input_files("#results-file", _file("results.csv", RESULTS_CSV))
        tool.get_by_role("button", name="Import results").click()
        _answered(tool, "Imported 1 result.")
        tool.get_by_role("button", name="Release all held results…").click()
        tool.get_by_role("button", name="Release 1 B833 result to 1 student").click()
        _answered(tool, "Released 1 result;")
        # A cell of the class table saves through the API from inside the frame (its token
        # and CSRF header accepted): the answer is the server's own refusal, shown in the cell.
        cell = tool.locator("form.mark[data-sub='1001'][data-module='B832']")
        cell.locator("[data-field=score]").fill("66")
        cell.locator("[data-field=outcome]").select_option("pass")
        cell.locator("[data-field=outcome]").press("Enter")
        expect(cell.locator(".mark-state")).to_contain_text("has not met the CPD requirement")
        expect(cell.locator("[data-field=score]")).to_have_value("66")
        tool.get_by_role("button", name="Send released results to the gradebook").click()
        _answered(tool, "Grade sync")
        with page.expect_download() as downloading:
            tool.get_by_role("link", name="Download CSV").click()
        assert "Sam" in Path(downloading.value.path()).read_text()

        # The completion grid works in the frame too: its links and GET form keep the launch.
        tool.get_by_role("link", name="CPD course completion").click()
        tool.wait_for_selector("h1:text-is('CPD course completion')")
        tool.get_by_label("Search by name").fill("sam")
        tool.get_by_role("button", name="Apply").click()
        tool.wait_for_selector("#grid-count:text-is('1 student')")
        tool.get_by_role("link", name="Back to the class").click()
        tool.wait_for_selector("h1:text-is('Students and results')")

        # One student's page: a result, a completion, a new attempt.
        tool.get_by_role("link", name="Sam Student").first.click()
        tool.wait_for_selector("text=Record an assessment result")
        tool.select_option("#result-module", "B832")
        tool.fill("#result-score", "71")
        tool.select_option("#result-outcome", "pass")
        tool.fill("#result-override", "CPD checked by hand")
        tool.get_by_role("button", name="Save result").click()
        _answered(tool, "B832 result saved.")

        tool.select_option("#record-course", "GB081")
        tool.select_option("#record-status", "completed")
        tool.fill("#record-date", "2026-06-01")
        tool.fill("#record-reason", "certificate seen")
        _form_with(tool, "#record-course").get_by_role("button", name="Save").click()
        _answered(tool, "GB081 recorded.")

        tool.select_option("#attempt-module", "B833")
        tool.fill("#attempt-start", "2028-01-31")
        tool.fill("#attempt-reason", "resit")
        tool.get_by_role("button", name="Record a new attempt").click()
        _answered(tool, "The student's new start date is recorded.")
        screenshot(page, "moodle-frame-teacher")


def test_a_browser_keeping_no_cookie_in_the_frame_reaches_the_tool_through_a_new_window(
    moodle_like: LiveSite, playwright_driver: Any, tmp_path: Path
) -> None:
    """Safari's default (or a browser whose owner blocks cookies): nothing is kept for the
    tool inside the course site's frames, partitioned cookies included. The platform's hint
    works once, as Moodle's does: the tool must notice before the platform is asked."""
    site = moodle_like
    assert site.platform is not None
    site.platform.single_use_hints = True
    tool_origin = site.tool_url
    with blocking_profile(
        playwright_driver,
        tmp_path,
        map_host=TOOL_HOST,
        keep_none_in=(tool_origin, site.sandbox_url),
    ) as browser:
        page = browser.new_page()
        page.goto(site.sandbox_url + "/course/teacher1?storage=none")
        tool = _tool_frame(page)
        way_out = tool.get_by_role("link", name="Open the tool in a new window")
        way_out.wait_for()
        text = tool.inner_text("main")
        assert "third-party cookies are blocked" in text
        assert "set this link to open in a new window" in text
        assert site.platform.spent_hints == set()
        screenshot(page, "moodle-frame-no-cookies")
        with browser.expect_page() as opened:
            way_out.click()
        window = opened.value
        window.wait_for_selector("h1:text('Course settings')")
        # The new window is a working tool: its forms are accepted.
        window.fill("#start-B832", "2027-05-30")
        window.get_by_role("button", name="Save start dates").click()
        window.wait_for_selector("text=Start dates saved.")
        assert len(site.platform.spent_hints) == 1
        screenshot(window, "moodle-frame-new-window")
