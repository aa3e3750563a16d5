"""Who may see and change what: a student sees only their own checklist, staff only their own
course's students, and nobody anything without a valid launch session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from lti_tool.lti import claims as c
from lti_tool.lti.sessions import session_cookie_name
from lti_tool.sandbox.demo_people import DEMO_CONTEXT
from tests.support.lti import REMOVE, Launcher
from tests.support.pathway_web import Opened, add_completions, audit_rows, csrf_token, open_tool

STARTS = "/api/context/module-starts"


def other_course(context_id: str = "another-course") -> dict[str, Any]:
    """Claims of a launch in another course of the same platform (no roster service)."""
    return {
        c.CONTEXT: {**DEMO_CONTEXT, "id": context_id, "title": "Another course"},
        c.NRPS: REMOVE,
    }


def staff_dates(teacher: Opened) -> dict[str, str | None]:
    body = teacher.client.get(STARTS, headers=teacher.bearer).get_json()
    return {m["code"]: m["start_date"] for m in body["modules"]}


def test_a_student_cannot_read_any_checklist_but_their_own(launcher: Launcher) -> None:
    student = open_tool(launcher, "student1")
    open_tool(launcher, "student2")
    add_completions(launcher.app, "1002", {"GB080": ("completed", None, dt.date(2026, 3, 1))})
    for sub in ("1002", "1001", "9999"):
        for headers in (student.bearer, {}):  # bearer token, then the session cookie
            response = student.client.get(f"/api/context/students/{sub}/checklist", headers=headers)
            assert response.status_code == 403, (sub, headers)
            assert response.get_json()["error"]["code"] == "staff_only"
            assert "Priya" not in response.get_data(as_text=True)
    own = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    assert own["sources"] == []  # student2's record is not in student1's checklist


@pytest.mark.parametrize("path", ["/staff/", "/staff/students/1002", "/staff/students/1001"])
def test_staff_pages_refuse_a_student_session(launcher: Launcher, path: str) -> None:
    open_tool(launcher, "student2")
    student = open_tool(launcher, "student1")
    response = student.client.get(path)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "This is for course staff only." in page and "Priya" not in page


def test_a_student_cannot_change_course_settings(launcher: Launcher) -> None:
    open_tool(launcher, "student2")
    student = open_tool(launcher, "student1")
    attempts = [
        ("GET", STARTS, None),
        ("PUT", STARTS, {"B832": "2027-05-30"}),
        ("PUT", f"{STARTS}/1001", {"B832": "2027-05-30", "reason": "self-service"}),
        ("PUT", f"{STARTS}/1002", {"B832": "2027-05-30"}),
        ("PUT", "/api/context/qualification", {"code": "PGCERT-CL"}),
    ]
    for method, path, body in attempts:
        response = student.client.open(path, method=method, json=body, headers=student.bearer)
        assert response.status_code == 403, (method, path)
    # The staff forms: refused before any change (the student has no form token either).
    for path in ("/staff/module-starts", "/staff/students/1001/module-starts"):
        form = {"B832": "2027-05-30", "module": "B832", "start_date": "2027-05-30"}
        assert student.client.post(path, data=form).status_code in (400, 403)
    teacher = open_tool(launcher, "teacher1")
    assert staff_dates(teacher) == {"B832": None, "B833": None}
    assert student.client.get("/api/me/checklist").get_json()["modules"][0]["start_date"] is None
    assert audit_rows(launcher.app) == []


def test_staff_of_another_course_cannot_reach_this_courses_students(launcher: Launcher) -> None:
    open_tool(launcher, "student2")  # in the demo course
    # Someone only in the other course (a sub the demo course's roster does not list either).
    outsider = {**other_course(), "sub": "5005", "name": "Olga Outsider"}
    open_tool(launcher, "student3", outsider)
    mine = open_tool(launcher, "teacher1")
    theirs = open_tool(launcher, "admin", other_course())
    for sub, status in (("1002", 200), ("5005", 404)):
        response = mine.client.get(f"/api/context/students/{sub}/checklist", headers=mine.bearer)
        assert response.status_code == status, sub
    own_student = theirs.client.get("/api/context/students/5005/checklist", headers=theirs.bearer)
    assert own_student.get_json()["student"]["name"] == "Olga Outsider"

    requests = [
        ("GET", "/api/context/students/1002/checklist", None),
        ("PUT", f"{STARTS}/1002", {"B832": "2027-05-30", "reason": "probe"}),
        ("GET", "/staff/students/1002", None),
    ]
    for method, path, body in requests:
        response = theirs.client.open(path, method=method, json=body, headers=theirs.bearer)
        assert response.status_code == 404, (method, path)
        assert "Priya" not in response.get_data(as_text=True)
    # Their course's dates are their own.
    theirs.client.put(STARTS, json={"B832": "2030-05-30"}, headers=theirs.bearer)
    assert staff_dates(mine) == {"B832": None, "B833": None}
    preview = mine.client.get("/api/context/students/1002/checklist", headers=mine.bearer)
    assert preview.get_json()["attempts"] == []
    assert preview.get_json()["modules"][0]["start_date"] is None


@pytest.mark.parametrize("sub", ["9999", "0", "1001 ", "10010", "' OR 1=1 --", "%2e%2e"])
def test_guessed_subs_are_not_found(launcher: Launcher, sub: str) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    assert (
        teacher.client.get(
            f"/api/context/students/{sub}/checklist", headers=teacher.bearer
        ).status_code
        == 404
    )
    assert teacher.client.get(f"/staff/students/{sub}").status_code == 404
    put = teacher.client.put(f"{STARTS}/{sub}", json={"B832": "2027-05-30"}, headers=teacher.bearer)
    assert put.status_code == 404
    assert put.get_json()["error"]["code"] == "unknown_student"
    assert audit_rows(launcher.app) == []


@pytest.mark.parametrize(
    ("authorization", "put_status"),
    [
        ("Bearer forged-token", 401),
        ("Bearer " + "x" * 300, 401),
        ("Bearer ", 400),  # no real token: the cookie path, so CSRF first
        # Not a bearer token: a cookie request, so the CSRF check refuses a change first.
        ("Basic dGVhY2hlcjE6cGFzc3dvcmQ=", 400),
        (None, 400),
    ],
    ids=["forged", "too long", "empty bearer", "basic", "none"],
)
def test_the_api_needs_a_valid_session(
    launcher: Launcher, authorization: str | None, put_status: int
) -> None:
    open_tool(launcher, "student1")
    client = launcher.app.test_client()
    headers = {"Authorization": authorization} if authorization else {}
    for path in ("/api/me/checklist", "/api/context/students/1001/checklist", STARTS):
        response = client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="lti-tool"'
        assert response.get_json()["error"]["code"] == "no_session"
        assert "Sam" not in response.get_data(as_text=True)
    for path in (STARTS, f"{STARTS}/1001", "/api/context/qualification"):
        response = client.put(path, json={"B832": "2027-05-30", "code": "X"}, headers=headers)
        assert response.status_code == put_status, path
    assert audit_rows(launcher.app) == []


def test_pages_need_a_valid_session_cookie(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    for cookie in (None, "forged", "y" * 200):
        if cookie is not None:
            client.set_cookie(session_cookie_name("someLaunch1"), cookie)
        for path in ("/me", "/staff/", "/staff/students/1001"):
            response = client.get(path, headers={"X-LTI-Binding": "someLaunch1"})
            assert response.status_code == 401, (cookie, path)
            # A page (a reload, too) without its launch: plain words, no launch jargon.
            page = response.get_data(as_text=True)
            assert "Open the tool again from your course" in page
            assert "Sam" not in page


def test_cookie_authenticated_changes_need_the_csrf_header(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    body = {"B832": "2027-05-30"}
    refused = teacher.client.put(STARTS, json=body)  # the session cookie only
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf"
    assert staff_dates(teacher)["B832"] is None
    wrong = teacher.client.put(STARTS, json=body, headers={"X-CSRFToken": "not-the-token"})
    assert wrong.status_code == 400
    token = csrf_token(teacher.page)
    accepted = teacher.client.put(STARTS, json=body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200
    assert staff_dates(teacher)["B832"] == "2027-05-30"
