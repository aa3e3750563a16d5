"""Deep Linking 2.0 pages: the picker a deep-linking launch opens, and the response POST.

The response form works inside an iframe that gets no cookies: it carries the launch token in
a hidden ``launch_token`` field, checked like a bearer token (an attacker cannot know it, so
it needs no CSRF token). Without that field, the session cookie and the CSRF token are
required. The deep-linking settings always come from the server side, never from the form.
"""

from __future__ import annotations

from typing import Any

import jwt
from flask import Blueprint, Response, render_template, request

from lti_tool.errors import SESSION_ENDED, NotAuthenticated
from lti_tool.lti import claims as c
from lti_tool.lti.deeplink import flow as deep_linking
from lti_tool.lti.launch_context import Launch
from lti_tool.lti.sessions import LaunchSession, resolve_session
from lti_tool.pathway.placements import placements
from lti_tool.web.auth import (
    bearer_token,
    current_launch,
    deployment_switched_off,
    services,
    switched_off,
)
from lti_tool.web.security import allow_form_to, csrf

bp = Blueprint("deep_linking", __name__)


def _verified_settings_claim() -> Any:
    """The settings claim of the id_token this request carried. ``open_launch`` validated
    exactly these bytes (signature, nonce, deployment) before the landing page is rendered,
    so reading them again without re-verifying is safe."""
    token = request.form.get("id_token")
    if not token:
        return None
    body = jwt.decode(token, options={"verify_signature": False})
    return body.get(c.DEEP_LINKING_SETTINGS)


def render_picker(launch: Launch, token: str) -> str:
    """The landing page of a deep-linking launch: "Choose what to place"."""
    found = resolve_session(services().store, token)
    if found is None:
        raise NotAuthenticated("no_session", "The launch session could not be opened.")
    offers = placements(services(), found.launch)
    picker = deep_linking.open_picker(services(), found, offers, _verified_settings_claim())
    return render_template(
        "lti/deep_link_picker.html", picker=picker, session=launch, launch_token=token
    )


def _authenticated_launch() -> LaunchSession:
    form_token = request.form.get("launch_token")
    if form_token:
        launch = resolve_session(services().store, form_token)
    else:
        if bearer_token() is None:
            csrf.protect()
        launch = current_launch()
    if launch is None:
        raise NotAuthenticated(
            "no_session",
            SESSION_ENDED,
        )
    if switched_off(launch):
        raise deployment_switched_off()
    return launch


@bp.post("/respond")
def respond() -> Response:
    """Sign the chosen items and send the browser back to the platform with them."""
    launch = _authenticated_launch()
    form = request.form
    keys = [] if form.get("cancel") else form.getlist("item")
    if not form.get("cancel") and not keys:
        # "Place in the course" with nothing chosen: ask, rather than send an empty answer
        # (which the platform takes as a cancel).
        offers = placements(services(), launch.launch)
        picker = deep_linking.reopen_picker(services(), launch, offers)
        page = render_template(
            "lti/deep_link_picker.html",
            picker=picker,
            session=launch.launch,
            launch_token=form.get("launch_token", ""),
            nothing_chosen=True,
            title=form.get("title", ""),
            text=form.get("text", ""),
        )
        return Response(page, status=422, mimetype="text/html")
    result = deep_linking.respond(
        services(),
        launch,
        placements(services(), launch.launch),
        keys,
        title=form.get("title"),
        text=form.get("text"),
    )
    allow_form_to(result.return_url)  # the page's form posts there
    page = render_template(
        "lti/deep_link_return.html",
        return_url=result.return_url,
        jwt=result.jwt,
        items=result.items,
    )
    response = Response(page, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
