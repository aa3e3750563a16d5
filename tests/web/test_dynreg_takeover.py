"""The registration takeover (issue 10, item 1) replayed: a stranger serves an OpenID
configuration that claims an existing platform's issuer, answers the registration with that
platform's client_id, and then signs launches with a key of their own. The configuration is
refused (its issuer is not a prefix of its address: Dynamic Registration 1.0 section 3.5.1),
the registration stays as it was and the stranger's launch is refused. An answer that names a
registration the tool has at the configuration's own site is refused and audited."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.lti import registry
from lti_tool.persistence.models import AuditEntry, Registration
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import TOOL_URL
from tests.support.dynreg import Lms
from tests.support.lti import REMOVE, Launcher, form_fields
from tests.web.test_admin_access import tool_admin


def moodle_start_for(lms: Lms, client_id: str) -> str:
    """The Moodle-like fake's own registration, answered with ``client_id``."""
    now = int(time.time())
    token = jwt.encode(
        {"sub": client_id, "scope": "reg", "iat": now, "exp": now + 600},
        lms.moodle.secret,
        algorithm="HS256",
    )
    return lms.moodle.start_url("/lti/register", lms.moodle_host, token=token)


def stranger_start(lms: Lms, victim: SandboxPlatform, client_id: str) -> str:
    """The stranger's "LMS": a Moodle-like configuration claiming the victim's issuer, whose
    registration endpoint answers with ``client_id`` (Moodle's client_id is the token's sub)."""
    lms.moodle.overrides["issuer"] = victim.issuer
    return moodle_start_for(lms, client_id)


def stranger_platform(lms: Lms, victim: SandboxPlatform) -> SandboxPlatform:
    """Same issuer, client_id and deployment as the victim; a signing key of the stranger's,
    published at the stranger's certs.php."""
    stranger = SandboxPlatform(
        issuer=victim.issuer,
        tool_url=TOOL_URL,
        client_id=victim.client_id,
        deployment_id=victim.deployment_id,
    )
    lms.moodle.jwks = stranger.jwks()
    return stranger


def sandbox_row(app: Flask, platform: SandboxPlatform) -> dict[str, Any]:
    with app.extensions["lti_tool"].db.read_only() as session:
        row = registry.find_registration(session, platform.issuer, platform.client_id)
        assert row is not None
        return {
            "pk": row.id,
            "name": row.name,
            "auth_login_url": row.auth_login_url,
            "auth_token_url": row.auth_token_url,
            "key_set_url": row.key_set_url,
            "auth_audience": row.auth_audience,
            "deployments": {d.deployment_id: d.active for d in row.deployments},
        }


def audit_rows(app: Flask, action: str) -> list[AuditEntry]:
    with app.extensions["lti_tool"].db.read_only() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_stranger_cannot_take_over_an_existing_registration(
    tool: Flask, platform: SandboxPlatform, lms: Lms
) -> None:
    before = sandbox_row(tool, platform)
    client = tool.test_client()
    page = client.get(stranger_start(lms, platform, platform.client_id))
    text = page.get_data(as_text=True)
    assert page.status_code == 400, text
    assert "foreign_issuer" in text and "does not start with that platform" in text
    # The page anyone can open names no registration the tool has.
    assert before["name"] not in text and "confirm_existing" not in text
    assert sandbox_row(tool, platform) == before
    assert audit_rows(tool, "dynreg.created") == []

    # The stranger's launch, signed with their key, is refused; the platform's own works.
    stranger = stranger_platform(lms, platform)
    launched = Launcher(tool, stranger, create_sandbox_app(stranger)).launch(tool.test_client())
    assert launched.status_code in {400, 401, 403}, launched.get_data(as_text=True)
    real = Launcher(tool, platform, create_sandbox_app(platform)).launch(tool.test_client())
    assert real.status_code == 200, real.get_data(as_text=True)


def test_an_answer_naming_a_known_registration_is_refused_and_audited(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    """Approve mode: the platform at the configuration's site answers with the client_id of a
    registration the tool already has for it; nothing changes, its admins read the attempt."""
    app = sqlite_tool_factory(dynamic_registration="approve").app
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        known = registry.add_platform(
            session,
            lms.moodle_platform("moodle-by-hand", "known-client"),
            development=True,
        ).id
    client = app.test_client()
    page = client.get(moodle_start_for(lms, "known-client")).get_data(as_text=True)
    answer = client.post("/lti/register", data={**form_fields(page), "confirm_existing": "yes"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409, text
    assert "registration_exists" in text and "moodle-by-hand" not in text
    [refused] = audit_rows(app, "dynreg.refused")
    assert refused.subject == f"registration:{known}"
    assert refused.new is not None and refused.new["client_id"] == "known-client"
    assert refused.new["configuration_url"].startswith(lms.moodle_host)
    assert audit_rows(app, "dynreg.created") == []
    # The tool's administrators read the attempt in the audit log.
    audit_page = tool_admin(app).get("/admin/audit").get_data(as_text=True)
    assert "dynreg.refused" in audit_page
    assert f"Dynamic Registration from 127.0.0.1:{lms.port}" in audit_page


@pytest.mark.parametrize("mode", ["open", "approve"])
def test_a_configuration_claiming_a_known_issuer_adds_nothing(
    sqlite_tool_factory: Any, platform: SandboxPlatform, lms: Lms, mode: str
) -> None:
    """A stranger claiming the issuer with a fresh client_id gets no registration (it would
    sit beside the original under its issuer); a login that names no client_id still goes to
    the original."""
    app = sqlite_tool_factory(dynamic_registration=mode).app
    before = sandbox_row(app, platform)
    client = app.test_client()
    page = client.get(stranger_start(lms, platform, "stranger-client"))
    assert page.status_code == 400, page.get_data(as_text=True)
    assert sandbox_row(app, platform) == before
    with app.extensions["lti_tool"].db.read_only() as session:
        added = session.scalar(
            select(Registration).where(Registration.client_id == "stranger-client")
        )
    assert added is None
    assert audit_rows(app, "dynreg.created") == []

    launcher = Launcher(app, platform, create_sandbox_app(platform))
    login = launcher.login(app.test_client(), client_id=REMOVE)
    assert login.redirect.startswith(platform.issuer + "/auth"), login.redirect
