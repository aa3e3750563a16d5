"""The health page during real outages: a Redis of the test's own that is stopped, and the
suite's PostgreSQL behind a proxy that refuses or hangs. The page still answers, within a few
seconds, for a tool admin with a valid session cookie, says which dependency is down and
since when; a request without a valid signed cookie still gets no health data."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from lti_tool.admin.known_client import KNOWN_CLIENT_COOKIE
from lti_tool.web.admin_auth import ADMIN_COOKIE
from tests.conftest import make_tool
from tests.support.outage_servers import PostgresProxy, RedisServer, wait_until
from tests.web.test_admin_access import tool_admin
from tests.web.test_admin_health import checks

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
PAGE_SECONDS = 15  # generous on a busy machine: the checks' own deadlines are 2-3 s


@pytest.fixture
def outage_tool(tmp_path: Path, proxy: PostgresProxy, redis_server: RedisServer) -> Iterator[Flask]:
    """The production shape: PostgreSQL (through the proxy) and Redis (the test's own)."""
    app = make_tool(
        {
            "database_url": proxy.url,
            "redis_url": redis_server.url,
            "redis_prefix": "t_" + uuid.uuid4().hex[:10],
        },
        tmp_path,
    )
    yield app
    proxy.restore()
    app.extensions["lti_tool"].close()


def _health(client: FlaskClient) -> tuple[dict[str, tuple[str, str]], float]:
    started = time.monotonic()
    response = client.get("/admin/health")
    took = time.monotonic() - started
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return checks(response.get_data(as_text=True)), took


def _browser_with(app: Flask, token: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie(ADMIN_COOKIE, token, path="/admin")
    return client


def test_redis_outage_shows_on_the_page_and_strangers_get_nothing(
    outage_tool: Flask, redis_server: RedisServer
) -> None:
    app = outage_tool
    admin = tool_admin(app)
    found, _ = _health(admin)
    assert found["Redis"] == ("OK", "reachable")
    token = admin.get_cookie(ADMIN_COOKIE, path="/admin")
    known = admin.get_cookie(KNOWN_CLIENT_COOKIE, path="/admin")
    assert token is not None and known is not None

    redis_server.stop()
    found, took = _health(admin)
    assert took < PAGE_SECONDS
    state, detail = found["Redis"]
    assert state == "Problem"
    assert detail.startswith("Redis is not answering: down since ")
    assert found["Background jobs"][0] == "Problem"
    assert found["Background jobs"][1].startswith("Redis is not answering")
    assert found["Database"] == ("OK", "postgresql reachable")
    again, _ = _health(admin)
    assert again["Redis"] == found["Redis"]  # the same first-failure time

    # The attack: without a session cookie whose signature is the tool's, nothing is shown.
    other_key = URLSafeTimedSerializer("not-the-tool-secret", salt="lti-tool admin session")
    attempts = {
        "no cookie": None,
        "a random token": "A" * 43,
        "signed with another key": str(other_key.dumps({"r": "x", "a": 1})),
        "the real token, altered": token.value[:-2] + ("AA" if token.value[-2:] != "AA" else "BB"),
        # Signed with the tool's own secret, but for another purpose (salt).
        "the known-client cookie": known.value,
    }
    for what, value in attempts.items():
        client = app.test_client() if value is None else _browser_with(app, value)
        response = client.get("/admin/health")
        body = response.get_data(as_text=True)
        assert response.status_code != 200, what
        assert "not answering" not in body and "Background jobs" not in body, what

    # Only the health page: another admin page is not served on the signature.
    assert admin.get("/admin/registrations").status_code >= 500

    redis_server.start()  # empty: the sessions it held are gone
    found_after = admin.get("/admin/health")
    assert found_after.status_code == 302 and "/admin/login" in found_after.location
    found, _ = _health(tool_admin(app, "root2"))
    assert found["Redis"] == ("OK", "reachable")


def test_database_outage_shows_on_the_page_within_seconds(
    outage_tool: Flask, proxy: PostgresProxy, redis_server: RedisServer
) -> None:
    app = outage_tool
    services = app.extensions["lti_tool"]
    admin = tool_admin(app)
    found, _ = _health(admin)
    assert found["Database"] == ("OK", "postgresql reachable")

    proxy.refuse()
    found, took = _health(admin)
    assert took < PAGE_SECONDS
    for name in ("Database", "Migrations"):
        state, detail = found[name]
        assert state == "Problem"
        assert detail.startswith("the database is not answering: down since "), detail
    assert found["Redis"] == ("OK", "reachable")
    # The first failure is shared through Redis, so every web process tells the same time.
    shared = redis.Redis.from_url(redis_server.url)
    prefix = services.settings.redis_prefix
    assert shared.get(f"{prefix}:outage_since:database") is not None

    proxy.hang()  # accepts connections, never answers
    found, took = _health(admin)
    assert took < PAGE_SECONDS
    assert found["Database"][0] == "Problem"
    assert found["Database"][1].startswith("the database is not answering")

    # A stranger still gets nothing while the database hangs.
    stranger = _browser_with(app, "A" * 43)
    assert stranger.get("/admin/health").status_code != 200

    proxy.restore()
    wait_until(  # connections the hang held are cut and replaced
        lambda: _health(admin)[0]["Database"][0] == "OK",
        "the health page to see the database again",
        interval=0.5,
    )
    found, _ = _health(admin)
    assert found["Database"] == ("OK", "postgresql reachable")
    assert "down since" not in found["Migrations"][1]
    assert shared.get(f"{prefix}:outage_since:database") is None
    shared.close()
