"""The Moodle fake answers the recorded requests as the real Moodle 4.5.6 did.

Each recorded request is replayed (GET, as recorded) with the recording's user ids translated to
the sandbox's: admin 2, teacher 3, students 4-6 and the outsider 7 are 3001, 2001, 1001-1003 and
1004. Errors must match byte for byte; normal answers field for field where the data agree.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from lti_tool.sandbox import demo_data as demo
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from lti_tool.sandbox.moodle_ws_functions import WsToken
from tests.integration.lms.conftest import LiveLms
from tests.unit.lms.recorded import exchange

USERS = {2: demo.ADMIN, 3: demo.TEACHER, 4: 1001, 5: 1002, 6: 1003, 7: demo.OUTSIDER}
RECORDED_SITE = "http://127.0.0.1:8080"


def replay(lms: LiveLms, http: requests.Session, name: str) -> requests.Response:
    recorded = exchange(name)["request"]
    params: list[tuple[str, str]] = []
    for key, value in recorded["params"].items():
        if key == "wstoken":
            value = _token(name, lms)
        elif key == "userid" and isinstance(value, int):
            value = USERS.get(value, value)
        if isinstance(value, list):
            params.extend((f"{key}[{i}]", str(v)) for i, v in enumerate(value))
        else:
            params.append((key, str(value)))
    return http.get(lms.moodle_url + "/webservice/rest/server.php", params=params, timeout=5)


def _token(name: str, lms: LiveLms) -> str:
    if "bad-token" in name:
        return "not-a-real-token"
    if "student-token" in name:
        lms.moodle.tokens["student"] = WsToken(1001, functions=())
        return "student"
    return SANDBOX_TOKEN


@pytest.mark.parametrize(
    "name",
    [
        "ws-error-bad-token.json",
        "ws-error-bad-token-xml.json",
        "ws-error-function-not-in-service.json",
        "ws-error-missing-param.json",
        "ws-error-nonint-param.json",
        "ws-error-bad-field.json",
        "ws-error-no-criteria-PGCERT-CL.json",
        "ws-error-unknown-course.json",
        "ws-error-unknown-function.json",
        "ws-error-unknown-user.json",
        "ws-error-user-not-enrolled-course-completion.json",
        "ws-course-completion-admin-userid2.json",
        "ws-course-completion-teacher-userid3.json",
        "ws-student-token-get_site_info.json",
        "ws-student-token-own-completion.json",
    ],
)
def test_errors_match_byte_for_byte(lms: LiveLms, http: requests.Session, name: str) -> None:
    recorded = exchange(name)

    response = replay(lms, http, name)

    assert response.status_code == recorded["status"] == 200
    assert response.text == recorded["body"]
    assert response.headers["Content-Type"] == recorded["headers"]["Content-Type"]


def normalised(answer: Any, site: str = RECORDED_SITE) -> Any:
    """Site URLs and completion times aside (they differ by construction)."""
    text = json.dumps(answer).replace(site, RECORDED_SITE)
    return json.loads(re.sub(r'"timecompleted": [1-9][0-9]*', '"timecompleted": "T"', text))


@pytest.mark.parametrize(
    "name",
    [
        "ws-get_course_completion_status-GB080-student1-complete.json",
        "ws-get_course_completion_status-GB081-student2-inprogress.json",
        "ws-get_course_completion_status-GB082-student2-failed.json",
        "ws-get_course_completion_status-GB080-student3-nothing.json",
    ],
)
def test_course_completion_matches(lms: LiveLms, http: requests.Session, name: str) -> None:
    answer = replay(lms, http, name).json()

    assert normalised(answer, lms.moodle_url) == normalised(exchange(name)["body_json"])


ACTIVITY_FIELDS = (
    "cmid",
    "modname",
    "instance",
    "state",
    "tracking",
    "istrackeduser",
    "isautomatic",
    "isoverallcomplete",
)


@pytest.mark.parametrize(
    "name",
    [
        "ws-get_activities_completion_status-GB080-student1.json",
        "ws-get_activities_completion_status-GB082-student2.json",
        "ws-get_activities_completion_status-PGCERT-CL-student1.json",
        "ws-error-user-not-enrolled-activities-completion.json",
    ],
)
def test_activities_completion_matches(lms: LiveLms, http: requests.Session, name: str) -> None:
    """Rule ``details`` differ: recorded as 0 even for met rules; the fake tells the truth."""
    recorded = exchange(name)["body_json"]

    answer = replay(lms, http, name).json()

    assert answer["warnings"] == recorded["warnings"] == []
    assert [set(s) for s in answer["statuses"]] == [set(s) for s in recorded["statuses"]]
    assert [[s[f] for f in ACTIVITY_FIELDS] for s in answer["statuses"]] == [
        [s[f] for f in ACTIVITY_FIELDS] for s in recorded["statuses"]
    ]
    assert [bool(s["timecompleted"]) for s in answer["statuses"]] == [
        bool(s["timecompleted"]) for s in recorded["statuses"]
    ]


def test_courses_by_field_matches(lms: LiveLms, http: requests.Session) -> None:
    name = "ws-get_courses_by_field-idnumber-GB084.json"
    (recorded,) = exchange(name)["body_json"]["courses"]

    (course,) = replay(lms, http, name).json()["courses"]

    assert set(course) <= set(recorded)
    for field in ("id", "shortname", "idnumber", "fullname", "enablecompletion", "categoryid"):
        assert course[field] == recorded[field], field


def test_contents_match(lms: LiveLms, http: requests.Session) -> None:
    name = "ws-get_contents-PGCERT-CL.json"

    def activities(sections: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return [
            (s["section"], m["id"], m["name"], m["modname"], m["instance"], m["completion"])
            for s in sections
            for m in s["modules"]
            if m["modname"] == "url"
        ]

    answer = replay(lms, http, name).json()

    assert activities(answer) == activities(exchange(name)["body_json"])
    recorded_module = exchange(name)["body_json"][1]["modules"][0]
    assert set(answer[1]["modules"][0]) <= set(recorded_module)
    assert set(answer[1]["modules"][0]["completiondata"]) == set(recorded_module["completiondata"])


def test_site_info_matches(lms: LiveLms, http: requests.Session) -> None:
    name = "ws-get_site_info.json"
    recorded = exchange(name)["body_json"]

    answer = replay(lms, http, name).json()

    assert set(answer) <= set(recorded)
    assert answer["functions"] == recorded["functions"]
    assert answer["release"] == recorded["release"]


def test_site_info_in_moodles_default_xml(lms: LiveLms, http: requests.Session) -> None:
    name = "ws-get_site_info-xml-default-format.json"
    recorded = exchange(name)

    response = replay(lms, http, name)

    assert response.headers["Content-Type"] == recorded["headers"]["Content-Type"]
    recorded_functions = recorded["body"][recorded["body"].index('<KEY name="functions">') :]
    recorded_functions = recorded_functions[: recorded_functions.index("</MULTIPLE>")]
    assert recorded_functions in response.text
    assert response.text.startswith(
        '<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<SINGLE>\n'
    )
