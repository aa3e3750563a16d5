"""Who may let a deployment in (``admin/deployments.py``): a deployment never approved, or
switched off by a tool admin, waits for a tool admin whatever an LMS admin of the platform does
first; an LMS admin switches an approved deployment of their platform off and on. The state is
kept on the deployment and the pages say it in words."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.admin.audit_words import describe
from lti_tool.lti import claims as c
from lti_tool.lti import registry
from lti_tool.persistence.models import Deployment
from tests.support.lti import Launcher
from tests.support.pathway_web import audit_rows, csrf_token, open_tool, parse_html
from tests.web.test_admin_access import sandbox_pk, tool_admin
from tests.web.test_admin_pages import sandbox_deployment

WAITING = "sub-account-42"


def waiting_deployment(app: Flask) -> int:
    """A deployment of the sandbox registration recorded as never approved: its pk."""
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        registry.record_unknown_deployment(session, sandbox_pk(app), WAITING)
        pk = session.scalar(select(Deployment.id).where(Deployment.deployment_id == WAITING))
    assert pk is not None
    return int(pk)


def state_of(app: Flask, dep: int) -> tuple[bool, str]:
    with app.extensions["lti_tool"].db.read_only() as session:
        row = session.get(Deployment, dep)
        assert row is not None
        return row.active, row.approval


def switch(client: FlaskClient, app: Flask, dep: int, action: str) -> int:
    """POST the deployment's ``activate`` or ``deactivate`` with the page's form token."""
    pk = sandbox_pk(app)
    token = csrf_token(client.get(f"/admin/registrations/{pk}").get_data(as_text=True))
    path = f"/admin/registrations/{pk}/deployments/{dep}/{action}"
    return int(client.post(path, data={"csrf_token": token}).status_code)


def deployment_row(client: FlaskClient, app: Flask, deployment_id: str) -> tuple[str, str]:
    """The registration page's status and action cells of one deployment, in words."""
    page = parse_html(client.get(f"/admin/registrations/{sandbox_pk(app)}").get_data(as_text=True))
    table = page.find("section", **{"aria-labelledby": "deployments"})
    [row] = [r for r in table.find_all("tr") if r.find("th") and r.find("th").text == deployment_id]
    status = row.find("td", **{"data-label": "Status"}).text
    action = " ".join(row.find("td", **{"data-label": "Action"}).text.split())
    return status, action


def test_an_lms_admin_cannot_approve_a_waiting_deployment_by_deactivating_it_first(
    launcher: Launcher,
) -> None:
    # Outside review: "deactivating" a waiting deployment wrote a deployment.deactivate audit
    # entry, from which it read as merely inactive, which an LMS admin may activate.
    app = launcher.app
    dep = waiting_deployment(app)
    lms_admin = open_tool(launcher, "admin").client
    assert switch(lms_admin, app, dep, "activate") == 403
    switch(lms_admin, app, dep, "deactivate")
    assert switch(lms_admin, app, dep, "activate") == 403
    assert state_of(app, dep) == (False, "pending")
    assert audit_rows(app) == []  # switching off what was off changed nothing
    # It still waits on the tool admin's dashboard, and its launches are still refused.
    dashboard = parse_html(tool_admin(app).get("/admin/").get_data(as_text=True))
    waiting = dashboard.find("section", **{"aria-labelledby": "waiting"})
    assert waiting is not None and WAITING in waiting.text
    refused = launcher.launch(app.test_client(), changes={c.DEPLOYMENT_ID: WAITING})
    assert refused.status_code == 403
    assert "has not been approved yet" in refused.get_data(as_text=True)


def test_the_lms_admin_is_told_a_waiting_deployment_is_a_tool_admins_to_approve(
    launcher: Launcher,
) -> None:
    app = launcher.app
    waiting_deployment(app)
    lms_admin = open_tool(launcher, "admin").client
    status, action = deployment_row(lms_admin, app, WAITING)
    assert status == "Waiting for approval by a tool administrator"
    assert action == "Only a tool administrator can approve it."
    dashboard = parse_html(lms_admin.get("/admin/").get_data(as_text=True)).text
    assert "refused until a tool administrator approves them" in dashboard
    root = tool_admin(app)
    assert deployment_row(root, app, WAITING) == (
        "Waiting for approval by a tool administrator",
        "Activate",
    )


