"""Who may use the admin pages: a tool admin signed in at ``/admin/login``, or an LMS
administrator's launch session (held to their own registration). Learners and instructors
get 403. A browser with neither session is sent to the sign-in page, with ``next`` naming the
admin page it asked for (only ever a path of the admin pages, never another site); an API or
JSON call, or one carrying a launch token, gets 401."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lti_tool.admin.identity import AdminIdentity
from lti_tool.admin.known_client import (
    KNOWN_CLIENT_COOKIE,
    KNOWN_CLIENT_MAX_AGE,
    issue_known_client,
    known_client_id,
)
from lti_tool.admin.login import (
    LOCKOUT_SECONDS,
    SESSION_TTL_SECONDS,
    LockedOut,
    LoginRefused,
    health_page_admin,
    log_in,
    log_out,
    resolve_admin_session,
)
from lti_tool.errors import Forbidden, NotAuthenticated, NotFound, ToolError
from lti_tool.web import page_binding
from lti_tool.web.auth import bearer_token, current_launch, services, switched_off_launch
from lti_tool.web.errors import wants_json
from lti_tool.web.launch_token import page_token
from lti_tool.web.rate_limit import client_key

__all__ = [
    "ADMIN_COOKIE",
    "AdminIdentity",
    "current_admin",
    "form_refusal",
    "require_admin",
    "require_admin_even_in_outage",
    "require_tool_admin",
]

F = TypeVar("F", bound=Callable[..., Any])
ADMIN_COOKIE = "lti_tool_admin"


def current_admin() -> AdminIdentity | None:
    """The admin behind this request (a tool-admin session first), looked up once."""
    if "admin_identity" not in g:
        # Looked up once: when the store or database is down the lookup raises, and the error
        # page that follows (which asks again, for its header) must not raise a second time.
        g.admin_identity = None
        g.admin_identity = _find_admin()
    return cast(AdminIdentity | None, g.admin_identity)


def _find_admin() -> AdminIdentity | None:
    identity = None
    # A launch token sent with the request decides alone: the admin cookie must not lend
    # its rights to a request that names another session (defence in depth beside
    # SameSite=Strict).
    if bearer_token() is None and page_token(request) is None:
        identity = resolve_admin_session(services(), request.cookies.get(ADMIN_COOKIE))
    if identity is None:
        # An LMS administrator whose deployment is switched off keeps the admin pages of the
        # registration (what they may switch on again is ``admin/deployments.py``'s rule);
        # every other page of that launch is refused.
        found = current_launch() or switched_off_launch()
        if found is not None and found.launch.is_admin:
            launch = found.launch
            identity = AdminIdentity(
                name=launch.user.name or f"user {launch.sub}",
                kind="lms_admin",
                registration_pk=launch.registration.pk,
                user_pk=launch.user_pk,
            )
    return identity


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a path of the admin pages on this site, else None: never a URL
    with a scheme or host (``https://evil.example``), nor one the browser reads as another
    host (``//evil.example``, ``/\\evil.example``), nor anything with control characters."""
    if not value or len(value) > 2000:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value) or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return None
    root = (request.script_root or "") + "/admin"
    return value if parts.path == root or parts.path.startswith(root + "/") else None


def _to_sign_in() -> Response | None:
    """The redirect to the sign-in page for a browser with no session at all; None for an
    API/JSON call or one naming a launch session (they get the 401)."""
    if current_launch() is not None or wants_json():
        return None
    if bearer_token() is not None or page_token(request) is not None:
        return None
    if request.method in {"GET", "HEAD"}:
        asked = request.full_path if request.query_string else request.path
        target = url_for("admin.login", next=safe_next(request.script_root + asked))
        return redirect(target, 302)
    return redirect(url_for("admin.login"), 303)


