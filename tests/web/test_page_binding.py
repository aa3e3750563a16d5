"""Every page and form acts on its own launch (issue 10, items 5 and 12).

One browser, two courses: a tutor has course A (the sandbox's spring course) open, launches
course B (``autumn``) in another tab, then submits A's form. Before page binding the browser
held one session cookie, the last launch's, so A's form changed course B. Also: a
``launch_token`` in a URL planted on another site must not put a browser into a session it
did not launch.
"""

from __future__ import annotations

import html
import re
from typing import Any

from flask.testing import FlaskClient

from lti_tool.web.page_binding import MAX_BINDINGS
from tests.support.grade_sync import make_eligible
from tests.support.lti import Launcher, launch_token, page_binding, without_binding
from tests.support.pathway_web import csrf_token

MISMATCH = "This page belongs to another course or an older launch."
_BINDING = re.compile(r'<meta name="lti-binding" content="([^"]+)">')


class Tab:
    """One page of the tool in the tutor's browser (all tabs share the browser's cookies)."""

    def __init__(self, client: FlaskClient, page: str, token: str) -> None:
        self.client = client
        self.page = page
        self.token = token  # what the page's scripts send as Bearer
        found = _BINDING.search(page)
        self.binding = found.group(1) if found else ""  # "" on pages that name no launch

    def form_action(self, path: str) -> str:
        """The action of this page's POST form to ``path``, as the page wrote it."""
        pattern = rf'<form method="post" action="({re.escape(path)}[^"]*)"'
        match = re.search(pattern, self.page)
        assert match, f"no form to {path} on the page"
        return html.unescape(match.group(1))

    def submit(self, path: str, data: dict[str, str]) -> Any:
        """Press the form's button: what the browser sends, and nothing else (no header)."""
        fields = {"csrf_token": csrf_token(self.page), **data}
        return self.client.post(self.form_action(path), data=fields, headers=_PLAIN_FORM)

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """This page's script calling the API with its own launch token."""
        reader = self.client.application.test_client()
        headers = {"Authorization": f"Bearer {self.token}"}
        return reader.open(path, method=method, headers=headers, **kwargs)


# A form post carries no X-LTI-Binding header; the test client's default one (the launch it
# followed last) is overridden with an empty value, which names nothing.
_PLAIN_FORM = {"X-LTI-Binding": ""}


def _browser(launcher: Launcher) -> FlaskClient:
    return launcher.app.test_client()


def _open(launcher: Launcher, client: FlaskClient, course: str, path: str = "/staff/") -> Tab:
    """Launch ``course`` in this browser, then follow the landing page's link to ``path``."""
    landing = launcher.launch(client, "teacher1", course=course)
    text = landing.get_data(as_text=True)
    assert landing.status_code == 200, text
    if path != "/staff/":
        links = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', text)]
        [link] = [h for h in links if h == path or h.startswith(path + "?")]
        page = client.get(link, headers=_PLAIN_FORM)  # a plain link: no header either
        assert page.status_code == 200, page.get_data(as_text=True)
        text = page.get_data(as_text=True)
    return Tab(client, text, launch_token(landing.get_data(as_text=True)))


def _cohort_dates(tab: Tab) -> dict[str, str | None]:
    body = tab.api("GET", "/api/context/module-starts").get_json()
    return {m["code"]: m["start_date"] for m in body["modules"]}


def _held_result(launcher: Launcher, tab: Tab, course: str) -> None:
    """A held B832 result for student 1001 in ``tab``'s course."""
    student = launcher.app.test_client()
    assert launcher.launch(student, "student1", course=course).status_code == 200
    make_eligible(launcher, "1001")
    saved = tab.api(
        "PUT",
        "/api/context/results/B832/1001",
        json={"score": 65, "outcome": "pass", "released": False},
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)


def _sync_status(tab: Tab) -> str | None:
    students = {s["sub"]: s for s in tab.api("GET", "/api/context/students").get_json()}
    b832 = next(m for m in students["1001"]["modules"] if m["code"] == "B832")
    return (b832["result"] or {}).get("sync", {}).get("status")


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 409, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert code in text and "Open the tool again from your course." in text


def test_the_two_courses_are_different_contexts(launcher: Launcher) -> None:
    browser = _browser(launcher)
    spring, autumn = _open(launcher, browser, "spring"), _open(launcher, browser, "autumn")
    assert spring.binding and autumn.binding and spring.binding != autumn.binding
    assert page_binding(spring.page) == spring.binding
    assert "Postgraduate Certificate in Clinical Leadership (autumn intake)" in autumn.page
    assert "(autumn intake)" not in spring.page


