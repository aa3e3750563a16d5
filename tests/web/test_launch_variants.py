"""Valid launches in every shape a platform may send them are accepted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lti_tool.lti import claims as c
from tests.support.lti import REMOVE, Launcher, launch_token, past_cookie_check

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"


def _session(launcher: Launcher, changes: dict[str, Any], user: str = "student1") -> dict[str, Any]:
    client = launcher.app.test_client()
    response = launcher.launch(client, user, changes=changes)
    assert response.status_code == 200, response.get_data(as_text=True)
    token = launch_token(response.get_data(as_text=True))
    info = client.get("/api/session", headers={"Authorization": f"Bearer {token}"})
    assert info.status_code == 200
    return dict(info.get_json())


@pytest.mark.parametrize(
    ("roles", "is_staff"),
    [
        ([MEMBERSHIP + "Learner", MEMBERSHIP + "Mentor"], False),
        ([MEMBERSHIP + "Instructor", MEMBERSHIP + "Learner"], True),
        (["Instructor"], True),
        (["Learner"], False),
        ([MEMBERSHIP + "ContentDeveloper"], True),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], True),
        ([INSTITUTION + "Administrator"], True),
        (["http://example.com/roles#Wizard"], False),
        ([], False),
    ],
    ids=[
        "several roles",
        "instructor and learner",
        "short Instructor",
        "short Learner",
        "content developer",
        "teaching assistant sub-role",
        "institution administrator",
        "unknown role only",
        "empty roles",
    ],
)
def test_roles_variants_are_accepted(launcher: Launcher, roles: list[str], is_staff: bool) -> None:
    info = _session(launcher, {c.ROLES: roles})
    assert info["is_staff"] is is_staff
    assert info["roles"] == roles


def test_unknown_or_empty_roles_give_the_limited_student_view(launcher: Launcher) -> None:
    response = launcher.launch(launcher.app.test_client(), changes={c.ROLES: []})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "My pathway" in page and "limited data" in page


@pytest.mark.parametrize(
    ("changes", "name", "email"),
    [
        (
            {"name": REMOVE, "given_name": REMOVE, "family_name": REMOVE},
            None,
            "sam.student@example.org",
        ),
        ({"email": REMOVE}, "Sam Student", None),
        (
            {"name": REMOVE, "given_name": REMOVE, "family_name": REMOVE, "email": REMOVE},
            None,
            None,
        ),
        ({"name": REMOVE}, "Sam Student", "sam.student@example.org"),
    ],
    ids=["email only", "names only", "no personal data", "given and family name only"],
)
def test_personal_data_variants(
    launcher: Launcher, changes: dict[str, Any], name: str | None, email: str | None
) -> None:
    info = _session(launcher, changes)
    assert info["user"] == {"sub": "1001", "name": name, "email": email}


def test_launch_without_context_claim(launcher: Launcher) -> None:
    info = _session(launcher, {c.CONTEXT: REMOVE, c.NRPS: REMOVE, c.AGS: REMOVE})
    assert info["context"] is None


def test_new_resource_link_is_recorded(launcher: Launcher) -> None:
    from sqlalchemy import select

    from lti_tool.persistence.models import ResourceLink

    _session(launcher, {})
    _session(launcher, {c.RESOURCE_LINK: {"id": "brand-new-link", "title": "Another placement"}})
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        ids = set(session.scalars(select(ResourceLink.resource_link_id)))
    assert ids == {"link-checklist", "brand-new-link"}


@pytest.mark.parametrize("ahead", [5, 30])
def test_platform_clock_ahead_is_tolerated(launcher: Launcher, ahead: int) -> None:
    now = int(time.time()) + ahead
    _session(launcher, {"iat": now, "exp": now + 60})


def test_moodle_shaped_claims_are_accepted(launcher: Launcher) -> None:
    """As recorded from Moodle 4.5.6: no azp/nbf/jti, bare CourseSection type, ext claim."""
    info = _session(
        launcher,
        {
            c.CONTEXT: {
                "id": "2",
                "label": "PGCERT-CL",
                "title": "PGCert",
                "type": ["CourseSection"],
            },
            "https://purl.imsglobal.org/spec/lti/claim/ext": {"lms": "moodle-2"},
            c.CUSTOM: {"context_memberships_url": "http://127.0.0.1:8080/x", "difficulty": "hard"},
        },
    )
    assert info["context"]["id"] == "2"


def test_aud_list_with_azp_naming_the_tool_is_accepted(launcher: Launcher) -> None:
    client_id = launcher.platform.client_id
    _session(launcher, {"aud": [client_id, "another-audience"], "azp": client_id})
    _session(launcher, {"aud": [client_id]})


def test_names_with_html_are_escaped(launcher: Launcher) -> None:
    evil = '<script>alert("x")</script>'
    client = launcher.app.test_client()
    response = launcher.launch(
        client,
        changes={"name": evil, c.CONTEXT: {"id": "c1", "title": "<b>Course</b>", "label": "L"}},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert evil not in page and "<b>Course</b>" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;Course&lt;/b&gt;" in page


def test_login_by_get_and_without_client_id_through_the_registration_url(
    launcher: Launcher,
) -> None:
    from lti_tool.persistence.models import Registration

    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        from sqlalchemy import select

        pk = session.scalar(select(Registration.id).where(Registration.name == "sandbox"))
    client = launcher.app.test_client()
    login = launcher.login(client, method="GET", path=f"/lti/login/{pk}", client_id=REMOVE)
    assert login.params["client_id"] == launcher.platform.client_id
    assert login.params["redirect_uri"] == "http://localhost/lti/launch"
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    assert launcher.post_launch(client, token, login.state).status_code == 200


def test_login_without_client_id_finds_the_issuers_only_registration(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client, client_id=REMOVE)
    assert login.params["client_id"] == launcher.platform.client_id


def test_login_sets_a_state_cookie_that_expires_in_minutes(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    params = launcher.platform.login_params("student1")
    response = past_cookie_check(client, client.post("/lti/login", data=params))
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lti1p3-state-")
    assert "Max-Age=300" in cookie and "HttpOnly" in cookie


def _submission_review(launcher: Launcher, user: str, about: str = "1001") -> str:
    """A gradebook's "review this submission" launch by ``user`` about ``about`` (Sam
    Student)."""
    ags = {
        "scope": [c.SCOPE_LINEITEM, c.SCOPE_SCORE],
        "lineitems": launcher.platform.issuer + "/api/ags/pgcert-cl-2027/lineitems",
        "lineitem": launcher.platform.issuer + "/api/ags/pgcert-cl-2027/lineitems/1/lineitem",
    }
    changes = {
        c.MESSAGE_TYPE: c.SUBMISSION_REVIEW_REQUEST,
        c.AGS: ags,
        c.FOR_USER: {"user_id": about},
    }
    response = launcher.launch(launcher.app.test_client(), user, changes=changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    return page


def test_a_tutors_submission_review_opens_the_students_page(launcher: Launcher) -> None:
    page = _submission_review(launcher, "teacher1")
    assert "Read-only preview of <strong>Sam Student</strong>" in page


def test_a_students_submission_review_opens_their_own_checklist(launcher: Launcher) -> None:
    page = _submission_review(launcher, "student1")
    assert "<h1>My pathway</h1>" in page and "Read-only preview" not in page


def test_a_review_of_someone_not_in_the_course_opens_the_class_overview(
    launcher: Launcher,
) -> None:
    """Not known in this course (a roster not read since they joined, or another course's
    student): the tutor lands on the class, not on "not found"."""
    page = _submission_review(launcher, "teacher1", about="9999")
    assert "Course settings" in page and "Read-only preview" not in page
