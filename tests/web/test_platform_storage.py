"""Launches in iframes that keep no cookies for the tool: LTI platform storage
(``lti_storage_target``, ``lti.put_data`` / ``lti.get_data``), the pages that then carry the
launch token, and the "open in a new window" fallback."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.lti.login import storage_key
from tests.support.lti import Launcher, form_fields, launch_token, past_cookie_check

_DATA = re.compile(r'data-([a-z-]+)="([^"]*)"')


def _data(page: str, element_id: str) -> dict[str, str]:
    match = re.search(rf'<[a-z]+ id="{element_id}"[^>]*>', page)
    assert match, f"no #{element_id} in the page"
    return {k: html.unescape(v) for k, v in _DATA.findall(match.group(0))}


@dataclass
class StorageLogin:
    state: str
    nonce: str
    key: str
    secret: str
    origin: str
    target: str


def _storage_login(
    launcher: Launcher, client: FlaskClient, user: str = "student1", target: str = "_parent"
) -> StorageLogin:
    params = {**launcher.platform.login_params(user), "lti_storage_target": target}
    response = client.post("/lti/login", data=params)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert response.headers["Cache-Control"] == "no-store"
    data = _data(page, "storage-login")
    query = {k: v[0] for k, v in parse_qs(urlsplit(data["next"]).query).items()}
    return StorageLogin(
        state=query["state"],
        nonce=query["nonce"],
        key=data["key"],
        secret=data["value"],
        origin=data["origin"],
        target=data["target"],
    )


def _launch(
    launcher: Launcher, client: FlaskClient, login: StorageLogin, user: str, **extra: str
) -> TestResponse:
    token = launcher.platform.sign(launcher.claims(user, login.nonce))
    return launcher.post_launch(client, token, login.state, **extra)


def test_login_offered_storage_keeps_the_secret_there_and_still_sets_the_cookie(
    launcher: Launcher,
) -> None:
    client = launcher.app.test_client()
    login = _storage_login(launcher, client, target="post_message_forwarding")
    assert login.key == storage_key(login.state) == "state_" + login.state
    assert login.target == "post_message_forwarding"
    # Storage messages go to the origin of the platform's OIDC authorization endpoint.
    assert login.origin == launcher.platform.issuer
    assert len(login.secret) >= 40
    cookies = {c.key: c.value for c in client._cookies.values()}
    assert cookies.get("lti1p3-" + login.state) == login.secret


def test_a_storage_target_that_is_not_a_frame_name_is_ignored(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    params = {**launcher.platform.login_params("student1"), "lti_storage_target": "x'><script>"}
    response = past_cookie_check(client, client.post("/lti/login", data=params))
    assert response.status_code == 302
    assert "<script>" not in response.get_data(as_text=True)


def test_without_the_cookie_the_launch_asks_the_page_for_the_stored_secret_first(
    launcher: Launcher,
) -> None:
    login = _storage_login(launcher, launcher.app.test_client())
    cookieless = launcher.app.test_client(use_cookies=False)
    first = _launch(launcher, cookieless, login, "student1", lti_storage_target="_parent")
    page = first.get_data(as_text=True)
    assert first.status_code == 200, page
    assert first.headers["Cache-Control"] == "no-store"
    form = _data(page, "storage-launch")
    assert form == {
        "target": "_parent",
        "origin": login.origin,
        "key": login.key,
        "field": "lti_storage_secret",
    }
    fields = form_fields(page)
    assert fields["state"] == login.state and fields["lti_storage_target"] == "_parent"
    assert fields["lti_storage_secret"] == ""
    assert "My pathway" not in page

    # The page read the secret from the platform and posts again: the state was not used up.
    fields["lti_storage_secret"] = login.secret
    second = cookieless.post("/lti/launch", data=fields)
    landing = second.get_data(as_text=True)
    assert second.status_code == 200, landing
    assert "My pathway" in landing
    token = launch_token(landing)
    info = cookieless.get("/api/session", headers={"Authorization": f"Bearer {token}"})
    assert info.status_code == 200 and info.get_json()["user"]["name"] == "Sam Student"
    # Single use, as with the cookie.
    again = cookieless.post("/lti/launch", data=fields)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_a_wrong_stored_secret_is_refused_and_offers_a_new_window(launcher: Launcher) -> None:
    login = _storage_login(launcher, launcher.app.test_client())
    cookieless = launcher.app.test_client(use_cookies=False)
    response = _launch(launcher, cookieless, login, "student1", lti_storage_secret="not-the-secret")
    page = response.get_data(as_text=True)
    assert response.status_code == 403, page
    assert "state_browser_mismatch" in page
    assert "Open the tool in a new window" in page
    # The state is spent: the right secret afterwards does not help.
    late = _launch(launcher, cookieless, login, "student1", lti_storage_secret=login.secret)
    assert late.status_code == 400


def test_the_cookie_still_wins_when_the_browser_kept_it(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = _storage_login(launcher, client)
    response = _launch(launcher, client, login, "student1", lti_storage_target="_parent")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "My pathway" in page
    # Cookie-bound pages don't put the token in their links.
    assert "launch_token=" not in page


def test_no_cookie_and_no_storage_ends_on_the_new_window_page(launcher: Launcher) -> None:
    login = launcher.login(launcher.app.test_client(), "student1")
    cookieless = launcher.app.test_client(use_cookies=False)
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    response = launcher.post_launch(cookieless, token, login.state)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    match = re.search(r'<a class="button" href="([^"]+)" target="_blank"', page)
    assert match, page
    url = urlsplit(html.unescape(match.group(1)))
    assert url.path == "/lti/login/window"
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params == launcher.platform.login_params("student1")
    # In a window of its own the login starts afresh and reaches the platform.
    window = launcher.app.test_client()
    restart = past_cookie_check(window, window.get(url.path, query_string=params))
    assert restart.status_code == 302
    assert restart.headers["Location"].startswith(launcher.platform.issuer + "/auth?")
    # JSON callers get the same fallback.
    login = launcher.login(launcher.app.test_client(), "student1")
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    answer = cookieless.post(
        "/lti/launch",
        data={"id_token": token, "state": login.state},
        headers={"Accept": "application/json"},
    ).get_json()
    assert answer["error"]["new_window_url"].startswith("http")


def _cookieless_staff_launch(launcher: Launcher) -> tuple[FlaskClient, str]:
    login = _storage_login(launcher, launcher.app.test_client(), user="teacher1")
    cookieless = launcher.app.test_client(use_cookies=False)
    fields = form_fields(_launch(launcher, cookieless, login, "teacher1").get_data(as_text=True))
    fields["lti_storage_secret"] = login.secret
    landing = cookieless.post("/lti/launch", data=fields)
    page = landing.get_data(as_text=True)
    assert landing.status_code == 200 and "Course settings" in page, page
    # From here on the browser follows the tool's own links and forms, as Chromium says.
    cookieless.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    return cookieless, page


def test_pages_carry_the_launch_token_when_no_cookie_comes_back(launcher: Launcher) -> None:
    client, page = _cookieless_staff_launch(launcher)
    token = launch_token(page)
    link = re.search(r'href="(/staff/class/[^"]*)"', page)
    assert link, page
    assert f"launch_token={token}" in html.unescape(link.group(1))
    # Following the link works without any cookie, and its page carries the token on.
    class_page = client.get(html.unescape(link.group(1)))
    text = class_page.get_data(as_text=True)
    assert class_page.status_code == 200, text
    assert f'name="launch_token" value="{token}"' in text  # the GET filter form
    assert f'<meta name="lti-launch-token" content="{token}">' in text
    # Without the token the same page is refused: nothing else authenticates this browser.
    assert client.get("/staff/class/").status_code == 401


def test_forms_work_without_cookies_csrf_and_messages_included(launcher: Launcher) -> None:
    client, page = _cookieless_staff_launch(launcher)
    action = re.search(r'<form method="post" action="(/staff/module-starts[^"]*)"', page)
    assert action, page
    url = html.unescape(action.group(1))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    # Without the CSRF token the POST is refused even though the launch token is valid.
    refused = client.post(url, data={"B832": "2027-05-30"})
    assert refused.status_code == 400
    saved = client.post(url, data={"csrf_token": csrf.group(1), "B832": "2027-05-30"})
    assert saved.status_code == 302
    location = saved.headers["Location"]
    assert "launch_token=" in location
    after = client.get(location).get_data(as_text=True)
    assert "Start dates saved." in after
    assert 'value="2027-05-30"' in after


def test_a_page_token_is_never_topped_up_by_a_cookie(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response = launcher.through_sandbox(client, "teacher1")
    assert response.status_code == 200
    assert client.get("/staff/").status_code == 200  # the cookie works
    # A forged token in the URL does not fall back to the (valid) cookie.
    same_origin = {"Sec-Fetch-Site": "same-origin"}
    assert client.get("/staff/?launch_token=forged", headers=same_origin).status_code == 401
    assert client.get("/staff/?launch_token=forged").status_code == 403


def test_a_forged_page_token_makes_the_tool_write_nothing(launcher: Launcher) -> None:
    from lti_tool.web.launch_token import _hash

    client = launcher.app.test_client(use_cookies=False)
    # The admin sign-in form puts a CSRF token in the session it is given.
    for headers in ({"Sec-Fetch-Site": "same-origin"}, {}):
        assert (
            client.get("/admin/login?launch_token=forged-token", headers=headers).status_code == 200
        )
    store = launcher.app.extensions["lti_tool"].store
    assert store.get("flask_session", _hash("forged-token")) is None


def test_a_stored_secret_posted_by_another_site_is_refused(launcher: Launcher) -> None:
    login = _storage_login(launcher, launcher.app.test_client())
    victim = launcher.app.test_client(use_cookies=False)
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    # The attacker's own complete launch, auto-posted into the victim's browser from elsewhere.
    response = victim.post(
        "/lti/launch",
        data={"id_token": token, "state": login.state, "lti_storage_secret": login.secret},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert "storage_secret_cross_site" in response.get_data(as_text=True)


def test_page_tokens_from_other_sites_are_not_honoured(launcher: Launcher) -> None:
    client, page = _cookieless_staff_launch(launcher)
    token = launch_token(page)
    url = f"/staff/class/?launch_token={token}"
    assert client.get(url, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    for refused in ("cross-site", "same-site", "none"):
        answer = client.get(url, headers={"Sec-Fetch-Site": refused})
        assert answer.status_code == 403, refused
        assert "launch_token_not_from_tool" in answer.get_data(as_text=True)
