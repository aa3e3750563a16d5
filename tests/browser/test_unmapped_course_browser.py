"""A CPD course the Moodle source has no mapping for, in Chromium at desktop and phone widths:
the student reads "Can't be tracked yet" (never "Not started": they may have done it in
Moodle), and the class view tells the tutor once which course is not linked and who links it;
axe-core clean (WCAG 2.1 AA), no sideways scrolling at 360 px."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete

from lti_tool.persistence.models import CourseMappingRow
from tests.browser.conftest import ARTIFACTS, BROWSER_WAIT_MS, LiveSite, screenshot
from tests.browser.test_checklist_a11y import (
    PHONE,
    assert_accessible,
    assert_no_horizontal_scroll,
    launch,
    seed_student_data,
)
from tests.browser.test_student_page_browser import DESKTOP, seed_results_and_links
from tests.support.bound_pages import goto_bound

pytestmark = pytest.mark.browser

UNMAPPED = "GB083"  # not started by Sam in the seeded data: it would have read "Not started"


def _unmap(live_site: LiveSite) -> None:
    with live_site.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(delete(CourseMappingRow).where(CourseMappingRow.course_code == UNMAPPED))


def _check_student_row(page: Any, name: str) -> None:
    row = page.get_by_role("row").filter(has_text=UNMAPPED)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Can't be tracked yet")
    expect(row).to_contain_text("Your tutor has been told")
    expect(row).not_to_contain_text("Not started")
    # No link to a Moodle course the tool does not know.
    expect(
        page.get_by_role("link", name=f"Open {UNMAPPED} in Moodle (opens in a new tab)")
    ).to_have_count(0)
    assert_accessible(page, name)


def test_an_unmapped_course_for_the_student_and_the_tutor(
    live_site: LiveSite, chromium: Any
) -> None:
    context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    context.set_default_timeout(BROWSER_WAIT_MS)
    try:
        page = launch(live_site, context, "Launch as student (student1)")
        seed_student_data(live_site)
        seed_results_and_links(live_site)
        _unmap(live_site)
        goto_bound(page, live_site.tool_url + "/me")
        _check_student_row(page, "student page, unmapped course, 1280px")
        screenshot(page, "unmapped-student-1280px")
        page.set_viewport_size(PHONE)
        page.reload()
        assert_no_horizontal_scroll(page)
        _check_student_row(page, "student page, unmapped course, 360px")
        screenshot(page, "unmapped-student-360px")
        row = page.locator("section.module").first.get_by_role("row").filter(has_text=UNMAPPED)
        row.screenshot(path=str(ARTIFACTS / "unmapped-student-row-360px.png"))
    finally:
        context.close()

    staff_context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    staff_context.set_default_timeout(BROWSER_WAIT_MS)
    try:
        page = launch(live_site, staff_context, "Launch as instructor (teacher1)")
        goto_bound(page, live_site.tool_url + "/staff/class/")
        panel = page.get_by_role("region", name="Courses that can't be tracked")
        expect(panel).to_contain_text(
            f"{UNMAPPED} is not linked to a Moodle course yet, so the tool cannot read it"
        )
        expect(panel).to_contain_text("CPD course mapping page")
        item = panel.get_by_role("listitem").filter(has_text=UNMAPPED)
        expect(item).to_contain_text("Still needed by")
        assert item.inner_text().count(UNMAPPED) == 1, item.inner_text()
        assert_accessible(page, "class view, unmapped course, 1280px")
        screenshot(page, "unmapped-class-1280px")
        page.set_viewport_size(PHONE)
        page.reload()
        assert_no_horizontal_scroll(page)
        expect(panel).to_be_visible()
        screenshot(page, "unmapped-class-360px")
    finally:
        staff_context.close()
