"""Canvas course discovery against the sandbox's Canvas REST fake, with the tokens the README
suggests: an account admin's (enrolled in no course) and a teacher's (outside review: the tool
listed only "your courses", which for an account admin is none)."""

from __future__ import annotations

import pytest
import requests

from lti_tool.lms.canvas.client import CanvasRestClient
from lti_tool.lms.canvas.parsing import CanvasApiError
from lti_tool.lms.discovery import discover_canvas
from lti_tool.lms.source import MappingMode
from lti_tool.sandbox import demo_data as demo
from lti_tool.sandbox.canvas_rest import SANDBOX_TOKEN
from tests.integration.lms.conftest import LiveLms

CODES = list(demo.CPD_COURSES)


def _client(lms: LiveLms, http: requests.Session, per_page: int = 100) -> CanvasRestClient:
    return CanvasRestClient(lms.canvas_url, SANDBOX_TOKEN, http, 1, 0.01, per_page=per_page)


def _expected() -> dict[str, str]:
    return {code: str(demo.course_id(code)) for code in CODES}


def test_an_account_admin_token_finds_the_accounts_courses(
    lms: LiveLms, http: requests.Session
) -> None:
    client = _client(lms, http, per_page=4)  # the account's courses come over several pages
    assert client.get_all("/api/v1/courses") == []  # enrolled in none: "List your courses"

    found = discover_canvas(client, CODES, MappingMode.COURSE)

    assert {p.code: p.course_id for p in found.proposals} == _expected()
    assert found.missing == [] and found.ambiguous == {}
    assert lms.canvas.calls_to("/api/v1/accounts/self/courses") >= 2


def test_a_teachers_token_finds_the_courses_it_teaches(
    lms: LiveLms, http: requests.Session
) -> None:
    lms.canvas.unauthorized_tokens.add(SANDBOX_TOKEN)  # a teacher: no account rights
    client = _client(lms, http)
    with pytest.raises(CanvasApiError) as refused:
        client.get_all("/api/v1/accounts/self/courses")
    assert refused.value.status == 401

    found = discover_canvas(client, CODES, MappingMode.COURSE)

    assert {p.code: p.course_id for p in found.proposals} == _expected()


def test_the_fake_lists_only_what_was_asked_for(lms: LiveLms, http: requests.Session) -> None:
    """The fake checks what it is sent: another account is not found, and a state the
    courses are not in lists nothing."""
    client = _client(lms, http)
    with pytest.raises(CanvasApiError) as unknown:
        client.get_all("/api/v1/accounts/77/courses")
    assert unknown.value.status == 404
    assert client.get_all("/api/v1/accounts/self/courses", {"state[]": ["completed"]}) == []
