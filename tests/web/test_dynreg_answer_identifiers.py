"""Identifiers in a Dynamic Registration answer that no column holds: anyone can run
/lti/register against a server of their own, whose answer (client_id, deployment_id) reached
the database as it was: a deployment id over 255 characters or a NUL character was a 500 with
a traceback on PostgreSQL. Such an answer is refused in words, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from lti_tool.lti.dynreg.configuration import PlatformRefused
from lti_tool.lti.dynreg.response import parse_registration_response
from lti_tool.sandbox.dynreg_common import TOOL_CONFIGURATION
from tests.support.dynreg import Lms
from tests.support.lti import form_fields
from tests.web.test_dynamic_registration import registrations

ODD = [
    ("deployment_id", "d" * 256),
    ("deployment_id", "dep\x00loyment"),
    ("deployment_id", "dep\ud800loyment"),  # a lone surrogate
    ("deployment_id", "dep\nloyment"),
    ("client_id", "cli\x00ent"),
    ("client_id", "c" * 256),
    ("client_id", "cli\x1bent"),
]


def answering(lms: Lms, monkeypatch: pytest.MonkeyPatch, field: str, value: Any) -> None:
    """The Moodle-like fake answers with ``value`` as its ``field``."""
    original = lms.moodle.register

    def register(*args: Any, **kwargs: Any) -> tuple[int, Any]:
        status, answer = original(*args, **kwargs)
        if field == "deployment_id":
            answer[TOOL_CONFIGURATION]["deployment_id"] = value
        else:
            answer[field] = value
        return status, answer

    monkeypatch.setattr(lms.moodle, "register", register)


@pytest.mark.parametrize(("field", "value"), ODD)
def test_odd_identifiers_in_a_registration_answer_are_refused_in_words(
    tool: Flask, lms: Lms, monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    answering(lms, monkeypatch, field, value)
    client = tool.test_client()
    page = client.get(lms.moodle_start()).get_data(as_text=True)
    done = client.post("/lti/register", data=form_fields(page))
    text = done.get_data(as_text=True)
    assert done.status_code == 422, text[:300]
    assert "bad_registration_response" in text and "longer than 255 characters" in text
    assert "Traceback" not in text
    assert registrations(tool) == {}


def test_identifiers_of_255_characters_are_kept(
    tool: Flask, lms: Lms, monkeypatch: pytest.MonkeyPatch
) -> None:
    answering(lms, monkeypatch, "deployment_id", "d" * 255)
    client = tool.test_client()
    page = client.get(lms.moodle_start()).get_data(as_text=True)
    done = client.post("/lti/register", data=form_fields(page))
    assert done.status_code == 200, done.get_data(as_text=True)[:300]
    [registration] = registrations(tool).values()
    assert registration["deployments"] == {"d" * 255: True}


@pytest.mark.parametrize(
    "answer",
    [
        {"client_id": "abc", "deployment_id": "1:\x00ff"},  # recent Canvas: at the top level
        {"client_id": "abc", TOOL_CONFIGURATION: {"deployment_id": "dep\x7floyment"}},
        {"client_id": int("9" * 256)},
    ],
)
def test_the_answer_is_refused_wherever_the_odd_identifier_stands(answer: Any) -> None:
    with pytest.raises(PlatformRefused) as refused:
        parse_registration_response(answer)
    assert refused.value.code == "bad_registration_response"
    assert refused.value.status == 422
