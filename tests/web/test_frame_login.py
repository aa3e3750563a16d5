"""Logins inside an LMS frame (issue 17): the cookie check before the platform's one-time
hint is spent, its way out in a window of its own, a platform's OpenID error answer, and
refused CSRF tokens in the log."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.lti import Launcher, follow_landing, form_fields, past_cookie_check
from tests.support.pathway_web import open_tool
from tests.support.tooling import captured_logs

_WINDOW_LINK = re.compile(r'<a class="button" href="([^"]+)" target="_blank"')


def _single_use_hints(launcher: Launcher, monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform (shared between tests) answers each hint once, for this test only."""
    monkeypatch.setattr(launcher.platform, "single_use_hints", True)
    monkeypatch.setattr(launcher.platform, "spent_hints", set())


def _course_login(launcher: Launcher, user: str = "student1") -> dict[str, str]:
    """The login form the platform's course page posts to the tool (a fresh hint each time)."""
    start = launcher.sandbox.get(f"/launch/{user}?storage=none")
    assert start.status_code == 200
    return form_fields(start.get_data(as_text=True))


def _to_platform(launcher: Launcher, client: FlaskClient, redirect: TestResponse) -> TestResponse:
    """Follow the tool's redirect to the platform's authorization endpoint, then post what
    the platform answers back to the tool's launch endpoint, as the browser would."""
    assert redirect.status_code == 302, redirect.get_data(as_text=True)
    auth_url = urlsplit(redirect.headers["Location"])
    assert f"{auth_url.scheme}://{auth_url.netloc}" == launcher.platform.issuer
    auth = launcher.sandbox.get(auth_url.path + "?" + auth_url.query)
    assert auth.status_code == 200, auth.get_data(as_text=True)
    launched = client.post("/lti/launch", data=form_fields(auth.get_data(as_text=True)))
    return follow_landing(client, launched)


def test_without_platform_storage_the_cookie_is_tested_before_the_platform_is_asked(
    launcher: Launcher,
) -> None:
    client = launcher.app.test_client()
    answer = client.post("/lti/login", data=_course_login(launcher))
    # Not yet to the platform: first a round trip that shows whether the cookie comes back.
    assert answer.status_code == 303
    location = urlsplit(answer.headers["Location"])
    assert location.path == "/lti/login/continue"
    assert set(parse_qs(location.query)) == {"check"}  # the login's parameters stay here
    assert answer.headers["Set-Cookie"].startswith("lti_cookie_check=")
    assert answer.headers["Cache-Control"] == "no-store"
    redirect = past_cookie_check(client, answer)
    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith(launcher.platform.issuer + "/auth?")
    assert "lti1p3-state-" in redirect.headers["Set-Cookie"]


def test_the_check_cookie_follows_the_frame_policy_over_https(launcher: Launcher) -> None:
    answer = launcher.app.test_client().post(
        "/lti/login", data=_course_login(launcher), base_url="https://localhost"
    )
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("lti_cookie_check=")
    for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly"):
        assert attribute in cookie


