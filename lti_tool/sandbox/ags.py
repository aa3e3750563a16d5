"""The sandbox LMS's Assignment and Grade Services 2.0: an honest, Moodle-shaped platform fake.

URLs, under the issuer (``pgcert-cl-2027`` and ``add_course``'s, each its own gradebook; 404s):

- ``/api/ags/<context>/lineitems`` GET (filters ``resource_id``, ``resource_link_id``, ``tag``;
  paging ``limit``/``from``) and POST;
- ``/api/ags/<context>/lineitems/<id>/lineitem?type_id=1`` GET, PUT, DELETE;
- ``…/lineitems/<id>/lineitem/scores?type_id=1`` POST; ``…/lineitem/results?type_id=1`` GET.

Requests are routed as Moodle's ``mod/lti/services.php`` routes them, quirks included (see
``ags_protocol.py``). Paging ``Link`` headers go out as raw UTF-8 on the wire; results with
``limit`` crash into Moodle's HTML 404. Errors are Moodle's JSON ``{status, reason}``, 401
without ``WWW-Authenticate``. :class:`AgsFake` injects latency and faults and records every
call; ``GET /gradebook`` shows the grades as a page.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from flask import Blueprint, Flask, Response, request

from lti_tool.sandbox.ags_gradebook import gradebook_page
from lti_tool.sandbox.ags_protocol import (
    CONTAINER,
    CRASH_PAGE,
    LINEITEM,
    RESULTS,
    SCOPE,
    SCORE,
    SCORE_CONTAINER,
    fault_page,
    find_resource,
    json_body,
    paging_links,
    php_json,
    refusal_in_status_line,
    result_json,
)
from lti_tool.sandbox.ags_store import AgsRefused, AgsStore, LineItem, ScorePost
from lti_tool.sandbox.ags_validation import param_int, parse_lineitem, parse_score
from lti_tool.sandbox.demo_people import DEMO_CONTEXT
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.sandbox.service_auth import ServiceRefused, require_scope, service_error

PREFIX = "/api/ags"
TYPE_ID = "1"


class AgsFake:
    """The AGS platform and its controls; thread-safe (the sandbox server is threaded)."""

    def __init__(self, platform: SandboxPlatform, latency: float = 0.0, seed: bool = True) -> None:
        self.platform = platform
        self.store = AgsStore()
        self.courses: dict[str, AgsStore] = {}  # other courses' gradebooks, by context id
        self.seed = seed
        self.latency = latency
        self.calls: list[str] = []
        self.score_posts: list[ScorePost] = []
        self.lineitem_creates: list[LineItem] = []
        self.max_in_flight = 0
        self._faults: deque[tuple[int, float | None]] = deque()
        # Users whose scores this platform answers 404 (some platforms do for a user they
        # cannot grade), and a listing of line items that is not a list (a faulty platform).
        self.not_found_users: set[str] = set()
        self.broken_listing = False
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
            self.not_found_users = set()
            self.broken_listing = False
        self.latency = latency
        self.store.clear()
        self.courses.clear()
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

    def add_course(self, context_id: str) -> AgsStore:
        """Another course of the platform, with a gradebook of its own (empty)."""
        return self.courses.setdefault(context_id, AgsStore())

    @property
    def lineitems_url(self) -> str:
        return self.course_lineitems_url()

    def course_lineitems_url(self, context_id: str = "") -> str:
        return f"{self.platform.issuer}{PREFIX}/{context_id or DEMO_CONTEXT['id']}/lineitems"

    def lineitem_url(self, item_id: int, query: bool = True, context: str = "") -> str:
        url = f"{self.course_lineitems_url(context)}/{item_id}/lineitem"
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
                return fault_page(*fault)
            return self._route("/" + subpath)
        except AgsRefused as exc:
            if exc.in_status_line:
                return refusal_in_status_line(exc.status, exc.reason)
            return service_error(exc.status, exc.reason)
        except ServiceRefused as exc:
            return service_error(exc.status, exc.reason)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _route(self, path: str) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        accept = request.headers.get("Accept", "") if method == "GET" else ""
        ctype = "" if method == "GET" else request.headers.get("Content-Type", "")
        found = find_resource(path, method, accept, ctype)
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
        store = self._gradebook(context)
        if method == "POST":
            item = store.create(**parse_lineitem(json_body()))
            with self._lock:
                self.lineitem_creates.append(item)
            url = self.lineitem_url(item.id, context=context)
            return php_json(item.to_json(url), LINEITEM, 201, escape=False)
        if self.broken_listing:
            return php_json({"error": "Internal problem"}, CONTAINER)
        args = request.args
        link_id = args.get("resource_link_id", args.get("lti_link_id"))
        filters = {"resource_id": args.get("resource_id"), "resource_link_id": link_id}
        filters["tag"] = args.get("tag")
        items = store.find(**filters)
        limit, start = param_int(args.get("limit")), param_int(args.get("from"))
        page = items
        if limit > 0:
            page = items[start : start + limit] if start >= 0 else []
        body = [item.to_json(self.lineitem_url(item.id, context=context)) for item in page]
        response = php_json(body, CONTAINER)
        if limit > 0:
            query = [(k, v) for k, v in filters.items() if v is not None]
            query += [("type_id", TYPE_ID), ("limit", str(limit))]
            url = self.course_lineitems_url(context)
            links = paging_links(url, query, len(items), start, limit)
            # WSGI header values are Latin-1 str: this one puts Moodle's UTF-8 bytes on the wire.
            response.headers["Link"] = links.encode("utf-8").decode("latin-1")
        return response

    def _lineitem(self, method: str, context: str, item_id: str) -> Response:
        self._authorize("lineitem", *(["lineitem.readonly"] if method == "GET" else []))
        store, item = self._item(context, item_id, "")
        url = self.lineitem_url(item.id, context=context)
        if method == "GET":
            return php_json(item.to_json(url), LINEITEM)
        if method == "PUT":
            updated = store.update(item.id, parse_lineitem(json_body()))
            if updated is None:
                raise AgsRefused(404, f"Not Found: Grade item {item_id} doesn't exist")
            return php_json(updated.to_json(url), LINEITEM, escape=False)
        if not item.tool_owned:
            raise AgsRefused(403, "Forbidden")  # Moodle keeps an activity's own grade item
        store.delete(item.id)
        return Response(status=204)

    def _results(self, context: str, item_id: str) -> Response:
        self._authorize("result.readonly")
        store, item = self._item(context, item_id, ".")
        grades = store.results(item.id, request.args.get("user_id") or None)
        if grades and param_int(request.args.get("limit")) > 0:
            # Moodle 4.5 builds no "last" link for LTI 1.3 tools and dies on it.
            return Response(CRASH_PAGE, 404, content_type="text/html; charset=utf-8")
        endpoint = self.lineitem_url(item.id, query=False, context=context)
        return php_json([result_json(item, g, endpoint, TYPE_ID) for g in grades], RESULTS)

    def _scores(self, context: str, item_id: str, ctype: str) -> Response:
        body, status = json_body(), 500
        try:
            self._authorize("score")
            if ctype == SCORE_CONTAINER:
                raise AgsRefused(400, "Bad Request")
            store, item = self._item(context, item_id, ".")
            if isinstance(body, dict) and str(body.get("userId")) in self.not_found_users:
                raise AgsRefused(404, "Not Found: user")
            store.record(item.id, parse_score(body, self.platform.roster))
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
                require_scope(self.platform, SCOPE + scope)
                return
            except ServiceRefused:
                pass
        require_scope(self.platform, SCOPE + scopes[-1])

    def _item(self, context: str, item_id: str, stop: str) -> tuple[AgsStore, LineItem]:
        store = self._gradebook(context, stop)
        item = store.get(param_int(item_id))
        if item is None:
            raise AgsRefused(404, f"Not Found: Grade item {item_id} doesn't exist{stop}")
        return store, item

    def _gradebook(self, context: str, stop: str = "") -> AgsStore:
        store = self.store if context == DEMO_CONTEXT["id"] else self.courses.get(context)
        if store is None:
            raise AgsRefused(404, f"Not Found: Course {context} doesn't exist{stop}")
        return store

    def gradebook_page(self) -> str:
        """The sandbox's gradebook: line items by learners, score/max and time."""
        return gradebook_page(self.store, self.platform.roster)


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
