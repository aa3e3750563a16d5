"""Replacing a registration's endpoints and keys is a tool administrator's act (issue 10,
item 1): the admin page (review, then apply; CSRF; LMS admins and strangers refused) and
``lti-tool platform set-endpoints``, both audited old → new."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.cli import main
from lti_tool.lti import registry
from lti_tool.persistence.models import Registration
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import TOOL_URL
from tests.support.dynreg import Lms
from tests.support.lti import Launcher
from tests.support.pathway_web import audit_rows, csrf_token, open_tool, parse_html
from tests.web.test_admin_access import sandbox_pk, tool_admin


def endpoints(app: Flask, pk: int) -> dict[str, str | None]:
    with app.extensions["lti_tool"].db.read_only() as session:
        row = session.get(Registration, pk)
        assert row is not None
        return registry.endpoints_of(row)


def review(client: FlaskClient, pk: int, **values: str) -> Any:
    path = f"/admin/registrations/{pk}/endpoints"
    form = client.get(path)
    assert form.status_code == 200, form.get_data(as_text=True)
    fields = {
        i.attrs["name"]: i.attrs.get("value", "")
        for i in parse_html(form.get_data(as_text=True)).find_all("input")
    }
    return client.post(path, data={**fields, **values})


def test_a_tool_admin_replaces_the_keys_after_a_review_and_the_audit_shows_old_and_new(
    launcher: Launcher, lms: Lms
) -> None:
    app, platform = launcher.app, launcher.platform
    pk = sandbox_pk(app)
    before = endpoints(app, pk)
    # The platform moved its keys: launches signed with the new key are refused until then.
    moved = SandboxPlatform(
        issuer=platform.issuer,
        tool_url=TOOL_URL,
        client_id=platform.client_id,
        deployment_id=platform.deployment_id,
    )
    lms.moodle.jwks = moved.jwks()
    new_jwks = lms.moodle.site(lms.moodle_host) + "/mod/lti/certs.php"
    signed_by_moved = Launcher(app, moved, create_sandbox_app(moved))
    assert signed_by_moved.launch(app.test_client()).status_code in {400, 401, 403}

    client = tool_admin(app)
    detail = client.get(f"/admin/registrations/{pk}").get_data(as_text=True)
    assert f"/admin/registrations/{pk}/endpoints" in detail
    reviewed = review(client, pk, key_set_url=new_jwks)
    text = reviewed.get_data(as_text=True)
    assert reviewed.status_code == 200, text
    assert before["key_set_url"] in text and new_jwks in text
    assert endpoints(app, pk) == before  # a review saves nothing

    apply = {
        i.attrs["name"]: i.attrs.get("value", "")
        for i in parse_html(text).find_all("input")
        if i.attrs.get("type") == "hidden"
    }
    assert apply["step"] == "apply"
    done = client.post(f"/admin/registrations/{pk}/endpoints", data=apply)
    assert done.status_code == 302, done.get_data(as_text=True)
    assert endpoints(app, pk) == {**before, "key_set_url": new_jwks}
    [entry] = [r for r in audit_rows(app) if r["action"] == "registration.endpoints"]
    assert entry["subject"] == f"registration:{pk}"
    assert entry["old"] == {"key_set_url": before["key_set_url"]}
    assert entry["new"] == {
        "key_set_url": new_jwks,
        "registration": "sandbox",
        "admin": "tool admin root",
    }
    # At once (the registry cache is cleared): the new key works, the old one no longer.
    assert signed_by_moved.launch(app.test_client()).status_code == 200
    assert launcher.launch(app.test_client()).status_code in {400, 401, 403}


def test_a_bad_url_is_refused_with_the_form_again(launcher: Launcher) -> None:
    app = launcher.app
    pk = sandbox_pk(app)
    before = endpoints(app, pk)
    client = tool_admin(app)
    for value, words in (
        ("http://lms.example.org/jwks", "only for loopback hosts"),
        ("", "not an absolute"),
    ):
        refused = review(client, pk, key_set_url=value)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422, text
        assert words in text and 'role="alert"' in text
        # Applying directly (skipping the review) is checked the same way.
        forced = client.post(
            f"/admin/registrations/{pk}/endpoints",
            data={"csrf_token": csrf_token(text), "step": "apply", "key_set_url": value},
        )
        assert forced.status_code == 422
    assert endpoints(app, pk) == before
    assert [r for r in audit_rows(app) if r["action"] == "registration.endpoints"] == []


def test_only_a_signed_in_tool_admin_with_the_csrf_token_may_replace_them(
    launcher: Launcher, lms: Lms
) -> None:
    app = launcher.app
    pk = sandbox_pk(app)
    path = f"/admin/registrations/{pk}/endpoints"
    before = endpoints(app, pk)
    attack = {"step": "apply", "key_set_url": lms.moodle_host + "/stranger/jwks"}

    stranger = app.test_client()
    assert stranger.get(path).status_code == 302  # to the sign-in page
    assert stranger.post(path, data=attack).status_code in {400, 303}

    # An administrator of the platform (an LMS admin launch) is not a tool administrator.
    lms_admin = open_tool(launcher, "admin").client
    detail = lms_admin.get(f"/admin/registrations/{pk}")
    assert detail.status_code == 200 and path not in detail.get_data(as_text=True)
    assert lms_admin.get(path).status_code == 403
    token = csrf_token(lms_admin.get(f"/admin/registrations/{pk}/mapping").get_data(as_text=True))
    assert lms_admin.post(path, data={**attack, "csrf_token": token}).status_code == 403

    root = tool_admin(app)
    for token in (None, "forged"):
        data = dict(attack) if token is None else {**attack, "csrf_token": token}
        refused = root.post(path, data=data)
        assert refused.status_code == 400
        assert "The form expired" in refused.get_data(as_text=True)
    assert endpoints(app, pk) == before
    assert [r for r in audit_rows(app) if r["action"] == "registration.endpoints"] == []


def test_platform_set_endpoints_from_the_command_line_is_audited(tmp_path: Path) -> None:
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
    site = "https://moodle.example.org"
    added = run(
        "platform", "add", "--name", "moodle", "--issuer", site, "--client-id", "a",
        "--auth-login-url", site + "/mod/lti/auth.php",
        "--auth-token-url", site + "/mod/lti/token.php",
        "--key-set-url", site + "/mod/lti/certs.php",
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    changed = run("platform", "set-endpoints", "moodle", "--key-set-url", site + "/keys.json")
    assert changed.exit_code == 0, changed.output
    assert f"key_set_url: {site}/mod/lti/certs.php -> {site}/keys.json" in changed.output
    listed = run("platform", "list", "--json").output
    assert f'"key_set_url": "{site}/keys.json"' in listed

    insecure = run("platform", "set-endpoints", "moodle", "--auth-login-url", "http://x.org/a")
    assert insecure.exit_code != 0 and "only https" in insecure.output
    nothing = run("platform", "set-endpoints", "moodle")
    assert nothing.exit_code != 0 and "at least one" in nothing.output
    assert run("platform", "set-endpoints", "nope", "--key-set-url", site).exit_code != 0

    from lti_tool.admin.identity import command_line_identity
    from lti_tool.persistence.db import Database
    from lti_tool.persistence.models import AuditEntry

    db = Database(env["LTI_TOOL_DATABASE_URL"])
    with db.read_only() as session:
        [entry] = session.query(AuditEntry).filter_by(action="registration.endpoints").all()
        assert entry.old == {"key_set_url": site + "/mod/lti/certs.php"}
        assert entry.new is not None and entry.new["key_set_url"] == site + "/keys.json"
        assert entry.new["admin"] == command_line_identity().label
        assert entry.new["admin"].startswith("cli:")
    db.engine.dispose()
