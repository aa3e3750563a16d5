"""Attacks on what the tool fetches and how often strangers may make it work (issue 10, items
2 and 3): SSRF through /lti/register and launch claims, upstream bodies echoed to strangers,
and floods of /lti/register and /lti/login."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from lti_tool.lti import claims as c
from lti_tool.persistence.models import Context
from lti_tool.sandbox.platform import SandboxPlatform
from tests.support.backends import REDIS_URL
from tests.support.lti import Launcher, launch_token


class Recorder:
    """A loopback TCP server that answers every connection with ``answer`` and keeps what it
    was sent: a stand-in for a service inside the tool's network."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.received: list[bytes] = []
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def recorder() -> Iterator[Callable[[bytes], Recorder]]:
    made: list[Recorder] = []

    def make(answer: bytes) -> Recorder:
        made.append(Recorder(answer))
        return made[-1]

    yield make
    for server in made:
        server.close()


SECRET_BODY = b"internal-admin-password=hunter2"
LEAKY = (
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(SECRET_BODY)).encode() + b"\r\n\r\n" + SECRET_BODY
)


# -- SSRF through /lti/register ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::1]"])
def test_register_never_reaches_loopback_in_production(
    sqlite_tool_factory: Any, recorder: Callable[[bytes], Recorder], host: str
) -> None:
    inside = recorder(LEAKY)
    app = sqlite_tool_factory(env="production", secret_key="s" * 48).app
    url = f"https://{host}:{inside.port}/mod/lti/openid-configuration.php"
    answer = app.test_client().get("/lti/register?" + urlencode({"openid_configuration": url}))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400, text
    assert "private_address" in text and "private network" in text
    time.sleep(0.2)
    assert inside.received == []  # no connection was ever made


def test_register_does_not_echo_what_the_upstream_answered(
    sqlite_tool_factory: Any, recorder: Callable[[bytes], Recorder]
) -> None:
    """Development allows loopback (the sandbox): the fetch happens, but the page says only
    the status, never the body (it used to print it)."""
    inside = recorder(LEAKY)
    app = sqlite_tool_factory().app
    url = f"http://127.0.0.1:{inside.port}/openid-configuration"
    answer = app.test_client().get("/lti/register?" + urlencode({"openid_configuration": url}))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 502, text
    assert "HTTP 500" in text and "configuration_refused" in text
    assert "hunter2" not in text and "internal-admin-password" not in text


