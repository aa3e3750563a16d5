"""The student's page: what to do next first, outstanding courses before the completed ones
(folded away), each course linked to where it is done in the LMS, and released results in
full while a held one says only that it is held, on the page and in the student's JSON."""

from __future__ import annotations

import datetime as dt
import json

from lti_tool.completion.setup import configure_source, set_mapping
from lti_tool.sandbox import SANDBOX_REGISTRATION
from tests.support.grade_sync import B832_CODES, complete_courses
from tests.support.lti import Launcher, staff_launch
from tests.support.pathway_web import Node, add_completions, open_tool, parse_html

COMMENT = "Good reflection.\nWork on <b>evidence</b> & references."


def _source(launcher: Launcher, kind: str, endpoint: str | None, mapped: dict[str, str]) -> None:
    services = launcher.app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        configure_source(
            session,
            services.secrets,
            SANDBOX_REGISTRATION,
            kind=kind,
            endpoint_url=endpoint,
            token="t0ken" if kind in {"moodle", "canvas"} else None,
            mode="course",
            development=True,
        )
        for code, course_id in mapped.items():
            set_mapping(session, SANDBOX_REGISTRATION, code, course_id)


def _record_result(launcher: Launcher, released: bool) -> None:
    client, headers = staff_launch(launcher)
    complete_courses(launcher.app, ["1001"], B832_CODES)
    response = client.put(
        "/api/context/results/B832/1001",
        json={
            "score": 68.0,
            "max": 100,
            "outcome": "pass",
            "comment": COMMENT,
            "released": released,
        },
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def _module(page: str, code: str) -> Node:
    root = parse_html(page)
    return next(
        s for s in root.find_all("section", cls="module") if s.find("h2").attrs["id"].endswith(code)
    )


def test_each_mapped_course_links_to_the_lms_in_a_new_tab(launcher: Launcher) -> None:
    student = open_tool(launcher)
    issuer = launcher.platform.issuer
    _source(launcher, "moodle", issuer + "/moodle/webservice/rest/server.php", {"GB080": "3"})
    page = student.client.get("/me").get_data(as_text=True)
    links = [a for a in parse_html(page).find_all("a", cls="lms-link")]
    assert len(links) == 1  # GB080 only: the unmapped courses have none
    link = links[0]
    assert link.attrs["href"] == issuer + "/moodle/course/view.php?id=3"
    assert link.attrs["target"] == "_blank" and link.attrs["rel"] == "noopener"
    assert link.text == "Open GB080 in Moodle (opens in a new tab) ↗"
    assert link.find("span", cls="visually-hidden").text == "(opens in a new tab)"
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    gb080 = checklist["modules"][0]["requirements"][0]
    assert gb080["link"] == {"url": issuer + "/moodle/course/view.php?id=3", "lms": "Moodle"}


def test_no_course_links_from_an_ags_source(launcher: Launcher) -> None:
    student = open_tool(launcher)
    _source(launcher, "ags", None, {"GB080": "3"})
    page = student.client.get("/me").get_data(as_text=True)
    assert not parse_html(page).find_all("a", cls="lms-link")
    assert "opens in a new tab" not in page


def test_a_released_result_shows_score_outcome_and_comment(launcher: Launcher) -> None:
    student = open_tool(launcher)
    _record_result(launcher, released=True)
    page = student.client.get("/me").get_data(as_text=True)
    result = _module(page, "B832").find("div", cls="result")
    assert result.find("p", cls="score").text == "68 out of 100 · Passed"
    quote = result.find("blockquote")
    # Escaped (the markup is text, not a <b> element) and the line break kept for CSS.
    assert not quote.find_all("b")
    assert quote.text == " ".join(COMMENT.split("\n"))
    assert "Good reflection.\nWork on &lt;b&gt;evidence&lt;/b&gt; &amp; references." in page
    own = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    assert own["modules"][0]["result"] == {
        "held": False,
        "score": "68",
        "max_score": "100",
        "outcome": "pass",
        "outcome_words": "Passed",
        "comment": COMMENT,
    }


def test_a_held_result_says_only_that_it_is_held(launcher: Launcher) -> None:
    """Attack: the student asks the page and their JSON for a result still held for the exam
    board; neither may carry its score, outcome or comment."""
    student = open_tool(launcher)
    _record_result(launcher, released=False)
    page = student.client.get("/me").get_data(as_text=True)
    result = _module(page, "B832").find("div", cls="result")
    assert result.text == (
        "Assessment result Your tutor has recorded a result; it will appear here once it is"
        " released."
    )
    # "68" alone could turn up inside a random token on the page; the score shows as "68 out of".
    for leak in (
        ">68<",
        "68 out of",
        "out of",
        "Passed",
        "Assessment passed",
        "evidence",
        "reflection",
    ):
        assert leak not in page, leak
    response = student.client.get("/api/me/checklist", headers=student.bearer)
    raw = response.get_data(as_text=True)
    own = json.loads(raw)
    assert own["modules"][0]["result"] == {"held": True}
    assert own["modules"][0]["assessment"] is None
    for leak in ('"68"', ": 68", ":68", 'pass"', "reflection", "evidence"):
        assert leak not in raw, leak
    # Staff see it, marked as held.
    client, _ = staff_launch(launcher)
    preview = client.get("/staff/students/1001").get_data(as_text=True)
    staff_result = _module(preview, "B832").find("div", cls="result")
    assert "Held: not released to the student yet" in staff_result.text
    assert staff_result.find("p", cls="score").text == "68 out of 100 · Passed"


def test_the_staff_preview_counts_what_the_student_sees(launcher: Launcher) -> None:
    """The preview says "as they see it": a held pass earns no credits there either, and the
    next steps are the student's (outside review: it counted the held result)."""
    student = open_tool(launcher)
    _record_result(launcher, released=False)
    own = student.client.get("/me").get_data(as_text=True)
    client, _ = staff_launch(launcher)
    preview = client.get("/staff/students/1001").get_data(as_text=True)

    def credits(page: str) -> str:
        return parse_html(page).find("p", cls="lede").find("strong").text

    def steps(page: str) -> str:
        return parse_html(page).find("main").find("ol").text

    assert credits(own) == credits(preview) == "0 of 60 credits"
    assert "Assessment passed" not in _module(preview, "B832").text
    assert "Held: not released to the student yet" in _module(preview, "B832").text
    assert steps(own) == steps(preview)


def test_next_steps_first_then_outstanding_then_completed_folded(launcher: Launcher) -> None:
    student = open_tool(launcher)
    add_completions(
        launcher.app,
        "1001",
        {
            "GB080": ("completed", dt.date(2026, 1, 5), dt.date(2026, 3, 1)),
            "GB081": ("completed", dt.date(2026, 1, 5), dt.date(2026, 4, 1)),
            "GB090": ("completed", dt.date(2026, 1, 5), dt.date(2026, 4, 1)),
            "GB091": ("completed", dt.date(2026, 1, 5), dt.date(2026, 4, 2)),
        },
    )
    page = student.client.get("/me").get_data(as_text=True)
    main = parse_html(page).find("main")
    order = [n for n in main.walk() if n.tag in {"h1", "h2", "table", "details"}]
    names = [n.text if n.tag.startswith("h") else n.find("caption").text for n in order]
    assert names[:2] == ["My pathway", "What to do next"]
    assert len(parse_html(page).find("section", cls="next").find_all("li")) <= 3
    b832 = _module(page, "B832")
    to_do, done = b832.find_all("table")
    assert to_do.find("caption").text == "CPD courses to do for B832"
    assert [c.text for c in to_do.find_all("span", cls="code")] == list(B832_CODES[2:])
    details = b832.find("details", cls="done")
    assert "open" not in details.attrs  # folded until the student opens it
    assert details.find("summary").text == ("Completed courses: 2 of 7 complete, 50 of 250 hours")
    assert [c.text for c in done.find_all("span", cls="code")] == ["GB080", "GB081"]
    # Two of three optional B833 courses done: the group is complete, the third not needed.
    b833 = _module(page, "B833")
    codes = [c.text for c in b833.find("table").find_all("span", cls="code")]
    assert codes == ["GB087", "GB088", "GB089"]
    summary = b833.find("details", cls="done").find("summary").text
    assert summary.startswith("Completed courses: 2 of 5 complete")
    notes = [s.text for s in b833.find("details", cls="done").find_all("span", cls="muted")]
    assert notes[0] == "Optional: choose 2 of 3 · counts toward the hours"


def test_the_page_shows_what_the_planner_adds(launcher: Launcher) -> None:
    """The planner's additions (quiet notes, late completions, plan titles and courses in
    progress) and a long list of steps: the page keeps three steps, the notes below them as
    notes, and says "Completed late" in words, for the student and in the staff preview."""
    from lti_tool.web.student import render_checklist
    from tests.support.launches import a_launch

    student = open_tool(launcher)
    add_completions(
        launcher.app, "1001", {"GB080": ("completed", dt.date(2026, 1, 5), dt.date(2026, 3, 1))}
    )
    checklist = student.client.get("/api/me/checklist", headers=student.bearer).get_json()
    checklist["next_steps"] = ["First", "Second", "Third", "Fourth"]
    checklist["notes"] = ["Your B832 start date is not set yet: your course team sets it."]
    b832 = checklist["modules"][0]
    for course in (b832["requirements"][0], b832["done"][0]):  # one dict before JSON
        assert course["code"] == "GB080"
        course["late"] = True
    checklist["plan"] = [
        {
            "code": "GB081",
            "title": "Developing yourself",
            "module": "B832",
            "in_progress": True,
            "start": "2026-12-07",
            "finish": "2027-02-14",
            "parallel": False,
        },
    ]
    for staff in (None, {"sub": "1001", "name": "Sam Student", "email": None}):
        with launcher.app.test_request_context("/me"):
            extra = {"student": staff, "attempts": []} if staff else {}
            page = render_checklist(checklist, a_launch(), **extra)
        root = parse_html(page)
        assert [li.text for li in root.find("section", cls="next").find_all("li")] == [
            "First",
            "Second",
            "Third",
        ]
        main = root.find("main")
        order = [n for n in main.walk() if "next" in n.classes or "quiet-notes" in n.classes]
        assert [n.tag for n in order] == ["section", "ul"]  # the notes after the steps
        assert order[1].text == "Your B832 start date is not set yet: your course team sets it."
        done = _module(page, "B832").find("details", cls="done")
        assert "Completed late" in done.find("tbody").text
        plan = root.find("section", **{"aria-labelledby": "plan"}).find("tbody").text
        assert plan.startswith("GB081 Developing yourself ◐ In progress")
