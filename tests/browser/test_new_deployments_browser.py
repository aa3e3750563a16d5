"""New deployments in Chromium: a launch from a deployment the tool has never seen is held
with a page an LMS administrator can act on; a tool administrator lets new deployments in from
the registration page (keyboard and pointer alike), and the next new deployment's first launch
lands in the tool. Both pages at desktop and 360 px, checked by axe-core."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lti_tool.admin.accounts import create_admin
from tests.browser.conftest import LiveSite, screenshot
from tests.browser.test_checklist_a11y import (
    PHONE,
    assert_accessible,
    assert_no_horizontal_scroll,
    launch,
)
from tests.web.test_admin_access import PASSWORD, sandbox_pk

pytestmark = pytest.mark.browser


def test_a_held_deployment_is_explained_and_the_policy_changes_on_the_page(
    live_site: LiveSite, browser_context: Any
) -> None:
    assert live_site.platform is not None
    app = live_site.app
    pk = sandbox_pk(app)
    live_site.platform.deployment_id = "canvas-sub-account-7"

    # The course opens the tool from an installation the tool has not approved yet.
    # A refused launch stays on the POST's answer (no redirect to a page), so no `launch()`.
    page = browser_context.new_page()
    page.goto(live_site.sandbox_url + "/")
    page.get_by_role("link", name="Launch as student (student1)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This launch was refused", timeout=60_000
    )
    address = f"{live_site.tool_url}/admin/registrations/{pk}"
    expect(page.locator("main")).to_contain_text(
        "this installation of it (deployment canvas-sub-account-7) has not been approved yet. "
        f"Ask the tool's administrator to approve it at {address}."
    )
    assert "lti-tool" not in page.content()
    assert_accessible(page, "held deployment refusal")
    screenshot(page, "new-deployment-held")
    page.set_viewport_size(PHONE)  # the same page reflowed (a reload would post the launch again)
    assert_no_horizontal_scroll(page)
    assert_accessible(page, "held deployment refusal at 360px")
    screenshot(page, "new-deployment-held-360px")

    # The tool administrator signs in and lets new deployments in.
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        create_admin(session, "root", PASSWORD)
    admin = browser_context.new_page()
    admin.goto(live_site.tool_url + "/admin/login")
    admin.get_by_label("Username").fill("root")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    admin.goto(address)
    section = admin.get_by_role("region", name="New deployments")
    expect(section.get_by_label("Hold it for approval")).to_be_checked()
    held = admin.get_by_role("row", name="canvas-sub-account-7")
    expect(held).to_contain_text("Waiting for approval")
    section.get_by_label("Allow it at once").check()
    section.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("status")).to_have_text(
        "New deployments are now allowed on their first launch."
    )
    expect(section.get_by_label("Allow it at once")).to_be_checked()
    assert_accessible(admin, "registration page")
    screenshot(admin, "new-deployments-registration")
    admin.set_viewport_size(PHONE)
    admin.reload()
    assert_no_horizontal_scroll(admin)
    assert_accessible(admin, "registration page at 360px")
    screenshot(admin, "new-deployments-registration-360px")

    # The held one still waits; the next new installation goes straight in.
    live_site.platform.deployment_id = "canvas-sub-account-8"
    landed = launch(live_site, browser_context, "Launch as student (student1)")
    expect(landed.get_by_role("heading", level=1)).to_have_text("My pathway")
    admin.reload()
    expect(admin.get_by_role("row", name="canvas-sub-account-8")).to_contain_text("Active")
    expect(admin.get_by_role("row", name="canvas-sub-account-7")).to_contain_text(
        "Waiting for approval"
    )
