"""Sandbox LMS fakes of LTI Dynamic Registration: a Moodle-like and a Canvas-like platform,
each with its OpenID configuration and a registration endpoint that checks what the tool sends
as the real one does, and records it for tests to inspect.

This module serves both over HTTP; what each platform checks and answers, and where that comes
from, is in ``dynreg_moodle.py`` and ``dynreg_canvas.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from lti_tool.sandbox.dynreg_canvas import (
    CANVAS_CONFIG_PATH,
    CANVAS_REGISTRATION_PATH,
    CanvasLikeRegistration,
)
from lti_tool.sandbox.dynreg_moodle import (
    MOODLE_CONFIG_PATH,
    MOODLE_REGISTRATION_PATH,
    MoodleLikeRegistration,
)


@dataclass
class DynregFakes:
    moodle: MoodleLikeRegistration
    canvas: CanvasLikeRegistration


def _moodle_words(status: int, words: str) -> Response:
    return Response(words, status=status, content_type="text/html; charset=utf-8")


def _json(status: int, body: Any) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def register_dynreg(
    app: Flask,
    moodle: MoodleLikeRegistration | None = None,
    canvas: CanvasLikeRegistration | None = None,
) -> DynregFakes:
    """Serve both fakes on ``app``: Moodle under its prefix, Canvas at ``/api/lti/…``."""
    fakes = DynregFakes(moodle or MoodleLikeRegistration(), canvas or CanvasLikeRegistration())
    moodle_site = fakes.moodle.prefix
    blueprint = Blueprint("sandbox_dynreg", __name__)

    @blueprint.get(moodle_site + MOODLE_CONFIG_PATH)
    def moodle_configuration() -> Response:
        return jsonify(fakes.moodle.configuration(request.host_url))

    @blueprint.route(moodle_site + MOODLE_REGISTRATION_PATH, methods=["GET", "POST"])
    def moodle_registration() -> Response:
        authorization = request.headers.get("Authorization", "")
        if request.method == "GET":
            return _moodle_words(401, "missing_registration_token")
        status, answer = fakes.moodle.register(
            authorization, request.content_type or "", request.get_data(), request.host_url
        )
        return _json(status, answer) if status == 200 else _moodle_words(status, answer)

    @blueprint.get(moodle_site + "/mod/lti/certs.php")
    def moodle_certs() -> Response:
        return jsonify(fakes.moodle.jwks)

    @blueprint.get(CANVAS_CONFIG_PATH)
    def canvas_configuration() -> Response:
        if fakes.canvas.check_token(request.headers.get("Authorization", "")) is None:
            return _json(401, {"errorMessage": "registration token missing or invalid"})
        return jsonify(fakes.canvas.configuration(request.host_url))

    @blueprint.post(CANVAS_REGISTRATION_PATH)
    def canvas_registration() -> Response:
        status, answer = fakes.canvas.register(
            request.headers.get("Authorization", ""),
            request.content_type or "",
            request.get_data(),
            request.host_url,
        )
        return _json(status, answer)

    app.register_blueprint(blueprint)
    app.extensions["dynreg"] = fakes
    return fakes
