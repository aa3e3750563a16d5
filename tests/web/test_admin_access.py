"""Who may use the admin pages: nobody without a session (sent to sign in; 401 for API calls),
not Learners or Instructors
(403), LMS admins only for their own platform, tool admins for every platform."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.admin.accounts import create_admin
from lti_tool.lti import registry
from lti_tool.persistence.models import AuditEntry, Deployment, Registration
from tests.support.lti import Launcher
from tests.support.pathway_web import csrf_token, open_tool, parse_html

PASSWORD = "correct horse battery staple"


def tool_admin(app: Flask, username: str = "root") -> FlaskClient:
    """A browser signed in as a tool admin made for the test."""
    services = app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        create_admin(session, username, PASSWORD)
    client = app.test_client()
    form = client.get("/admin/login").get_data(as_text=True)
    signed_in = client.post(
        "/admin/login",
        data={"csrf_token": csrf_token(form), "username": username, "password": PASSWORD},
    )
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    return client


def other_platform(app: Flask) -> tuple[int, int]:
    """A second registration (platform B) with one inactive deployment: (reg pk, dep pk)."""
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        reg = registry.add_platform(
            session,
            registry.PlatformSpec(
                name="platform-b",
                issuer="https://moodle.b.example.ac.uk",
                client_id="client-b",
                auth_login_url="https://moodle.b.example.ac.uk/mod/lti/auth.php",
                auth_token_url="https://moodle.b.example.ac.uk/mod/lti/token.php",
                key_set_url="https://moodle.b.example.ac.uk/mod/lti/certs.php",
                kind="moodle",
            ),
            development=True,
        )
        registry.record_unknown_deployment(session, reg.id, "b-1")
        dep = session.scalar(select(Deployment).where(Deployment.registration_id == reg.id))
        assert dep is not None
        return reg.id, dep.id


def sandbox_pk(app: Flask) -> int:
    with app.extensions["lti_tool"].db.read_only() as session:
        pk = session.scalar(select(Registration.id).where(Registration.name == "sandbox"))
    assert pk is not None
    return int(pk)


ADMIN_PAGES = ["/admin/", "/admin/registrations", "/admin/keys", "/admin/audit", "/admin/health"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_no_session_is_sent_to_sign_in_and_back(launcher: Launcher, path: str) -> None:
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        create_admin(session, "root", PASSWORD)
    client = launcher.app.test_client()
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/login" and parse_qs(location.query) == {"next": [path]}
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    kept = parse_html(form).find("input", name="next")
    assert kept.attrs["value"] == path
    signed_in = client.post(
        "/admin/login",
        data={
            "csrf_token": csrf_token(form),
            "username": "root",
            "password": PASSWORD,
            "next": str(kept.attrs["value"]),
        },
    )
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == path


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_an_api_call_without_a_session_is_401_json(launcher: Launcher, path: str) -> None:
    response = launcher.app.test_client().get(path, headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "no_admin_session"


def test_a_query_string_survives_the_sign_in(launcher: Launcher) -> None:
    response = launcher.app.test_client().get("/admin/audit?page=2")
    assert parse_qs(urlsplit(response.headers["Location"]).query) == {
        "next": ["/admin/audit?page=2"]
    }


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "//evil.example/admin/",
        "/\\evil.example",
        "https://evil.example/admin/",
        "/admin/\r\nLocation: https://evil.example",
        "/student/",
        "javascript:alert(1)",
        "",
    ],
)
def test_next_elsewhere_is_ignored(launcher: Launcher, target: str) -> None:
    with launcher.app.extensions["lti_tool"].db.unit_of_work() as session:
        create_admin(session, "root", PASSWORD)
    client = launcher.app.test_client()
    page = client.get("/admin/login", query_string={"next": target}).get_data(as_text=True)
    assert "evil.example" not in page and 'name="next"' not in page
    signed_in = client.post(
        "/admin/login",
        query_string={"next": target},
        data={
            "csrf_token": csrf_token(page),
            "username": "root",
            "password": PASSWORD,
            "next": target,
        },
    )
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == "/admin/"


@pytest.mark.parametrize("user", ["student1", "teacher1"])
def test_learners_and_instructors_are_refused(launcher: Launcher, user: str) -> None:
    opened = open_tool(launcher, user)
    assert "Tool administration" not in opened.page
    pk = sandbox_pk(launcher.app)
    for path in [*ADMIN_PAGES, f"/admin/registrations/{pk}", f"/admin/registrations/{pk}/mapping"]:
        assert opened.client.get(path).status_code == 403, path
        # The bearer token (iframes without cookies) is no back door either.
        fresh = launcher.app.test_client()
        assert fresh.get(path, headers=opened.bearer).status_code == 403, path
    # A valid CSRF token of this browser (the sign-in form has one for anybody).
    token = csrf_token(opened.client.get("/admin/login").get_data(as_text=True))
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        dep = session.scalar(select(Deployment.id).where(Deployment.registration_id == pk))
    deactivate = f"/admin/registrations/{pk}/deployments/{dep}/deactivate"
    refused = opened.client.post(deactivate, data={"csrf_token": token})
    assert refused.status_code == 403
    assert opened.client.post("/admin/keys/rotate", data={"csrf_token": token}).status_code == 403
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.get(Deployment, dep).active is True
        assert session.scalars(select(AuditEntry)).all() == []


def test_lms_admin_sees_only_their_own_platform(launcher: Launcher) -> None:
    b_pk, b_dep = other_platform(launcher.app)
    a_pk = sandbox_pk(launcher.app)
    lms_admin = open_tool(launcher, "admin")
    overview = parse_html(lms_admin.page)
    link = [a for a in overview.find_all("a") if a.text == "Tool administration"]
    assert link and link[0].attrs["href"].startswith("/admin/")

    listing = lms_admin.client.get("/admin/registrations").get_data(as_text=True)
    assert "sandbox" in listing and "platform-b" not in listing
    dashboard = lms_admin.client.get("/admin/").get_data(as_text=True)
    assert "platform-b" not in dashboard and "b-1" not in dashboard
    assert lms_admin.client.get(f"/admin/registrations/{a_pk}").status_code == 200

    token = csrf_token(lms_admin.page)
    forbidden: list[tuple[str, str, dict[str, Any]]] = [
        ("get", f"/admin/registrations/{b_pk}", {}),
        ("get", f"/admin/registrations/{b_pk}/mapping", {}),
        ("get", f"/admin/registrations/{b_pk}/source", {}),
        ("get", f"/admin/registrations/{b_pk}/deployments/{b_dep}/deactivate", {}),
        ("post", f"/admin/registrations/{b_pk}/deployments/{b_dep}/activate", {}),
        ("post", f"/admin/registrations/{b_pk}/mapping", {"code": "GB080", "course_id": "7"}),
        ("post", f"/admin/registrations/{b_pk}/source", {"kind": "manual", "mode": "course"}),
    ]
    for method, path, data in forbidden:
        response = getattr(lms_admin.client, method)(path, data={"csrf_token": token, **data})
        assert response.status_code == 404, (path, response.status_code)
    # Key rotation affects every platform: an LMS admin sees the keys but cannot rotate.
    keys_page = lms_admin.client.get("/admin/keys").get_data(as_text=True)
    assert "Rotate the signing key" not in keys_page
    assert lms_admin.client.get("/admin/keys/rotate").status_code == 403
    assert (
        lms_admin.client.post("/admin/keys/rotate", data={"csrf_token": token}).status_code == 403
    )
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.get(Deployment, b_dep).active is False
        assert session.scalars(select(AuditEntry)).all() == []


def test_tool_admin_sees_every_platform(launcher: Launcher) -> None:
    b_pk, b_dep = other_platform(launcher.app)
    client = tool_admin(launcher.app)
    listing = client.get("/admin/registrations").get_data(as_text=True)
    assert "sandbox" in listing and "platform-b" in listing
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Waiting for approval" in dashboard and "b-1" in dashboard
    page = client.get(f"/admin/registrations/{b_pk}").get_data(as_text=True)
    activated = client.post(
        f"/admin/registrations/{b_pk}/deployments/{b_dep}/activate",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=True,
    )
    assert "Deployment b-1 is active" in activated.get_data(as_text=True)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.get(Deployment, b_dep).active is True
        entry = session.scalars(select(AuditEntry)).one()
    assert entry.action == "deployment.activate"
    assert entry.new is not None and entry.new["admin"] == "tool admin root"
    assert entry.subject == f"registration:{b_pk}/deployment:{b_dep}"


def test_lms_admin_audit_log_is_scoped(launcher: Launcher) -> None:
    b_pk, b_dep = other_platform(launcher.app)
    root = tool_admin(launcher.app)
    page = root.get(f"/admin/registrations/{b_pk}").get_data(as_text=True)
    root.post(
        f"/admin/registrations/{b_pk}/deployments/{b_dep}/activate",
        data={"csrf_token": csrf_token(page)},
    )
    assert "deployment.activate" in root.get("/admin/audit").get_data(as_text=True)
    lms_admin = open_tool(launcher, "admin")
    assert "deployment.activate" not in lms_admin.client.get("/admin/audit").get_data(as_text=True)
