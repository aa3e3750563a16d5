"""Outages of the tool's own dependencies, driven against real servers (issue 18): a Redis of
the test's own that is stopped mid-test, and the suite's PostgreSQL behind a proxy that
refuses or hangs. A request that needs what is down gets, within its deadlines, a 503 with
the tool's own page (or JSON for the API) and ``Retry-After``, never a 500 nor a hang; the
probes keep answering; the logs get one line per refused request and at most one traceback
per dependency; everything works again when the dependency returns, without a restart."""

from __future__ import annotations

import io
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from lti_tool.outages import DATABASE, unavailable_dependency
from lti_tool.persistence.db import Database
from lti_tool.persistence.deadlines import DatabaseDeadlines
from lti_tool.persistence.models import SigningKey
from lti_tool.sandbox.platform import SandboxPlatform
from lti_tool.settings import normalise_database_url
from tests.conftest import TOOL_URL, make_tool
from tests.support.backends import PG_URL
from tests.support.lti import Launcher, launch_token
from tests.support.outage_servers import PostgresProxy, RedisServer
from tests.support.tooling import captured_logs, sandbox_launcher

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Short deadlines keep the test quick; the limits asserted are generous (a busy 2-core box).
DEADLINES = {
    "database_connect_timeout_seconds": 2,
    "database_statement_timeout_seconds": 2.0,
    "database_pool_timeout_seconds": 2.0,
    "redis_connect_timeout_seconds": 1.0,
    "redis_timeout_seconds": 1.0,
}
FAST = 10.0  # seconds: "within a few seconds", with room for a slow machine
WITHIN_DEADLINES = 15.0  # a hanging PostgreSQL: a ping's and a connect's deadline, and more


@dataclass
class Outage:
    app: Flask
    launcher: Launcher
    proxy: PostgresProxy
    redis: RedisServer

    def client(self) -> FlaskClient:
        return self.app.test_client()


@pytest.fixture
def outage(
    tmp_path: Path,
    platform: SandboxPlatform,
    tool_key_template: SigningKey,
    proxy: PostgresProxy,
    redis_server: RedisServer,
) -> Iterator[Outage]:
    """The tool on PostgreSQL through the proxy, with a Redis of its own."""
    app = make_tool(
        {
            "database_url": proxy.url,
            "redis_url": redis_server.url,
            "log_level": "INFO",
            **DEADLINES,
        },
        tmp_path,
    )
    try:
        yield Outage(app, sandbox_launcher(app, platform, tool_key_template), proxy, redis_server)
    finally:
        proxy.restore()
        app.extensions["lti_tool"].close()


