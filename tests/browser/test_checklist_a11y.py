"""The checklist and the staff pages in Chromium: what shows, keyboard use, a phone-width
viewport, and axe-core's accessibility rules (WCAG 2.1 A/AA)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.pathway.module_starts import set_cohort_starts
from lti_tool.persistence.models import Context
from tests.browser.conftest import LiveSite, screenshot
from tests.support.bound_pages import bound_url, goto_bound, landed, without_binding
from tests.support.pathway_web import add_completions

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PHONE = {"width": 360, "height": 740}


def launch(live_site: LiveSite, context: Any, link: str) -> Any:
    page = context.new_page()
    page.goto(live_site.sandbox_url + "/")
    page.get_by_role("link", name=link).click()
    page.wait_for_url(landed(live_site.tool_url))
    return page


def staff_page_after_a_student(live_site: LiveSite, chromium: Any, staff_context: Any) -> Any:
    """Sam launches once (so the tool knows him), gets completions and cohort dates, then the
    instructor launches in ``staff_context``: the staff page, ready."""
    student_context = chromium.new_context()
    try:
        launch(live_site, student_context, "Launch as student (student1)")
    finally:
        student_context.close()
    seed_student_data(live_site)
    return launch(live_site, staff_context, "Launch as instructor (teacher1)")


def seed_student_data(live_site: LiveSite) -> None:
    """Some completions for Sam (sub 1001) and cohort dates that give deadlines."""
    app = live_site.app
    today = app.extensions["lti_tool"].settings.today()
    add_completions(
        app,
        "1001",
        {
            "GB080": ("completed", today - dt.timedelta(days=120), today - dt.timedelta(days=60)),
            "GB081": ("in_progress", today - dt.timedelta(days=20), None),
            "GB087": ("completed", today - dt.timedelta(days=90), today - dt.timedelta(days=30)),
        },
    )
    add_completions(
        app,
        "1001",
        {"GB082": ("in_progress", today - dt.timedelta(days=5), None)},
        source="canvas",
        fetched_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
    )
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        context_pk = session.scalar(select(Context.id))
        assert context_pk is not None
        starts = {"B832": today - dt.timedelta(days=45), "B833": today + dt.timedelta(days=30)}
        set_cohort_starts(session, context_pk, starts, None)


def run_axe(page: Any, name: str) -> list[dict[str, Any]]:
    """Inject axe-core, run it, print every violation; return the serious and critical ones."""
    assert AXE.exists(), "axe-core is missing: run scripts/test (it runs npm install)"
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    assert result["passes"], "axe ran no rule at all"
    for violation in result["violations"]:
        targets = [node["target"] for node in violation["nodes"]][:5]
        print(
            f"axe {name}: [{violation['impact']}] {violation['id']}: {violation['help']} {targets}"
        )
    review = sorted({item["id"] for item in result["incomplete"]})
    if review:
        print(f"axe {name}: to review by hand: {', '.join(review)}")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Any, name: str) -> None:
    severe = run_axe(page, name)
    assert not severe, json.dumps(
        [{"id": v["id"], "nodes": [n["html"] for n in v["nodes"][:3]]} for v in severe], indent=1
    )


def focused(page: Any) -> dict[str, Any]:
    """What has keyboard focus, and whether it is visibly marked and on screen."""
    info: dict[str, Any] = page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {
                tag: el.tagName.toLowerCase(),
                text: el.innerText.trim(),
                href: el.getAttribute('href') || '',
                outline: style.outlineStyle !== 'none' ? parseFloat(style.outlineWidth) : 0,
                shadow: style.boxShadow,
                onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.top >= 0
                    && box.right <= innerWidth && box.bottom <= innerHeight,
            };
        }"""
    )
    return info


def assert_no_horizontal_scroll(page: Any) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
    )
    assert widths[2] == PHONE["width"]
    # What sticks out, so a failure names it.
    wide = page.evaluate(
        "() => Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 8)"
        ".map(e => e.tagName + '.' + e.className + ': ' + (e.innerText || '').slice(0, 60))"
    )
    assert max(widths[:2]) <= PHONE["width"] + 1, (widths, wide)


