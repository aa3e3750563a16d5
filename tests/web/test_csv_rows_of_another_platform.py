"""A CSV file exported from a course on another platform is not imported onto this course's
students who happen to share its LMS user ids.

LMS user ids (``sub``) are only unique within one platform: Moodle numbers its users 2, 3,
4 … on every site, so a tutor teaching on two Moodles (or a file passed between two
institutions) holds exports whose ids name other people here. The class export carries each
student's email beside the id; a line whose email is not the email of the student its id
names here is refused, and the whole file with it (nothing is written).
"""

from __future__ import annotations

from sqlalchemy import func, select

from lti_tool.persistence.models import AssessmentResultRow, AuditEntry
from tests.support.lti import Launcher
from tests.support.pathway_web import Opened, open_tool, upload_csv

# student1 here is Sam Student (sam.student@example.org, LMS user id 1001); on the other
# platform, user 1001 is somebody else.
FOREIGN_RESULTS = (
    "student,module,score,max,outcome,comment,released,override_reason,name,email,groups\n"
    "1001,B832,74,100,pass,,Yes,certificates checked,Alex Other,alex.other@elsewhere.example,\n"
)


def _teacher(launcher: Launcher) -> Opened:
    open_tool(launcher, "student1")
    return open_tool(launcher, "teacher1")


def _count(launcher: Launcher, model: type) -> int:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_results_exported_on_another_platform_are_not_given_to_this_course_student(
    launcher: Launcher,
) -> None:
    teacher = _teacher(launcher)
    (message,) = upload_csv(teacher, "/staff/class/results/import", FOREIGN_RESULTS)
    assert message.startswith("Nothing was imported. Line 2:"), message
    assert "alex.other@elsewhere.example" in message
    assert _count(launcher, AssessmentResultRow) == 0


def test_completions_and_start_dates_of_another_platform_are_refused_too(
    launcher: Launcher,
) -> None:
    teacher = _teacher(launcher)
    before = _count(launcher, AuditEntry)
    completions = (
        "student,course_code,status,completed_at,email\n"
        "1001,GB080,completed,01/02/2026,alex.other@elsewhere.example\n"
    )
    (message,) = upload_csv(teacher, "/staff/completions/import", completions, reason="seen")
    assert message.startswith("Nothing was imported. Line 2:"), message
    starts = "student,module,start_date,email\n1001,B833,31/10/2027,alex.other@elsewhere.example\n"
    (message,) = upload_csv(teacher, "/staff/module-starts/import", starts)
    assert message.startswith("Nothing was imported. Line 2:"), message
    assert _count(launcher, AuditEntry) == before


def test_this_course_own_export_still_imports_back(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    own = FOREIGN_RESULTS.replace("alex.other@elsewhere.example", "SAM.STUDENT@example.org")
    assert upload_csv(teacher, "/staff/class/results/import", own) == ["Imported 1 result."]
    no_email = FOREIGN_RESULTS.replace("alex.other@elsewhere.example", "").replace("74", "75")
    assert upload_csv(teacher, "/staff/class/results/import", no_email) == ["Imported 1 result."]


def _teacher_of_a_student_without_email(launcher: Launcher) -> Opened:
    """The platform keeps Sam's email to itself (a privacy setting): the tool knows none."""
    launcher.platform.roster = [
        {k: v for k, v in m.items() if not (m["user_id"] == "1001" and k == "email")}
        for m in launcher.platform.roster
    ]
    return open_tool(launcher, "teacher1")


def test_a_line_with_a_classmate_email_is_refused_for_a_student_without_one(
    launcher: Launcher,
) -> None:
    teacher = _teacher_of_a_student_without_email(launcher)
    before = _count(launcher, AuditEntry)
    priya = "Priya.Patel@example.org"  # student2's email, here on user 1001's line
    results = FOREIGN_RESULTS.replace("alex.other@elsewhere.example", priya)
    (message,) = upload_csv(teacher, "/staff/class/results/import", results)
    assert message.startswith("Nothing was imported. Line 2:"), message
    assert priya in message
    completions = (
        f"student,course_code,status,completed_at,email\n1001,GB080,completed,01/02/2026,{priya}\n"
    )
    (message,) = upload_csv(teacher, "/staff/completions/import", completions, reason="seen")
    assert message.startswith("Nothing was imported. Line 2:"), message
    starts = f"student,module,start_date,email\n1001,B833,31/10/2027,{priya}\n"
    (message,) = upload_csv(teacher, "/staff/module-starts/import", starts)
    assert message.startswith("Nothing was imported. Line 2:"), message
    assert _count(launcher, AssessmentResultRow) == 0
    assert _count(launcher, AuditEntry) == before


def test_a_line_without_email_still_imports_for_a_student_without_one(
    launcher: Launcher,
) -> None:
    teacher = _teacher_of_a_student_without_email(launcher)
    blank = FOREIGN_RESULTS.replace("alex.other@elsewhere.example", "")
    assert upload_csv(teacher, "/staff/class/results/import", blank) == ["Imported 1 result."]


# The email column as Moodle's and Excel's exports head it, cases and spaces as saved.
EMAIL_HEADINGS = ("Email address", "E-mail", " E-Mail Address ", "EMAIL ADDRESS", "e_mail")


def test_the_email_column_is_read_under_the_headings_exports_give_it(launcher: Launcher) -> None:
    teacher = _teacher(launcher)
    before = _count(launcher, AuditEntry)
    other = "alex.other@elsewhere.example"
    for heading in EMAIL_HEADINGS:
        files = {
            "/staff/class/results/import": FOREIGN_RESULTS.replace(",email,", f",{heading},"),
            "/staff/completions/import": (
                f"student,course_code,status,completed_at,{heading}\n"
                f"1001,GB080,completed,01/02/2026,{other}\n"
            ),
            "/staff/module-starts/import": (
                f"student,module,start_date,{heading}\n1001,B833,31/10/2027,{other}\n"
            ),
        }
        for path, text in files.items():
            (message,) = upload_csv(teacher, path, text, reason="seen")
            assert message.startswith("Nothing was imported. Line 2:"), (heading, path, message)
            assert other in message, (heading, path, message)
    assert _count(launcher, AssessmentResultRow) == 0
    assert _count(launcher, AuditEntry) == before
