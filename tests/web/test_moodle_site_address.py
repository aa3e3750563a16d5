"""Both front doors to a Moodle completion source (the admin page and ``lti-tool platform
set-completion --moodle-url``) take the site's address, as the tool's own hints ask, and keep
the ``…/webservice/rest/server.php`` endpoint; another page of the site is refused."""

from __future__ import annotations

from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.completion.setup import source_settings
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from tests.support.lti import Launcher
from tests.web.test_admin_access import sandbox_pk, tool_admin
from tests.web.test_cli_audit import cli


def _saved_endpoint(app: Flask) -> str | None:
    services = app.extensions["lti_tool"]
    with services.db.read_only() as session:
        saved = source_settings(session, services.secrets, sandbox_pk(app))
    return None if saved is None else saved.endpoint_url


def _send_site_address(launcher: Launcher, address: str) -> tuple[FlaskClient, TestResponse, str]:
    """A tool admin sends the sandbox's completion-source form with ``address`` as Moodle's:
    the admin's client, the answer and the form's CSRF token."""
    app = launcher.app
    client = tool_admin(app)
    path = f"/admin/registrations/{sandbox_pk(app)}/source"
    form = client.get(path).get_data(as_text=True)
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "kind": "moodle",
            "endpoint_url": address,
            "token": "ws-token",
            "mode": "course",
        },
    )
    return client, response, token


def _set_completion(launcher: Launcher, address: str, check: bool = True) -> Result:
    """``lti-tool platform set-completion sandbox --moodle-url address``."""
    run = cli(launcher.app)
    result: Result = run(
        "platform", "set-completion", "sandbox", "--moodle-url", address,
        "--moodle-token", SANDBOX_TOKEN, check=check,
    )  # fmt: skip
    return result


def test_the_admin_page_takes_the_site_address(launcher: Launcher) -> None:
    app = launcher.app
    client, staged, token = _send_site_address(launcher, launcher.platform.issuer + "/moodle/")
    assert staged.status_code == 302, staged.get_data(as_text=True)
    confirm = client.get(staged.headers["Location"]).get_data(as_text=True)
    endpoint = launcher.platform.issuer + "/moodle/webservice/rest/server.php"
    assert endpoint in confirm  # the admin confirms what will be called
    client.post(staged.headers["Location"], data={"csrf_token": token})
    assert _saved_endpoint(app) == endpoint


def test_the_admin_page_refuses_another_page_of_the_site(launcher: Launcher) -> None:
    app = launcher.app
    _, refused, _ = _send_site_address(launcher, launcher.platform.issuer + "/login/index.php")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "is a page of the site, not its address" in page and "ws-token" not in page
    assert _saved_endpoint(app) is None


def test_the_command_line_takes_the_site_address(launcher: Launcher) -> None:
    app = launcher.app
    site = launcher.platform.issuer + "/moodle/"
    result = _set_completion(launcher, site)
    assert result.exit_code == 0, result.output
    assert "checked: " in result.output  # the site answered at the endpoint
    assert _saved_endpoint(app) == launcher.platform.issuer + "/moodle/webservice/rest/server.php"


def test_the_command_line_refuses_another_page_of_the_site(launcher: Launcher) -> None:
    result = _set_completion(
        launcher, launcher.platform.issuer + "/moodle/login/index.php", check=False
    )
    assert result.exit_code != 0
    assert "is a page of the site, not its address" in result.output
    assert _saved_endpoint(launcher.app) is None
