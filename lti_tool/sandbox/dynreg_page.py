"""The sandbox LMS's "Register a tool by URL" page (``/register-tool``): LTI Dynamic
Registration as an LMS admin sees it, in a Moodle style and a Canvas style, so the flow can be
tried without a real LMS.

The sandbox opens the tool's registration page in a frame (with ``openid_configuration`` and
``registration_token``), the tool registers with the Moodle-like or Canvas-like fake
(``dynreg.py``, which checks what it receives as the real LMS does), posts
``org.imsglobal.lti.close`` to this page, and the admin finishes as in that LMS
(``dynreg_installs.py``). The new registration then launches the tool with its own client_id and
deployment: login initiation here, authorization at the endpoint its configuration named.
These launches carry no grade, roster or group services (the sandbox's own registration
on the home page shows those).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.lti import claims as c
from lti_tool.sandbox.demo_people import DEMO_USERS
from lti_tool.sandbox.dynreg import DynregFakes, register_dynreg
from lti_tool.sandbox.dynreg_canvas import (
    CANVAS_AUTHORIZE_PATH,
    CANVAS_JWKS_PATH,
    CanvasLikeRegistration,
)
from lti_tool.sandbox.dynreg_installs import (
    CANVAS,
    MOODLE,
    InstalledTool,
    InstallRefused,
    SandboxInstalls,
)
from lti_tool.sandbox.platform import SandboxPlatform, oidc_request_problem

PAGE = "/register-tool"
STYLES = {MOODLE: "Moodle-style", CANVAS: "Canvas-style"}
ACTIONS = {
    "activate": SandboxInstalls.activate,
    "enable": SandboxInstalls.enable,
    "install": SandboxInstalls.install,
}
LAUNCH_AS = {"student1": "student", "teacher1": "instructor"}
SCOPE_WORDS = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem": "add and change grade columns",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly": "read grade columns",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly": "read grades",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score": "send grades",
    c.NRPS_SCOPE: "read the course roster",
}


def _words(status: int, heading: str, words: str) -> tuple[str, int]:
    html = render_template("sandbox/register_refused.html", heading=heading, words=words)
    return html, status


def _oidc_error(status: int, error: str, description: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response


def register_dynreg_page(app: Flask, platform: SandboxPlatform) -> SandboxInstalls:
    """Serve both registration fakes and the page that drives them on the sandbox app."""
    # Like current Canvas cloud's answer without a deployment: it comes with "install".
    canvas = CanvasLikeRegistration(return_deployment_id=False, sso_on_host=True)
    fakes: DynregFakes = register_dynreg(app, canvas=canvas)
    fakes.moodle.jwks = platform.jwks()
    installs = SandboxInstalls(fakes, platform)
    app.extensions["sandbox_installs"] = installs

    def default_tool_url() -> str:
        return platform.tool_url.rstrip("/") + "/lti/register"

    @app.get(PAGE)
    def register_tool() -> str:
        return render_template(
            "sandbox/register_tool.html",
            tools=installs.all(),
            # Back from Moodle's dialog: the tool that just registered, if it did.
            just_registered=installs.get(request.args.get("registered", "")),
            tool_url=default_tool_url(),
            mode=platform.tool_registration_mode,
            styles=STYLES,
            form_token=installs.form_token,
            launch_as=LAUNCH_AS,
            users=DEMO_USERS,
        )

    @app.get(PAGE + "/<style>")
    def register_dialog(style: str) -> str | tuple[str, int]:
        if style not in STYLES:
            return _words(404, "No such page", "This sandbox imitates Moodle and Canvas only.")
        tool_url = request.args.get("tool_url", "").strip() or default_tool_url()
        parts = urlsplit(tool_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return _words(
                400,
                "That is not a web address",
                "Give the tool's registration address, starting with http:// or https://.",
            )
        fake = fakes.moodle if style == MOODLE else fakes.canvas
        token = fake.issue_token()
        # Both start from the sandbox's own address, so the Moodle-like issuer is stable.
        frame_url = fake.start_url(tool_url, platform.issuer, token=token)
        token_id = SandboxInstalls.token_id(style, token)
        after = (
            f"{PAGE}?registered={token_id}#tool-{token_id}"
            if style == MOODLE
            else f"{PAGE}/canvas/review/{token_id}"
        )
        return render_template(
            "sandbox/register_dialog.html",
            style=style,
            style_name=STYLES[style],
            frame_url=frame_url,
            tool_origin=f"{parts.scheme}://{parts.netloc}",
            after=after,
        )

    @app.get(PAGE + "/canvas/review/<token_id>")
    def canvas_review(token_id: str) -> str:
        tool = installs.by_token(CANVAS, token_id)
        return render_template(
            "sandbox/register_review.html",
            tool=tool,
            scope_words=SCOPE_WORDS,
            form_token=installs.form_token,
        )

    @app.post(PAGE + "/<client_id>/<action>")
    def admin_step(client_id: str, action: str) -> WerkzeugResponse | tuple[str, int]:
        step = ACTIONS.get(action)
        if step is None:
            return _words(404, "No such step", "This sandbox has no such step.")
        if not installs.check_form_token(action, client_id, request.form.get("form_token", "")):
            return _words(
                403,
                "This form is not valid",
                "The form was not made by this page for this tool. Go back and try again.",
            )
        try:
            step(installs, client_id)
        except InstallRefused as exc:
            return _words(409, "Nothing was changed", str(exc))
        return redirect(f"{PAGE}#tool-{client_id}", code=303)

    @app.get(PAGE + "/launch/<client_id>/<user>")
    def launch_registered(client_id: str, user: str) -> str | tuple[str, int]:
        """Login initiation through a tool registered here (its client_id and deployment)."""
        tool = installs.get(client_id)
        if tool is None or user not in DEMO_USERS:
            return _words(404, "No such tool", "This LMS has no such tool or person.")
        if not tool.launchable:
            return _words(409, "This tool cannot be launched yet", _not_launchable(tool))
        fields = {
            "iss": tool.issuer,
            "login_hint": DEMO_USERS[user].sub,
            "target_link_uri": tool.target_link_uri or platform.launch_url,
            "lti_message_hint": json.dumps({"user": user, "client": tool.client_id}),
            "client_id": tool.client_id,
            "lti_deployment_id": tool.deployment_id or "",
        }
        return render_template(
            "sandbox/autopost.html",
            action=tool.login_url,
            fields=fields,
            label="Signing in to the tool",
        )

    @app.route(fakes.moodle.prefix + "/mod/lti/auth.php", methods=["GET", "POST"])
    def moodle_authorize() -> Response | str:
        return authorize(MOODLE)

    @app.route(CANVAS_AUTHORIZE_PATH, methods=["GET", "POST"])
    def canvas_authorize() -> Response | str:
        return authorize(CANVAS)

    @app.get(CANVAS_JWKS_PATH)
    def canvas_jwks() -> Response:
        return jsonify(platform.jwks())

    def authorize(style: str) -> Response | str:
        """The OIDC authorization endpoint of a tool registered here: checked as ``/auth``
        checks the sandbox's own registration, against what this tool registered."""
        params = request.values
        problem = oidc_request_problem(params)
        if problem:
            return _oidc_error(400, "invalid_request", problem)
        tool = installs.get(params.get("client_id", ""))
        if tool is None or tool.style != style:
            return _oidc_error(400, "unauthorized_client", "unknown client_id")
        if not tool.launchable:
            return _oidc_error(400, "unauthorized_client", "the tool is not available")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in tool.redirect_uris:
            return _oidc_error(400, "invalid_request", "redirect_uri is not registered")
        nonce, state = params.get("nonce"), params.get("state")
        if not nonce or not state:
            return _oidc_error(400, "invalid_request", "nonce and state are required")
        try:
            hint: Any = json.loads(params.get("lti_message_hint") or "{}")
        except ValueError:
            hint = None
        if not isinstance(hint, dict) or hint.get("client") != tool.client_id:
            return _oidc_error(400, "invalid_request", "bad lti_message_hint")
        user = str(hint.get("user", ""))
        if user not in DEMO_USERS or DEMO_USERS[user].sub != params.get("login_hint"):
            return _oidc_error(400, "login_required", "login_hint does not match the user")
        fakes.moodle.jwks = platform.jwks()  # the keys it signs with, as certs.php serves them
        claims = launch_claims(platform, tool, user, nonce, redirect_uri)
        return render_template(
            "sandbox/autopost.html",
            action=redirect_uri,
            fields={"id_token": platform.sign(claims), "state": state},
            label="Opening the tool",
        )

    return installs


