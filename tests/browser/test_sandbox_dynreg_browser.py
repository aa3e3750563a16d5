"""The sandbox LMS's "Register a tool by URL" page in Chromium: an admin registers the tool by
URL in the Canvas style (review → "Enable & Close" → install the app, then the first launch
works with no step on the tool's side) and in the Moodle style (the tool listed as pending →
Activate → launch), each launch through the new registration's own client_id and deployment.
The page at desktop and 360 px, checked by axe-core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lti_tool.lti import registry
from lti_tool.persistence.models import SigningKey
from tests.browser.conftest import BROWSER_WAIT_MS, LiveSite, running_site, screenshot
from tests.browser.test_checklist_a11y import PHONE, assert_accessible, assert_no_horizontal_scroll
from tests.support.backends import MigratedBackends
from tests.support.bound_pages import landed

pytestmark = pytest.mark.browser


def _registrations(site: LiveSite) -> dict[str, dict[str, bool]]:
    with site.app.extensions["lti_tool"].db.read_only() as session:
        return {
            r.client_id: {d.deployment_id: d.active for d in r.deployments}
            for r in registry.list_registrations(session)
            if r.name != "sandbox"
        }


def _registration_pk(site: LiveSite, client_id: str) -> int:
    with site.app.extensions["lti_tool"].db.read_only() as session:
        [pk] = [r.id for r in registry.list_registrations(session) if r.client_id == client_id]
    return pk


def _install_in_the_dialog(page: Any, site: LiveSite, style: str, button: str) -> None:
    page.goto(site.sandbox_url + "/")
    page.get_by_role("link", name="Register the tool by URL").click()
    section = page.get_by_role("region", name=style)
    expect(section.get_by_role("textbox")).to_have_value(site.tool_url + "/lti/register")
    section.get_by_role("button", name=button).click()
    tool_page = page.frame_locator("#tool-frame")
    expect(tool_page.get_by_role("heading", level=1)).to_contain_text(
        "Install Clinical leadership pathway", timeout=BROWSER_WAIT_MS
    )
    screenshot(page, f"sandbox-dynreg-{style.lower()}-dialog")
    tool_page.get_by_role("button", name="Install").click()


def _launch_as_student(page: Any, site: LiveSite, tool: Any) -> None:
    tool.get_by_role("link", name="Launch as student (Sam Student)").click()
    page.wait_for_url(landed(site.tool_url), timeout=BROWSER_WAIT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text("My pathway")
    expect(page.locator("main")).to_contain_text("Sam Student")


def test_canvas_style_registration_then_the_install_s_first_launch_needs_nothing_on_the_tool(
    live_site: LiveSite, browser_context: Any
) -> None:
    page = browser_context.new_page()
    _install_in_the_dialog(page, live_site, "Canvas-style", "Continue")
    # The tool posts org.imsglobal.lti.close; the LMS closes the dialog and shows its review.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Review Clinical leadership pathway", timeout=BROWSER_WAIT_MS
    )
    expect(page.locator("main")).to_contain_text("send grades")
    screenshot(page, "sandbox-dynreg-canvas-review")
    page.get_by_role("button", name="Enable & Close").click()

    [(client_id, deployments)] = _registrations(live_site).items()
    assert deployments == {}  # Canvas named no deployment: none exists yet
    tool = page.locator(f"#tool-{client_id}")
    expect(tool).to_contain_text("Key on")
    expect(tool.get_by_role("link", name="Launch as student (Sam Student)")).to_have_count(0)
    tool.get_by_role("button", name="Install the app in the course").click()
    tool = page.locator(f"#tool-{client_id}")
    expect(tool).to_contain_text("Ready")
    deployment_id = tool.locator("dt:text('Deployment') + dd").inner_text()
    assert deployment_id.startswith("1:")
    assert_accessible(page, "register a tool by URL")
    screenshot(page, "sandbox-dynreg-canvas-ready")
    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    assert_accessible(page, "register a tool by URL at 360px")
    screenshot(page, "sandbox-dynreg-canvas-ready-360px")
    page.set_viewport_size({"width": 1024, "height": 768})

    _launch_as_student(page, live_site, page.locator(f"#tool-{client_id}"))
    # The first launch brought the deployment in, active: nothing was done on the tool's side.
    assert _registrations(live_site) == {client_id: {deployment_id: True}}


def test_moodle_style_registration_is_pending_until_activated_then_launches(
    live_site: LiveSite, browser_context: Any
) -> None:
    page = browser_context.new_page()
    _install_in_the_dialog(page, live_site, "Moodle-style", "Add LTI Advantage")
    expect(page.get_by_role("status")).to_have_text(
        "Clinical leadership pathway registered itself. Like Moodle, this LMS lists it as "
        "pending: activate it below before courses can use it.",
        timeout=BROWSER_WAIT_MS,
    )
    [(client_id, deployments)] = _registrations(live_site).items()
    assert deployments == {"2": True}  # Moodle names its deployment; open mode keeps it active
    tool = page.locator(f"#tool-{client_id}")
    expect(tool).to_contain_text("Pending")
    # Moodle offers no launch of a pending tool, and the sandbox refuses one in words.
    expect(tool.get_by_role("link", name="Launch as student (Sam Student)")).to_have_count(0)
    refused = page.request.get(f"{live_site.sandbox_url}/register-tool/launch/{client_id}/student1")
    assert refused.status == 409 and "Moodle lists this tool as pending" in refused.text()
    screenshot(page, "sandbox-dynreg-moodle-pending")
    page.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(page)
    assert_accessible(page, "a pending Moodle-style tool at 360px")
    screenshot(page, "sandbox-dynreg-moodle-pending-360px")
    page.set_viewport_size({"width": 1024, "height": 768})
    tool.get_by_role("button", name="Activate Clinical leadership pathway").click()
    tool = page.locator(f"#tool-{client_id}")
    expect(tool).to_contain_text("Ready")
    _launch_as_student(page, live_site, tool)
    page.goto(f"{live_site.sandbox_url}/register-tool")
    page.locator(f"#tool-{client_id}").get_by_role(
        "link", name="Launch as instructor (Tess Teacher)"
    ).click()
    page.wait_for_url(landed(live_site.tool_url), timeout=BROWSER_WAIT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Course settings")
    expect(page.locator("main")).to_contain_text("Tess Teacher")


@pytest.fixture
def approving_site(
    tmp_path: Path, migrated: MigratedBackends, tool_key_template: SigningKey
) -> Iterator[LiveSite]:
    """The tool in ``approve`` mode (production's default) beside the sandbox LMS."""
    with running_site(
        tmp_path, migrated, tool_key_template, settings={"dynamic_registration": "approve"}
    ) as site:
        yield site


def test_in_approve_mode_the_pages_say_who_must_approve_and_the_first_launch_is_held(
    approving_site: LiveSite, browser_context: Any
) -> None:
    site = approving_site
    page = browser_context.new_page()
    page.goto(site.sandbox_url + "/register-tool")
    expect(page.locator("#approval-note")).to_contain_text(
        "its first launch through the new registration is refused, until the tool's "
        "administrator approves the installation"
    )
    _install_in_the_dialog(page, site, "Canvas-style", "Continue")
    # The tool's page stays open: the LMS admin reads who must approve, and where.
    done = page.frame_locator("#tool-frame")
    # Shown once the install is done, so the registration exists by then.
    expect(done.locator("#approval-needed")).to_contain_text(
        "ask the administrator of this tool to approve it on the registration's page",
        timeout=BROWSER_WAIT_MS,
    )
    [client_id] = _registrations(site)
    pk = _registration_pk(site, client_id)
    expect(done.locator("#approval-needed")).to_contain_text(
        f"{site.tool_url}/admin/registrations/{pk}"
    )
    screenshot(page, "sandbox-dynreg-approve-done")
    done.get_by_role("button", name="Return to Canvas").click()
    page.get_by_role("button", name="Enable & Close").click()
    page.locator(f"#tool-{client_id}").get_by_role(
        "button", name="Install the app in the course"
    ).click()
    tool = page.locator(f"#tool-{client_id}")
    expect(tool).to_contain_text("until its administrator approves this installation")
    tool.get_by_role("link", name="Launch as student (Sam Student)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "This launch was refused", timeout=BROWSER_WAIT_MS
    )
    expect(page.locator("main")).to_contain_text(
        f"Ask the tool's administrator to approve it at {site.tool_url}/admin/registrations/{pk}"
    )
    [deployments] = [d for c, d in _registrations(site).items() if c == client_id]
    assert list(deployments.values()) == [False]  # recorded, waiting for approval
