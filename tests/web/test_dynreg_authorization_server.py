"""A platform whose OpenID configuration names an ``authorization_server``: LTI Dynamic
Registration 1.0 (section 3.5.1, the platform's configuration) says the tool uses it as the
``aud`` of its client assertions when it asks the token endpoint for a service token, the
token endpoint's URL only when the platform names none. The tool ignored it, so such a
platform refused every token request (no roster, no grades) of a registration made by URL.

The value is trusted only where the configuration's endpoints are: on the configuration's own
site (or the issuer itself), so a stranger's configuration cannot make the tool sign
assertions meant for another platform's authorization server and collect them."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.persistence.models import Registration
from tests.support.dynreg import Lms
from tests.web.test_dynamic_registration import install, registrations


def stored_audience(app: Flask) -> str | None:
    with app.extensions["lti_tool"].db.read_only() as session:
        [row] = session.scalars(select(Registration).where(Registration.name != "sandbox"))
        return row.auth_audience


def test_the_platforms_authorization_server_is_the_registrations_token_audience(
    tool: Flask, lms: Lms
) -> None:
    audience = lms.moodle_issuer + "/oauth2/audience"
    lms.moodle.overrides["authorization_server"] = audience
    _, done = install(tool.test_client(), lms.moodle_start())
    assert done.status_code == 200, done.get_data(as_text=True)
    assert stored_audience(tool) == audience


def test_the_issuer_itself_may_be_the_authorization_server(tool: Flask, lms: Lms) -> None:
    lms.moodle.overrides["authorization_server"] = lms.moodle_issuer
    _, done = install(tool.test_client(), lms.moodle_start())
    assert done.status_code == 200, done.get_data(as_text=True)
    assert stored_audience(tool) == lms.moodle_issuer


def test_without_an_authorization_server_the_token_endpoint_is_the_audience(
    tool: Flask, lms: Lms
) -> None:
    _, done = install(tool.test_client(), lms.moodle_start())
    assert done.status_code == 200, done.get_data(as_text=True)
    assert stored_audience(tool) is None


@pytest.mark.parametrize(
    "audience",
    [
        "https://api.brightspace.com/auth/token",  # another platform's authorization server
        "another-platforms-audience",  # not an address at all: nobody can tell whose it is
        # Two Moodle sites on one host (``/moodle`` and ``/moodle2``): the one registering may
        # not name the other's token URL as the audience, or the tool signs assertions for the
        # other site (with a client_id of the registering site's choosing) and sends them to
        # the registering site, which may replay them there.
        "{host}/moodle2/mod/lti/token.php",
    ],
    ids=["another platform", "not an address", "another site on the same host"],
)
def test_an_authorization_server_off_the_platforms_site_is_refused(
    tool: Flask, lms: Lms, audience: str
) -> None:
    lms.moodle.overrides["authorization_server"] = audience.format(host=lms.moodle_host)
    page = tool.test_client().get(lms.moodle_start())
    text = page.get_data(as_text=True)
    assert page.status_code == 400, text
    assert "foreign_authorization_server" in text
    assert registrations(tool) == {}
    assert lms.moodle.registered == []
