"""LTI Dynamic Registration end to end: the tool (Flask test client) against Moodle-like and
Canvas-like platforms served on a loopback port, which check what the tool sends."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.cli import main
from lti_tool.lti import registry
from lti_tool.lti.dynreg.configuration import PLATFORM_CONFIGURATION, PlatformRefused
from lti_tool.lti.dynreg.request import CANVAS_PRIVACY_LEVEL, TOOL_CONFIGURATION
from lti_tool.lti.dynreg.response import parse_registration_response, platform_words
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.dynreg_canvas import CANVAS_ISSUER
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.settings import SettingsError, load_settings
from tests.conftest import TOOL_URL
from tests.support.dynreg import Lms
from tests.support.lti import Launcher, form_fields
from tests.support.pathway_web import parse_html

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = [AGS + "lineitem", AGS + "lineitem.readonly", AGS + "result.readonly", AGS + "score"]
CLOSE = 'postMessage(message, "*")'


def install(client: FlaskClient, start_url: str, **extra: str) -> tuple[str, TestResponse]:
    """Open the confirmation page as the LMS's redirect does, then press Install."""
    page = client.get(start_url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    return text, client.post("/lti/register", data={**form_fields(text), **extra})


def registrations(app: Flask) -> dict[str, dict[str, Any]]:
    with app.extensions["lti_tool"].db.read_only() as session:
        return {
            r.name: {
                "kind": r.kind,
                "issuer": r.issuer,
                "client_id": r.client_id,
                "auth_login_url": r.auth_login_url,
                "auth_token_url": r.auth_token_url,
                "key_set_url": r.key_set_url,
                "deployments": {d.deployment_id: d.active for d in r.deployments},
            }
            for r in registry.list_registrations(session)
            if r.name != "sandbox"
        }


def registration_pk(app: Flask, name: str) -> int:
    with app.extensions["lti_tool"].db.read_only() as session:
        [pk] = [r.id for r in registry.list_registrations(session) if r.name == name]
    return pk


def test_moodle_round_trip_registers_and_stores_an_active_deployment(tool: Flask, lms: Lms) -> None:
    client = tool.test_client()
    page, done = install(client, lms.moodle_start())
    assert "Install Clinical leadership pathway in Moodle" in page
    assert f"127.0.0.1:{lms.port}" in page and "4.5.6" in page
    assert "Send grades" in page and "Read the course roster" in page
    assert "confirm_existing" not in page
    assert "registration_token" not in form_fields(page)  # kept on the server

    text = done.get_data(as_text=True)
    assert done.status_code == 200, text
    assert done.headers["Cache-Control"] == "no-store"
    assert "Installed in Moodle" in text and 'data-autoclose="true"' in text
    assert CLOSE in text and "org.imsglobal.lti.close" in text and "window.opener" in text
    assert '<script nonce="' in text and "<noscript>" in text

    [registered] = lms.moodle.registered
    client_id = registered.response["client_id"]
    assert registrations(tool) == {
        f"moodle-127.0.0.1:{lms.port}": {
            "kind": "moodle",
            "issuer": lms.moodle_issuer,
            "client_id": client_id,
            "auth_login_url": lms.moodle_issuer + "/mod/lti/auth.php",
            "auth_token_url": lms.moodle_issuer + "/mod/lti/token.php",
            "key_set_url": lms.moodle_issuer + "/mod/lti/certs.php",
            "deployments": {"2": True},
        }
    }
    # The same form cannot register twice.
    again = client.post("/lti/register", data=form_fields(page))
    assert again.status_code == 400 and "install_expired" in again.get_data(as_text=True)
    assert len(lms.moodle.registered) == 1


def test_the_registration_body_has_the_shape_the_platform_expects(tool: Flask, lms: Lms) -> None:
    start = lms.moodle_start()
    _, done = install(tool.test_client(), start)
    assert done.status_code == 200
    [registered] = lms.moodle.registered
    body = registered.body
    token = start.rsplit("registration_token=", 1)[1]
    assert registered.authorization == f"Bearer {token}"
    assert registered.content_type == "application/json"
    assert {k: v for k, v in body.items() if k != TOOL_CONFIGURATION} == {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": TOOL_URL + "/lti/login",
        "redirect_uris": [TOOL_URL + "/lti/launch"],
        "client_name": "Clinical leadership pathway",
        "jwks_uri": TOOL_URL + "/.well-known/jwks.json",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join([*ALL_SCOPES, NRPS]),
    }
    config = body[TOOL_CONFIGURATION]
    assert config["domain"] == "localhost"
    assert config["target_link_uri"] == TOOL_URL + "/lti/launch"
    assert config["claims"] == ["iss", "sub", "name", "given_name", "family_name", "email"]
    # Moodle cannot fill Canvas variables: only the standard one it lists is asked for.
    assert config["custom_parameters"] == {"context_history": "$Context.id.history"}
    assert CANVAS_PRIVACY_LEVEL not in config
    assert [(m["type"], m["target_link_uri"], m.get("placements")) for m in config["messages"]] == [
        ("LtiResourceLinkRequest", TOOL_URL + "/lti/launch", None),
        ("LtiDeepLinkingRequest", TOOL_URL + "/lti/launch", ["ContentArea"]),
    ]


def test_canvas_round_trip_with_the_issuer_on_another_domain(tool: Flask, lms: Lms) -> None:
    client = tool.test_client()
    page, done = install(client, lms.canvas_start())
    assert "Install Clinical leadership pathway in Canvas" in page
    assert f"localhost:{lms.port}" in page and "privacy level" in page
    text = done.get_data(as_text=True)
    assert done.status_code == 200, text
    assert "Installed in Canvas" in text

    [registered] = lms.canvas.registered
    assert registered.authorization.startswith("Bearer ")
    config = registered.body[TOOL_CONFIGURATION]
    assert config[CANVAS_PRIVACY_LEVEL] == "public"
    assert config["custom_parameters"] == {"canvas_course_id": "$Canvas.course.id"}
    placements = {m["type"]: m["placements"] for m in config["messages"]}
    assert placements == {
        "LtiResourceLinkRequest": ["course_navigation"],
        "LtiDeepLinkingRequest": ["link_selection", "assignment_selection"],
    }
    deployment_id = registered.response["deployment_id"]
    assert registrations(tool) == {
        f"canvas-localhost:{lms.port}": {
            "kind": "canvas",
            "issuer": CANVAS_ISSUER,
            "client_id": "10000000000001",
            "auth_login_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
            "auth_token_url": "https://sso.canvaslms.com/login/oauth2/token",
            "key_set_url": "https://sso.canvaslms.com/api/lti/security/jwks",
            "deployments": {deployment_id: True},
        }
    }


def test_canvas_without_a_deployment_id_needs_nothing_more_in_open_mode(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    app = sqlite_tool_factory().app
    lms.canvas.return_deployment_id = False
    _, done = install(app.test_client(), lms.canvas_start())
    text = done.get_data(as_text=True)
    assert done.status_code == 200, text
    assert "did not say which deployment" in text and "nothing more is needed" in text
    assert 'data-autoclose="true"' in text
    assert registrations(app)[f"canvas-localhost:{lms.port}"]["deployments"] == {}


def test_canvas_without_a_deployment_id_keeps_the_page_open_in_approve_mode(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    app = sqlite_tool_factory(dynamic_registration="approve").app
    lms.canvas.return_deployment_id = False
    _, done = install(app.test_client(), lms.canvas_start())
    text = done.get_data(as_text=True)
    assert done.status_code == 200, text
    assert "will be refused and recorded" in text and 'data-autoclose="false"' in text
    name = f"canvas-localhost:{lms.port}"
    assert registrations(app)[name]["deployments"] == {}
    words = parse_html(text).find(id="approval-needed").text
    assert "until an administrator of this tool approves" in words
    assert f"{TOOL_URL}/admin/registrations/{registration_pk(app, name)}" in words
    assert "lti-tool" not in text


def test_another_registration_for_the_same_issuer_is_added_without_naming_the_others(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    app = sqlite_tool_factory().app
    client = app.test_client()
    assert install(client, lms.canvas_start())[1].status_code == 200
    page, added = install(client, lms.canvas_start())
    # The page (which anyone may open) says nothing about the registrations the tool has.
    first = f"canvas-localhost:{lms.port}"
    assert first not in page and "already has" not in page and "confirm_existing" not in page
    assert added.status_code == 200, added.get_data(as_text=True)
    assert sorted(registrations(app)) == [first, f"{first}-2"]


def test_the_same_issuer_and_client_id_is_refused_and_never_replaced(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    app = sqlite_tool_factory().app
    client = app.test_client()
    assert install(client, lms.canvas_start())[1].status_code == 200
    before = registrations(app)
    lms.canvas.next_key = 1  # the platform hands out the same client_id again
    _, refused = install(client, lms.canvas_start(), confirm_existing="yes")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 409, text
    assert "registration_exists" in text and "ask the administrator of this tool" in text
    assert f"canvas-localhost:{lms.port}" not in text
    assert "Reference for support" in text and refused.headers["X-Request-ID"] in text
    assert registrations(app) == before

    # A registration that appeared after the page was shown is refused the same way.
    start = lms.moodle_start()
    page = client.get(start).get_data(as_text=True)
    token = start.rsplit("registration_token=", 1)[1]
    moodle_client_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        registry.add_platform(
            session,
            registry.PlatformSpec(
                name="moodle-by-hand",
                issuer=lms.moodle_issuer,
                client_id=moodle_client_id,
                auth_login_url=lms.moodle_issuer + "/mod/lti/auth.php",
                auth_token_url=lms.moodle_issuer + "/mod/lti/token.php",
                key_set_url=lms.moodle_issuer + "/mod/lti/certs.php",
            ),
            development=True,
        )
    conflict = client.post("/lti/register", data=form_fields(page))
    text = conflict.get_data(as_text=True)
    assert conflict.status_code == 409, text
    assert "registration_exists" in text and "moodle-by-hand" not in text
    assert registrations(app)["moodle-by-hand"]["deployments"] == {}


def test_a_reused_registration_token_shows_the_platform_s_words(tool: Flask, lms: Lms) -> None:
    client = tool.test_client()
    start = lms.moodle_start()
    assert install(client, start)[1].status_code == 200
    _, reused = install(client, start)
    text = reused.get_data(as_text=True)
    assert reused.status_code == 502
    assert "The platform refused the registration" in text
    assert "token_already_used" in text and "HTTP 401" in text
    assert "Reference for support" in text and reused.headers["X-Request-ID"] in text
    assert len(registrations(tool)) == 1


def _moodle_platform_without_launches() -> dict[str, Any]:
    return {
        "product_family_code": "moodle",
        "messages_supported": [{"type": "LtiDeepLinkingRequest"}],
    }


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"registration_endpoint": None}, "has no registration_endpoint"),
        ({"issuer": None}, "has no issuer"),
        ({"token_endpoint": "/mod/lti/token.php"}, "is not an absolute http(s) URL"),
        ({"jwks_uri": "http://moodle.example.org/certs.php"}, "loopback hosts in development"),
        ({"registration_endpoint": "OTHER_ORIGIN"}, "is not on the configuration"),
        ({PLATFORM_CONFIGURATION: None}, "lti-platform-configuration object"),
        ({PLATFORM_CONFIGURATION: _moodle_platform_without_launches()}, "LtiResourceLinkRequest"),
        ({"scopes_supported": "openid"}, "scopes_supported must be a list"),
        ({"token_endpoint_auth_methods_supported": ["client_secret_basic"]}, "private_key_jwt"),
    ],
)
def test_a_bad_configuration_is_refused_before_anything_is_sent(
    sqlite_tool_factory: Any, lms: Lms, overrides: dict[str, Any], expected: str
) -> None:
    if overrides.get("registration_endpoint") == "OTHER_ORIGIN":
        # Same server, other host name: another origin than the configuration's.
        other = f"http://localhost:{lms.port}/moodle/mod/lti/openid-registration.php"
        overrides = {"registration_endpoint": other}
    lms.moodle.overrides.update(overrides)
    client = sqlite_tool_factory().app.test_client()
    response = client.get(lms.moodle_start())
    text = response.get_data(as_text=True)
    assert response.status_code == 400, text
    assert "The tool could not be installed" in text and expected in text
    assert lms.moodle.registered == [] and lms.moodle.refused == []


def test_only_the_scopes_the_platform_offers_are_requested(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    lms.moodle.overrides["scopes_supported"] = [AGS + "score", AGS + "result.readonly", "openid"]
    page, done = install(sqlite_tool_factory().app.test_client(), lms.moodle_start())
    assert "Not offered by this platform" in page and "read the course roster" in page
    assert done.status_code == 200
    assert lms.moodle.registered[0].body["scope"] == f"{AGS}result.readonly {AGS}score"


def test_the_page_needs_the_configuration_parameter(sqlite_tool_factory: Any) -> None:
    response = sqlite_tool_factory().app.test_client().get("/lti/register")
    assert response.status_code == 400
    assert "openid_configuration parameter is missing" in response.get_data(as_text=True)


def test_production_fetches_only_public_https_configurations(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    app = sqlite_tool_factory(env="production", secret_key="s" * 48).app
    client = app.test_client()
    start = lms.canvas_start()
    plain = client.get(start)
    assert plain.status_code == 400
    assert "production accepts only https" in plain.get_data(as_text=True)
    token = start.rsplit("registration_token=", 1)[1]
    assert token not in plain.get_data(as_text=True)  # Canvas's query carries it: not shown
    query = urlencode({"openid_configuration": "https://10.1.2.3/mod/lti/openid-configuration.php"})
    private = client.get("/lti/register?" + query)
    assert private.status_code == 400
    assert "points inside a private network" in private.get_data(as_text=True)


def test_dynamic_registration_off_answers_403(sqlite_tool_factory: Any, lms: Lms) -> None:
    client = sqlite_tool_factory(dynamic_registration="off").app.test_client()
    response = client.get(lms.moodle_start())
    assert response.status_code == 403
    assert "does not accept Dynamic Registration" in response.get_data(as_text=True)
    assert client.post("/lti/register", data={"install_id": "x" * 32}).status_code == 403


def test_approve_mode_keeps_the_deployment_inactive_until_an_admin_activates_it(
    sqlite_tool_factory: Any, lms: Lms, caplog: pytest.LogCaptureFixture
) -> None:
    app = sqlite_tool_factory(dynamic_registration="approve").app
    with caplog.at_level(logging.INFO, logger="lti_tool.dynamic_registration"):
        page, done = install(app.test_client(), lms.moodle_start())
    assert "must approve the new deployment" in page
    text = done.get_data(as_text=True)
    assert done.status_code == 200, text
    name = f"moodle-127.0.0.1:{lms.port}"
    # The LMS admin reading this runs no commands: words, and the registration's admin page.
    words = parse_html(text).find(id="approval-needed").text
    assert "An administrator of this tool must approve this installation" in words
    pk = registration_pk(app, name)
    assert f"{TOOL_URL}/admin/registrations/{pk}" in words
    assert "lti-tool" not in text
    # The command stays for the people who run the server: in its log.
    [logged] = [r for r in caplog.records if r.getMessage() == "dynamic registration"]
    assert getattr(logged, "fields")["command"] == f"lti-tool platform activate-deployment {name} 2"
    assert 'data-autoclose="false"' in text
    assert registrations(app)[name]["deployments"] == {"2": False}

    # A launch from the new deployment, signed by "Moodle", is refused until activation.
    client_id = lms.moodle.registered[0].response["client_id"]
    moodle = SandboxPlatform(
        issuer=lms.moodle_issuer, tool_url=TOOL_URL, client_id=client_id, deployment_id="2"
    )
    lms.moodle.jwks = moodle.jwks()
    launcher = Launcher(app, moodle, create_sandbox_app(moodle))
    refused = launcher.launch(app.test_client())
    assert refused.status_code == 403, refused.get_data(as_text=True)
    assert "has not been approved yet" in refused.get_data(as_text=True)
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        registry.set_deployment_active(session, name, "2")
    launched = launcher.launch(app.test_client())
    assert launched.status_code == 200, launched.get_data(as_text=True)


def test_the_install_post_needs_its_form_token(sqlite_tool_factory: Any, lms: Lms) -> None:
    app = sqlite_tool_factory().app
    client = app.test_client()
    page = client.get(lms.moodle_start()).get_data(as_text=True)
    fields = form_fields(page)
    missing = client.post("/lti/register", data={"install_id": fields["install_id"]})
    assert missing.status_code == 400
    assert "The form expired" in missing.get_data(as_text=True)

    # An LMS iframe may get no cookies: the token kept with the install still protects it.
    cookieless = app.test_client()
    forged = cookieless.post("/lti/register", data={**fields, "csrf_token": "forged"})
    assert forged.status_code == 400 and "csrf" in forged.get_data(as_text=True)
    assert lms.moodle.registered == []
    accepted = cookieless.post("/lti/register", data=fields)
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert len(lms.moodle.registered) == 1


@pytest.mark.parametrize(
    ("env", "setting", "mode"),
    [
        ("development", "", "open"),
        ("production", "", "approve"),
        ("production", "open", "open"),
        ("development", " Approve ", "approve"),
        ("production", "off", "off"),
    ],
)
def test_the_mode_follows_the_environment_unless_set(
    tmp_path: Path, env: str, setting: str, mode: str
) -> None:
    settings = load_settings(
        overrides={
            "env": env,
            "secret_key": "k" * 32,
            "base_url": "https://pathway.example.ac.uk",
            "dynamic_registration": setting,
        },
        environ={"LTI_TOOL_INSTANCE_DIR": str(tmp_path)},
    )
    assert settings.dynamic_registration_mode == mode


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(SettingsError, match="dynamic_registration"):
        load_settings(environ={"LTI_TOOL_DYNAMIC_REGISTRATION": "sometimes"})


@pytest.mark.parametrize(
    ("answer", "client_id", "deployment_id"),
    [
        ({"client_id": "abc", TOOL_CONFIGURATION: {"deployment_id": "2"}}, "abc", "2"),
        ({"client_id": 10000000000001, "deployment_id": "1:ff"}, "10000000000001", "1:ff"),
        ({"client_id": "abc", TOOL_CONFIGURATION: {}}, "abc", None),
    ],
)
def test_the_deployment_id_is_read_where_each_platform_puts_it(
    answer: dict[str, Any], client_id: str, deployment_id: str | None
) -> None:
    result = parse_registration_response(answer)
    assert (result.client_id, result.deployment_id) == (client_id, deployment_id)


def test_an_answer_without_client_id_is_refused() -> None:
    with pytest.raises(PlatformRefused, match="no client_id"):
        parse_registration_response({"client_id": "", "deployment_id": "2"})


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"token_already_used", "text/html; charset=utf-8", "token_already_used"),
        (b'{"errorMessage": "JWT expired"}', "application/json", "JWT expired"),
        (b'{"errors": ["scope is required"]}', "application/json", '["scope is required"]'),
        (b"<html><body><p>Fatal  error</p></body></html>", "text/html", "Fatal error"),
        (b"", "text/plain", "(no explanation given)"),
    ],
)
def test_the_platform_s_words_are_shown_as_short_text(
    body: bytes, content_type: str, words: str
) -> None:
    assert platform_words(body, content_type) == words


