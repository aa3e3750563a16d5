"""The recorded Moodle 4.5.6 exchanges in ``tests/fixtures/moodle-4.5.6/`` (its README says
where they come from). ``MOODLE_FIXTURES_DIR`` may point at a fuller set of recordings.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

_CANDIDATES = (Path(__file__).resolve().parents[2] / "fixtures" / "moodle-4.5.6",)


@cache
def fixtures_dir() -> Path:
    override = os.environ.get("MOODLE_FIXTURES_DIR")
    for candidate in ([Path(override)] if override else []) + list(_CANDIDATES):
        if (candidate / "ws-get_site_info.json").is_file():
            return candidate
    pytest.fail("the recorded Moodle 4.5.6 fixtures are missing: set MOODLE_FIXTURES_DIR")


def exchange(name: str) -> dict[str, Any]:
    """One recorded exchange: request, status, headers, body (and body_json)."""
    loaded: dict[str, Any] = json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))
    return loaded


def body(name: str) -> Any:
    """The decoded JSON answer of a recorded exchange, parsed from the raw body."""
    return json.loads(exchange(name)["body"])


def header(name: str, field: str) -> str | None:
    """A response header as ``requests`` would give it (headers are a dict or a list of pairs)."""
    headers = exchange(name)["headers"]
    pairs = headers.items() if isinstance(headers, dict) else headers
    for key, value in pairs:
        if key.lower() == field.lower():
            return str(value)
    return None
