"""A reload of a page reached without a cookie (platform storage): open it again safely.

Cookie-bound launches need nothing here: the launch answers with a 303 to a GET page
(web/lti.py) and a reload sends the launch's cookie again. Pages of a launch bound through
the platform's storage carry the launch token in their links instead, and a token in a URL
is honoured only from the tool's own pages (web/page_binding.py). A reload is not such a
request: Chromium sends a reload with the ``Sec-Fetch-Site`` of the navigation that first
loaded the page (``same-site`` or ``cross-site`` after a launch from the platform), so a token
in a reloaded address is never trusted. Instead:

- every page that carries a token keeps it in its own history entry's state
  (``history.replaceState``: only the tool's own pages can write it, and a reload keeps it)
  and takes it out of the address; the launch's POST page takes its GET page's address
  (``reload_url``), so a reload is a GET, not the spent launch posted again;
- the reload then reaches the tool with no token and no cookie: ``reopen_page`` answers with
  a page whose script takes the entry's token for the launch the address names and asks for
  the same page again from the tool's own page: the same-origin request a token is honoured
  on.

Without that token (another browser, an expired launch) the page says plainly to open the
tool again from the course.
"""

from __future__ import annotations

from flask import Flask, Response, g, render_template, request

from lti_tool.errors import ToolError
from lti_tool.web.errors import correlation_id
from lti_tool.web.page_binding import PARAM as BINDING_PARAM
from lti_tool.web.page_binding import named_binding

# Pages a person reloads (the API's callers send their token as a header).
_PAGE_BLUEPRINTS = frozenset(
    {"student", "staff", "class_view", "completion_grid", "admin", "privacy"}
)
_RESUMABLE = frozenset({"no_session", "launch_token_not_from_tool"})


def set_reload_url(url: str | None) -> None:
    """The address a page rendered by a POST (the launch) takes, so that a reload is a GET."""
    if url:
        g.reload_url = url


def reload_url() -> str | None:
    value = g.get("reload_url")
    return str(value) if value else None


def can_reopen(refusal: ToolError) -> bool:
    """Whether ``refusal`` of this request may be answered with ``reopen_page``: a page (not
    the API) fetched with GET that names a launch, refused because it came with no usable
    token or cookie (not because it names another launch than its token's)."""
    return (
        request.method == "GET"
        and request.blueprint in _PAGE_BLUEPRINTS
        and g.get("auth_via") != "bearer"
        and refusal.code in _RESUMABLE
        and bool(named_binding(request))
        and "json" not in request.accept_mimetypes.best_match(["text/html", "application/json"], "")
    )


def reopen_page(refusal: ToolError) -> Response:
    """The friendly page for a reload that brought no launch with it (see above). Its script
    retries once with the tab's stored token; ``token_tried``: this very request sent a token
    from the tool's own page and it was dead, so the stored one is dropped, not retried."""
    token_tried = g.get("auth_via") == "page_token" and refusal.code == "no_session"
    page = render_template(
        "lti/reopen.html",
        binding=named_binding(request),
        binding_param=BINDING_PARAM,
        token_tried=token_tried,
        status=refusal.status,
        code=refusal.code,
        correlation_id=correlation_id(),
    )
    response = Response(page, status=refusal.status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["reload_url"] = reload_url
