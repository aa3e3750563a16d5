"""LTI endpoints: OIDC login, launch, the tool's JWKS."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, g, jsonify, render_template, request, url_for

from lti_tool.cookies import set_frame_cookie
from lti_tool.errors import LaunchRefused
from lti_tool.logs import log_event
from lti_tool.lti import claims as c
from lti_tool.lti.browser_binding import STORAGE_SECRET_FIELD, StorageBindingNeeded
from lti_tool.lti.cookie_check import (
    CHECK_COOKIE,
    CHECK_COOKIE_MAX_AGE,
    CHECK_PARAM,
    begin_check,
    check_needed,
    continue_login,
    cookie_came_back,
    take_check,
    window_login_url,
)
from lti_tool.lti.deeplink.flow import focus_module
from lti_tool.lti.flow import start_login
from lti_tool.lti.keys import JWKS_MAX_AGE_SECONDS, published_jwks
from lti_tool.lti.launch_context import Launch
from lti_tool.lti.login import LOGIN_BODY_LIMIT, StorageLogin, check_login_request
from lti_tool.lti.platform_error import platform_refusal
from lti_tool.lti.sessions import session_cookie_name
from lti_tool.pathway import service
from lti_tool.pathway.launch import open_launch
from lti_tool.privacy.access import for_user_id
from lti_tool.web import page_binding
from lti_tool.web.auth import services
from lti_tool.web.errors import correlation_id
from lti_tool.web.launch_token import carry
from lti_tool.web.reload import set_reload_url
from lti_tool.web.request_input import limit_body
from lti_tool.web.security import allow_framing_by
from lti_tool.web.student import render_checklist

bp = Blueprint("lti", __name__)
log = logging.getLogger("lti_tool.web")


@bp.route("/lti/login", methods=["GET", "POST"])
@bp.route("/lti/login/<int:registration_pk>", methods=["GET", "POST"])
@limit_body(LOGIN_BODY_LIMIT)
def login(registration_pk: int | None = None) -> Any:
    return _login(registration_pk, top_level=False)


@bp.get("/lti/login/window")
@bp.get("/lti/login/window/<int:registration_pk>")
def login_window(registration_pk: int | None = None) -> Any:
    """The same login, opened by the no-cookies page in a window of its own."""
    return _login(registration_pk, top_level=True)


def _login(registration_pk: int | None, *, top_level: bool) -> Any:
    """Without platform storage, test the browser's cookies before the platform's one-time
    hint is spent (see lti/cookie_check.py)."""
    values = request.args if request.method == "GET" else request.form
    if not check_needed(values, request.cookies):
        return start_login(services(), registration_pk, _storage_login_page)
    check_login_request(services(), registration_pk)
    check_id = begin_check(services(), values, registration_pk, top_level=top_level)
    response = Response(status=303)
    response.headers["Location"] = url_for("lti.login_continue", check=check_id)
    set_frame_cookie(response, CHECK_COOKIE, "1", max_age=CHECK_COOKIE_MAX_AGE)
    return _no_store(response)


@bp.get("/lti/login/continue")
def login_continue() -> Any:
    pending = take_check(services(), request.args.get(CHECK_PARAM))
    if cookie_came_back(request.cookies):
        return continue_login(services(), pending)
    log_event(
        log,
        logging.WARNING,
        "login stopped: the browser keeps no cookies for the tool here",
        code="no_cookies_top_level" if pending.top_level else "no_cookies_in_frame",
        path=request.path,
    )
    page = render_template(
        "lti/no_cookies.html",
        top_level=pending.top_level,
        window_url=window_login_url(services(), pending),
        reference=correlation_id(),
    )
    return _no_store(Response(page, mimetype="text/html"))


def _storage_login_page(step: StorageLogin) -> Response:
    """Keep the browser secret in the platform's storage, then go on to the platform."""
    page = render_template("lti/login_storage.html", step=step)
    return _no_store(Response(page, mimetype="text/html"))


