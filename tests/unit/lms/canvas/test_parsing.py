"""Canvas progress and module answers (shapes from Canvas's API docs and source)."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from lti_tool.lms.canvas import parsing as parse
from lti_tool.rules.records import CompletionStatus

LONDON = ZoneInfo("Europe/London")
NOT_MODULE_BASED = {
    "error": {
        "message": "no progress available because this course is not module based (has modules "
        "and module completion requirements) or the user is not enrolled as a student in this "
        "course"
    }
}


def progress(count: int, done: int, completed_at: str | None = None) -> dict[str, Any]:
    return {
        "requirement_count": count,
        "requirement_completed_count": done,
        "next_requirement_url": None if completed_at else "https://canvas.example/courses/1/x",
        "completed_at": completed_at,
    }


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (progress(4, 4, "2026-03-01T23:30:00Z"), (CompletionStatus.COMPLETED, date(2026, 3, 1))),
        # BST: 23:30 UTC on 30 June is 00:30 on 1 July in London.
        (progress(4, 4, "2026-06-30T23:30:00Z"), (CompletionStatus.COMPLETED, date(2026, 7, 1))),
        (progress(4, 4), (CompletionStatus.COMPLETED, None)),
        (progress(4, 1), (CompletionStatus.IN_PROGRESS, None)),
        (progress(4, 0), (CompletionStatus.NOT_STARTED, None)),
        (progress(0, 0), (CompletionStatus.NOT_STARTED, None)),
    ],
)
def test_progress_record(answer: dict[str, Any], expected: tuple[object, object]) -> None:
    record = parse.progress_record("GB080", parse.parse_progress(answer), LONDON, "canvas")

    assert (record.status, record.completed_at) == expected
    assert record.started_at is None and record.source == "canvas"


def test_a_course_without_requirements_has_no_progress() -> None:
    with pytest.raises(parse.CanvasApiError) as raised:
        parse.parse_progress(NOT_MODULE_BASED)

    assert raised.value.no_progress
    assert "not module based" in raised.value.message


def module(state: str | None, completed_at: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": 201,
        "name": "GB080",
        "position": 1,
        "state": state,
        "completed_at": completed_at,
        **extra,
    }


@pytest.mark.parametrize(
    ("state", "completed_at", "expected"),
    [
        ("completed", "2026-02-03T10:00:00Z", (CompletionStatus.COMPLETED, date(2026, 2, 3))),
        ("started", None, (CompletionStatus.IN_PROGRESS, None)),
        ("unlocked", None, (CompletionStatus.NOT_STARTED, None)),
        ("locked", None, (CompletionStatus.NOT_STARTED, None)),
    ],
)
def test_module_record(
    state: str, completed_at: str | None, expected: tuple[object, object]
) -> None:
    (parsed,) = parse.parse_modules([module(state, completed_at)])

    record = parse.module_record("GB080", parsed, LONDON, "canvas")

    assert (record.status, record.completed_at) == expected


def test_module_requirements_are_seen_in_items() -> None:
    with_req = module("started", items=[{"id": 1, "completion_requirement": {"type": "must_view"}}])
    without = module("completed", items=[{"id": 2, "title": "Welcome"}])
    no_items = module("completed")

    parsed = parse.parse_modules([with_req, without, no_items])

    assert [m.has_requirements for m in parsed] == [True, False, None]
    assert parsed[0].id == "201"


@pytest.mark.parametrize(
    ("answer", "messages"),
    [
        ({"errors": [{"message": "Invalid access token."}]}, ["Invalid access token."]),
        (
            {
                "status": "unauthorized",
                "errors": [{"message": "user not authorized to perform that action"}],
            },
            ["user not authorized to perform that action"],
        ),
        ({"errors": {"student_id": ["is invalid"]}}, ["student_id: ['is invalid']"]),
        (NOT_MODULE_BASED, [NOT_MODULE_BASED["error"]["message"]]),
        ({"message": "Not found"}, ["Not found"]),
        ("403 Forbidden (Rate Limit Exceeded)\n", ["403 Forbidden (Rate Limit Exceeded)"]),
        ([], []),
    ],
)
def test_error_messages(answer: object, messages: list[str]) -> None:
    assert parse.error_messages(answer) == messages


def test_unexpected_shapes_are_source_errors() -> None:
    with pytest.raises(parse.CanvasFormatError):
        parse.parse_modules({"id": 1})
    with pytest.raises(parse.CanvasFormatError):
        parse.parse_progress(progress(True, 0))
    with pytest.raises(parse.CanvasFormatError):
        parse.to_date("yesterday", LONDON)
