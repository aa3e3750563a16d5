"""CanvasRestClient and CanvasCompletionSource against the sandbox's Canvas REST fake."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import requests
from flask import Flask, Response
from werkzeug.serving import make_server

from lti_tool.lms.canvas.identity import canvas_user
from lti_tool.lms.canvas.source import CanvasCompletionSource, CanvasRestClient
from lti_tool.lms.source import (
    CourseMapping,
    CourseUntrackable,
    LmsUser,
    MappingMode,
    SourceConfigError,
    SourceError,
    SourceUnavailable,
)
from lti_tool.rules.records import Completion
from lti_tool.rules.records import CompletionStatus as Status
from lti_tool.sandbox import demo_data as demo
from lti_tool.sandbox.canvas_rest import SANDBOX_TOKEN
from tests.integration.lms.conftest import LiveLms

CODES = list(demo.CPD_COURSES)
COURSE_MAPPING = [CourseMapping(code, str(demo.course_id(code))) for code in CODES]
MODULE_MAPPING = [
    CourseMapping(code, str(demo.PROGRAMME_COURSE_ID), str(demo.programme_module_id(code)))
    for code in CODES
]


def client(
    lms: LiveLms, http: requests.Session, token: str = SANDBOX_TOKEN, **options: Any
) -> CanvasRestClient:
    settings: dict[str, Any] = {"backoff": 0.01, "timeout": 2.0, **options}
    return CanvasRestClient(lms.canvas_url, token, http, settings.pop("retries", 2), **settings)


def source(
    lms: LiveLms, http: requests.Session, mode: MappingMode = MappingMode.COURSE, **options: Any
) -> CanvasCompletionSource:
    return CanvasCompletionSource(client(lms, http, **options), mode)


def summary(completions: list[Completion]) -> dict[str, tuple[Status, date | None]]:
    return {
        c.course_code: (c.status, c.completed_at)
        for c in completions
        if c.status is not Status.NOT_STARTED
    }


STUDENT1_DONE = {
    "GB080": (Status.COMPLETED, date(2026, 1, 23)),
    "GB081": (Status.COMPLETED, date(2026, 2, 27)),
    "GB082": (Status.COMPLETED, date(2026, 4, 3)),
    "GB083": (Status.COMPLETED, date(2026, 5, 8)),
    "GB084": (Status.COMPLETED, date(2026, 6, 12)),
}


def test_course_mode(lms: LiveLms, http: requests.Session) -> None:
    canvas = source(lms, http)

    first = canvas.fetch(LmsUser(str(demo.STUDENT1)), COURSE_MAPPING)
    second = canvas.fetch(LmsUser(str(demo.STUDENT2)), COURSE_MAPPING)
    third = canvas.fetch(LmsUser(str(demo.STUDENT3)), COURSE_MAPPING)

    assert first.errors == second.errors == third.errors == []
    assert summary(first.completions) == {**STUDENT1_DONE, "GB085": (Status.IN_PROGRESS, None)}
    assert summary(second.completions) == {
        "GB080": (Status.COMPLETED, date(2026, 3, 13)),
        "GB081": (Status.IN_PROGRESS, None),
        "GB082": (Status.IN_PROGRESS, None),  # reflective log done, quiz failed
    }
    assert summary(third.completions) == {} and len(third.completions) == len(CODES)
    assert {c.source for c in first.completions} == {"canvas"}
    assert lms.canvas.calls_to("/progress") == 3 * len(CODES)


def test_module_mode_follows_three_pages(lms: LiveLms, http: requests.Session) -> None:
    canvas = source(lms, http, MappingMode.ACTIVITY, per_page=5)  # 14 modules: 5 + 5 + 4

    result = canvas.fetch(LmsUser(str(demo.STUDENT1)), MODULE_MAPPING)

    assert result.errors == []
    assert summary(result.completions) == STUDENT1_DONE
    assert [c.course_code for c in result.completions] == CODES
    assert lms.canvas.calls_to("/modules") == 3


def test_module_mode_started_is_in_progress(lms: LiveLms, http: requests.Session) -> None:
    gb082 = str(demo.course_id("GB082"))
    mapping = [CourseMapping("GB082", gb082, str(100 + int(gb082)))]

    result = source(lms, http, MappingMode.ACTIVITY).fetch(LmsUser(str(demo.STUDENT2)), mapping)

    assert summary(result.completions) == {"GB082": (Status.IN_PROGRESS, None)}


def test_429_waits_as_long_as_retry_after_says(lms: LiveLms, http: requests.Session) -> None:
    lms.canvas.throttle_next(1, retry_after=1)

    started = time.monotonic()
    result = source(lms, http).fetch(LmsUser("1001"), COURSE_MAPPING[:1])
    waited = time.monotonic() - started

    assert summary(result.completions) == {"GB080": STUDENT1_DONE["GB080"]}
    assert waited >= 1.0
    assert lms.canvas.calls_to("/progress") == 2


def test_legacy_403_rate_limit_backs_off_and_retries(lms: LiveLms, http: requests.Session) -> None:
    lms.canvas.throttle_next(2, retry_after=None, legacy_403=True)

    result = source(lms, http, retries=2, backoff=0.2).fetch(LmsUser("1001"), COURSE_MAPPING[:1])

    assert result.completions[0].status is Status.COMPLETED
    assert lms.canvas.calls_to("/progress") == 3


def test_a_long_retry_after_gives_up_at_once(lms: LiveLms, http: requests.Session) -> None:
    lms.canvas.throttle_next(1, retry_after=3600)

    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="throttling"):
        source(lms, http, max_retry_after=30).fetch(LmsUser("1001"), COURSE_MAPPING[:1])

    assert time.monotonic() - started < 1.0
    assert lms.canvas.calls_to("/progress") == 1


def test_persistent_throttling_is_unavailable(lms: LiveLms, http: requests.Session) -> None:
    lms.canvas.throttle_next(10, retry_after=0)

    with pytest.raises(SourceUnavailable, match="gave up after 3 attempts"):
        source(lms, http, retries=2).fetch(LmsUser("1001"), COURSE_MAPPING[:1])

    assert lms.canvas.calls_to("/progress") == 3


@pytest.mark.parametrize(("remaining", "slow"), [(10.0, True), (700.0, False)])
def test_low_rate_limit_remaining_slows_down(
    lms: LiveLms, http: requests.Session, remaining: float, slow: bool
) -> None:
    lms.canvas.rate_limit_remaining = remaining
    canvas = client(lms, http, low_remaining=50.0, slowdown=0.6)

    started = time.monotonic()
    canvas.course_progress("3", "1001")
    canvas.course_progress("4", "1001")
    elapsed = time.monotonic() - started

    assert (elapsed >= 0.6) is slow


def test_invalid_token_is_a_config_error(lms: LiveLms, http: requests.Session) -> None:
    canvas = CanvasCompletionSource(client(lms, http, token="revoked"))

    with pytest.raises(SourceConfigError, match=r"Invalid access token\..*New access token"):
        canvas.fetch(LmsUser("1001"), COURSE_MAPPING[:2])

    assert lms.canvas.calls_to("/progress") <= 2  # never retried


def test_token_without_permission(lms: LiveLms, http: requests.Session) -> None:
    lms.canvas.unauthorized_tokens.add(SANDBOX_TOKEN)

    result = source(lms, http).fetch(LmsUser("1001"), COURSE_MAPPING[:2])

    assert [(type(e), e.course_code) for e in result.errors] == [
        (SourceConfigError, "GB080"),
        (SourceConfigError, "GB081"),
    ]
    assert "View all grades" in result.errors[0].message


def test_503_then_success(lms: LiveLms, http: requests.Session) -> None:
    lms.canvas.fail_next(2, status=503)

    result = source(lms, http, retries=2).fetch(LmsUser("1001"), COURSE_MAPPING[:1])

    assert result.completions[0].status is Status.COMPLETED
    assert lms.canvas.calls_to("/progress") == 3


def test_timeouts_are_unavailable(lms: LiveLms, http: requests.Session) -> None:
    lms.canvas.latency = 1.0

    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"within 0\.2 s"):
        source(lms, http, retries=1, timeout=0.2).fetch(LmsUser("1001"), COURSE_MAPPING[:1])

    assert time.monotonic() - started < 1.0
    assert lms.canvas.calls_to("/progress") == 2


def test_not_enrolled_is_not_started_once_the_course_is_known(
    lms: LiveLms, http: requests.Session
) -> None:
    canvas = source(lms, http)

    first = canvas.fetch(LmsUser(str(demo.OUTSIDER)), COURSE_MAPPING[:2])
    canvas.fetch(LmsUser(str(demo.OUTSIDER)), COURSE_MAPPING[:2])

    assert first.errors == []
    assert [c.status for c in first.completions] == [Status.NOT_STARTED] * 2
    assert lms.canvas.calls_to("/courses/3") == 1  # existence checked once, then remembered


def test_unknown_course_is_a_mapping_error(lms: LiveLms, http: requests.Session) -> None:
    result = source(lms, http).fetch(LmsUser("1001"), [CourseMapping("GB080", "999")])

    (error,) = result.errors
    assert isinstance(error, SourceConfigError) and error.course_code == "GB080"
    assert "no course 999" in error.message


def test_course_without_requirements_is_untrackable(lms: LiveLms, http: requests.Session) -> None:
    """Canvas's "no progress available" for a student of a course whose modules carry no
    completion requirement: untrackable, with what a Canvas teacher must add; the course's
    modules are asked about once for the whole class."""
    lms.data.courses[16] = demo.Course(16, "EMPTY", "No requirements", students={1001, 1002})
    canvas = source(lms, http)

    first = canvas.fetch(LmsUser("1001"), [CourseMapping("GB099", "16")])
    second = canvas.fetch(LmsUser("1002"), [CourseMapping("GB099", "16")])

    for result in (first, second):
        (error,) = result.errors
        assert isinstance(error, CourseUntrackable) and error.course_code == "GB099"
        assert "no module completion requirements" in error.message
        assert "Add requirement" in error.message and "course 16" in error.message
        assert [(c.course_code, c.status) for c in result.completions] == [
            ("GB099", Status.UNTRACKABLE)
        ]
    assert lms.canvas.calls_to("/courses/16/modules") == 1


def test_no_progress_for_a_user_who_is_not_a_student_there_is_not_started(
    lms: LiveLms, http: requests.Session
) -> None:
    """The same Canvas answer for someone enrolled in another role, in a course that has
    requirements: not started, as for someone not in the course; no error."""
    course = lms.data.courses[demo.course_id("GB080")]
    course.other_roles.add(1009)

    result = source(lms, http).fetch(LmsUser("1009"), COURSE_MAPPING[:1])

    assert result.errors == []
    assert [c.status for c in result.completions] == [Status.NOT_STARTED]


def test_module_problems(lms: LiveLms, http: requests.Session) -> None:
    mapping = [
        MODULE_MAPPING[0],
        CourseMapping("WELCOME", str(demo.PROGRAMME_COURSE_ID), "200"),  # no requirements
        CourseMapping("MISSING", str(demo.PROGRAMME_COURSE_ID), "299"),
    ]

    result = source(lms, http, MappingMode.ACTIVITY).fetch(LmsUser("1001"), mapping)

    assert summary(result.completions) == {
        "GB080": STUDENT1_DONE["GB080"],
        "WELCOME": (Status.UNTRACKABLE, None),
    }
    assert [(type(e), e.course_code) for e in result.errors] == [
        (CourseUntrackable, "WELCOME"),
        (SourceConfigError, "MISSING"),
    ]
    assert "no completion requirements" in result.errors[0].message
    assert "module 200" in result.errors[0].message
    assert "no module 299" in result.errors[1].message


def test_a_user_without_an_id_is_a_configuration_error(
    lms: LiveLms, http: requests.Session
) -> None:
    with pytest.raises(SourceConfigError, match="names no user"):
        source(lms, http).fetch(LmsUser(""), COURSE_MAPPING[:1])


@pytest.mark.parametrize("mode", [MappingMode.COURSE, MappingMode.ACTIVITY])
def test_canvas_says_whose_sub_it_is(
    lms: LiveLms, http: requests.Session, mode: MappingMode
) -> None:
    mapping = COURSE_MAPPING if mode is MappingMode.COURSE else MODULE_MAPPING
    canvas = source(lms, http, mode)
    by_id = canvas.fetch(LmsUser(str(demo.STUDENT2)), mapping)
    lms.canvas.calls.clear()

    by_sub = canvas.fetch(canvas_user(str(demo.STUDENT2), "pgcert-cl-2027"), mapping)

    assert summary(by_sub.completions) == summary(by_id.completions) != {}
    # Asked once, in the course the student was seen in.
    assert [p for p in lms.canvas.calls if "lti_1_3_id" in p] == [
        "/canvas/api/v1/courses/lti_context_id:pgcert-cl-2027/users/lti_1_3_id:1002"
    ]


def test_without_the_home_course_canvas_is_asked_in_the_course_read(
    lms: LiveLms, http: requests.Session
) -> None:
    lms.data.courses[demo.course_id("GB080")].students.discard(demo.STUDENT2)
    canvas = source(lms, http)

    result = canvas.fetch(canvas_user(str(demo.STUDENT2), "no-such-course"), COURSE_MAPPING)

    assert summary(result.completions) == summary(
        canvas.fetch(LmsUser(str(demo.STUDENT2)), COURSE_MAPPING).completions
    )
    assert "GB081" in summary(result.completions) and result.errors == []


def test_a_sub_canvas_does_not_know_reads_nobodys_progress(
    lms: LiveLms, http: requests.Session
) -> None:
    result = source(lms, http).fetch(canvas_user("9999", "pgcert-cl-2027"), COURSE_MAPPING)

    assert result.errors == [] and summary(result.completions) == {}
    assert all(not c.enrolled for c in result.completions)


def test_the_token_is_a_bearer_header(lms: LiveLms, http: requests.Session) -> None:
    seen: list[requests.PreparedRequest] = []
    http.hooks["response"].append(lambda response, **_: seen.append(response.request))

    client(lms, http).course_progress("3", "1001")

    (sent,) = seen
    assert sent.headers["Authorization"] == f"Bearer {SANDBOX_TOKEN}"
    assert SANDBOX_TOKEN not in (sent.url or "")


@pytest.fixture
def foreign_next_link() -> Iterator[str]:
    """A server whose list points its next page at another host."""
    app = Flask("foreign")

    @app.get("/api/v1/things")
    def things() -> Response:
        response = Response("[1, 2]", mimetype="application/json")
        response.headers["Link"] = '<https://elsewhere.example/api/v1/things?page=2>; rel="next"'
        return response

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_next_links_to_another_host_are_not_followed(
    foreign_next_link: str, http: requests.Session
) -> None:
    canvas = CanvasRestClient(foreign_next_link, SANDBOX_TOKEN, http, 0)

    with pytest.raises(SourceError, match="another host"):
        canvas.get_all("/api/v1/things")
