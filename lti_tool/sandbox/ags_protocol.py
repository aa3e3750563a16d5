"""Moodle's Assignment and Grade Services on the wire, for the sandbox fake (``ags.py``):
media types, how a request finds its resource, and the bytes of the answers.

Requests are routed as Moodle's ``mod/lti/services.php`` routes them: the first resource whose
media type fits (``Accept`` for GET, ``Content-Type`` otherwise, compared as exact strings)
and whose template occurs anywhere in the path, else 400 "No handler found for …". Its quirks
follow from that: the naive score URL ``…/lineitem?type_id=1/scores`` gets 400, and a results
GET without the result-container ``Accept`` is answered with the line item. Paging ``Link``
headers have typographic quotes and ``&amp;``; a ``resultScore`` that is empty (0 included) is
left out with its ``scoreOf`` and ``timestamp``; JSON is compact with ``\\/`` as PHP writes it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Response, request

from lti_tool.lti.claims import AGS_SCOPE
from lti_tool.sandbox.ags_store import Grade, LineItem, number

CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
SCORE_CONTAINER = "application/vnd.ims.lis.v1.scorecontainer+json"
RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
SCOPE = AGS_SCOPE
_ITEM = "/{context_id}/lineitems/{item_id}/lineitem"
# Moodle's resources, in its order (elements before containers).
_RESOURCES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("lineitem", _ITEM, (LINEITEM,), ("GET", "PUT", "DELETE")),
    ("lineitems", "/{context_id}/lineitems", (CONTAINER, LINEITEM), ("GET", "POST")),
    ("results", _ITEM + "/results", (RESULTS,), ("GET",)),
    ("scores", _ITEM + "/scores", (SCORE_CONTAINER, SCORE), ("POST",)),
)
# Moodle's fatal error page, where a results request with ``limit`` ends (see ``ags.py``).
CRASH_PAGE = (
    '<!DOCTYPE html>\n<html dir="ltr" lang="en" xml:lang="en">\n<head><title>Error | Sandbox LMS'
    '</title></head>\n<body><div role="main"><div data-rel="fatalerror" class="box errorbox">'
    '<p class="errormessage">Exception - Call to a member function out() on null</p>'
    '<p class="errorcode"><a href="https://docs.moodle.org/405/en/error/moodle/'
    'generalexceptionmessage">More information about this error</a></p></div></div></body></html>'
)


def find_resource(
    path: str, method: str, accept: str, ctype: str
) -> tuple[str, tuple[str, ...]] | None:
    """Moodle's choice: the first resource whose media type fits and whose template occurs
    anywhere in the path (unanchored, so ``…/lineitem/results`` also matches ``lineitem``)."""
    for name, template, formats, methods in _RESOURCES:
        if method == "GET" and accept and "*/*" not in accept and accept not in formats:
            continue
        if method not in ("GET", "DELETE") and ctype not in formats:
            continue
        if re.search(re.sub(r"\{\w+\}", "[^/]+", template), path):
            return name, methods
    return None


def fault_page(status: int, retry_after: float | None) -> Response:
    """An injected failure: the HTML error page, with ``Retry-After`` when given."""
    reason = "Too Many Requests" if status == 429 else "Service Unavailable"
    title = f"{status} {reason}"
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    response = Response(page, status, content_type="text/html; charset=utf-8")
    if retry_after is not None:
        response.headers["Retry-After"] = f"{retry_after:g}"
    return response


def php_json(body: Any, media: str, status: int = 200, *, escape: bool = True) -> Response:
    """JSON as PHP writes it: compact, and ``\\/`` unless JSON_UNESCAPED_SLASHES."""
    text = json.dumps(body, separators=(",", ":"))
    return Response(
        text.replace("/", "\\/") if escape else text, status, content_type=f"{media}; charset=utf-8"
    )


def json_body() -> Any:
    """The request's JSON body; None when it is empty or not JSON."""
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        return None


def result_json(item: LineItem, grade: Grade, endpoint: str, type_id: str) -> dict[str, Any]:
    """Moodle's ``result_for_json``; ``endpoint`` is the line item URL without its query."""
    result: dict[str, Any] = {
        "id": f"{endpoint}/results?type_id={type_id}&user_id={quote(grade.user_id)}",
        "userId": grade.user_id,
    }
    score = grade.result_score(item.score_maximum)
    if score:  # Moodle's !empty(): an empty or 0 grade has no score, scoreOf or timestamp
        result["resultScore"] = number(score)
        result["resultMaximum"] = number(item.score_maximum)
        if grade.comment:
            result["comment"] = grade.comment
        result["scoreOf"] = f"{endpoint}?type_id={type_id}"
        result["timestamp"] = datetime.fromtimestamp(grade.seconds, UTC).isoformat()
    return result


def paging_links(
    base: str, query: list[tuple[str, str]], total: int, start: int, limit: int
) -> str:
    """Moodle's line item paging links, its arithmetic and typography included."""

    def url(offset: int) -> str:
        pairs = [*query, ("from", str(offset))]
        return base + "?" + "&amp;".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs)

    in_range = 0 <= start < total
    links = [(url(0), "first")]
    if start > 0 and in_range:
        links.append((url(max(start - limit, 0)), "prev"))
    links.append((url(start), "canonical"))
    if start + limit <= total - 1 and in_range:
        links.append((url(start + limit), "next"))
    links.append((url(max(total - limit + 1, 0)), "last"))
    return ", ".join(f"<{link}>; rel=\u201c{rel}\u201d" for link, rel in links)


def refusal_in_status_line(status: int, reason: str) -> Response:
    """Moodle's answer to a refused score: the reason as the HTTP reason phrase (one line of
    Latin-1, as a status line must be), the body ``[]``."""
    phrase = " ".join(reason.split()).encode("latin-1", errors="replace").decode("latin-1")
    response = Response(b"[]", content_type="application/json; charset=utf-8")
    response.status = f"{status} {phrase}"
    return response
