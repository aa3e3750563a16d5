"""A short, escaped excerpt of what an upstream service answered, for staff and the log.

Never for an unauthenticated person: a page anyone can reach must not show what the tool
fetched on a stranger's word (that would turn the fetch into a read of the tool's network).
"""

from __future__ import annotations

import re

MAX_EXCERPT_CHARS = 200
_TAGS = re.compile(r"<[^>]{0,500}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e]")


def excerpt(body: bytes | str, limit: int = MAX_EXCERPT_CHARS) -> str:
    """At most ``limit`` characters of ``body`` as one line of plain text: markup tags
    dropped, control and direction characters shown as ``\\uXXXX``, whitespace collapsed.
    Pages still escape it on output like any other text."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    text = text[: limit * 20]
    text = _TAGS.sub(" ", text)
    text = " ".join(text.split())
    text = _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
