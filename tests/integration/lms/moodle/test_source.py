"""MoodleWsClient and MoodleCompletionSource against the sandbox's Moodle web-service fake."""

from __future__ import annotations

import time
from datetime import date

import pytest
import requests

from lti_tool.lms.moodle.source import MoodleCompletionSource, MoodleWsClient
from lti_tool.lms.source import (
    CourseMapping,
    CourseUntrackable,
    LmsUser,
    MappingMode,
    SourceConfigError,
    SourceUnavailable,
)
from lti_tool.rules.records import Completion
from lti_tool.rules.records import CompletionStatus as Status
from lti_tool.sandbox import demo_data as demo
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from lti_tool.sandbox.moodle_ws_functions import READ_FUNCTIONS, WsToken
from tests.integration.lms.conftest import LiveLms

CODES = list(demo.CPD_COURSES)
COURSE_MAPPING = [CourseMapping(code, str(demo.course_id(code))) for code in CODES]
ACTIVITY_MAPPING = [
    CourseMapping(code, str(demo.PROGRAMME_COURSE_ID), str(demo.programme_cmid(code)))
    for code in CODES
]
COMPLETION = "core_completion_get_course_completion_status"
ACTIVITIES = "core_completion_get_activities_completion_status"


def client(
    lms: LiveLms,
    http: requests.Session,
    token: str = SANDBOX_TOKEN,
    *,
    retries: int = 2,
    timeout: float = 2.0,
) -> MoodleWsClient:
    return MoodleWsClient(lms.moodle_url, token, http, retries, 0.01, timeout=timeout)


def source(
    lms: LiveLms,
    http: requests.Session,
    mode: MappingMode = MappingMode.COURSE,
    *,
    retries: int = 2,
    timeout: float = 2.0,
    max_workers: int = 4,
) -> MoodleCompletionSource:
    moodle = client(lms, http, retries=retries, timeout=timeout)
    return MoodleCompletionSource(moodle, mode, max_workers=max_workers)


def summary(completions: list[Completion]) -> dict[str, tuple[Status, date | None, date | None]]:
    return {
        c.course_code: (c.status, c.started_at, c.completed_at)
        for c in completions
        if c.status is not Status.NOT_STARTED
    }


def test_course_mode_student1(lms: LiveLms, http: requests.Session) -> None:
    result = source(lms, http).fetch(LmsUser(str(demo.STUDENT1)), COURSE_MAPPING)

    assert result.errors == []
    assert [c.course_code for c in result.completions] == CODES
    assert {c.source for c in result.completions} == {"moodle"}
    assert summary(result.completions) == {
        "GB080": (Status.COMPLETED, date(2026, 1, 16), date(2026, 1, 23)),
        "GB081": (Status.COMPLETED, date(2026, 2, 20), date(2026, 2, 27)),
        "GB082": (Status.COMPLETED, date(2026, 3, 27), date(2026, 4, 3)),
        "GB083": (Status.COMPLETED, date(2026, 5, 1), date(2026, 5, 8)),
        "GB084": (Status.COMPLETED, date(2026, 6, 5), date(2026, 6, 12)),
        "GB085": (Status.IN_PROGRESS, date(2026, 7, 3), None),
    }
    assert lms.moodle.calls_to(COMPLETION) == len(CODES)  # one call per mapped course


def test_course_mode_student2_and_student3(lms: LiveLms, http: requests.Session) -> None:
    moodle = source(lms, http)

    second = moodle.fetch(LmsUser(str(demo.STUDENT2)), COURSE_MAPPING)
    third = moodle.fetch(LmsUser(str(demo.STUDENT3)), COURSE_MAPPING)

    assert summary(second.completions) == {
        "GB080": (Status.COMPLETED, date(2026, 3, 6), date(2026, 3, 13)),
        "GB081": (Status.IN_PROGRESS, date(2026, 4, 17), None),
        "GB082": (Status.IN_PROGRESS, date(2026, 5, 15), None),  # quiz failed
    }
    assert len(third.completions) == len(CODES) and summary(third.completions) == {}


