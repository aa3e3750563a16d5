"""LTI Dynamic Registration pages: ``GET /lti/register`` (the URL an admin gives Moodle's
"Register by URL" or Canvas's "+ LTI Registration") shows what installing means; the POST
installs.

Two things differ from the tool's other pages, both because the LMS opens these in an iframe
before it is registered:

- CSRF: the iframe may get no cookies, so the form's token is also kept with the pending
  install on the server and checked there; when the browser did send the session cookie,
  Flask-WTF's usual check runs as well.
- Framing: the app's ``frame-ancestors`` lists active registrations only, so these pages add
  the origins of the platform asking to register (``security.allow_framing_by``).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, session
from flask_wtf.csrf import generate_csrf

from lti_tool.lti.dynreg.configuration import frame_origins
from lti_tool.lti.dynreg.flow import (
    begin_install,
    complete_install,
    ensure_enabled,
    load_pending,
)
from lti_tool.lti.dynreg.request import WANTED_SCOPES
from lti_tool.web.auth import services
from lti_tool.web.security import allow_framing_by, csrf

bp = Blueprint("register", __name__)


def _page(html: str) -> Response:
    response = Response(html, mimetype="text/html")
    # The query carries the registration token: nothing here may be cached.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/register")
def confirm() -> Response:
    """Check the platform's configuration and ask the admin to confirm."""
    configuration_url = request.args.get("openid_configuration", "")
    allow_framing_by(frame_origins(configuration_url))
    pending = begin_install(
        services(),
        configuration_url,
        request.args.get("registration_token"),
        form_token=generate_csrf(),
    )
    allow_framing_by(frame_origins(configuration_url, pending.config))
    return _page(
        render_template(
            "lti/register_confirm.html",
            install=pending,
            config=pending.config,
            scope_descriptions=WANTED_SCOPES,
            mode=services().settings.dynamic_registration_mode,
        )
    )


@bp.post("/register")
def install() -> Response:
    """Register with the platform, store the registration, tell the LMS to close the frame."""
    ensure_enabled(services().settings)  # "off" answers 403 before any form check
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    form = request.form
    pending = load_pending(services(), form.get("install_id", ""))
    allow_framing_by(frame_origins(pending.config.configuration_url, pending.config))
    if session.get(field):
        csrf.protect()
    outcome = complete_install(services(), pending, form_token=form.get(field, ""))
    return _page(
        render_template(
            "lti/register_done.html",
            outcome=outcome,
            config=outcome.config,
            scope_descriptions=WANTED_SCOPES,
        )
    )
