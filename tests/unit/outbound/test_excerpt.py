"""What staff may see of an upstream answer: short, one line, no markup or control characters."""

from __future__ import annotations

from lti_tool.outbound.excerpt import MAX_EXCERPT_CHARS, excerpt


def test_long_bodies_are_cut_short() -> None:
    text = excerpt(b"x" * 100_000)
    assert len(text) == MAX_EXCERPT_CHARS and text.endswith("…")


def test_markup_is_dropped_and_whitespace_collapsed() -> None:
    body = b"<html><script>alert(1)</script><p>Fatal\n\n  error</p></html>"
    assert excerpt(body) == "alert(1) Fatal error"


def test_control_and_direction_characters_are_shown_escaped() -> None:
    text = excerpt("ok\x1b[31mred\u202egnp.exe\x00".encode())
    assert "\x1b" not in text and "\u202e" not in text and "\x00" not in text
    assert "\\u001b" in text and "\\u202e" in text


def test_bytes_that_are_not_utf8_do_not_raise() -> None:
    assert excerpt(b"\xff\xfeabc").endswith("abc")
