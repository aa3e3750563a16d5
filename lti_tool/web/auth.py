"""Who is asking: the launch session, from ``Authorization: Bearer``, a page's launch token or
the cookie of the launch the page names."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, after_this_request, current_app, g, request

from lti_tool.container import Services
from lti_tool.errors import SESSION_ENDED, Forbidden, NotAuthenticated
from lti_tool.lti.sessions import LaunchSession, resolve_session
from lti_tool.outages import DATABASE, unavailable_dependency
from lti_tool.web import page_binding, reload
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
    None, with the reason that ``requires_launch`` then answers with
    (``page_binding.refusal``), for a ``launch_token`` not sent by the tool's own pages
    (403), and when the browser holds launches but the request names none of them or one
    it does not hold (409)."""
    if "launch_session" not in g:
        g.launch_session = _find_launch()
    return cast(LaunchSession | None, g.launch_session)


def _find_launch() -> LaunchSession | None:
    found = _named_launch()
    if found is not None and switched_off(found):
        g.launch_refusal = deployment_switched_off()
        g.switched_off_launch = found
        return None
    return found


def switched_off_launch() -> LaunchSession | None:
    """The launch this request named and was refused because its deployment is switched
    off (``current_launch`` is then None)."""
    current_launch()
    return cast(LaunchSession | None, g.get("switched_off_launch"))


def switched_off(found: LaunchSession) -> bool:
    """Whether the deployment the launch came from has been switched off (or removed) since:
    its sessions end with it, as its new launches are refused. While the database is down
    the question cannot be asked; the session stands (every page but the health page needs
    the database anyway, and answers 503)."""
    registration = found.launch.registration
    try:
        active = services().registry_cache.active_deployment_pk(
            registration.pk, registration.deployment_id
        )
    except Exception as exc:
        if unavailable_dependency(exc) != DATABASE:
            raise
        return False
    return active is None


def deployment_switched_off() -> Forbidden:
    return Forbidden(
        "deployment_switched_off",
        "The tool has been switched off for this part of your learning platform. Ask your "
        "learning platform's administrator.",
    )


def _named_launch() -> LaunchSession | None:
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


def _no_store(response: Response) -> Response:
    """A launch's pages and answers are personal: no cache keeps them (a reload asks again)."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def requires_launch(*, staff: bool = False) -> Callable[[F], F]:
    """The view gets the request's launch as its ``launch`` argument, and its page speaks
    the launch's locale. 401 without a valid launch session (or the reason
    ``page_binding.refusal`` gives: 403 for a launch token from another site, 409 for a page
    of another launch); with ``staff=True``, 403 unless the launch's roles in its course
    make the user staff. A page reloaded without its launch gets ``reload.reopen_page``.
    Every answer is ``Cache-Control: no-store``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = current_launch()
            if found is None:
                refused = page_binding.refusal() or NotAuthenticated(
                    "no_session",
                    SESSION_ENDED,
                )
                if reload.can_reopen(refused):
                    return reload.reopen_page(refused)
                raise refused
            after_this_request(_no_store)
            if staff and not found.is_staff:
                raise Forbidden("staff_only", "This is for course staff only.")
            g.locale = found.launch.locale
            return view(*args, launch=found.launch, **kwargs)

        return cast(F, wrapper)

    return decorate
