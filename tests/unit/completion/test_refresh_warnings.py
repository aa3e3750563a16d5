"""A CPD course that could not be read leaves a WARNING an operator can follow: the refresh's
reference (correlation id or job id), the registration, the course and the CPD course; no
token, no name, no words of the LMS (they may quote what the tool sent)."""

from __future__ import annotations

import logging

import pytest

from lti_tool.completion.refresh import PreparedSource, Student, fetch_student
from lti_tool.lms.source import (
    CourseMapping,
    FetchResult,
    LmsUser,
    MappingMode,
    SourceConfigError,
    SourceUnavailable,
)
from lti_tool.rules import Completion, CompletionStatus

TOKEN = "wstoken-4f1c9a"  # what a careless message might quote


class OneCourseUnreadable:
    """A source whose GB082 answer is an error; it checks it is asked about a user."""

    def fetch(self, user: LmsUser, mapping: list[CourseMapping]) -> FetchResult:
        assert isinstance(user, LmsUser) and user.user_id == "4"
        return FetchResult(
            [Completion("GB080", CompletionStatus.COMPLETED)],
            [SourceConfigError(f"no criteria (token {TOKEN})", course_code="GB082")],
        )


class Down:
    def fetch(self, user: LmsUser, mapping: list[CourseMapping]) -> FetchResult:
        raise SourceUnavailable(f"Moodle did not answer ?wstoken={TOKEN}")


STUDENT = Student(registration_pk=7, user_pk=31, sub="4", custom={}, context_pk=12)


def _fields(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [
        dict(r.fields)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "lti_tool.completion" and r.levelno == logging.WARNING
    ]


def test_an_unreadable_cpd_course_is_a_warning_naming_where(
    caplog: pytest.LogCaptureFixture,
) -> None:
    prepared = PreparedSource("moodle", [], OneCourseUnreadable())
    with caplog.at_level(logging.WARNING, logger="lti_tool.completion"):
        fetched = fetch_student(prepared, STUDENT, reference="cid-0f3a")
    assert fetched.outcome.status == "partial"
    [line] = _fields(caplog)
    assert line == {
        "reference": "cid-0f3a",
        "registration": 7,
        "course": 12,
        "source": "moodle",
        "status": "partial",
        "cpd_course": "GB082",
        "failure": "SourceConfigError",
    }
    assert TOKEN not in caplog.text


def test_a_source_that_is_down_is_one_warning_per_student(
    caplog: pytest.LogCaptureFixture,
) -> None:
    prepared = PreparedSource("moodle", [], Down())
    with caplog.at_level(logging.WARNING, logger="lti_tool.completion"):
        fetched = fetch_student(prepared, STUDENT, reference="job-1")
    assert fetched.outcome.status == "unavailable"
    [line] = _fields(caplog)
    assert (line["reference"], line["registration"], line["course"]) == ("job-1", 7, 12)
    assert line["status"] == "unavailable"
    assert TOKEN not in caplog.text and TOKEN not in repr(line)


def test_a_readable_student_writes_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    class AllRead:
        def fetch(self, user: LmsUser, mapping: list[CourseMapping]) -> FetchResult:
            return FetchResult([Completion("GB080", CompletionStatus.COMPLETED)], [])

    with caplog.at_level(logging.WARNING, logger="lti_tool.completion"):
        fetch_student(PreparedSource("moodle", [], AllRead()), STUDENT, reference="r")
    assert _fields(caplog) == []


def test_a_course_moodle_cannot_track_is_stored_as_untrackable_and_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.unit.lms.moodle.test_untrackable import NO_CRITERIA, source_over
    from tests.unit.lms.recorded import exchange

    course = "core_completion_get_course_completion_status"
    complete = exchange("ws-get_course_completion_status-GB080-student1-complete.json")
    moodle, _ = source_over(
        {(course, 2): exchange(NO_CRITERIA)["body"], (course, 3): complete["body"]},
        MappingMode.COURSE,
    )
    mapping = [CourseMapping("GB085", "2"), CourseMapping("GB080", "3")]
    prepared = PreparedSource("moodle", mapping, moodle)

    with caplog.at_level(logging.WARNING, logger="lti_tool.completion"):
        fetched = fetch_student(prepared, STUDENT, reference="cid-77")

    # Everything that can be read was: not "partial", and the other course is stored as read.
    assert fetched.outcome.status == "untrackable"
    assert {c.course_code: c.status.value for c in fetched.completions} == {
        "GB085": "untrackable",
        "GB080": "completed",
    }
    assert list(fetched.outcome.untrackable) == ["GB085"]
    assert fetched.outcome.untrackable["GB085"].startswith(
        "GB085's Moodle course has no completion criteria set: a Moodle teacher must set them "
        "in Course completion settings"
    )
    [line] = _fields(caplog)
    assert line == {
        "reference": "cid-77",
        "registration": 7,
        "course": 12,
        "source": "moodle",
        "status": "untrackable",
        "cpd_course": "GB085",
        "failure": "CourseUntrackable",
    }
