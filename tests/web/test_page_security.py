"""Every page the tool renders keeps to its Content-Security-Policy: inline scripts carry the
response's nonce, no inline event handlers or ``javascript:`` URLs, and the headers are set
on pages, refusals and JSON alike. Tokens carried in page URLs are never logged."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.lti import Launcher, launch_token
from tests.support.tooling import captured_logs

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def _check_page(response: TestResponse) -> None:
    page = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp)
    assert nonce, csp
    directives = dict(part.split(" ", 1) for part in csp.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "*" not in directives["frame-ancestors"].split()
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    for attributes in _SCRIPT.findall(page):
        if "src=" in attributes:
            continue
        assert f'nonce="{nonce.group(1)}"' in attributes, attributes
    assert not _HANDLER.search(page), _HANDLER.search(page)
    assert "javascript:" not in page.lower()


def _pages(launcher: Launcher, client: FlaskClient) -> list[TestResponse]:
    staff = launcher.through_sandbox(client, "teacher1")
    token = launch_token(staff.get_data(as_text=True))
    bearer = {"Authorization": f"Bearer {token}"}
    params = {**launcher.platform.login_params("student1"), "lti_storage_target": "_parent"}
    cookieless = launcher.app.test_client(use_cookies=False)
    login = launcher.login(launcher.app.test_client(), "student1")
    id_token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    return [
        staff,
        client.get("/staff/class/", headers=bearer),
        client.get("/staff/students/1001", headers=bearer),
        launcher.through_sandbox(launcher.app.test_client(), "student1"),
        client.post("/lti/login", data=params),  # the platform-storage login page
        launcher.post_launch(cookieless, id_token, login.state),  # the new-window refusal
        client.get("/me"),
        client.get("/lti/canvas.json"),
    ]


def test_every_page_keeps_to_the_content_security_policy(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    responses = _pages(launcher, client)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 403, 200, 200]
    for response in responses:
        if response.mimetype == "text/html":
            _check_page(response)
        else:
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "Content-Security-Policy" in response.headers


def test_tokens_in_page_urls_are_not_logged(launcher: Launcher) -> None:
    with captured_logs() as stream:
        client = launcher.app.test_client(use_cookies=False)
        client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"  # the tool's own links
        response = launcher.through_sandbox(launcher.app.test_client(), "teacher1")
        token = launch_token(response.get_data(as_text=True))
        assert client.get(f"/staff/class/?launch_token={token}").status_code == 200
        assert client.get("/staff/class/?launch_token=forged-token").status_code == 401
    logged = stream.getvalue()
    assert '"path": "/staff/class/"' in logged
    assert token not in logged and "forged-token" not in logged
