"""A person clicks "launch" in the sandbox LMS and lands in the tool, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LiveSite, screenshot
from tests.support.bound_pages import landed

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
    page.wait_for_url(landed(live_site.tool_url))
    assert page.get_by_role("heading", level=1).inner_text() == heading
    assert name in page.inner_text("main")
    # The launch's cookie, named by the page's launch, authenticates the page's scripts.
    binding = page.get_attribute('meta[name="lti-binding"]', "content")
    assert binding
    session = page.evaluate(
        """async (binding) => {
            const r = await fetch('/api/session', {headers: {'X-LTI-Binding': binding}});
            return await r.json();
        }""",
        binding,
    )
    assert session["user"]["name"] == name
    screenshot(page, heading.lower().replace(" ", "-"))
    # The launch redirected to a GET page (post/redirect/get): a reload shows it again.
    response = page.reload()
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == heading
