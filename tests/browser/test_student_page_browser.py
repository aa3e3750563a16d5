"""The student's page in Chromium at desktop (1280 px) and phone (360 px) widths: what to do
next first, completed courses folded under a summary that the keyboard opens, course links
that say they open a new tab, a released result in full and a held one only as held;
axe-core clean (WCAG 2.1 AA) at both widths."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.grading.results import save_result
from lti_tool.persistence.models import Context
from lti_tool.sandbox import register_sandbox
from tests.browser.conftest import BROWSER_WAIT_MS, LiveSite, screenshot
from tests.browser.test_checklist_a11y import (
    PHONE,
    assert_accessible,
    assert_no_horizontal_scroll,
    focused,
    launch,
    seed_student_data,
)
from tests.support.bound_pages import goto_bound

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
COMMENT = "Clear account of the service change.\nNext time: cite the audit data."


def seed_results_and_links(live_site: LiveSite) -> None:
    """Moodle completion source and one Moodle course per CPD course (as ``scripts/run`` sets
    the sandbox up), a released B832 result and a held B833 one for Sam (sub 1001)."""
    app = live_site.app
    services = app.extensions["lti_tool"]
    assert live_site.platform is not None
    register_sandbox(
        services.db, live_site.platform, development=True, secret_key=services.settings.secret_key
    )
    qualification = services.catalog.pick(None, None)
    with services.db.unit_of_work() as session:
        context_pk = session.scalar(select(Context.id))
        assert context_pk is not None
        # B832 released (referred, so its courses are still to do), B833 held.
        for module, outcome, score, released in (
            ("B832", "referred", 38.0, True),
            ("B833", "pass", 68.0, False),
        ):
            save_result(
                session,
                qualification=qualification,
                context_pk=context_pk,
                sub="1001",
                module_code=module,
                body={
                    "score": score,
                    "max": 100,
                    "outcome": outcome,
                    "comment": COMMENT,
                    "released": released,
                },
                actor_user_pk=None,
                cpd_complete=True,
                platform_kind="generic",
            )


def check_student_page(page: Any, name: str) -> None:
    # What to do next comes first after the heading, and is short.
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert headings[0] == "What to do next", headings
    assert page.locator("section.next li").count() <= 3

    b832 = page.get_by_role("region", name="B832 Leading health service delivery and improvement")
    result = b832.locator(".result")
    expect(result.locator(".score")).to_have_text("38 out of 100 · Referred")
    expect(result.locator("blockquote")).to_have_text(COMMENT)
    b833 = page.get_by_role("region", name="B833 Leading healthcare innovation")
    expect(b833.locator(".result")).to_have_text(
        "Assessment result Your tutor has recorded a result; it will appear here once it is"
        " released.",
        use_inner_text=False,
    )
    assert "out of 100" not in b833.inner_text()

    # A course still to do links to its Moodle course, in a new tab, and says so.
    link = page.get_by_role("link", name="Open GB082 in Moodle (opens in a new tab)")
    expect(link).to_be_visible()
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener"
    assert link.get_attribute("href").endswith("/moodle/course/view.php?id=5")

    # Completed courses are folded under their summary; the keyboard opens them.
    done = b832.locator("details.done")
    summary = done.locator("summary")
    expect(summary).to_have_text("Completed courses: 1 of 7 complete, 25 of 250 hours")
    completed = b832.get_by_role("table", name="Completed CPD courses for B832")
    expect(completed).to_be_hidden()
    summary.focus()
    assert focused(page)["outline"] >= 2
    page.keyboard.press("Enter")
    expect(completed).to_be_visible()
    assert completed.get_by_role("row").count() == 2  # header and GB080
    page.keyboard.press("Enter")
    expect(completed).to_be_hidden()
    # Printing shows every folded list, and folds them again afterwards.
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    expect(completed).to_be_visible()
    assert page.locator("details.done:not([open])").count() == 0
    page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
    expect(completed).to_be_hidden()
    assert_accessible(page, name)


def test_student_page_at_desktop_and_phone_widths(live_site: LiveSite, chromium: Any) -> None:
    context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    context.set_default_timeout(BROWSER_WAIT_MS)
    try:
        page = launch(live_site, context, "Launch as student (student1)")
        seed_student_data(live_site)
        seed_results_and_links(live_site)
        goto_bound(page, live_site.tool_url + "/me")
        check_student_page(page, "student page at 1280px")
        screenshot(page, "student-page-1280px")
        page.locator("details.done").first.locator("summary").click()
        screenshot(page, "student-page-1280px-opened")

        page.set_viewport_size(PHONE)
        page.reload()
        assert_no_horizontal_scroll(page)
        check_student_page(page, "student page at 360px")
        screenshot(page, "student-page-360px")
    finally:
        context.close()


def test_staff_preview_shows_the_held_result_as_held(
    live_site: LiveSite, chromium: Any, browser_context: Any
) -> None:
    student_context = chromium.new_context()
    try:
        launch(live_site, student_context, "Launch as student (student1)")
    finally:
        student_context.close()
    seed_student_data(live_site)
    seed_results_and_links(live_site)
    page = launch(live_site, browser_context, "Launch as instructor (teacher1)")
    goto_bound(page, live_site.tool_url + "/staff/students/1001")
    b833 = page.get_by_role("region", name="B833 Leading healthcare innovation")
    expect(b833.locator(".result")).to_contain_text("Held: not released to the student yet")
    expect(b833.locator(".result .score")).to_have_text("68 out of 100 · Passed")
    # As the student sees it: a held pass counts only once released.
    expect(b833.get_by_text("It counts toward their credits once released.")).to_be_visible()
    expect(b833.get_by_text("no more CPD courses are needed")).to_have_count(0)
    assert_accessible(page, "staff preview with results")
    screenshot(page, "staff-preview-results")
