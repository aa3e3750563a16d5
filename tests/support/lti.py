"""Drive real LTI launches: the tool through its Flask test client, the sandbox platform
through its own test client and a loopback server (for the JWKS the tool fetches)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.lti.sessions import SESSION_COOKIE_PREFIX
from lti_tool.sandbox.platform import PlatformKey, SandboxPlatform

_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_META_TOKEN = re.compile(r'<meta name="lti-launch-token" content="([^"]+)">')
_META_BINDING = re.compile(r'<meta name="lti-binding" content="([^"]+)">')
REMOVE = object()


def form_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in _FIELD.findall(page)}


# Tokens of cookie-bound launches by binding id, as their cookies held them (post_launch).
_COOKIE_TOKENS: dict[str, str] = {}


def launch_token(page: str) -> str:
    """The launch token of the launch ``page`` belongs to: its ``lti-launch-token`` meta tag
    (pages that carry the token: platform storage, deep linking), else the token the launch's
    cookie holds (a cookie-bound launch redirects to its page, which shows no token)."""
    match = _META_TOKEN.search(page)
    if match:
        return match.group(1)
    binding = _META_BINDING.search(page)
    assert binding and binding.group(1) in _COOKIE_TOKENS, "page of no launch made here"
    return _COOKIE_TOKENS[binding.group(1)]


def launch_cookie(response: TestResponse) -> tuple[str, str, str]:
    """The binding id, token and full ``Set-Cookie`` line of the launch cookie a launch set."""
    for line in response.headers.getlist("Set-Cookie"):
        name, _, rest = line.partition("=")
        if name.startswith(SESSION_COOKIE_PREFIX) and not rest.startswith(";"):
            return name[len(SESSION_COOKIE_PREFIX) :], rest.partition(";")[0], line
    raise AssertionError("the launch set no launch cookie")


def follow_landing(client: FlaskClient, response: TestResponse) -> TestResponse:
    """A launch answered with a 303 to its page (post/redirect/get): record the launch's
    token (``launch_token``) and GET the page as the browser does; the page's response gets
    the launch's own as ``launch_post``. Any other answer is returned as it is."""
    if response.status_code != 303:
        return response
    binding, token, _ = launch_cookie(response)
    _COOKIE_TOKENS[binding] = token
    target = urlsplit(response.headers["Location"])
    assert parse_qs(target.query).get("lti_binding") == [binding], target
    page = client.get(target.path, query_string=target.query, headers={"X-LTI-Binding": binding})
    page.launch_post = response  # type: ignore[attr-defined]
    return page


def past_cookie_check(client: FlaskClient, response: TestResponse, **kwargs: Any) -> TestResponse:
    """A login answered with the tool's cookie check (a 303 to ``/lti/login/continue`` that
    sets a test cookie): follow it as a browser that keeps the cookie does. ``kwargs`` go to
    the request (``base_url``, ``headers``). Any other answer is returned as it is."""
    location = response.headers.get("Location", "")
    if response.status_code != 303 or "/lti/login/continue" not in location:
        return response
    target = urlsplit(location)
    return client.get(target.path, query_string=target.query, **kwargs)


def page_binding(page: str) -> str:
    """The launch a page belongs to (its ``lti-binding`` meta tag)."""
    match = _META_BINDING.search(page)
    assert match, "page carries no lti-binding meta tag"
    return match.group(1)


def follow_binding(client: FlaskClient, response: TestResponse) -> None:
    """From now on ``client`` names the launch ``response`` landed on, as the landing page's
    own script would (the ``X-LTI-Binding`` header): tests then act in that launch's course.
    A launch that was refused leaves the client as it was."""
    match = _META_BINDING.search(response.get_data(as_text=True))
    if response.status_code == 200 and match:
        client.environ_base["HTTP_X_LTI_BINDING"] = match.group(1)


def without_binding(url: str) -> str:
    """``url`` of one of the tool's links or redirects, minus the ``lti_binding`` it must
    carry (the launch the page belongs to)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert len(query.pop("lti_binding", [])) == 1, f"{url} names no launch"
    rest = urlencode(query, doseq=True)
    return parts.path + (f"?{rest}" if rest else "")


@dataclass
class Login:
    state: str
    nonce: str
    redirect: str
    params: dict[str, str]


class Launcher:
    def __init__(self, app: Flask, platform: SandboxPlatform, sandbox_app: Flask) -> None:
        self.app = app
        self.platform = platform
        self.sandbox = sandbox_app.test_client()

    def login(
        self,
        client: FlaskClient,
        user: str = "student1",
        method: str = "POST",
        path: str = "/lti/login",
        **overrides: Any,
    ) -> Login:
        params = self.platform.login_params(user)
        for key, value in overrides.items():
            if value is REMOVE:
                params.pop(key, None)
            else:
                params[key] = value
        if method == "POST":
            response = client.post(path, data=params)
        else:
            response = client.get(path, query_string=params)
        response = past_cookie_check(client, response)
        assert response.status_code == 302, (response.status_code, response.get_data(as_text=True))
        location = response.headers["Location"]
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        return Login(state=query["state"], nonce=query["nonce"], redirect=location, params=query)

    def claims(self, user: str, nonce: str, course: str = "spring") -> dict[str, Any]:
        return self.platform.launch_claims(user, nonce, course=course)

    def post_launch(
        self, client: FlaskClient, id_token: str, state: str, **extra: str
    ) -> TestResponse:
        """The platform's launch POST, its redirect followed to the page it lands on
        (``follow_landing``); the client then follows the launch it landed on
        (``follow_binding``)."""
        response = client.post("/lti/launch", data={"id_token": id_token, "state": state, **extra})
        response = follow_landing(client, response)
        follow_binding(client, response)
        return response

    def launch(
        self,
        client: FlaskClient,
        user: str = "student1",
        *,
        changes: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        key: PlatformKey | None = None,
        algorithm: str = "RS256",
        course: str = "spring",
    ) -> TestResponse:
        """Login, then a launch signed by the platform with ``changes`` applied to the claims
        (a value of REMOVE deletes the claim); ``course="autumn"`` is the sandbox's second
        course."""
        login = self.login(client, user)
        claims = self.claims(user, login.nonce, course)
        for name, value in (changes or {}).items():
            if value is REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value
        token = self.platform.sign(claims, key=key, headers=headers, algorithm=algorithm)
        return self.post_launch(client, token, login.state)

    def through_sandbox(self, client: FlaskClient, user: str = "student1") -> TestResponse:
        """The whole browser journey: platform login form, tool login, platform auth, launch."""
        start = self.sandbox.get(f"/launch/{user}")
        assert start.status_code == 200
        fields = form_fields(start.get_data(as_text=True))
        login = past_cookie_check(client, client.post("/lti/login", data=fields))
        assert login.status_code == 302, login.get_data(as_text=True)
        auth_url = urlsplit(login.headers["Location"])
        auth = self.sandbox.get(auth_url.path + "?" + auth_url.query)
        assert auth.status_code == 200, auth.get_data(as_text=True)
        form = form_fields(auth.get_data(as_text=True))
        return self.post_launch(client, form["id_token"], form["state"])


def staff_launch(launcher: Launcher) -> tuple[FlaskClient, dict[str, str]]:
    """A tutor's launch (``teacher1``): the client and the headers of its API calls."""
    client = launcher.app.test_client()
    token = launch_token(launcher.launch(client, "teacher1").get_data(as_text=True))
    return client, {"Authorization": f"Bearer {token}"}
