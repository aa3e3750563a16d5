"""Erasure requests on the admin pages: LMS admins see their platform's, tool admins decide."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from lti_tool.persistence.models import User
from lti_tool.privacy.erasure import request_erasure
from tests.support.lti import Launcher
from tests.support.pathway_web import audit_rows, csrf_token, open_tool, parse_html, user_pk
from tests.web.test_admin_access import other_platform, sandbox_pk, tool_admin


def ask(app: Flask, sub: str) -> int:
    pk = user_pk(app, sub)
    view, created = request_erasure(
        app.extensions["lti_tool"],
        registration_pk=sandbox_pk(app),
        subject_user_pk=pk,
        requested_by_user_pk=pk,
        context_pk=None,
        reason="leaving the programme",
    )
    assert created
    return view.id


def test_tool_admin_approves_after_seeing_what_happens(launcher: Launcher) -> None:
    app = launcher.app
    open_tool(launcher, "student1")
    request_id = ask(app, "1001")
    client = tool_admin(app)
    listing = client.get("/admin/erasure").get_data(as_text=True)
    assert f"Request {request_id}" in listing and "Sam Student" in listing
    path = f"/admin/erasure/{request_id}"
    page = client.get(path).get_data(as_text=True)
    assert "This cannot be undone." in page
    assert client.post(path, data={"decision": "approve"}).status_code == 400  # no CSRF token
    with app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(User.id).where(User.sub == "1001")) is not None

    done = client.post(
        path, data={"csrf_token": csrf_token(page), "decision": "approve"}, follow_redirects=True
    )
    assert f"Erasure request {request_id} approved" in done.get_data(as_text=True)
    with app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(User.id).where(User.sub == "1001")) is None
    approved = [r for r in audit_rows(app) if r["action"] == "privacy.erasure_approved"]
    assert approved and approved[0]["new"]["decided_by"] == "tool admin root"
    decided = parse_html(client.get("/admin/erasure").get_data(as_text=True)).text
    assert f"Request {request_id}: approved" in decided


def test_rejecting_needs_a_reason(launcher: Launcher) -> None:
    app = launcher.app
    open_tool(launcher, "student2")
    request_id = ask(app, "1002")
    client = tool_admin(app)
    path = f"/admin/erasure/{request_id}"
    token = csrf_token(client.get(path).get_data(as_text=True))
    empty = client.post(path, data={"csrf_token": token, "decision": "reject", "reason": " "})
    assert empty.status_code == 302 and empty.headers["Location"].endswith(path)
    assert "pending" in client.get(path).get_data(as_text=True)
    client.post(path, data={"csrf_token": token, "decision": "reject", "reason": "exam board"})
    page = client.get(path).get_data(as_text=True)
    assert "rejected" in page and "tool admin root: exam board" in page
    with app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(User.id).where(User.sub == "1002")) is not None


def test_lms_admins_see_their_platform_but_do_not_decide(launcher: Launcher) -> None:
    app = launcher.app
    open_tool(launcher, "student1")
    request_id = ask(app, "1001")
    lms_admin = open_tool(launcher, "admin")
    listing = lms_admin.client.get("/admin/erasure").get_data(as_text=True)
    assert f"Request {request_id}" in listing
    page = lms_admin.client.get(f"/admin/erasure/{request_id}").get_data(as_text=True)
    assert "Erase this person" not in page and "A tool administrator decides" in page
    refused = lms_admin.client.post(
        f"/admin/erasure/{request_id}",
        data={"csrf_token": csrf_token(lms_admin.page), "decision": "approve"},
    )
    assert refused.status_code == 403
    with app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(User.id).where(User.sub == "1001")) is not None

    # Another platform's admin sees nothing of it.
    from lti_tool.admin.erasure import erasure_requests
    from lti_tool.admin.identity import AdminIdentity

    b_pk, _ = other_platform(app)
    other = AdminIdentity("B admin", "lms_admin", b_pk)
    assert erasure_requests(app.extensions["lti_tool"], other) == []