def _refuse() -> None:
    refused = page_binding.refusal()
    if refused is not None and refused.code == "deployment_switched_off":
        raise refused  # a launch whose deployment is switched off, and no administrator
    if current_launch() is not None:
        raise Forbidden(
            "admin_only",
            "Tool administration is for LMS administrators and tool administrators only.",
        )
    raise NotAuthenticated(
        "no_admin_session",
        "Sign in with a tool-admin account at /admin/login, or open the tool from your "
        "learning platform as an administrator.",
    )


def require_admin(view: F) -> F:
    """401 without any session, 403 for a launch without an administrator role."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_admin() is None:
            sign_in = _to_sign_in()
            if sign_in is not None:
                return sign_in
            _refuse()
        return view(*args, **kwargs)

    return cast(F, wrapper)


def require_admin_even_in_outage(view: F) -> F:
    """As ``require_admin``, for the read-only health page: a tool admin's session cookie is
    checked in a way that works while the store or the database is down or hangs
    (``health_page_admin``). Every other page waits for the store to decide."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "admin_identity" not in g and bearer_token() is None and page_token(request) is None:
            identity = health_page_admin(services(), request.cookies.get(ADMIN_COOKIE))
            if identity is not None:
                g.admin_identity = identity
        # Otherwise as every admin page: an LMS admin's launch, the sign-in page, or (the
        # store being down) the outage's error page, with no health data.
        return require_admin(view)(*args, **kwargs)

    return cast(F, wrapper)


def require_tool_admin(view: F) -> F:
    """As ``require_admin``, and 403 for LMS admins: the action affects every platform."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        identity = current_admin()
        if identity is None:
            sign_in = _to_sign_in()
            if sign_in is not None:
                return sign_in
            _refuse()
        elif not identity.is_tool_admin:
            raise Forbidden("tool_admin_only", "Only a tool administrator may do this.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


def admin() -> AdminIdentity:
    """The admin of a view behind ``require_admin``."""
    identity = current_admin()
    assert identity is not None
    return identity


def form_refusal(exc: ToolError) -> str:
    """A form's refusal, to show on the page; scope and permission errors stay errors."""
    if isinstance(exc, NotFound | Forbidden):
        raise exc
    return exc.message


def login_page() -> Response | str:
    """GET: the form. POST: sign in, set the HttpOnly, SameSite=Strict cookie."""
    error: str | None = None
    status = 200
    username = ""
    next_page = safe_next(request.values.get("next"))
    if request.method == "POST":
        username = request.form.get("username", "")[:64]
        secret = services().settings.secret_key
        client = known_client_id(secret, request.cookies.get(KNOWN_CLIENT_COOKIE), username)
        try:
            token = log_in(
                services(),
                username,
                request.form.get("password", ""),
                # An IPv6 client picks any address of its /64 at will: count the /64.
                client_key(request.remote_addr),
                known_client=client,
            )
        except (LoginRefused, LockedOut) as exc:
            error, status = exc.message, exc.status
        else:
            response = redirect(next_page or url_for("admin.dashboard"))
            _set_admin_cookie(response, ADMIN_COOKIE, token, SESSION_TTL_SECONDS)
            known = issue_known_client(secret, username, client)
            _set_admin_cookie(response, KNOWN_CLIENT_COOKIE, known, KNOWN_CLIENT_MAX_AGE)
            return response
    page = render_template("admin/login.html", error=error, username=username, next_page=next_page)
    response = Response(page, status=status, mimetype="text/html")
    if status == 429:
        response.headers["Retry-After"] = str(LOCKOUT_SECONDS)
    return response


def _set_admin_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Strict and only sent to the admin pages."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
        path=(request.script_root or "") + "/admin",
    )


def logout() -> Response:
    log_out(services(), request.cookies.get(ADMIN_COOKIE))
    response = redirect(url_for("admin.login"))
    response.delete_cookie(ADMIN_COOKIE, path=(request.script_root or "") + "/admin")
    return response


def add_login_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/login", "login", login_page, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
