"""CSV files as a tutor saves them: students named by email or username as well as the LMS
user id, UK dates, headings in words, and Excel's semicolon-separated "CSV"."""

from __future__ import annotations

from tests.support.lti import Launcher
from tests.support.pathway_web import (
    Opened,
    audit_rows,
    open_tool,
    upload_csv,
)


def _teacher(launcher: Launcher) -> Opened:
    open_tool(launcher, "student1")
    open_tool(launcher, "student2")
    return open_tool(launcher, "teacher1")


def test_start_dates_by_email_with_semicolons_uk_dates_and_headings_in_words(
    launcher: Launcher,
) -> None:
    teacher = _teacher(launcher)
    text = "Student;Module;Start date;Reason\nsam.student@example.org;B833;31/10/2027;resit\n"
    assert upload_csv(teacher, "/staff/module-starts/import", text) == ["Imported 1 start date."]
    (row,) = [r for r in audit_rows(launcher.app) if r["action"].startswith("module_start")]
    assert row["new"]["start_date"] == "2027-10-31"
    assert row["reason"] == "resit"


def test_completions_by_username(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    text = "student,course,status,completed on\nstudent2,GB080,completed,01/02/2026\n"
    messages = upload_csv(teacher, "/staff/completions/import", text, reason="certificates")
    assert messages == ["Imported 1 completion record."]
    (row,) = [r for r in audit_rows(launcher.app) if r["action"] == "completion.manual"]
    assert row["new"]["completed_at"] == "2026-02-01"


def test_results_by_email_and_an_unknown_student_in_words(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    text = (
        "student,module,score,outcome,Override reason\n"
        "SAM.STUDENT@example.org,B832,74,pass,certificates checked\n"
    )
    assert upload_csv(teacher, "/staff/class/results/import", text) == ["Imported 1 result."]
    unknown = "student,module,score,outcome\nnobody@example.org,B832,74,pass\n"
    (message,) = upload_csv(teacher, "/staff/class/results/import", unknown)
    assert "Line 2: No student “nobody@example.org” in this course" in message
    assert "username or email" in message


def test_a_missing_column_is_named_in_words(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    text = "student,module,score\n1001,B832,1\n"
    (message,) = upload_csv(teacher, "/staff/class/results/import", text)
    assert message == "Nothing was imported. Line 1: missing column(s): outcome."
