"""Probes, headers, cookies behind HTTPS and proxies, timeouts, and what is logged."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.lti import Launcher, launch_token, past_cookie_check
from tests.support.tooling import captured_logs


def test_healthz_and_readyz(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["status"] == "ready" and body["checks"]["database"] == "ok"
    if launcher.app.extensions["lti_tool"].settings.redis_url:
        assert body["checks"]["redis"] == "ok"


def test_readyz_reports_an_unreachable_redis(sqlite_tool_factory: Any) -> None:
    launcher = sqlite_tool_factory(redis_url="redis://127.0.0.1:1/0")
    ready = launcher.app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["redis"].startswith("error")


def test_security_headers_on_pages_and_api(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    for response in (client.get("/healthz"), launcher.launch(client)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        csp = response.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "script-src 'self' 'nonce-" in csp
        assert response.headers["X-Request-ID"]


def test_cookies_over_https_are_secure_samesite_none_partitioned(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    params = launcher.platform.login_params("student1")
    https = "https://localhost"
    login = past_cookie_check(
        client, client.post("/lti/login", data=params, base_url=https), base_url=https
    )
    state_cookie = login.headers["Set-Cookie"]
    for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly"):
        assert attribute in state_cookie


def test_forwarded_proto_is_trusted_only_from_listed_proxies(sqlite_tool_factory: Any) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    for trusted, secure in (("127.0.0.1", True), ("1", True), ("10.9.9.9", False), ("", False)):
        launcher = sqlite_tool_factory(trusted_proxies=trusted)
        client = launcher.app.test_client()
        params = launcher.platform.login_params("student1")
        cookie = client.post("/lti/login", data=params, headers=forwarded).headers["Set-Cookie"]
        assert ("Secure" in cookie) is secure, (trusted, cookie)


def test_session_cookie_of_a_launch_over_https(sqlite_tool_factory: Any) -> None:
    launcher = sqlite_tool_factory(trusted_proxies="127.0.0.1")
    client = launcher.app.test_client()
    headers = {"X-Forwarded-Proto": "https"}
    params = launcher.platform.login_params("student1")
    login = past_cookie_check(
        client, client.post("/lti/login", data=params, headers=headers), headers=headers
    )
    from urllib.parse import parse_qs, urlsplit

    query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    token = launcher.platform.sign(launcher.claims("student1", query["nonce"]))
    response = client.post(
        "/lti/launch", data={"id_token": token, "state": query["state"]}, headers=headers
    )
    # Post/redirect/get: the cookie is set on the redirect to the launch's page.
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/me?lti_binding=")
    cookie = response.headers["Set-Cookie"]
    # The launch's own cookie, named after its binding (web/page_binding.py).
    assert cookie.startswith("lti_tool_session_")
    for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly"):
        assert attribute in cookie


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_platform_that_never_answers_times_out_with_a_clear_page(
    sqlite_tool_factory: Any, silent_server: int
) -> None:
    from lti_tool.persistence.models import Registration

    launcher = sqlite_tool_factory(http_timeout_seconds=0.5, http_retries=0)
    db = launcher.app.extensions["lti_tool"].db
    with db.unit_of_work() as session:
        for registration in session.query(Registration):
            registration.key_set_url = f"http://127.0.0.1:{silent_server}/jwks"
    started = time.monotonic()
    response = launcher.launch(launcher.app.test_client())
    elapsed = time.monotonic() - started
    assert response.status_code == 502
    assert "public keys could not be fetched" in response.get_data(as_text=True)
    assert elapsed < 3


def test_no_token_or_id_token_is_ever_logged(launcher: Launcher) -> None:
    with captured_logs() as stream:
        client = launcher.app.test_client()
        login = launcher.login(client)
        id_token = launcher.platform.sign(launcher.claims("student1", login.nonce))
        ok = launcher.post_launch(client, id_token, login.state)
        session_token = launch_token(ok.get_data(as_text=True))
        replay = launcher.post_launch(client, id_token, login.state)
        assert replay.status_code == 400
        client.get("/api/session", headers={"Authorization": "Bearer forged"})
    logged = stream.getvalue()
    assert "request refused" in logged  # something was logged…
    assert '"msg": "request", "correlation_id": "' in logged and '"path": "/lti/launch"' in logged
    for secret in (id_token, session_token, login.state, login.nonce, id_token.split(".")[2]):
        assert secret not in logged  # …but never a secret


def test_only_registered_platforms_may_frame_the_tool(launcher: Launcher) -> None:
    csp = launcher.app.test_client().get("/no-such-page").headers["Content-Security-Policy"]
    ancestors = next(p for p in csp.split("; ") if p.startswith("frame-ancestors")).split()[1:]
    assert "'self'" in ancestors and "*" not in ancestors
    assert launcher.platform.issuer in ancestors  # the sandbox LMS frames the tool


def test_extra_frame_ancestors_and_canvas_domains(sqlite_tool_factory: Any) -> None:
    from lti_tool.lti.registry import PlatformSpec, add_platform

    launcher = sqlite_tool_factory(frame_ancestors="https://learn.example.ac.uk")
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        add_platform(
            session,
            PlatformSpec(
                name="canvas",
                issuer="https://canvas.instructure.com",
                client_id="10000000001",
                auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
                auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
                key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
                kind="canvas",
                deployment_ids=["1"],  # only active registrations may frame the tool
            ),
            development=True,
        )
    csp = launcher.app.test_client().get("/no-such-page").headers["Content-Security-Policy"]
    for origin in (
        "https://learn.example.ac.uk",
        "https://*.instructure.com",
        "https://canvas.instructure.com",
    ):
        assert origin in csp


def test_a_database_outage_still_answers_healthz_and_says_not_ready(tmp_path: Any) -> None:
    from tests.conftest import make_tool

    app = make_tool({"database_url": "postgresql://postgres@127.0.0.1:1/nowhere"}, tmp_path)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"].startswith("error")
    app.extensions["lti_tool"].close()