def test_a_browser_that_kept_the_cookie_skips_the_round_trip_next_time(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    first = past_cookie_check(client, client.post("/lti/login", data=_course_login(launcher)))
    assert first.status_code == 302
    again = client.post("/lti/login", data=_course_login(launcher))
    assert again.status_code == 302
    assert again.headers["Location"].startswith(launcher.platform.issuer + "/auth?")


def test_a_browser_keeping_no_cookie_in_the_frame_gets_a_new_window_with_the_hint_unspent(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stock Moodle: no platform storage and a message hint that works once. The frame keeps
    no cookie; the tool finds out before the platform sees the hint, and its new window (a
    browser context that keeps cookies) starts the same login and reaches the launched page."""
    _single_use_hints(launcher, monkeypatch)
    frame = launcher.app.test_client(use_cookies=False)
    params = _course_login(launcher, "teacher1")
    answer = frame.post("/lti/login", data=params)
    assert answer.status_code == 303
    cookieless = frame.get(answer.headers["Location"])
    page = cookieless.get_data(as_text=True)
    assert cookieless.status_code == 200
    assert "third-party cookies are blocked" in page
    assert "set this link to open in a new window" in page
    assert launcher.platform.spent_hints == set()  # the platform was never asked
    match = _WINDOW_LINK.search(page)
    assert match, page
    url = urlsplit(html.unescape(match.group(1)))
    assert url.path == "/lti/login/window"
    assert {k: v[0] for k, v in parse_qs(url.query).items()} == params

    window = launcher.app.test_client()
    redirect = past_cookie_check(window, window.get(url.path, query_string=url.query))
    landing = _to_platform(launcher, window, redirect)
    assert landing.status_code == 200, landing.get_data(as_text=True)
    assert "Course settings" in landing.get_data(as_text=True)
    assert len(launcher.platform.spent_hints) == 1


def test_a_browser_keeping_no_cookie_even_at_the_top_level_is_told_what_to_do(
    launcher: Launcher,
) -> None:
    browser = launcher.app.test_client(use_cookies=False)
    query = _course_login(launcher)
    answer = browser.get("/lti/login/window", query_string=query)
    page = browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Even in a window of its own" in page
    assert "Allow cookies for this tool" in page
    assert "/lti/login/window" not in page  # no loop back to the same dead end


def test_a_check_is_used_once_and_an_invented_one_is_refused(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    answer = client.post("/lti/login", data=_course_login(launcher))
    assert past_cookie_check(client, answer).status_code == 302
    again = past_cookie_check(client, answer)
    assert again.status_code == 400
    assert "expired or was already used" in again.get_data(as_text=True)
    invented = client.get("/lti/login/continue?check=made-up")
    assert invented.status_code == 400


def test_a_login_from_an_unregistered_platform_is_refused_before_any_check(
    launcher: Launcher,
) -> None:
    params = {**_course_login(launcher), "iss": "https://unknown-lms.example"}
    answer = launcher.app.test_client().post("/lti/login", data=params)
    assert answer.status_code == 400
    assert "Set-Cookie" not in answer.headers


def test_the_state_is_still_bound_to_the_browser_that_passed_the_check(
    launcher: Launcher,
) -> None:
    """The check changes nothing about the binding: a launch posted by another browser (no
    state cookie) with this login's state is refused."""
    client = launcher.app.test_client()
    redirect = past_cookie_check(client, client.post("/lti/login", data=_course_login(launcher)))
    other = launcher.app.test_client()
    refused = _to_platform(launcher, other, redirect)
    assert refused.status_code == 403
    assert "started in another browser" in refused.get_data(as_text=True)


def test_a_platforms_openid_error_answer_is_shown_in_its_own_words(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    with captured_logs() as logs:
        answer = client.post(
            "/lti/launch",
            data={
                "error": "login_required",
                "error_description": "Your session <b>expired</b>.\nPlease log in.",
                "state": "state-whatever",
            },
        )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Your learning platform did not sign you in" in page
    assert "login_required" in page
    assert "Your session &lt;b&gt;expired&lt;/b&gt;. Please log in." in page
    assert "no id_token" not in page
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    refused = [line for line in lines if line.get("code") == "platform_error"]
    assert refused and "login_required" in refused[0]["reason"]


def test_a_long_or_odd_platform_error_is_cut_short(launcher: Launcher) -> None:
    answer = launcher.app.test_client().post(
        "/lti/launch",
        data={"error": "x y <script>", "error_description": "A" * 5000},
        headers={"Accept": "application/json"},
    )
    body = answer.get_json()["error"]
    assert body["code"] == "platform_error"
    assert "(unreadable)" in body["message"]
    assert "A" * 299 + "…" in body["message"] and "A" * 300 not in body["message"]


def test_a_reused_one_time_hint_ends_on_the_platforms_words(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a stock Moodle answers when the hint was already spent."""
    _single_use_hints(launcher, monkeypatch)
    params = _course_login(launcher)
    for attempt in (1, 2):
        client = launcher.app.test_client()
        redirect = past_cookie_check(client, client.post("/lti/login", data=params))
        answer = _to_platform(launcher, client, redirect)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "this launch was already used" in page


def test_a_refused_csrf_token_is_logged_with_its_code(launcher: Launcher) -> None:
    teacher = open_tool(launcher, "teacher1")
    with captured_logs() as logs:
        refused = teacher.client.post("/staff/module-starts", data={"B832": "2027-05-30"})
    assert refused.status_code == 400
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    assert any(line.get("code") == "csrf" and line.get("status") == 400 for line in lines)


def test_the_new_pages_keep_to_the_content_security_policy(launcher: Launcher) -> None:
    from tests.web.test_page_security import _check_page

    browser = launcher.app.test_client(use_cookies=False)
    answer = browser.post("/lti/login", data=_course_login(launcher))
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    no_cookies = browser.get(answer.headers["Location"])
    platform_error = browser.post("/lti/launch", data={"error": "login_required"})
    for response in (no_cookies, platform_error):
        assert response.mimetype == "text/html"
        _check_page(response)
