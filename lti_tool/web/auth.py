"""Who is asking: the launch session, from ``Authorization: Bearer``, a page's launch token or
the cookie of the launch the page names."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from lti_tool.container import Services
from lti_tool.errors import Forbidden, NotAuthenticated
from lti_tool.lti.sessions import LaunchSession, resolve_session
from lti_tool.web import page_binding
from lti_tool.web.launch_token import carry, page_token

F = TypeVar("F", bound=Callable[..., Any])


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
    the cookie of the launch the page names (web/page_binding.py). A token sent with the
    request is never topped up by a cookie.

    Raises ``LaunchConflict`` (409) when the request names a launch other than its token's.
    None, with the reason that ``require_launch``/``require_staff`` then answer with
    (``page_binding.refusal``), for a ``launch_token`` not sent by the tool's own pages
    (403), and when the browser holds launches but the request names none of them or one
    it does not hold (409)."""
    if "launch_session" not in g:
        g.launch_session = _find_launch()
    return cast(LaunchSession | None, g.launch_session)


def _find_launch() -> LaunchSession | None:
    store = services().store
    named = page_binding.named_binding(request)
    token = bearer_token()
    g.auth_via = "bearer"
    if token is None:
        token = page_token(request)
        g.auth_via = "page_token"
        if token is not None and not page_binding.from_tool_pages(request):
            # A link or form planted on another site must not put this browser into a
            # session it did not launch (and is not topped up by the cookie either).
            g.launch_refusal = Forbidden(
                "launch_token_not_from_tool",
                "This link did not come from the tool's own pages. "
                "Open the tool again from your course.",
            )
            return None
    if token is not None:
        launch = resolve_session(store, token)
        if launch is not None:
            page_binding.check_named(launch, named)
            if g.auth_via == "page_token":
                carry(token)
            page_binding.bind(launch.binding_id)
        return launch
    g.auth_via = "cookie"
    launch = page_binding.launch_from_cookie(store, request, named)
    if launch is not None:
        page_binding.bind(launch.binding_id)
    return launch


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
            raise page_binding.refusal() or NotAuthenticated(
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
            raise page_binding.refusal() or NotAuthenticated(
                "no_session",
                "No valid launch session: the token is missing, forged or expired. "
                "Open the tool again from your course.",
            )
        if not launch.is_staff:
            raise Forbidden("staff_only", "This is for course staff only.")
        return view(*args, **kwargs)

    return cast(F, wrapper)
