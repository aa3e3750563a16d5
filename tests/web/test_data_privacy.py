"""The Data Privacy Launch: who may see whose data, the page, and the JSON download."""

from __future__ import annotations

import json

import pytest

from lti_tool.persistence.models import AuditEntry
from tests.support.lti import Launcher, past_cookie_check, without_binding
from tests.support.pathway_web import parse_html
from tests.support.privacy import PRIVACY, count, privacy_launch, seed_student_data

MESSAGE_TYPES = [PRIVACY, "LtiDataPrivacyLaunchRequest"]


def _main_text(page: str) -> str:
    return parse_html(page).find("main").text


@pytest.mark.parametrize("message_type", MESSAGE_TYPES)
def test_the_person_sees_everything_the_tool_holds_about_them(
    launcher: Launcher, message_type: str
) -> None:
    seed_student_data(launcher)
    _, response = privacy_launch(launcher, "student1", message_type=message_type)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    root = parse_html(page)
    assert root.find("h1").text == "Your data in this tool"
    identity = root.find("section", **{"aria-labelledby": "identity"}).text
    assert "sam.student@example.org" in identity and "Sam Student" in identity
    courses = root.find("section", **{"aria-labelledby": "courses"}).text
    assert "Postgraduate Certificate in Clinical Leadership" in courses and "Student" in courses
    completions = root.find("section", **{"aria-labelledby": "completions"})
    captions = [caption.text for caption in completions.find_all("caption")]
    assert captions == ["From the course team's records", "From Moodle"]
    assert "GB080" in completions.text and "GB081" in completions.text
    starts = root.find("section", **{"aria-labelledby": "starts"}).text
    assert "B832" in starts and "10 January 2027" in starts and "deferred" in starts
    results = root.find("section", **{"aria-labelledby": "results"}).text
    assert "71 out of 100" in results and "not sent yet" in results
    audit = root.find("section", **{"aria-labelledby": "audit"}).text
    assert "Result saved" in audit and "Student start date set" in audit
    # In words: no Python values, no codes.
    for code in ("result.save", "True", "False", "None", "71.0", "membership#"):
        assert code not in root.find("main").text, code
    # Priya's result is not Sam's data.
    assert "64 out of" not in page and "Priya" not in page
    [download] = [
        a for a in root.find_all("a") if a.attrs.get("href", "").startswith("/privacy/export.json")
    ]
    assert without_binding(download.attrs["href"]) == "/privacy/export.json"
    assert download.text == "Download as JSON"
    [form] = [f for f in root.find_all("form") if f.attrs["action"].startswith("/privacy/erasure")]
    assert without_binding(form.attrs["action"]) == "/privacy/erasure"
    assert form.attrs["method"] == "post" and form.find_all("input", name="csrf_token")
    assert "does not" not in form.text  # the explanation sits above the form
    assert "a new record" in root.find("section", **{"aria-labelledby": "erasure"}).text


def test_an_lms_admin_sees_another_persons_data(launcher: Launcher) -> None:
    seed_student_data(launcher)
    _, response = privacy_launch(launcher, "admin", for_user="1001")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    text = _main_text(page)
    assert parse_html(page).find("h1").text == "Data held about Sam Student"
    assert "as an LMS administrator on behalf of Sam Student" in text
    assert "sam.student@example.org" in text
    assert "ada.admin@example.org" not in text


