"""The class refresh's line on the courses the LMS answered it cannot track names each course
once, in every variant of the sentence: one course or several, with the class page's "Courses
that can't be tracked" section below it or without (the causes then said in the line, each
of which names its own course), and starts with a capital whatever the LMS is called."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask

from lti_tool.web.class_refresh_view import refresh_view_words

GB085 = {
    "code": "GB085",
    "cause": "GB085's Moodle course has no completion criteria set: a Moodle teacher must set "
    "them in Course completion settings (course id 7: More > Course completion), or map the "
    "CPD course to an activity instead.",
}
GB086 = {
    "code": "GB086",
    "cause": "GB086's course in the LMS cannot report completion: a teacher must turn on "
    "completion tracking for it there.",
}
# A cause that does not name its course (none does today): the line names it for it.
GB087 = {"code": "GB087", "cause": "Completion tracking is off"}


def _line(tool: Flask, lms_name: str, cannot: list[dict[str, str]], listed: bool) -> str:
    """The rendered ``refresh-untrackable`` paragraph, as text."""
    refresh: dict[str, Any] = {
        "status": "finished",
        "finished_at": "2026-12-07T10:00:00+00:00",
        "total": 4,
        "done": 4,
        "failed": 0,
        "untrackable": cannot,
    }
    with tool.test_request_context("/staff/class/"):
        page = tool.jinja_env.get_template("staff/_class_refresh.html").render(
            refresh=refresh,
            lms_name=lms_name,
            as_of=lambda value: "10:00",
            untrackable=[object()] if listed else [],
            **refresh_view_words(),
        )
    found = re.search(r'<p id="refresh-untrackable">(.*?)</p>', page, re.S)
    assert found, page
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


@pytest.mark.parametrize("listed", [True, False])
@pytest.mark.parametrize(
    "cannot", [[GB085], [GB085, GB086], [GB085, GB086, GB087]], ids=["one", "two", "three"]
)
@pytest.mark.parametrize("lms_name", ["Moodle", "the LMS gradebook", "the LMS"])
def test_each_course_is_named_once(
    tool: Flask, lms_name: str, cannot: list[dict[str, str]], listed: bool
) -> None:
    line = _line(tool, lms_name, cannot, listed)

    for course in cannot:
        assert line.count(course["code"]) == 1, line
    assert line[0].isupper() and line.endswith("."), line
    assert ".." not in line and ": see" not in line.replace(": see Courses", ""), line
    if listed:
        assert line.endswith("see Courses that can't be tracked."), line
        assert "criteria" not in line  # the causes are in the section below
    else:
        for course in cannot:
            assert course["cause"].rstrip(".") in line


def test_the_words_for_one_two_and_three(tool: Flask) -> None:
    assert _line(tool, "Moodle", [GB085], True) == (
        "Moodle answered, but can't track GB085: see Courses that can't be tracked."
    )
    assert _line(tool, "the LMS gradebook", [GB085, GB086, GB087], True) == (
        "The LMS gradebook answered, but can't track GB085, GB086 and GB087: see Courses "
        "that can't be tracked."
    )
    assert _line(tool, "Moodle", [GB085], False) == (
        "Moodle answered, but can't track one course. " + GB085["cause"]
    )
    assert _line(tool, "Canvas", [GB086, GB087], False) == (
        "Canvas answered, but can't track two courses. "
        + GB086["cause"]
        + " GB087: Completion tracking is off."
    )
