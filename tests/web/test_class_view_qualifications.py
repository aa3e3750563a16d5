"""The class view follows the course's qualification: a course on the made-up diploma gets
the diploma's columns, filters, sort orders and CSV lines, and the certificate's old links
keep working."""

from __future__ import annotations

import csv
import datetime as dt
import io

from tests.support.lti import Launcher
from tests.support.pathway_web import Node, Opened, add_completions, open_tool, parse_html

DONE = ("completed", dt.date(2026, 5, 1), dt.date(2026, 6, 1))
B832_CODES = ("GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086")


def class_page(teacher: Opened, query: str = "") -> Node:
    response = teacher.client.get(f"/staff/class/{query}", headers=teacher.bearer)
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_html(response.get_data(as_text=True))


def headers(page: Node) -> list[str]:
    return [th.text for th in page.find("thead").find_all("th")]


def students(page: Node) -> list[str]:
    return [th.find("a").text for th in page.find("tbody").find_all("th")]


def options(page: Node, select: str) -> dict[str, str]:
    return {o.attrs["value"]: o.text for o in page.find("select", id=select).find_all("option")}


def selected(page: Node, select: str) -> list[str]:
    chosen = page.find("select", id=select).find_all("option")
    return [o.attrs["value"] for o in chosen if "selected" in o.attrs]


def export(teacher: Opened) -> list[dict[str, str]]:
    response = teacher.client.get("/staff/class/export.csv", headers=teacher.bearer)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def diploma_course(two_qualifications: Launcher) -> Opened:
    """A teacher of a course that tracks the made-up diploma, with two students who opened
    the tool; Sam (1001) has done X200's CPD courses."""
    teacher = open_tool(two_qualifications, "teacher1")
    for student in ("student1", "student2"):
        open_tool(two_qualifications, student)
    chosen = teacher.client.put(
        "/api/context/qualification", json={"code": "TEST-DIP"}, headers=teacher.bearer
    )
    assert chosen.status_code == 200, chosen.get_data(as_text=True)
    add_completions(two_qualifications.app, "1001", {code: DONE for code in ("T5", "T6", "T7")})
    return teacher


def test_the_made_up_diploma_renders_its_own_columns_and_filters(
    two_qualifications: Launcher,
) -> None:
    teacher = diploma_course(two_qualifications)
    response = teacher.client.get("/staff/class/", headers=teacher.bearer)
    text = response.get_data(as_text=True)
    assert "B832" not in text and "B833" not in text and "b832" not in text
    page = parse_html(text)
    assert headers(page) == [
        "Student",
        "X100 Unit testing · 60 h",
        "X200 Integration testing · 30 h",
    ]
    sam = next(tr for tr in page.find("tbody").find_all("tr") if "Sam Student" in tr.text)
    cells = sam.find_all("td")
    assert [td.attrs["data-label"] for td in cells] == ["X100", "X200"]
    assert cells[1].text.startswith("30/30 h") and "eligible" in cells[1].text
    filters = options(page, "filter")
    assert filters["eligible_no_result_X200"] == "Ready for X200 Integration testing, no result yet"
    assert filters["missing_X100"] == "Missing a X100 Unit testing CPD requirement"
    assert {"all", "at_risk", "sync_failed", "not_launched"} <= set(filters)
    assert list(options(page, "sort")) == ["name", "x100_hours", "x200_hours"]

    ready = class_page(teacher, "?filter=eligible_no_result_X200")
    assert students(ready) == ["Sam Student"]
    assert selected(ready, "filter") == ["eligible_no_result_X200"]
    missing = class_page(teacher, "?filter=missing_X200")
    assert "Sam Student" not in students(missing) and students(missing)
    by_hours = class_page(teacher, "?sort=x200_hours")
    assert students(by_hours)[0] == "Sam Student"
    assert selected(by_hours, "sort") == ["x200_hours"]


def test_a_certificate_link_on_a_diploma_course_shows_everyone_by_name(
    two_qualifications: Launcher,
) -> None:
    teacher = diploma_course(two_qualifications)
    everyone = students(class_page(teacher))
    assert len(everyone) > 1
    for query in ("?filter=eligible_no_result_B832&sort=b832_hours", "?filter=x%20y&sort=../"):
        page = class_page(teacher, query)
        assert students(page) == everyone
        assert selected(page, "filter") == ["all"] and selected(page, "sort") == ["name"]
    refused = teacher.client.get("/staff/class/?filter=%00", headers=teacher.bearer)
    assert refused.status_code == 422  # the input check's clear answer, as everywhere


def test_the_module_starts_hint_names_the_diplomas_module(two_qualifications: Launcher) -> None:
    teacher = diploma_course(two_qualifications)
    refused = teacher.client.put("/api/context/module-starts", json={}, headers=teacher.bearer)
    assert refused.status_code == 422
    message = refused.get_json()["error"]["message"]
    assert message == "Enter a start date for at least one module (X100, X200)."


def test_the_diploma_csv_has_the_diplomas_modules_only(two_qualifications: Launcher) -> None:
    teacher = diploma_course(two_qualifications)
    lines = export(teacher)
    assert {line["module"] for line in lines} == {"X100", "X200"}
    assert not any("B83" in value for line in lines for value in line.values())
    sam = {line["module"]: line for line in lines if line["student"] == "1001"}
    assert list(sam) == ["X100", "X200"]
    assert sam["X200"]["score"] == sam["X200"]["released"] == ""


def test_the_certificates_filter_and_sort_links_keep_working(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    add_completions(launcher.app, "1002", dict.fromkeys(B832_CODES, DONE), source="manual")
    page = class_page(teacher)
    assert [h.split(" ·")[0] for h in headers(page)] == [
        "Student",
        "B832 Leading health service delivery and improvement",
        "B833 Leading healthcare innovation",
    ]
    everyone = students(page)
    ready = class_page(teacher, "?filter=eligible_no_result_B832")
    assert students(ready) == ["Priya Patel"]
    assert class_page(teacher, "?filter=eligible_no_result_B833").find("tbody").text == ""
    by_hours = class_page(teacher, "?sort=b832_hours")
    assert students(by_hours)[0] == "Priya Patel"
    assert sorted(students(by_hours)) == sorted(everyone)
    unknown = class_page(teacher, "?filter=bogus&sort=bogus")
    assert students(unknown) == everyone
    assert {line["module"] for line in export(teacher)} == {"B832", "B833"}
