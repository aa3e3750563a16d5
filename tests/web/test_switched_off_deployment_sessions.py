"""A deployment switched off ends what its launches opened, at once.

Switching a deployment off (a stranger's platform let in by Dynamic Registration, an
institution that left, a deployment an LMS administrator switched off) refused its new
launches, but the launch sessions it had already opened went on for their eight hours:
tutors kept recording, releasing and syncing results for its courses, and students kept
their pages. An LMS administrator's launch keeps only the registration's admin pages, where
the approval rules decide what they may switch on again.
"""

from __future__ import annotations

from flask.testing import FlaskClient

from lti_tool.admin.deployments import set_deployment_active_by_id
from lti_tool.admin.identity import command_line_identity
from tests.support.lti import Launcher, launch_token


def _open(launcher: Launcher, user: str) -> tuple[FlaskClient, dict[str, str]]:
    client = launcher.app.test_client()
    token = launch_token(launcher.launch(client, user).get_data(as_text=True))
    return client, {"Authorization": f"Bearer {token}"}


def _switch(launcher: Launcher, active: bool) -> None:
    services = launcher.app.extensions["lti_tool"]
    identity = command_line_identity("test")
    registration_pk = _registration_pk(launcher)
    set_deployment_active_by_id(
        services, identity, registration_pk, launcher.platform.deployment_id, active
    )


def _registration_pk(launcher: Launcher) -> int:
    from sqlalchemy import select

    from lti_tool.persistence.models import Registration

    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        pk = session.scalar(
            select(Registration.id).where(
                Registration.issuer == launcher.platform.issuer,
                Registration.client_id == launcher.platform.client_id,
            )
        )
    assert pk is not None
    return int(pk)


def test_a_tutor_session_of_a_switched_off_deployment_is_refused(launcher: Launcher) -> None:
    _open(launcher, "student1")
    client, headers = _open(launcher, "teacher1")
    assert client.get("/api/context/students", headers=headers).status_code == 200
    _switch(launcher, False)
    refused = client.get("/api/context/students", headers=headers)
    assert refused.status_code == 403, refused.get_data(as_text=True)
    assert refused.get_json()["error"]["code"] == "deployment_switched_off"
    sync = client.post("/api/context/grade-sync", headers=headers)
    assert sync.status_code == 403
    # Switched on again, the same session works again.
    _switch(launcher, True)
    assert client.get("/api/context/students", headers=headers).status_code == 200


def test_a_student_session_of_a_switched_off_deployment_is_refused(launcher: Launcher) -> None:
    client, headers = _open(launcher, "student1")
    _switch(launcher, False)
    assert client.get("/api/me/checklist", headers=headers).status_code == 403


def test_an_lms_admin_keeps_only_the_admin_pages_of_a_switched_off_deployment(
    launcher: Launcher,
) -> None:
    client, headers = _open(launcher, "admin")
    pk = _registration_pk(launcher)
    _switch(launcher, False)
    # The registration's admin pages stay (activating it again is a tool admin's then) ...
    assert client.get(f"/admin/registrations/{pk}", headers=headers).status_code == 200
    # ... but the course pages of the same launch are refused.
    refused = client.get("/api/context/students", headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "deployment_switched_off"