def test_a_deeply_nested_configuration_is_a_plain_refusal(
    sqlite_tool_factory: Any, recorder: Callable[[bytes], Recorder]
) -> None:
    """json.loads raises RecursionError (not ValueError) on deep nesting: it was a 500."""
    body = b"[" * 20_000 + b"]" * 20_000
    inside = recorder(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    app = sqlite_tool_factory().app
    url = f"http://127.0.0.1:{inside.port}/openid-configuration"
    answer = app.test_client().get("/lti/register?" + urlencode({"openid_configuration": url}))
    text = answer.get_data(as_text=True)
    assert 400 <= answer.status_code < 500 or answer.status_code == 502, text
    assert "bad_configuration" in text and "Traceback" not in text


def test_loopback_is_refused_in_development_without_the_setting(
    sqlite_tool_factory: Any, recorder: Callable[[bytes], Recorder]
) -> None:
    inside = recorder(LEAKY)
    app = sqlite_tool_factory(outbound_allow_loopback=False).app
    url = f"http://localhost:{inside.port}/openid-configuration"
    answer = app.test_client().get("/lti/register?" + urlencode({"openid_configuration": url}))
    assert answer.status_code == 400
    assert "private_address" in answer.get_data(as_text=True)
    assert inside.received == []


# -- claim service URLs stay on the platform's own host ----------------------------------------


def test_a_launch_cannot_send_the_platform_token_to_another_host(
    launcher: Launcher, platform: SandboxPlatform, recorder: Callable[[bytes], Recorder]
) -> None:
    """A launch names an NRPS URL elsewhere (here ``localhost``, not the registration's
    ``127.0.0.1``); the roster refresh must not send the platform's access token there."""
    thief = recorder(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    stolen = f"http://localhost:{thief.port}/memberships"
    client = launcher.app.test_client()
    claims_nrps = {"context_memberships_url": stolen, "service_versions": ["2.0"]}
    response = launcher.launch(client, "teacher1", changes={c.NRPS: claims_nrps})
    assert response.status_code == 200, response.get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {launch_token(response.get_data(as_text=True))}"}
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(Context.nrps_url)) == stolen
    refresh = client.post("/api/context/roster/refresh", headers=bearer)
    assert refresh.status_code == 502, refresh.get_data(as_text=True)
    assert refresh.get_json()["error"]["code"] == "foreign_service_url"
    time.sleep(0.3)  # the first staff launch also queued a roster fetch
    assert thief.received == []


# -- rate limits -------------------------------------------------------------------------------


def test_logins_from_one_address_are_limited(sqlite_tool_factory: Any) -> None:
    launcher = sqlite_tool_factory(rate_limit_login_per_minute=3)
    client = launcher.app.test_client()
    params = launcher.platform.login_params("student1")
    # 302 to the platform, or 303 to the tool's cookie check first (lti/cookie_check.py).
    for _ in range(3):
        assert client.post("/lti/login", data=params).status_code in (302, 303)
    refused = client.post("/lti/login", data=params)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 61
    assert "Wait a minute and try again" in refused.get_data(as_text=True)
    # Another address is not affected.
    other = client.post("/lti/login", data=params, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code in (302, 303)


def test_register_from_one_address_is_limited(sqlite_tool_factory: Any) -> None:
    client = sqlite_tool_factory(rate_limit_register_per_minute=2).app.test_client()
    for _ in range(2):
        assert client.get("/lti/register").status_code == 400  # no configuration given
    refused = client.get("/lti/register", headers={"Accept": "application/json"})
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in refused.headers


def test_the_limit_is_shared_by_workers_through_redis(sqlite_tool_factory: Any) -> None:
    shared = {
        "redis_url": REDIS_URL,
        "redis_prefix": "test_" + uuid.uuid4().hex[:10],
        "rate_limit_register_per_minute": 3,
    }
    one = sqlite_tool_factory(**shared).app.test_client()
    two = sqlite_tool_factory(**shared).app.test_client()
    statuses = [client.get("/lti/register").status_code for client in (one, two, one, two)]
    assert statuses == [400, 400, 400, 429]


def test_production_refuses_loopback_as_a_setting(tmp_path: Any) -> None:
    from lti_tool.settings import SettingsError, load_settings

    with pytest.raises(SettingsError, match="development only"):
        load_settings(
            overrides={"env": "production", "secret_key": "k", "outbound_allow_loopback": True},
            environ={"LTI_TOOL_INSTANCE_DIR": str(tmp_path)},
        )


def test_a_launch_spends_one_login_of_the_limit_not_two(sqlite_tool_factory: Any) -> None:
    """The cookie check's second step (/lti/login/continue) goes on only with a login counted
    already: three launches' logins and their checks all get through a limit of three."""
    launcher = sqlite_tool_factory(rate_limit_login_per_minute=3)
    client = launcher.app.test_client()
    params = launcher.platform.login_params("student1")
    for _ in range(3):
        first = client.post("/lti/login", data=params)
        assert first.status_code == 303, first.status_code
        # A fresh browser each time: the check cookie is not kept between launches.
        client.delete_cookie("lti_cookie_check")
        fresh = launcher.app.test_client()
        fresh.set_cookie("lti_cookie_check", "1")
        continued = fresh.get(first.headers["Location"])
        assert continued.status_code == 302, continued.status_code
    assert client.post("/lti/login", data=params).status_code == 429
