"""Reading JSON that someone else's server sent.

``json.loads`` raises ``RecursionError``, not ``ValueError``, on a deeply nested document
(``[[[[…`` a few thousand deep fits easily under the body cap), so a hostile registration URL,
JWKS or service answer became a 500. Every JSON answer from outside is read through
:func:`parse_json`, which makes that an ordinary ``ValueError`` like any other bad JSON.
:func:`platform_words` reads a platform's own explanation out of an error answer.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from lti_tool.outbound.excerpt import excerpt


def parse_json(data: str | bytes) -> Any:
    """``json.loads`` whose every failure is a ``ValueError``."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to read") from None


def response_json(response: requests.Response) -> Any:
    """The body of ``response`` as JSON (``ValueError`` when it is not)."""
    return parse_json(response.content)


def platform_words(response: requests.Response) -> str:
    """The platform's own explanation (staff see it) as a short escaped excerpt
    (``outbound/excerpt.py``): from the JSON shapes Moodle and Canvas use, else the body's
    text; when the body says nothing (empty, ``[]``, ``{}``), the HTTP reason phrase, where
    Moodle puts it for a refused score (``400 Incorrect score received{…}`` with body
    ``[]``)."""
    try:
        body = response_json(response)
    except ValueError:
        text = excerpt(response.content)
        return text or _reason_phrase(response)
    if isinstance(body, dict):
        for key in ("reason", "error_description", "message", "error"):
            if isinstance(body.get(key), str) and body[key].strip():
                return excerpt(body[key])
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return excerpt(str(errors[0].get("message")))
    return _reason_phrase(response)


def _reason_phrase(response: requests.Response) -> str:
    reason = response.reason
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", errors="replace")
    return excerpt(reason or "")
