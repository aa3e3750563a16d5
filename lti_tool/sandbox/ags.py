"""The sandbox LMS's Assignment and Grade Services 2.0: an honest, Moodle-shaped platform fake.

URLs, under the issuer (context ``pgcert-cl-2027``; any other context answers 404):

- ``/api/ags/<context>/lineitems`` GET (filters ``resource_id``, ``resource_link_id``, ``tag``;
  paging ``limit``/``from``) and POST;
- ``/api/ags/<context>/lineitems/<id>/lineitem?type_id=1`` GET, PUT, DELETE;
- ``…/lineitems/<id>/lineitem/scores?type_id=1`` POST; ``…/lineitem/results?type_id=1`` GET.

Requests are routed as Moodle's ``mod/lti/services.php`` routes them: the first resource whose
media type fits (``Accept`` for GET, ``Content-Type`` otherwise, compared as exact strings)
and whose template occurs anywhere in the path, else 400 "No handler found for …". Its quirks
follow from that: the naive score URL ``…/lineitem?type_id=1/scores`` gets 400, and a results
GET without the result-container ``Accept`` is answered with the line item. Paging ``Link``
headers have typographic quotes and ``&amp;`` (raw UTF-8 on the wire); results with ``limit``
crash into Moodle's HTML 404. Errors are Moodle's JSON ``{status, reason}``, 401 without
``WWW-Authenticate``. :class:`AgsFake` injects latency and faults and records every call;
``GET /gradebook`` shows the grades as a page.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request

from lti_tool.sandbox.ags_store import (
    AgsRefused,
    AgsStore,
    LineItem,
    ScorePost,
    gradebook_rows,
    number,
    paging_links,
    param_int,
    parse_lineitem,
    parse_score,
    result_json,
)
from lti_tool.sandbox.app import ServiceRefused, _require_scope, _service_error
from lti_tool.sandbox.platform import DEMO_CONTEXT, SandboxPlatform

CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
SCORE = "application/vnd.ims.lis.v1.score+json"
SCORE_CONTAINER = "application/vnd.ims.lis.v1.scorecontainer+json"
RESULTS = "application/vnd.ims.lis.v2.resultcontainer+json"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
PREFIX = "/api/ags"
TYPE_ID = "1"
_ITEM = "/{context_id}/lineitems/{item_id}/lineitem"
# Moodle's resources, in its order (elements before containers).
_RESOURCES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("lineitem", _ITEM, (LINEITEM,), ("GET", "PUT", "DELETE")),
    ("lineitems", "/{context_id}/lineitems", (CONTAINER, LINEITEM), ("GET", "POST")),
    ("results", _ITEM + "/results", (RESULTS,), ("GET",)),
    ("scores", _ITEM + "/scores", (SCORE_CONTAINER, SCORE), ("POST",)),
)
_CRASH = (
    '<!DOCTYPE html>\n<html dir="ltr" lang="en" xml:lang="en">\n<head><title>Error | Sandbox LMS'
    '</title></head>\n<body><div role="main"><div data-rel="fatalerror" class="box errorbox">'
    '<p class="errormessage">Exception - Call to a member function out() on null</p>'
    '<p class="errorcode"><a href="https://docs.moodle.org/405/en/error/moodle/'
    'generalexceptionmessage">More information about this error</a></p></div></div></body></html>'
)


class AgsFake:
    """The AGS platform and its controls; thread-safe (the sandbox server is threaded)."""

    def __init__(self, platform: SandboxPlatform, latency: float = 0.0, seed: bool = True) -> None:
        self.platform = platform
        self.store = AgsStore()
        self.seed = seed
        self.latency = latency
        self.calls: list[str] = []
        self.score_posts: list[ScorePost] = []
        self.lineitem_creates: list[LineItem] = []
        self.max_in_flight = 0
        self._faults: deque[tuple[int, float | None]] = deque()
        self._in_flight = 0
        self._lock = threading.Lock()
        self.reset(latency)

    def reset(self, latency: float = 0.0) -> None:
        """Back to the start: no faults or records, the seeded gradebook only."""
        with self._lock:
            self._faults.clear()
            self.calls.clear()
            self.score_posts.clear()
            self.lineitem_creates.clear()
            self.max_in_flight = 0
        self.latency = latency
        self.store.clear()
        if self.seed:
            # The activity's own grade item, as Moodle lists it (no resourceId, a link id).
            label = "Clinical leadership pathway"
            self.add_lineitem(label, 100, resource_link_id="link-checklist", tool_owned=False)

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        """The next ``count`` calls answer HTTP ``status`` with an HTML page."""
        with self._lock:
            self._faults.extend([(status, None)] * count)

    def throttle_next(self, count: int = 1, retry_after: float | None = 1) -> None:
        """The next ``count`` calls answer 429 with ``Retry-After`` (seconds)."""
        with self._lock:
            self._faults.extend([(429, retry_after)] * count)

    def add_lineitem(self, label: str, score_maximum: float, **values: Any) -> LineItem:
        """Put a line item in the gradebook directly (not counted as a tool's create)."""
        return self.store.create(label=label, score_maximum=float(score_maximum), **values)

    @property
    def gradebook(self) -> dict[int, dict[str, dict[str, Any]]]:
        """``{line item id: {user id: {scoreGiven, scoreMaximum, comment, timestamp, …}}}``."""
        return self.store.snapshot()

    def accepted_scores(
        self, lineitem_id: int | None = None, user_id: str | None = None
    ) -> list[ScorePost]:
        """The score POSTs answered 200, optionally for one line item and/or user."""
        with self._lock:
            posts = list(self.score_posts)
        return [
            p
            for p in posts
            if p.status == 200
            and lineitem_id in (None, p.lineitem_id)
            and user_id in (None, p.user_id)
        ]

    @property
    def lineitems_url(self) -> str:
        return f"{self.platform.issuer}{PREFIX}/{DEMO_CONTEXT['id']}/lineitems"

    def lineitem_url(self, item_id: int, query: bool = True) -> str:
        url = f"{self.lineitems_url}/{item_id}/lineitem"
        return f"{url}?type_id={TYPE_ID}" if query else url

    def serve(self, subpath: str) -> Response:
        """Answer one AGS request: the fault queue and the latency come first."""
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self.calls.append(f"{request.method} {request.full_path.rstrip('?')}")
            fault = self._faults.popleft() if self._faults else None
        try:
            time.sleep(self.latency)
            if fault is not None:
                return _fault(*fault)
            return self._route("/" + subpath)
        except (AgsRefused, ServiceRefused) as exc:
            return _service_error(exc.status, exc.reason)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _route(self, path: str) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        accept = request.headers.get("Accept", "") if method == "GET" else ""
        ctype = "" if method == "GET" else request.headers.get("Content-Type", "")
        found = _resource(path, method, accept, ctype)
        if found is None:
            raise AgsRefused(400, f"No handler found for {path} {accept} {ctype}")
        name, methods = found
        if method not in methods:
            raise AgsRefused(405, "Method Not Allowed")
        parts = path.split("/")
        context, item_id = parts[1], parts[3] if len(parts) > 3 else ""
        if name == "lineitems":
            return self._lineitems(method, context, accept or ctype)
        if name == "lineitem":
            return self._lineitem(method, context, item_id)
        if name == "results":
            return self._results(context, item_id)
        return self._scores(context, item_id, ctype)

    def _lineitems(self, method: str, context: str, media: str) -> Response:
        self._authorize("lineitem", *(["lineitem.readonly"] if method == "GET" else []))
        if (not media or media == CONTAINER) == (method == "POST"):
            raise AgsRefused(400, "No context or unsupported content type")
        _check_context(context)
        if method == "POST":
            item = self.store.create(**parse_lineitem(_json_body()))
            with self._lock:
                self.lineitem_creates.append(item)
            return _json(item.to_json(self.lineitem_url(item.id)), LINEITEM, 201, escape=False)
        args = request.args
        link_id = args.get("resource_link_id", args.get("lti_link_id"))
        filters = {"resource_id": args.get("resource_id"), "resource_link_id": link_id}
        filters["tag"] = args.get("tag")
        items = self.store.find(**filters)
        limit, start = param_int(args.get("limit")), param_int(args.get("from"))
        page = items
        if limit > 0:
            page = items[start : start + limit] if start >= 0 else []
        body = [item.to_json(self.lineitem_url(item.id)) for item in page]
        response = _json(body, CONTAINER)
        if limit > 0:
            query = [(k, v) for k, v in filters.items() if v is not None]
            query += [("type_id", TYPE_ID), ("limit", str(limit))]
            links = paging_links(self.lineitems_url, query, len(items), start, limit)
            # WSGI header values are Latin-1 str: this one puts Moodle's UTF-8 bytes on the wire.
            response.headers["Link"] = links.encode("utf-8").decode("latin-1")
        return response

    def _lineitem(self, method: str, context: str, item_id: str) -> Response:
        self._authorize("lineitem", *(["lineitem.readonly"] if method == "GET" else []))
        item = self._item(context, item_id, "")
        if method == "GET":
            return _json(item.to_json(self.lineitem_url(item.id)), LINEITEM)
        if method == "PUT":
            updated = self.store.update(item.id, parse_lineitem(_json_body()))
            if updated is None:
                raise AgsRefused(404, f"Not Found: Grade item {item_id} doesn't exist")
            return _json(updated.to_json(self.lineitem_url(item.id)), LINEITEM, escape=False)
        if not item.tool_owned:
            raise AgsRefused(403, "Forbidden")  # Moodle keeps an activity's own grade item
        self.store.delete(item.id)
        return Response(status=204)

    def _results(self, context: str, item_id: str) -> Response:
        self._authorize("result.readonly")
        item = self._item(context, item_id, ".")
        grades = self.store.results(item.id, request.args.get("user_id") or None)
        if grades and param_int(request.args.get("limit")) > 0:
            # Moodle 4.5 builds no "last" link for LTI 1.3 tools and dies on it.
            return Response(_CRASH, 404, content_type="text/html; charset=utf-8")
        endpoint = self.lineitem_url(item.id, query=False)
        return _json([result_json(item, g, endpoint, TYPE_ID) for g in grades], RESULTS)

    def _scores(self, context: str, item_id: str, ctype: str) -> Response:
        body, status = _json_body(), 500
        try:
            self._authorize("score")
            if ctype == SCORE_CONTAINER:
                raise AgsRefused(400, "Bad Request")
            item = self._item(context, item_id, ".")
            self.store.record(item.id, parse_score(body, self.platform.roster))
            status = 200
            return Response(b"", 200, content_type=f"{SCORE}; charset=utf-8")
        except (AgsRefused, ServiceRefused) as exc:
            status = exc.status
            raise
        finally:
            with self._lock:
                self.score_posts.append(ScorePost(param_int(item_id), body, status))

    def _authorize(self, *scopes: str) -> None:
        """Any one of the AGS ``scopes`` will do; else Moodle's 401 (``ServiceRefused``)."""
        for scope in scopes[:-1]:
            try:
                _require_scope(self.platform, SCOPE + scope)
                return
            except ServiceRefused:
                pass
        _require_scope(self.platform, SCOPE + scopes[-1])

    def _item(self, context: str, item_id: str, stop: str) -> LineItem:
        _check_context(context, stop)
        item = self.store.get(param_int(item_id))
        if item is None:
            raise AgsRefused(404, f"Not Found: Grade item {item_id} doesn't exist{stop}")
        return item

    def gradebook_page(self) -> str:
        """The sandbox's gradebook: line items by learners, score/max and time."""
        items = self.store.find(None, None, None)
        rows = gradebook_rows(items, self.store.snapshot(), self.platform.roster)
        return render_template(
            "sandbox/gradebook.html", context=DEMO_CONTEXT, items=items, rows=rows, number=number
        )


def register_ags(
    app: Flask, platform: SandboxPlatform, *, latency: float = 0.0, seed: bool = True
) -> AgsFake:
    """Serve AGS under ``/api/ags`` and the page ``/gradebook``; returns the controls."""
    fake = AgsFake(platform, latency=latency, seed=seed)
    blueprint = Blueprint("ags", __name__)
    blueprint.add_url_rule(
        PREFIX + "/<path:subpath>", "service", fake.serve, methods=["GET", "POST", "PUT", "DELETE"]
    )
    blueprint.add_url_rule("/gradebook", "gradebook", fake.gradebook_page)
    app.register_blueprint(blueprint)
    return fake


def _resource(
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


def _check_context(context: str, stop: str = "") -> None:
    if context != DEMO_CONTEXT["id"]:
        raise AgsRefused(404, f"Not Found: Course {context} doesn't exist{stop}")


def _fault(status: int, retry_after: float | None) -> Response:
    reason = "Too Many Requests" if status == 429 else "Service Unavailable"
    title = f"{status} {reason}"
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    response = Response(page, status, content_type="text/html; charset=utf-8")
    if retry_after is not None:
        response.headers["Retry-After"] = f"{retry_after:g}"
    return response


def _json(body: Any, media: str, status: int = 200, *, escape: bool = True) -> Response:
    """JSON as PHP writes it: compact, and ``\\/`` unless JSON_UNESCAPED_SLASHES."""
    text = json.dumps(body, separators=(",", ":"))
    return Response(
        text.replace("/", "\\/") if escape else text, status, content_type=f"{media}; charset=utf-8"
    )


def _json_body() -> Any:
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        return None
