"""JSON can spell half of a surrogate pair (``"\\ud800"``): Python keeps it, PostgreSQL cannot
store it, and an outside review got a 500 from two JSON APIs with one. Such text is refused
(422, in plain words) with the NUL character, before any view sees it."""

from __future__ import annotations

import pytest

from tests.support.lti import Launcher
from tests.support.pathway_web import open_tool

STORAGE = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
LONE = "\\ud800"  # the JSON escape of a lone high surrogate


@STORAGE
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/context/results/release", f'{{"module": "{LONE}"}}'),
        ("PUT", "/api/context/module-starts/1001", f'{{"B832": "2027-01-01", "reason": "{LONE}"}}'),
        ("PUT", "/api/context/module-starts", f'{{"starts": {{"{LONE}": "2027-01-01"}}}}'),
    ],
)
def test_a_lone_surrogate_in_json_is_refused_in_plain_words(
    launcher: Launcher, method: str, path: str, body: str
) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    response = teacher.client.open(
        path,
        method=method,
        data=body,
        headers={**teacher.bearer, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "bad_character"
    assert "broken character" in error["message"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_paired_surrogate_is_an_ordinary_character(launcher: Launcher) -> None:
    open_tool(launcher, "student1")
    teacher = open_tool(launcher, "teacher1")
    response = teacher.client.put(
        "/api/context/module-starts/1001",
        data='{"B832": "2027-01-01", "reason": "moved \\ud83d\\ude00"}',
        headers={**teacher.bearer, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