def test_student_checklist_in_chromium(live_site: LiveSite, browser_context: Any) -> None:
    page = launch(live_site, browser_context, "Launch as student (student1)")
    seed_student_data(live_site)
    goto_bound(page, live_site.tool_url + "/me")  # the session cookie of the launch

    assert page.get_by_role("heading", level=1).inner_text() == "My pathway"
    headings = page.get_by_role("heading", level=2).all_inner_texts()
    assert headings[:3] == [
        "What to do next",
        "B832 Leading health service delivery and improvement",
        "B833 Leading healthcare innovation",
    ]
    assert "Suggested study plan" in headings
    bars = page.get_by_role("progressbar")
    assert bars.count() == 2
    assert (
        page.get_by_role("progressbar", name="CPD hours: 25 of 250").get_attribute("value") == "25"
    )
    assert (
        page.get_by_role("progressbar", name="CPD hours: 50 of 250").get_attribute("value") == "50"
    )
    # Outstanding courses first; the completed one folded under its summary.
    table = page.get_by_role("table", name="CPD courses to do for B832")
    assert table.get_by_role("row").count() == 7  # header and six courses still to do
    done = page.get_by_role("table", name="Completed CPD courses for B832")
    expect(done).to_be_hidden()
    page.get_by_text("Completed courses: 1 of 7 complete, 25 of 250 hours").click()
    assert done.get_by_role("row").count() == 2  # header and GB080
    expect(done).to_be_visible()
    badges = page.locator(".badge:visible").all_inner_texts()
    assert {"✔ Complete", "◐ In progress", "○ Not started", "⚠ may be out of date"} <= set(badges)
    assert all(any(ch.isalpha() for ch in badge) for badge in badges), badges
    assert "read from Canvas on" in page.inner_text("main")
    screenshot(page, "checklist-student")
    page.reload()  # folded again, and nothing focused

    page.keyboard.press("Tab")
    first = focused(page)
    assert (first["tag"], first["text"]) == ("a", "Skip to content")
    assert first["onScreen"] and first["outline"] >= 2, first
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    assert_accessible(page, "student checklist")

    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    assert page.get_by_role("progressbar").first.bounding_box()["width"] <= PHONE["width"]
    # The course tables stack: the caption spans the width and each cell names its column.
    table = page.get_by_role("table", name="CPD courses to do for B832")
    assert table.locator("caption").bounding_box()["width"] >= PHONE["width"] - 40
    cells = table.aria_snapshot()
    assert 'cell "Hours: 25"' in cells and 'cell "Status: In progress"' in cells
    assert 'cell "Deadline: ' in cells
    page.get_by_text("Completed courses: 1 of 7 complete, 25 of 250 hours").click()
    cells = page.get_by_role("table", name="Completed CPD courses for B832").aria_snapshot()
    assert 'cell "Status: Complete"' in cells and 'cell "Completed: ' in cells
    screenshot(page, "checklist-student-360px")
    assert_accessible(page, "student checklist at 360px")


