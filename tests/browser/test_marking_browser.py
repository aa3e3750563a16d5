"""A tutor marks three students from the keyboard in the class table, in Chromium with the
page's CSP in force: type the score, Tab, a letter for the outcome, Enter; the cell says
"Saved" and focus moves to the next student. A Pass under half marks asks first (Enter again
confirms). Then the page at desktop and at 360 px, checked by axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.persistence.models import AssessmentResultRow, User
from tests.browser.conftest import ARTIFACTS, BROWSER_WAIT_MS, LiveSite, screenshot
from tests.browser.test_checklist_a11y import (
    PHONE,
    assert_accessible,
    assert_no_horizontal_scroll,
    launch,
)
from tests.support.bound_pages import goto_bound
from tests.support.grade_sync import complete_courses

pytestmark = pytest.mark.browser

# The class view sorts by family name: Hughes, Okafor, Patel, Student; the last three are
# marked, one after the other.
CLASS = ("Grace Okafor", "Priya Patel", "Sam Student")


def _cell(page: Any, who: str) -> Any:
    return page.locator("form.mark[data-module='B832']").filter(
        has=page.get_by_label(f"B832 score for {who}, out of 100")
    )


def _mark_from_the_keyboard(page: Any, cell: Any, score: str, letter: str) -> None:
    """Into ``cell``'s score, type it, Tab to the outcome, its letter, Enter."""
    cell.locator("[data-field=score]").focus()
    page.keyboard.type(score)
    page.keyboard.press("Tab")
    page.keyboard.press(letter)  # a select chooses by its first letter
    page.keyboard.press("Enter")


def _results(live_site: LiveSite) -> dict[tuple[str, str], tuple[float, str, bool]]:
    with live_site.app.extensions["lti_tool"].db.read_only() as session:
        rows = session.execute(
            select(User.name, AssessmentResultRow).join(
                User, User.id == AssessmentResultRow.user_pk
            )
        ).all()
        return {(name, r.module_code): (r.score, r.outcome, r.released) for name, r in rows}


