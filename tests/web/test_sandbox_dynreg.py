"""The sandbox LMS's "Register a tool by URL" endpoints (``sandbox/dynreg_page.py``), driven
with Flask's test client: the Moodle-like and Canvas-like registration endpoints refuse what the
spec and each LMS refuse, the admin steps need their form token (bound to the step and the
tool) and happen in the LMS's order, and a registered tool's launch is checked and signed as
its registration says. The whole flow with the tool is in
``tests/browser/test_sandbox_dynreg_browser.py``."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from flask.testing import FlaskClient

from lti_tool.lti import claims as c
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.dynreg_canvas import CANVAS_ISSUER, CANVAS_REGISTRATION_PATH
from lti_tool.sandbox.dynreg_common import TOOL_CONFIGURATION
from lti_tool.sandbox.dynreg_moodle import MOODLE_REGISTRATION_PATH
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import TOOL_URL
from tests.support.lti import form_fields
from tests.support.pathway_web import parse_html

SANDBOX = "http://sandbox.test"
MOODLE_SITE = SANDBOX + "/moodle"
LAUNCH = TOOL_URL + "/lti/launch"
_FRAME = re.compile(r'<iframe id="tool-frame"[^>]* src="([^"]+)"')


@pytest.fixture
def sandbox() -> FlaskClient:
    platform = SandboxPlatform(issuer=SANDBOX, tool_url=TOOL_URL)
    return create_sandbox_app(platform).test_client()


def registration_body() -> dict[str, Any]:
    """What a tool sends (LTI Dynamic Registration 1.0, 3.5.1), trimmed to what both need."""
    return {
        "application_type": "web",
        "grant_types": ["client_credentials", "implicit"],
        "response_types": ["id_token"],
        "redirect_uris": [LAUNCH],
        "initiate_login_uri": TOOL_URL + "/lti/login",
        "client_name": "Clinical leadership pathway",
        "jwks_uri": TOOL_URL + "/.well-known/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        TOOL_CONFIGURATION: {
            "domain": urlsplit(TOOL_URL).netloc,
            "target_link_uri": LAUNCH,
            "messages": [{"type": "LtiResourceLinkRequest"}],
            "claims": ["sub", "name"],
            "https://canvas.instructure.com/lti/privacy_level": "public",
        },
    }


def start(sandbox: FlaskClient, style: str) -> dict[str, str]:
    """Open the dialog as the admin does: the frame's URL carries both parameters."""
    page = sandbox.get(f"/register-tool/{style}", query_string={"tool_url": TOOL_URL + "/reg"})
    assert page.status_code == 200
    src = html.unescape(_FRAME.findall(page.get_data(as_text=True))[0])
    assert src.startswith(TOOL_URL + "/reg?")
    return {k: v[0] for k, v in parse_qs(urlsplit(src).query).items()}


def post_registration(
    sandbox: FlaskClient, style: str, token: str, body: dict[str, Any]
) -> tuple[int, str]:
    path = "/moodle" + MOODLE_REGISTRATION_PATH if style == "moodle" else CANVAS_REGISTRATION_PATH
    answer = sandbox.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    return answer.status_code, answer.get_data(as_text=True)


def register(sandbox: FlaskClient, style: str) -> dict[str, Any]:
    status, text = post_registration(
        sandbox, style, start(sandbox, style)["registration_token"], registration_body()
    )
    assert status == 200, text
    answer: dict[str, Any] = json.loads(text)
    return answer


def step(sandbox: FlaskClient, client_id: str, action: str, token: str | None = None) -> Any:
    if token is None:
        page = sandbox.get("/register-tool").get_data(as_text=True)
        if action == "enable":  # on Canvas's review page
            panel = parse_html(page).find(id=f"tool-{client_id}")
            review = panel.find("a", cls="button")
            page = sandbox.get(review.attrs["href"]).get_data(as_text=True)
        form = parse_html(page).find("form", action=f"/register-tool/{client_id}/{action}")
        token = form.find("input", name="form_token").attrs["value"]
    return sandbox.post(f"/register-tool/{client_id}/{action}", data={"form_token": token})


def tool_panel(sandbox: FlaskClient, client_id: str) -> str:
    return (
        parse_html(sandbox.get("/register-tool").get_data(as_text=True))
        .find(id=f"tool-{client_id}")
        .text
    )