def test_a_tool_admins_switching_off_holds_against_the_lms_admin(launcher: Launcher) -> None:
    app = launcher.app
    dep = sandbox_deployment(app)
    deployment_id = launcher.platform.deployment_id
    lms_admin = open_tool(launcher, "admin").client  # signed in before the switch
    root = tool_admin(app)
    assert switch(root, app, dep, "deactivate") == 302

    assert deployment_row(lms_admin, app, deployment_id) == (
        "Switched off by a tool administrator",
        "Only a tool administrator can activate it again.",
    )
    token = csrf_token(lms_admin.get(f"/admin/registrations/{sandbox_pk(app)}").get_data(True))
    refused = lms_admin.post(
        f"/admin/registrations/{sandbox_pk(app)}/deployments/{dep}/activate",
        data={"csrf_token": token},
    )
    assert refused.status_code == 403
    assert "only a tool administrator can switch it back on" in refused.get_data(as_text=True)
    # The detour of switching it off again first changes nothing either.
    switch(lms_admin, app, dep, "deactivate")
    assert switch(lms_admin, app, dep, "activate") == 403
    assert state_of(app, dep) == (False, "switched_off")
    assert deployment_row(root, app, deployment_id) == (
        "Switched off by a tool administrator",
        "Activate",
    )
    assert [r["action"] for r in audit_rows(app)] == ["deployment.deactivate"]

    assert switch(root, app, dep, "activate") == 302
    assert state_of(app, dep) == (True, "approved")
    assert launcher.launch(app.test_client()).status_code == 200


def test_an_lms_admin_switches_an_approved_deployment_off_and_on(launcher: Launcher) -> None:
    app = launcher.app
    dep = sandbox_deployment(app)
    deployment_id = launcher.platform.deployment_id
    lms_admin = open_tool(launcher, "admin").client
    assert switch(lms_admin, app, dep, "deactivate") == 302
    assert state_of(app, dep) == (False, "approved")
    root = tool_admin(app)
    assert deployment_row(root, app, deployment_id) == (
        "Switched off by an LMS administrator",
        "Activate",
    )
    assert switch(lms_admin, app, dep, "activate") == 302
    assert state_of(app, dep) == (True, "approved")
    rows = audit_rows(app)
    assert [(r["action"], r["old"], r["new"]["approval"]) for r in rows] == [
        ("deployment.deactivate", {"active": True, "approval": "approved"}, "approved"),
        ("deployment.activate", {"active": False, "approval": "approved"}, "approved"),
    ]

    # Once a tool admin switches the same deployment off too, it is theirs to switch on.
    assert switch(lms_admin, app, dep, "deactivate") == 302
    assert switch(root, app, dep, "deactivate") == 302
    assert state_of(app, dep) == (False, "switched_off")
    assert switch(lms_admin, app, dep, "activate") == 403


def test_a_tool_admins_refusal_of_a_waiting_deployment_is_a_switching_off(
    launcher: Launcher,
) -> None:
    app = launcher.app
    dep = waiting_deployment(app)
    root = tool_admin(app)
    assert switch(root, app, dep, "deactivate") == 302
    assert state_of(app, dep) == (False, "switched_off")
    assert "Waiting for approval" not in root.get("/admin/").get_data(as_text=True)
    refused = launcher.launch(app.test_client(), changes={c.DEPLOYMENT_ID: WAITING})
    assert "has been switched off by an administrator" in refused.get_data(as_text=True)


def test_the_audit_log_says_who_may_switch_it_back_on(launcher: Launcher) -> None:
    app = launcher.app
    dep = waiting_deployment(app)
    root = tool_admin(app)
    assert switch(root, app, dep, "activate") == 302
    assert switch(root, app, dep, "deactivate") == 302
    page = parse_html(root.get("/admin/audit").get_data(as_text=True))
    said = [row.find_all("td")[3].text for row in page.find("tbody").find_all("tr")]
    assert said[1].startswith(f"Approved deployment {WAITING} of sandbox")
    assert said[0].startswith(
        f"Deactivated deployment {WAITING} of sandbox; only a tool administrator can activate "
        "it again"
    )
    words = {"deployment_id": "7", "registration": "lms"}
    off = {"active": True, "approval": "approved"}
    assert describe(
        "deployment.deactivate", None, None, off, {**off, "active": False, **words}
    ) == ("Deactivated deployment 7 of lms")
    assert describe("deployment.activate", None, None, {}, {"active": True, **words}) == (
        "Activated deployment 7 of lms"
    )
