"""Pages for browsers that keep no cookies for the tool inside the LMS iframe.

When a launch was bound to the browser through the platform's storage (no cookie reached the
tool), the session cookie will not come back either. The pages then carry the launch token
themselves: ``url_for`` adds ``launch_token=…`` to links and form actions of the page
blueprints, GET forms get a hidden field, and the Flask session (CSRF token, flashed messages)
is kept server-side under the token's hash instead of in a cookie. The token never leaves the
tool's origin: ``Referrer-Policy`` strips it from cross-origin referrers, access logs record
paths only, and it is not added to URLs the tool hands to platforms.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, Request, Response, g, request
from flask.sessions import SecureCookieSession
from markupsafe import Markup, escape
from werkzeug.exceptions import RequestEntityTooLarge

from lti_tool.cookies import FrameSessionInterface
from lti_tool.outages import unavailable_dependency
from lti_tool.web import outages
from lti_tool.web.page_binding import from_tool_pages

PARAM = "launch_token"
_SESSION_KIND = "flask_session"
# Blueprints whose pages link to each other; API calls send the token as a Bearer header.
_PAGE_BLUEPRINTS = frozenset(
    {"student", "staff", "class_view", "completion_grid", "admin", "privacy"}
)


def carry(token: str) -> None:
    """From here on this response's links and forms carry ``token``."""
    g.carry_launch_token = token


def carried() -> str | None:
    token = g.get("carry_launch_token")
    return str(token) if token else None


def page_token(request: Request) -> str | None:
    """The launch token a page sent in its link or form (``launch_token=…``)."""
    value = request.args.get(PARAM)
    if not value and request.method == "POST":
        value = request.form.get(PARAM)
    return value.strip() if value and value.strip() else None


def _add_token(endpoint: str, values: dict[str, Any]) -> None:
    token = carried()
    if token and endpoint.partition(".")[0] in _PAGE_BLUEPRINTS:
        values.setdefault(PARAM, token)


def launch_token_field() -> Markup:
    """A hidden field for GET forms (a browser drops the action's query string for them)."""
    token = carried()
    if not token:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(PARAM, escape(token))


class TokenSession(SecureCookieSession):
    """A Flask session kept in the shared store under the launch token's hash."""


class LaunchTokenSessionInterface(FrameSessionInterface):
    """Cookie sessions under the frame cookie policy (lti_tool/cookies.py); a server-side
    session for pages that carry the token (API calls with a Bearer header need neither CSRF
    tokens nor flashed messages)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        try:
            token = page_token(request)
        except RequestEntityTooLarge:  # refused (413) when the view reads the body
            token = None
        if token is None or len(token) > 128 or not from_tool_pages(request):
            # A token from elsewhere is refused by web/auth.py; it opens nothing here.
            return super().open_session(app, request)
        try:
            data = _store(app).get(_SESSION_KIND, _hash(token))
        except Exception as exc:
            if unavailable_dependency(exc) is None:
                raise
            # Raised again by the first before_request hook, where the error handlers (and
            # the request's correlation id) turn it into the 503 page.
            g.session_store_error = exc
            data = None
        return TokenSession(data or {})

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        # Only a token this request validated (or the launch just issued) gets a session:
        # a forged ``launch_token`` must not make the tool write anything under it.
        token = carried()
        if token is None and isinstance(session, TokenSession):
            return
        if outages.unavailable_now() is not None:
            return  # the 503 page of an outage: the store may be what is down
        if token is None:
            super().save_session(app, session, response)
            return
        if session.modified or (not isinstance(session, TokenSession) and session):
            settings = app.extensions["lti_tool"].settings
            _store(app).put(
                _SESSION_KIND, _hash(token), dict(session), settings.launch_session_ttl_seconds
            )


def _store(app: Flask) -> Any:
    return app.extensions["lti_tool"].store


def _hash(token: str) -> str:
    return hashlib.sha256(("flask-session:" + token).encode()).hexdigest()


def init_app(app: Flask) -> None:
    app.session_interface = LaunchTokenSessionInterface()

    @app.before_request
    def _store_failed_at_session_open() -> None:
        failure = g.pop("session_store_error", None)
        if failure is not None and request.blueprint != "ops":
            raise failure

    app.url_defaults(_add_token)
    app.jinja_env.globals["launch_token_field"] = launch_token_field
    app.jinja_env.globals["carried_launch_token"] = carried