def test_staff_overview_and_student_preview_in_chromium(
    live_site: LiveSite, chromium: Any, browser_context: Any
) -> None:
    page = staff_page_after_a_student(live_site, chromium, browser_context)

    assert page.get_by_role("heading", level=1).inner_text() == "Course settings"
    assert page.get_by_role("link", name="Sam Student").is_visible()
    assert page.get_by_label("B832 start").input_value() != ""
    screenshot(page, "staff-overview")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to content"
    page.keyboard.press("Tab")
    link = focused(page)
    assert link["tag"] == "a" and without_binding(link["href"]) == "/staff/class/", link
    assert link["onScreen"] and link["outline"] >= 2, link
    assert link["text"] == "Students and results", link
    page.keyboard.press("Tab")
    link = focused(page)  # the current tab, marked as such
    assert link["text"] == "Course settings" and without_binding(link["href"]) == "/staff/", link
    tabs = page.get_by_role("navigation", name="Staff pages")
    assert tabs.get_by_role("link", name="Course settings").get_attribute("aria-current") == "page"
    page.keyboard.press("Tab")
    link = focused(page)
    assert without_binding(link["href"]) == "/staff/class/completion/", link
    page.keyboard.press("Tab")
    link = focused(page)
    assert link["tag"] == "a" and "/staff/students/" in link["href"], link
    assert_accessible(page, "staff overview")

    page.get_by_role("link", name="Sam Student").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(bound_url(live_site.tool_url, "/staff/students/1001"))
    assert page.get_by_role("heading", level=1).inner_text() == "Sam Student: pathway"
    assert page.get_by_role("progressbar").count() == 2
    attempts = page.get_by_role("region", name="Registrations and resits")
    attempts.get_by_label("New start date").fill("2027-10-31")
    attempts.get_by_label("Reason").fill("late registration")
    attempts.get_by_role("button", name="Record a new attempt").click()
    page.wait_for_url(bound_url(live_site.tool_url, "/staff/students/1001"))
    assert page.get_by_role("status").filter(has_text="new start date is recorded").is_visible()
    assert "B832 attempt 1: start 31 October 2027 (late registration)" in page.inner_text("main")
    screenshot(page, "staff-student-preview")
    assert_accessible(page, "staff student preview")

    page.set_viewport_size(PHONE)
    for path in ("/staff/students/1001", "/staff/class/", "/staff/"):
        goto_bound(page, live_site.tool_url + path)
        assert_no_horizontal_scroll(page)
        assert_accessible(page, f"{path} at 360px")
        if path == "/staff/class/":
            screenshot(page, "staff-class-360px")
            tab = tabs.get_by_role("link", name="Students and results")
            assert tab.get_attribute("aria-current") == "page" and tab.is_visible()
            # Both tabs on one row at 360 px.
            other = tabs.get_by_role("link", name="Course settings").bounding_box()
            current = tab.bounding_box()
            assert other and current and other["y"] == current["y"], (current, other)
    screenshot(page, "staff-overview-360px")

    # A later module starting before an earlier one is asked about on the page, as typed.
    page.get_by_label("B832 start").fill("2027-05-30")
    page.get_by_label("B833 start").fill("2027-03-01")
    page.get_by_role("button", name="Save start dates").click()
    question = page.get_by_role("alert").filter(has_text="B833 would start on 01/03/2027")
    expect(question).to_be_visible()
    assert page.get_by_label("B833 start").input_value() == "2027-03-01"
    assert_no_horizontal_scroll(page)
    assert_accessible(page, "start-order question at 360px")
    screenshot(page, "staff-start-order-question-360px")
    page.get_by_label("Yes, these dates are right").check()
    page.get_by_role("button", name="Save start dates").click()
    expect(page.get_by_role("status").filter(has_text="Start dates saved.")).to_be_visible()
    assert page.get_by_label("B833 start").input_value() == "2027-03-01"


def test_admin_pages_in_chromium(live_site: LiveSite, browser_context: Any) -> None:
    """An LMS administrator's way into the admin pages, each page by axe, keyboard and phone."""
    page = launch(live_site, browser_context, "Launch as instructor (admin)")
    page.get_by_role("link", name="Tool administration").click()
    page.wait_for_url(bound_url(live_site.tool_url, "/admin/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Tool administration"
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to content"
    page.keyboard.press("Tab")
    link = focused(page)
    assert link["tag"] == "a" and without_binding(link["href"]) == "/admin/"
    assert link["text"] == "Dashboard"
    assert link["onScreen"] and link["outline"] >= 2, link
    assert_accessible(page, "admin dashboard")

    page.get_by_role("link", name="Registrations").click()
    page.get_by_role("link", name="sandbox").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Registration sandbox"
    detail_url = page.url
    assert_accessible(page, "admin registration")
    page.get_by_role("link", name="Deactivate deployment").click()
    assert page.get_by_role("button", name="Deactivate deployment").is_visible()
    assert_accessible(page, "admin confirmation")
    page.get_by_role("link", name="Cancel").click()
    assert page.url == detail_url

    paths = ["/admin/registrations", "/admin/keys", "/admin/audit", "/admin/health"]
    paths += ["/admin/erasure", without_binding(detail_url.removeprefix(live_site.tool_url))]
    for path in paths:
        goto_bound(page, live_site.tool_url + path)
        assert_accessible(page, path)
    page.set_viewport_size(PHONE)
    for path in ["/admin/", *paths]:
        goto_bound(page, live_site.tool_url + path)
        assert_no_horizontal_scroll(page)
        assert_accessible(page, f"{path} at 360px")
    screenshot(page, "admin-registration-360px")


def test_privacy_page_in_chromium(live_site: LiveSite, browser_context: Any) -> None:
    page = launch(live_site, browser_context, "Launch as student (student1)")
    page.get_by_role("link", name="Your data in this tool").click()
    page.wait_for_url(bound_url(live_site.tool_url, "/privacy/"))
    assert page.get_by_role("link", name="Download as JSON").count() == 1
    assert page.get_by_role("button", name=re.compile("erasure", re.I)).count() == 1
    assert_accessible(page, "privacy page")
    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    assert_accessible(page, "privacy page at 360px")
