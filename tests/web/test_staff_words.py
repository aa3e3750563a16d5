"""Staff pages in a tutor's words: two tabs with one name per page, plurals right, and
plain messages after a form."""

from __future__ import annotations

import re

import pytest

from lti_tool.web.formatting import plural
from tests.support.lti import Launcher
from tests.support.pathway_web import Node, csrf_token, open_tool, parse_html


@pytest.mark.parametrize("path", ["/staff/", "/staff/class/", "/staff/students/1001"])
def test_skip_to_content_skips_the_tabs(launcher: Launcher, path: str) -> None:
    """Outside review: the staff tabs sat inside <main>, so "Skip to content" landed on them."""
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    page = parse_html(teacher.client.get(path).get_data(as_text=True))
    skip = page.find("a", cls="skip")
    main = page.find("main")
    assert skip.attrs["href"] == "#" + main.attrs["id"]
    assert not main.find_all("nav", **{"aria-label": "Staff pages"})
    assert page.find_all("nav", **{"aria-label": "Staff pages"})


def _title(page: Node) -> str:
    return page.find("title").text


@pytest.mark.parametrize(
    ("path", "name"), [("/staff/", "Course settings"), ("/staff/class/", "Students and results")]
)
def test_each_staff_page_has_one_name_and_its_tab_is_current(
    launcher: Launcher, path: str, name: str
) -> None:
    teacher = open_tool(launcher, "teacher1")
    page = parse_html(teacher.client.get(path).get_data(as_text=True))
    assert page.find("h1").text == name
    assert _title(page).startswith(name)
    tabs = next(n for n in page.find_all("nav") if n.attrs.get("aria-label") == "Staff pages")
    links = {a.text: a.attrs.get("aria-current") for a in tabs.find_all("a")}
    assert links == {
        "Students and results": "page" if name == "Students and results" else None,
        "Course settings": "page" if name == "Course settings" else None,
    }


def test_plural_words() -> None:
    assert plural(1, "result") == "1 result"
    assert plural(0, "result") == "0 results"
    assert plural(2, "result") == "2 results"
    assert plural(2, "person", "people") == "2 people"


def test_class_page_counts_students_in_words(launcher: Launcher) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    page = teacher.client.get("/staff/class/").get_data(as_text=True)
    count = re.search(r"<p>(\d+) (students?)", page)
    assert count, page
    assert count.group(2) == ("student" if count.group(1) == "1" else "students")


def test_release_with_nothing_held_says_so(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    token = csrf_token(teacher.client.get("/staff/class/").get_data(as_text=True))
    page = teacher.client.post(
        "/staff/class/release", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "There are no held results to release." in page
    assert "Released 0 results" not in page


def test_sync_status_script_says_nothing_to_send(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    page = teacher.client.get("/staff/class/?job=abc").get_data(as_text=True)
    assert "nothing to send" in page
    assert '" of " + job.total + " sent"' not in page


def test_the_student_preview_names_itself_once_and_leads_back_to_the_class(
    launcher: Launcher,
) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    page = parse_html(teacher.client.get("/staff/students/1001").get_data(as_text=True))
    assert page.find("h1").text == "Sam Student: pathway"
    assert _title(page) == "Sam Student: pathway — Students and results"
    tabs = next(n for n in page.find_all("nav") if n.attrs.get("aria-label") == "Staff pages")
    assert [a.text for a in tabs.find_all("a")] == ["Students and results", "Course settings"]
    back = [a for a in page.find_all("a") if a.text == "Back to Students and results"]
    assert back and back[0].attrs["href"].startswith("/staff/class/")
