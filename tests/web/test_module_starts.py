"""Assessment-module start dates through the staff JSON API and launch presets: the cohort's
dates, per-student attempts, and the deadlines they give in each student's checklist."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.lti import claims as c
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, audit_rows, open_tool, user_pk

STARTS = "/api/context/module-starts"


def cohort(teacher: Opened) -> dict[str, str | None]:
    response = teacher.client.get(STARTS, headers=teacher.bearer)
    assert response.status_code == 200
    return {m["code"]: m["start_date"] for m in response.get_json()["modules"]}


def b832(person: Opened) -> tuple[str | None, str | None]:
    """(start, deadline) of B832 in the person's own checklist."""
    checklist = person.client.get("/api/me/checklist", headers=person.bearer).get_json()
    module = checklist["modules"][0]
    assert module["code"] == "B832"
    return module["start_date"], module["deadline"]


def test_staff_set_the_cohort_dates(launcher: Launcher) -> None:
    student = open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    assert cohort(teacher) == {"B832": None, "B833": None}
    response = teacher.client.put(
        STARTS, json={"B832": "2027-05-30", "B833": "2027-10-31"}, headers=teacher.bearer
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["qualification"] == "PGCERT-CL"
    assert body["modules"][0] == {
        "code": "B832",
        "title": "Leading health service delivery and improvement",
        "start_date": "2027-05-30",
    }
    assert cohort(teacher) == {"B832": "2027-05-30", "B833": "2027-10-31"}
    assert b832(student) == ("2027-05-30", "2027-11-30")

    teacher.client.put(STARTS, json={"B832": "2027-06-15"}, headers=teacher.bearer)
    teacher.client.put(STARTS, json={"B832": "2027-06-15"}, headers=teacher.bearer)  # no change
    assert cohort(teacher) == {"B832": "2027-06-15", "B833": "2027-10-31"}
    assert b832(student) == ("2027-06-15", "2027-12-15")
    rows = audit_rows(launcher.app)
    assert [(r["action"], r["subject"]) for r in rows] == [
        ("module_start.cohort", "B832"),
        ("module_start.cohort", "B833"),
        ("module_start.cohort", "B832"),
    ]
    assert rows[0]["old"] == {"start_date": None}
    assert rows[2]["old"] == {"start_date": "2027-05-30"}
    assert rows[2]["new"] == {"start_date": "2027-06-15", "source": "staff"}
    assert {r["actor_user_pk"] for r in rows} == {user_pk(launcher.app, "2001")}


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"B999": "2027-05-30"},
            "unknown_module",
            "“B999” is not a module of PGCERT-CL (B832, B833)",
        ),
        ({"B832": "31/02/2027"}, "bad_date", "B832: “31/02/2027” is not a date; write it as"),
        ({"B832": 20270530}, "bad_date", "B832: “20270530” is not a date"),
        ({"B832": "2028-01-01", "B833": "2027-02-30"}, "bad_date", "B833: “2027-02-30”"),
        ({"B832": "2028-01-01", "b833": "2027-10-31"}, "unknown_module", "“b833” is not a module"),
        ({}, "bad_body", "Enter a start date for at least one module (B832, B833)."),
        (["B832", "2028-01-01"], "bad_body", "Send an object of module codes to dates"),
    ],
    ids=[
        "unknown module",
        "impossible UK date",
        "number",
        "valid and impossible date",
        "valid and unknown key",
        "empty",
        "list",
    ],
)
def test_a_bad_body_is_refused_and_writes_nothing(
    launcher: Launcher, body: Any, code: str, message: str
) -> None:
    teacher = open_tool(launcher, "teacher1")
    set_b832 = teacher.client.put(STARTS, json={"B832": "2027-05-30"}, headers=teacher.bearer)
    assert set_b832.status_code == 200
    before = audit_rows(launcher.app)
    response = teacher.client.put(STARTS, json=body, headers=teacher.bearer)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code
    assert message in error["message"]
    assert error["correlation_id"] == response.headers["X-Request-ID"]
    assert cohort(teacher) == {"B832": "2027-05-30", "B833": None}
    assert audit_rows(launcher.app) == before