def test_platform_rename(tmp_path: Path) -> None:
    env = {
        "LTI_TOOL_ENV": "production",
        "LTI_TOOL_SECRET_KEY": "cli-test-secret-of-at-least-32-characters",
        "LTI_TOOL_BASE_URL": "https://pathway.example.ac.uk",
        "LTI_TOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "LTI_TOOL_INSTANCE_DIR": str(tmp_path),
    }

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), env=env)

    assert run("init").exit_code == 0
    for name, client_id in (("moodle-127.0.0.1:8080", "a"), ("other", "b")):
        added = run(
            "platform", "add", "--name", name, "--issuer", "https://moodle.example.org",
            "--client-id", client_id,
            "--auth-login-url", "https://moodle.example.org/mod/lti/auth.php",
            "--auth-token-url", "https://moodle.example.org/mod/lti/token.php",
            "--key-set-url", "https://moodle.example.org/mod/lti/certs.php",
        )  # fmt: skip
        assert added.exit_code == 0, added.output
    renamed = run("platform", "rename", "moodle-127.0.0.1:8080", "moodle-live")
    assert renamed.exit_code == 0, renamed.output
    assert "moodle-live" in run("platform", "list").output
    taken = run("platform", "rename", "moodle-live", "other")
    assert taken.exit_code != 0 and "already exists" in taken.output
    unknown = run("platform", "rename", "nope", "x")
    assert unknown.exit_code != 0 and "no registration named" in unknown.output
    empty = run("platform", "rename", "moodle-live", "  ")
    assert empty.exit_code != 0 and "1 to 100 characters" in empty.output


