"""Dates and times on pages: "4 December 2026", "17:45 GMT", in the institution's time zone
(setting ``timezone``), never a raw UTC ISO string."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lti_tool.web.formatting import clock, day, when
from tests.support.lti import Launcher
from tests.support.pathway_web import open_tool, parse_html
from tests.support.privacy import seed_student_data
from tests.web.test_admin_access import tool_admin

WINTER = dt.datetime(2026, 12, 4, 17, 45, tzinfo=dt.UTC)
SUMMER_NAIVE = dt.datetime(2026, 7, 1, 16, 45)  # naive: UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (WINTER, "4 December 2026, 17:45 GMT"),
        (SUMMER_NAIVE, "1 July 2026, 17:45 BST"),
        ("2026-07-01T16:45:00+00:00", "1 July 2026, 17:45 BST"),
        ("2026-12-04T17:45:00", "4 December 2026, 17:45 GMT"),
        (dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC), "2 July 2026, 00:30 BST"),
        (dt.datetime(2026, 12, 4, 12, 45, tzinfo=ZoneInfo("America/New_York")), None),
        (None, ""),
        ("", ""),
    ],
)
def test_when_is_in_the_institutions_zone(
    sqlite_tool_factory: Any, value: object, expected: str | None
) -> None:
    with sqlite_tool_factory().app.test_request_context():
        if expected is None:  # an aware time of another zone: the same moment in London
            expected = "4 December 2026, 17:45 GMT"
        assert when(value) == expected  # type: ignore[arg-type]


def test_clock_and_day(sqlite_tool_factory: Any) -> None:
    with sqlite_tool_factory().app.test_request_context():
        assert clock(WINTER) == "17:45 GMT"
        assert clock(SUMMER_NAIVE) == "17:45 BST"
        assert clock("2026-07-01T16:45:00Z") == "17:45 BST"
        assert clock(None) == ""
        assert day(dt.datetime(2026, 7, 1, 23, 30)) == "2 July 2026"
        assert day(None) == ""
        assert clock(WINTER, ZoneInfo("America/New_York")) == "12:45 EST"


def test_the_timezone_setting_decides(sqlite_tool_factory: Any) -> None:
    launcher: Launcher = sqlite_tool_factory(timezone="Asia/Tokyo")
    with launcher.app.test_request_context():
        assert when(WINTER) == "5 December 2026, 02:45 JST"


_RAW = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d(:\d\d)?\s*\(?UTC")


def _visible(page: str) -> str:
    return parse_html(page).text


def test_no_page_prints_a_raw_utc_time(launcher: Launcher) -> None:
    seed_student_data(launcher)
    student = open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    admin = tool_admin(launcher.app)
    pages = {
        "student": student.page,
        "privacy": student.client.get("/privacy/").get_data(as_text=True),
        "staff": teacher.page,
        "class": teacher.client.get("/staff/class/").get_data(as_text=True),
        "grid": teacher.client.get("/staff/class/completion/").get_data(as_text=True),
        "preview": teacher.client.get("/staff/students/1001").get_data(as_text=True),
    }
    for path in ("/admin/", "/admin/health", "/admin/audit", "/admin/keys", "/admin/erasure"):
        answer = admin.get(path)
        assert answer.status_code == 200, path
        pages[path] = answer.get_data(as_text=True)
    # The pages do show times: the student's data copies, the privacy page's audit entries.
    assert re.search(
        r"read from Moodle on \d{1,2} \w+ 20\d\d, \d\d:\d\d (GMT|BST)", pages["student"]
    )
    assert re.search(r"\d\d:\d\d (GMT|BST)", _visible(pages["privacy"]))
    assert re.search(r"\d\d:\d\d (GMT|BST)", _visible(pages["/admin/audit"]))
    for name, page in pages.items():
        found = _RAW.search(_visible(page))
        assert found is None, (name, found and found.group(0))
