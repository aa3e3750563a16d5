"""The AGS results source asks for the scopes the platform granted in the launch (AGS 2.0
section 3.1): ``lineitem`` lets a tool read its columns as ``lineitem.readonly`` does, and a
platform that granted only ``lineitem`` answers a token request for ``lineitem.readonly``
with ``invalid_scope`` (RFC 6749 section 5.2: it exceeds what was granted), so completion was
never read there. Without ``result.readonly`` there is nothing to read: the source says so in
words instead of asking."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lti_tool.lms.ags_results import AgsResultsSource
from lti_tool.lms.source import CourseMapping, LmsUser, SourceConfigError
from lti_tool.lti.claims import SCOPE_LINEITEM, SCOPE_LINEITEM_READ, SCOPE_RESULT, SCOPE_SCORE
from lti_tool.rules import CompletionStatus

LINEITEMS = "https://lms.example.ac.uk/api/lti/courses/7/line_items"
ITEM = LINEITEMS + "/11"


class Platform:
    """Grants tokens for ``granted`` scopes only, refusing a request for any other."""

    def __init__(self, granted: set[str]) -> None:
        self.granted = granted
        self.asked: list[set[str]] = []

    def make_service_request(self, scopes: Any, url: str, **kwargs: Any) -> dict[str, Any]:
        wanted = set(scopes)
        self.asked.append(wanted)
        assert wanted <= self.granted, f"invalid_scope: {sorted(wanted - self.granted)}"
        if url.startswith(ITEM + "/results"):
            body: Any = [{"userId": "s1", "resultScore": 9, "resultMaximum": 10}]
        else:
            body = [{"id": ITEM, "resourceId": "CPD1", "scoreMaximum": 10}]
        return {"headers": {}, "body": body, "next_page_url": None}


def fetch(granted: set[str]) -> tuple[Platform, Any]:
    platform = Platform(granted)
    source = AgsResultsSource(
        platform,  # type: ignore[arg-type]
        LINEITEMS,
        0.6,
        dt.UTC,
        scopes=frozenset(granted),
    )
    return platform, source.fetch(LmsUser("s1"), [CourseMapping(code="CPD1", course_id="7")])


@pytest.mark.parametrize(
    "granted",
    [
        {SCOPE_LINEITEM, SCOPE_RESULT, SCOPE_SCORE},
        {SCOPE_LINEITEM_READ, SCOPE_RESULT},
        {SCOPE_LINEITEM, SCOPE_LINEITEM_READ, SCOPE_RESULT, SCOPE_SCORE},
    ],
)
def test_the_source_reads_with_the_scopes_the_platform_granted(granted: set[str]) -> None:
    platform, result = fetch(granted)
    assert result.errors == []
    [completion] = result.completions
    assert completion.status is CompletionStatus.COMPLETED
    assert all(asked <= granted for asked in platform.asked)


@pytest.mark.parametrize("granted", [{SCOPE_LINEITEM, SCOPE_SCORE}, {SCOPE_RESULT}, set()])
def test_without_the_scopes_to_read_results_the_source_says_so(granted: set[str]) -> None:
    platform, result = fetch(granted)
    assert platform.asked == []
    assert result.completions == []
    [error] = result.errors
    assert isinstance(error, SourceConfigError)
    assert "does not let the tool read" in str(error)