def test_activity_mode_is_one_call_per_moodle_course(lms: LiveLms, http: requests.Session) -> None:
    result = source(lms, http, MappingMode.ACTIVITY).fetch(LmsUser("1001"), ACTIVITY_MAPPING)

    assert result.errors == []
    assert summary(result.completions) == {
        code: (Status.COMPLETED, day, day)
        for code, day in [
            ("GB080", date(2026, 1, 23)),
            ("GB081", date(2026, 2, 27)),
            ("GB082", date(2026, 4, 3)),
            ("GB083", date(2026, 5, 8)),
            ("GB084", date(2026, 6, 12)),
        ]
    }
    assert lms.moodle.calls_to(ACTIVITIES) == 1


def test_activity_mode_failed_quiz_is_in_progress(lms: LiveLms, http: requests.Session) -> None:
    mapping = [
        CourseMapping("LOG", str(demo.course_id("GB082")), str(demo.log_cmid("GB082"))),
        CourseMapping("QUIZ", str(demo.course_id("GB082")), str(demo.quiz_cmid("GB082"))),
        CourseMapping("NEXT", str(demo.course_id("GB083")), str(demo.quiz_cmid("GB083"))),
    ]

    result = source(lms, http, MappingMode.ACTIVITY).fetch(LmsUser("1002"), mapping)

    assert summary(result.completions) == {
        "LOG": (Status.COMPLETED, date(2026, 5, 15), date(2026, 5, 15)),
        "QUIZ": (Status.IN_PROGRESS, date(2026, 5, 22), None),
    }
    assert [c.course_code for c in result.completions] == ["LOG", "QUIZ", "NEXT"]
    assert lms.moodle.calls_to(ACTIVITIES) == 2


def test_activity_mode_unknown_cmid_is_a_config_error(lms: LiveLms, http: requests.Session) -> None:
    mapping = [ACTIVITY_MAPPING[0], CourseMapping("GB099", str(demo.PROGRAMME_COURSE_ID), "77")]

    result = source(lms, http, MappingMode.ACTIVITY).fetch(LmsUser("1001"), mapping)

    assert [c.course_code for c in result.completions] == ["GB080"]
    (error,) = result.errors
    assert isinstance(error, SourceConfigError) and error.course_code == "GB099"
    assert "cmid 77" in error.message


def test_calls_for_one_student_run_concurrently_but_bounded(
    lms: LiveLms, http: requests.Session
) -> None:
    lms.moodle.latency = 0.2

    started = time.monotonic()
    result = source(lms, http, max_workers=4).fetch(LmsUser("1001"), COURSE_MAPPING[:8])
    elapsed = time.monotonic() - started

    assert len(result.completions) == 8
    assert lms.moodle.max_in_flight == 4
    assert elapsed < 8 * 0.2 * 0.75  # two waves of four, not eight calls in a row


@pytest.mark.parametrize(
    ("user", "who"),
    [(demo.OUTSIDER, "not enrolled"), (demo.TEACHER, "teacher"), (demo.ADMIN, "token user")],
)
def test_not_enrolled_is_not_started(
    lms: LiveLms, http: requests.Session, user: int, who: str
) -> None:
    for mode, mapping in (
        (MappingMode.COURSE, COURSE_MAPPING),
        (MappingMode.ACTIVITY, ACTIVITY_MAPPING),
    ):
        result = source(lms, http, mode).fetch(LmsUser(str(user)), mapping)

        assert result.errors == [], who
        assert [c.status for c in result.completions] == [Status.NOT_STARTED] * len(CODES)


def test_invalid_token_is_a_config_error_for_the_admin(
    lms: LiveLms, http: requests.Session
) -> None:
    moodle = MoodleCompletionSource(client(lms, http, token="not-a-real-token"))

    with pytest.raises(SourceConfigError) as raised:
        moodle.fetch(LmsUser("1001"), COURSE_MAPPING[:3])

    assert raised.value.course_code is None
    assert "invalidtoken" in raised.value.message and "Manage tokens" in raised.value.message
    assert lms.moodle.call_count <= 3  # stopped, not retried


