"""A registration a stranger made through /lti/register must not let them make the tool connect
inside the private network ``LTI_TOOL_OUTBOUND_ALLOWED_HOSTS`` opens for an on-premises LMS.
/lti/register's own calls are public-only, but the registration's ``jwks_uri`` was fetched at
launch through the allow-list, before the deployment check, and the launch page named the
exception class (``jwks_unreachable (SSLError)``): a port scanner. Now a launch naming no
deployment, or a held one, fetches nothing; a Dynamic Registration nobody has let in has its
keys fetched from public addresses only; the page names no exception class or upstream status.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from werkzeug.test import TestResponse

from lti_tool.admin.deployments import set_deployment_active_by_id
from lti_tool.admin.identity import command_line_identity
from lti_tool.errors import UpstreamError
from lti_tool.lti import claims as c
from lti_tool.lti import registry
from lti_tool.lti.dynreg.configuration import PlatformConfiguration
from lti_tool.lti.dynreg.records import save_registration
from lti_tool.lti.dynreg.response import RegistrationResult
from lti_tool.lti.platform_keys import PlatformKeys
from tests.support.lti import past_cookie_check
from tests.support.tooling import captured_logs
from tests.web.test_outbound_limits import LEAKY, SECRET_BODY, Recorder

STRANGER = "https://lms.stranger.example"
TOOL = "https://localhost"
CLASS_NAMES = ("SSLError", "ConnectionError", "Timeout", "Error)", "HTTP 500")


@pytest.fixture
def inside() -> Iterator[Recorder]:
    """A service inside the network the allow-list opens (127.0.0.0/8 here)."""
    server = Recorder(LEAKY)
    yield server
    server.close()


@pytest.fixture
def app(sqlite_tool_factory: Any) -> Flask:
    tool: Flask = sqlite_tool_factory(
        env="production", secret_key="s" * 48, outbound_allowed_hosts="127.0.0.0/8"
    ).app
    return tool


def register_stranger(app: Flask, jwks_uri: str) -> int:
    """What /lti/register stores for a public configuration whose ``jwks_uri`` names an
    address inside (approve mode: deployment "1" held, new deployments held)."""
    config = PlatformConfiguration(
        configuration_url=STRANGER + "/openid-configuration",
        issuer=STRANGER,
        authorization_endpoint=STRANGER + "/auth",
        token_endpoint=STRANGER + "/token",
        jwks_uri=jwks_uri,
        registration_endpoint=STRANGER + "/register",
        product_family_code="moodle",
        version="4.5",
        scopes_supported=(),
        messages={c.RESOURCE_LINK_REQUEST: ()},
    )
    result = RegistrationResult(client_id="stranger", deployment_id="1", granted_scopes=None)
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        registration, _ = save_registration(
            session, config, result, mode="approve", development=False
        )
        return registration.id


def register_by_hand(app: Flask, jwks_uri: str) -> int:
    """An on-premises platform a tool administrator added (``lti-tool platform add``)."""
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        return registry.add_platform(
            session,
            registry.PlatformSpec(
                name="on-premises",
                issuer=STRANGER,
                client_id="stranger",
                auth_login_url=STRANGER + "/auth",
                auth_token_url=STRANGER + "/token",
                key_set_url=jwks_uri,
            ),
            development=False,
        ).id


def launch(app: Flask, claims: dict[str, Any]) -> TestResponse:
    """A login for the stranger's registration, then an id_token signed with a key of
    their own carrying ``claims``."""
    client = app.test_client()
    login = client.post(
        "/lti/login",
        base_url=TOOL,
        data={
            "iss": STRANGER,
            "client_id": "stranger",
            "login_hint": "x",
            "target_link_uri": TOOL + "/lti/launch",
        },
    )
    login = past_cookie_check(client, login, base_url=TOOL)
    assert login.status_code == 302, login.get_data(as_text=True)
    query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    now = int(time.time())
    body = {
        "iss": STRANGER,
        "aud": "stranger",
        "sub": "x",
        "iat": now,
        "exp": now + 60,
        "nonce": query["nonce"],
        c.MESSAGE_TYPE: c.RESOURCE_LINK_REQUEST,
        c.VERSION: "1.3.0",
        "jti": uuid.uuid4().hex,
        **claims,
    }
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(body, key, algorithm="RS256", headers={"kid": "k1"})
    return client.post(
        "/lti/launch", base_url=TOOL, data={"id_token": token, "state": query["state"]}
    )


def refused_quietly(answer: TestResponse) -> str:
    text = answer.get_data(as_text=True)
    assert answer.status_code >= 400, text
    assert not any(name in text for name in CLASS_NAMES), text
    assert SECRET_BODY.decode() not in text
    return text


@pytest.mark.parametrize("claims", [{c.DEPLOYMENT_ID: "1"}, {}], ids=["held", "none"])
def test_a_strangers_registration_cannot_make_the_launch_fetch_inside_the_allowed_network(
    app: Flask, inside: Recorder, claims: dict[str, Any]
) -> None:
    """The deployment is held, or the launch names none: nothing is fetched at all."""
    register_stranger(app, f"https://127.0.0.1:{inside.port}/internal/admin")
    text = refused_quietly(launch(app, claims))
    assert ("has not been approved yet" if claims else "no deployment_id claim") in text
    time.sleep(0.3)
    assert inside.received == []


def test_a_new_deployment_of_a_registration_nobody_let_in_is_verified_from_public_keys_only(
    app: Flask, inside: Recorder
) -> None:
    """A deployment never seen must be verified before it is recorded (held): its keys are
    fetched, but through the public-only session Dynamic Registration uses."""
    register_stranger(app, f"https://127.0.0.1:{inside.port}/internal/admin")
    with captured_logs() as log:
        text = refused_quietly(launch(app, {c.DEPLOYMENT_ID: "2"}))
    assert "jwks_refused" in text
    time.sleep(0.3)
    assert inside.received == []
    assert '"msg": "jwks refused"' in log.getvalue()


def test_keys_inside_the_network_are_fetched_once_a_tool_admin_lets_the_platform_in(
    app: Flask, inside: Recorder
) -> None:
    """The allow-list is for the LMS the operator trusts: a platform a tool administrator
    added, or a Dynamic Registration whose deployment they approved. What failed is in the
    log under the request's reference, not on the page."""
    pk = register_stranger(app, f"https://127.0.0.1:{inside.port}/jwks")
    set_deployment_active_by_id(
        app.extensions["lti_tool"], command_line_identity("ops"), pk, "1", True
    )
    with captured_logs() as log:
        answer = launch(app, {c.DEPLOYMENT_ID: "1"})
    text = refused_quietly(answer)
    assert "jwks_unreachable" in text and "An administrator can find why in the log" in text
    assert inside.received != []  # the TLS handshake reached the service
    logged = log.getvalue()
    assert '"error": "SSLError"' in logged
    assert answer.headers["X-Request-ID"] in logged and answer.headers["X-Request-ID"] in text


