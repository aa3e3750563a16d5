"""Moodle answers as recorded from a real Moodle 4.5.6, parsed and turned into Completions."""

from __future__ import annotations

import copy
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from lti_tool.lms.moodle import parsing as parse
from lti_tool.lms.moodle.activity_completion import activity_record, parse_activities_completion
from lti_tool.lms.moodle.client import encode_params, rest_endpoint
from lti_tool.lms.moodle.course_completion import course_record, parse_course_completion
from lti_tool.lms.moodle.errors import course_problem, service_problem
from lti_tool.lms.source import CourseUntrackable, SourceConfigError, SourceError
from lti_tool.rules.records import CompletionStatus
from tests.unit.lms.recorded import body

LONDON = ZoneInfo("Europe/London")
RECORDED_DAY = date(2026, 11, 26)  # 1795716741 = 2026-11-26 18:52:21 UTC


def course_status(
    name: str, code: str = "GB080"
) -> tuple[CompletionStatus, date | None, date | None]:
    record = course_record(code, parse_course_completion(body(name)), LONDON, "moodle")
    assert record.course_code == code and record.source == "moodle"
    return record.status, record.started_at, record.completed_at


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "ws-get_course_completion_status-GB080-student1-complete.json",
            (CompletionStatus.COMPLETED, RECORDED_DAY, RECORDED_DAY),
        ),
        (
            "ws-get_course_completion_status-GB081-student2-inprogress.json",
            (CompletionStatus.IN_PROGRESS, RECORDED_DAY, None),
        ),
        (
            "ws-get_course_completion_status-GB082-student2-failed.json",
            (CompletionStatus.IN_PROGRESS, RECORDED_DAY, None),
        ),
        (
            "ws-get_course_completion_status-GB080-student3-nothing.json",
            (CompletionStatus.NOT_STARTED, None, None),
        ),
    ],
)
def test_course_completion_recordings(name: str, expected: tuple[object, ...]) -> None:
    assert course_status(name) == expected


def test_course_completion_keeps_criteria() -> None:
    status = parse_course_completion(
        body("ws-get_course_completion_status-GB081-student2-inprogress.json")
    )

    assert not status.completed
    assert status.aggregation == 1
    assert [(c.type, c.complete, c.timecompleted) for c in status.criteria] == [
        (4, True, 1795716741),
        (4, False, None),
    ]


def test_completed_at_is_the_latest_criterion_and_started_at_the_earliest() -> None:
    answer = body("ws-get_course_completion_status-GB080-student1-complete.json")
    answer["completionstatus"]["completions"][0]["timecompleted"] = 1767268800  # 2026-01-01 12:00Z

    record = course_record("GB080", parse_course_completion(answer), LONDON, "moodle")

    assert (record.started_at, record.completed_at) == (date(2026, 1, 1), RECORDED_DAY)


def test_dates_follow_the_configured_time_zone() -> None:
    late_evening_utc = 1795737600 - 60  # 2026-11-26 23:59 UTC
    assert parse.to_date(late_evening_utc, LONDON) == date(2026, 11, 26)
    assert parse.to_date(late_evening_utc, ZoneInfo("Pacific/Auckland")) == date(2026, 11, 27)
    assert parse.to_date(0, LONDON) is None
    assert parse.to_date(None, LONDON) is None


def activity_statuses(name: str) -> dict[int, tuple[CompletionStatus, date | None, date | None]]:
    statuses = parse_activities_completion(body(name))
    records = {s.cmid: activity_record(f"cm{s.cmid}", s, LONDON, "moodle") for s in statuses}
    return {cmid: (r.status, r.started_at, r.completed_at) for cmid, r in records.items()}


def test_activities_complete_and_complete_pass_are_completed() -> None:
    found = activity_statuses("ws-get_activities_completion_status-GB080-student1.json")

    assert found == {
        14: (CompletionStatus.COMPLETED, RECORDED_DAY, RECORDED_DAY),  # state 1, manual
        15: (CompletionStatus.COMPLETED, RECORDED_DAY, RECORDED_DAY),  # state 2, passed quiz
    }


def test_a_failed_quiz_is_in_progress_since_the_attempt() -> None:
    found = activity_statuses("ws-get_activities_completion_status-GB082-student2.json")

    assert found[19] == (CompletionStatus.IN_PROGRESS, RECORDED_DAY, None)  # state 3
    assert found[18][0] is CompletionStatus.COMPLETED


