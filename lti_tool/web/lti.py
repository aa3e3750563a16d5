"""LTI endpoints: OIDC login, launch, the tool's JWKS."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template

from lti_tool.lti.flow import complete_launch, start_login
from lti_tool.lti.keys import published_jwks
from lti_tool.lti.sessions import SESSION_COOKIE
from lti_tool.web.auth import services

bp = Blueprint("lti", __name__)


@bp.route("/lti/login", methods=["GET", "POST"])
@bp.route("/lti/login/<int:registration_pk>", methods=["GET", "POST"])
def login(registration_pk: int | None = None) -> Any:
    return start_login(services(), registration_pk)


@bp.post("/lti/launch")
def launch() -> Response:
    outcome = complete_launch(services())
    page = render_template("lti/launched.html", session=outcome.session, launch_token=outcome.token)
    response = Response(page, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    _set_session_cookie(response, outcome.token)
    return response


def _set_session_cookie(response: Response, token: str) -> None:
    from flask import request

    secure = request.is_secure
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=services().settings.launch_session_ttl_seconds,
        secure=secure,
        httponly=True,
        path="/",
        samesite="None" if secure else "Lax",
        partitioned=secure,
    )


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    with services().db.read_only() as session:
        document = published_jwks(session)
    response = jsonify(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
