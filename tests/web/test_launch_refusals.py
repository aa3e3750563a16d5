"""Every forged, broken or replayed launch is refused with a clear 4xx and writes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from lti_tool.lti import claims as c
from lti_tool.sandbox.platform import SandboxPlatform, new_platform_key
from tests.support.inspect import row_counts
from tests.support.lti import REMOVE, Launcher


def _from_now(seconds: int) -> Callable[[dict[str, Any]], int]:
    """A time relative to when the token is forged, not to when the module was collected: a long
    run reaches this test many minutes after collection."""
    return lambda _claims: int(time.time()) + seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


def _hs256_with_public_key(platform: SandboxPlatform, claims: dict[str, Any]) -> str:
    """The classic algorithm-confusion forgery: HMAC keyed with the platform's public key."""
    public_pem = platform.signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": platform.signing_key.kid, "typ": "JWT"}
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


Forge = Callable[[SandboxPlatform, dict[str, Any]], str]


def _changed(**changes: Any) -> Forge:
    def forge(platform: SandboxPlatform, claims: dict[str, Any]) -> str:
        for name, value in changes.items():
            name = {
                "message_type": c.MESSAGE_TYPE,
                "version": c.VERSION,
                "roles": c.ROLES,
                "deployment_id": c.DEPLOYMENT_ID,
                "resource_link": c.RESOURCE_LINK,
                "context": c.CONTEXT,
            }.get(name, name)
            if value is REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value(claims) if callable(value) else value
        return platform.sign(claims)

    return forge


def _stranger_same_kid(platform: SandboxPlatform, claims: dict[str, Any]) -> str:
    stranger = new_platform_key()
    stranger.kid = platform.signing_key.kid
    return platform.sign(claims, key=stranger)


def _stranger_own_kid(platform: SandboxPlatform, claims: dict[str, Any]) -> str:
    return platform.sign(claims, key=new_platform_key())


REFUSALS: list[tuple[str, Forge, int, str]] = [
    ("bad signature", _stranger_same_kid, 400, "signature"),
    ("unknown kid", _stranger_own_kid, 400, "key the platform does not publish"),
    (
        "missing kid",
        lambda p, cl: jwt.encode(cl, p.signing_key.private_pem, algorithm="RS256"),
        400,
        "names no key",
    ),
    (
        "alg none",
        lambda p, cl: _unsigned({"alg": "none", "kid": p.signing_key.kid}, cl),
        400,
        "'none'",
    ),
    ("alg HS256 keyed with the public key", _hs256_with_public_key, 400, "'HS256'"),
    ("alg other than the key's", lambda p, cl: p.sign(cl, algorithm="RS512"), 400, "RS512"),
    ("wrong aud", _changed(aud="another-client"), 400, "other than the one"),
    ("wrong iss", _changed(iss="https://evil.example"), 400, "other than the one"),
    (
        "aud with another audience, no azp",
        _changed(aud=lambda cl: [cl["aud"], "another-client"]),
        400,
        "azp",
    ),
    (
        "azp naming another client",
        _changed(aud=lambda cl: [cl["aud"], "another-client"], azp="another-client"),
        400,
        "other than the one",
    ),
    ("expired", _changed(iat=_from_now(-200), exp=_from_now(-120)), 400, "expired"),
    ("nbf in the future", _changed(nbf=_from_now(600)), 400, "not valid yet"),
    (
        "iat in the future beyond the skew",
        _changed(iat=_from_now(600), exp=_from_now(900)),
        400,
        "not valid yet",
    ),
    ("issued more than 5 minutes ago", _changed(iat=_from_now(-400)), 400, "too long ago"),
    ("no exp", _changed(exp=REMOVE), 400, "'exp'"),
    ("no iat", _changed(iat=REMOVE), 400, "'iat'"),
    ("no nonce", _changed(nonce=REMOVE), 400, "nonce"),
    ("another nonce", _changed(nonce="not-the-issued-nonce"), 400, "nonce"),
    ("no message_type", _changed(message_type=REMOVE), 400, "message_type"),
    ("unknown message type", _changed(message_type="LtiWhateverRequest"), 400, "not supported"),
    ("no version", _changed(version=REMOVE), 400, "version"),
    ("wrong LTI version", _changed(version="1.1.0"), 400, "version"),
    ("no roles claim", _changed(roles=REMOVE), 400, "roles"),
    ("roles not a list", _changed(roles="Learner"), 400, "roles"),
    ("no resource_link", _changed(resource_link=REMOVE), 400, "resource_link"),
    ("resource_link without id", _changed(resource_link={"title": "x"}), 400, "resource_link"),
    ("no sub: an anonymous launch", _changed(sub=REMOVE), 403, "without saying who you are"),
    ("empty sub", _changed(sub=""), 400, "(sub)"),
    ("no deployment_id", _changed(deployment_id=REMOVE), 400, "deployment_id"),
    ("deployment_id past 255", _changed(deployment_id="d" * 256), 400, "deployment_id"),
    ("context without id", _changed(context={"title": "x"}), 400, "context"),
]


