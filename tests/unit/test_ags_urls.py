from __future__ import annotations

import pytest

from lti_tool.lti.ags_urls import lineitem_subpath


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://lms.example/li/7", "https://lms.example/li/7/scores"),
        ("https://lms.example/li/7/", "https://lms.example/li/7/scores"),
        ("https://lms.example/li?type_id=1", "https://lms.example/li/scores?type_id=1"),
        ("https://lms.example/li/?a=1&b=2", "https://lms.example/li/scores?a=1&b=2"),
        ("https://lms.example/li?a=1?b", "https://lms.example/li/scores?a=1?b"),
    ],
)
def test_the_ending_goes_on_the_path_and_the_query_is_kept(url: str, expected: str) -> None:
    assert lineitem_subpath(url, "scores") == expected