def test_function_missing_from_the_service(lms: LiveLms, http: requests.Session) -> None:
    lms.moodle.tokens["narrow"] = WsToken(demo.ADMIN, functions=READ_FUNCTIONS[:2])
    narrow = client(lms, http, token="narrow")

    with pytest.raises(SourceConfigError, match=f"Add {COMPLETION} to the token's external"):
        MoodleCompletionSource(narrow).fetch(LmsUser("1001"), COURSE_MAPPING[:1])
    with pytest.raises(SourceConfigError, match="lacks core_course_get_contents, core_completion"):
        narrow.check_service()
    assert client(lms, http).check_service().user_id == demo.ADMIN


def test_service_disabled(lms: LiveLms, http: requests.Session) -> None:
    lms.moodle.service_enabled = False

    with pytest.raises(SourceConfigError, match="disabled or gone"):
        source(lms, http).fetch(LmsUser("1001"), COURSE_MAPPING[:1])


def test_no_criteria_names_the_course_and_keeps_the_rest(
    lms: LiveLms, http: requests.Session
) -> None:
    mapping = [COURSE_MAPPING[0], CourseMapping("PROG", str(demo.PROGRAMME_COURSE_ID))]

    result = source(lms, http).fetch(LmsUser("1001"), mapping)

    # PROG reads "can't be tracked", not "not started"; GB080 reads as usual.
    assert summary(result.completions) == {
        "GB080": (Status.COMPLETED, date(2026, 1, 16), date(2026, 1, 23)),
        "PROG": (Status.UNTRACKABLE, None, None),
    }
    (error,) = result.errors
    assert isinstance(error, CourseUntrackable) and error.course_code == "PROG"
    assert error.message.startswith(
        "PROG's Moodle course has no completion criteria set: a Moodle teacher must set them "
        "in Course completion settings"
    )


def test_activity_with_tracking_off_is_untrackable_and_a_wrong_cmid_is_not(
    lms: LiveLms, http: requests.Session
) -> None:
    # cmid 40 is the tool's own activity, completion tracking off (as in the recorded site):
    # Moodle leaves it out of the statuses, as it leaves out a cmid not in the course.
    programme = str(demo.PROGRAMME_COURSE_ID)
    mapping = [
        ACTIVITY_MAPPING[0],
        CourseMapping("TOOL", programme, "40"),
        CourseMapping("GB099", programme, "77"),
    ]

    result = source(lms, http, MappingMode.ACTIVITY).fetch(LmsUser("1001"), mapping)

    assert summary(result.completions) == {
        "GB080": (Status.COMPLETED, date(2026, 1, 23), date(2026, 1, 23)),
        "TOOL": (Status.UNTRACKABLE, None, None),
    }
    tool, wrong = result.errors
    assert isinstance(tool, CourseUntrackable) and tool.course_code == "TOOL"
    assert "TOOL's Moodle activity has completion tracking off" in tool.message
    assert not isinstance(wrong, CourseUntrackable) and wrong.course_code == "GB099"
    assert "cmid 77" in wrong.message
    assert lms.moodle.calls_to("core_course_get_contents") == 1


def test_unknown_course_and_bad_course_id(lms: LiveLms, http: requests.Session) -> None:
    mapping = [CourseMapping("GB080", "999"), CourseMapping("GB081", "GB081")]

    result = source(lms, http).fetch(LmsUser("1001"), mapping)

    assert result.completions == []
    assert [(type(e), e.course_code) for e in result.errors] == [
        (SourceConfigError, "GB080"),
        (SourceConfigError, "GB081"),
    ]
    assert "no course with id 999" in result.errors[0].message
    assert "not a course id" in result.errors[1].message
    assert lms.moodle.calls_to(COMPLETION) == 1  # "GB081" never reached Moodle


def test_unknown_user_is_source_wide(lms: LiveLms, http: requests.Session) -> None:
    with pytest.raises(SourceConfigError, match="no user with id 424242"):
        source(lms, http).fetch(LmsUser("424242"), COURSE_MAPPING[:2])
    with pytest.raises(SourceConfigError, match="Moodle user ids are numbers"):
        source(lms, http).fetch(LmsUser("abc"), COURSE_MAPPING[:2])


