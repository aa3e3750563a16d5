"""A tolerant parser for HTTP ``Link`` headers (RFC 8288), as LMSs really write them.

pylti1p3 lower-cases the whole header (breaking case-sensitive URLs) and only matches
``rel="next"`` in ASCII quotes. What we meet instead:

- Moodle's AGS writes typographic quotes, ``rel=“next”``, as raw UTF-8 bytes; ``requests``
  (``http.client``) decodes header bytes as Latin-1, so they arrive as ``rel=â\\x80\\x9cnextâ…``.
  Both spellings are accepted.
- Moodle's AGS also HTML-escapes the URL: ``?type_id=1&amp;limit=1``.
- Canvas joins links with ``,`` and no space and sends ``current``/``first``/``last`` too.
- ``rel`` may hold several space-separated values and its case varies; the URL's case is kept.
- The target may be relative (``</memberships?from=2>``): ``next_link`` resolves it against the
  URL of the page it came in. The caller's host check still applies to the result.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

_LINK = re.compile(r"<([^>]*)>([^<]*)")
_AMP = re.compile(r"&amp;", re.IGNORECASE)
# ASCII and typographic quotes (and the odd apostrophe) that may wrap a parameter value.
_QUOTES = "\"'\u201c\u201d\u201e\u201f\u2018\u2019\u00ab\u00bb"


def parse_link_header(value: str | None) -> dict[str, str]:
    """Map each ``rel`` (lower-cased) to its URL; the first link wins for a repeated rel."""
    links: dict[str, str] = {}
    if not value:
        return links
    for match in _LINK.finditer(_repair_mojibake(value)):
        url = _AMP.sub("&", match.group(1).strip())
        for rel in _rels(match.group(2)):
            links.setdefault(rel, url)
    return links


def next_link(value: str | None, base: str) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header, or ``None`` on the last page. A relative
    target is resolved against ``base``, the URL of the response the header came in (RFC 8288
    section 3.2, RFC 3986 section 5): a platform may page with ``</memberships?page=2>``."""
    link = parse_link_header(value).get("next")
    return urljoin(base, link) if link else None


def _rels(params: str) -> list[str]:
    rels: list[str] = []
    # The text up to the next "<" ends with the "," that separates links (no space on Canvas).
    for param in params.strip().rstrip(",").split(";"):
        name, sep, raw = param.partition("=")
        if sep and name.strip().lower() == "rel":
            rels.extend(part.lower() for part in raw.strip().strip(_QUOTES).split())
    return rels


def _repair_mojibake(value: str) -> str:
    """Undo the Latin-1 reading of UTF-8 bytes; leave genuine text alone."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
