"""The completion grid in Chromium: reached from the staff pages, filtered and searched with
its form, readable at 360 px (each cell names its course), and axe-core clean."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_WAIT_MS, LiveSite, screenshot
from tests.browser.test_checklist_a11y import (
    PHONE,
    assert_accessible,
    assert_no_horizontal_scroll,
    staff_page_after_a_student,
)
from tests.support.bound_pages import bound_url

pytestmark = pytest.mark.browser


@pytest.fixture
def staff_context(chromium: Any) -> Iterator[Any]:
    """The tool's CSP allows only its own nonce'd scripts, so axe needs the CSP bypassed."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    context.set_default_timeout(BROWSER_WAIT_MS)
    yield context
    context.close()


def test_the_completion_grid_in_chromium(
    live_site: LiveSite, chromium: Any, staff_context: Any
) -> None:
    page = staff_page_after_a_student(live_site, chromium, staff_context)

    page.get_by_role("link", name="CPD course completion").click()
    page.wait_for_url(bound_url(live_site.tool_url, "/staff/class/completion/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("CPD course completion")
    table = page.get_by_role("table", name="CPD courses of each student")
    sam = table.get_by_role("row").filter(has_text="Sam Student")
    expect(sam.get_by_role("cell").first).to_have_text("✔completed")  # GB080
    expect(sam.get_by_role("cell").nth(1)).to_have_text(re.compile("in progress|late"))
    screenshot(page, "completion-grid")
    assert_accessible(page, "completion grid")

    page.get_by_label("Search by name").fill("sam")
    page.get_by_label("Status").select_option(label="Has a course completed")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#grid-count")).to_have_text("1 student")
    expect(table.get_by_role("row")).to_have_count(3)  # two header rows and Sam
    expect(page.get_by_label("Search by name")).to_have_value("sam")
    screenshot(page, "completion-grid-filtered")

    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    # The grid stacks: each cell names its course, so no colour or column is needed.
    cells = table.aria_snapshot()
    assert 'cell "GB080: completed"' in cells and 'cell "GB081: in progress"' in cells, cells
    screenshot(page, "completion-grid-360px")
    assert_accessible(page, "completion grid at 360px")