def launch_claims(
    platform: SandboxPlatform, tool: InstalledTool, user: str, nonce: str, target: str
) -> dict[str, Any]:
    """A resource-link launch in the demo course from a tool registered here: its issuer,
    client_id and deployment; no services (they belong to the sandbox's own registration)."""
    as_registered = SandboxPlatform(
        issuer=tool.issuer,
        tool_url=platform.tool_url,
        client_id=tool.client_id,
        deployment_id=tool.deployment_id or "",
        keys=platform.keys,
    )
    claims = as_registered.launch_claims(user, nonce)
    for service in (c.NRPS, c.AGS, c.GROUPS_SERVICE):
        claims.pop(service, None)
    claims[c.TARGET_LINK_URI] = tool.target_link_uri or target
    claims[c.TOOL_PLATFORM] = {
        "guid": f"sandbox-{tool.style}",
        "name": f"Sandbox LMS ({STYLES[tool.style]})",
        "product_family_code": tool.style,
    }
    return claims


def _not_launchable(tool: InstalledTool) -> str:
    if tool.style == MOODLE:
        return (
            "Moodle lists this tool as pending. A Moodle administrator activates it first "
            "(Manage tools → Activate)."
        )
    return (
        "Canvas launches a tool once its developer key is switched on and the app is "
        "installed in an account or course. Finish both steps on the registration page."
    )
