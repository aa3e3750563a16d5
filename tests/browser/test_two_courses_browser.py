"""Two courses in two tabs of one browser: each page acts on its own course (issue 10, item 5).

A tutor opens course A (the sandbox's spring course) in one tab and course B (``autumn``) in
another, then goes back to A's tab and saves a start date and presses Release. Before page
binding the browser held one session cookie, the last launch's, so A's forms changed B.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveSite, screenshot
from tests.support.bound_pages import landed

pytestmark = pytest.mark.browser

# The landing page's script reading its own course's dates with its own launch token.
_COHORT_STARTS = """async (binding) => {
    const headers = {'X-LTI-Binding': binding};
    const r = await fetch('/api/context/module-starts', {headers: headers});
    const body = await r.json();
    return Object.fromEntries(body.modules.map((m) => [m.code, m.start_date]));
}"""


class Course:
    """One tab of the browser, launched into one course as Tess Teacher."""

    def __init__(self, context: Any, site: LiveSite, course: str) -> None:
        self.tab = context.new_page()
        self.tab.goto(f"{site.sandbox_url}/launch/teacher1?course={course}")
        self.tab.wait_for_url(landed(site.tool_url))
        assert self.tab.get_by_role("heading", level=1).inner_text() == "Course settings"
        self.binding = self.tab.evaluate(
            "() => document.querySelector('meta[name=\"lti-binding\"]')?.content ?? null"
        )

    def starts(self) -> dict[str, str | None]:
        return dict(self.tab.evaluate(_COHORT_STARTS, self.binding))


def test_each_tab_acts_on_its_own_course(live_site: LiveSite, page: Any) -> None:
    context = page.context
    a = Course(context, live_site, "spring")
    b = Course(context, live_site, "autumn")  # the last launch in this browser
    course_a, course_b = a.tab, b.tab
    assert "(autumn intake)" in course_b.inner_text("main")
    assert "(autumn intake)" not in course_a.inner_text("main")
    assert a.starts()["B832"] is None and b.starts()["B832"] is None

    # Back in course A's tab: save a start date with A's form.
    course_a.bring_to_front()
    course_a.fill("#start-B832", "2027-05-30")
    course_a.get_by_role("button", name="Save start dates").click()
    course_a.wait_for_selector("text=Start dates saved.")
    assert course_a.input_value("#start-B832") == "2027-05-30"
    assert a.starts()["B832"] == "2027-05-30"
    # Course B, launched last, is unchanged.
    assert b.starts()["B832"] is None
    assert a.binding and b.binding and a.binding != b.binding  # each page names its launch
    # B's own links (GETs naming B's launch) still show B, unchanged.
    course_b.get_by_role("link", name="Students and results").click()
    course_b.get_by_role("link", name="Course settings").click()
    assert course_b.input_value("#start-B832") == ""
    screenshot(course_a, "two-courses-course-a")

    # A's class page: Release and grade sync stay in A; the sync progress script names A.
    course_a.get_by_role("link", name="Students and results").click()
    course_a.get_by_role("button", name="Release all held results…").click()
    course_a.wait_for_selector("text=There are no held results to release.")
    course_a.get_by_role("button", name="Send released results to the gradebook").click()
    # A locator wait, not a string predicate: the page's CSP forbids the eval Playwright would
    # need for an expression, and the status element only appears once the page has moved on.
    expect(course_a.locator("#sync-status")).to_have_text(
        "Finished: nothing to send", timeout=60_000
    )

    # A script that names no launch gets the plain refusal, never course B.
    refused = course_a.evaluate(
        """async () => {
            const r = await fetch('/api/context/module-starts');
            return {status: r.status, body: await r.json()};
        }"""
    )
    assert refused["status"] == 409
    assert refused["body"]["error"]["code"] == "launch_not_named"
    assert "Open the tool again from your course." in refused["body"]["error"]["message"]
