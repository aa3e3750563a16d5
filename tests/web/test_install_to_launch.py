"""What the issue calls done: a Moodle-like and a Canvas-like platform each register the tool
by URL (Dynamic Registration), place a checklist link and a B832 assessment link (Deep
Linking, validated by the platform), and launch them where the browser keeps no ordinary
third-party cookies: Canvas through platform storage, Moodle (no storage) through the
partitioned cookie over HTTPS."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask

from lti_tool.lti import claims as c
from lti_tool.sandbox.app import create_sandbox_app
from lti_tool.sandbox.deep_linking import RETURN_PATH
from lti_tool.sandbox.platform import SandboxPlatform
from tests.conftest import TOOL_URL
from tests.support.dynreg import Lms
from tests.support.lti import Launcher, form_fields, past_cookie_check
from tests.web.test_deep_linking import RESPOND, open_picker, returned, returns
from tests.web.test_dynamic_registration import install

_DATA = re.compile(r'data-([a-z-]+)="([^"]*)"')


def _registered_platform(app: Flask, lms: Lms, kind: str) -> SandboxPlatform:
    """Register by URL and return a platform that launches as the registration says."""
    start = lms.moodle_start() if kind == "moodle" else lms.canvas_start()
    _, done = install(app.test_client(), start)
    assert done.status_code == 200, done.get_data(as_text=True)
    fake = lms.moodle if kind == "moodle" else lms.canvas
    [registered] = fake.registered
    answer = registered.response
    deployment_id = str(
        answer.get("deployment_id")
        or answer["https://purl.imsglobal.org/spec/lti-tool-configuration"]["deployment_id"]
    )
    issuer = lms.moodle_issuer if kind == "moodle" else "https://canvas.instructure.com"
    platform = SandboxPlatform(
        issuer=issuer,
        tool_url=TOOL_URL,
        client_id=answer["client_id"],
        deployment_id=deployment_id,
    )
    # The platform's keys are served where the registration says the tool will find them.
    lms.moodle.jwks = platform.jwks()
    platform.tool_jwks_source = lambda: app.test_client().get("/.well-known/jwks.json").json
    return platform


def _place(launcher: Launcher) -> list[dict[str, Any]]:
    client = launcher.app.test_client()
    response, _ = open_picker(launcher, client)
    token = form_fields(response.get_data(as_text=True))["launch_token"]
    answer = client.post(RESPOND, data={"launch_token": token, "item": ["checklist", "B832"]})
    action, jwt_value = returned(answer.get_data(as_text=True))
    assert action == launcher.platform.issuer + RETURN_PATH
    # The platform's return endpoint checks the signed response (our JWKS, aud, claims).
    accepted = launcher.sandbox.post(RETURN_PATH, data={"JWT": jwt_value})
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    items = list(returns(launcher).placed[-1]["items"])
    assert [i["custom"] for i in items] == [
        {"view": "checklist"},
        {"view": "assessment", "module": "B832"},
    ]
    assert items[1]["lineItem"]["resourceId"] == "B832"
    return items


def _claims(launcher: Launcher, item: dict[str, Any], nonce: str) -> dict[str, Any]:
    claims = launcher.claims("student1", nonce)
    claims[c.CUSTOM] = item["custom"]
    claims[c.TARGET_LINK_URI] = item["url"]
    claims[c.RESOURCE_LINK] = {"id": "placed-" + item["custom"]["view"], "title": item["title"]}
    return claims


def _launch_with_platform_storage(launcher: Launcher, item: dict[str, Any]) -> str:
    """A browser with no cookies for the tool: the secret travels through platform storage."""
    browser = launcher.app.test_client(use_cookies=False)
    params = {
        **launcher.platform.login_params("student1"),
        "lti_storage_target": "post_message_forwarding",
    }
    login_page = browser.post("/lti/login", data=params).get_data(as_text=True)
    stored = {
        k: html.unescape(v)
        for k, v in _DATA.findall(re.search(r'<div id="storage-login"[^>]*>', login_page)[0])  # type: ignore[index]
    }
    query = {k: v[0] for k, v in parse_qs(urlsplit(stored["next"]).query).items()}
    id_token = launcher.platform.sign(_claims(launcher, item, query["nonce"]))
    relay = launcher.post_launch(
        browser, id_token, query["state"], lti_storage_target="post_message_forwarding"
    )
    fields = form_fields(relay.get_data(as_text=True))
    fields["lti_storage_secret"] = stored["value"]  # what lti.get_data hands back
    landing = browser.post("/lti/launch", data=fields)
    page = landing.get_data(as_text=True)
    assert landing.status_code == 200, page
    return page


def _launch_with_partitioned_cookie(launcher: Launcher, item: dict[str, Any]) -> str:
    browser = launcher.app.test_client()
    https = "https://localhost"  # as behind the production TLS proxy
    params = launcher.platform.login_params("student1")
    login = past_cookie_check(
        browser, browser.post("/lti/login", data=params, base_url=https), base_url=https
    )
    assert login.status_code == 302
    cookie = login.headers["Set-Cookie"]
    assert "Partitioned" in cookie and "SameSite=None" in cookie and "Secure" in cookie
    query = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    id_token = launcher.platform.sign(_claims(launcher, item, query["nonce"]))
    launched = browser.post(
        "/lti/launch", data={"id_token": id_token, "state": query["state"]}, base_url=https
    )
    assert launched.status_code == 303
    assert "Partitioned" in launched.headers["Set-Cookie"]
    # The partitioned launch cookie takes the browser to the launch's page.
    landing = browser.get(launched.headers["Location"], base_url=https)
    page = landing.get_data(as_text=True)
    assert landing.status_code == 200, page
    return page


def _done_when(app: Flask, lms: Lms, kind: str, launch: Any) -> None:
    platform = _registered_platform(app, lms, kind)
    launcher = Launcher(app, platform, create_sandbox_app(platform))
    checklist, assessment = _place(launcher)
    page = launch(launcher, checklist)
    assert "My pathway" in page and "Sam Student" in page
    page = launch(launcher, assessment)
    assert "My pathway" in page
    assert 'location.hash = "module-B832"' in page  # opens at the placed module


def test_canvas_registers_places_and_launches_through_platform_storage(
    sqlite_tool_factory: Any,
    lms: Lms,
) -> None:
    app = sqlite_tool_factory().app
    # Canvas keeps its keys on sso.canvaslms.com; here the fakes' server publishes them on the
    # configuration's own site (Dynamic Registration trusts no other).
    lms.canvas.overrides["jwks_uri"] = lms.canvas_host + "/moodle/mod/lti/certs.php"
    _done_when(app, lms, "canvas", _launch_with_platform_storage)


def test_moodle_registers_places_and_launches_with_the_partitioned_cookie(
    sqlite_tool_factory: Any,
    lms: Lms,
) -> None:
    app = sqlite_tool_factory().app
    _done_when(app, lms, "moodle", _launch_with_partitioned_cookie)
