"""A routine rotation of the tool's signing key must not break a platform that cached the
tool's JWKS: the new key is published first and signs only once every copy has expired."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.admin.identity import command_line_identity
from lti_tool.admin.keys import rotate_keys
from lti_tool.container import Services
from lti_tool.lti.keys import active_signing_key
from lti_tool.lti.platform_services import service_connector
from lti_tool.persistence.models import Registration
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.key_clock import CachedToolJwks, KeyClock

NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> KeyClock:
    return KeyClock(monkeypatch)


def _registration_pk(services: Services, platform: SandboxPlatform) -> int:
    with services.db.read_only() as session:
        pk = session.scalar(select(Registration.id).where(Registration.issuer == platform.issuer))
    assert pk is not None
    return int(pk)


def _signer(services: Services) -> str:
    with services.db.read_only() as session:
        key = active_signing_key(session)
        assert key is not None
        return key.kid


def _fresh_token(services: Services, registration_pk: int) -> str:
    """A token the platform gives for a client assertion signed now (none reused)."""
    connector = service_connector(services, registration_pk)
    connector.forget_token([NRPS])
    return str(connector.get_access_token([NRPS]))


@pytest.mark.xfail(strict=True, reason="rotation switches the signer at once (the defect)")
def test_a_routine_rotation_keeps_service_tokens_coming_from_a_caching_platform(
    tool: Flask, platform: SandboxPlatform, clock: KeyClock
) -> None:
    services: Services = tool.extensions["lti_tool"]
    jwks = CachedToolJwks(tool.test_client(), clock)
    platform.tool_jwks_source = jwks
    pk = _registration_pk(services, platform)
    old_kid = _signer(services)
    assert _fresh_token(services, pk) in platform.access_tokens  # the platform has its copy

    rotate_keys(services, command_line_identity("ops"))

    # Right after a routine rotation the platform's copy knows only the old key: the tool
    # must still sign with it, or the grade sync's and roster's token requests are refused.
    assert _fresh_token(services, pk) in platform.access_tokens
    assert _signer(services) == old_kid
    assert jwks.fetches == 1
    clock.advance(dt.timedelta(minutes=11))
    assert _signer(services) != old_kid
    assert _fresh_token(services, pk) in platform.access_tokens
    assert jwks.fetches == 2
