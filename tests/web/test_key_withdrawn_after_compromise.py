"""A key replaced at once because it may be stolen must stop being accepted: whoever holds it
could otherwise ask a platform for service tokens as the tool (post grades, read rosters)
for the whole grace period. It is withdrawn from the JWKS with the rotation."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import jwt
import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.admin.identity import command_line_identity
from lti_tool.admin.keys import list_keys, rotate_keys
from lti_tool.container import Services
from lti_tool.lti.keys import JWKS_MAX_AGE_SECONDS, active_signing_key, private_pem
from lti_tool.lti.platform_services import service_connector
from lti_tool.persistence.models import Registration
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.key_clock import CachedToolJwks, KeyClock
from tests.support.pathway_web import audit_rows


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> KeyClock:
    return KeyClock(monkeypatch)


def _stolen_key(services: Services) -> tuple[str, str]:
    """The signing key as a thief who copied it has it: its kid and private PEM."""
    with services.db.read_only() as session:
        key = active_signing_key(session)
        assert key is not None
        return key.kid, private_pem(key, services.secrets)


def _token_request(platform: SandboxPlatform, kid: str, pem: str) -> int:
    """The thief's client-credentials request to the platform, signed with the stolen key."""
    assertion = jwt.encode(
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.token_url,
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
            "jti": uuid.uuid4().hex,
        },
        pem,
        algorithm="RS256",
        headers={"kid": kid},
    )
    answer = (
        create_sandbox_app(platform)
        .test_client()
        .post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
                "scope": "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            },
        )
    )
    return answer.status_code


def _published(tool: Flask) -> list[str]:
    return [k["kid"] for k in tool.test_client().get("/.well-known/jwks.json").get_json()["keys"]]


def test_a_stolen_key_is_refused_once_the_platform_fetches_the_jwks_again(
    tool: Flask, platform: SandboxPlatform, clock: KeyClock
) -> None:
    services: Services = tool.extensions["lti_tool"]
    platform.tool_jwks_source = CachedToolJwks(tool.test_client(), clock)
    kid, pem = _stolen_key(services)
    assert _token_request(platform, kid, pem) == 200  # the theft works before

    rotate_keys(services, command_line_identity("ops"), at_once=True)

    assert kid not in _published(tool)
    # A platform's copy of the key set expires after its max-age; then the thief is refused.
    platform.tool_jwks_source = CachedToolJwks(tool.test_client(), clock)
    assert _token_request(platform, kid, pem) == 400


def test_replacing_now_withdraws_every_earlier_key_and_says_so(
    tool: Flask, clock: KeyClock
) -> None:
    services: Services = tool.extensions["lti_tool"]
    first, _ = _stolen_key(services)
    routine = rotate_keys(services, command_line_identity("ops"))
    clock.advance(routine.activates_at - clock.now)
    assert _published(tool) == [routine.kid, first]  # the first is in its grace period

    replacement = rotate_keys(services, command_line_identity("ops"), at_once=True)

    assert _published(tool) == [replacement.kid]
    statuses = {k.kid: k.status for k in list_keys(services)}
    assert statuses == {replacement.kid: "active", routine.kid: "retired", first: "retired"}
    entry = [r for r in audit_rows(tool) if r["action"] == "keys.rotate"][-1]
    assert sorted(entry["new"]["withdrawn"]) == sorted([routine.kid, first])


def test_a_routine_rotation_still_keeps_the_old_key_published(tool: Flask, clock: KeyClock) -> None:
    services: Services = tool.extensions["lti_tool"]
    old, _ = _stolen_key(services)
    new = rotate_keys(services, command_line_identity("ops"))
    clock.advance(new.activates_at - clock.now)
    assert _published(tool) == [new.kid, old]


NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def test_a_service_call_begun_before_the_rotation_signs_with_the_new_key(
    tool: Flask, platform: SandboxPlatform, clock: KeyClock
) -> None:
    """A grade sync or class refresh running when the key is replaced keeps its connection
    to the platform: its next token request must be signed by the new key, not the withdrawn
    one, or the platform refuses it once its copy of the key set expires and the sync fails."""
    services: Services = tool.extensions["lti_tool"]
    platform.tool_jwks_source = CachedToolJwks(tool.test_client(), clock)
    with services.db.read_only() as session:
        pk = session.scalar(select(Registration.id).where(Registration.issuer == platform.issuer))
    assert pk is not None
    connector = service_connector(services, int(pk))  # the sync begins
    assert connector.get_access_token([NRPS]) in platform.access_tokens

    new = rotate_keys(services, command_line_identity("ops"), at_once=True)
    clock.advance(dt.timedelta(seconds=JWKS_MAX_AGE_SECONDS))  # the platform's copy expires
    connector.forget_token([NRPS])  # its token ran out (or the platform answered 401)

    assert connector.get_access_token([NRPS]) in platform.access_tokens
    assert new.kid in [k["kid"] for k in platform.tool_jwks_source()["keys"]]
