"""A person clicks "launch" in the sandbox LMS and lands in the tool, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveSite, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("link", "heading", "name"),
    [
        ("Launch as student (student1)", "My pathway", "Sam Student"),
        ("Launch as instructor (teacher1)", "Course settings", "Tess Teacher"),
    ],
)
def test_launch_from_the_sandbox_in_chromium(
    live_site: LiveSite, page: Any, link: str, heading: str, name: str
) -> None:
    page.goto(live_site.sandbox_url + "/")
    page.get_by_role("link", name=link).click()
    page.wait_for_url(live_site.tool_url + "/lti/launch")
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert name in page.inner_text("main")
    token = page.get_attribute('meta[name="lti-launch-token"]', "content")
    assert token
    session = page.evaluate(
        """async (token) => {
            const r = await fetch('/api/session', {headers: {Authorization: 'Bearer ' + token}});
            return await r.json();
        }""",
        token,
    )
    assert session["user"]["name"] == name
    screenshot(page, heading.lower().replace(" ", "-"))
    # Reloading the launch POST (a replay) is refused with a readable page, not a traceback.
    response = page.reload()
    assert response is not None and response.status == 400
    assert "already used" in page.inner_text("main")
