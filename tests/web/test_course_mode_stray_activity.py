"""A source in course mode reads each CPD course from a whole LMS course: a mapping that also
names an activity (left from activity mode, or from a search for activities) is refused by the
refresh, since reading the whole course for it could call every activity of that course done.
The student reads "can't be tracked", not "not started"; staff read what to change; the
mapping page refuses such a mapping in words, and says which stored ones are not read."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import delete, update

from lti_tool.completion.setup import mappings_of
from lti_tool.persistence.models import CompletionRecord, CourseMappingRow
from tests.support.class_refresh import staff_launch
from tests.support.lti import Launcher
from tests.support.pathway_web import csrf_token, open_tool, parse_html, student_page_and_checklist
from tests.web.test_admin_access import sandbox_pk

STRAY = (
    "GB085 is linked to a Moodle activity, but the tool reads whole Moodle courses for this "
    "platform, so it cannot read it"
)


def _status(checklist: dict[str, Any], code: str) -> str:
    return str(
        next(r for m in checklist["modules"] for r in m["requirements"] if r["code"] == code)[
            "status"
        ]
    )


def _stray_activity(launcher: Launcher) -> None:
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        session.execute(
            update(CourseMappingRow)
            .where(CourseMappingRow.course_code == "GB085")
            .values(activity_id="55")
        )
        session.execute(delete(CompletionRecord))


def test_a_course_mapped_with_a_stray_activity_reads_cant_be_tracked(
    with_moodle: Launcher,
) -> None:
    _stray_activity(with_moodle)
    _, checklist = student_page_and_checklist(with_moodle)
    assert [_status(checklist, code) for code in ("GB084", "GB085")] == [
        "completed",
        "untrackable",
    ]

    staff, headers = staff_launch(with_moodle)
    preview = html.unescape(staff.get("/staff/students/1001", headers=headers).get_data(True))
    assert STRAY in preview
    assert "GB085 is not linked" not in preview


def test_the_mapping_page_refuses_an_activity_for_a_course_mode_source(
    with_moodle: Launcher,
) -> None:
    client = open_tool(with_moodle, "admin").client  # an LMS admin, on their own platform
    pk = sandbox_pk(with_moodle.app)
    path = f"/admin/registrations/{pk}/mapping"
    token = csrf_token(client.get(path).get_data(as_text=True))
    refused = client.post(
        path,
        data={"csrf_token": token, "code": "GB084", "course_id": "99", "activity_id": "12"},
        follow_redirects=True,
    )
    words = html.unescape(refused.get_data(as_text=True))
    assert "reads whole Moodle courses" in words and "GB084 is mapped." not in words
    services = with_moodle.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        kept = {m.course_code: (m.course_id, m.activity_id) for m in mappings_of(session, pk)}
    assert kept["GB084"][1] is None and kept["GB084"][0] != "99"

    searched = client.post(
        f"{path}/discover",
        data={"csrf_token": token, "mode": "activities", "course": "3"},
        follow_redirects=True,
    )
    assert "reads whole Moodle courses" in html.unescape(searched.get_data(as_text=True))

    _stray_activity(with_moodle)
    page = parse_html(client.get(path).get_data(as_text=True))
    row = next(r for r in page.find("tbody").find_all("tr") if r.find("th").text == "GB085")
    assert "Not read" in row.text and "reads whole Moodle courses" in row.text


def test_an_activity_mode_source_refuses_a_mapping_without_its_module(
    launcher: Launcher,
) -> None:
    from tests.support.class_refresh import with_canvas_source

    with_canvas_source(launcher, "activity")
    client = open_tool(launcher, "admin").client
    path = f"/admin/registrations/{sandbox_pk(launcher.app)}/mapping"
    token = csrf_token(client.get(path).get_data(as_text=True))
    refused = client.post(
        path, data={"csrf_token": token, "code": "GB084", "course_id": "2"}, follow_redirects=True
    )
    words = html.unescape(refused.get_data(as_text=True))
    assert "reads one module per CPD course, so GB084 needs the module's id" in words


def test_a_search_kept_from_before_the_mode_changed_stores_no_mapping_it_does_not_read(
    launcher: Launcher,
) -> None:
    """Courses found while the source read whole courses, stored after it was set to read one
    activity per CPD course: each would be "not read", so none is stored and the page says
    why, as it does for one typed in."""
    from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN

    services = launcher.app.extensions["lti_tool"]
    client = open_tool(launcher, "admin").client
    pk = sandbox_pk(launcher.app)
    path = f"/admin/registrations/{pk}/mapping"
    token = csrf_token(client.get(path).get_data(as_text=True))
    url = launcher.platform.issuer + "/moodle/webservice/rest/server.php"

    def set_source(mode: str) -> None:
        form = {"kind": "moodle", "endpoint_url": url, "token": SANDBOX_TOKEN, "mode": mode}
        source = f"/admin/registrations/{pk}/source"
        staged = client.post(source, data={"csrf_token": token, **form})
        assert staged.status_code == 302, staged.get_data(as_text=True)
        client.post(staged.headers["Location"], data={"csrf_token": token})

    set_source("course")
    found = client.post(f"{path}/discover", data={"csrf_token": token, "mode": "courses"})
    assert found.status_code == 200
    apply = parse_html(found.get_data(as_text=True)).find("form", method="post").attrs["action"]
    set_source("activity")

    stored = client.post(apply, data={"csrf_token": token}, follow_redirects=True)
    words = html.unescape(stored.get_data(as_text=True))
    assert stored.status_code < 500
    assert "reads one activity per CPD course" in words
    with services.db.read_only() as session:
        assert mappings_of(session, pk) == []
