"""The staff pages' forms (CSRF-protected) and the CSV import of module start dates."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.support.lti import Launcher, without_binding
from tests.support.pathway_web import Opened, audit_rows, csrf_token, open_tool, parse_html

CSV = b"student,module,start_date\n*,B832,2027-05-30\n"


def flashes(page: str) -> list[tuple[str, str]]:
    """(role, text) of the messages shown after a form was posted."""
    shown = parse_html(page).find_all("p", cls="panel")
    return [(p.attrs["role"], p.text) for p in shown if p.classes & {"error", "next"}]


def cohort_dates(teacher: Opened) -> dict[str, str | None]:
    body = teacher.client.get("/api/context/module-starts", headers=teacher.bearer).get_json()
    return {m["code"]: m["start_date"] for m in body["modules"]}


def test_forms_post_with_the_csrf_token(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    token = csrf_token(teacher.page)
    saved = teacher.client.post(
        "/staff/module-starts", data={"csrf_token": token, "B832": "2027-05-30", "B833": ""}
    )
    assert saved.status_code == 302 and without_binding(saved.headers["Location"]) == "/staff/"
    page = teacher.client.get("/staff/").get_data(as_text=True)
    assert flashes(page) == [("status", "Start dates saved.")]
    assert parse_html(page).find("input", id="start-B832").attrs["value"] == "2027-05-30"
    assert cohort_dates(teacher) == {"B832": "2027-05-30", "B833": None}

    bad = teacher.client.post(
        "/staff/module-starts",
        data={"csrf_token": token, "B832": "tomorrow"},
        follow_redirects=True,
    )
    assert flashes(bad.get_data(as_text=True)) == [
        ("alert", "B832: “tomorrow” is not a date; write it as 31/12/2026 or 2026-12-31.")
    ]
    assert cohort_dates(teacher)["B832"] == "2027-05-30"

    chosen = teacher.client.post(
        "/staff/qualification",
        data={"csrf_token": token, "qualification": "PGCERT-CL"},
        follow_redirects=True,
    )
    assert flashes(chosen.get_data(as_text=True)) == [
        ("status", "This course now tracks the chosen qualification.")
    ]

    student = open_tool(launcher, "student1")
    attempt = teacher.client.post(
        "/staff/students/1001/module-starts",
        data={"csrf_token": token, "module": "B832", "start_date": "2027-10-31", "reason": "late"},
    )
    assert attempt.status_code == 302
    assert without_binding(attempt.headers["Location"]) == "/staff/students/1001"
    preview = teacher.client.get("/staff/students/1001").get_data(as_text=True)
    assert "B832 attempt 1: start 31 October 2027 (late)" in preview
    own = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    assert own["modules"][0]["start_date"] == "2027-10-31"
    assert [r["action"] for r in audit_rows(launcher.app)] == [
        "module_start.cohort",
        "qualification.choose",
        "module_start.student",
    ]


def test_the_attempt_form_reports_on_the_student_preview(launcher: Launcher) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    preview = teacher.client.get("/staff/students/1001").get_data(as_text=True)
    form = {"csrf_token": csrf_token(preview), "module": "B832", "reason": "resit"}
    path = "/staff/students/1001/module-starts"
    bad = teacher.client.post(
        path, data={**form, "start_date": "2027-13-01"}, follow_redirects=True
    )
    assert flashes(bad.get_data(as_text=True)) == [
        ("alert", "B832: “2027-13-01” is not a date; write it as 31/12/2026 or 2026-12-31.")
    ]
    good = teacher.client.post(
        path, data={**form, "start_date": "2028-05-30"}, follow_redirects=True
    )
    page = good.get_data(as_text=True)
    assert flashes(page) == [("status", "The student's new start date is recorded.")]
    assert "B832 attempt 1: start 30 May 2028 (resit)" in page
    assert flashes(teacher.client.get("/staff/").get_data(as_text=True)) == []


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/staff/module-starts", {"B832": "2027-05-30"}),
        ("/staff/qualification", {"qualification": "PGCERT-CL"}),
        ("/staff/students/1001/module-starts", {"module": "B832", "start_date": "2027-05-30"}),
        ("/staff/module-starts/import", {"file": CSV}),
    ],
)
def test_forms_without_the_csrf_token_are_refused(
    launcher: Launcher, path: str, data: dict[str, Any]
) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    for token in (None, "forged-token"):
        form = dict(data) if token is None else {**data, "csrf_token": token}
        if "file" in form:
            form["file"] = (io.BytesIO(CSV), "starts.csv")
        response = teacher.client.post(path, data=form)
        assert response.status_code == 400
        assert "The form expired" in response.get_data(as_text=True)
    assert cohort_dates(teacher) == {"B832": None, "B833": None}
    assert audit_rows(launcher.app) == []


def import_csv(teacher: Opened, text: str) -> list[tuple[str, str]]:
    response = teacher.client.post(
        "/staff/module-starts/import",
        data={
            "csrf_token": csrf_token(teacher.page),
            "file": (io.BytesIO(text.encode()), "starts.csv"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    return flashes(response.get_data(as_text=True))


def test_csv_import_applies_a_good_file(launcher: Launcher) -> None:
    student = open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    good = (
        "\ufeffStudent,Module,Start_Date,Reason\n"  # as Excel saves it
        "*,B832,2027-05-30,\n"
        "1001,B833,2027-10-31,late registration\n\n"
    )
    assert import_csv(teacher, good) == [("status", "Imported 2 start dates.")]
    assert cohort_dates(teacher) == {"B832": "2027-05-30", "B833": None}
    own = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    assert [(m["start_date"], m["deadline"]) for m in own["modules"]] == [
        ("2027-05-30", "2027-11-30"),
        ("2027-10-31", "2028-04-30"),
    ]
    rows = audit_rows(launcher.app)
    assert [(r["action"], r["subject"], r["reason"]) for r in rows] == [
        ("module_start.cohort", "B832", None),
        ("module_start.student", "B833", "late registration"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "student,module,start_date\n*,B832,2027-05-30\n1001,B833,31-10-2027\n9999,B833,2027-10-31\n",
            [
                "Line 3: Start date: “31-10-2027” is not a date",
                "Line 4: No student “9999” in this course",
            ],
        ),
        (
            "student,module,start_date\n*,B832,2027-05-30\n*,B834,2027-05-30\n",
            ["Line 3: “B834” is not a module"],
        ),
        ("student,module\n*,B832\n", ["Line 1: missing column(s): start date."]),
        ("student,module,start_date\n", ["The file has no data rows."]),
    ],
    ids=["bad date and unknown student", "unknown module", "missing column", "empty"],
)
def test_csv_import_of_a_bad_file_writes_nothing(
    launcher: Launcher, text: str, expected: list[str]
) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    ((role, message),) = import_csv(teacher, text)
    assert role == "alert" and message.startswith("Nothing was imported.")
    for part in expected:
        assert part in message
    assert cohort_dates(teacher) == {"B832": None, "B833": None}
    preview = teacher.client.get("/api/context/students/1001/checklist", headers=teacher.bearer)
    assert preview.get_json()["attempts"] == []
    assert audit_rows(launcher.app) == []