def test_a_body_that_is_not_json_is_refused(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    response = teacher.client.put(
        STARTS, data="B832=2027-05-30", content_type="text/plain", headers=teacher.bearer
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_json"
    assert cohort(teacher) == {"B832": None, "B833": None}


def test_per_student_attempts_move_only_that_students_deadline(launcher: Launcher) -> None:
    student, other = open_tool(launcher, "student1"), open_tool(launcher, "student2")
    teacher = open_tool(launcher, "teacher1")
    teacher.client.put(STARTS, json={"B832": "2027-05-30"}, headers=teacher.bearer)

    late = {"B832": "2027-10-31", "reason": "late registration"}
    first = teacher.client.put(f"{STARTS}/1001", json=late, headers=teacher.bearer)
    assert first.status_code == 200
    body = first.get_json()
    assert body["sub"] == "1001" and body["effective"] == {"B832": "2027-10-31"}
    assert [
        (a["module"], a["attempt"], a["start_date"], a["reason"]) for a in body["attempts"]
    ] == [("B832", 1, "2027-10-31", "late registration")]
    assert b832(student) == ("2027-10-31", "2028-04-30")

    resit = {"B832": "2028-05-30", "reason": "resit"}
    second = teacher.client.put(f"{STARTS}/1001", json=resit, headers=teacher.bearer).get_json()
    assert [a["attempt"] for a in second["attempts"]] == [1, 2]
    assert second["effective"] == {"B832": "2028-05-30"}
    assert b832(student) == ("2028-05-30", "2028-11-30")
    assert b832(other) == ("2027-05-30", "2027-11-30")

    # A later cohort change does not undo the student's own attempt.
    teacher.client.put(STARTS, json={"B832": "2027-06-15"}, headers=teacher.bearer)
    assert b832(student) == ("2028-05-30", "2028-11-30")
    assert b832(other) == ("2027-06-15", "2027-12-15")

    preview = teacher.client.get("/api/context/students/1001/checklist", headers=teacher.bearer)
    assert [a["start_date"] for a in preview.get_json()["attempts"]] == [
        "2027-10-31",
        "2028-05-30",
    ]
    page = teacher.client.get("/staff/students/1001").get_data(as_text=True)
    assert "B832 attempt 1: start 31 October 2027 (late registration)" in page
    assert "B832 attempt 2: start 30 May 2028 (resit)" in page
    student_rows = [r for r in audit_rows(launcher.app) if r["action"] == "module_start.student"]
    assert [(r["new"], r["reason"]) for r in student_rows] == [
        ({"attempt": 1, "start_date": "2027-10-31"}, "late registration"),
        ({"attempt": 2, "start_date": "2028-05-30"}, "resit"),
    ]
    assert {r["subject_user_pk"] for r in student_rows} == {user_pk(launcher.app, "1001")}


def test_a_bad_student_start_records_no_attempt(launcher: Launcher) -> None:
    student = open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    for body in ({"B999": "2027-10-31"}, {"B832": "soon"}, {"reason": "resit"}):
        response = teacher.client.put(f"{STARTS}/1001", json=body, headers=teacher.bearer)
        assert response.status_code == 422, body
    assert b832(student) == (None, None)
    preview = teacher.client.get("/api/context/students/1001/checklist", headers=teacher.bearer)
    assert preview.get_json()["attempts"] == []
    assert audit_rows(launcher.app) == []


def custom(**params: str) -> dict[str, Any]:
    return {c.CUSTOM: {"context_history": "", **params}}


def test_a_launch_presets_the_cohort_date_staff_have_not_set(launcher: Launcher) -> None:
    student = open_tool(launcher, "student1", custom(b832_start="2027-05-30"))
    teacher = open_tool(launcher, "teacher1")
    assert cohort(teacher) == {"B832": "2027-05-30", "B833": None}
    assert b832(student) == ("2027-05-30", "2027-11-30")
    (row,) = audit_rows(launcher.app)
    assert row["action"] == "module_start.cohort" and row["actor_user_pk"] is None
    assert row["new"] == {"start_date": "2027-05-30", "source": "launch"}

    teacher.client.put(STARTS, json={"B832": "2027-10-31"}, headers=teacher.bearer)
    again = open_tool(launcher, "student2", custom(b832_start="2027-05-30"))
    assert cohort(teacher) == {"B832": "2027-10-31", "B833": None}
    assert b832(again) == ("2027-10-31", "2028-04-30")


@pytest.mark.parametrize("value", ["$Canvas.course.startAt", "30/05/2027", "", "  "])
def test_a_preset_that_is_not_a_date_is_ignored(launcher: Launcher, value: str) -> None:
    student = open_tool(launcher, "student1", custom(b832_start=value, b833_start="2027-10-31"))
    teacher = open_tool(launcher, "teacher1")
    assert cohort(teacher) == {"B832": None, "B833": "2027-10-31"}
    assert b832(student) == (None, None)
