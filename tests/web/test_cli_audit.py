"""The command line and the admin pages are one front door (issue 13, item 3): each
state-changing ``lti-tool`` command writes exactly the audit row the admin page writes for the
same change (same action, subject and details), naming the command line's user
(``cli:<login name>``) as the actor instead of a signed-in admin."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.admin.identity import command_line_identity
from lti_tool.cli import main
from lti_tool.privacy.erasure import request_erasure
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from tests.support.lti import Launcher
from tests.support.pathway_web import audit_rows, csrf_token, parse_html
from tests.support.privacy import seed_retention
from tests.web.test_admin_access import sandbox_pk, tool_admin
from tests.web.test_admin_pages import sandbox_deployment

PAGE_ADMIN = "tool admin root"


def cli(app: Flask) -> Any:
    """``lti-tool`` against the app's own database, with the app's secret key."""
    settings = app.extensions["lti_tool"].settings
    env = {
        "LTI_TOOL_ENV": "development",
        "LTI_TOOL_DATABASE_URL": settings.database_url,
        "LTI_TOOL_SECRET_KEY": settings.secret_key,
        "LTI_TOOL_BASE_URL": str(settings.base_url),
        "LTI_TOOL_INSTANCE_DIR": str(settings.instance_dir),
        "LTI_TOOL_OUTBOUND_ALLOW_LOOPBACK": "true",
        "LTI_TOOL_REDIS_URL": "",
    }

    def run(*args: str, stdin: str | None = None, check: bool = True) -> Result:
        result = CliRunner().invoke(main, list(args), env=env, input=stdin)
        assert result.exit_code == 0 or not check, result.output
        return result

    return run


def new_rows(app: Flask, before: int) -> list[dict[str, Any]]:
    return audit_rows(app)[before:]


def without_actor(row: dict[str, Any]) -> dict[str, Any]:
    new = dict(row["new"] or {})
    new.pop("admin", None)
    return {**row, "new": new}


def on_the_page(client: FlaskClient, app: Flask, pk: int, dep: int, moodle_url: str) -> None:
    """The admin pages' way: mapping, completion source, discovery, deployment off and on,
    key rotation, endpoints."""
    path = f"/admin/registrations/{pk}"
    token = csrf_token(client.get(f"{path}/mapping").get_data(as_text=True))
    client.post(f"{path}/mapping", data={"csrf_token": token, "code": "GB085", "course_id": "17"})
    staged = client.post(
        f"{path}/source",
        data={
            "csrf_token": token,
            "kind": "moodle",
            "endpoint_url": moodle_url,
            "token": SANDBOX_TOKEN,
            "mode": "course",
        },
    )
    assert staged.status_code == 302, staged.get_data(as_text=True)
    client.post(staged.headers["Location"], data={"csrf_token": token})
    found = client.post(f"{path}/mapping/discover", data={"csrf_token": token, "mode": "courses"})
    [apply] = [
        f.attrs["action"]
        for f in parse_html(found.get_data(as_text=True)).find_all("form")
        if "/mapping/discover/" in f.attrs["action"]
    ]
    assert client.post(apply, data={"csrf_token": token}).status_code == 302
    for step in ("deactivate", "activate"):
        done = client.post(f"{path}/deployments/{dep}/{step}", data={"csrf_token": token})
        assert done.status_code == 302
    assert client.post("/admin/keys/rotate", data={"csrf_token": token}).status_code == 302


def test_each_command_writes_the_row_the_admin_page_writes(sqlite_tool_factory: Any) -> None:
    page_tool = sqlite_tool_factory()
    cli_tool = sqlite_tool_factory()
    page_app, app = page_tool.app, cli_tool.app
    pk, dep = sandbox_pk(app), sandbox_deployment(app)
    assert (pk, dep) == (sandbox_pk(page_app), sandbox_deployment(page_app))
    platform = cli_tool.platform
    moodle_url = platform.issuer + "/moodle/webservice/rest/server.php"
    new_jwks = platform.issuer + "/moved/certs.php"

    client = tool_admin(page_app)
    on_the_page(client, page_app, pk, dep, moodle_url)
    form = client.get(f"/admin/registrations/{pk}/endpoints").get_data(as_text=True)
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in parse_html(form).find_all("input")}
    applied = client.post(
        f"/admin/registrations/{pk}/endpoints",
        data={**fields, "key_set_url": new_jwks, "step": "apply"},
    )
    assert applied.status_code == 302, applied.get_data(as_text=True)
    token = csrf_token(client.get(f"/admin/registrations/{pk}").get_data(as_text=True))
    policy = client.post(
        f"/admin/registrations/{pk}/new-deployments", data={"csrf_token": token, "policy": "accept"}
    )
    assert policy.status_code == 302

    run = cli(app)
    commands: list[tuple[str, ...]] = [
        ("mapping", "set", "sandbox", "GB085", "--course", "17"),
        ("platform", "set-completion", "sandbox", "--moodle-url", moodle_url,
         "--moodle-token", SANDBOX_TOKEN),
        ("mapping", "discover", "sandbox", "--apply"),
        ("platform", "deactivate-deployment", "sandbox", platform.deployment_id),
        ("platform", "activate-deployment", "sandbox", platform.deployment_id),
        ("keys", "rotate"),
        ("platform", "set-endpoints", "sandbox", "--key-set-url", new_jwks),
        ("platform", "set-deployment-policy", "sandbox", "accept"),
    ]  # fmt: skip
    outputs = []
    for command in commands:
        before = len(audit_rows(app))
        outputs.append(run(*command).output)
        assert len(new_rows(app, before)) == 1, (command, outputs[-1])
    assert "checked: " in outputs[1]  # set-completion still checks the Moodle service
    again = run("platform", "set-deployment-policy", "sandbox", "accept").output
    assert "already accept" in again  # and no second audit row (counted below)
    assert "stored 13 mappings" in outputs[2]

    page_rows, cli_rows = audit_rows(page_app), audit_rows(app)
    assert [r["action"] for r in cli_rows] == [
        "mapping.set",
        "completion_source.change",
        "mapping.discover",
        "deployment.deactivate",
        "deployment.activate",
        "keys.rotate",
        "registration.endpoints",
        "registration.new_deployments",
    ]
    assert {r["new"]["admin"] for r in page_rows} == {PAGE_ADMIN}
    assert {r["new"]["admin"] for r in cli_rows} == {command_line_identity().label}
    assert command_line_identity().label.startswith("cli:")
    # Every detail but the new key's id (each rotation makes its own) and the moment it
    # begins signing is the same.
    for rows in (page_rows, cli_rows):
        assert len(rows[5]["new"]["active"]) == 1
        rows[5]["new"]["active"] = ["<new kid>"]
        assert rows[5]["new"]["signs_from"].endswith("Z")
        rows[5]["new"]["signs_from"] = "<when>"
    assert [without_actor(r) for r in cli_rows] == [without_actor(r) for r in page_rows]


def test_registering_and_renaming_are_audited_too(sqlite_tool_factory: Any) -> None:
    launcher: Launcher = sqlite_tool_factory()
    app = launcher.app
    run = cli(app)
    site = "https://moodle.example.org"
    run(
        "platform", "add", "--name", "by-hand", "--kind", "moodle", "--issuer", site,
        "--client-id", "abc", "--auth-login-url", site + "/mod/lti/auth.php",
        "--auth-token-url", site + "/mod/lti/token.php",
        "--key-set-url", site + "/mod/lti/certs.php", "--deployment-id", "4",
    )  # fmt: skip
    run("platform", "rename", "by-hand", "moodle-live")
    run("platform", "activate-deployment", "moodle-live", "9")  # not seen yet: added
    added, renamed, activated = audit_rows(app)
    actor = command_line_identity().label
    assert added["action"] == "registration.add"
    pk = int(added["subject"].removeprefix("registration:"))
    assert added["old"] is None and added["new"] == {
        "registration": "by-hand",
        "kind": "moodle",
        "issuer": site,
        "client_id": "abc",
        "auth_login_url": site + "/mod/lti/auth.php",
        "auth_token_url": site + "/mod/lti/token.php",
        "key_set_url": site + "/mod/lti/certs.php",
        "auth_audience": None,
        "deployment_ids": ["4"],
        "new_deployments": "hold",
        "admin": actor,
    }
    assert renamed["action"] == "registration.rename"
    assert renamed["subject"] == f"registration:{pk}"
    assert renamed["old"] == {"name": "by-hand"}
    assert renamed["new"] == {"name": "moodle-live", "admin": actor}
    assert activated["action"] == "deployment.activate"
    assert activated["subject"].startswith(f"registration:{pk}/deployment:")
    assert activated["old"] is None
    assert activated["new"] == {
        "active": True,
        "approval": "approved",
        "registration": "moodle-live",
        "deployment_id": "9",
        "admin": actor,
    }
    assert {r["actor_user_pk"] for r in audit_rows(app)} == {None}

    # The admin audit page shows the command line's user as the actor.
    page = tool_admin(app).get("/admin/audit").get_data(as_text=True)
    assert actor in page


def test_a_refused_command_writes_nothing(sqlite_tool_factory: Any) -> None:
    app = sqlite_tool_factory().app
    env_run = cli(app)
    env_run("keys", "list")
    settings = app.extensions["lti_tool"].settings
    env = {
        "LTI_TOOL_ENV": "development",
        "LTI_TOOL_DATABASE_URL": settings.database_url,
        "LTI_TOOL_SECRET_KEY": settings.secret_key,
        "LTI_TOOL_INSTANCE_DIR": str(settings.instance_dir),
        "LTI_TOOL_REDIS_URL": "",
    }
    for command in (
        ["mapping", "set", "sandbox", "XX999", "--course", "4"],
        ["platform", "rename", "sandbox", "  "],
        ["mapping", "discover", "sandbox"],
        ["platform", "activate-deployment", "nope", "1"],
        ["platform", "set-deployment-policy", "sandbox", "open"],
        ["platform", "set-deployment-policy", "nope", "accept"],
    ):
        result = CliRunner().invoke(main, command, env=env)
        assert result.exit_code != 0, command
    assert audit_rows(app) == []


def test_erasure_decisions_name_the_command_line_user(sqlite_tool_factory: Any) -> None:
    app = sqlite_tool_factory().app
    ids = seed_retention(app)
    requests = {
        who: request_erasure(
            app.extensions["lti_tool"],
            registration_pk=ids["registration"],
            subject_user_pk=ids[who],
            requested_by_user_pk=ids[who],
            context_pk=None,
            reason="Moving abroad",
        )[0].id
        for who in ("dora", "bob")
    }
    run = cli(app)
    run("privacy", "approve", str(requests["dora"]), "--by", "dpo")
    run("privacy", "reject", str(requests["bob"]), "--reason", "Legal hold")
    decided = [r for r in audit_rows(app) if r["action"].startswith("privacy.erasure_")]
    assert [(r["action"], r["new"]["decided_by"]) for r in decided[-2:]] == [
        ("privacy.erasure_approved", "cli:dpo"),
        ("privacy.erasure_rejected", command_line_identity().label),
    ]


def test_account_changes_are_audited_without_the_password(sqlite_tool_factory: Any) -> None:
    app = sqlite_tool_factory().app
    run = cli(app)
    secret = "a long enough passphrase"
    run("admin", "create", " ops ", "--password-stdin", stdin=secret + "\n")
    run("admin", "set-password", "ops", "--password-stdin", stdin=secret + " 2\n")
    run("admin", "deactivate", "ops")
    actor = command_line_identity().label
    rows = audit_rows(app)
    assert [(r["action"], r["subject"], r["old"], r["new"]) for r in rows] == [
        ("admin_account.create", "tool-admin:ops", None, {"active": True, "admin": actor}),
        ("admin_account.password", "tool-admin:ops", None, {"admin": actor}),
        ("admin_account.deactivate", "tool-admin:ops", {"active": True},
         {"active": False, "admin": actor}),
    ]  # fmt: skip
    assert "passphrase" not in repr(rows)