def test_programme_course_activities() -> None:
    found = activity_statuses("ws-get_activities_completion_status-PGCERT-CL-student1.json")

    assert sorted(found) == list(range(1, 14))
    assert {c for c, v in found.items() if v[0] is CompletionStatus.COMPLETED} == {1, 2, 3, 4, 5}
    assert all(found[c] == (CompletionStatus.NOT_STARTED, None, None) for c in range(6, 14))


def test_a_user_moodle_does_not_track_has_not_started() -> None:
    """Moodle 4.5.6 answers a non-enrolled user with states and istrackeduser false."""
    name = "ws-error-user-not-enrolled-activities-completion.json"
    statuses = parse_activities_completion(body(name))
    assert [s.tracked_user for s in statuses] == [False, False]

    answer = body(name)
    answer["statuses"][0].update(state=1, timecompleted=1795716741)  # must not count
    again = parse_activities_completion(answer)[0]
    assert activity_record("GB080", again, LONDON, "m").status is CompletionStatus.NOT_STARTED


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"timecompleted": 1795716741}, CompletionStatus.IN_PROGRESS),  # viewed / unticked
        (
            {"details": [{"rulename": "completionview", "rulevalue": {"status": 1}}]},
            CompletionStatus.IN_PROGRESS,
        ),
        ({}, CompletionStatus.NOT_STARTED),
    ],
)
def test_state_zero_is_in_progress_only_with_evidence(
    change: dict[str, object], expected: CompletionStatus
) -> None:
    answer = copy.deepcopy(body("ws-get_activities_completion_status-PGCERT-CL-student1.json"))
    row = answer["statuses"][5]
    assert row["state"] == 0
    row.update(change)

    status = parse_activities_completion(answer)[5]

    assert activity_record("GB085", status, LONDON, "m").status is expected


@pytest.mark.parametrize(
    ("name", "exception", "errorcode"),
    [
        ("ws-error-bad-token.json", "moodle_exception", "invalidtoken"),
        ("ws-error-function-not-in-service.json", "webservice_access_exception", "accessexception"),
        ("ws-error-missing-param.json", "invalid_parameter_exception", "invalidparameter"),
        ("ws-error-nonint-param.json", "invalid_parameter_exception", "invalidparameter"),
        ("ws-error-bad-field.json", "invalid_parameter_exception", "invalidparameter"),
        ("ws-error-no-criteria-PGCERT-CL.json", "moodle_exception", "nocriteriaset"),
        ("ws-error-unknown-course.json", "dml_missing_record_exception", "invalidrecord"),
        ("ws-error-unknown-function.json", "dml_missing_record_exception", "invalidrecord"),
        ("ws-error-unknown-user.json", "dml_missing_record_exception", "invaliduser"),
        ("ws-error-user-not-enrolled-course-completion.json", "moodle_exception", "usernotenroled"),
        ("ws-course-completion-admin-userid2.json", "moodle_exception", "notenroled"),
        ("ws-student-token-get_site_info.json", "webservice_access_exception", "accessexception"),
    ],
)
def test_recorded_errors_are_recognised(name: str, exception: str, errorcode: str) -> None:
    error = parse.moodle_error(body(name))

    assert error is not None
    assert (error.exception_name, error.errorcode) == (exception, errorcode)
    assert not error.transient


def test_normal_answers_are_not_errors() -> None:
    assert parse.moodle_error(body("ws-get_site_info.json")) is None
    assert parse.moodle_error(body("ws-get_contents-GB080.json")) is None


def test_database_errors_are_transient() -> None:
    read = parse.moodle_error(
        {"exception": "dml_read_exception", "errorcode": "dmlreadexception", "message": "x"}
    )
    namespaced = parse.moodle_error(
        {"exception": "core\\dml_read_exception", "errorcode": "other", "message": "x"}
    )

    assert read is not None and read.transient
    assert namespaced is not None and namespaced.transient


def recorded_error(name: str) -> parse.MoodleWsError:
    error = parse.moodle_error(body(name))
    assert error is not None
    return error


def test_bad_token_tells_the_admin_where_to_make_one() -> None:
    problem = service_problem(
        "core_webservice_get_site_info", recorded_error("ws-error-bad-token.json")
    )

    assert isinstance(problem, SourceConfigError) and problem.course_code is None
    assert "invalidtoken" in problem.message and "Manage tokens" in problem.message


def test_function_not_in_service_names_the_function() -> None:
    error = recorded_error("ws-error-function-not-in-service.json")

    problem = service_problem("core_completion_get_course_completion_status", error)

    assert problem is not None
    assert "Add core_completion_get_course_completion_status" in problem.message