def test_token_without_report_capabilities(lms: LiveLms, http: requests.Session) -> None:
    lms.moodle.tokens["teacher"] = WsToken(demo.TEACHER, can_view_others=False)

    for mode, mapping in (
        (MappingMode.COURSE, COURSE_MAPPING[:1]),
        (MappingMode.ACTIVITY, ACTIVITY_MAPPING[:1]),
    ):
        moodle = MoodleCompletionSource(client(lms, http, token="teacher"), mode)
        result = moodle.fetch(LmsUser("1001"), mapping)

        (error,) = result.errors
        assert isinstance(error, SourceConfigError)
        assert "report/completion:view and report/progress:view" in error.message


def test_503_then_success_is_retried(lms: LiveLms, http: requests.Session) -> None:
    lms.moodle.fail_next(2, status=503)

    result = source(lms, http, retries=2).fetch(LmsUser("1001"), COURSE_MAPPING[:1])

    assert result.completions[0].status is Status.COMPLETED
    assert lms.moodle.calls_to(COMPLETION) == 3


def test_database_error_then_success_is_retried(lms: LiveLms, http: requests.Session) -> None:
    lms.moodle.raise_next(1)  # dml_read_exception, as Moodle sends it (HTTP 200)

    result = source(lms, http).fetch(LmsUser("1001"), COURSE_MAPPING[:1])

    assert result.errors == [] and result.completions[0].status is Status.COMPLETED
    assert lms.moodle.calls_to(COMPLETION) == 2


def test_persistent_503_gives_up_after_bounded_retries(
    lms: LiveLms, http: requests.Session
) -> None:
    lms.moodle.fail_next(50, status=503)

    with pytest.raises(SourceUnavailable, match=r"HTTP 503.*gave up after 3 attempts"):
        source(lms, http, retries=2).fetch(LmsUser("1001"), COURSE_MAPPING[:1])

    assert lms.moodle.calls_to(COMPLETION) == 3


def test_one_course_unavailable_is_a_partial_answer(lms: LiveLms, http: requests.Session) -> None:
    lms.moodle.fail_next(3, status=502)  # the first course's three attempts

    result = source(lms, http, retries=2, max_workers=1).fetch(LmsUser("1001"), COURSE_MAPPING[:3])

    assert [c.course_code for c in result.completions] == ["GB081", "GB082"]
    (error,) = result.errors
    assert isinstance(error, SourceUnavailable) and error.course_code == "GB080"


def test_timeouts_are_retried_then_unavailable(lms: LiveLms, http: requests.Session) -> None:
    lms.moodle.latency = 1.0

    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"did not answer .* within 0\.2 s"):
        source(lms, http, retries=1, timeout=0.2).fetch(LmsUser("1001"), COURSE_MAPPING[:1])
    elapsed = time.monotonic() - started

    assert elapsed < 1.0  # gave up on each call after 0.2 s, not after Moodle's 1 s
    assert lms.moodle.calls_to(COMPLETION) == 2


def test_client_reads_courses_and_contents(lms: LiveLms, http: requests.Session) -> None:
    moodle = client(lms, http)

    (gb084,) = moodle.get_courses_by_field("idnumber", "GB084")
    modules = moodle.get_course_contents(demo.PROGRAMME_COURSE_ID)

    assert (gb084.id, gb084.shortname) == (7, "GB084")
    assert [c.id for c in moodle.get_courses_by_field("ids", "3,4")] == [3, 4]
    assert len(moodle.get_courses_by_field()) == 15
    named = {m.name.split()[0]: m.cmid for m in modules if m.modname == "url"}
    assert named == {code: demo.programme_cmid(code) for code in CODES}


def test_the_token_travels_in_the_post_body(lms: LiveLms, http: requests.Session) -> None:
    seen: list[requests.PreparedRequest] = []
    http.hooks["response"].append(lambda response, **_: seen.append(response.request))

    client(lms, http).get_site_info()

    (sent,) = seen
    assert sent.method == "POST"
    assert SANDBOX_TOKEN not in (sent.url or "")
    assert f"wstoken={SANDBOX_TOKEN}" in str(sent.body)
    assert "moodlewsrestformat=json" in str(sent.body)