@pytest.mark.parametrize("missing", ["redirect_uris", "initiate_login_uri", "jwks_uri"])
def test_moodle_refuses_a_registration_missing_a_required_field(
    sandbox: FlaskClient, missing: str
) -> None:
    token = start(sandbox, "moodle")["registration_token"]
    body = registration_body()
    del body[missing]
    assert post_registration(sandbox, "moodle", token, body) == (
        400,
        f"missing required attribute {missing}",
    )
    assert "None yet" in sandbox.get("/register-tool").get_data(as_text=True)
    # The token was not spent on the refused request: the corrected one goes through.
    assert post_registration(sandbox, "moodle", token, registration_body())[0] == 200
    assert post_registration(sandbox, "moodle", token, registration_body()) == (
        401,
        "token_already_used",
    )


def test_moodle_refuses_no_token_a_forged_token_and_a_wrong_auth_method(
    sandbox: FlaskClient,
) -> None:
    assert post_registration(sandbox, "moodle", "", registration_body()) == (
        401,
        "missing_registration_token",
    )
    stranger = "not-the-secret-of-this-lms-" + "x" * 16
    forged = jwt.encode({"sub": "x", "scope": "reg"}, stranger, algorithm="HS256")
    assert post_registration(sandbox, "moodle", forged, registration_body()) == (
        401,
        "invalid_registration_token",
    )
    body = {**registration_body(), "token_endpoint_auth_method": "client_secret_basic"}
    token = start(sandbox, "moodle")["registration_token"]
    assert post_registration(sandbox, "moodle", token, body) == (
        400,
        "invalid_token_endpoint_auth_method",
    )


def test_canvas_refuses_missing_fields_with_its_json_errors(sandbox: FlaskClient) -> None:
    token = start(sandbox, "canvas")["registration_token"]
    body = registration_body()
    del body["grant_types"], body["scope"]
    status, text = post_registration(sandbox, "canvas", token, body)
    assert status == 422
    assert json.loads(text) == {"errors": ["grant_types is required", "scope is required"]}
    body = registration_body()
    del body[TOOL_CONFIGURATION]["target_link_uri"]
    status, text = post_registration(sandbox, "canvas", token, body)
    assert (status, json.loads(text)) == (
        422,
        {"errors": ["lti_tool_configuration: target_link_uri is required"]},
    )
    status, text = post_registration(sandbox, "canvas", "forged", registration_body())
    assert status == 401 and "errorMessage" in json.loads(text)
    assert "None yet" in sandbox.get("/register-tool").get_data(as_text=True)


def test_the_canvas_configuration_needs_the_token_and_points_at_the_sandbox(
    sandbox: FlaskClient,
) -> None:
    params = start(sandbox, "canvas")
    configuration_url = params["openid_configuration"]
    assert configuration_url.startswith(SANDBOX + "/api/lti/security/openid-configuration?")
    path = configuration_url.removeprefix(SANDBOX)
    assert sandbox.get(path, base_url=SANDBOX).status_code == 401
    bearer = {"Authorization": "Bearer " + params["registration_token"]}
    config = sandbox.get(path, headers=bearer, base_url=SANDBOX).json
    assert config is not None and config["issuer"] == CANVAS_ISSUER
    # Keys and authorization on the sandbox's host, where its launches reach them.
    assert config["authorization_endpoint"] == SANDBOX + "/api/lti/authorize_redirect"
    assert config["jwks_uri"] == SANDBOX + "/api/lti/security/jwks"


def test_a_moodle_tool_is_pending_until_activated_with_its_own_form_token(
    sandbox: FlaskClient,
) -> None:
    client_id = register(sandbox, "moodle")["client_id"]
    assert "Pending" in tool_panel(sandbox, client_id)
    assert "Launch as student" not in tool_panel(sandbox, client_id)
    refused = sandbox.get(f"/register-tool/launch/{client_id}/student1")
    assert refused.status_code == 409
    assert "Moodle lists this tool as pending" in refused.get_data(as_text=True)

    # The attack: a page elsewhere posts the activation without the form's token, or with
    # a token the page made for another step or another tool.
    other = register(sandbox, "moodle")["client_id"]
    assert step(sandbox, client_id, "activate", token="").status_code == 403
    page = sandbox.get("/register-tool").get_data(as_text=True)
    other_form = parse_html(page).find("form", action=f"/register-tool/{other}/activate")
    other_token = other_form.find("input", name="form_token").attrs["value"]
    assert step(sandbox, client_id, "activate", token=other_token).status_code == 403
    assert "Pending" in tool_panel(sandbox, client_id)

    done = step(sandbox, client_id, "activate")
    assert done.status_code == 303 and done.headers["Location"].endswith(f"#tool-{client_id}")
    assert "Ready" in tool_panel(sandbox, client_id)
    assert "Launch as student (Sam Student)" in tool_panel(sandbox, client_id)


