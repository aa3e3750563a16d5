"""A deployment the tool has never seen, on a validly signed launch: its registration's policy
says whether the launch goes ahead (``accept``: Canvas creates the deployment only when its
administrator installs the app) or waits for a tool administrator (``hold``). Only a launch that
passed every check is recorded; a deactivated deployment stays refused whatever the policy."""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.admin.deployments import set_deployment_active_by_id
from lti_tool.admin.identity import command_line_identity
from lti_tool.admin.new_deployments import set_new_deployments
from lti_tool.admin.platforms import registration_pk_by_name
from lti_tool.lti import claims as c
from lti_tool.persistence.models import AuditEntry, Deployment, Registration
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.dynreg_canvas import CANVAS_ISSUER
from lti_tool.sandbox.platform import SandboxPlatform, new_platform_key
from tests.conftest import TOOL_URL
from tests.support.dynreg import Lms
from tests.support.inspect import row_counts
from tests.support.lti import Launcher
from tests.support.pathway_web import audit_rows, csrf_token, open_tool, parse_html
from tests.web.test_admin_access import sandbox_pk, tool_admin
from tests.web.test_dynamic_registration import install

NEW = "canvas-subaccount-42"


def deployments(app: Flask) -> dict[str, bool]:
    with app.extensions["lti_tool"].db.read_only() as session:
        return {d.deployment_id: d.active for d in session.scalars(select(Deployment))}


def policy_of(app: Flask, pk: int) -> str:
    with app.extensions["lti_tool"].db.read_only() as session:
        row = session.get(Registration, pk)
        assert row is not None
        return row.new_deployments


def set_policy(app: Flask, policy: str) -> None:
    services = app.extensions["lti_tool"]
    identity = command_line_identity("test")
    set_new_deployments(
        services, identity, registration_pk_by_name(services, identity, "sandbox"), policy
    )


def launch_new(launcher: Launcher, deployment_id: str = NEW, user: str = "student1") -> Any:
    return launcher.launch(
        launcher.app.test_client(), user, changes={c.DEPLOYMENT_ID: deployment_id}
    )


def test_registrations_hold_new_deployments_unless_told_otherwise(launcher: Launcher) -> None:
    assert policy_of(launcher.app, sandbox_pk(launcher.app)) == "hold"


def test_hold_refuses_with_the_admin_page_in_plain_words(
    launcher: Launcher, caplog: pytest.LogCaptureFixture
) -> None:
    app = launcher.app
    pk = sandbox_pk(app)
    with caplog.at_level(logging.WARNING, logger="lti_tool.launch"):
        refused = launch_new(launcher)
    assert refused.status_code == 403
    page = parse_html(refused.get_data(as_text=True)).text
    address = f"{TOOL_URL}/admin/registrations/{pk}"
    assert (
        "This course's learning platform is connected to the tool, but this installation of it "
        f"(deployment {NEW}) has not been approved yet. Ask the tool's administrator to approve "
        f"it at {address}." in page
    )
    assert "lti-tool" not in refused.get_data(as_text=True)
    # The command is for the people who run the server: in its log.
    [logged] = [r for r in caplog.records if r.getMessage() == "deployment not active"]
    assert (
        getattr(logged, "fields")["command"]
        == f"lti-tool platform activate-deployment sandbox {NEW}"
    )
    # The address is the registration's admin page.
    assert tool_admin(app).get(address.removeprefix(TOOL_URL)).status_code == 200

    assert deployments(app)[NEW] is False
    assert row_counts(app)["users"] == 0
    [held] = audit_rows(app)
    assert held["action"] == "deployment.held" and held["actor_user_pk"] is None
    assert held["new"] == {
        "active": False,
        "registration": "sandbox",
        "deployment_id": NEW,
        "new_deployments": "hold",
        "admin": "first signed launch from sandbox",
    }
    assert launch_new(launcher).status_code == 403  # still held, and recorded once
    assert len(audit_rows(app)) == 1 and list(deployments(app)).count(NEW) == 1

    # The registration page lists it, waiting, with its activate button.
    detail = tool_admin(app, "root2").get(f"/admin/registrations/{pk}").get_data(as_text=True)
    row = [r for r in parse_html(detail).find_all("tr") if NEW in r.text]
    assert row and "Waiting for approval" in row[0].text
    assert row[0].find("button", **{"aria-label": f"Activate deployment {NEW}"})


