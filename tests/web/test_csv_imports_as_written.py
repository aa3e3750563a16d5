"""Staff CSV imports as tutors really write them: blank lines, a row repeated or a file
uploaded twice, Excel's semicolon files with decimal commas, a member who is not a student."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.persistence.models import (
    AssessmentResultRow,
    CompletionRecord,
    StudentModuleStart,
    User,
)
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, csrf_token, open_tool, upload_csv


def _teacher(launcher: Launcher) -> Opened:
    open_tool(launcher, "student1")
    open_tool(launcher, "student2")
    return open_tool(launcher, "teacher1")


def _import_results(teacher: Opened, text: str) -> tuple[int, Any]:
    response = teacher.client.post(
        "/api/context/results/import",
        data=text.encode("utf-8"),
        headers={**teacher.bearer, "Content-Type": "text/csv"},
    )
    body = response.get_json()
    return response.status_code, body.get("error", {}).get("message") or body


def test_a_blank_line_does_not_shift_the_line_numbers_of_later_errors(launcher: Launcher) -> None:
    # Line 1 header, line 2 a good row, line 3 blank, line 4 the bad module. The tutor is
    # told "Line 3", the blank line, and looks for the mistake in the wrong place.
    teacher = _teacher(launcher)
    text = (
        "student,module,score,outcome,override_reason\n"
        "1001,B832,74,pass,APL\n"
        "\n"
        "1002,B999,60,pass,APL\n"
    )
    status, message = _import_results(teacher, text)
    assert status == 422
    assert "Line 4: “B999” is not a module" in message, message


def test_one_student_and_module_twice_in_a_results_file_is_refused(launcher: Launcher) -> None:
    # The same student (by id, then by email) and module with two different marks: the file
    # is "imported 2 results", the first mark is silently replaced by the second.
    teacher = _teacher(launcher)
    text = (
        "student,module,score,outcome,override_reason\n"
        "1001,B832,74,pass,APL\n"
        "sam.student@example.org,B832,20,fail,APL\n"
    )
    status, message = _import_results(teacher, text)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        saved = list(session.scalars(select(AssessmentResultRow)))
    assert status == 422, (status, message, [(r.score, r.outcome) for r in saved])
    assert "Line 3" in message and "line 2" in message.lower()
    assert saved == []


def test_importing_the_same_start_date_file_twice_records_no_resit(launcher: Launcher) -> None:
    # A start-date file uploaded a second time (or a row repeated in it) gives every student
    # named an "attempt 2" (a resit or late registration) with the same date.
    teacher = _teacher(launcher)
    text = "student,module,start date\n1001,B833,31/10/2027\n"
    assert upload_csv(teacher, "/staff/module-starts/import", text) == ["Imported 1 start date."]
    assert upload_csv(teacher, "/staff/module-starts/import", text) == [
        "Imported 0 start dates. 1 line gave the start date already recorded: no change."
    ]
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        attempts = [
            (row.module_code, row.attempt, row.start_date.isoformat())
            for row in session.scalars(select(StudentModuleStart))
        ]
    assert attempts == [("B833", 1, "2027-10-31")]


def test_a_decimal_comma_score_in_an_excel_semicolon_file_is_read(launcher: Launcher) -> None:
    # csv_files._delimiter reads ";" files because Excel writes them where the decimal
    # separator is a comma; the same Excel writes 72.5 as "72,5", which is refused.
    teacher = _teacher(launcher)
    text = "student;module;score;outcome;override reason\n1001;B832;72,5;pass;APL\n"
    status, message = _import_results(teacher, text)
    assert status == 200, message
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert [r.score for r in session.scalars(select(AssessmentResultRow))] == [72.5]


def test_completion_and_start_files_refuse_staff_as_they_refuse_them_for_results(
    launcher: Launcher,
) -> None:
    # The results import refuses anyone who is not an active student (grading/results.py
    # roster_student); the completion and start-date imports record rows for the teacher.
    teacher = _teacher(launcher)
    completions = (
        "student,course,status,completed on\ntess.teacher@example.org,GB080,completed,01/02/2026\n"
    )
    starts = "student,module,start date\ntess.teacher@example.org,B833,31/10/2027\n"
    upload_csv(teacher, "/staff/completions/import", completions, reason="certificates")
    upload_csv(teacher, "/staff/module-starts/import", starts)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        tess = session.scalar(select(User.id).where(User.sub == "2001"))
        held = [
            *session.scalars(
                select(CompletionRecord.course_code).where(CompletionRecord.user_pk == tess)
            ),
            *session.scalars(
                select(StudentModuleStart.module_code).where(StudentModuleStart.user_pk == tess)
            ),
        ]
    assert held == []


def test_a_new_start_date_in_a_second_file_is_a_new_attempt(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    upload_csv(
        teacher, "/staff/module-starts/import", "student,module,start date\n1001,B833,31/10/2027\n"
    )
    said = upload_csv(
        teacher,
        "/staff/module-starts/import",
        "student,module,start date\n1001,B833,30/05/2028\n1002,B833,31/10/2027\n",
    )
    assert said == ["Imported 2 start dates."]
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        attempts = sorted(
            (row.user_pk, row.attempt, row.start_date.isoformat())
            for row in session.scalars(select(StudentModuleStart))
        )
    # Sam's new date is his attempt 2; Priya's first date is her attempt 1.
    assert [a[1:] for a in attempts] == [(1, "2027-10-31"), (2, "2028-05-30"), (1, "2027-10-31")]


@pytest.mark.parametrize(
    ("path", "text", "form"),
    [
        (
            "/staff/module-starts/import",
            "student,module,start date\n"
            "1001,B833,31/10/2027\n"
            "sam.student@example.org,B833,30/05/2028\n",
            {},
        ),
        (
            "/staff/completions/import",
            "student,course,status,completed on\n"
            "1001,GB080,completed,01/02/2026\n"
            "sam.student@example.org,GB080,in_progress,\n",
            {"reason": "certificates"},
        ),
    ],
)
def test_one_student_twice_for_the_same_thing_is_refused_with_both_lines(
    launcher: Launcher, path: str, text: str, form: dict[str, str]
) -> None:
    teacher = _teacher(launcher)
    said = upload_csv(teacher, path, text, **form)
    assert len(said) == 1 and "Nothing was imported" in said[0], said
    assert "Line 3:" in said[0] and "is already on line 2; keep one of them" in said[0], said
    assert "Sam" in said[0], said
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert list(session.scalars(select(StudentModuleStart))) == []
        assert (
            list(
                session.scalars(
                    select(CompletionRecord.course_code).where(CompletionRecord.source == "manual")
                )
            )
            == []
        )


def test_the_staff_forms_record_nothing_for_a_teacher(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    token = csrf_token(teacher.page)
    teacher.client.post(
        "/staff/students/2001/completions",
        data={
            "csrf_token": token,
            "course_code": "GB080",
            "status": "completed",
            "completed_at": "2026-02-01",
            "reason": "certificate",
        },
    )
    teacher.client.post(
        "/staff/students/2001/module-starts",
        data={"csrf_token": token, "B833": "2027-10-31", "reason": "late registration"},
    )
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        tess = session.scalar(select(User.id).where(User.sub == "2001"))
        assert (
            list(session.scalars(select(CompletionRecord).where(CompletionRecord.user_pk == tess)))
            == []
        )
        assert (
            list(
                session.scalars(
                    select(StudentModuleStart).where(StudentModuleStart.user_pk == tess)
                )
            )
            == []
        )
