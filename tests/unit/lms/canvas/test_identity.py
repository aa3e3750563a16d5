"""Which Canvas user a student is: asked of Canvas by their LTI sub, never taken from a
custom parameter (``lms/canvas/identity.py``)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from lti_tool.lms.canvas.client import CanvasRestClient
from lti_tool.lms.canvas.identity import CanvasIdentity, canvas_user
from lti_tool.lms.canvas.parsing import CanvasApiError
from lti_tool.lms.source import LmsUser


class _Canvas:
    """Answers "Get single user" of a course from ``members``; ``refused`` courses 401."""

    def __init__(self, members: dict[str, dict[str, str]], refused: set[str]) -> None:
        self.members, self.refused = members, refused
        self.asked: list[str] = []
        self.unreadable_rosters: set[str] = set()

    def member_id(self, course_id: str, user_ref: str) -> str | None:
        self.asked.append(course_id)
        if course_id in self.refused:
            raise CanvasApiError(401, ["user not authorized to perform that action"], "GET")
        return self.members.get(course_id, {}).get(user_ref)


def _identity(canvas: _Canvas, sub: str, context: str | None) -> CanvasIdentity:
    return CanvasIdentity(cast(CanvasRestClient, canvas), canvas_user(sub, context))


def test_the_home_course_answers_once_for_every_course() -> None:
    canvas = _Canvas({"lti_context_id:ctx": {"lti_1_3_id:abc": "77"}}, set())
    identity = _identity(canvas, "abc", "ctx")
    assert [identity.id_in("3"), identity.id_in("4")] == ["77", "77"]
    assert canvas.asked == ["lti_context_id:ctx"]


def test_a_home_course_the_token_may_not_list_is_not_asked_again() -> None:
    canvas = _Canvas({"3": {"lti_1_3_id:abc": "77"}}, {"lti_context_id:ctx"})
    assert _identity(canvas, "abc", "ctx").id_in("3") == "77"
    assert _identity(canvas, "abc", "ctx").id_in("3") == "77"
    assert canvas.asked == ["lti_context_id:ctx", "3", "3"]


def test_a_student_canvas_does_not_list_is_not_in_the_course() -> None:
    canvas = _Canvas({}, set())
    with pytest.raises(CanvasApiError) as refused:
        _identity(canvas, "abc", None).id_in("3")
    assert refused.value.status == 404


def test_an_id_given_by_canvas_is_used_as_it_is() -> None:
    canvas: Any = _Canvas({}, set())
    identity = CanvasIdentity(canvas, LmsUser("1001"))
    assert identity.id_in("3") == "1001" and canvas.asked == []