def test_accept_lets_the_first_launch_in_records_it_active_and_audits_it(
    launcher: Launcher,
) -> None:
    app = launcher.app
    set_policy(app, "accept")
    before = len(audit_rows(app))
    launched = launch_new(launcher)
    assert launched.status_code == 200, launched.get_data(as_text=True)
    assert deployments(app)[NEW] is True
    [accepted] = audit_rows(app)[before:]
    assert accepted["action"] == "deployment.accepted"
    assert accepted["actor_user_pk"] is None
    assert accepted["subject"].startswith(f"registration:{sandbox_pk(app)}/deployment:")
    assert accepted["new"] == {
        "active": True,
        "registration": "sandbox",
        "deployment_id": NEW,
        "new_deployments": "accept",
        "admin": "first signed launch from sandbox",
    }
    # The next launch finds it (no second row, no second audit entry).
    assert launch_new(launcher, user="teacher1").status_code == 200
    assert len(audit_rows(app)) == before + 1
    # The audit page says who did it: the platform's launch, not a person.
    audit_page = tool_admin(app).get("/admin/audit").get_data(as_text=True)
    assert "first signed launch from sandbox" in audit_page
    assert f"Accepted new deployment {NEW} of sandbox on its first launch" in audit_page


def test_a_deactivated_deployment_stays_refused_under_accept(launcher: Launcher) -> None:
    # Attack: a platform admin whose deployment was switched off by the tool's administrator
    # launches again once the registration accepts new deployments.
    app = launcher.app
    services = app.extensions["lti_tool"]
    identity = command_line_identity("test")
    pk = sandbox_pk(app)
    current = launcher.platform.deployment_id
    assert launcher.launch(app.test_client()).status_code == 200  # remembered by the cache
    set_deployment_active_by_id(services, identity, pk, current, False)
    set_policy(app, "accept")
    refused = launcher.launch(app.test_client())  # at once: the cache forgot it
    assert refused.status_code == 403
    text = " ".join(parse_html(refused.get_data(as_text=True)).text.split())
    assert f"(deployment {current}) has been switched off by an administrator" in text
    assert f"{TOOL_URL}/admin/registrations/{pk}" in text
    assert deployments(app)[current] is False

    # A deployment held before the policy changed is not a new one either: it still waits.
    set_policy(app, "hold")
    assert launch_new(launcher).status_code == 403
    set_policy(app, "accept")
    assert launch_new(launcher).status_code == 403
    assert deployments(app)[NEW] is False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(claims: dict[str, Any], kid: str) -> str:
    head = _b64(json.dumps({"alg": "none", "kid": kid, "typ": "JWT"}).encode())
    return f"{head}.{_b64(json.dumps(claims).encode())}."


