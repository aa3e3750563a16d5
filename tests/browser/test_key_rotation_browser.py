"""Rotating the signing key in Chromium: a tool administrator chooses between the routine
rotation and replacing the key now, and the keys page shows the pending key and when it
begins signing, then, once it signs and the old key is in its grace period, that replacing
the key now withdrew both. Both pages at desktop and 360 px, checked by axe-core."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.sync_api import expect

from lti_tool.admin.accounts import create_admin
from lti_tool.lti.keys import KEY_LEAD_TIME
from tests.browser.conftest import LiveSite, screenshot
from tests.browser.test_checklist_a11y import PHONE, assert_accessible, assert_no_horizontal_scroll
from tests.support.key_clock import KeyClock
from tests.web.test_admin_access import PASSWORD

pytestmark = pytest.mark.browser


def test_a_routine_rotation_shows_the_pending_key(
    live_site: LiveSite, browser_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = KeyClock(monkeypatch)  # the site is served in threads of this process
    app = live_site.app
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        create_admin(session, "root", PASSWORD)
    admin = browser_context.new_page()
    admin.goto(live_site.tool_url + "/admin/login")
    admin.get_by_label("Username").fill("root")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    admin.goto(live_site.tool_url + "/admin/keys")
    admin.get_by_role("link", name="Rotate the signing key…").click()

    routine = admin.get_by_role("region", name="Routine rotation")
    emergency = admin.get_by_role("region", name="Replace the key now")
    expect(routine).to_contain_text("after 10 minutes")
    expect(emergency).to_contain_text("may refuse")
    assert_accessible(admin, "key rotation choice")
    screenshot(admin, "key-rotation-choice")
    admin.set_viewport_size(PHONE)
    assert_no_horizontal_scroll(admin)
    assert_accessible(admin, "key rotation choice at 360px")

    routine.get_by_role("button", name="Rotate the key").click()
    expect(admin.get_by_role("status")).to_contain_text("is published and begins signing at")
    pending = admin.get_by_role("row").filter(has_text="pending")
    expect(pending).to_have_count(1)
    expect(admin.get_by_role("row").filter(has_text="active")).to_have_count(1)
    assert_no_horizontal_scroll(admin)
    assert_accessible(admin, "keys page with a pending key at 360px")
    screenshot(admin, "keys-pending-360px")

    # The new key signs; the old one is in its grace period.
    clock.advance(KEY_LEAD_TIME + dt.timedelta(minutes=1))
    admin.reload()
    expect(admin.get_by_role("row").filter(has_text="retired (still published)")).to_have_count(1)

    # The emergency: the key may be stolen. The new key signs now and the others go.
    admin.get_by_role("link", name="Rotate the signing key…").click()
    admin.get_by_role("region", name="Replace the key now").get_by_role(
        "button", name="Replace the key now"
    ).click()
    expect(admin.get_by_role("status")).to_contain_text("the earlier keys are withdrawn")
    expect(admin.get_by_role("row").filter(has_text="withdrawn at once")).to_have_count(1)
    expect(admin.get_by_role("row").filter(has_text="withdrawn")).to_have_count(2)
    expect(admin.get_by_role("row").filter(has_text="published until")).to_have_count(0)
    expect(admin.get_by_role("row").filter(has_text="pending")).to_have_count(0)
    assert_no_horizontal_scroll(admin)
    assert_accessible(admin, "keys page after replacing the key now at 360px")
    screenshot(admin, "keys-withdrawn-360px")
