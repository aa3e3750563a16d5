"""The tool inside an LMS iframe in a Chromium that blocks third-party cookies.

The tool answers as ``http://tool.test`` (mapped to loopback) and the sandbox LMS as
``http://127.0.0.1``: two sites, so the tool is a third party in the course page. The browser
profile blocks third-party cookies, and none of the tool's cookies can reach it there anyway
(plain HTTP gives them ``SameSite=Lax``): the launch has to go through platform storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lti_tool.persistence.models import SigningKey
from tests.browser.conftest import (
    CROSS_SITE_TOOL_HOST,
    LiveSite,
    blocking_profile,
    running_site,
    screenshot,
)
from tests.support.backends import MigratedBackends

pytestmark = pytest.mark.browser

TOOL_HOST = CROSS_SITE_TOOL_HOST


@pytest.fixture
def blocking_context(playwright_driver: Any, tmp_path: Path) -> Iterator[Any]:
    """A Chromium profile whose settings block third-party cookies."""
    with blocking_profile(playwright_driver, tmp_path, map_host=TOOL_HOST) as context:
        yield context


def _tool_frame(page: Any) -> Any:
    frame = page.frame(name="lti-tool")
    assert frame is not None
    return frame


def _storage_log(frame: Any) -> list[dict[str, str]]:
    return list(frame.evaluate("window.sandboxStorageLog || []"))


def test_canvas_like_storage_frame_launches_without_any_cookie(
    cross_site: LiveSite, blocking_context: Any
) -> None:
    page = blocking_context.new_page()
    page.goto(cross_site.sandbox_url + "/course/student1?storage=forwarding")
    tool = _tool_frame(page)
    tool.wait_for_selector("h1:text('My pathway')")
    assert "Sam Student" in tool.inner_text("main")
    assert blocking_context.cookies(cross_site.tool_url) == []
    forwarding = page.frame(name="post_message_forwarding")
    assert forwarding is not None
    subjects = [(e["subject"], e["origin"]) for e in _storage_log(forwarding)]
    assert ("lti.put_data", cross_site.tool_url) in subjects
    assert ("lti.get_data", cross_site.tool_url) in subjects
    # The course page answered lti.capabilities; the secret was removed after its one use.
    assert any(e["subject"] == "lti.capabilities" for e in _storage_log(page.main_frame))
    left = forwarding.evaluate("Object.keys(window.localStorage)")
    assert left == []
    # API calls from the page use the bearer launch token, not a cookie.
    token = tool.get_attribute('meta[name="lti-launch-token"]', "content")
    status = tool.evaluate(
        """async (token) => (await fetch('/api/me/checklist',
            {headers: {Authorization: 'Bearer ' + token}})).status""",
        token,
    )
    assert status == 200
    screenshot(page, "cookieless-student")


def test_storage_frame_that_loads_after_the_tool_login_still_keeps_the_secret(
    cross_site: LiveSite, blocking_context: Any
) -> None:
    """Canvas's post_message_forwarding frame loads beside the tool's: here it is held until
    the tool's login page is in its frame, so the first lti.put_data reaches a frame with no
    listener yet (and is lost). The tool asks again until the storage frame answers."""
    page = blocking_context.new_page()
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/post_message_forwarding", hold)

    def release(frame: Any) -> None:
        if "/lti/login" in frame.url:
            for route in held:
                route.continue_()
            held.clear()

    page.on("framenavigated", release)
    page.goto(cross_site.sandbox_url + "/course/student1?storage=forwarding")
    page.frame_locator("iframe[name='lti-tool']").locator("h1:text('My pathway')").wait_for()
    forwarding = page.frame(name="post_message_forwarding")
    assert forwarding is not None
    subjects = {e["subject"] for e in _storage_log(forwarding)}
    assert {"lti.put_data", "lti.get_data"} <= subjects
    assert blocking_context.cookies(cross_site.tool_url) == []


def test_staff_navigate_and_save_forms_without_cookies(
    cross_site: LiveSite, blocking_context: Any
) -> None:
    page = blocking_context.new_page()
    page.goto(cross_site.sandbox_url + "/course/teacher1?storage=parent")
    tool = _tool_frame(page)
    tool.wait_for_selector("h1:text('Course settings')")
    tool.fill("#start-B832", "2027-05-30")
    tool.get_by_role("button", name="Save start dates").click()
    tool.wait_for_selector("text=Start dates saved.")
    assert tool.input_value("#start-B832") == "2027-05-30"
    tool.get_by_role("link", name="Students and results").click()
    tool.wait_for_selector("h1:text-is('Students and results')")
    assert blocking_context.cookies(cross_site.tool_url) == []
    tool.wait_for_load_state("load")
    # Two animation frames: the frame has painted before the picture (a condition, not a sleep).
    tool.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    screenshot(page, "cookieless-staff")


def test_without_platform_storage_the_tool_offers_a_new_window(
    cross_site: LiveSite, blocking_context: Any
) -> None:
    page = blocking_context.new_page()
    page.goto(cross_site.sandbox_url + "/course/student1?storage=none")
    tool = _tool_frame(page)
    link = tool.get_by_role("link", name="Open the tool in a new window")
    link.wait_for()
    assert "third-party cookies are blocked" in tool.inner_text("main")
    with blocking_context.expect_page() as opened:
        link.click()
    popup = opened.value
    # The new window restarts the login at the top level and reaches the platform's
    # authorization endpoint, which posts the launch back to the tool.
    popup.wait_for_url(f"{cross_site.tool_url}/lti/launch")
    screenshot(popup, "cookieless-popup")
    screenshot(page, "cookieless-fallback")


def test_canvas_registers_places_and_launches_in_a_browser_without_third_party_cookies(
    tmp_path: Path,
    migrated: MigratedBackends,
    tool_key_template: SigningKey,
    blocking_context: Any,
) -> None:
    """What the issue calls done, in Chromium: a Canvas-like platform registers the tool by
    URL, a teacher places the checklist and B832 through deep linking, and a student opens
    the placed B832 link framed in the course page, with third-party cookies blocked."""
    with running_site(
        tmp_path, migrated, tool_key_template, tool_host=TOOL_HOST, register=False
    ) as site:
        platform = site.platform
        assert platform is not None
        # The sandbox's own Canvas-like registration fake, on the sandbox's site (Dynamic
        # Registration takes a platform only from its own site); Canvas's own endpoints are
        # the sandbox's: it signs the launches.
        fakes = site.sandbox_app.extensions["sandbox_installs"].fakes
        fakes.canvas.return_deployment_id = True
        fakes.canvas.overrides.update(
            {
                "issuer": site.sandbox_url,
                "authorization_endpoint": site.sandbox_url + "/auth",
                "token_endpoint": site.sandbox_url + "/token",
                "jwks_uri": site.sandbox_url + "/jwks",
            }
        )
        page = blocking_context.new_page()
        page.goto(fakes.canvas.start_url(site.tool_url + "/lti/register", site.sandbox_url))
        page.get_by_role("button", name="Install").click()
        page.wait_for_selector("text=Installed in Canvas")
        [registered] = fakes.canvas.registered
        platform.client_id = registered.response["client_id"]
        platform.deployment_id = str(registered.response["deployment_id"])

        page.goto(site.sandbox_url + "/course/teacher1?storage=forwarding&place=1")
        tool = _tool_frame(page)
        tool.wait_for_selector("h1:text('Choose what to place')")
        tool.check("#item-checklist")
        tool.check("#item-B832")
        tool.get_by_role("button", name="Place in the course").click()
        _tool_frame(page).wait_for_selector("text=2 item(s) placed in the course")

        page.goto(site.sandbox_url + "/course/student1?storage=forwarding&placed=1")
        tool = _tool_frame(page)
        tool.wait_for_selector("h1:text('My pathway')")
        tool.wait_for_function("() => location.hash === '#module-B832'")
        # Only the install page, opened at the top level, left a (CSRF) cookie; no launch did.
        names = {cookie["name"] for cookie in blocking_context.cookies(site.tool_url)}
        assert names <= {"session"}
        screenshot(page, "done-when-canvas")


def test_moodle_like_without_storage_launches_with_the_partitioned_cookie_over_https(
    tmp_path: Path,
    migrated: MigratedBackends,
    tool_key_template: SigningKey,
    blocking_context: Any,
) -> None:
    """Stock Moodle offers no platform storage: over HTTPS, as in production, the tool's
    partitioned cookie (CHIPS) still works in the frame though third-party cookies are
    blocked, so the launch completes without the new-window fallback."""
    with running_site(tmp_path, migrated, tool_key_template, tool_host=TOOL_HOST, tls=True) as site:
        page = blocking_context.new_page()
        page.goto(site.sandbox_url + "/course/student1?storage=none")
        tool = _tool_frame(page)
        tool.wait_for_selector("h1:text('My pathway')")
        cookies = blocking_context.cookies(site.tool_url)
        session = [c for c in cookies if c["name"].startswith("lti_tool_session_")]
        assert session and session[0]["secure"] and session[0]["sameSite"] == "None"
        # Kept in the course site's partition: a cookie for the tool inside this LMS only.
        assert session[0].get("partitionKey") == site.sandbox_url.rsplit(":", 1)[0]
        screenshot(page, "moodle-like-https")