def test_canvas_makes_the_deployment_only_when_the_app_is_installed(
    sandbox: FlaskClient,
) -> None:
    answer = register(sandbox, "canvas")
    assert "deployment_id" not in answer  # as the brief's Canvas: none in the answer
    client_id = answer["client_id"]
    assert step(sandbox, client_id, "install", token="x").status_code == 403
    panel = tool_panel(sandbox, client_id)
    assert "Waiting for review" in panel and "none yet" in panel
    assert step(sandbox, client_id, "enable").status_code == 303
    assert "Key on" in tool_panel(sandbox, client_id)
    assert sandbox.get(f"/register-tool/launch/{client_id}/student1").status_code == 409
    again = sandbox.post(
        f"/register-tool/{client_id}/enable",
        data={
            "form_token": sandbox.application.extensions["sandbox_installs"].form_token(
                "enable", client_id
            )
        },
    )
    assert again.status_code == 409  # already on: nothing changes
    assert step(sandbox, client_id, "install").status_code == 303
    tool = sandbox.application.extensions["sandbox_installs"].get(client_id)
    assert tool.deployment_id and tool.deployment_id.startswith("1:")
    assert "Ready" in tool_panel(sandbox, client_id)


def _login(sandbox: FlaskClient, client_id: str, user: str = "student1") -> dict[str, str]:
    page = sandbox.get(f"/register-tool/launch/{client_id}/{user}")
    assert page.status_code == 200
    return form_fields(page.get_data(as_text=True))


def _auth_params(login: dict[str, str], **changes: str) -> dict[str, str]:
    return {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": login["client_id"],
        "redirect_uri": LAUNCH,
        "login_hint": login["login_hint"],
        "lti_message_hint": login["lti_message_hint"],
        "nonce": "n-1",
        "state": "s-1",
        **changes,
    }


def test_a_registered_tool_launches_with_its_own_issuer_client_and_deployment(
    sandbox: FlaskClient,
) -> None:
    client_id = register(sandbox, "moodle")["client_id"]
    step(sandbox, client_id, "activate")
    login = _login(sandbox, client_id)
    assert login["iss"] == MOODLE_SITE and login["lti_deployment_id"] == "2"
    assert login["client_id"] == client_id

    for changes, error in (
        ({"redirect_uri": "https://evil.example/launch"}, "redirect_uri is not registered"),
        ({"login_hint": "2001"}, "login_hint does not match the user"),
        ({"client_id": "sandbox-tool"}, "unknown client_id"),
        ({"prompt": "login"}, "prompt must be 'none'"),
    ):
        refused = sandbox.post("/moodle/mod/lti/auth.php", data=_auth_params(login, **changes))
        assert refused.status_code == 400 and refused.json is not None
        assert refused.json["error_description"] == error
    # A Moodle-registered client at the Canvas-style endpoint is unknown there.
    assert sandbox.post("/api/lti/authorize_redirect", data=_auth_params(login)).status_code == 400

    answer = sandbox.post("/moodle/mod/lti/auth.php", data=_auth_params(login))
    fields = form_fields(answer.get_data(as_text=True))
    assert fields["state"] == "s-1"
    keys = sandbox.get("/moodle/mod/lti/certs.php").json
    assert keys is not None
    header = jwt.get_unverified_header(fields["id_token"])
    [key] = [k for k in keys["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(
        fields["id_token"], jwt.PyJWK(key).key, algorithms=["RS256"], audience=client_id
    )
    assert claims["iss"] == MOODLE_SITE and claims["nonce"] == "n-1"
    assert claims[c.DEPLOYMENT_ID] == "2" and claims["sub"] == "1001"
    assert not {c.NRPS, c.AGS, c.GROUPS_SERVICE} & set(claims)


def test_the_page_says_when_the_tool_holds_the_first_launch() -> None:
    platform = SandboxPlatform(issuer=SANDBOX, tool_url=TOOL_URL, tool_registration_mode="approve")
    client = create_sandbox_app(platform).test_client()
    note = parse_html(client.get("/register-tool").get_data(as_text=True)).find(id="approval-note")
    assert "its first launch through the new registration is refused" in note.text
    assert "tool's administrator approves" in note.text
    open_page = SandboxPlatform(issuer=SANDBOX, tool_url=TOOL_URL)
    page = create_sandbox_app(open_page).test_client().get("/register-tool")
    assert 'id="approval-note"' not in page.get_data(as_text=True)


def test_the_dialog_needs_a_web_address_and_the_home_page_links_here(
    sandbox: FlaskClient,
) -> None:
    refused = sandbox.get("/register-tool/moodle", query_string={"tool_url": "javascript:x"})
    assert refused.status_code == 400
    assert "That is not a web address" in refused.get_data(as_text=True)
    assert sandbox.get("/register-tool/blackboard").status_code == 404
    home = parse_html(sandbox.get("/").get_data(as_text=True))
    assert home.find("a", href="/register-tool")
