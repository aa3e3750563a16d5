"""Refusals found in review: a stored LMS token is never sent to a new server without being
entered again, and deployments waiting for approval wait for a tool admin."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool.completion.setup import source_settings
from lti_tool.lti import registry
from lti_tool.persistence.models import Deployment
from tests.support.lti import Launcher
from tests.support.pathway_web import csrf_token, open_tool
from tests.web.test_admin_access import sandbox_pk, tool_admin


def test_the_stored_token_is_not_sent_to_another_server(launcher: Launcher) -> None:
    app = launcher.app
    services = app.extensions["lti_tool"]
    pk = sandbox_pk(app)
    root = tool_admin(app)
    path = f"/admin/registrations/{pk}/source"
    token = csrf_token(root.get(path).get_data(as_text=True))
    good = launcher.platform.issuer + "/moodle/webservice/rest/server.php"
    staged = root.post(
        path,
        data={"csrf_token": token, "kind": "moodle", "endpoint_url": good, "token": "site-ws"},
    )
    assert root.post(staged.headers["Location"], data={"csrf_token": token}).status_code == 302

    lms_admin = open_tool(launcher, "admin")
    token = csrf_token(lms_admin.client.get(path).get_data(as_text=True))
    moved = "https://attacker.example/webservice/rest/server.php"
    refused = lms_admin.client.post(
        path,
        data={"csrf_token": token, "kind": "moodle", "endpoint_url": moved, "token": ""},
    )
    assert refused.status_code == 422  # the form again, with the reason
    assert "enter the token for that server" in refused.get_data(as_text=True)
    # Same server, empty token field: the stored token stays, as the page promises.
    kept = lms_admin.client.post(
        path,
        data={"csrf_token": token, "kind": "moodle", "endpoint_url": good, "token": ""},
    )
    assert kept.status_code == 302
    with services.db.read_only() as session:
        saved = source_settings(session, services.secrets, pk)
    assert saved is not None and saved.endpoint_url == good and saved.token == "site-ws"


def test_a_deployment_waiting_for_approval_waits_for_a_tool_admin(launcher: Launcher) -> None:
    app = launcher.app
    pk = sandbox_pk(app)
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        registry.record_unknown_deployment(session, pk, "sub-account-42")
        dep = session.scalar(
            select(Deployment.id).where(Deployment.deployment_id == "sub-account-42")
        )
    url = f"/admin/registrations/{pk}/deployments/{dep}/activate"
    lms_admin = open_tool(launcher, "admin")
    token = csrf_token(lms_admin.client.get(f"/admin/registrations/{pk}").get_data(as_text=True))
    assert lms_admin.client.post(url, data={"csrf_token": token}).status_code == 403
    root = tool_admin(app)
    token = csrf_token(root.get(f"/admin/registrations/{pk}").get_data(as_text=True))
    assert root.post(url, data={"csrf_token": token}).status_code == 302
    with app.extensions["lti_tool"].db.read_only() as session:
        deployment = session.get(Deployment, dep)
        assert deployment is not None and deployment.active
