"""JSON from someone else's server: every failure is a ValueError the callers already handle."""

from __future__ import annotations

import pytest

from lti_tool.lti.dynreg.response import platform_words
from lti_tool.outbound.answers import parse_json


def test_deep_nesting_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000)


def test_ordinary_json_is_read() -> None:
    assert parse_json(b'{"keys": []}') == {"keys": []}


def test_a_platform_refusal_nested_deeply_is_read_as_text() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    assert isinstance(platform_words(body, "application/json"), str)
