"""Signed launches end to end: sandbox platform → tool login → platform auth → tool launch."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from lti_tool.lti import claims as c
from lti_tool.persistence.models import Context, Membership, ResourceLink, User
from tests.support.lti import Launcher, launch_token


def test_student_launch_through_the_sandbox_opens_the_student_view(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response = launcher.through_sandbox(client, "student1")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "My pathway" in page
    assert "Sam Student" in page
    assert response.headers["Cache-Control"] == "no-store"

    token = launch_token(page)
    info = client.get("/api/session", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert info["user"] == {
        "sub": "1001",
        "name": "Sam Student",
        "email": "sam.student@example.org",
    }
    assert info["is_staff"] is False
    assert info["context"]["label"] == "PGCERT-CL"
    # The registration's internals stay on the server (issue 10, item 1).
    assert info["platform"] == {"name": "sandbox"}
    raw = json.dumps(info)
    platform = launcher.platform
    for internal in (platform.client_id, platform.issuer, platform.deployment_id):
        assert internal not in raw


def test_instructor_launch_is_staff_and_records_user_context_link(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    response = launcher.through_sandbox(client, "teacher1")
    assert response.status_code == 200
    assert "Course settings" in response.get_data(as_text=True)
    info = client.get("/api/session").get_json()  # the session cookie works too
    assert info["is_staff"] is True
    assert info["roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]

    db = launcher.app.extensions["lti_tool"].db
    with db.read_only() as session:
        user = session.scalar(select(User).where(User.sub == "2001"))
        assert user is not None and user.email == "tess.teacher@example.org"
        context = session.scalar(select(Context))
        assert context is not None
        assert context.nrps_url and context.nrps_url.endswith("/memberships")
        assert context.ags_lineitems_url and context.ags_lineitems_url.endswith("/lineitems")
        assert session.scalar(select(func.count()).select_from(ResourceLink)) == 1
        membership = session.scalar(select(Membership).where(Membership.user_pk == user.id))
        assert membership is not None and membership.last_launch_at is not None
        # The first staff launch fetched the NRPS roster: students who never launched are known.
        assert session.scalar(select(func.count()).select_from(Membership)) == 6
        sam = session.scalar(select(User).where(User.sub == "1001"))
        assert sam is not None and sam.name == "Sam Student"


@pytest.mark.parametrize("relative", [False, True], ids=["absolute links", "relative links"])
def test_the_roster_is_read_page_by_page(launcher: Launcher, relative: bool) -> None:
    """NRPS paging by ``Link: rel="next"``: a relative target (RFC 8288 allows it) is resolved
    against the page it came in, not refused as another host."""
    launcher.platform.relative_links = relative
    nrps = {
        "context_memberships_url": launcher.platform.issuer
        + "/api/nrps/pgcert-cl-2027/memberships?limit=2",
        "service_versions": ["2.0"],
    }
    response = launcher.launch(launcher.app.test_client(), "teacher1", changes={c.NRPS: nrps})
    assert response.status_code == 200, response.get_data(as_text=True)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(Membership)) == 6
        assert session.scalar(select(User.name).where(User.sub == "1001")) == "Sam Student"


def test_the_same_launch_post_is_refused_when_replayed(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client)
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    first = launcher.post_launch(client, token, login.state)
    assert first.status_code == 200
    replay = launcher.post_launch(client, token, login.state)
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)


def test_a_replayed_id_token_with_a_fresh_state_is_refused(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    login = launcher.login(client)
    token = launcher.platform.sign(launcher.claims("student1", login.nonce))
    assert launcher.post_launch(client, token, login.state).status_code == 200
    second = launcher.login(client)
    replay = launcher.post_launch(client, token, second.state)
    assert replay.status_code == 400
    assert replay.get_json(silent=True) is None
    assert "nonce" in replay.get_data(as_text=True)


def test_api_session_refuses_missing_forged_and_expired_tokens(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    missing = client.get("/api/session")
    assert missing.status_code == 401
    body = missing.get_json()
    assert body["error"]["code"] == "no_session" and body["error"]["correlation_id"]
    forged = client.get("/api/session", headers={"Authorization": "Bearer forged-token"})
    assert forged.status_code == 401

    response = launcher.through_sandbox(client, "student1")
    token = launch_token(response.get_data(as_text=True))
    store = launcher.app.extensions["lti_tool"].store
    import hashlib

    store.delete("session", hashlib.sha256(token.encode()).hexdigest())  # as expiry would
    expired = launcher.app.test_client().get(
        "/api/session", headers={"Authorization": f"Bearer {token}"}
    )
    assert expired.status_code == 401
