"""The sandbox LMS as a web app: a launch page, an OIDC auth endpoint, JWKS and a token
endpoint. Off unless ``scripts/run`` or ``lti-tool sandbox`` starts it; never in production."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from flask import Flask, Response, abort, jsonify, render_template, request

from lti_tool.resources import resource_dir
from lti_tool.sandbox.platform import DEMO_CONTEXT, DEMO_USERS, SandboxPlatform


class SandboxError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def create_sandbox_app(platform: SandboxPlatform) -> Flask:
    """The platform's HTTP face. It validates what the tool sends, as a real LMS does."""
    app = Flask("lti_tool.sandbox", template_folder=str(resource_dir("templates")))
    app.extensions["sandbox"] = platform
    issued_tokens: dict[str, float] = {}

    @app.errorhandler(SandboxError)
    def _error(exc: SandboxError) -> Response:
        response = jsonify({"error": exc.error, "error_description": exc.description})
        response.status_code = exc.status
        return response

    @app.get("/")
    def index() -> str:
        return render_template(
            "sandbox/index.html", platform=platform, users=DEMO_USERS.values(), context=DEMO_CONTEXT
        )

    @app.get("/launch/<user>")
    def start_launch(user: str) -> str:
        """Step 1: the platform's auto-submitting login initiation form."""
        if user not in DEMO_USERS:
            abort(404)
        return render_template(
            "sandbox/autopost.html",
            action=platform.login_url,
            fields=platform.login_params(user),
            label="Signing in to the tool",
        )

    @app.route("/auth", methods=["GET", "POST"])
    def auth() -> str:
        """Step 3: the OIDC authorization endpoint answers with the signed id_token."""
        params = request.values
        for name, expected in (
            ("scope", "openid"),
            ("response_type", "id_token"),
            ("response_mode", "form_post"),
            ("prompt", "none"),
        ):
            if params.get(name) != expected:
                raise SandboxError(400, "invalid_request", f"{name} must be {expected!r}")
        if params.get("client_id") != platform.client_id:
            raise SandboxError(400, "unauthorized_client", "unknown client_id")
        if params.get("redirect_uri") != platform.launch_url:
            raise SandboxError(400, "invalid_request", "redirect_uri is not registered")
        nonce = params.get("nonce")
        state = params.get("state")
        if not nonce or not state:
            raise SandboxError(400, "invalid_request", "nonce and state are required")
        try:
            hint = json.loads(params.get("lti_message_hint") or "{}")
        except ValueError as exc:
            raise SandboxError(400, "invalid_request", "bad lti_message_hint") from exc
        user = str(hint.get("user", ""))
        if user not in DEMO_USERS or DEMO_USERS[user].sub != params.get("login_hint"):
            raise SandboxError(400, "login_required", "login_hint does not match the user")
        claims = platform.launch_claims(user, nonce, str(hint.get("link", "checklist")))
        return render_template(
            "sandbox/autopost.html",
            action=platform.launch_url,
            fields={"id_token": platform.sign(claims), "state": state},
            label="Opening the tool",
        )

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify(platform.jwks())

    @app.post("/token")
    def token() -> Response:
        """OAuth 2 client credentials with a JWT client assertion signed by the tool's key."""
        form = request.form
        if form.get("grant_type") != "client_credentials":
            raise SandboxError(
                400, "unsupported_grant_type", "grant_type must be client_credentials"
            )
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            raise SandboxError(400, "invalid_request", "client_assertion_type is wrong")
        assertion = form.get("client_assertion", "")
        claims = _verify_tool_assertion(platform, assertion)
        if claims.get("jti") in issued_tokens:
            raise SandboxError(400, "invalid_grant", "client assertion jti reused")
        issued_tokens[str(claims.get("jti"))] = time.time()
        return jsonify(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": form.get("scope", ""),
            }
        )

    return app


def _verify_tool_assertion(platform: SandboxPlatform, assertion: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(assertion)
        jwks = requests.get(platform.tool_url.rstrip("/") + "/.well-known/jwks.json", timeout=5)
        key = next(k for k in jwks.json()["keys"] if k.get("kid") == header.get("kid"))
        verified: dict[str, Any] = jwt.decode(
            assertion,
            jwt.PyJWK(key).key,
            algorithms=["RS256"],
            audience=platform.token_url,
            issuer=platform.client_id,
            options={"require": ["exp", "iat", "jti", "sub"]},
        )
    except (jwt.InvalidTokenError, StopIteration, requests.RequestException, ValueError) as exc:
        raise SandboxError(400, "invalid_client", f"client assertion refused: {exc}") from exc
    if verified.get("sub") != platform.client_id:
        raise SandboxError(400, "invalid_client", "sub must be the client_id")
    return verified


def sandbox_origin(platform: SandboxPlatform) -> str:
    parts = urlsplit(platform.issuer)
    return f"{parts.scheme}://{parts.netloc}"
