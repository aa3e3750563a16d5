"""Credentials the tool keeps in the shared store are sealed with the secret box: a dump of
the database (and Redis) holds neither the platform's access token nor its registration
token in the clear."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from lti_tool.container import Services
from lti_tool.lti.platform_services import service_connector
from lti_tool.persistence.models import Registration
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.dump import dump_everything
from tests.support.dynreg import Lms
from tests.support.lti import form_fields

NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def test_the_platform_access_token_is_sealed_in_the_store(
    tool: Flask, platform: SandboxPlatform
) -> None:
    # Attack: a database (or Redis) dump gave the platform's bearer token for the course
    # roster and gradebook, usable until it expires.
    services: Services = tool.extensions["lti_tool"]
    with services.db.read_only() as session:
        registration_pk = session.scalar(
            select(Registration.id).where(Registration.issuer == platform.issuer)
        )
    assert registration_pk is not None

    token = service_connector(services, registration_pk).get_access_token([NRPS])

    assert token in platform.access_tokens
    dump = dump_everything(services)
    assert "svctoken" in dump  # the token is shared through the store…
    assert token not in dump  # …sealed
    # Another worker's connector takes it from the store instead of asking again.
    again = service_connector(services, registration_pk)
    assert again.get_access_token([NRPS]) == token
    assert again.token_requests == 0 and len(platform.access_tokens) == 1


def test_the_registration_token_is_sealed_while_the_install_waits(tool: Flask, lms: Lms) -> None:
    # Attack: the platform's one-hour registration token waited in the store in the clear.
    services: Services = tool.extensions["lti_tool"]
    start = lms.moodle_start()
    registration_token = start.rsplit("registration_token=", 1)[1]
    client = tool.test_client()
    page = client.get(start)
    assert page.status_code == 200

    dump = dump_everything(services)
    assert "dynreg" in dump
    assert registration_token not in dump

    done = client.post("/lti/register", data=form_fields(page.get_data(as_text=True)))
    assert done.status_code == 200, done.get_data(as_text=True)
    assert len(lms.moodle.registered) == 1