def _policy(response: TestResponse) -> dict[str, list[str]]:
    directives = response.headers["Content-Security-Policy"].split("; ")
    return {d.split()[0]: d.split()[1:] for d in directives}


def test_the_registering_platform_may_frame_the_pages(tool: Flask, lms: Lms) -> None:
    client = tool.test_client()
    moodle_page = client.get(lms.moodle_start())
    moodle = _policy(moodle_page)
    app_policy = _policy(client.get("/no-such-page"))  # before the install adds a platform
    assert lms.moodle_host in moodle["frame-ancestors"]
    assert "'self'" in moodle["frame-ancestors"]
    canvas = _policy(client.get(lms.canvas_start()))
    assert {CANVAS_ISSUER, lms.canvas_host, "https://*.instructure.com"} <= set(
        canvas["frame-ancestors"]
    )
    done = client.post("/lti/register", data=form_fields(moodle_page.get_data(as_text=True)))
    assert lms.moodle_host in _policy(done)["frame-ancestors"]
    # Apart from framing (and the per-request nonce), the app's own policy.
    ours = {k: v for k, v in moodle.items() if k not in {"frame-ancestors", "script-src"}}
    assert ours == {
        k: v for k, v in app_policy.items() if k not in {"frame-ancestors", "script-src"}
    }
    assert moodle["script-src"][0] == app_policy["script-src"][0] == "'self'"
