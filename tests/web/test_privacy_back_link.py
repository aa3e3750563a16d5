"""The privacy page links back to the page the person came from, in the same launch."""

from __future__ import annotations

import html
import re

import pytest

from tests.support.lti import Launcher, page_binding
from tests.support.pathway_web import open_tool
from tests.support.privacy import privacy_launch

_LINK = re.compile(r'<a href="([^"]+)"><span aria-hidden="true">←</span> ([^<]+)</a>')


@pytest.mark.parametrize(
    ("user", "path", "words", "heading"),
    [
        ("student1", "/me", "Back to My pathway", "<h1>My pathway</h1>"),
        ("teacher1", "/staff/", "Back to the class overview", "Course settings"),
    ],
)
def test_the_privacy_page_links_back_in_the_same_launch(
    launcher: Launcher, user: str, path: str, words: str, heading: str
) -> None:
    opened = open_tool(launcher, user)
    binding = page_binding(opened.page)
    privacy = opened.client.get("/privacy/", query_string={"lti_binding": binding})
    assert privacy.status_code == 200
    match = _LINK.search(privacy.get_data(as_text=True))
    assert match, "no link back"
    href, text = html.unescape(match.group(1)), match.group(2)
    assert text == words
    assert href == f"{path}?lti_binding={binding}"
    back = opened.client.get(href)
    assert back.status_code == 200
    assert heading in back.get_data(as_text=True)


def test_a_data_privacy_launch_outside_a_course_has_no_pathway_to_go_back_to(
    launcher: Launcher,
) -> None:
    _, landing = privacy_launch(launcher, "student1")
    assert not _LINK.search(landing.get_data(as_text=True))
