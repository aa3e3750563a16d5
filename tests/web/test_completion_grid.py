"""The completion grid: students against the course qualification's CPD courses (either
qualification), filtered, searched, sorted and paged on the server, in a fixed number of
queries, and its completion CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from lti_tool.persistence.models import CompletionRecord, CourseGroup, Membership, User
from lti_tool.resources import resource_dir
from lti_tool.rules import load_qualification
from tests.support.lti import Launcher
from tests.support.pathway_web import Node, Opened, add_completions, open_tool, parse_html
from tests.web.test_course_groups import _context_pk, _wait_for_groups

GRID = "/staff/class/completion/"
DIPLOMA_COURSES = ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"]
PER_STUDENT_TABLES = ("memberships", "completion_records", "module_start", "group")
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def grid(teacher: Opened, query: str = "") -> Node:
    response = teacher.client.get(GRID + query, headers=teacher.bearer)
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_html(response.get_data(as_text=True))


def students(page: Node) -> list[str]:
    return [th.find("a").text for th in page.find("tbody").find_all("th")]


def link_named(page: Node, text: str) -> Node:
    found = [a for a in page.find_all("a") if a.text == text]
    assert len(found) == 1, text
    return found[0]


def cells(page: Node, name: str) -> dict[str, str]:
    row = next(tr for tr in page.find("tbody").find_all("tr") if name in tr.find("th").text)
    return {td.attrs["data-label"]: td.text for td in row.find_all("td")}


def diploma(two_qualifications: Launcher) -> Opened:
    """A course on the made-up diploma: X100 began long ago (its courses are now late);
    Sam has done three of X200's four optional courses, Priya is doing T1 (too late) and T6."""
    teacher = open_tool(two_qualifications, "teacher1")
    for student in ("student1", "student2"):
        open_tool(two_qualifications, student)
    for path, body in (
        ("/api/context/qualification", {"code": "TEST-DIP"}),
        ("/api/context/module-starts", {"X100": "2026-01-15"}),
    ):
        done = teacher.client.put(path, json=body, headers=teacher.bearer)
        assert done.status_code == 200, done.get_data(as_text=True)
    add_completions(
        two_qualifications.app,
        "1001",
        {code: ("completed", None, None) for code in ("T5", "T6", "T7")},
    )
    add_completions(
        two_qualifications.app,
        "1002",
        {
            "T1": ("in_progress", None, None),
            "T6": ("in_progress", None, None),
        },
    )
    return teacher


def test_the_diploma_grid_has_a_column_per_course_and_a_word_per_cell(
    two_qualifications: Launcher,
) -> None:
    teacher = diploma(two_qualifications)
    page = grid(teacher)
    text = page.text
    assert "B832" not in text and "GB080" not in text
    header_rows = page.find("thead").find_all("tr")
    assert [th.text for th in header_rows[0].find_all("th")] == ["X100", "X200"]
    assert [th.attrs["colspan"] for th in header_rows[0].find_all("th")] == ["4", "4"]
    codes = [th.text.split()[0] for th in header_rows[1].find_all("th")]
    assert codes == ["Student", *DIPLOMA_COURSES]
    sam = cells(page, "Sam Student")
    assert list(sam) == DIPLOMA_COURSES
    assert {sam[c] for c in ("T5", "T6", "T7")} == {"✔ completed"}
    assert sam["T8"] == "\u2013 not needed"  # three of four chosen: T8 is no gap
    assert sam["T1"] == "! late"
    assert sam["T3"] == "! late" and sam["T4"] == "○ missing"  # one of the two is due: T3
    priya = cells(page, "Priya Patel")
    assert priya["T6"] == "◐ in progress" and priya["T5"] == "○ missing"
    assert priya["T1"] == "◐! in progress, late"  # begun, but past X100's deadline
    marks = page.find("tbody").find_all("span", cls="mark")
    assert marks and all(m.attrs["aria-hidden"] == "true" for m in marks)
    assert "3 of 8 completed" in page.find("tbody").text


def test_a_passed_module_needs_no_more_courses_and_none_is_late(
    two_qualifications: Launcher,
) -> None:
    """As the class view says once a module is passed (outside review: the grid still called
    its unfinished courses late)."""
    teacher = diploma(two_qualifications)
    recorded = teacher.client.put(
        "/api/context/results/X100/1001",
        json={"score": 70, "outcome": "pass", "override_reason": "APL agreed"},
        headers=teacher.bearer,
    )
    assert recorded.status_code == 200, recorded.get_data(as_text=True)
    sam = cells(grid(teacher), "Sam Student")
    assert [sam[c] for c in ("T1", "T2", "T3", "T4")] == ["\u2013 not needed"] * 4
    assert students(grid(teacher, "?status=late")) == ["Priya Patel"]
    response = teacher.client.get(GRID + "completion.csv", headers=teacher.bearer)
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    line = next(line for line in lines if line["student"] == "1001")
    assert [line[c] for c in ("T1", "T2", "T3", "T4")] == ["not needed"] * 4


