"""Tool-admin sign-in: the cookie, wrong passwords, lockout, sign-out, deactivated accounts,
and a password that never reaches the logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.admin.accounts import create_admin, deactivate_admin
from lti_tool.logs import JsonFormatter
from tests.support.lti import Launcher
from tests.support.pathway_web import csrf_token
from tests.web.test_admin_access import PASSWORD

WRONG = "not the password at all"


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
    assert client.get("/admin/").status_code == 401


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
    assert client.get("/admin/").status_code == 401

    stolen = app.test_client()
    assert sign_in(stolen, "root", PASSWORD)[0] == 302
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        deactivate_admin(session, "root")
    assert stolen.get("/admin/").status_code == 401
    assert sign_in(app.test_client(), "root", PASSWORD)[0] == 401

    forged = app.test_client()
    forged.set_cookie("lti_tool_admin", "forged-token", path="/admin")
    assert forged.get("/admin/").status_code == 401


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
