"""Reading JSON that someone else's server sent.

``json.loads`` raises ``RecursionError``, not ``ValueError``, on a deeply nested document
(``[[[[…`` a few thousand deep fits easily under the body cap), so a hostile registration URL,
JWKS or service answer became a 500. Every JSON answer from outside is read through
:func:`parse_json`, which makes that an ordinary ``ValueError`` like any other bad JSON.
"""

from __future__ import annotations

import json
from typing import Any

import requests


def parse_json(data: str | bytes) -> Any:
    """``json.loads`` whose every failure is a ``ValueError``."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to read") from None


def response_json(response: requests.Response) -> Any:
    """The body of ``response`` as JSON (``ValueError`` when it is not)."""
    return parse_json(response.content)
