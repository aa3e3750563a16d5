"""Any instance can serve any step of a launch: two tool instances, one database (and Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from lti_tool.persistence.models import SigningKey
from lti_tool.sandbox import register_sandbox
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import make_tool
from tests.support.backends import MigratedBackends, backend_settings
from tests.support.lti import Launcher, launch_cookie
from tests.support.tooling import add_tool_key


@pytest.fixture(params=["postgres+redis", "postgres", "sqlite"])
def two_instances(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    platform: SandboxPlatform,
    migrated: MigratedBackends,
    tool_key_template: SigningKey,
) -> Iterator[tuple[Flask, Flask]]:
    with backend_settings(str(request.param), tmp_path, migrated) as overrides:
        first = make_tool(overrides, tmp_path)
        second = make_tool(overrides, tmp_path)  # its own engine, pools, caches
        add_tool_key(first.extensions["lti_tool"], tool_key_template)
        register_sandbox(first.extensions["lti_tool"].db, platform, development=True)
        yield first, second
        first.extensions["lti_tool"].close()
        second.extensions["lti_tool"].close()


def test_login_on_one_instance_launch_on_the_other(
    two_instances: tuple[Flask, Flask], platform: SandboxPlatform
) -> None:
    first, second = two_instances
    assert first.extensions["lti_tool"] is not second.extensions["lti_tool"]
    launcher = Launcher(first, platform, first)
    browser_on_first = first.test_client()
    login = launcher.login(browser_on_first)
    # The load balancer sends the launch POST to the other instance, with the same cookies.
    browser_on_second = second.test_client()
    for cookie in browser_on_first._cookies.values():
        browser_on_second.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    token = platform.sign(launcher.claims("student1", login.nonce))
    response = browser_on_second.post("/lti/launch", data={"id_token": token, "state": login.state})
    assert response.status_code == 303, response.get_data(as_text=True)
    # The redirected page is served by the first instance, from the shared session store.
    for cookie in browser_on_second._cookies.values():
        browser_on_first.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    page = browser_on_first.get(response.headers["Location"])
    assert page.status_code == 200 and "Sam Student" in page.get_data(as_text=True)
    _, session_token, _ = launch_cookie(response)
    info = first.test_client().get(
        "/api/session", headers={"Authorization": f"Bearer {session_token}"}
    )
    assert info.status_code == 200 and info.get_json()["user"]["sub"] == "1001"


def test_a_launch_posted_to_both_instances_at_once_succeeds_exactly_once(
    two_instances: tuple[Flask, Flask], platform: SandboxPlatform
) -> None:
    first, second = two_instances
    launcher = Launcher(first, platform, first)
    for _ in range(5):
        browser = first.test_client()
        login = launcher.login(browser)
        token = platform.sign(launcher.claims("student1", login.nonce))
        cookies = [(c.key, c.value, c.domain) for c in browser._cookies.values()]

        def post(app: Flask) -> int:
            client = app.test_client()
            for key, value, domain in cookies:
                client.set_cookie(key, value, domain=domain)
            return client.post(
                "/lti/launch", data={"id_token": token, "state": login.state}
            ).status_code

        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = sorted(pool.map(post, [first, second, first, second]))
        assert statuses == [303, 400, 400, 400]  # one redirect to the launched page
