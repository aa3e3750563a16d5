"""A stranger's Dynamic Registration borrowing another platform's client: an OpenID
configuration of their own that names the victim platform's token endpoint, answered with the
victim's client_id. Stored, the tool would sign client assertions for the victim's client at
the victim's token endpoint, and a launch's NRPS URL on that host counted as the
registration's own: the stranger read the victim's roster. The configuration's issuer and
endpoints must be its own site's (Dynamic Registration 1.0 section 3.5.1), and a client_id
another registration uses at the same token endpoint is refused."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.lti import registry
from lti_tool.persistence.models import AuditEntry, Registration
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.dynreg import Lms
from tests.support.lti import form_fields
from tests.web.test_dynamic_registration import install, registrations
from tests.web.test_dynreg_takeover import moodle_start_for


def borrowed(app: Flask, client_id: str, token_url: str, issuer: str) -> Registration | None:
    """A registration of ``client_id`` at ``token_url`` under another issuer than ``issuer``."""
    with app.extensions["lti_tool"].db.read_only() as session:
        return session.scalar(
            select(Registration).where(
                Registration.client_id == client_id,
                Registration.auth_token_url == token_url,
                Registration.issuer != issuer,
            )
        )


@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri", "authorization_endpoint"])
def test_dynamic_registration_cannot_borrow_another_platforms_client_at_its_token_endpoint(
    sqlite_tool_factory: Any, platform: SandboxPlatform, lms: Lms, endpoint: str
) -> None:
    """``open`` mode, where the stranger's registration would be active at once."""
    app = sqlite_tool_factory(dynamic_registration="open").app
    victim = {
        "token_endpoint": platform.token_url,
        "jwks_uri": platform.jwks_url,
        "authorization_endpoint": platform.issuer + "/auth",
    }
    lms.moodle.overrides[endpoint] = victim[endpoint]
    tokens_before = platform.counters.get("token", 0)
    client = app.test_client()
    page = client.get(moodle_start_for(lms, platform.client_id))
    text = page.get_data(as_text=True)
    assert page.status_code == 400, text
    assert "foreign_endpoint" in text and "not on the platform&#39;s own site" in text
    assert borrowed(app, platform.client_id, platform.token_url, platform.issuer) is None
    assert registrations(app) == {}
    assert platform.counters.get("token", 0) == tokens_before


def test_a_client_id_in_use_at_the_same_token_endpoint_is_refused_and_audited(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    """Two registrations at one site (another issuer, the same token endpoint): the second
    may not be given the first one's client_id, or the tool signs in as the first's client."""
    app = sqlite_tool_factory(dynamic_registration="open").app
    token_url = lms.moodle_issuer + "/mod/lti/token.php"
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        first = registry.add_platform(
            session,
            # The token endpoint written with a trailing slash: still the same endpoint.
            lms.moodle_platform(
                "first-on-this-site",
                "shared-client",
                issuer=lms.moodle_host,
                token_url=token_url + "/",
            ),
            development=True,
        ).id
    client = app.test_client()
    page = client.get(moodle_start_for(lms, "shared-client")).get_data(as_text=True)
    answer = client.post("/lti/register", data=form_fields(page))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409, text
    assert "client_in_use" in text and "first-on-this-site" not in text
    assert sorted(registrations(app)) == ["first-on-this-site"]
    with app.extensions["lti_tool"].db.read_only() as session:
        [refused] = session.scalars(select(AuditEntry).where(AuditEntry.action == "dynreg.refused"))
        assert refused.subject == f"registration:{first}"
        assert refused.new is not None and refused.new["auth_token_url"] == token_url

    # Another client at the same token endpoint is a registration of its own.
    _, added = install(client, moodle_start_for(lms, "another-client"))
    assert added.status_code == 200, added.get_data(as_text=True)


def test_canvas_clouds_fixed_hosts_are_kept_for_a_configuration_canvas_cloud_serves(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    """The sandbox's Canvas-like fake (on loopback, standing in for an institution's
    ``*.instructure.com`` in development) names Canvas cloud's issuer and sso.canvaslms.com."""
    app = sqlite_tool_factory().app
    _, done = install(app.test_client(), lms.canvas_start())
    assert done.status_code == 200, done.get_data(as_text=True)
    [canvas] = registrations(app).values()
    assert canvas["issuer"] == "https://canvas.instructure.com"
    assert canvas["auth_token_url"] == "https://sso.canvaslms.com/login/oauth2/token"
    assert canvas["key_set_url"] == "https://sso.canvaslms.com/api/lti/security/jwks"
