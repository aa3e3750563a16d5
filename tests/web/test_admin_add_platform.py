"""A tool administrator adds a platform from the admin pages alone (issue 15): the Moodle and
Canvas presets, the checks of ``lti-tool platform add`` shown beside the fields, refusals of
duplicates, the audit entry in words, and the page of what to paste into the LMS. Attacks: no
session, an LMS administrator, a missing CSRF token, insecure and script URLs."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.persistence.models import Registration
from tests.conftest import TOOL_URL
from tests.support.lti import Launcher
from tests.support.pathway_web import audit_rows, csrf_token, open_tool, parse_html
from tests.web.test_admin_access import other_platform, sandbox_pk, tool_admin
from tests.web.test_cli_audit import cli

NEW = "/admin/registrations/new"
SITE = "https://moodle.example.ac.uk"


def inputs(page: str) -> dict[str, str]:
    return {
        i.attrs["name"]: i.attrs.get("value", "")
        for i in parse_html(page).find_all("input")
        if "name" in i.attrs and i.attrs.get("type") != "radio"
    }


def details(client: FlaskClient, **choice: str) -> dict[str, str]:
    """Step one → two: the form as the page fills it in for ``choice``."""
    page = client.get(NEW, query_string={"step": "details", **choice})
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    return inputs(text)


def registrations(app: Flask) -> dict[str, Registration]:
    with app.extensions["lti_tool"].db.read_only() as session:
        rows = session.scalars(select(Registration)).all()
        for row in rows:
            _ = row.deployments  # loaded before the session closes
        return {row.name: row for row in rows}


def field_error(page: str, name: str) -> str:
    """The words shown beside field ``name`` (which must be marked invalid)."""
    tree = parse_html(page)
    [box] = [i for i in tree.find_all("input") if i.attrs.get("name") == name and "id" in i.attrs]
    assert box.attrs.get("aria-invalid") == "true"
    assert f"{name}-error" in box.attrs.get("aria-describedby", "")
    [error] = [s for s in tree.find_all("span") if s.attrs.get("id") == f"{name}-error"]
    return error.text


def test_a_tool_admin_adds_a_moodle_site_from_its_address_and_sees_what_to_paste(
    launcher: Launcher,
) -> None:
    app = launcher.app
    client = tool_admin(app)
    listing = client.get("/admin/registrations").get_data(as_text=True)
    assert f'href="{NEW}"' in listing and "Add a platform" in listing
    assert f'href="{NEW}"' in client.get("/admin/").get_data(as_text=True)
    first = client.get(NEW).get_data(as_text=True)
    assert "Moodle site address" in first and "Other LTI 1.3 platform" in first

    form = details(client, kind="moodle", site_address=SITE + "/")
    step_two = client.get(
        NEW, query_string={"step": "details", "kind": "moodle", "site_address": SITE}
    ).get_data(as_text=True)
    # Moodle gives the client ID only once the tool is set up in it: what to paste comes first.
    assert "/admin/registrations/new/setup?kind=moodle" in step_two
    first_setup = client.get("/admin/registrations/new/setup?kind=moodle")
    first_text = first_setup.get_data(as_text=True)
    assert first_setup.status_code == 200 and f"{TOOL_URL}/.well-known/jwks.json" in first_text
    assert "paste-login-own" not in first_text and "Manage tools" in first_text
    assert form["issuer"] == SITE
    assert form["auth_login_url"] == SITE + "/mod/lti/auth.php"
    assert form["auth_token_url"] == SITE + "/mod/lti/token.php"
    assert form["key_set_url"] == SITE + "/mod/lti/certs.php"
    assert form["name"] == "moodle-moodle.example.ac.uk"
    # The REST endpoint an admin may have at hand names the same site.
    again = details(client, kind="moodle", site_address=SITE + "/webservice/rest/server.php")
    assert again["issuer"] == SITE

    saved = client.post(NEW, data={**form, "client_id": "Xy12", "deployment_id": "3"})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    row = registrations(app)["moodle-moodle.example.ac.uk"]
    assert (row.kind, row.issuer, row.client_id) == ("moodle", SITE, "Xy12")
    assert row.key_set_url == SITE + "/mod/lti/certs.php"
    assert [(d.deployment_id, d.active) for d in row.deployments] == [("3", True)]
    assert saved.headers["Location"].endswith(f"/admin/registrations/{row.id}/setup")

    [entry] = [r for r in audit_rows(app) if r["action"] == "registration.add"]
    assert entry["subject"] == f"registration:{row.id}"
    assert entry["new"]["admin"] == "tool admin root"
    assert entry["new"]["issuer"] == SITE and entry["new"]["deployment_ids"] == ["3"]
    setup = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "is added" in setup  # the flash message, right after adding
    # Read-only boxes with no name: nothing is sent from here (the sign-out form aside).
    assert set(inputs(setup)) == {"csrf_token"}
    boxes = {
        i.attrs["id"]: i.attrs["value"]
        for i in parse_html(setup).find_all("input")
        if i.attrs.get("readonly") is not None
    }
    assert boxes["paste-tool-url"] == f"{TOOL_URL}/lti/launch"
    assert boxes["paste-login"] == f"{TOOL_URL}/lti/login"
    assert boxes["paste-login-own"] == f"{TOOL_URL}/lti/login/{row.id}"
    assert boxes["paste-redirect"] == f"{TOOL_URL}/lti/launch"
    assert boxes["paste-jwks"] == f"{TOOL_URL}/.well-known/jwks.json"
    assert boxes["paste-register"] == f"{TOOL_URL}/lti/register"
    assert "paste-canvas-json" not in boxes  # Canvas only
    assert 'aria-live="polite"' in setup and "Manage tools" in setup
    assert f"/admin/registrations/{row.id}/source" in setup
    assert f"/admin/registrations/{row.id}/mapping" in setup
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "Registered the platform moodle-moodle.example.ac.uk (moodle)" in audit_page

    detail = client.get(f"/admin/registrations/{row.id}").get_data(as_text=True)
    for page in ("setup", "source", "mapping"):
        assert f"/admin/registrations/{row.id}/{page}" in detail


def test_canvas_test_site_preset_and_no_deployment_yet(launcher: Launcher) -> None:
    app = launcher.app
    client = tool_admin(app)
    form = details(client, kind="canvas", canvas_site="test")
    assert form["issuer"] == "https://canvas.test.instructure.com"
    assert form["auth_login_url"] == "https://sso.test.canvaslms.com/api/lti/authorize_redirect"
    assert form["auth_token_url"] == "https://sso.test.canvaslms.com/login/oauth2/token"
    assert form["key_set_url"] == "https://sso.test.canvaslms.com/api/lti/security/jwks"
    cloud = details(client, kind="canvas", canvas_site="production")
    assert cloud["issuer"] == "https://canvas.instructure.com"
    assert cloud["key_set_url"] == "https://sso.canvaslms.com/api/lti/security/jwks"
    beta = details(client, kind="canvas", canvas_site="beta")
    assert beta["auth_login_url"].startswith("https://sso.beta.canvaslms.com/")

    saved = client.post(NEW, data={**form, "client_id": "170000000000042"})
    assert saved.status_code == 303, saved.get_data(as_text=True)
    row = registrations(app)["canvas-test"]
    assert row.kind == "canvas" and row.deployments == []
    setup = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert f"{TOOL_URL}/lti/canvas.json" in setup and "Developer Keys" in setup
    # A second key on the same Canvas site gets a free name of its own.
    assert details(client, kind="canvas", canvas_site="test")["name"] == "canvas-test-2"


def test_other_platform_fields_by_hand_and_plain_words_beside_each_field(
    launcher: Launcher,
) -> None:
    app = launcher.app
    client = tool_admin(app)
    form = details(client, kind="generic")
    assert form["issuer"] == "" and form["name"] == "lti"
    before = set(registrations(app))
    refused = client.post(
        NEW,
        data={
            **form,
            "issuer": "https://lms.example.org",
            "auth_login_url": "lms.example.org/auth",
            "auth_token_url": "https://lms.example.org/token",
            "key_set_url": "https://lms.example.org/jwks",
            "client_id": "",
            "name": "x" * 101,
        },
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422, page
    assert 'role="alert"' in page
    assert "full web address" in field_error(page, "auth_login_url")
    assert field_error(page, "client_id") == "This is needed."
    assert "at most 100 characters" in field_error(page, "name")
    assert set(registrations(app)) == before  # nothing half-written
    assert [r for r in audit_rows(app) if r["action"] == "registration.add"] == []
    # What was typed is kept, so nothing needs typing again.
    assert inputs(page)["key_set_url"] == "https://lms.example.org/jwks"
    unknown = client.post(NEW, data={**inputs(page), "kind": "blackboard", "client_id": "c"})
    assert unknown.status_code == 422
    assert "Choose Moodle, Canvas or another LTI 1.3 platform." in unknown.get_data(as_text=True)
    assert set(registrations(app)) == before


def test_a_page_of_the_moodle_site_is_refused_in_words(launcher: Launcher) -> None:
    client = tool_admin(launcher.app)
    page = client.get(
        NEW,
        query_string={
            "step": "details",
            "kind": "moodle",
            "site_address": SITE + "/login/index.php",
        },
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "is a page of the site, not its address" in field_error(text, "site_address")


def test_the_same_platform_and_client_id_twice_is_refused(launcher: Launcher) -> None:
    app = launcher.app
    client = tool_admin(app)
    with app.extensions["lti_tool"].db.read_only() as session:
        sandbox = session.get(Registration, sandbox_pk(app))
        assert sandbox is not None
        issuer, client_id = sandbox.issuer, sandbox.client_id
    form = {
        **details(client, kind="generic"),
        "name": "sandbox-again",
        "issuer": issuer,
        "client_id": client_id,
        "auth_login_url": "http://127.0.0.1/auth",
        "auth_token_url": "http://127.0.0.1/token",
        "key_set_url": "http://127.0.0.1/jwks",
    }
    refused = client.post(NEW, data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422, page
    assert "already registered with this client ID, as “sandbox”" in field_error(page, "client_id")
    taken = client.post(NEW, data={**form, "name": "sandbox", "client_id": "another"})
    assert "already has this name" in field_error(taken.get_data(as_text=True), "name")
    assert "sandbox-again" not in registrations(app)


def test_production_refuses_http_and_script_addresses(sqlite_tool_factory: Any) -> None:
    app = sqlite_tool_factory(env="production", secret_key="s" * 48).app
    client = tool_admin(app)
    local = client.get(
        NEW,
        query_string={"step": "details", "kind": "moodle", "site_address": "http://moodle.ac.uk"},
    )
    assert local.status_code == 422
    assert "https://" in field_error(local.get_data(as_text=True), "site_address")
    form = {
        **details(client, kind="generic"),
        "name": "evil",
        "client_id": "c",
        "issuer": "javascript:alert(1)",
        "auth_login_url": "http://lms.example.org/auth",
        "auth_token_url": "https://lms.example.org/token",
        "key_set_url": "javascript:alert(document.cookie)",
    }
    refused = client.post(NEW, data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422, page
    assert "secure connection" in field_error(page, "auth_login_url")
    assert "full web address" in field_error(page, "key_set_url")
    assert "full web address" in field_error(page, "issuer")
    assert "evil" not in registrations(app)
    ok = client.post(
        NEW,
        data={
            **form,
            "issuer": "https://lms.example.org",
            "auth_login_url": "https://lms.example.org/auth",
            "key_set_url": "https://lms.example.org/jwks",
        },
    )
    assert ok.status_code == 303, ok.get_data(as_text=True)
    assert "evil" in registrations(app)


def test_only_a_signed_in_tool_admin_with_the_csrf_token_may_add(launcher: Launcher) -> None:
    app = launcher.app
    pk = sandbox_pk(app)
    attack = {
        "kind": "generic",
        "name": "stranger",
        "issuer": "https://evil.example",
        "client_id": "c",
        "auth_login_url": "https://evil.example/auth",
        "auth_token_url": "https://evil.example/token",
        "key_set_url": "https://evil.example/jwks",
    }
    stranger = app.test_client()
    to_sign_in = stranger.get(NEW)
    assert to_sign_in.status_code == 302 and "/admin/login" in to_sign_in.headers["Location"]
    assert stranger.post(NEW, data=attack).status_code in {400, 303}
    assert stranger.get(f"/admin/registrations/{pk}/setup").status_code == 302

    lms_admin = open_tool(launcher, "admin").client
    listing = lms_admin.get("/admin/registrations").get_data(as_text=True)
    assert NEW not in listing and NEW not in lms_admin.get("/admin/").get_data(as_text=True)
    assert lms_admin.get(NEW).status_code == 403
    step_two = {"step": "details", "kind": "generic"}
    assert lms_admin.get(NEW, query_string=step_two).status_code == 403
    token = csrf_token(lms_admin.get(f"/admin/registrations/{pk}/mapping").get_data(as_text=True))
    assert lms_admin.post(NEW, data={**attack, "csrf_token": token}).status_code == 403
    assert lms_admin.get(NEW + "/setup?kind=moodle").status_code == 403
    # An LMS administrator sees what to paste for their own platform, not for another.
    own = lms_admin.get(f"/admin/registrations/{pk}/setup")
    assert own.status_code == 200 and f"/lti/login/{pk}" in own.get_data(as_text=True)
    other_pk, _ = other_platform(app)
    assert lms_admin.get(f"/admin/registrations/{other_pk}/setup").status_code == 404

    root = tool_admin(app)
    for token in (None, "forged"):
        data = dict(attack) if token is None else {**attack, "csrf_token": token}
        refused = root.post(NEW, data=data)
        assert refused.status_code == 400
        assert "The form expired" in refused.get_data(as_text=True)
    assert "stranger" not in registrations(app)
    assert [r for r in audit_rows(app) if r["action"] == "registration.add"] == []


def test_the_command_line_prints_what_the_page_shows_and_keeps_the_same_rules(
    launcher: Launcher,
) -> None:
    app = launcher.app
    run = cli(app)
    site = "https://canvas.instructure.com"
    sso = "https://sso.canvaslms.com"
    added = run(
        "platform", "add", "--name", "canvas-cli", "--kind", "canvas", "--issuer", site,
        "--client-id", "1700", "--auth-login-url", sso + "/api/lti/authorize_redirect",
        "--auth-token-url", sso + "/login/oauth2/token",
        "--key-set-url", sso + "/api/lti/security/jwks",
    )  # fmt: skip
    pk = registrations(app)["canvas-cli"].id
    page = tool_admin(app).get(f"/admin/registrations/{pk}/setup").get_data(as_text=True)
    shown = {
        i.attrs["value"]
        for i in parse_html(page).find_all("input")
        if i.attrs.get("readonly") is not None and i.attrs["id"] != "paste-register"
    }
    printed = {line.rsplit(": ", 1)[1] for line in added.output.splitlines()[1:]}
    assert printed == shown and f"{TOOL_URL}/lti/canvas.json" in printed
    # The page's rules are the command line's: the same issuer + client ID is refused.
    again = run(
        "platform", "add", "--name", "canvas-cli-2", "--issuer", site, "--client-id", "1700",
        "--auth-login-url", sso + "/a", "--auth-token-url", sso + "/t", "--key-set-url", sso + "/k",
        check=False,
    )  # fmt: skip
    assert again.exit_code != 0 and "already exists" in again.output
    script = run(
        "platform", "add", "--name", "js", "--issuer", "javascript:alert(1)", "--client-id", "c",
        "--auth-login-url", sso + "/a", "--auth-token-url", sso + "/t", "--key-set-url", sso + "/k",
        check=False,
    )  # fmt: skip
    assert script.exit_code != 0 and "issuer" in script.output
    assert set(registrations(app)) >= {"canvas-cli"} and "js" not in registrations(app)
