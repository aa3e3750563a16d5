"""LTI endpoints: OIDC login, launch, the tool's JWKS."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, render_template, request

from lti_tool.cookies import set_frame_cookie
from lti_tool.lti import claims as c
from lti_tool.lti.browser_binding import STORAGE_SECRET_FIELD, StorageBindingNeeded
from lti_tool.lti.deep_linking import focus_module
from lti_tool.lti.flow import start_login
from lti_tool.lti.keys import published_jwks
from lti_tool.lti.login import StorageLogin
from lti_tool.lti.sessions import LaunchSession, session_cookie_name
from lti_tool.pathway import service
from lti_tool.pathway.launch import open_launch
from lti_tool.web import page_binding
from lti_tool.web.auth import services
from lti_tool.web.launch_token import carry
from lti_tool.web.student import render_checklist

bp = Blueprint("lti", __name__)


@bp.route("/lti/login", methods=["GET", "POST"])
@bp.route("/lti/login/<int:registration_pk>", methods=["GET", "POST"])
def login(registration_pk: int | None = None) -> Any:
    return start_login(services(), registration_pk, _storage_login_page)


def _storage_login_page(step: StorageLogin) -> Response:
    """Keep the browser secret in the platform's storage, then go on to the platform."""
    page = render_template("lti/login_storage.html", step=step)
    return _no_store(Response(page, mimetype="text/html"))


@bp.post("/lti/launch")
def launch() -> Response:
    try:
        outcome = open_launch(services())
    except StorageBindingNeeded as needed:
        return _storage_launch_page(needed)
    if outcome.session.get("binding") == "platform_storage":
        carry(outcome.token)
    # The landing page's links and forms name this launch (web/page_binding.py).
    page_binding.bind(outcome.binding_id)
    page = render_landing_page(outcome.session, outcome.token)
    response = _no_store(Response(page, mimetype="text/html"))
    _set_session_cookie(response, outcome.token, outcome.binding_id)
    return response


def _storage_launch_page(needed: StorageBindingNeeded) -> Response:
    """No cookie came back: read the browser secret from the platform's storage and post the
    launch again with it (same origin, so nothing cross-site is needed any more)."""
    page = render_template(
        "lti/launch_storage.html",
        needed=needed,
        fields={
            "id_token": request.form.get("id_token", ""),
            "state": request.form.get("state", ""),
            "lti_storage_target": needed.target,
        },
        secret_field=STORAGE_SECRET_FIELD,
    )
    return _no_store(Response(page, mimetype="text/html"))


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def render_landing_page(data: dict[str, Any], token: str) -> str:
    """Students land on their checklist, staff on the class overview; a deep-linking launch
    opens the picker. A placed assessment link (custom ``view=assessment&module=…``) passes
    ``focus_module`` so the page can open at that module."""
    if data.get("message_type") == c.DEEP_LINKING_REQUEST:
        from lti_tool.web.deep_linking import render_picker

        return render_picker(data, token)
    if data.get("message_type") in c.DATA_PRIVACY_REQUESTS:
        from lti_tool.web.privacy import render_privacy_page

        return render_privacy_page(data, token)
    launch = LaunchSession(token_hash="", data=data)
    focus = focus_module(data.get("custom"))
    if data.get("is_staff") and data.get("context"):
        from lti_tool.web.staff import render_overview

        g.locale = data.get("locale")
        return render_overview(launch, launch_token=token, focus_module=focus)
    if not data.get("is_staff"):
        checklist = service.my_checklist(services(), launch)
        return render_checklist(checklist, data, launch_token=token, focus_module=focus)
    return render_template("lti/launched.html", session=data, launch_token=token)


def _set_session_cookie(response: Response, token: str, binding_id: str) -> None:
    """The launch's own cookie, ``lti_tool_session_<binding id>``, beside the browser's other
    launches (web/page_binding.py drops ended and surplus ones)."""
    set_frame_cookie(
        response,
        session_cookie_name(binding_id),
        token,
        max_age=services().settings.launch_session_ttl_seconds,
    )
    page_binding.drop_stale_launch_cookies(response, request, keep=binding_id)


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    with services().db.read_only() as session:
        document = published_jwks(session)
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
