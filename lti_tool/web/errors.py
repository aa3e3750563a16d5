"""The one place that turns errors into pages or JSON, each with a correlation id."""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from lti_tool.errors import ToolError
from lti_tool.logs import log_event
from lti_tool.outages import unavailable_dependency
from lti_tool.persistence.locks import CONFLICT_MESSAGE, WriteConflict
from lti_tool.web import outages

log = logging.getLogger("lti_tool.web")
access_log = logging.getLogger("lti_tool.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# PostgreSQL: serialization failure, deadlock, lock not available, unique violation.
_CONFLICT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "23505"})
# How long a client is asked to wait before retrying when a dependency is down.
RETRY_AFTER_SECONDS = 30
UNAVAILABLE_TITLE = "Briefly unavailable"
UNAVAILABLE_MESSAGE = "The tool is briefly unavailable. Please try again in a minute."
# Werkzeug's own words for these ("If you entered the URL manually please check your
# spelling") are for developers; these are for nurses and tutors.
_HTTP_WORDS = {
    400: (
        "The tool could not read that request",
        "Something in what the page sent was not as the tool expects. Go back, reload the "
        "page and try again.",
    ),
    404: (
        "Page not found",
        "There is no page at this address in the pathway tool. Open the tool again from your "
        "course.",
    ),
    405: (
        "That page cannot be used like this",
        "The page was asked for in a way it does not take. Go back and use the page's own "
        "buttons and links.",
    ),
    413: (
        "Too large",
        "What was sent is larger than the tool accepts. Send a smaller file or less text.",
    ),
}


def is_write_conflict(exc: DBAPIError) -> bool:
    """A database error that means "another request changed the same rows at the same
    moment" (retrying later succeeds), as opposed to a fault in the tool."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if state in _CONFLICT_SQLSTATES:
        return True
    text = str(exc.orig).lower()
    if isinstance(exc, IntegrityError):
        return "unique constraint failed" in text  # SQLite
    return "database is locked" in text or "database table is locked" in text


def correlation_id() -> str:
    return str(getattr(g, "correlation_id", "") or "")


def wants_json() -> bool:
    """An API call or a client asking for JSON (errors go to it as JSON, not as a page)."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(
    status: int, code: str, title: str, message: str, new_window_url: str | None = None
) -> Response:
    cid = correlation_id()
    if wants_json():
        body: dict[str, Any] = {
            "code": code,
            "title": title,
            "message": message,
            "correlation_id": cid,
        }
        if new_window_url:
            body["new_window_url"] = new_window_url
        response = jsonify({"error": body})
    else:
        page = {
            "status": status,
            "code": code,
            "title": title,
            "message": message,
            "correlation_id": cid,
            "new_window_url": new_window_url,
        }
        response = Response(_render_error_page(page), mimetype="text/html")
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="lti-tool"'
    return response


def _render_error_page(page: dict[str, Any]) -> str:
    """The error page. With a dependency down, or when the usual rendering fails (a context
    processor that asks the store for the signed-in administrator), without the context
    processors: the page that says the tool is unavailable needs nothing that is."""
    if outages.unavailable_now() is None:
        try:
            return render_template("errors/error.html", **page)
        except Exception as exc:
            dependency = unavailable_dependency(exc)
            log.warning(
                "error page rendered plainly",
                exc_info=None if dependency else exc,  # a fault of the tool's own: its trace
                extra={"fields": {"error": type(exc).__name__, "dependency": dependency}},
            )
    template = current_app.jinja_env.get_template("errors/error.html")
    return template.render(request=request, g=g, **page)


def dependency_unavailable_response(exc: BaseException, dependency: str) -> Response:
    """503 with ``Retry-After``: the page (or JSON) saying the tool is briefly unavailable.
    One warning line per refused request; the traceback at most once a minute per
    dependency (web/outages.py)."""
    g.dependency_unavailable = dependency
    record = outages.outages()
    with_traceback = record.failed(dependency, unreachable=outages.is_unreachable(exc))
    if with_traceback:
        # The health page's "down since" starts at the first refused request (at most once
        # a minute per dependency: for the database it is shared through Redis).
        clock = getattr(current_app.extensions.get("lti_tool"), "outages", None)
        if clock is not None:
            with contextlib.suppress(Exception):
                clock.note_down(dependency)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    log.warning(
        "request refused: %s unavailable",
        dependency,
        exc_info=exc if with_traceback else None,
        extra={
            "fields": {
                "code": "dependency_unavailable",
                "dependency": dependency,
                "status": 503,
                "path": request.path,
                "error": type(exc).__name__,
                "reason": reason[0][:200] if reason else "",
            }
        },
    )
    response = error_response(503, "dependency_unavailable", UNAVAILABLE_TITLE, UNAVAILABLE_MESSAGE)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    outages.init_app(app)

    @app.before_request
    def _assign_correlation_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.correlation_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _echo_correlation_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = correlation_id()
        # One line per request: the path only (query strings carry login hints and tokens).
        log_event(
            access_log,
            logging.INFO,
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            ms=round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
        )
        return response

    @app.errorhandler(ToolError)
    def _tool_error(exc: ToolError) -> Response:
        log_event(
            log,
            logging.WARNING,
            "request refused",
            code=exc.code,
            status=exc.status,
            path=request.path,
            reason=exc.message,
        )
        return error_response(
            exc.status,
            exc.code,
            exc.title,
            exc.message,
            new_window_url=getattr(exc, "new_window_url", None),
        )

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Response:
        # Logged like every other refusal: in an LMS frame a browser dropping the session
        # cookie shows up here first (exc.description says which check failed).
        log_event(
            log,
            logging.WARNING,
            "request refused",
            code="csrf",
            status=400,
            path=request.path,
            reason=exc.description,
        )
        return error_response(
            400,
            "csrf",
            "The form expired",
            "The form's security token is missing or expired. Reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        # Flask wraps what escaped the request's own handling (the session opening, an error
        # in an error handler) in a 500; a dependency outage there is still a 503.
        original = getattr(exc, "original_exception", None)
        dependency = unavailable_dependency(original) if original else None
        if original is not None and dependency is not None:
            return dependency_unavailable_response(original, dependency)
        status = exc.code or 500
        title, message = _HTTP_WORDS.get(status, (exc.name, exc.description or exc.name))
        return error_response(status, exc.name.lower().replace(" ", "_"), title, message)

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError) -> Any:
        if not is_write_conflict(exc):
            return _unexpected(exc)
        log_event(log, logging.WARNING, "write conflict", path=request.path, reason=str(exc.orig))
        conflict = WriteConflict("write_conflict", CONFLICT_MESSAGE)
        return error_response(conflict.status, conflict.code, conflict.title, conflict.message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        dependency = unavailable_dependency(exc)
        if dependency is not None:
            return dependency_unavailable_response(exc, dependency)
        log.exception("unhandled error", extra={"fields": {"path": request.path}})
        return error_response(
            500,
            "internal_error",
            "Something went wrong",
            "The tool hit an unexpected error. Please try again; if it keeps happening, give "
            "the reference below to your administrator.",
        )