def test_course_a_form_after_launching_course_b_changes_course_a_only(
    launcher: Launcher,
) -> None:
    browser = _browser(launcher)
    course_a = _open(launcher, browser, "spring")
    course_b = _open(launcher, browser, "autumn")  # the last launch in this browser
    saved = course_a.submit("/staff/module-starts", {"B832": "2027-05-30", "B833": ""})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert _cohort_dates(course_b) == {"B832": None, "B833": None}
    assert _cohort_dates(course_a)["B832"] == "2027-05-30"
    assert without_binding(saved.headers["Location"]) == "/staff/"
    # And the other way round: B's form still acts on B.
    assert course_b.submit("/staff/module-starts", {"B833": "2027-11-30"}).status_code == 302
    assert _cohort_dates(course_b) == {"B832": None, "B833": "2027-11-30"}
    assert _cohort_dates(course_a) == {"B832": "2027-05-30", "B833": None}


def test_course_a_release_after_launching_course_b_never_releases_course_b(
    launcher: Launcher,
) -> None:
    browser = _browser(launcher)
    course_a = _open(launcher, browser, "spring", "/staff/class/")
    course_b = _open(launcher, browser, "autumn", "/staff/class/")
    _held_result(launcher, course_b, "autumn")
    assert _sync_status(course_b) == "held"
    pressed = course_a.submit("/staff/class/release", {"confirmed": "1"})
    assert pressed.status_code == 302, pressed.get_data(as_text=True)
    assert _sync_status(course_b) == "held"  # course B's held result stays held


def test_a_form_naming_no_launch_is_refused_and_changes_nothing(launcher: Launcher) -> None:
    browser = _browser(launcher)
    course_a = _open(launcher, browser, "spring", "/staff/class/")
    course_b = _open(launcher, browser, "autumn", "/staff/class/")
    _held_result(launcher, course_b, "autumn")
    data = {"csrf_token": csrf_token(course_a.page)}
    # A's form as pages were before binding: the action names no launch.
    released = browser.post("/staff/class/release", data=data, headers=_PLAIN_FORM)
    _refused(released, "launch_not_named")
    assert _sync_status(course_b) == "held"
    starts = browser.post(
        "/staff/module-starts", data={**data, "B832": "2027-05-30"}, headers=_PLAIN_FORM
    )
    _refused(starts, "launch_not_named")
    assert _cohort_dates(course_a)["B832"] is None and _cohort_dates(course_b)["B832"] is None
    # JSON callers get the same refusal with a code and a correlation id.
    answer = browser.get("/api/context/students", headers={"X-LTI-Binding": ""})
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert error["code"] == "launch_not_named" and error["correlation_id"]


def test_a_page_of_a_launch_this_browser_does_not_hold_is_refused(launcher: Launcher) -> None:
    browser = _browser(launcher)
    course_a = _open(launcher, browser, "spring")
    elsewhere = _browser(launcher)
    other = _open(launcher, elsewhere, "autumn")  # the same tutor, another browser
    # Course B's page (from the other browser) submitted in this one: its launch is not here.
    moved = browser.post(
        other.form_action("/staff/module-starts"),
        data={"csrf_token": csrf_token(course_a.page), "B832": "2027-05-30"},
        headers=_PLAIN_FORM,
    )
    _refused(moved, "launch_mismatch")
    assert MISMATCH in moved.get_data(as_text=True)
    assert _cohort_dates(course_a)["B832"] is None and _cohort_dates(other)["B832"] is None


def test_an_api_call_naming_another_launch_is_refused(launcher: Launcher) -> None:
    browser = _browser(launcher)
    course_a = _open(launcher, browser, "spring")
    course_b = _open(launcher, browser, "autumn")
    # A's token with B's binding: the two do not agree, so neither is used.
    crossed = browser.put(
        "/api/context/module-starts",
        json={"B832": "2027-05-30"},
        headers={"Authorization": f"Bearer {course_a.token}", "X-LTI-Binding": course_b.binding},
    )
    assert crossed.status_code == 409
    assert crossed.get_json()["error"]["code"] == "launch_mismatch"
    # The cookie path with a binding this browser never held.
    token = csrf_token(course_a.page)
    unknown = browser.put(
        "/api/context/module-starts",
        json={"B832": "2027-05-30"},
        headers={"X-LTI-Binding": "NotALaunchOfMine", "X-CSRFToken": token},
    )
    assert unknown.status_code == 409
    assert unknown.get_json()["error"]["code"] == "launch_mismatch"
    assert _cohort_dates(course_a)["B832"] is None and _cohort_dates(course_b)["B832"] is None
    # Named rightly, the same cookie-authenticated call acts on the course it names.
    named = browser.put(
        "/api/context/module-starts",
        json={"B832": "2027-05-30"},
        headers={"X-LTI-Binding": course_a.binding, "X-CSRFToken": token},
    )
    assert named.status_code == 200, named.get_data(as_text=True)
    assert _cohort_dates(course_a)["B832"] == "2027-05-30"
    assert _cohort_dates(course_b)["B832"] is None


