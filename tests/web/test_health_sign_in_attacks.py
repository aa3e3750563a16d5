"""Attacks on the health page's outage sign-in (``admin/login.py: health_page_admin``).

The health page accepts a signed admin token when the store does not answer, so that an
administrator can see an outage. A flood of requests that takes every check slot, or a
database that does not answer, must not turn that into a way around signing out or
deactivation: busy is not down, and an entry needs the store or the database to vouch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import exc as sa_exc

from lti_tool.admin import bounded, login
from lti_tool.admin.account_changes import deactivate_account
from lti_tool.admin.identity import command_line_identity
from lti_tool.web.admin_auth import ADMIN_COOKIE
from tests.support.lti import Launcher
from tests.support.pathway_web import csrf_token
from tests.web.test_admin_access import tool_admin

HEALTH_HEADING = "<h1>Health</h1>"


@pytest.fixture(autouse=True)
def short_deadlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login, "SIGN_IN_SECONDS", 0.5)


def _cookie(client: Any) -> str:
    cookie = client.get_cookie(ADMIN_COOKIE, path="/admin")
    assert cookie is not None
    return str(cookie.value)


def _health(launcher: Launcher, token: str) -> Any:
    stranger = launcher.app.test_client()
    stranger.set_cookie(ADMIN_COOKIE, token, path="/admin")
    return stranger.get("/admin/health")


def _sees_health(response: Any) -> bool:
    return response.status_code == 200 and HEALTH_HEADING in response.get_data(as_text=True)


def _sign_out(client: Any) -> None:
    page = client.get("/admin/").get_data(as_text=True)
    assert client.post("/admin/logout", data={"csrf_token": csrf_token(page)}).status_code in {
        302,
        303,
    }


@pytest.fixture
def busy_store_slots() -> Iterator[None]:
    """Every "sign-in store" slot taken, as concurrent requests would take them."""
    release = threading.Event()
    held = [
        bounded.start("sign-in store", release.wait) for _ in range(bounded.SLOTS_PER_DEPENDENCY)
    ]
    try:
        yield
    finally:
        release.set()
        for pending in held:
            pending.result(time.monotonic() + 30)


def _database_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: Any) -> None:
        raise sa_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("refused"))

    monkeypatch.setattr(login, "_account", refused)


def _store_down(launcher: Launcher, monkeypatch: pytest.MonkeyPatch) -> None:
    store = launcher.app.extensions["lti_tool"].store

    def down(*_args: Any, **_kwargs: Any) -> None:
        raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(store, "get", down)


def test_a_signed_out_token_stays_out_while_the_sign_in_checks_are_busy(
    launcher: Launcher, busy_store_slots: None
) -> None:
    client = tool_admin(launcher.app)
    token = _cookie(client)
    _sign_out(client)
    assert not _sees_health(_health(launcher, token))


def test_an_open_session_still_sees_the_page_while_the_checks_are_busy(
    launcher: Launcher, busy_store_slots: None
) -> None:
    client = tool_admin(launcher.app)
    assert _sees_health(_health(launcher, _cookie(client)))


def test_a_deactivated_account_is_refused_even_when_the_database_is_silent(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.app.extensions["lti_tool"]
    client = tool_admin(launcher.app, "mallory")
    token = _cookie(client)
    deactivate_account(services, command_line_identity("root"), "mallory")
    # Its sessions are gone from the store at once.
    assert services.store.get(login.SESSION_KIND, login._hash(token)) is None
    _database_silent(monkeypatch)
    assert not _sees_health(_health(launcher, token))


def test_an_open_session_is_enough_when_the_database_is_silent(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = tool_admin(launcher.app)
    token = _cookie(client)
    _database_silent(monkeypatch)
    assert login.health_page_admin(launcher.app.extensions["lti_tool"], token) is not None


def test_a_signature_alone_needs_the_database_to_vouch(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.app.extensions["lti_tool"]
    client = tool_admin(launcher.app)
    token = _cookie(client)
    _store_down(launcher, monkeypatch)
    # The store is down, the database answers: the signature and the active account do.
    assert login.health_page_admin(services, token) is not None
    # Neither vouches: no entry, whatever the signature says.
    _database_silent(monkeypatch)
    assert login.health_page_admin(services, token) is None