def timed(call: Any) -> tuple[TestResponse, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def launched(outage: Outage) -> tuple[FlaskClient, str]:
    """A student's launch that works; the client and its launch token."""
    client = outage.client()
    response = outage.launcher.launch(client)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    return client, launch_token(page)


def new_login(outage: Outage) -> TestResponse:
    """The platform's login request, the first step of a launch (it needs the store)."""
    return outage.client().post(
        "/lti/login", data=outage.launcher.platform.login_params("student1")
    )


def new_launch(outage: Outage) -> TestResponse:
    """A launch whose login works and whose launch POST finds the database down: the
    login's state is in Redis; the launch records the visit in the database."""
    client = outage.client()
    login = outage.launcher.login(client)
    id_token = outage.launcher.platform.sign(outage.launcher.claims("student1", login.nonce))
    return client.post("/lti/launch", data={"id_token": id_token, "state": login.state})


def assert_unavailable_page(response: TestResponse) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page
    assert response.headers["Retry-After"] == "30"
    assert response.mimetype == "text/html"
    assert "The tool is briefly unavailable. Please try again in a minute." in page
    assert response.headers["X-Request-ID"] in page  # the reference for support
    assert "Traceback" not in page and "redis" not in page.lower()


def assert_unavailable_json(response: TestResponse) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "30"
    error = response.get_json()["error"]
    assert error["code"] == "dependency_unavailable"
    assert error["correlation_id"] == response.headers["X-Request-ID"]
    assert "try again" in error["message"]


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def refusals(lines: list[dict[str, Any]], dependency: str) -> list[dict[str, Any]]:
    return [
        line
        for line in lines
        if line.get("code") == "dependency_unavailable" and line.get("dependency") == dependency
    ]


def token_page(outage: Outage, token: str) -> TestResponse:
    """The student's page as a browser without the tool's cookies asks for it (its launch
    token in the address, from the tool's own page): the session is then in the store."""
    return outage.client().get(f"/me?launch_token={token}", headers={"Referer": TOOL_URL + "/me"})


def test_redis_stopped_gives_503_pages_and_json_then_heals(outage: Outage) -> None:
    client, token = launched(outage)
    assert client.get("/me").status_code == 200
    assert token_page(outage, token).status_code == 200
    outage.redis.stop()
    with captured_logs() as stream:
        answers = [
            timed(lambda: new_login(outage)),  # a new launch
            timed(lambda: client.get("/me")),  # a page of the launch
            timed(lambda: token_page(outage, token)),
            timed(lambda: client.get("/api/session", headers={"Authorization": f"Bearer {token}"})),
            # An admin page: its error page must not ask the store who is signed in.
            timed(lambda: client.get("/admin/")),
        ]
    for response, elapsed in answers:
        assert elapsed < FAST, (response.request.path, elapsed)
    for response, _ in answers[:3] + answers[4:]:
        assert_unavailable_page(response)
    assert_unavailable_json(answers[3][0])

    lines = log_lines(stream)
    refused = refusals(lines, "store")
    assert len(refused) == len(answers)  # one warning line per refused request…
    assert all(line["level"] == "WARNING" and line["correlation_id"] for line in refused)
    assert {line["path"] for line in refused} >= {"/lti/login", "/me", "/api/session", "/admin/"}
    assert sum(1 for line in lines if "exc" in line) <= 1  # …and one traceback at most
    assert not [line for line in lines if line.get("status") == 500]

    # The probes: /healthz touches nothing, /readyz names what is down.
    assert outage.client().get("/healthz").status_code == 200
    ready = outage.client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["redis"].startswith("error")

    outage.redis.start()  # an empty Redis: old sessions are gone, new launches work
    with captured_logs() as stream:
        launched(outage)
        launched(outage)
    recovered = [line for line in log_lines(stream) if line.get("code") == "dependency_available"]
    assert [line["dependency"] for line in recovered] == ["store"]  # logged once
    assert outage.client().get("/readyz").status_code == 200


def test_redis_not_answering_gives_503_within_its_deadlines(outage: Outage) -> None:
    client, token = launched(outage)
    process = outage.redis.process
    assert process is not None
    process.send_signal(signal.SIGSTOP)  # connections are accepted; nothing is answered
    try:
        with captured_logs() as stream:
            page, page_seconds = timed(lambda: client.get("/me"))
            api, api_seconds = timed(
                lambda: client.get("/api/session", headers={"Authorization": f"Bearer {token}"})
            )
        ready, ready_seconds = timed(lambda: outage.client().get("/readyz"))
    finally:
        process.send_signal(signal.SIGCONT)
    assert page_seconds < FAST and api_seconds < FAST and ready_seconds < FAST
    assert_unavailable_page(page)
    assert_unavailable_json(api)
    assert ready.status_code == 503 and ready.get_json()["checks"]["redis"].startswith("error")
    refused = refusals(log_lines(stream), "store")
    assert [line["error"] for line in refused] == ["TimeoutError", "TimeoutError"]
    # Redis kept its data: the same launch works again, without a restart of the tool.
    assert client.get("/me").status_code == 200


def checklist(client: FlaskClient, token: str) -> TestResponse:
    """An API call that reads the database (the launch session itself is in Redis)."""
    return client.get("/api/me/checklist", headers={"Authorization": f"Bearer {token}"})


def test_postgres_refusing_gives_503_then_heals(outage: Outage) -> None:
    client, token = launched(outage)
    assert checklist(client, token).status_code == 200
    outage.proxy.refuse()
    with captured_logs() as stream:
        launch, launch_seconds = timed(lambda: new_launch(outage))
        api, api_seconds = timed(lambda: checklist(client, token))
        page, page_seconds = timed(lambda: client.get("/me"))
    assert max(launch_seconds, api_seconds, page_seconds) < FAST
    assert_unavailable_page(launch)
    assert_unavailable_page(page)
    # Still shown inside the LMS frame: the platforms' origins, without the database.
    ancestors = launch.headers["Content-Security-Policy"].split("frame-ancestors")[1]
    assert outage.launcher.platform.issuer in ancestors.split(";")[0]
    assert_unavailable_json(api)
    lines = log_lines(stream)
    assert len(refusals(lines, "database")) == 3
    assert sum(1 for line in lines if "exc" in line) <= 1

    health, health_seconds = timed(lambda: outage.client().get("/healthz"))
    assert health.status_code == 200 and health_seconds < FAST
    ready = outage.client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"].startswith("error")

    outage.proxy.restore()
    launched(outage)
    assert outage.client().get("/readyz").status_code == 200


def test_postgres_hanging_gives_503_within_the_deadlines_then_heals(outage: Outage) -> None:
    client, token = launched(outage)  # pooled connections are open when the server hangs
    assert checklist(client, token).status_code == 200
    outage.proxy.hang()
    with captured_logs() as stream:
        launch, launch_seconds = timed(lambda: new_launch(outage))
        api, api_seconds = timed(lambda: checklist(client, token))
        health, health_seconds = timed(lambda: outage.client().get("/healthz"))
        ready, ready_seconds = timed(lambda: outage.client().get("/readyz"))
    assert launch_seconds < WITHIN_DEADLINES and api_seconds < WITHIN_DEADLINES
    assert_unavailable_page(launch)
    assert_unavailable_json(api)
    assert health.status_code == 200 and health_seconds < FAST
    assert ready.status_code == 503 and ready_seconds < FAST  # its own 3 s deadline
    assert ready.get_json()["checks"]["database"].startswith("error")
    lines = log_lines(stream)
    assert len(refusals(lines, "database")) == 2
    assert sum(1 for line in lines if "exc" in line) <= 1

    outage.proxy.restore()
    with captured_logs() as stream:
        launched(outage)
    recovered = [line for line in log_lines(stream) if line.get("code") == "dependency_available"]
    assert [line["dependency"] for line in recovered] == ["database"]
    assert outage.client().get("/readyz").status_code == 200


def test_a_connection_that_stops_answering_mid_transaction_is_cut() -> None:
    """The watchdog: the server's own statement deadline cannot help when its answers stop
    reaching the tool; the connection is cut at the deadline plus a second."""
    with PostgresProxy(PG_URL) as proxy:
        db = Database(normalise_database_url(proxy.url), deadlines=DatabaseDeadlines(2, 1.0, 1.0))
        try:
            with db.read_only() as session:
                assert session.execute(text("SELECT 1")).scalar() == 1
                proxy.hang()  # the transaction's connection is open: no ping, no connect
                started = time.monotonic()
                with pytest.raises(OperationalError) as caught:
                    session.execute(text("SELECT 2"))
                elapsed = time.monotonic() - started
            assert elapsed < FAST
            assert unavailable_dependency(caught.value) == DATABASE
            proxy.restore()
            with db.read_only() as session:
                assert session.execute(text("SELECT 3")).scalar() == 3
        finally:
            db.dispose()