FORGERIES = {
    "unsigned": lambda platform, claims: _unsigned(claims, platform.signing_key.kid),
    "a stranger's key": lambda platform, claims: platform.sign(
        claims, key=_stranger(platform.signing_key.kid)
    ),
    "another audience": lambda platform, claims: platform.sign({**claims, "aud": "someone-else"}),
    "another issuer": lambda platform, claims: platform.sign(
        {**claims, "iss": "https://evil.example"}
    ),
    "expired": lambda platform, claims: platform.sign(
        {**claims, "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}
    ),
    "another nonce": lambda platform, claims: platform.sign({**claims, "nonce": "not-issued"}),
    "no message type": lambda platform, claims: platform.sign(
        {k: v for k, v in claims.items() if k != c.MESSAGE_TYPE}
    ),
}


def _stranger(kid: str) -> Any:
    key = new_platform_key()
    key.kid = kid
    return key


@pytest.mark.parametrize("policy", ["accept", "hold"])
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_launch_that_fails_a_check_records_no_deployment(
    sqlite_tool_factory: Any, policy: str, forgery: str
) -> None:
    launcher: Launcher = sqlite_tool_factory()
    app = launcher.app
    set_policy(app, policy)
    before = len(audit_rows(app))
    client = app.test_client()
    login = launcher.login(client)
    claims = {**launcher.claims("student1", login.nonce), c.DEPLOYMENT_ID: NEW}
    token = FORGERIES[forgery](launcher.platform, claims)
    refused = launcher.post_launch(client, token, login.state)
    assert 400 <= refused.status_code < 500, refused.status_code
    assert NEW not in deployments(app)
    assert len(audit_rows(app)) == before


def test_the_policy_changes_on_the_page_with_its_token_by_a_tool_admin_and_is_audited(
    launcher: Launcher,
) -> None:
    app = launcher.app
    pk = sandbox_pk(app)
    path = f"/admin/registrations/{pk}/new-deployments"
    client = tool_admin(app)
    page = client.get(f"/admin/registrations/{pk}").get_data(as_text=True)
    form = [f for f in parse_html(page).find_all("form") if f.attrs["action"] == path]
    assert form and "checked" in form[0].find("input", value="hold").attrs
    for token in (None, "forged"):
        data = {"policy": "accept", **({"csrf_token": token} if token else {})}
        assert client.post(path, data=data).status_code == 400
    # An LMS administrator of the platform may hold new deployments but not let them in.
    lms_admin = open_tool(launcher, "admin")
    lms_token = csrf_token(
        lms_admin.client.get(f"/admin/registrations/{pk}").get_data(as_text=True)
    )
    refused = lms_admin.client.post(path, data={"csrf_token": lms_token, "policy": "accept"})
    assert refused.status_code == 403
    # Learners have no admin pages at all.
    learner = open_tool(launcher, "student1")
    token_of_learner = csrf_token(learner.client.get("/admin/login").get_data(as_text=True))
    assert (
        learner.client.post(
            path, data={"csrf_token": token_of_learner, "policy": "accept"}
        ).status_code
        == 403
    )
    assert policy_of(app, pk) == "hold" and audit_rows(app) == []

    done = client.post(path, data={"csrf_token": csrf_token(page), "policy": "accept"})
    assert done.status_code == 302
    assert policy_of(app, pk) == "accept"
    shown = client.get(f"/admin/registrations/{pk}").get_data(as_text=True)
    assert "New deployments are now allowed on their first launch." in shown
    assert "checked" in parse_html(shown).find("input", id="policy-accept").attrs
    assert (
        client.post(path, data={"csrf_token": csrf_token(page), "policy": "open"}).status_code
        == 302
    )
    assert policy_of(app, pk) == "accept"  # not a policy: refused, nothing changed
    back = lms_admin.client.post(path, data={"csrf_token": lms_token, "policy": "hold"})
    assert back.status_code == 302 and policy_of(app, pk) == "hold"
    rows = audit_rows(app)
    assert [(r["action"], r["subject"], r["old"], r["new"]) for r in rows] == [
        ("registration.new_deployments", f"registration:{pk}", {"new_deployments": "hold"},
         {"new_deployments": "accept", "registration": "sandbox", "admin": "tool admin root"}),
        ("registration.new_deployments", f"registration:{pk}", {"new_deployments": "accept"},
         {"new_deployments": "hold", "registration": "sandbox",
          "admin": f"LMS admin Ada Admin (registration {pk})"}),
    ]  # fmt: skip


def test_the_registration_page_lists_every_deployment_with_its_state(launcher: Launcher) -> None:
    app = launcher.app
    services = app.extensions["lti_tool"]
    pk = sandbox_pk(app)
    set_policy(app, "accept")
    assert launch_new(launcher, "accepted-1").status_code == 200
    set_policy(app, "hold")
    assert launch_new(launcher, "held-2").status_code == 403
    set_deployment_active_by_id(services, command_line_identity("t"), pk, "accepted-1", False)
    page = parse_html(tool_admin(app).get(f"/admin/registrations/{pk}").get_data(as_text=True))
    table = page.find("section", **{"aria-labelledby": "deployments"})
    states = {
        row.find("th").text: row.find("td", **{"data-label": "Status"}).text
        for row in table.find_all("tr")[1:]
    }
    assert states == {
        launcher.platform.deployment_id: "Active",
        "accepted-1": "Switched off by a tool administrator",
        "held-2": "Waiting for approval by a tool administrator",
    }
    with services.db.read_only() as session:
        seen = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "deployment.accepted" in seen and "deployment.held" in seen


def _frame_ancestors(response: Any) -> list[str]:
    for directive in response.headers["Content-Security-Policy"].split("; "):
        if directive.startswith("frame-ancestors "):
            return directive.split()[1:]
    return []


def test_canvas_dynamic_registration_then_the_first_launch_needs_no_step_on_the_tool(
    tool: Flask, lms: Lms, platform: SandboxPlatform
) -> None:
    # Canvas answers the registration without a deployment; the admin then installs the app.
    lms.canvas.return_deployment_id = False
    # Keys the test can sign with, published on the configuration's own site.
    lms.moodle.jwks = platform.jwks()
    lms.canvas.overrides = {"jwks_uri": lms.canvas_host + "/moodle/mod/lti/certs.php"}
    _, done = install(tool.test_client(), lms.canvas_start())
    assert done.status_code == 200, done.get_data(as_text=True)
    with tool.extensions["lti_tool"].db.read_only() as session:
        [row] = session.scalars(select(Registration).where(Registration.kind == "canvas"))
        pk, client_id = row.id, row.client_id
        assert row.new_deployments == "accept" and row.deployments == []
    created = [r for r in audit_rows(tool) if r["action"] == "dynreg.created"]
    assert created[0]["new"]["new_deployments"] == "accept"

    canvas = SandboxPlatform(
        issuer=CANVAS_ISSUER,
        tool_url=TOOL_URL,
        client_id=client_id,
        deployment_id="17:8f3a0c",
        keys=platform.keys,
    )
    launcher = Launcher(tool, canvas, create_sandbox_app(canvas))
    before = _frame_ancestors(tool.test_client().get("/no-such-page"))
    assert "https://*.instructure.com" not in before  # no active deployment yet
    launched = launcher.launch(tool.test_client())
    assert launched.status_code == 200, launched.get_data(as_text=True)
    # Canvas frames the tool from this very launch on.
    assert "https://*.instructure.com" in _frame_ancestors(launched)
    assert deployments(tool)["17:8f3a0c"] is True
    accepted = [r for r in audit_rows(tool) if r["action"] == "deployment.accepted"]
    assert [r["subject"].split("/")[0] for r in accepted] == [f"registration:{pk}"]


def test_moodle_and_approve_mode_registrations_hold_new_deployments(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    open_tool_app = sqlite_tool_factory().app
    install(open_tool_app.test_client(), lms.moodle_start())
    approving = sqlite_tool_factory(dynamic_registration="approve").app
    lms.canvas.return_deployment_id = False
    install(approving.test_client(), lms.canvas_start())
    for app, kind in ((open_tool_app, "moodle"), (approving, "canvas")):
        with app.extensions["lti_tool"].db.read_only() as session:
            [row] = session.scalars(select(Registration).where(Registration.kind == kind))
            assert row.new_deployments == "hold", kind
    # Moodle names its deployment in its answer: open mode still makes it active at once.
    assert deployments(open_tool_app) == {"sandbox-deployment-1": True, "2": True}
