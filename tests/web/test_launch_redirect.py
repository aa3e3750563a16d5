"""Post/redirect/get: a launch answers with a 303 to its GET page, so a reload (or a phone's
pull to refresh) shows the page again instead of posting the spent id_token once more."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from lti_tool.lti import claims as c
from lti_tool.lti.sessions import session_cookie_name
from tests.support.lti import REMOVE, Launcher, page_binding
from tests.support.privacy import privacy_launch

ASSESSMENT = {"view": "assessment", "module": "B832"}
FOCUS = 'location.hash = "module-B832"'


def _launch_post(
    launcher: Launcher, client: FlaskClient, user: str, changes: dict[str, Any] | None = None
) -> tuple[TestResponse, dict[str, Any]]:
    """The platform's launch POST alone (no redirect followed), and its signed form."""
    login = launcher.login(client, user)
    claims = launcher.claims(user, login.nonce)
    for name, value in (changes or {}).items():
        if value is REMOVE:
            claims.pop(name, None)
        else:
            claims[name] = value
    form = {"id_token": launcher.platform.sign(claims), "state": login.state}
    return client.post("/lti/launch", data=form), form


def _location(response: TestResponse) -> tuple[str, dict[str, list[str]]]:
    target = urlsplit(response.headers["Location"])
    return target.path, parse_qs(target.query)


def test_a_student_launch_redirects_to_the_checklist_and_a_reload_shows_it_again(
    launcher: Launcher,
) -> None:
    client = launcher.app.test_client()
    launched, form = _launch_post(launcher, client, "student1")
    assert launched.status_code == 303
    assert launched.headers["Cache-Control"] == "no-store"
    path, query = _location(launched)
    assert path == "/me" and set(query) == {"lti_binding"}
    [binding] = query["lti_binding"]
    cookie = next(
        line
        for line in launched.headers.getlist("Set-Cookie")
        if line.startswith(session_cookie_name(binding) + "=")
    )
    assert "HttpOnly" in cookie
    for _ in range(2):  # the landing, then a reload of it
        page = client.get(launched.headers["Location"])
        text = page.get_data(as_text=True)
        assert page.status_code == 200, text
        assert page.headers["Cache-Control"] == "no-store"
        assert "<h1>My pathway</h1>" in text and "Sam Student" in text
        assert page_binding(text) == binding
        assert FOCUS not in text
    # The launch's POST sent again (what a reload of the old page did): the nonce is spent.
    replay = client.post("/lti/launch", data=form)
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)


def test_a_placed_assessment_link_lands_at_its_module(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    launched, _ = _launch_post(launcher, client, "student1", {c.CUSTOM: ASSESSMENT})
    path, query = _location(launched)
    assert path == "/me" and query["module"] == ["B832"]
    for _ in range(2):
        page = client.get(launched.headers["Location"]).get_data(as_text=True)
        assert FOCUS in page
    # Only a module of the qualification is focused (the value lands in a script).
    binding = query["lti_binding"][0]
    other = client.get("/me", query_string={"lti_binding": binding, "module": 'X"; alert(1)'})
    assert other.status_code == 200
    assert "location.hash" not in other.get_data(as_text=True)


def test_staff_land_on_the_class_overview(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    launched, _ = _launch_post(launcher, client, "teacher1", {c.CUSTOM: ASSESSMENT})
    assert launched.status_code == 303
    path, query = _location(launched)
    assert path == "/staff/" and query["module"] == ["B832"]
    for _ in range(2):
        page = client.get(launched.headers["Location"])
        assert page.status_code == 200
        assert page.headers["Cache-Control"] == "no-store"
        assert "Course settings" in page.get_data(as_text=True)


def test_staff_outside_a_course_land_on_what_the_launch_granted(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    outside = {c.CONTEXT: REMOVE, c.NRPS: REMOVE, c.AGS: REMOVE}
    launched, _ = _launch_post(launcher, client, "teacher1", outside)
    path, _ = _location(launched)
    assert path == "/launched"
    for _ in range(2):
        page = client.get(launched.headers["Location"])
        text = page.get_data(as_text=True)
        assert page.status_code == 200, text
        assert page.headers["Cache-Control"] == "no-store"
        assert "none (launched outside a course)" in text and "Tess Teacher" in text
        assert "lti-launch-token" not in text  # the cookie-bound page shows no token


def test_a_data_privacy_launch_renders_and_its_reload_is_its_get_page(
    launcher: Launcher,
) -> None:
    client, landing = privacy_launch(launcher, "student1")
    text = landing.get_data(as_text=True)
    assert landing.status_code == 200 and "Your data in this tool" in text
    binding = page_binding(text)
    # The page's script replaces the POST's address with the privacy page's own.
    assert f'"/privacy/?lti_binding={binding}"' in text
    again = client.get("/privacy/", query_string={"lti_binding": binding})
    assert again.status_code == 200
    assert "Your data in this tool" in again.get_data(as_text=True)


def test_a_page_reloaded_without_its_launch_says_to_open_the_tool_again(
    launcher: Launcher,
) -> None:
    """What a reload of a page reached through platform storage (no cookie) gets before its
    script finds the history entry's token; a token in the address from another site is
    never used, and the page does not repeat it."""
    browser = launcher.app.test_client(use_cookies=False)
    page = browser.get("/me", query_string={"lti_binding": "someLaunch1"})
    text = page.get_data(as_text=True)
    assert page.status_code == 401
    assert "Open the tool again from your course" in text
    assert "history.state" in text and "location.replace" in text
    planted = browser.get(
        "/me",
        query_string={"lti_binding": "someLaunch1", "launch_token": "planted-token"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert planted.status_code == 403
    assert "planted-token" not in planted.get_data(as_text=True)
    assert "Open the tool again from your course" in planted.get_data(as_text=True)
    # The API keeps its JSON answer.
    api = browser.get("/api/me/checklist", headers={"X-LTI-Binding": "someLaunch1"})
    assert api.status_code == 401 and api.get_json()["error"]["code"] == "no_session"
