"""Tool-admin sign-in: the cookie, wrong passwords, lockout, sign-out, deactivated accounts,
and a password that never reaches the logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.admin.accounts import create_admin, deactivate_admin
from lti_tool.logs import JsonFormatter
from tests.support.lti import Launcher
from tests.support.pathway_web import csrf_token
from tests.web.test_admin_access import PASSWORD

WRONG = "not the password at all"


def sent_to_sign_in(response: Any) -> bool:
    """A browser without an admin session is sent to the sign-in page, not shown an error."""
    return response.status_code == 302 and response.headers["Location"].startswith(
        "/admin/login?next="
    )


def make_admin(app: Flask, username: str = "root") -> None:
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        create_admin(session, username, PASSWORD)


def sign_in(
    client: FlaskClient, username: str, password: str, base_url: str = "http://localhost"
) -> tuple[int, str, str | None]:
    form = client.get("/admin/login", base_url=base_url).get_data(as_text=True)
    response = client.post(
        "/admin/login",
        data={"csrf_token": csrf_token(form), "username": username, "password": password},
        base_url=base_url,
        # Flask-WTF checks the Referer of HTTPS form posts.
        headers={"Referer": base_url + "/admin/login"},
    )
    return response.status_code, response.get_data(as_text=True), response.headers.get("Set-Cookie")


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything the tool logs during the test, as it would be written."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("lti_tool")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield buffer
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_sign_in_sets_a_strict_http_only_cookie(launcher: Launcher) -> None:
    make_admin(launcher.app)
    client = launcher.app.test_client()
    status, _, cookie = sign_in(client, "root", PASSWORD)
    assert status == 302 and cookie is not None
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert cookie.startswith("lti_tool_admin=")
    assert {"httponly", "samesite", "path"} <= parts and "secure" not in parts
    assert "SameSite=Strict" in cookie and "Path=/admin" in cookie
    page = client.get("/admin/").get_data(as_text=True)
    assert "signed in as tool admin" in page and "root" in page

    https = launcher.app.test_client()
    status, _, secure_cookie = sign_in(https, "root", PASSWORD, base_url="https://localhost")
    assert status == 302 and secure_cookie is not None and "Secure" in secure_cookie


def test_wrong_password_and_unknown_user_look_the_same(launcher: Launcher) -> None:
    make_admin(launcher.app)
    client = launcher.app.test_client()
    wrong = sign_in(client, "root", WRONG)
    unknown = sign_in(client, "nobody", WRONG)
    assert wrong[0] == unknown[0] == 401
    assert wrong[2] is None and unknown[2] is None
    assert "The username or password is wrong." in wrong[1]
    assert "The username or password is wrong." in unknown[1]
    assert sent_to_sign_in(client.get("/admin/"))


def test_five_failures_lock_the_username_for_fifteen_minutes(launcher: Launcher) -> None:
    make_admin(launcher.app)
    make_admin(launcher.app, "other")
    client = launcher.app.test_client()
    for _ in range(5):
        assert sign_in(client, "root", WRONG)[0] == 401
    status, page, cookie = sign_in(client, "root", PASSWORD)  # right password, still locked
    assert status == 429 and cookie is None
    assert "Wait 15 minutes" in page
    assert sign_in(client, "ROOT", PASSWORD)[0] == 429  # the same username in capitals
    assert sign_in(launcher.app.test_client(), "other", PASSWORD)[0] == 302  # others unaffected


def test_four_failures_then_success_resets_the_count(launcher: Launcher) -> None:
    make_admin(launcher.app)
    client = launcher.app.test_client()
    for _ in range(4):
        assert sign_in(client, "root", WRONG)[0] == 401
    assert sign_in(client, "root", PASSWORD)[0] == 302
    for _ in range(4):
        assert sign_in(client, "root", WRONG)[0] == 401
    assert sign_in(client, "root", PASSWORD)[0] == 302


def test_the_password_is_never_logged(launcher: Launcher, logs: io.StringIO) -> None:
    make_admin(launcher.app)
    client = launcher.app.test_client()
    sign_in(client, "root", WRONG)
    sign_in(client, "root", PASSWORD)
    written = logs.getvalue()
    assert "admin login failed" in written and "admin login" in written  # it did log
    assert PASSWORD not in written and WRONG not in written
    assert "password" not in written.lower()


def test_sign_out_and_deactivation_end_the_session(launcher: Launcher) -> None:
    app = launcher.app
    make_admin(app)
    client = app.test_client()
    assert sign_in(client, "root", PASSWORD)[0] == 302
    page = client.get("/admin/").get_data(as_text=True)
    out = client.post("/admin/logout", data={"csrf_token": csrf_token(page)})
    assert out.status_code == 302 and out.headers["Location"].endswith("/admin/login")
    assert sent_to_sign_in(client.get("/admin/"))

    stolen = app.test_client()
    assert sign_in(stolen, "root", PASSWORD)[0] == 302
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        deactivate_admin(session, "root")
    assert sent_to_sign_in(stolen.get("/admin/"))
    assert sign_in(app.test_client(), "root", PASSWORD)[0] == 401

    forged = app.test_client()
    forged.set_cookie("lti_tool_admin", "forged-token", path="/admin")
    assert sent_to_sign_in(forged.get("/admin/"))


def test_concurrent_guesses_get_at_most_five_password_checks(launcher: Launcher) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from lti_tool.admin.login import LockedOut, LoginRefused, log_in

    make_admin(launcher.app)
    services = launcher.app.extensions["lti_tool"]

    def attempt(n: int) -> str:
        try:
            log_in(services, "root", f"guess-{n}", "203.0.113.9")
        except LoginRefused:
            return "checked"
        except LockedOut:
            return "locked"
        return "in"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert outcomes.count("checked") == 5 and outcomes.count("locked") == 15


def test_a_lockout_holds_for_the_guessing_address_not_for_others(launcher: Launcher) -> None:
    from lti_tool.admin.login import LockedOut, LoginRefused, log_in

    make_admin(launcher.app)
    services = launcher.app.extensions["lti_tool"]
    for _ in range(5):
        with pytest.raises(LoginRefused):
            log_in(services, "root", WRONG, "203.0.113.9")
    with pytest.raises(LockedOut):
        log_in(services, "root", PASSWORD, "203.0.113.9")
    assert log_in(services, "root", PASSWORD, "198.51.100.7")  # the admin, elsewhere
    # Guessing from many addresses still locks the username everywhere after twenty.
    for n in range(20):
        with pytest.raises((LoginRefused, LockedOut)):
            log_in(services, "root", WRONG, f"192.0.2.{n}")
    with pytest.raises(LockedOut):
        log_in(services, "root", PASSWORD, "198.51.100.7")


def sign_in_from(client: FlaskClient, address: str, username: str, password: str) -> TestResponse:
    """A sign-in through the form, as a browser at ``address`` would send it."""
    environ = {"REMOTE_ADDR": address}
    form = client.get("/admin/login", environ_base=environ).get_data(as_text=True)
    data = {"csrf_token": csrf_token(form), "username": username, "password": password}
    return client.post("/admin/login", data=data, environ_base=environ)


def test_one_address_guessing_many_usernames_is_throttled(launcher: Launcher) -> None:
    make_admin(launcher.app)
    attacker = launcher.app.test_client()
    statuses = [
        sign_in_from(attacker, "203.0.113.9", f"user{n}", WRONG).status_code for n in range(50)
    ]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429] * 40
    refused = sign_in_from(attacker, "203.0.113.9", "root", PASSWORD)  # even the right one
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    page = refused.get_data(as_text=True)
    assert "Too many failed sign-ins from your network address. Wait 15 minutes" in page
    assert "Traceback" not in page and "lti_tool_admin=" not in refused.headers.get(
        "Set-Cookie", ""
    )
    # The admin at another address, in a browser that has never signed in, is not affected.
    assert (
        sign_in_from(launcher.app.test_client(), "198.51.100.7", "root", PASSWORD).status_code
        == 302
    )


@pytest.mark.parametrize("spread", [False, True], ids=["one address", "fifty addresses"])
def test_others_failures_do_not_lock_out_a_known_browser(launcher: Launcher, spread: bool) -> None:
    make_admin(launcher.app)
    admin_browser = launcher.app.test_client()
    assert sign_in_from(admin_browser, "198.51.100.7", "root", PASSWORD).status_code == 302
    admin_browser.post(
        "/admin/logout",
        data={"csrf_token": csrf_token(admin_browser.get("/admin/").get_data(as_text=True))},
    )

    for n in range(50):
        address = f"192.0.2.{n}" if spread else "203.0.113.9"
        response = sign_in_from(launcher.app.test_client(), address, "root", WRONG)
        assert response.status_code in (401, 429)
    if not spread:  # the guessing address is throttled, with a plain message
        throttled = sign_in_from(launcher.app.test_client(), "203.0.113.9", "root", PASSWORD)
        assert throttled.status_code == 429
        assert "Wait 15 minutes" in throttled.get_data(as_text=True)
    else:  # the username is locked for browsers that never signed in here
        stranger = sign_in_from(launcher.app.test_client(), "198.51.100.99", "root", PASSWORD)
        assert stranger.status_code == 429
        assert "A browser that has signed in here before can still sign in." in (
            stranger.get_data(as_text=True)
        )

    # The admin's browser, which signed in before, still gets in with the right password.
    back = sign_in_from(admin_browser, "198.51.100.7", "root", PASSWORD)
    assert back.status_code == 302
    assert "signed in as tool admin" in admin_browser.get("/admin/").get_data(as_text=True)


def test_a_known_browser_is_still_limited_by_its_own_failures(launcher: Launcher) -> None:
    make_admin(launcher.app)
    browser = launcher.app.test_client()
    assert sign_in_from(browser, "198.51.100.7", "root", PASSWORD).status_code == 302
    for _ in range(5):
        assert sign_in_from(browser, "198.51.100.7", "root", WRONG).status_code == 401
    locked = sign_in_from(browser, "198.51.100.7", "root", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins from this browser." in locked.get_data(as_text=True)


def test_a_forged_or_other_accounts_known_client_cookie_counts_for_nothing(
    launcher: Launcher,
) -> None:
    from lti_tool.admin.known_client import KNOWN_CLIENT_COOKIE, issue_known_client

    make_admin(launcher.app)
    make_admin(launcher.app, "other")
    other_browser = launcher.app.test_client()
    assert sign_in_from(other_browser, "198.51.100.8", "other", PASSWORD).status_code == 302
    for n in range(20):  # lock "root" for unknown browsers
        sign_in_from(launcher.app.test_client(), f"192.0.2.{n}", "root", WRONG)
    # A known browser of another account, a cookie signed with another key, and a forged one.
    foreign = issue_known_client("not the tool's secret key", "root")
    for cookie in (None, foreign, "forged"):
        browser = other_browser if cookie is None else launcher.app.test_client()
        if cookie is not None:
            browser.set_cookie(KNOWN_CLIENT_COOKIE, cookie, path="/admin")
        assert sign_in_from(browser, "198.51.100.8", "root", PASSWORD).status_code == 429