def test_the_certificate_grid_follows_its_qualification_file(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    qualification = load_qualification(
        resource_dir("config") / "qualifications" / "pgcert-clinical-leadership.toml"
    )
    expected: list[str] = []
    for module in qualification.modules:
        expected += [c.code for c in module.courses if c.code not in expected]
    page = grid(teacher)
    header = page.find("thead").find_all("tr")[1]
    assert [th.text.split()[0] for th in header.find_all("th")][1:] == expected
    assert [th.text for th in page.find("thead").find_all("tr")[0].find_all("th")] == [
        m.code for m in qualification.modules
    ]
    assert students(page) == ["Owen Hughes", "Grace Okafor", "Priya Patel", "Sam Student"]


def test_filters_search_sort_and_pages(two_qualifications: Launcher) -> None:
    teacher = diploma(two_qualifications)
    everyone = students(grid(teacher))
    assert everyone == ["Priya Patel", "Sam Student"]  # the two who opened the tool
    assert students(grid(teacher, "?status=in_progress")) == ["Priya Patel"]
    assert students(grid(teacher, "?status=completed&course=T5")) == ["Sam Student"]
    assert students(grid(teacher, "?status=completed&course=T1")) == []
    late_t1 = grid(teacher, "?status=late&course=T1")
    assert students(late_t1) == ["Priya Patel", "Sam Student"]  # in progress and late too
    assert students(grid(teacher, "?status=in_progress_late&course=T1")) == ["Priya Patel"]
    assert students(grid(teacher, "?status=missing&course=T5")) == ["Priya Patel"]
    assert students(grid(teacher, "?status=not_needed")) == ["Sam Student"]
    assert students(grid(teacher, "?q=PAT")) == ["Priya Patel"]
    assert students(grid(teacher, "?q=sam+stud")) == ["Sam Student"]
    assert students(grid(teacher, "?q=nobody")) == []
    assert "No students match" in grid(teacher, "?q=nobody").text
    assert students(grid(teacher, "?sort=most_completed"))[0] == "Sam Student"
    assert students(grid(teacher, "?sort=name_desc")) == everyone[::-1]
    first = grid(teacher, "?size=25&sort=name_desc&size=25")
    assert students(first) == everyone[::-1]
    paged = grid(teacher, "?size=25")
    assert "page" not in paged.find("p", id="grid-count").text
    unknown = grid(teacher, "?status=bogus&course=B832&sort=../&size=7&page=99")
    assert students(unknown) == everyone
    chosen = unknown.find("select", id="size").find_all("option")
    assert [o.attrs["value"] for o in chosen if "selected" in o.attrs] == ["50"]


def test_a_page_size_pages_and_keeps_the_filters_in_its_links(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    _add_students(launcher, teacher, 30)
    first = grid(teacher, "?size=25&q=learner&sort=name_desc")
    assert len(students(first)) == 25
    assert "30 students · page 1 of 2" in first.find("p", id="grid-count").text
    link = first.find("nav").find("a")
    assert link.text == "2"
    for part in ("page=2", "size=25", "q=learner", "sort=name_desc"):
        assert part in link.attrs["href"]
    second = teacher.client.get(link.attrs["href"], headers=teacher.bearer)
    assert len(students(parse_html(second.get_data(as_text=True)))) == 5
    assert len(students(grid(teacher, "?size=all"))) == 34


def _add_students(launcher: Launcher, teacher: Opened, count: int) -> None:
    """``count`` more students on the course's roster, each with a completed course."""
    db = launcher.app.extensions["lti_tool"].db
    with db.unit_of_work() as session:
        teacher_row = session.execute(
            select(User, Membership).join(Membership, Membership.user_pk == User.id)
        ).first()
        assert teacher_row is not None
        registration, context_pk = teacher_row[0].registration_id, teacher_row[1].context_pk
        for n in range(count):
            user = User(
                registration_id=registration,
                sub=f"9{n:03d}",
                name=f"Learner {n:03d}",
                family_name=f"Learner{n:03d}",
                email=f"learner{n}@example.org",
            )
            session.add(user)
            session.flush()
            session.add(Membership(context_pk=context_pk, user_pk=user.id, roles=[LEARNER]))
            session.add(
                CompletionRecord(
                    user_pk=user.id, course_code="GB080", status="completed", source="moodle"
                )
            )


@contextmanager
def _queries(launcher: Launcher) -> Iterator[list[str]]:
    engine = launcher.app.extensions["lti_tool"].db.engine
    seen: list[str] = []
    me = threading.get_ident()  # the test client's requests run here; refresh jobs do not

    def count(*args: Any) -> None:
        if threading.get_ident() == me:
            seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_grid_and_its_csv_take_the_same_queries_for_3_or_33_students(
    launcher: Launcher,
) -> None:
    teacher = open_tool(launcher, "teacher1")
    counts = []
    for added in (0, 30):
        _add_students(launcher, teacher, added)
        for url in (GRID + "?size=all", GRID + "completion.csv"):
            with _queries(launcher) as seen:
                assert teacher.client.get(url, headers=teacher.bearer).status_code == 200
            # The student data: roster, completion copies, module starts, tutor groups.
            counts.append(sum(1 for sql in seen if any(t in sql for t in PER_STUDENT_TABLES)))
    assert counts[:2] == counts[2:], counts
    assert max(counts) <= 8, counts


def test_the_completion_csv_has_a_column_per_course(two_qualifications: Launcher) -> None:
    teacher = diploma(two_qualifications)
    link = link_named(grid(teacher), "Download completion CSV")
    assert link.attrs["href"].partition("?")[0] == GRID + "completion.csv"
    response = teacher.client.get(link.attrs["href"], headers=teacher.bearer)
    assert response.headers["Content-Disposition"] == 'attachment; filename="completion.csv"'
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(lines[0]) == ["student", "name", "email", *DIPLOMA_COURSES, "groups"]
    sam = next(line for line in lines if line["student"] == "1001")
    assert [sam[c] for c in DIPLOMA_COURSES] == [
        "late",
        "late",
        "late",
        "missing",
        "completed",
        "completed",
        "completed",
        "not needed",
    ]
    priya = next(line for line in lines if line["student"] == "1002")
    assert (priya["T1"], priya["T6"], priya["T5"]) == (
        "in progress, late",
        "in progress",
        "missing",
    )


def test_a_completion_after_the_deadline_shows_as_completed_late(
    two_qualifications: Launcher,
) -> None:
    # X100 began on 15 January 2026: its three-month deadline was 15 April 2026.
    teacher = diploma(two_qualifications)
    add_completions(
        two_qualifications.app,
        "1002",
        {
            "T2": ("completed", dt.date(2026, 2, 1), dt.date(2026, 5, 1)),  # after: late
            "T3": ("completed", dt.date(2026, 2, 1), dt.date(2026, 4, 15)),  # on the day
            "T4": ("completed", dt.date(2025, 12, 1), dt.date(2026, 6, 1)),  # begun before
        },
    )
    page = grid(teacher)
    priya = cells(page, "Priya Patel")
    assert priya["T2"] == "✔! completed late"
    assert (priya["T3"], priya["T4"]) == ("✔ completed", "✔ completed")
    legend = page.find("ul", cls="legend")
    assert "✔! completed late" in [item.text for item in legend.find_all("li")]
    row = next(tr for tr in page.find("tbody").find_all("tr") if "Priya" in tr.find("th").text)
    assert "3 of 8 completed" in row.find("th").text  # a late completion is still complete
    late_ones = grid(teacher, "?status=completed_late")
    assert students(late_ones) == ["Priya Patel"]
    lines = csv.DictReader(
        io.StringIO(
            teacher.client.get(GRID + "completion.csv", headers=teacher.bearer).get_data(
                as_text=True
            )
        )
    )
    priya_line = next(line for line in lines if line["student"] == "1002")
    assert priya_line["T2"] == "completed late"


def test_staff_pages_link_to_the_grid(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    for url in ("/staff/class/", "/staff/"):
        page = parse_html(teacher.client.get(url, headers=teacher.bearer).get_data(as_text=True))
        link = link_named(page, "CPD course completion")
        assert link.attrs["href"].partition("?")[0] == GRID
    student = open_tool(launcher, "student1")
    assert student.client.get(GRID, headers=student.bearer).status_code == 403
    assert student.client.get(GRID + "completion.csv", headers=student.bearer).status_code == 403


def test_a_tutor_group_filters_the_grid_and_its_csv(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    _wait_for_groups(launcher, _context_pk(launcher))
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        group_a = session.scalar(select(CourseGroup.id).where(CourseGroup.name == "Tutor group A"))
    page = grid(teacher, f"?group={group_a}&size=all")
    assert students(page) == ["Priya Patel", "Sam Student"]
    assert "Tutor group A" in page.find("tbody").text
    link = link_named(page, "Download completion CSV")
    assert f"group={group_a}" in link.attrs["href"], link.attrs
    response = teacher.client.get(link.attrs["href"], headers=teacher.bearer)
    lines = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(line["name"], line["groups"]) for line in lines] == [
        ("Priya Patel", "Tutor group A"),
        ("Sam Student", "Tutor group A"),
    ]
    assert students(grid(teacher, "?group=999999")) == students(grid(teacher))
