"""The AGS results request names the student in its ``user_id`` query parameter (AGS 2.0,
result service). An LTI ``sub`` is any string of up to 255 ASCII characters (LTI 1.3 Core
5.3.6): ``+``, ``&``, ``=``, ``#``, ``/`` or a space in it must be percent-encoded, or the
platform reads another user (``a+b`` as ``a b``, ``a&b`` as ``a``) and the student's completed
course shows as not started."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lti_tool.lms.ags_results import AgsResultsSource
from lti_tool.lms.source import CourseMapping, LmsUser
from lti_tool.rules import CompletionStatus

LINEITEMS = "https://lms.example.ac.uk/api/lti/courses/7/line_items?type_id=3"
ITEM = "https://lms.example.ac.uk/api/lti/courses/7/line_items/11"


class Platform:
    """A results service that reads its query as a server does (``parse_qs``)."""

    def __init__(self, sub: str) -> None:
        self.sub = sub
        self.urls: list[str] = []

    def make_service_request(self, scopes: Any, url: str, **kwargs: Any) -> dict[str, Any]:
        self.urls.append(url)
        parts = urlsplit(url)
        if parts.path.endswith("/results"):
            asked = parse_qs(parts.query).get("user_id", [""])[0]
            rows = [{"userId": self.sub, "resultScore": 90, "resultMaximum": 100}]
            body: Any = [r for r in rows if r["userId"] == asked]
        else:
            body = [{"id": ITEM, "resourceId": "CPD1", "scoreMaximum": 100}]
        return {"headers": {}, "body": body, "next_page_url": None}


@pytest.mark.parametrize(
    "sub", ["a+b", "ab&user_id=other", "name with space", "f3b#9", "x/y=z", "plain-123"]
)
def test_the_students_sub_reaches_the_platform_as_it_is(sub: str) -> None:
    platform = Platform(sub)
    source = AgsResultsSource(platform, LINEITEMS, 0.6, dt.UTC)  # type: ignore[arg-type]
    result = source.fetch(LmsUser(user_id=sub), [CourseMapping(code="CPD1", course_id="7")])
    assert result.errors == []
    [completion] = result.completions
    assert completion.status is CompletionStatus.COMPLETED, platform.urls
    [results_url] = [u for u in platform.urls if "/results" in u]
    assert results_url.startswith(ITEM + "/results?user_id=")