@pytest.mark.parametrize(
    ("forge", "status", "says"),
    [pytest.param(f, s, m, id=name) for name, f, s, m in REFUSALS],
)
def test_forged_or_broken_launch_is_refused_and_writes_nothing(
    launcher: Launcher, forge: Forge, status: int, says: str
) -> None:
    app = launcher.app
    before = row_counts(app)
    client = app.test_client()
    login = launcher.login(client)
    token = forge(launcher.platform, launcher.claims("student1", login.nonce))
    response = launcher.post_launch(client, token, login.state)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status, page
    assert says in page
    assert "Reference for support" in page and response.headers["X-Request-ID"] in page
    assert "Traceback" not in page
    assert "lti_tool_session" not in response.headers.get("Set-Cookie", "")
    assert row_counts(app) == before


def test_refusal_answers_json_to_a_json_client(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client)
    response = client.post(
        "/lti/launch",
        data={"id_token": "not-a-jwt", "state": login.state},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "not_a_jwt"
    assert error["correlation_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({}, "no id_token"),
        ({"id_token": "not-a-jwt"}, "not a readable JWT"),
        ({"id_token": "a.b.c"}, "not a readable JWT"),
        ({"id_token": "x" * 70_000 + ".a.b"}, "larger than 64 KB"),
    ],
    ids=["missing id_token", "not a JWT", "garbage JWT", "id_token over 64 KB"],
)
def test_malformed_id_token_is_refused(launcher: Launcher, data: dict[str, str], code: str) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client)
    response = client.post("/lti/launch", data={"state": login.state, **data})
    assert 400 <= response.status_code < 500
    assert code in response.get_data(as_text=True)


def test_launch_without_state_or_with_unknown_state_is_refused(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client)
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    assert launcher.post_launch(client, token, "").status_code == 400
    unknown = launcher.post_launch(client, token, "state-never-issued")
    assert unknown.status_code == 400
    assert "expired or was already used" in unknown.get_data(as_text=True)


def test_state_is_bound_to_the_browser_that_started_the_login(launcher: Launcher) -> None:
    victim_browser = launcher.app.test_client()
    attacker_browser = launcher.app.test_client()
    login = launcher.login(attacker_browser)
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    response = launcher.post_launch(victim_browser, token, login.state)
    assert response.status_code == 403
    assert "another browser" in response.get_data(as_text=True)


def test_state_expires(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client)
    store = launcher.app.extensions["lti_tool"].store
    record = store.take("state", login.state)
    assert record is not None
    store.put("state", login.state, record, ttl=1)
    time.sleep(1.2)
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    response = launcher.post_launch(client, token, login.state)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_unknown_deployment_is_recorded_inactive_refused_then_activated(
    launcher: Launcher,
) -> None:
    from sqlalchemy import select

    from lti_tool.lti.registry import set_deployment_active
    from lti_tool.persistence.models import Deployment

    app = launcher.app
    db = app.extensions["lti_tool"].db
    client = app.test_client()
    refused = launcher.launch(client, changes={c.DEPLOYMENT_ID: "new-deployment-7"})
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "deployment new-deployment-7) has not been approved yet" in page
    assert "lti-tool" not in page  # the command is for the server's log, not the page
    with db.read_only() as session:
        row = session.scalar(
            select(Deployment).where(Deployment.deployment_id == "new-deployment-7")
        )
        assert row is not None and row.active is False
    counts = row_counts(app)
    assert counts["users"] == 0 and counts["sessions"] == 0

    again = launcher.launch(client, changes={c.DEPLOYMENT_ID: "new-deployment-7"})
    assert again.status_code == 403  # still inactive, and not recorded twice
    with db.unit_of_work() as session:
        set_deployment_active(session, "sandbox", "new-deployment-7")
    accepted = launcher.launch(client, changes={c.DEPLOYMENT_ID: "new-deployment-7"})
    assert accepted.status_code == 200


def test_deactivated_deployment_is_refused(launcher: Launcher) -> None:
    from lti_tool.lti.registry import set_deployment_active

    db = launcher.app.extensions["lti_tool"].db
    with db.unit_of_work() as session:
        set_deployment_active(session, "sandbox", launcher.platform.deployment_id, active=False)
    response = launcher.launch(launcher.app.test_client())
    assert response.status_code == 403
    assert "has been switched off by an administrator" in response.get_data(as_text=True)


def test_login_from_an_unregistered_platform_is_refused(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    params = launcher.platform.login_params("student1")
    params["iss"] = "https://unknown-lms.example"
    response = client.post("/lti/login", data=params)
    assert response.status_code == 400
    assert "not registered" in response.get_data(as_text=True) or "No platform" in (
        response.get_data(as_text=True)
    )


@pytest.mark.parametrize("missing", ["iss", "login_hint"])
def test_login_missing_required_parameters_is_refused(launcher: Launcher, missing: str) -> None:
    client = launcher.app.test_client()
    params = launcher.platform.login_params("student1")
    params.pop(missing)
    response = client.post("/lti/login", data=params)
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
