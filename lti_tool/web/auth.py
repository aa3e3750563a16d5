"""Who is asking: the launch session, from ``Authorization: Bearer`` or the session cookie."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from lti_tool.container import Services
from lti_tool.errors import Forbidden, NotAuthenticated
from lti_tool.lti.sessions import SESSION_COOKIE, LaunchSession, resolve_session
from lti_tool.web.launch_token import carry, page_token

F = TypeVar("F", bound=Callable[..., Any])
CROSS = frozenset({"cross-site", "same-site"})


def services() -> Services:
    return cast(Services, current_app.extensions["lti_tool"])


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def current_launch() -> LaunchSession | None:
    """The launch session of this request, looked up once: from ``Authorization: Bearer``,
    else a page's ``launch_token`` parameter (browsers without cookies in the iframe), else
    the session cookie. A token sent with the request is never topped up by the cookie."""
    if "launch_session" not in g:
        token = bearer_token()
        g.auth_via = "bearer"
        if token is None:
            token = page_token(request)
            g.auth_via = "page_token"
            # A page token only comes from the tool's own links and forms: one arriving from
            # another site (a link or form planted elsewhere) is not honoured.
            if token is not None and request.headers.get("Sec-Fetch-Site") in CROSS:
                token = ""  # refused, and not topped up by the cookie either
        if token is None:
            token = request.cookies.get(SESSION_COOKIE)
            g.auth_via = "cookie"
        g.launch_session = resolve_session(services().store, token)
        if g.launch_session is not None and g.auth_via == "page_token" and token:
            carry(token)
    return cast(LaunchSession | None, g.launch_session)


def page_launch() -> LaunchSession:
    """The launch session of a view behind ``require_launch``/``require_staff``; the page
    speaks its locale."""
    launch = current_launch()
    assert launch is not None
    g.locale = launch.data.get("locale")
    return launch


def require_launch(view: F) -> F:
    """401 unless a valid launch session accompanies the request."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_launch() is None:
            raise NotAuthenticated(
                "no_session",
                "No valid launch session: the token is missing, forged or expired. "
                "Open the tool again from your course.",
            )
        return view(*args, **kwargs)

    return cast(F, wrapper)


def require_staff(view: F) -> F:
    """403 unless the launch gave a staff role."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        launch = current_launch()
        if launch is None:
            raise NotAuthenticated("no_session", "No valid launch session.")
        if not launch.is_staff:
            raise Forbidden("staff_only", "This is for course staff only.")
        return view(*args, **kwargs)

    return cast(F, wrapper)
