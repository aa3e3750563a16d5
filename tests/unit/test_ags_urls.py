"""The path of an AGS sub-resource goes before the line item URL's query."""

from __future__ import annotations

import pytest
from pylti1p3.assignments_grades import AssignmentsGradesService

from lti_tool.lti.ags_urls import with_path_ending

CASES = [
    ("https://lms.example/lineitems/7", "https://lms.example/lineitems/7/scores"),
    ("https://lms.example/lineitems/7/", "https://lms.example/lineitems/7/scores"),
    (
        "https://lms.example/lineitems/7?type_id=1",
        "https://lms.example/lineitems/7/scores?type_id=1",
    ),
    ("https://lms.example/li/7/?a=1&b=2", "https://lms.example/li/7/scores?a=1&b=2"),
    ("https://lms.example/li/7?a=1?b", "https://lms.example/li/7/scores?a=1?b"),
]


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_path_ending_goes_before_the_query(url: str, expected: str) -> None:
    assert with_path_ending(url, "scores") == expected


@pytest.mark.parametrize(("url", "expected"), CASES[:4])
def test_same_answer_as_pylti1p3(url: str, expected: str) -> None:
    # What pylti1p3's own AGS calls send, so line items it and the tool address agree.
    assert AssignmentsGradesService._add_url_path_ending(url, "scores") == expected
