"""A Moodle course without completion criteria, from Moodle 4.5.6's recorded answer through the
real client and source to the status the student sees: ``untrackable``, not ``not_started``,
while the student's other courses read as usual."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import requests
from requests.adapters import BaseAdapter

from lti_tool.lms.moodle.source import MoodleCompletionSource, MoodleWsClient
from lti_tool.lms.source import CourseMapping, CourseUntrackable, LmsUser, MappingMode
from lti_tool.rules.records import CompletionStatus
from tests.unit.lms.recorded import exchange

NO_CRITERIA = "ws-error-no-criteria-PGCERT-CL.json"


class RecordedMoodle(BaseAdapter):
    """Answers each (wsfunction, courseid) with the raw body Moodle 4.5.6 recorded."""

    def __init__(self, answers: Mapping[tuple[str, int], str]) -> None:
        super().__init__()
        self.answers = answers
        self.asked: list[tuple[str, int]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = request.body or ""
        fields = parse_qs(body if isinstance(body, str) else body.decode())
        key = (fields["wsfunction"][0], int(fields["courseid"][0]))
        self.asked.append(key)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = self.answers[key].encode()
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def source_over(answers: Mapping[tuple[str, int], str], mode: MappingMode) -> tuple[Any, Any]:
    adapter = RecordedMoodle(answers)
    http = requests.Session()
    http.mount("https://", adapter)
    client = MoodleWsClient("https://moodle.example.org", "t0ken", http, retries=0)
    return MoodleCompletionSource(client, mode, max_workers=1), adapter


def test_no_criteria_is_untrackable_and_the_other_course_still_reads() -> None:
    course = "core_completion_get_course_completion_status"
    source, _ = source_over(
        {
            (course, 2): exchange(NO_CRITERIA)["body"],
            (course, 3): exchange("ws-get_course_completion_status-GB080-student1-complete.json")[
                "body"
            ],
        },
        MappingMode.COURSE,
    )

    result = source.fetch(LmsUser("4"), [CourseMapping("GB085", "2"), CourseMapping("GB080", "3")])

    statuses = {c.course_code: c.status for c in result.completions}
    assert statuses == {
        "GB085": CompletionStatus.UNTRACKABLE,
        "GB080": CompletionStatus.COMPLETED,
    }
    (error,) = result.errors
    assert isinstance(error, CourseUntrackable) and error.course_code == "GB085"
    assert error.message.startswith(
        "GB085's Moodle course has no completion criteria set: a Moodle teacher must set them "
        "in Course completion settings"
    )


def test_activity_with_tracking_off_is_told_apart_from_a_wrong_cmid_by_the_contents() -> None:
    # The recorded course 2: cmid 40 (the tool, completion 0) is in the contents but not in
    # the statuses; cmid 77 is in neither.
    activities = "core_completion_get_activities_completion_status"
    source, adapter = source_over(
        {
            (activities, 2): exchange(
                "ws-get_activities_completion_status-PGCERT-CL-student1.json"
            )["body"],
            ("core_course_get_contents", 2): exchange("ws-get_contents-PGCERT-CL.json")["body"],
        },
        MappingMode.ACTIVITY,
    )
    mapping = [
        CourseMapping("GB080", "2", "1"),
        CourseMapping("TOOL", "2", "40"),
        CourseMapping("GB099", "2", "77"),
    ]

    result = source.fetch(LmsUser("4"), mapping)

    statuses = {c.course_code: c.status for c in result.completions}
    assert statuses == {"GB080": CompletionStatus.COMPLETED, "TOOL": CompletionStatus.UNTRACKABLE}
    tool, wrong = result.errors
    assert isinstance(tool, CourseUntrackable) and "completion tracking off" in tool.message
    assert not isinstance(wrong, CourseUntrackable) and "cmid 77" in wrong.message
    assert adapter.asked == [(activities, 2), ("core_course_get_contents", 2)]