@bp.post("/lti/launch")
def launch() -> Response:
    refusal = platform_refusal(request.form)
    if refusal is not None:
        raise refusal
    try:
        outcome = open_launch(services())
    except StorageBindingNeeded as needed:
        return _storage_launch_page(needed)
    except LaunchRefused as refused:
        # Only active registrations frame the tool; a verified launch from one not active
        # yet still gets its refusal shown in the platform's frame.
        allow_framing_by(refused.frame_origins)
        raise
    # The landing page's links and forms name this launch (web/page_binding.py).
    page_binding.bind(outcome.binding_id)
    landing = landing_url(outcome.launch)
    if landing is not None and outcome.launch.binding != "platform_storage":
        # Post/redirect/get: a reload shows the page again instead of posting the spent
        # id_token once more.
        response = Response(status=303)
        response.headers["Location"] = landing
    else:
        # Rendered here: a one-shot flow (Deep Linking, Data Privacy), or a launch bound
        # through platform storage, whose pages carry the token (no cookie will come back).
        # The page's script turns a reload into a GET of its page (web/reload.py).
        set_reload_url(landing or _one_shot_reload_url(outcome.launch))
        if outcome.launch.binding == "platform_storage":
            carry(outcome.token)
        response = Response(render_landing_page(outcome.launch, outcome.token))
    response.mimetype = "text/html"
    _set_session_cookie(_no_store(response), outcome.token, outcome.binding_id)
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


def render_landing_page(launch: Launch, token: str) -> str:
    """Students land on their checklist, staff on the class overview; a deep-linking launch
    opens the picker. A placed assessment link (custom ``view=assessment&module=…``) passes
    ``focus_module`` so the page can open at that module."""
    if launch.message_type == c.DEEP_LINKING_REQUEST:
        from lti_tool.web.deep_linking import render_picker

        return render_picker(launch, token)
    if launch.message_type in c.DATA_PRIVACY_REQUESTS:
        from lti_tool.web.privacy import render_privacy_page

        return render_privacy_page(launch, token)
    focus = focus_module(launch.custom)
    if launch.is_staff and launch.context is not None:
        from lti_tool.web.staff import render_overview

        g.locale = launch.locale
        return render_overview(launch, launch_token=token, focus_module=focus)
    if not launch.is_staff:
        checklist = service.my_checklist(services(), launch)
        return render_checklist(checklist, launch, launch_token=token, focus_module=focus)
    return render_template("lti/launched.html", session=launch, launch_token=token)


def landing_url(launch: Launch) -> str | None:
    """The GET page a launch lands on, naming the launch: students their checklist (at the
    module of a placed assessment link), staff the class overview (for a submission review,
    the page of the student it names), or, outside a course, what the launch granted. None
    for the one-shot flows a POST renders itself (Deep Linking, Data Privacy)."""
    if launch.message_type == c.DEEP_LINKING_REQUEST or (
        launch.message_type in c.DATA_PRIVACY_REQUESTS
    ):
        return None
    if launch.is_staff and launch.context is None:
        return url_for("student.launched_page")
    if launch.is_staff and launch.message_type == c.SUBMISSION_REVIEW_REQUEST:
        # AGS submission review: the tutor asked to see one student's work from the
        # gradebook; ``for_user`` names the student (pylti1p3 has checked it is there).
        # A student the tool does not know in this course yet (a roster not read since they
        # joined) lands on the class overview rather than on "not found".
        reviewed = for_user_id(launch.for_user)
        if reviewed is not None and service.is_student_of(services(), launch, reviewed):
            return url_for("staff.student_preview", sub=reviewed)
    focus = focus_module(launch.custom)
    endpoint = "staff.overview" if launch.is_staff else "student.my_checklist_page"
    return url_for(endpoint, module=focus) if focus else url_for(endpoint)


def _one_shot_reload_url(launch: Launch) -> str | None:
    """A Data Privacy launch's page is also a GET page; the deep-linking picker is not (its
    reload posts the spent launch again and is refused in plain words)."""
    if launch.message_type in c.DATA_PRIVACY_REQUESTS:
        return url_for("privacy.overview")
    return None


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
    # A staged key is published KEY_LEAD_TIME (twice this) before it signs.
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    return response
