"""The student's checklist, as JSON and as the page, for made-up completion data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.lti import Launcher
from tests.support.pathway_web import add_completions, open_tool, read_checklist_page

D = dt.date
Records = dict[str, tuple[str, dt.date | None, dt.date | None]]
B832 = ("GB080", "GB081", "GB082", "GB083", "GB084", "GB085", "GB086")
B833_COMPULSORY = ("GB087", "GB088", "GB089")


def done(day: int) -> tuple[str, dt.date, dt.date]:
    """Completed on ``day`` March 2026, started two months before."""
    return ("completed", D(2026, 1, day), D(2026, 3, day))


@dataclass(frozen=True)
class DataSet:
    records: Records
    hours: tuple[int, int]  # B832, B833
    cpd_complete: tuple[bool, bool]
    step: str  # in next_steps, or in the quiet notes
    unknown: tuple[str, ...] = ()


DATA_SETS = {
    "no data": DataSet(
        {},
        (0, 0),
        (False, False),
        "Your B832 start date is not set yet: CPD course deadlines will appear once it is",
    ),
    "some done, one in progress": DataSet(
        {
            "GB080": done(1),
            "GB081": ("in_progress", D(2026, 3, 2), None),
            "GB087": done(2),
            "GB090": ("not_started", None, None),
        },
        (25, 50),
        (False, False),
        # Begun on 2 March 2026, ten weeks are long past: planned to end two weeks from today.
        "Aim to finish GB081 Developing yourself for clinical leadership by",
    ),
    "all B832 done": DataSet(
        {code: done(n + 1) for n, code in enumerate(B832)},
        (250, 0),
        (True, False),
        "You have completed every CPD course for B832: you are eligible for its assessment",
    ),
    "three of three optional B833 done": DataSet(
        {
            **{code: done(n + 1) for n, code in enumerate(B833_COMPULSORY)},
            "GB090": done(20),
            "GB091": done(10),
            "GB092": done(15),
        },
        (0, 250),
        (False, True),
        "You have completed every CPD course for B833: you are eligible for its assessment",
    ),
    "unknown course code": DataSet(
        {"GB080": done(1), "ZZ999": done(2)},
        (25, 0),
        (False, False),
        "Start GB081 Developing yourself for clinical leadership",
        ("ZZ999",),
    ),
}


def requirement(checklist: dict[str, Any], code: str) -> dict[str, Any]:
    for module in checklist["modules"]:
        for course in module["requirements"]:
            if course["code"] == code:
                return dict(course)
    raise KeyError(code)


def test_checklist_shape_with_no_data(launcher: Launcher) -> None:
    student = open_tool(launcher)
    response = student.client.get("/api/me/checklist", headers=student.bearer)
    assert response.status_code == 200
    checklist = response.get_json()
    assert set(checklist) >= {"qualification", "modules", "next_steps", "plan", "as_of", "sources"}
    assert checklist["qualification"] == {
        "code": "PGCERT-CL",
        "title": "Postgraduate Certificate in Clinical Leadership",
        "credits_required": 60,
        "credits_earned": 0,
        "complete": False,
        "deadline_months": 6,
    }
    assert checklist["as_of"] == launcher.app.extensions["lti_tool"].settings.today().isoformat()
    assert [m["code"] for m in checklist["modules"]] == ["B832", "B833"]
    b832, b833 = checklist["modules"]
    assert [r["code"] for r in b832["requirements"]] == list(B832)
    assert len(b833["requirements"]) == 6
    assert {r["kind"] for r in b833["requirements"][3:]} == {"optional"}
    for module in checklist["modules"]:
        assert module["hours_required"] == 250 and module["hours_completed"] == 0
        assert module["start_date"] is None and module["deadline"] is None
        assert {r["status"] for r in module["requirements"]} == {"not_started"}
    assert checklist["sources"] == [] and checklist["unknown_codes"] == []
    assert checklist["notes"] == [
        "Your B832 start date is not set yet: CPD course deadlines will appear once it is",
        "Your B833 start date is not set yet: CPD course deadlines will appear once it is",
    ]
    assert len(checklist["next_steps"]) == 3
    assert checklist["next_steps"][0].startswith("Start GB080 What is clinical leadership? now")
    assert {p["module"] for p in checklist["plan"]} == {"B832", "B833"}
    assert all(p["start"] <= p["finish"] for p in checklist["plan"])


@pytest.mark.parametrize("name", DATA_SETS)
def test_checklist_json_for_made_up_data(launcher: Launcher, name: str) -> None:
    data = DATA_SETS[name]
    student = open_tool(launcher)
    add_completions(launcher.app, "1001", data.records)
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    modules = checklist["modules"]
    assert tuple(m["hours_completed"] for m in modules) == data.hours
    assert tuple(m["cpd_complete"] for m in modules) == data.cpd_complete
    assert any(text.startswith(data.step) for text in checklist["next_steps"] + checklist["notes"])
    assert len(checklist["next_steps"]) <= 3
    assert tuple(checklist["unknown_codes"]) == data.unknown
    for code, (status, started, completed) in data.records.items():
        if code not in data.unknown:
            course = requirement(checklist, code)
            assert course["status"] == status
            assert course["started_at"] == (started.isoformat() if started else None)
            assert course["completed_at"] == (completed.isoformat() if completed else None)
    # Eligibility is not a pass: no credits until an assessment result is recorded.
    assert checklist["qualification"]["credits_earned"] == 0


def test_only_the_first_two_optional_courses_completed_count(launcher: Launcher) -> None:
    student = open_tool(launcher)
    add_completions(launcher.app, "1001", DATA_SETS["three of three optional B833 done"].records)
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    # The earliest two completions count (GB091 on 10 March, GB092 on 15 March), not the
    # first two codes; the third adds no hours beyond the module's 250.
    counts = {code: requirement(checklist, code)["counts"] for code in ("GB090", "GB091", "GB092")}
    assert counts == {"GB090": False, "GB091": True, "GB092": True}
    assert checklist["modules"][1]["hours_completed"] == 250
    page = read_checklist_page(student.client.get("/me").get_data(as_text=True))
    notes = page.modules["B833"].notes
    assert notes["GB090"] == "Optional: choose 2 of 3 · extra, not counted"
    assert notes["GB091"] == "Optional: choose 2 of 3 · counts toward the hours"
    assert page.modules["B833"].hours_completed == 250


@pytest.mark.parametrize("name", DATA_SETS)
def test_the_page_agrees_with_the_json(launcher: Launcher, name: str) -> None:
    student = open_tool(launcher)
    add_completions(launcher.app, "1001", DATA_SETS[name].records)
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    page = read_checklist_page(student.client.get("/me").get_data(as_text=True))
    assert list(page.modules) == [m["code"] for m in checklist["modules"]]
    for module in checklist["modules"]:
        shown = page.modules[module["code"]]
        assert (shown.hours_completed, shown.hours_required) == (
            module["hours_completed"],
            module["hours_required"],
        )
        assert shown.progress == (str(module["hours_completed"]), str(module["hours_required"]))
        assert shown.statuses == {r["code"]: r["status"] for r in module["requirements"]}
        eligible = any("eligible for the assessment" in badge for badge in shown.badges)
        assert eligible is module["cpd_complete"]
    # The page shows the most urgent steps, never more than three.
    assert page.next_steps[0] == checklist["next_steps"][0]
    assert page.next_steps == checklist["next_steps"][:3]
    assert page.root.find("li", cls="first").text == checklist["next_steps"][0]
    unknown_note = "not part of this qualification: ZZ999"
    assert (unknown_note in page.text) is bool(checklist["unknown_codes"])


def test_the_launch_page_is_the_checklist(launcher: Launcher) -> None:
    student = open_tool(launcher)
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    page = read_checklist_page(student.page)
    assert page.root.find("h1").text == "My pathway"
    assert page.next_steps == checklist["next_steps"][:3]
    assert "60 credits" in page.text and "0 of 60 credits" in page.text


def test_no_records_warns_on_the_page(launcher: Launcher) -> None:
    student = open_tool(launcher)
    page = read_checklist_page(student.client.get("/me").get_data(as_text=True))
    warning = page.root.find("p", cls="warn-panel")
    assert warning.attrs["role"] == "status"
    assert "No course completion has been received" in warning.text
    assert "may be out of date" not in page.text


def test_fresh_and_stale_sources(launcher: Launcher) -> None:
    student = open_tool(launcher)
    now = dt.datetime.now(dt.UTC)
    add_completions(launcher.app, "1001", {"GB080": done(1)}, source="moodle", fetched_at=now)
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    assert [(s["name"], s["stale"]) for s in checklist["sources"]] == [("moodle", False)]
    assert dt.datetime.fromisoformat(checklist["sources"][0]["fetched_at"]) == now
    page = read_checklist_page(student.client.get("/me").get_data(as_text=True))
    assert "read from Moodle on" in page.text
    assert "may be out of date" not in page.text
    assert not page.root.find_all("p", cls="warn-panel")

    old = now - dt.timedelta(hours=2)
    add_completions(launcher.app, "1001", {"GB081": done(2)}, source="canvas", fetched_at=old)
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    assert [(s["name"], s["stale"]) for s in checklist["sources"]] == [
        ("canvas", True),
        ("moodle", False),
    ]
    page = read_checklist_page(student.client.get("/me").get_data(as_text=True))
    assert page.text.count("may be out of date") == 1
    # In the institution's time zone (Europe/London), in words: never raw UTC.
    local = old.astimezone(ZoneInfo("Europe/London"))
    stamp = f"{local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()}"
    assert "read from Canvas on " + stamp in page.text


def test_a_source_is_stale_after_the_configured_age(sqlite_tool_factory: Any) -> None:
    launcher = sqlite_tool_factory(completion_max_age_seconds=86400)
    student = open_tool(launcher)
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    add_completions(launcher.app, "1001", {"GB080": done(1)}, fetched_at=two_hours_ago)
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    assert checklist["sources"][0]["stale"] is False


def test_each_student_sees_only_their_own_records(launcher: Launcher) -> None:
    first = open_tool(launcher, "student1")
    second = open_tool(launcher, "student2")
    add_completions(launcher.app, "1001", {"GB080": done(1)})
    mine = second.client.get("/api/me/checklist", headers=second.bearer).get_json()
    assert requirement(mine, "GB080")["status"] == "not_started" and mine["sources"] == []
    theirs = first.client.get("/api/me/checklist", headers=first.bearer).get_json()
    assert requirement(theirs, "GB080")["status"] == "completed"


def test_staff_preview_shows_what_the_student_sees(launcher: Launcher) -> None:
    student = open_tool(launcher, "student1")
    add_completions(launcher.app, "1001", DATA_SETS["some done, one in progress"].records)
    teacher = open_tool(launcher, "teacher1")
    own = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    response = teacher.client.get("/api/context/students/1001/checklist", headers=teacher.bearer)
    assert response.status_code == 200
    preview = response.get_json()
    assert preview.pop("student") == {
        "sub": "1001",
        "name": "Sam Student",
        "email": "sam.student@example.org",
    }
    assert preview.pop("attempts") == []
    assert preview.pop("untrackable") == []  # staff only: courses the LMS cannot track, and why
    assert "untrackable" not in own
    assert preview == own
    page = read_checklist_page(teacher.client.get("/staff/students/1001").get_data(as_text=True))
    assert page.root.find("h1").text == "Sam Student: pathway"
    assert "Read-only preview" in page.text
    assert (
        page.modules["B832"].statuses
        == read_checklist_page(student.client.get("/me").get_data(as_text=True))
        .modules["B832"]
        .statuses
    )
