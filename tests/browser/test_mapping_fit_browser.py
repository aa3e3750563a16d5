"""The CPD course mapping page of a Moodle source in course mode, in Chromium at desktop and
phone widths: a mapping that names an activity too is refused in words, and one stored so
(left from activity mode) is marked as not read; axe-core clean, no sideways scrolling."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from lti_tool.admin.accounts import create_admin
from lti_tool.persistence.models import CourseMappingRow, Registration
from lti_tool.sandbox import register_sandbox
from tests.browser.conftest import BROWSER_WAIT_MS, LiveSite, screenshot
from tests.browser.test_add_platform_browser import sign_in
from tests.browser.test_checklist_a11y import PHONE, assert_accessible, assert_no_horizontal_scroll
from tests.browser.test_student_page_browser import DESKTOP
from tests.web.test_admin_access import PASSWORD

pytestmark = pytest.mark.browser


def test_the_mapping_page_says_what_a_course_mode_source_does_not_read(
    live_site: LiveSite, browser_context: Any
) -> None:
    services = live_site.app.extensions["lti_tool"]
    assert live_site.platform is not None
    # The sandbox Moodle as the source, each CPD course mapped to its Moodle course.
    register_sandbox(
        services.db, live_site.platform, development=True, secret_key=services.settings.secret_key
    )
    with services.db.unit_of_work() as session:
        create_admin(session, "root", PASSWORD)
        pk = session.scalars(select(Registration.id)).one()
        session.execute(
            update(CourseMappingRow)
            .where(CourseMappingRow.course_code == "GB085")
            .values(activity_id="55")
        )
    page = sign_in(browser_context, live_site)
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_site.tool_url}/admin/registrations/{pk}/mapping")
    stray = page.get_by_role("row").filter(has_text="GB085")
    expect(stray).to_contain_text("Not read: this source reads whole Moodle courses")

    page.get_by_label("CPD course", exact=True).select_option("GB084")
    page.get_by_label("LMS course id").fill("99")
    page.get_by_label("Activity / module id (activity mapping)").fill("12")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("so GB084 cannot be linked to an activity")).to_be_visible(
        timeout=BROWSER_WAIT_MS
    )
    assert_accessible(page, "mapping page, refused, 1280px")
    screenshot(page, "mapping-fit-1280px")
    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    expect(stray).to_contain_text("Not read")
    assert_accessible(page, "mapping page, 360px")
    screenshot(page, "mapping-fit-360px")
