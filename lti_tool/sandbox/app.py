"""The sandbox LMS as a web app: a launch page, an OIDC auth endpoint, JWKS and a token
endpoint. Off unless ``scripts/run`` or ``lti-tool sandbox`` starts it; never in production."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from flask import Flask, Response, abort, jsonify, render_template, request

from lti_tool.lti.claims import NRPS_SCOPE
from lti_tool.resources import resource_dir
from lti_tool.sandbox.ags import register_ags
from lti_tool.sandbox.canvas_rest import register_canvas_rest
from lti_tool.sandbox.course_frame import placed_link_claims, register_course_frame, storage_target
from lti_tool.sandbox.deep_linking import register_deep_linking
from lti_tool.sandbox.demo_data import demo_lms
from lti_tool.sandbox.demo_people import COURSES, DEMO_CONTEXT, DEMO_USERS
from lti_tool.sandbox.dynreg_page import register_dynreg_page
from lti_tool.sandbox.groups import register_groups
from lti_tool.sandbox.moodle_ws import register_moodle_ws
from lti_tool.sandbox.platform import SandboxPlatform, oidc_request_problem
from lti_tool.sandbox.service_auth import ServiceRefused, require_scope, service_error


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
    # The same demo site answers as Moodle web services and as the Canvas REST API. Its
    # Moodle is the platform's own site (siteurl: the issuer, which a test may set after).
    lms = demo_lms()
    app.extensions["moodle_ws"] = register_moodle_ws(app, lms, site_url=lambda: platform.issuer)
    app.extensions["canvas_rest"] = register_canvas_rest(app, lms)
    app.extensions["ags"] = register_ags(app, platform)
    register_deep_linking(app, platform)
    register_course_frame(app, platform)
    register_groups(app, platform)
    # "Register a tool by URL": Dynamic Registration in a Moodle and a Canvas style.
    register_dynreg_page(app, platform)
    issued_tokens: dict[str, float] = {}

    @app.errorhandler(SandboxError)
    def _error(exc: SandboxError) -> Response:
        response = jsonify({"error": exc.error, "error_description": exc.description})
        response.status_code = exc.status
        return response

    @app.errorhandler(ServiceRefused)
    def _refused(exc: ServiceRefused) -> Response:
        return service_error(exc.status, exc.reason)

    @app.get("/")
    def index() -> str:
        return render_template(
            "sandbox/index.html", platform=platform, users=DEMO_USERS.values(), context=DEMO_CONTEXT
        )

    @app.get("/launch/<user>")
    def start_launch(user: str) -> str:
        """Step 1: the platform's auto-submitting login initiation form (``?place=1`` starts
        a deep-linking launch: a teacher adding the tool to the course)."""
        if user not in DEMO_USERS:
            abort(404)
        fields = platform.login_params(user)
        hint = json.loads(fields["lti_message_hint"])
        if request.args.get("place"):
            hint = {"user": user, "message": "deep_link"}
        elif request.args.get("privacy"):
            hint = {"user": user, "message": "privacy", "for": request.args["privacy"]}
        elif request.args.get("placed", "").isdigit():
            hint["placed"] = int(request.args["placed"])  # a link placed by deep linking
        elif request.args.get("course") in COURSES:
            hint["course"] = request.args["course"]  # ?course=autumn: the second course
        target = storage_target(request.args.get("storage"))
        if target:
            # Offered on the login and again on the launch, as Canvas does.
            fields["lti_storage_target"] = target
            hint["storage"] = target
        if platform.single_use_hints:
            hint["once"] = secrets.token_urlsafe(12)
        fields["lti_message_hint"] = json.dumps(hint)
        return render_template(
            "sandbox/autopost.html",
            action=platform.login_url,
            fields=fields,
            label="Signing in to the tool",
        )

    @app.route("/auth", methods=["GET", "POST"])
    def auth() -> str:
        """Step 3: the OIDC authorization endpoint answers with the signed id_token."""
        params = request.values
        problem = oidc_request_problem(params)
        if problem:
            raise SandboxError(400, "invalid_request", problem)
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
        if platform.single_use_hints:
            once = str(hint.get("once") or "")
            if not once or once in platform.spent_hints:
                # An OpenID error answer, posted to the (checked) redirect_uri.
                return render_template(
                    "sandbox/autopost.html",
                    action=platform.launch_url,
                    fields={
                        "error": "invalid_request",
                        "error_description": "Invalid request: this launch was already used.",
                        "state": state,
                    },
                    label="Opening the tool",
                )
            platform.spent_hints.add(once)
        user = str(hint.get("user", ""))
        if user not in DEMO_USERS or DEMO_USERS[user].sub != params.get("login_hint"):
            raise SandboxError(400, "login_required", "login_hint does not match the user")
        if hint.get("message") == "deep_link":
            from lti_tool.sandbox.deep_linking import deep_link_claims

            claims = deep_link_claims(platform, user, nonce)
        elif hint.get("message") == "privacy":
            from lti_tool.sandbox.privacy_launch import privacy_claims

            try:
                claims = privacy_claims(platform, user, nonce, str(hint.get("for", "")))
            except KeyError as exc:
                raise SandboxError(400, "invalid_request", "unknown for_user") from exc
        elif "placed" in hint:
            claims = placed_link_claims(platform, app, user, nonce, int(hint["placed"]))
        else:
            claims = platform.launch_claims(
                user,
                nonce,
                str(hint.get("link", "checklist")),
                course=str(hint.get("course", "spring")),
            )
        fields = {"id_token": platform.sign(claims), "state": state}
        if hint.get("storage"):
            fields["lti_storage_target"] = str(hint["storage"])
        return render_template(
            "sandbox/autopost.html",
            action=platform.launch_url,
            fields=fields,
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
        token = secrets.token_urlsafe(24)
        scopes = frozenset(form.get("scope", "").split())
        if platform.token_scopes is not None and not scopes <= platform.token_scopes:
            beyond = " ".join(sorted(scopes - platform.token_scopes))
            raise SandboxError(400, "invalid_scope", f"not granted to this tool: {beyond}")
        platform.access_tokens[token] = (scopes, time.time() + 3600)
        platform.counters["token"] = platform.counters.get("token", 0) + 1
        return jsonify(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": " ".join(sorted(scopes)),
            }
        )

    @app.get("/api/nrps/<context_id>/memberships")
    def memberships(context_id: str) -> Response:
        """NRPS 2.0 membership container, paged with ``limit``/``from`` like Moodle."""
        if request.headers.get("Accept") != NRPS_MEDIA_TYPE:
            return service_error(400, "Bad Request: Accept must be " + NRPS_MEDIA_TYPE)
        require_scope(platform, NRPS_SCOPE)
        if context_id != DEMO_CONTEXT["id"]:
            return service_error(404, "Not Found")
        members = platform.roster
        role = request.args.get("role")
        if role:
            members = [m for m in members if any(r.endswith(role) for r in m["roles"])]
        start = int(request.args.get("from", 0))
        limit = int(request.args.get("limit", 0)) or len(members) or 1
        page = members[start : start + limit]
        body = {
            "id": request.base_url,
            "context": {
                "id": DEMO_CONTEXT["id"],
                "label": DEMO_CONTEXT["label"],
                "title": DEMO_CONTEXT["title"],
            },
            "members": page,
        }
        response = jsonify(body)
        response.headers["Content-Type"] = NRPS_MEDIA_TYPE
        if start + limit < len(members):
            query = urlencode({**request.args, "limit": limit, "from": start + limit})
            target = request.path if platform.relative_links else request.base_url
            response.headers["Link"] = f'<{target}?{query}>; rel="next"'
        return response

    return app


NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def _verify_tool_assertion(platform: SandboxPlatform, assertion: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(assertion)
        if platform.tool_jwks_source is not None:
            document = platform.tool_jwks_source()
        else:
            url = platform.tool_url.rstrip("/") + "/.well-known/jwks.json"
            document = requests.get(url, timeout=5).json()
        key = next(k for k in document["keys"] if k.get("kid") == header.get("kid"))
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
