"""Every page and form is bound to its own launch.

One browser may hold several launches at once: a tutor with course A open in one tab who
launches course B in another. Each launch keeps its token in a cookie of its own,
``lti_tool_session_<binding id>`` (lti/sessions.py), and every page names the launch it
belongs to: ``url_for`` adds ``lti_binding=<id>`` to the links and form actions of the page
blueprints, GET forms get a hidden field (``lti_binding_field()``), and scripts read
``<meta name="lti-binding">`` and send it as the ``X-LTI-Binding`` header. The server then
uses that launch's cookie only: a request naming no launch, or a launch this browser does not
hold, is refused with 409 and never applied to whichever course was launched last.

Also here: a ``launch_token`` in a URL or form (web/launch_token.py) is honoured only on a
request made by the tool's own pages (``Sec-Fetch-Site: same-origin``, or the tool's own
``Origin``/``Referer`` for browsers without Fetch Metadata): a link or form planted on another
site must not put a browser into a session it did not launch.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, current_app, g
from markupsafe import Markup, escape

from lti_tool.cookies import delete_frame_cookie
from lti_tool.errors import ToolError
from lti_tool.lti.sessions import (
    SESSION_COOKIE_PREFIX,
    LaunchSession,
    resolve_session,
    session_cookie_name,
    valid_binding_id,
)
from lti_tool.urls import web_origin

PARAM = "lti_binding"
HEADER = "X-LTI-Binding"
# The single cookie of earlier versions: it named no launch, so it is never read again.
LEGACY_COOKIE = "lti_tool_session"
# Launch cookies one browser keeps at most; older ones are dropped at the next launch (each
# one travels in every request's Cookie header, which servers cap at a few kilobytes).
MAX_BINDINGS = 8
# Blueprints whose links and forms are followed by the browser (the API is called by scripts,
# which send the header instead).
_PAGE_BLUEPRINTS = frozenset(
    {"student", "staff", "class_view", "completion_grid", "admin", "privacy"}
)
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

MISMATCH_MESSAGE = (
    "This page belongs to another course or an older launch. Open the tool again from your course."
)


class LaunchConflict(ToolError):
    """A page or call names no launch, or one this browser does not hold: nothing was done."""

    status = 409
    title = "This page belongs to another launch"


def launch_mismatch() -> LaunchConflict:
    return LaunchConflict("launch_mismatch", MISMATCH_MESSAGE)


def launch_not_named() -> LaunchConflict:
    return LaunchConflict(
        "launch_not_named",
        "This page does not say which course it belongs to (it may be from an older version "
        "of the tool). Open the tool again from your course.",
    )


def named_binding(request: Request) -> str | None:
    """The binding a request names: the ``X-LTI-Binding`` header (scripts), else the
    ``lti_binding`` parameter of the URL or of a posted form. "" when it names something
    that cannot be a binding id (that names no launch this browser holds)."""
    value = request.headers.get(HEADER) or request.args.get(PARAM)
    if not value and request.method == "POST" and request.mimetype in _FORM_TYPES:
        value = request.form.get(PARAM)
    if value is None or not value.strip():
        return None
    value = value.strip()
    return value if valid_binding_id(value) else ""


def held_bindings(request: Request) -> list[str]:
    """Binding ids of the launch cookies this browser sent."""
    found = []
    for name in request.cookies:
        if name.startswith(SESSION_COOKIE_PREFIX):
            binding_id = name[len(SESSION_COOKIE_PREFIX) :]
            if valid_binding_id(binding_id):
                found.append(binding_id)
    return found


def check_named(launch: LaunchSession, named: str | None) -> None:
    """A request authenticated by its own token (Bearer or page token) that also names a
    binding must name that token's launch."""
    if named is not None and named != launch.binding_id:
        raise launch_mismatch()


def launch_from_cookie(store: Any, request: Request, named: str | None) -> LaunchSession | None:
    """The launch a cookie-authenticated request names, from that launch's own cookie.

    None without it. When the browser holds launches but the request names none of them, or
    one whose cookie it does not hold (a page of an older launch, or of a launch in another
    browser), ``refusal()`` then says why: pages that need a launch answer with it (409). A
    named cookie whose session has ended is the usual "open the tool again" (401)."""
    held = held_bindings(request)
    if named is None:
        if held:
            g.launch_refusal = launch_not_named()
        return None
    if not named or named not in held:
        if held or named == "":
            g.launch_refusal = launch_mismatch()
        return None
    launch = resolve_session(store, request.cookies.get(session_cookie_name(named)))
    # The cookie's name and the session it holds must agree (a cookie is only a name).
    if launch is not None and launch.binding_id != named:
        g.launch_refusal = launch_mismatch()
        return None
    return launch


def refusal() -> ToolError | None:
    """Why this request has no launch although it came with one: the browser holds launches
    the request does not name (above), or its launch token came from another site."""
    value = g.get("launch_refusal")
    return value if isinstance(value, ToolError) else None


def bind(binding_id: str | None) -> None:
    """From here on this response's links and forms name ``binding_id``."""
    if binding_id:
        g.page_binding = binding_id


def bound() -> str | None:
    value = g.get("page_binding")
    return str(value) if value else None


def _add_binding(endpoint: str, values: dict[str, Any]) -> None:
    binding_id = bound()
    if binding_id and endpoint.partition(".")[0] in _PAGE_BLUEPRINTS:
        values.setdefault(PARAM, binding_id)


def lti_binding_field() -> Markup:
    """A hidden field for GET forms (a browser drops the action's query string for them)."""
    binding_id = bound()
    if not binding_id:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(PARAM, escape(binding_id))


def from_tool_pages(request: Request) -> bool:
    """Whether the request was made by one of the tool's own pages.

    Fetch Metadata decides when the browser sends it; older browsers send ``Origin`` on
    posts and ``Referer`` on same-origin navigations (``Referrer-Policy`` keeps it for the
    tool's own origin), which must then be the tool's."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site == "same-origin"
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null":
        return False
    origin = web_origin(source)  # None for a header that is no URL (an unclosed bracket)
    return origin is not None and origin in _tool_origins(request)


def _tool_origins(request: Request) -> set[str | None]:
    settings = current_app.extensions["lti_tool"].settings
    return {web_origin(request.host_url), web_origin(settings.base_url)} - {None}


def drop_stale_launch_cookies(response: Response, request: Request, *, keep: str) -> None:
    """After a launch (whose cookie is ``keep``): drop this browser's launch cookies whose
    session has ended, all but the newest ``MAX_BINDINGS``, and the old single cookie."""
    store = current_app.extensions["lti_tool"].store
    live: list[tuple[int, str]] = []
    for binding_id in held_bindings(request):
        if binding_id == keep:
            continue
        name = session_cookie_name(binding_id)
        held = resolve_session(store, request.cookies.get(name))
        if held is None or held.binding_id != binding_id:
            delete_frame_cookie(response, name)
        else:
            live.append((held.bound_at, binding_id))
    live.sort(reverse=True)
    for _, binding_id in live[MAX_BINDINGS - 1 :]:
        delete_frame_cookie(response, session_cookie_name(binding_id))
    if LEGACY_COOKIE in request.cookies:
        delete_frame_cookie(response, LEGACY_COOKIE)


def init_app(app: Flask) -> None:
    app.url_defaults(_add_binding)
    app.jinja_env.globals["lti_binding_field"] = lti_binding_field
    app.jinja_env.globals["lti_binding"] = bound
