"""Installing without the command line, in Chromium (issue 15): a tool administrator adds a
Moodle site from its address (the sandbox LMS), copies what to paste into Moodle with the Copy
button (the page's own script under the tool's CSP; a polite live region says what was
copied), then sets the completion source and maps a CPD course from the registration page.
The pages at desktop and 360 px, checked by axe-core."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from lti_tool.admin.accounts import create_admin
from lti_tool.persistence.models import CourseMappingRow, Registration
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from tests.browser.conftest import BROWSER_WAIT_MS, LiveSite, screenshot
from tests.browser.test_checklist_a11y import PHONE, assert_accessible, assert_no_horizontal_scroll
from tests.web.test_admin_access import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def copying_context(chromium: Any) -> Iterator[Any]:
    """A desktop context under the tool's CSP that may write and read the clipboard."""
    context = chromium.new_context(
        viewport={"width": 1024, "height": 768},
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(BROWSER_WAIT_MS)
    yield context
    context.close()


def sign_in(context: Any, live_site: LiveSite) -> Any:
    page = context.new_page()
    page.goto(live_site.tool_url + "/admin/login")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_site.tool_url + "/admin/", timeout=BROWSER_WAIT_MS)
    return page


def test_a_tool_admin_installs_a_moodle_site_from_the_admin_pages(
    live_site: LiveSite, copying_context: Any, browser_context: Any
) -> None:
    app = live_site.app
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        create_admin(session, "root", PASSWORD)
    page = sign_in(copying_context, live_site)
    refused_by_csp: list[str] = []
    page.on(
        "console",
        lambda m: refused_by_csp.append(m.text) if "Content Security Policy" in m.text else None,
    )

    page.goto(live_site.tool_url + "/admin/registrations")
    page.get_by_role("link", name="Add a platform").click()
    # Only the question for the kind chosen shows (every one does without JavaScript).
    page.get_by_label("Canvas", exact=True).check()
    expect(page.get_by_label("Canvas test site (…test.instructure.com)")).to_be_visible(
        timeout=BROWSER_WAIT_MS
    )
    expect(page.get_by_label("Moodle site address (for Moodle)")).to_be_hidden(
        timeout=BROWSER_WAIT_MS
    )
    page.get_by_label("Moodle", exact=True).check()
    expect(page.get_by_label("Canvas test site (…test.instructure.com)")).to_be_hidden(
        timeout=BROWSER_WAIT_MS
    )
    page.get_by_label("Moodle site address (for Moodle)").fill(live_site.sandbox_url + "/")
    page.get_by_role("button", name="Next: check the details").click()
    expect(page.get_by_label("Platform ID (issuer)")).to_have_value(
        live_site.sandbox_url, timeout=BROWSER_WAIT_MS
    )
    expect(page.get_by_label("Public keyset URL")).to_have_value(
        live_site.sandbox_url + "/mod/lti/certs.php"
    )
    page.get_by_label("Name").fill("moodle-demo")
    page.get_by_role("button", name="Add the platform").click()
    # Nothing saved without a client ID: said beside the field, the rest kept as typed.
    expect(page.get_by_role("alert")).to_contain_text(
        "Some answers need a change", timeout=BROWSER_WAIT_MS
    )
    client_id = page.get_by_label("Client ID")
    expect(client_id).to_have_attribute("aria-invalid", "true", timeout=BROWSER_WAIT_MS)
    expect(page.get_by_text("This is needed.")).to_be_visible(timeout=BROWSER_WAIT_MS)
    expect(page.get_by_label("Name")).to_have_value("moodle-demo", timeout=BROWSER_WAIT_MS)
    screenshot(page, "add-platform-details-refused")
    client_id.fill("moodle-demo-client")
    page.get_by_label("Deployment ID (optional)").fill("7")
    page.get_by_role("button", name="Add the platform").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What to paste into Moodle", timeout=BROWSER_WAIT_MS
    )
    expect(page.get_by_role("status").first).to_contain_text(
        "moodle-demo is added", timeout=BROWSER_WAIT_MS
    )
    with app.extensions["lti_tool"].db.read_only() as session:
        row = session.query(Registration).filter_by(name="moodle-demo").one()
        pk = row.id
        assert (row.issuer, row.client_id) == (live_site.sandbox_url, "moodle-demo-client")
    login_box = page.get_by_label("Initiate login URL for this registration only")
    expect(login_box).to_have_value(f"{live_site.tool_url}/lti/login/{pk}", timeout=BROWSER_WAIT_MS)
    expect(login_box).to_have_attribute("readonly", "", timeout=BROWSER_WAIT_MS)
    page.get_by_role("button", name="Copy Public keyset URL").click()
    expect(page.locator("#copy-status")).to_have_text(
        "Copied: Public keyset URL (public key type: Keyset URL)", timeout=BROWSER_WAIT_MS
    )
    expect(page.locator('button[data-copy="paste-jwks"]')).to_contain_text(
        "Copied", timeout=BROWSER_WAIT_MS
    )
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == f"{live_site.tool_url}/.well-known/jwks.json"
    assert refused_by_csp == []
    screenshot(page, "lms-setup-moodle")
    page.set_viewport_size(PHONE)
    page.reload()
    assert_no_horizontal_scroll(page)
    screenshot(page, "lms-setup-moodle-360px")
    page.set_viewport_size({"width": 1024, "height": 768})

    # Next steps from the registration page: where completion comes from, then the mapping.
    page.goto(f"{live_site.tool_url}/admin/registrations/{pk}")
    expect(page.get_by_role("link", name="What to paste into the LMS")).to_be_visible(
        timeout=BROWSER_WAIT_MS
    )
    page.get_by_role("list", name="About this registration").get_by_role(
        "link", name="Completion source"
    ).click()
    page.get_by_label("Moodle web services").check()
    page.get_by_label("Site address").fill(live_site.sandbox_url)
    page.get_by_label("API token").fill(SANDBOX_TOKEN)
    page.get_by_role("button", name="Review the change").click()
    page.get_by_role("button", name="Change the completion source").click()
    expect(page.get_by_role("status").first).to_have_text(
        "The completion source is changed.", timeout=BROWSER_WAIT_MS
    )
    page.get_by_role("list", name="About this registration").get_by_role(
        "link", name="CPD course mapping"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "CPD course mapping of moodle-demo", timeout=BROWSER_WAIT_MS
    )
    code = page.get_by_label("CPD course").locator("option").first.get_attribute("value")
    assert code
    page.get_by_label("LMS course id").fill("101")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_role("status").first).to_have_text(
        f"{code} is mapped.", timeout=BROWSER_WAIT_MS
    )
    expect(page.get_by_role("row", name=code)).to_contain_text("101", timeout=BROWSER_WAIT_MS)
    with app.extensions["lti_tool"].db.read_only() as session:
        mapped = (
            session.query(CourseMappingRow).filter_by(registration_pk=pk, course_code=code).one()
        )
        assert mapped.course_id == "101"
    assert refused_by_csp == []

    # The same pages for axe-core (it is injected, so in a context without the CSP).
    checked = sign_in(browser_context, live_site)
    for path, name in (
        ("/admin/registrations/new", "add-platform-kind"),
        (
            "/admin/registrations/new?step=details&kind=canvas&canvas_site=test",
            "add-platform-canvas",
        ),
        (f"/admin/registrations/{pk}/setup", "lms-setup"),
        ("/admin/registrations/new/setup?kind=canvas", "lms-setup-before-adding-canvas"),
        (f"/admin/registrations/{pk}", "registration-next-steps"),
    ):
        checked.set_viewport_size({"width": 1024, "height": 768})
        checked.goto(live_site.tool_url + path)
        assert_accessible(checked, name)
        screenshot(checked, name)
        checked.set_viewport_size(PHONE)
        checked.reload()
        assert_no_horizontal_scroll(checked)
        assert_accessible(checked, f"{name} at 360px")
        screenshot(checked, f"{name}-360px")
