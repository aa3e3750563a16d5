"""The sandbox's demo: people's roles in words on its home page, and a student (Grace Okafor,
student4) whose completion in the sandbox's Moodle meets B832's CPD requirement, so that a
teacher records her B832 result with no override reason."""

from __future__ import annotations

import pytest

from lti_tool.lti.claims import normalise_roles
from lti_tool.sandbox import SandboxServer
from lti_tool.sandbox.demo_data import B832_COMPULSORY, COMPLETE, demo_lms
from lti_tool.sandbox.demo_people import DEMO_USERS, role_in_words
from tests.support.class_refresh import with_moodle_source as moodle_source
from tests.support.lti import Launcher, launch_token

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    ("role", "words"),
    [
        (LIS + "membership#Learner", "Student"),
        ("Learner", "Student"),
        (LIS + "membership#Instructor", "Teacher/Instructor"),
        (LIS + "membership/Instructor#TeachingAssistant", "Teaching assistant"),
        (LIS + "membership#ContentDeveloper", "Course designer"),
        (LIS + "institution/person#Administrator", "Site administrator"),
        (LIS + "system/person#SysAdmin", "System administrator"),
        ("http://example.org/roles#Invigilator", "Invigilator"),
    ],
)
def test_roles_in_words(role: str, words: str) -> None:
    assert role_in_words(role) == words


def test_the_sandbox_home_names_roles_in_words(sandbox_server: SandboxServer) -> None:
    page = sandbox_server.app.test_client().get("/").get_data(as_text=True)
    assert "purl.imsglobal.org" not in page and "membership#" not in page
    for user in DEMO_USERS.values():
        row = page.split(f"<td>{user.name}</td>", 1)[1].split("</tr>", 1)[0]
        expected = "Student" if "Learner" in normalise_roles(user.roles).names else "Teacher"
        assert expected in row, (user.key, row)
    assert "<td>Ada Admin</td>\n      <td>Site administrator, Teacher/Instructor</td>" in page
    assert 'href="/launch/student4"' in page


def test_student4_has_every_compulsory_b832_course_complete_in_the_demo_lms() -> None:
    lms = demo_lms()
    for code in B832_COMPULSORY:
        course = next(c for c in lms.courses.values() if c.shortname == code)
        assert 1005 in course.students
        assert all(lms.state(1005, cmid)[0] >= COMPLETE for cmid in course.criteria), code
    assert DEMO_USERS["student4"].sub == "1005"


@pytest.fixture
def with_moodle_source(launcher: Launcher) -> Launcher:
    return moodle_source(launcher)


def test_b832_cpd_complete_and_a_result_without_override(with_moodle_source: Launcher) -> None:
    launcher = with_moodle_source
    student = launcher.app.test_client()
    landed = launcher.launch(student, "student4")
    assert landed.status_code == 200
    page = landed.get_data(as_text=True)
    assert "Grace Okafor" in page
    assert "CPD complete: eligible for the assessment" in page
    checklist = student.get(
        "/api/me/checklist", headers={"Authorization": f"Bearer {launch_token(page)}"}
    ).get_json()
    b832 = next(m for m in checklist["modules"] if m["code"] == "B832")
    assert b832["cpd_complete"] is True and b832["hours_completed"] == b832["hours_required"]

    teacher = launcher.app.test_client()
    token = launch_token(launcher.launch(teacher, "teacher1").get_data(as_text=True))
    headers = {"Authorization": f"Bearer {token}"}
    saved = teacher.put(
        "/api/context/results/B832/1005", json={"score": 72, "outcome": "pass"}, headers=headers
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["outcome"] == "pass"
    # The same request for a student whose CPD is not complete still needs a reason.
    refused = teacher.put(
        "/api/context/results/B832/1003", json={"score": 72, "outcome": "pass"}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "cpd_incomplete"
