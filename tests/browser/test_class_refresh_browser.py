"""The class completion refresh in Chromium: a tutor's first launch reads every student from
the sandbox Moodle in the background; the class page follows its progress (its script polls
and reloads once it is done), then says when each student was read. Desktop and 360 px,
with axe-core's rules."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.completion.class_progress import PROGRESS, PROGRESS_TTL
from lti_tool.persistence.models import Context
from lti_tool.sandbox import register_sandbox
from tests.browser.conftest import LiveSite, screenshot
from tests.browser.test_checklist_a11y import PHONE, assert_accessible, launch
from tests.support.bound_pages import bound_url, goto_bound

pytestmark = pytest.mark.browser


def _class_page(live_site: LiveSite, browser_context: Any) -> Any:
    services = live_site.app.extensions["lti_tool"]
    assert live_site.platform is not None
    # The course reads completion from the sandbox Moodle's web services.
    register_sandbox(
        services.db, live_site.platform, development=True, secret_key=services.settings.secret_key
    )
    page = launch(live_site, browser_context, "Launch as instructor (teacher1)")
    page.get_by_role("link", name="Students and results").click()
    page.wait_for_url(bound_url(live_site.tool_url, "/staff/class/"))
    return page


def test_the_class_page_shows_completion_read_for_everyone(
    live_site: LiveSite, browser_context: Any
) -> None:
    page = _class_page(live_site, browser_context)
    # Running when the page was drawn, the script reloads it once the refresh is done.
    expect(page.locator("#refresh-status")).to_contain_text("Completion as of", timeout=60_000)
    expect(page.locator("#refresh-status")).to_contain_text("for 4 of 4 students")
    owen = page.get_by_role("row").filter(has=page.get_by_role("link", name="Owen Hughes"))
    expect(owen).to_contain_text("as of ")  # never launched, read all the same
    expect(owen).to_contain_text("not opened yet")
    sam = page.get_by_role("row").filter(has=page.get_by_role("link", name="Sam Student"))
    expect(sam).to_contain_text("150/")
    expect(page.get_by_text("not read yet")).to_have_count(0)
    screenshot(page, "class-refresh-done")
    assert_accessible(page, "class page after the refresh")
    page.set_viewport_size(PHONE)
    screenshot(page, "class-refresh-done-phone")
    assert_accessible(page, "class page after the refresh, 360 px")


def test_the_class_page_follows_a_running_refresh(
    live_site: LiveSite, browser_context: Any
) -> None:
    page = _class_page(live_site, browser_context)
    expect(page.locator("#refresh-status")).to_contain_text("Completion as of", timeout=60_000)
    services = live_site.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        key = str(session.scalar(select(Context.id)))
    done = services.store.get(PROGRESS, key)
    # What the job writes while it reads: the page shows it and keeps asking.
    running = dict(done, status="running", done=1, failed=0, total=3, finished_at=None)
    services.store.put(PROGRESS, key, running, PROGRESS_TTL)
    goto_bound(page, live_site.tool_url + "/staff/class/")
    status = page.locator("#refresh-status")
    expect(status).to_have_text("Reading completion from Moodle: 1 of 3 students")
    expect(page.locator("#refresh-bar")).to_have_attribute("value", "1")
    screenshot(page, "class-refresh-running")
    assert_accessible(page, "class page during the refresh")
    services.store.put(PROGRESS, key, dict(running, done=2), PROGRESS_TTL)
    expect(status).to_have_text("Reading completion from Moodle: 2 of 3 students")
    services.store.put(PROGRESS, key, dict(done, finished_at=time.time()), PROGRESS_TTL)
    expect(status).to_contain_text("Completion as of")  # reloaded by the script
    page.set_viewport_size(PHONE)
    screenshot(page, "class-refresh-phone")
