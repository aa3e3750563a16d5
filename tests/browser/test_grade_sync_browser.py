"""Grade sync end to end in Chromium: a teacher records a result on a student's page, sends
it to the gradebook from the class page (whose script polls the job), and the sandbox LMS's
gradebook shows it (on the way, the class page's filter finds the one student ready for
B832). The platform's /token reads the tool's JWKS over HTTP from the live tool."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveSite, screenshot
from tests.support.bound_pages import bound_url, goto_bound, landed
from tests.support.grade_sync import complete_courses

pytestmark = pytest.mark.browser

SAM = "1001"
READY_FOR_B832 = "Ready for B832 Leading health service delivery and improvement, no result yet"


def test_a_result_reaches_the_sandbox_gradebook_in_chromium(live_site: LiveSite, page: Any) -> None:
    failed_requests: list[str] = []
    page.on(
        "response",
        lambda r: failed_requests.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))

    page.goto(live_site.sandbox_url + "/")
    page.get_by_role("link", name="Launch as instructor (teacher1)").click()
    page.wait_for_url(landed(live_site.tool_url))
    assert page.get_by_role("heading", level=1).inner_text() == "Course settings"
    complete_courses(live_site.app, [SAM])

    page.get_by_role("link", name="Students and results").click()
    page.wait_for_url(bound_url(live_site.tool_url, "/staff/class/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Students and results"
    assert page.title() == "Students and results"
    tabs = page.get_by_role("navigation", name="Staff pages")
    tab = tabs.get_by_role("link", name="Students and results")
    assert tab.get_attribute("aria-current") == "page"
    # Columns and filters come from the course's qualification, in its own words.
    columns = page.get_by_role("columnheader").all_inner_texts()
    assert any(c.startswith("B832") and "Leading health service" in c for c in columns), columns
    page.get_by_label("Show").select_option(label=READY_FOR_B832)
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(
        re.compile(
            re.escape(live_site.tool_url) + r"/staff/class/\?.*filter=eligible_no_result_B832"
        )
    )
    assert page.locator("tbody tr").count() == 1, page.locator("tbody").inner_text()
    page.get_by_role("link", name="Sam Student").click()
    page.wait_for_url(bound_url(live_site.tool_url, f"/staff/students/{SAM}"))

    form = page.get_by_role("region", name="Record an assessment result")
    form.get_by_label("Module").select_option("B832")
    form.get_by_label("Score").fill("74")
    form.get_by_label("Outcome").select_option("pass")
    release = form.get_by_label("Release to the gradebook now")
    assert not release.is_checked()  # nothing goes to the gradebook unless the tutor says so
    release.check()
    form.get_by_role("button", name="Save result").click()
    page.wait_for_url(bound_url(live_site.tool_url, f"/staff/students/{SAM}"))
    assert page.get_by_role("status").filter(has_text="B832 result saved").is_visible()

    goto_bound(page, live_site.tool_url + "/staff/class/")
    sam = page.get_by_role("row").filter(has=page.get_by_role("link", name="Sam Student"))
    assert "Pass 74/100" in sam.inner_text()
    assert "not sent yet" in sam.inner_text()
    page.get_by_role("button", name="Send released results to the gradebook").click()
    page.wait_for_url(re.compile(re.escape(live_site.tool_url) + r"/staff/class/\?job=[0-9a-f-]+"))
    progress = page.locator("#sync-status")
    try:
        expect(progress).to_have_text(re.compile(r"^(Finished|Stopped):"), timeout=20_000)
    finally:
        screenshot(page, "grade-sync-class")
    assert progress.inner_text() == "Finished: 1 of 1 result sent", (
        progress.inner_text(),
        failed_requests,
        console,
    )
    assert page.locator("#sync-bar").get_attribute("value") == "1"
    assert page.locator("#sync-errors li").count() == 0
    page.reload()  # the row now says the score is in the gradebook
    sam = page.get_by_role("row").filter(has=page.get_by_role("link", name="Sam Student"))
    assert "in gradebook" in sam.inner_text()

    page.goto(live_site.sandbox_url + "/gradebook")
    assert page.get_by_role("heading", level=1).inner_text() == "Gradebook"
    table = page.get_by_role("table")
    headers = table.get_by_role("columnheader").all_inner_texts()
    b832 = next(i for i, text in enumerate(headers) if "(B832)" in text)
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Sam Student"))
    cells = row.get_by_role("cell").all_inner_texts()
    # the row header is the first column: cell i is under column header i + 1
    assert cells[b832 - 1].split("\n")[0].strip() == "74 / 100", (headers, cells)
    assert "Completed" in cells[b832 - 1]
    others = table.get_by_role("row").filter(has_not=page.get_by_role("rowheader", name="Sam"))
    assert "74 / 100" not in " ".join(others.all_inner_texts())
    screenshot(page, "grade-sync-gradebook")
    assert not [r for r in failed_requests if "/api/jobs/" in r], failed_requests
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console
