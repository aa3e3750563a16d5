"""A routine rotation of the tool's signing key must not break a platform that cached the
tool's JWKS: the new key is published first and signs only once every copy has expired."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.admin.identity import command_line_identity
from lti_tool.admin.keys import list_keys, rotate_keys
from lti_tool.container import Services
from lti_tool.lti.keys import JWKS_MAX_AGE_SECONDS, KEY_LEAD_TIME, KeyInfo, active_signing_key
from lti_tool.lti.platform_services import service_connector
from lti_tool.persistence.models import Registration, SigningKey
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.key_clock import CachedToolJwks, KeyClock
from tests.support.pathway_web import audit_rows

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
    clock.advance(KEY_LEAD_TIME)
    assert _signer(services) != old_kid
    assert _fresh_token(services, pk) in platform.access_tokens
    assert jwks.fetches == 2


def _published(tool: Flask) -> list[str]:
    return [k["kid"] for k in tool.test_client().get("/.well-known/jwks.json").get_json()["keys"]]


def _keys(services: Services) -> dict[str, KeyInfo]:
    return {k.kid: k for k in list_keys(services)}


def test_the_jwks_max_age_and_the_lead_time_are_tied(tool: Flask) -> None:
    response = tool.test_client().get("/.well-known/jwks.json")
    assert response.headers["Cache-Control"] == f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    assert KEY_LEAD_TIME == 2 * dt.timedelta(seconds=JWKS_MAX_AGE_SECONDS)


def test_a_staged_key_is_published_at_once_and_the_old_one_after_it_stops(
    tool: Flask, clock: KeyClock
) -> None:
    services: Services = tool.extensions["lti_tool"]
    old_kid = _signer(services)
    rotated_at = clock.now
    new = rotate_keys(services, command_line_identity("ops"))

    assert new.activates_at == rotated_at + KEY_LEAD_TIME
    assert _published(tool) == [new.kid, old_kid]
    keys = _keys(services)
    assert keys[new.kid].status == "pending" and keys[old_kid].status == "active"
    grace = dt.timedelta(days=services.settings.key_grace_period_days)
    assert keys[old_kid].retired_at == new.activates_at
    assert keys[old_kid].publish_until == new.activates_at + grace

    clock.advance(KEY_LEAD_TIME - dt.timedelta(seconds=1))
    assert _signer(services) == old_kid  # up to the last second
    clock.advance(dt.timedelta(seconds=1))
    assert _signer(services) == new.kid  # same process, no restart
    keys = _keys(services)
    assert keys[new.kid].status == "active"
    assert keys[old_kid].status == "retired (still published)"
    clock.advance(grace - dt.timedelta(seconds=1))
    assert _published(tool) == [new.kid, old_kid]
    clock.advance(dt.timedelta(seconds=1))
    assert _published(tool) == [new.kid]


def test_a_second_rotation_replaces_the_pending_key(tool: Flask, clock: KeyClock) -> None:
    services: Services = tool.extensions["lti_tool"]
    old_kid = _signer(services)
    first = rotate_keys(services, command_line_identity("ops"))
    clock.advance(dt.timedelta(minutes=4))
    second = rotate_keys(services, command_line_identity("ops"))

    # The first pending key signed nothing: it is gone, and the lead time starts again.
    assert first.kid not in _keys(services) and first.kid not in _published(tool)
    assert second.activates_at == clock.now + KEY_LEAD_TIME
    assert _published(tool) == [second.kid, old_kid]
    assert _keys(services)[old_kid].retired_at == second.activates_at
    clock.advance(KEY_LEAD_TIME - dt.timedelta(minutes=4))  # when the first would have begun
    assert _signer(services) == old_kid
    clock.advance(dt.timedelta(minutes=4))
    assert _signer(services) == second.kid
    entries = [r for r in audit_rows(tool) if r["action"] == "keys.rotate"]
    assert entries[-1]["old"] == {"active": [old_kid], "pending": [first.kid]}


def test_rotating_now_signs_at_once_and_replaces_a_pending_key(
    tool: Flask, clock: KeyClock
) -> None:
    services: Services = tool.extensions["lti_tool"]
    old_kid = _signer(services)
    pending = rotate_keys(services, command_line_identity("ops"))
    now = rotate_keys(services, command_line_identity("ops"), at_once=True)

    assert now.activates_at == clock.now and _signer(services) == now.kid
    assert _published(tool) == [now.kid]  # the old key may be stolen: withdrawn now
    assert pending.kid not in _keys(services)
    old = _keys(services)[old_kid]
    assert old.status == "retired" and old.retired_at == clock.now and old.is_withdrawn
    entries = [r for r in audit_rows(tool) if r["action"] == "keys.rotate"]
    assert entries[-1]["new"]["signs_from"] == f"{clock.now:%Y-%m-%d %H:%M:%S}Z"


def test_a_rotation_with_no_key_signing_signs_at_once(tool: Flask, clock: KeyClock) -> None:
    services: Services = tool.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        session.query(SigningKey).delete()
    new = rotate_keys(services, command_line_identity("ops"))
    assert new.activates_at == clock.now and _signer(services) == new.kid
