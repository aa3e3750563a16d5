"""Reloading the tool's page, in the LMS frame and at the top level (post/redirect/get).

A cookie-bound launch answers with a 303 to its GET page: a reload sends the launch's cookie
again. A launch bound through platform storage (no cookie in the frame) keeps its token in the
tab's ``sessionStorage`` and off the address; a reload reaches the tool with no token and the
page asks again from the tool's own page (web/reload.py). The ``Sec-Fetch-Site`` each reload
is sent with is recorded: a token in an address is never honoured on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

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
def moodle_like(
    tmp_path: Path, migrated: MigratedBackends, tool_key_template: SigningKey
) -> Iterator[LiveSite]:
    with running_site(tmp_path, migrated, tool_key_template, tool_host=TOOL_HOST, tls=True) as site:
        yield site


class Requests:
    """The tool's document requests a page makes: (method, path with query, Sec-Fetch-Site)."""

    def __init__(self, page: Any, tool_url: str) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.tool_url = tool_url
        page.on("request", self._record)

    def _record(self, request: Any) -> None:
        if request.url.startswith(self.tool_url) and request.resource_type == "document":
            headers = request.all_headers()
            path = request.url[len(self.tool_url) :]
            self.seen.append((request.method, path, headers.get("sec-fetch-site", "")))

    def after(self, mark: int) -> list[tuple[str, str, str]]:
        return self.seen[mark:]


def _tool_frame(page: Any) -> Any:
    frame = page.frame(name="lti-tool")
    assert frame is not None
    return frame


def _reload_frame(page: Any, tool: Any) -> Any:
    """Reload the tool's frame (as its "Reload frame" does); the frame's answer."""
    with page.expect_response(
        lambda r: r.frame == tool and r.request.resource_type == "document"
    ) as answered:
        tool.evaluate("() => location.reload()")
    tool.wait_for_load_state("load")
    return answered.value


def test_cookie_launch_in_the_frame_reloads_to_the_same_page(
    moodle_like: LiveSite, playwright_driver: Any, tmp_path: Path
) -> None:
    site = moodle_like
    with blocking_profile(playwright_driver, tmp_path, map_host=TOOL_HOST) as browser:
        page = browser.new_page()
        seen = Requests(page, site.tool_url)
        page.goto(site.sandbox_url + "/course/student1?storage=none")
        tool = _tool_frame(page)
        expect(tool.locator("h1")).to_have_text("My pathway")
        launch = [r for r in seen.seen if r[1].startswith("/lti/launch")]
        landing = [r for r in seen.seen if r[1].startswith("/me?")]
        print("cookie frame launch:", launch, landing)
        assert tool.url.startswith(site.tool_url + "/me?lti_binding=")
        mark = len(seen.seen)
        answer = _reload_frame(page, tool)
        assert answer.status == 200
        expect(tool.locator("h1")).to_have_text("My pathway")
        expect(tool.locator("main")).to_contain_text("Sam Student")
        print("cookie frame reload:", seen.after(mark))
        assert [m for m, _, _ in seen.after(mark)] == ["GET"]
        screenshot(page, "reload-cookie-frame")


def test_cookie_launch_at_the_top_level_reloads_to_the_same_page(
    live_site: LiveSite, page: Any
) -> None:
    seen = Requests(page, live_site.tool_url)
    page.goto(live_site.sandbox_url + "/")
    page.get_by_role("link", name="Launch as student (student1)").click()
    page.wait_for_url(live_site.tool_url + "/me?lti_binding=*")
    expect(page.locator("h1")).to_have_text("My pathway")
    mark = len(seen.seen)
    answer = page.reload()
    assert answer is not None and answer.status == 200
    expect(page.locator("h1")).to_have_text("My pathway")
    expect(page.locator("main")).to_contain_text("Sam Student")
    print("cookie top-level reload:", seen.after(mark))
    assert [m for m, _, _ in seen.after(mark)] == ["GET"]
    # The privacy page, on a phone, and its way back to the pathway page.
    page.set_viewport_size({"width": 360, "height": 800})
    page.get_by_role("link", name="Your data in this tool").click()
    expect(page.locator("h1")).to_have_text("Your data in this tool")
    screenshot(page, "privacy-360px")
    page.get_by_role("link", name="Back to My pathway").click()
    expect(page.locator("h1")).to_have_text("My pathway")


def test_storage_launch_in_the_frame_reloads_through_the_tabs_own_token(
    cross_site: LiveSite, playwright_driver: Any, tmp_path: Path
) -> None:
    with blocking_profile(playwright_driver, tmp_path, map_host=TOOL_HOST) as browser:
        page = browser.new_page()
        seen = Requests(page, cross_site.tool_url)
        page.goto(cross_site.sandbox_url + "/course/student1?storage=forwarding")
        tool = _tool_frame(page)
        expect(tool.locator("h1")).to_have_text("My pathway")
        assert browser.cookies(cross_site.tool_url) == []
        # The launch's POST page took its GET page's address, with no token in it.
        assert tool.evaluate("() => location.pathname + location.search").startswith(
            "/me?lti_binding="
        )
        assert "launch_token" not in tool.evaluate("() => location.href")
        print("storage frame launch:", seen.seen)
        mark = len(seen.seen)
        _reload_frame(page, tool)
        expect(tool.locator("h1")).to_have_text("My pathway")
        expect(tool.locator("main")).to_contain_text("Sam Student")
        print("storage frame reload:", seen.after(mark))
        reload, resumed = seen.after(mark)[:2]
        assert reload[0] == "GET" and "launch_token" not in reload[1]
        # From the tool's own page (plain HTTP sends no Fetch Metadata: the Referer decides).
        assert "launch_token=" in resumed[1] and resumed[2] in {"same-origin", ""}
        assert "launch_token" not in tool.evaluate("() => location.href")
        # A link of the page, then a reload of that page: the same again.
        tool.get_by_role("link", name="Your data in this tool").click()
        expect(tool.locator("h1")).to_have_text("Your data in this tool")
        assert "launch_token" not in tool.evaluate("() => location.href")
        _reload_frame(page, tool)
        expect(tool.locator("h1")).to_have_text("Your data in this tool")
        screenshot(page, "reload-storage-frame")
        # Its link back carries the launch (here its token) to the pathway page.
        tool.get_by_role("link", name="Back to My pathway").click()
        expect(tool.locator("h1")).to_have_text("My pathway")


@pytest.mark.parametrize("width", [1024, 360])
def test_a_reload_without_its_launch_says_to_open_the_tool_again(
    live_site: LiveSite, browser_context: Any, width: int
) -> None:
    """What a page reloaded with no launch to find shows (another browser, an expired
    launch): plain words, axe-core clean, at desktop and phone widths."""
    from tests.browser.test_checklist_a11y import run_axe

    page = browser_context.new_page()
    page.set_viewport_size({"width": width, "height": 700})
    answer = page.goto(live_site.tool_url + "/me?lti_binding=someLaunch1")
    assert answer is not None and answer.status == 401
    expect(page.locator("h1")).to_have_text("Open the tool again from your course")
    assert run_axe(page, f"reopen-{width}") == []
    screenshot(page, f"reload-reopen-{width}px")