@pytest.mark.parametrize("launcher_user", ["teacher1", "student2"])
@pytest.mark.parametrize("message_type", MESSAGE_TYPES)
def test_others_may_not_see_someone_elses_data(
    launcher: Launcher, launcher_user: str, message_type: str
) -> None:
    seed_student_data(launcher)
    client, response = privacy_launch(
        launcher, launcher_user, for_user="1001", message_type=message_type
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Only the person themself or an LMS administrator" in page
    assert "sam.student@example.org" not in page and "GB080" not in page
    # No session was opened that could be used for the page or the download instead.
    assert client.get("/privacy/export.json").status_code == 401


def test_a_person_the_tool_has_never_seen(launcher: Launcher) -> None:
    client, response = privacy_launch(launcher, "admin", for_user="9999")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    root = parse_html(page)
    assert root.find("h2", id="nothing").text == "The tool holds nothing about this person"
    assert not root.find_all("form")
    download = json.loads(client.get("/privacy/export.json").get_data(as_text=True))
    assert download["found"] is False and download["identity"] == {"sub": "9999"}
    assert download["memberships"] == [] and download["assessment_results"] == []
    refused = client.post("/privacy/erasure", data={"csrf_token": "x"})
    assert refused.status_code == 400  # CSRF first: nothing to erase anyway


def test_without_for_user_a_session_shows_the_launchers_own_data(
    launcher: Launcher,
) -> None:
    """pylti1p3 insists on for_user in a privacy launch; an ordinary launch session has none
    and the page then shows the launcher's own data."""
    client = launcher.app.test_client()
    assert launcher.launch(client, "teacher1").status_code == 200
    page = client.get("/privacy/").get_data(as_text=True)
    assert parse_html(page).find("h1").text == "Your data in this tool"
    assert "tess.teacher@example.org" in _main_text(page)


def test_the_json_download(launcher: Launcher) -> None:
    seed_student_data(launcher)
    client, _ = privacy_launch(launcher, "student1")
    before = count(launcher.app, AuditEntry, AuditEntry.action == "privacy.export")
    response = client.get("/privacy/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="personal-data-v1.json"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["schema"] == "lti-tool/personal-data" and data["schema_version"] == 1
    assert set(data) == {
        "schema",
        "schema_version",
        "generated_at",
        "platform",
        "found",
        "identity",
        "memberships",
        "completion_records",
        "module_starts",
        "assessment_results",
        "audit_entries",
        "erasure_requests",
    }
    assert data["identity"]["sub"] == "1001"
    assert data["identity"]["email"] == "sam.student@example.org"
    assert data["platform"]["name"] == "sandbox"
    [membership] = data["memberships"]
    assert membership["course"]["context_id"] == "pgcert-cl-2027"
    assert {(r["source"], r["course_code"], r["status"]) for r in data["completion_records"]} == {
        ("moodle", "GB080", "completed"),
        ("manual", "GB081", "in_progress"),
    }
    [start] = data["module_starts"]
    assert (start["module_code"], start["attempt"], start["start_date"]) == (
        "B832",
        1,
        "2027-01-10",
    )
    [result] = data["assessment_results"]
    assert result["score"] == 71.0 and result["outcome"] == "pass"
    assert result["grade_sync"]["status"] == "pending"
    actions = {entry["action"] for entry in data["audit_entries"]}
    assert {"result.save", "module_start.student"} <= actions
    assert all(entry["about_you"] for entry in data["audit_entries"])
    assert count(launcher.app, AuditEntry, AuditEntry.action == "privacy.export") == before + 1


def test_the_download_of_staff_data_leaves_out_other_peoples_values(
    launcher: Launcher,
) -> None:
    seed_student_data(launcher)
    client, _ = privacy_launch(launcher, "teacher1")
    data = client.get("/privacy/export.json").get_json()
    by_tess = [e for e in data["audit_entries"] if e["action"] == "result.save"]
    assert len(by_tess) == 2 and all(e["by_you"] and not e["about_you"] for e in by_tess)
    assert all(e["old"] is None and e["new"] is None and e["reason"] is None for e in by_tess)
    assert "Priya" not in json.dumps(data)


def test_the_download_needs_a_launch(launcher: Launcher) -> None:
    response = launcher.app.test_client().get("/privacy/export.json")
    assert response.status_code == 401
    assert "attachment" not in response.headers.get("Content-Disposition", "")


def test_the_sandbox_sends_a_privacy_launch_for_another_person(launcher: Launcher) -> None:
    """The sandbox LMS's own "Data privacy launch" link, through its login and /auth."""
    from urllib.parse import urlsplit

    from tests.support.lti import form_fields

    assert launcher.launch(launcher.app.test_client(), "student1").status_code == 200
    start = launcher.sandbox.get("/launch/admin?privacy=student1")
    client = launcher.app.test_client()
    login = past_cookie_check(
        client, client.post("/lti/login", data=form_fields(start.get_data(as_text=True)))
    )
    assert login.status_code == 302
    auth_url = urlsplit(login.headers["Location"])
    auth = launcher.sandbox.get(auth_url.path + "?" + auth_url.query)
    form = form_fields(auth.get_data(as_text=True))
    page = launcher.post_launch(client, form["id_token"], form["state"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert "Sam Student" in text and "Download as JSON" in text


def test_held_results_stay_held_in_the_persons_own_view(launcher: Launcher) -> None:
    from tests.support.grade_sync import make_eligible
    from tests.support.lti import launch_token, staff_launch

    staff, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    held = {"score": 38, "outcome": "fail", "released": False, "comment": "moderation pending"}
    assert (
        staff.put("/api/context/results/B832/1001", json=held, headers=headers).status_code == 200
    )
    student = launcher.app.test_client()
    token = launch_token(launcher.launch(student, "student1").get_data(as_text=True))
    auth = {"Authorization": f"Bearer {token}"}
    document = student.get("/privacy/export.json", headers=auth).get_json()
    [result] = [r for r in document["assessment_results"] if r["module_code"] == "B832"]
    assert "score" not in result and "comment" not in result and result["held"]
    saved = [a for a in document["audit_entries"] if a["action"] == "result.save"]
    assert saved and all(a["new"] is None and a["old"] is None for a in saved)
    page = student.get("/privacy/", headers=auth).get_data(as_text=True)
    assert "moderation pending" not in page and "held until the exam board" in page

    # Released, it shows in full.
    released = {**held, "released": True}
    assert (
        staff.put("/api/context/results/B832/1001", json=released, headers=headers).status_code
        == 200
    )
    document = student.get("/privacy/export.json", headers=auth).get_json()
    [result] = [r for r in document["assessment_results"] if r["module_code"] == "B832"]
    assert result["score"] == 38 and result["comment"] == "moderation pending"