def test_a_platform_added_by_a_tool_admin_keeps_the_allow_list(
    app: Flask, inside: Recorder
) -> None:
    register_by_hand(app, f"https://127.0.0.1:{inside.port}/jwks")
    refused_quietly(launch(app, {c.DEPLOYMENT_ID: "7"}))
    time.sleep(0.3)
    assert inside.received != []


def test_a_held_deployment_never_has_its_keys_fetched_through_the_allow_list(
    app: Flask, inside: Recorder
) -> None:
    """Even the operator's own platform: a launch naming a held deployment is not verified yet
    (its claim is the launch's word), so it gets no fetch inside, only the refusal in words."""
    pk = register_by_hand(app, f"https://127.0.0.1:{inside.port}/jwks")
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        registry.record_unknown_deployment(session, pk, "7")
    answer = launch(app, {c.DEPLOYMENT_ID: "7"})
    assert "has not been approved yet" in refused_quietly(answer)
    assert STRANGER not in answer.headers["Content-Security-Policy"]  # not verified: no frame
    time.sleep(0.3)
    assert inside.received == []


class Answering(requests.Session):
    """A session whose every GET gets ``status`` and ``body``."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__()
        self.status, self.body = status, body

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = requests.Response()
        response.status_code, response._content = self.status, self.body
        response.headers["Content-Type"] = "application/json"
        return response


def test_a_bad_key_set_answer_names_no_upstream_status(app: Flask) -> None:
    store = app.extensions["lti_tool"].store
    keys = PlatformKeys(
        store, Answering(503, b"{}"), Answering(503, b"{}"), 60, refetch_min_seconds=1
    )
    with captured_logs() as log, pytest.raises(UpstreamError) as refused:
        keys.verification_key("https://lms.example/jwks", "k1", "RS256")
    assert refused.value.code == "jwks_invalid"
    assert "503" not in refused.value.message and "HTTP" not in refused.value.message
    assert '"http_status": 503' in log.getvalue()