def test_a_tutor_marks_three_students_from_the_keyboard(
    live_site: LiveSite, chromium: Any, browser_context: Any
) -> None:
    context = chromium.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(BROWSER_WAIT_MS)
    try:
        page = launch(live_site, context, "Launch as instructor (teacher1)")
        problems: list[str] = []
        # The 422 of the confirmation is expected; a CSP refusal or a script error is not.
        page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        complete_courses(live_site.app, ("1001", "1002", "1003", "1005"))
        goto_bound(page, live_site.tool_url + "/staff/class/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Students and results")

        first = _cell(page, CLASS[0]).get_by_label(f"B832 score for {CLASS[0]}, out of 100")
        first.focus()
        for who, score, letter, shown in (
            (CLASS[0], "72", "p", "Saved: Pass 72/100, held"),
            (CLASS[1], "35", "f", "Saved: Fail 35/100, held"),
            (CLASS[2], "45", "p", "Saved: Pass 45/100, held"),
        ):
            cell = _cell(page, who)
            expect(cell.locator("[data-field=score]")).to_be_focused()
            page.keyboard.type(score)
            page.keyboard.press("Tab")
            expect(cell.locator("[data-field=outcome]")).to_be_focused()
            page.keyboard.press(letter)  # a select chooses by its first letter
            page.keyboard.press("Enter")
            state = cell.locator(".mark-state")
            if who == CLASS[2]:  # 45 is under half marks: asked, then Enter again confirms
                expect(state).to_contain_text("Press Enter again to confirm")
                expect(state).to_contain_text("45 out of 100 is under half marks")
                expect(cell.locator("[data-field=outcome]")).to_have_attribute(
                    "aria-invalid", "true"
                )
                expect(cell.locator("[data-field=outcome]")).to_have_attribute(
                    "aria-describedby", "mark-1001-B832"
                )
                expect(cell.locator("[data-field=score]")).not_to_have_attribute(
                    "aria-invalid", "true"
                )
                expect(cell.locator("[data-field=outcome]")).to_be_focused()
                screenshot(page, "marking-confirm")
                page.keyboard.press("Enter")
            expect(state).to_have_text(shown)
            expect(state).to_have_attribute("aria-live", "polite")
            expect(cell.locator("[aria-invalid]")).to_have_count(0)
            if who != CLASS[2]:  # focus moved down to the next student's score
                following = CLASS[CLASS.index(who) + 1]
                expect(_cell(page, following).locator("[data-field=score]")).to_be_focused()
        assert _results(live_site) == {
            ("Grace Okafor", "B832"): (72.0, "pass", False),
            ("Priya Patel", "B832"): (35.0, "fail", False),
            ("Sam Student", "B832"): (45.0, "pass", False),
        }
        # Arrow keys move between students and fields without the mouse.
        page.keyboard.press("ArrowUp")
        expect(_cell(page, CLASS[1]).locator("[data-field=outcome]")).to_be_focused()
        page.keyboard.press("ArrowRight")
        expect(_cell(page, CLASS[1]).locator("[data-field=comment]")).to_be_focused()
        page.keyboard.type("Well argued")
        page.keyboard.press("Enter")
        expect(_cell(page, CLASS[1]).locator(".mark-state")).to_have_text(
            "Saved: Fail 35/100, held"
        )
        # A refusal keeps what was typed, and says why next to the field it is about.
        b833 = page.locator("form.mark[data-module='B833'][data-sub='1003']")
        _mark_from_the_keyboard(page, b833, "sixty", "f")
        expect(b833.locator(".mark-state")).to_have_text("Score must be a number, not “sixty”.")
        expect(b833.locator("[data-field=score]")).to_have_value("sixty")
        expect(b833.locator("[data-field=score]")).to_have_attribute("aria-invalid", "true")
        expect(b833.locator("[data-field=outcome]")).to_have_value("fail")
        # Focus goes to the field the refusal is about.
        expect(b833.locator("[data-field=score]")).to_be_focused()
        # Sam has not completed B833's CPD courses: the cell asks for a reason to record the
        # result anyway, in a box of its own (never the comment, which the student reads).
        sam = page.locator("form.mark[data-module='B833'][data-sub='1001']")
        reason = sam.locator("[data-field=override_reason]")
        expect(reason).to_be_hidden()
        _mark_from_the_keyboard(page, sam, "60", "p")
        expect(sam.locator(".mark-state")).to_contain_text("has not met the CPD requirement")
        expect(sam.locator(".mark-state")).to_contain_text(
            "To record it anyway, type the reason in the box"
        )
        expect(reason).to_be_visible()
        expect(reason).to_be_focused()
        expect(reason).to_have_attribute("aria-invalid", "true")
        expect(sam.locator("[data-field=comment]")).not_to_have_attribute("aria-invalid", "true")
        screenshot(page, "marking-override-reason")
        page.keyboard.type("APL agreed by the exam board")
        page.keyboard.press("Enter")
        expect(sam.locator(".mark-state")).to_have_text("Saved: Pass 60/100, held")
        expect(reason).to_be_hidden()
        assert _results(live_site)[("Sam Student", "B833")] == (60.0, "pass", False)
        # No page reload happened, and the CSP refused nothing.
        assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
        screenshot(page, "marking-class-table")
        assert not problems, problems
    finally:
        context.close()

    # Reloaded, the table shows what was saved; axe-core at desktop and at 360 px.
    page = launch(live_site, browser_context, "Launch as instructor (teacher1)")
    goto_bound(page, live_site.tool_url + "/staff/class/")
    expect(_cell(page, CLASS[1]).locator("[data-field=comment]")).to_have_value("Well argued")
    expect(_cell(page, CLASS[0]).locator("[data-field=score]")).to_have_value("72")
    assert_accessible(page, "class table marking")
    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    screenshot(page, "marking-class-table-360px")
    assert_accessible(page, "class table marking at 360px")

    # The student's page form: a Pass under half marks comes back with what was typed, the
    # question next to the outcome, and a box to confirm it.
    goto_bound(page, live_site.tool_url + "/staff/students/1001")
    form = page.get_by_role("region", name="Record an assessment result")
    form.get_by_label("Module").select_option("B833")
    form.get_by_label("Score").fill("30")
    form.get_by_label("Outcome").select_option("pass")
    form.get_by_label("Comment").fill("Thin on evidence")
    form.get_by_label("Override reason (if CPD incomplete)").fill("APL")
    form.get_by_role("button", name="Save result").click()
    expect(page.locator("#result-outcome-error")).to_contain_text("under half marks")
    expect(form.get_by_label("Comment")).to_have_value("Thin on evidence")
    expect(form.get_by_label("Score")).to_have_value("30")
    screenshot(page, "marking-student-form-confirm-360px")
    form.screenshot(path=str(ARTIFACTS / "marking-student-form-confirm-360px-form.png"))
    assert_no_horizontal_scroll(page)
    assert_accessible(page, "student result form asking to confirm at 360px")
    form.get_by_label("Yes, this outcome is right").check()
    form.get_by_role("button", name="Save result").click()
    expect(page.get_by_role("status").filter(has_text="B833 result saved.")).to_be_visible()
    assert _results(live_site)[("Sam Student", "B833")] == (30.0, "pass", False)
