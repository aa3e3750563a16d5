"""A platform's explanation of a refused service call: from the body when it says something,
else from the HTTP reason phrase, where Moodle puts a refused score's explanation."""

from __future__ import annotations

import pytest
import requests

from lti_tool.lti.service_errors import refused
from lti_tool.outbound.answers import platform_words

MOODLE_PHRASE = 'Incorrect score received{"userId":"9","scoreGiven":87}'


def _response(status: int, reason: str, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code, response.reason, response._content = status, reason, body
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    return response


@pytest.mark.parametrize("body", [b"[]", b"{}", b"", b"  ", b'{"reason": ""}'])
def test_a_body_that_says_nothing_gives_the_reason_phrase(body: bytes) -> None:
    failure = refused(_response(400, MOODLE_PHRASE, body))
    assert failure.words == MOODLE_PHRASE
    assert failure.message == f"HTTP 400: {MOODLE_PHRASE}"
    assert failure.http_status == 400


def test_a_body_that_explains_is_preferred_to_the_reason_phrase() -> None:
    body = b'{"status": 404, "reason": "Not Found: Grade item 7 doesn\'t exist"}'
    assert platform_words(_response(404, "Not Found", body)) == (
        "Not Found: Grade item 7 doesn't exist"
    )


def test_the_reason_phrase_is_an_escaped_short_excerpt() -> None:
    phrase = "Incorrect score <b>received</b>\u202e" + "x" * 500
    words = platform_words(_response(400, phrase, b"[]"))
    assert "<b>" not in words and "\u202e" not in words and len(words) <= 200


def test_no_body_and_no_reason_phrase_is_the_status_alone() -> None:
    assert refused(_response(400, "", b"[]")).message == "HTTP 400"
