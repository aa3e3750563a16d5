"""Staff rights come from the course (context) role, not from institution roles: Canvas sends
``institution/person#Instructor`` to a student who teaches some other course in the account."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.lti import claims as c
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, csrf_token, open_tool

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
# What Canvas sends for a student of this course who teaches another course of the account.
CANVAS_STUDENT_WHO_TEACHES_ELSEWHERE = [
    LIS + "institution/person#Instructor",
    LIS + "membership#Learner",
    LIS + "system/person#User",
]
STAFF_ONLY = "This is for course staff only."
CLASSMATE = ("Priya", "Patel")  # student2 of the demo course


def canvas_student(launcher: Launcher) -> Opened:
    changes: dict[str, Any] = {
        c.ROLES: CANVAS_STUDENT_WHO_TEACHES_ELSEWHERE,
        c.CUSTOM: {"canvas_user_id": "501", "canvas_course_id": "77"},
    }
    return open_tool(launcher, "student1", changes)


def assert_refused(response: Any, what: str) -> None:
    assert response.status_code == 403, (what, response.status_code)
    body = response.get_data(as_text=True)
    assert STAFF_ONLY in body, what
    assert not any(name in body for name in CLASSMATE), what
    assert "@example.org" not in body, what


def test_a_canvas_learner_with_an_institution_instructor_role_gets_the_student_page(
    launcher: Launcher,
) -> None:
    student = canvas_student(launcher)
    info = student.client.get("/api/session", headers=student.bearer).get_json()
    assert info["is_staff"] is False
    assert 'class="module"' in student.page  # their own checklist
    assert "Course settings" not in student.page
    assert student.client.get("/me").status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/staff/", "/staff/class/", "/staff/class/export.csv", "/staff/students/1002"],
)
def test_a_canvas_learner_is_refused_the_staff_pages(launcher: Launcher, path: str) -> None:
    open_tool(launcher, "student2")
    student = canvas_student(launcher)
    assert_refused(student.client.get(path), path)


def test_a_canvas_learner_is_refused_the_staff_forms(launcher: Launcher) -> None:
    open_tool(launcher, "student2")
    student = canvas_student(launcher)
    # A valid form token (the student page has no form; the sign-in page of the same browser
    # session gives one), so that the role check is what refuses.
    token = csrf_token(student.client.get("/admin/login").get_data(as_text=True))
    forms = {
        "/staff/class/results/1002": {"module": "B832", "result": "pass"},
        "/staff/class/release": {"module": "B832"},
        "/staff/class/sync": {"module": "B832"},
        "/staff/module-starts": {"B832": "2027-05-30"},
    }
    for path, form in forms.items():
        response = student.client.post(path, data={**form, "csrf_token": token})
        assert_refused(response, path)


def test_a_canvas_learner_is_refused_the_staff_apis(launcher: Launcher) -> None:
    open_tool(launcher, "student2")
    student = canvas_student(launcher)
    calls = [
        ("GET", "/api/context/students", None),  # the roster, with names and emails
        ("GET", "/api/context/students/1002/checklist", None),
        ("PUT", "/api/context/results/B832/1002", {"result": "pass"}),
        ("PUT", "/api/context/results/B832/1001", {"result": "pass"}),  # their own result
        ("POST", "/api/context/results/release", {"module": "B832"}),
        ("POST", "/api/context/grade-sync", {"module": "B832"}),
        ("POST", "/api/context/roster/refresh", None),
        ("PUT", "/api/context/module-starts", {"B832": "2027-05-30"}),
    ]
    for method, path, body in calls:
        response = student.client.open(path, method=method, json=body, headers=student.bearer)
        assert_refused(response, f"{method} {path}")
        assert response.get_json()["error"]["code"] == "staff_only"
        assert response.get_json()["error"]["correlation_id"]


def test_the_teacher_of_the_course_keeps_the_staff_view(launcher: Launcher) -> None:
    # The same roles with the course role Instructor: staff (the institution role changes
    # nothing either way).
    teacher = open_tool(
        launcher,
        "teacher1",
        {c.ROLES: [LIS + "institution/person#Student", LIS + "membership#Instructor"]},
    )
    assert teacher.client.get("/staff/class/").status_code == 200
    roster = teacher.client.get("/api/context/students", headers=teacher.bearer)
    assert roster.status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "course_role",
    [
        "urn:lti:role:ims/lis/Learner",  # LTI 1.1 spelling
        "Student",
        LIS + "membership#Observer",
        LIS + "membership/Learner",  # a sub-role URI without its sub-role
    ],
)
def test_a_course_role_the_tool_does_not_know_keeps_institution_roles_out(
    launcher: Launcher, course_role: str
) -> None:
    """Any course role, recognised or not, means the launch is about this course: the
    institution Instructor role (from another course of the account) does not make staff."""
    roles = [LIS + "institution/person#Instructor", course_role]
    member = open_tool(launcher, "student1", {c.ROLES: roles})
    info = member.client.get("/api/session", headers=member.bearer).get_json()
    assert info["is_staff"] is False
    assert_refused(member.client.get("/staff/"), "/staff/")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "roles",
    [
        # LTI 1.3 Core A.2.2: institution roles say what someone is in the institution, not
        # in this course. A platform that sends only them (no context role) has said nothing
        # about this course: no staff rights here.
        [LIS + "institution/person#Instructor"],
        [LIS + "institution/person#Faculty"],
        [LIS + "institution/person#Instructor", LIS + "system/person#User"],
        [LIS + "institution/person#Instructor", "http://example.com/roles#Wizard"],
    ],
)
def test_an_institution_instructor_role_alone_is_no_staff_right_in_the_course(
    launcher: Launcher, roles: list[str]
) -> None:
    open_tool(launcher, "student2")
    member = open_tool(launcher, "student1", {c.ROLES: roles})
    info = member.client.get("/api/session", headers=member.bearer).get_json()
    assert info["is_staff"] is False
    assert_refused(member.client.get("/staff/class/"), "/staff/class/")
    response = member.client.get("/api/context/students", headers=member.bearer)
    assert_refused(response, "/api/context/students")