def test_pages_name_their_launch_in_every_link_and_form(launcher: Launcher) -> None:
    browser = _browser(launcher)
    tab = _open(launcher, browser, "spring", "/staff/class/")
    assert f'<meta name="lti-binding" content="{tab.binding}">' in tab.page
    actions = re.findall(r'<form method="post" action="([^"]+)"', tab.page)
    links = [h for h in re.findall(r'href="(/[^"]*)"', tab.page)]
    assert actions and links
    for url in actions + links:
        assert f"lti_binding={tab.binding}" in html.unescape(url), url
    # The GET filter form keeps it in a hidden field (the browser drops the action's query).
    assert f'<input type="hidden" name="lti_binding" value="{tab.binding}">' in tab.page


def test_older_launches_beyond_the_limit_are_dropped_and_refused(launcher: Launcher) -> None:
    browser = _browser(launcher)
    oldest = _open(launcher, browser, "spring")
    for _ in range(MAX_BINDINGS):
        _open(launcher, browser, "autumn")
    held = [c.key for c in browser._cookies.values() if c.key.startswith("lti_tool_session_")]
    # The newest launch plus MAX_BINDINGS - 1 older ones; the first launch's was dropped.
    assert len(held) == MAX_BINDINGS
    late = oldest.submit("/staff/module-starts", {"B832": "2027-05-30"})
    _refused(late, "launch_mismatch")
    assert _cohort_dates(oldest)["B832"] is None


def test_the_old_single_cookie_is_dropped_and_never_read(launcher: Launcher) -> None:
    old = _browser(launcher)
    landing = launcher.launch(old, "teacher1")
    token = launch_token(landing.get_data(as_text=True))
    fresh = _browser(launcher)
    fresh.set_cookie("lti_tool_session", token)
    assert fresh.get("/staff/", headers={"X-LTI-Binding": ""}).status_code == 401
    relaunch = launcher.launch(fresh, "teacher1")
    cookies = relaunch.launch_post.headers.getlist("Set-Cookie")  # type: ignore[attr-defined]
    assert any(c.startswith("lti_tool_session=;") for c in cookies), cookies


# --- item 12: a launch token in a URL only from the tool's own pages -----------------------


def test_a_launch_token_from_another_site_is_refused(launcher: Launcher) -> None:
    attacker = _browser(launcher)
    token = launch_token(launcher.launch(attacker, "teacher1").get_data(as_text=True))
    victim = launcher.app.test_client(use_cookies=False)
    url = f"/staff/?launch_token={token}"
    for headers in (
        {},  # no Fetch Metadata, no Origin, no Referer: a link from nowhere
        {"Referer": "https://attacker.example/page"},
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Referer": "http://localhost/staff/"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},  # typed or pasted into the address bar
    ):
        answer = victim.get(url, headers=headers)
        assert answer.status_code == 403, headers
        assert "launch_token_not_from_tool" in answer.get_data(as_text=True), headers
        assert "Course settings" not in answer.get_data(as_text=True)
    # A form planted elsewhere, posting the token as a field, is refused the same way.
    posted = victim.post(
        "/staff/module-starts",
        data={"launch_token": token, "B832": "2027-05-30"},
        headers={"Origin": "https://attacker.example"},
    )
    assert posted.status_code in (400, 403)  # CSRF or the token check: never applied
    reader = launcher.app.test_client()
    starts = reader.get("/api/context/module-starts", headers={"Authorization": f"Bearer {token}"})
    assert {m["start_date"] for m in starts.get_json()["modules"]} == {None}
    # The tool's own pages (Fetch Metadata, or the tool's Origin/Referer without it) work.
    for headers in (
        {"Sec-Fetch-Site": "same-origin"},
        {"Referer": "http://localhost/staff/class/"},
        {"Origin": "http://localhost"},
    ):
        assert victim.get(url, headers=headers).status_code == 200, headers