def test_unknown_function_is_a_config_error_but_unknown_course_is_not_source_wide() -> None:
    function = recorded_error("ws-error-unknown-function.json")
    course = recorded_error("ws-error-unknown-course.json")

    assert service_problem("core_nosuch_function", function) is not None
    assert service_problem("core_completion_get_course_completion_status", course) is None


def test_no_criteria_names_the_course_and_each_code() -> None:
    errors = course_problem(
        recorded_error("ws-error-no-criteria-PGCERT-CL.json"), 2, ["GB080", "GB081"], 4
    )

    assert [e.course_code for e in errors] == ["GB080", "GB081"]
    assert all(isinstance(e, CourseUntrackable) for e in errors)
    assert errors[0].message.startswith(
        "GB080's Moodle course has no completion criteria set: a Moodle teacher must set them "
        "in Course completion settings (course id 2"
    )
    assert errors[1].message.startswith("GB081's Moodle course")


def test_unknown_course_and_unknown_user() -> None:
    (course,) = course_problem(recorded_error("ws-error-unknown-course.json"), 999, ["GB080"], 4)
    assert isinstance(course, SourceConfigError)
    assert "no course with id 999" in course.message

    with pytest.raises(SourceConfigError, match="no user with id 999") as raised:
        course_problem(recorded_error("ws-error-unknown-user.json"), 3, ["GB080"], 999)
    assert raised.value.course_code is None


def test_other_refusals_stay_plain_errors_for_the_course() -> None:
    (error,) = course_problem(recorded_error("ws-error-bad-field.json"), 3, ["GB080"], 4)

    assert type(error) is SourceError and error.course_code == "GB080"
    assert "invalidparameter" in error.message


def test_courses() -> None:
    everything = parse.parse_courses(body("ws-get_courses_by_field-all.json"))
    (gb084,) = parse.parse_courses(body("ws-get_courses_by_field-idnumber-GB084.json"))

    assert [c.id for c in everything] == list(range(1, 16))
    assert {c.shortname: c.id for c in everything}["GB092"] == 15
    assert (gb084.id, gb084.shortname, gb084.idnumber, gb084.completion_enabled) == (
        7,
        "GB084",
        "GB084",
        True,
    )
    assert [c.id for c in parse.parse_courses(body("ws-get_courses_by_field-ids.json"))] == [3, 4]


def test_contents_give_each_code_its_cmid() -> None:
    modules = parse.parse_contents(body("ws-get_contents-PGCERT-CL.json"))
    by_code = {m.name.split()[0]: m for m in modules if m.name.startswith("GB")}

    assert by_code["GB080"].cmid == 1 and by_code["GB092"].cmid == 13
    assert (by_code["GB080"].completion, by_code["GB090"].completion) == (2, 1)
    lti = next(m for m in modules if m.modname == "lti")
    assert (lti.cmid, lti.section, lti.completion) == (40, 0, 0)


def test_site_info_lists_the_service_functions() -> None:
    info = parse.parse_site_info(body("ws-get_site_info-post.json"))

    assert (info.user_id, info.release) == (2, "4.5.6 (Build: 20250811)")
    assert "core_completion_get_activities_completion_status" in info.functions


def test_unexpected_shapes_are_source_errors() -> None:
    with pytest.raises(parse.MoodleFormatError):
        parse_course_completion({"warnings": []})
    with pytest.raises(parse.MoodleFormatError):
        parse_activities_completion({"statuses": [{"cmid": "x", "state": 1}]})


def test_parameters_are_encoded_as_php_form_fields() -> None:
    fields = encode_params(
        {
            "courseid": 3,
            "values": [2, 5],
            "options": [{"name": "excludemodules", "value": True}],
            "empty": None,
        }
    )

    assert fields == [
        ("courseid", "3"),
        ("values[0]", "2"),
        ("values[1]", "5"),
        ("options[0][name]", "excludemodules"),
        ("options[0][value]", "1"),
        ("empty", ""),
    ]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://moodle.example", "https://moodle.example/webservice/rest/server.php"),
        ("https://moodle.example/lms/", "https://moodle.example/lms/webservice/rest/server.php"),
        (
            "https://moodle.example/webservice/rest/server.php",
            "https://moodle.example/webservice/rest/server.php",
        ),
    ],
)
def test_rest_endpoint(given: str, expected: str) -> None:
    assert rest_endpoint(given) == expected
