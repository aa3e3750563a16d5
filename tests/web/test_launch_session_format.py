"""A launch session stored by an earlier version (the loose dict) or damaged asks its user to
launch again (401), never fails the page (500); a launch whose pathway step fails commits
nothing and opens no session."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool.lti import claims as c
from lti_tool.persistence.models import Context, Membership, ResourceLink, User
from tests.support.lti import Launcher
from tests.support.pathway_web import open_tool


def _old_format(launch: dict[str, Any]) -> dict[str, Any]:
    """The session dict of launch format 1, for the same person and course."""
    user, context = launch["user"], launch["context"]
    return {
        "user_pk": user["pk"],
        "name": user["name"],
        "email": user["email"],
        "context": context,
        "resource_link_pk": launch["resource_link_pk"],
        "sub": user["sub"],
        "roles": launch["roles"]["raw"],
        "role_names": launch["roles"]["names"],
        "is_staff": launch["roles"]["is_staff"],
        "is_admin": False,
        "limited": False,
        "registration": {"pk": launch["registration"]["pk"], "name": "sandbox"},
        "deployment": {"pk": launch["registration"]["deployment_pk"], "id": "1"},
        "custom": {},
        "page_binding": launch["binding_id"],
        "page_bound_at": launch["bound_at"],
    }


@pytest.mark.parametrize("user", ["student1", "teacher1"])
def test_a_session_in_the_old_format_gets_the_launch_again_page(
    launcher: Launcher, user: str
) -> None:
    person = open_tool(launcher, user)
    store = launcher.app.extensions["lti_tool"].store
    key = hashlib.sha256(person.token.encode()).hexdigest()
    assert person.client.get("/api/session", headers=person.bearer).status_code == 200
    store.put("session", key, _old_format(store.get("session", key)), 600)

    api = person.client.get("/api/session", headers=person.bearer)
    assert api.status_code == 401
    assert api.get_json()["error"]["code"] == "no_session"
    for path in ("/me", "/staff/", "/staff/class/", "/privacy/"):
        page = person.client.get(path, headers={**person.bearer, "Accept": "text/html"})
        assert page.status_code == 401, (path, page.status_code)
        assert "Open the tool again from your course" in page.get_data(as_text=True)


def test_a_damaged_session_gets_the_launch_again_page(launcher: Launcher) -> None:
    person = open_tool(launcher, "teacher1")
    store = launcher.app.extensions["lti_tool"].store
    key = hashlib.sha256(person.token.encode()).hexdigest()
    damaged = store.get("session", key)
    damaged["context"] = {"pk": "not a number"}
    store.put("session", key, damaged, 600)
    response = person.client.get("/api/context/students", headers=person.bearer)
    assert response.status_code == 401


def _rows(launcher: Launcher) -> list[int]:
    services = launcher.app.extensions["lti_tool"]
    with services.db.read_only() as session:
        return [
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (User, Context, ResourceLink, Membership)
        ]


def test_a_failing_pathway_step_commits_nothing_of_the_launch(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any) -> None:
        raise RuntimeError("the pathway step failed")

    monkeypatch.setattr("lti_tool.pathway.launch.preset_from_launch", fail)
    before = _rows(launcher)
    client = launcher.app.test_client()
    changes = {c.CUSTOM: {"context_history": "", "b832_start": "2027-05-30"}}
    try:
        response = launcher.launch(client, "student1", changes=changes)
    except RuntimeError:
        pass
    else:
        assert response.status_code == 500
    assert _rows(launcher) == before
    store = launcher.app.extensions["lti_tool"].store
    assert store.delete_matching("session", lambda data: True) == 0
    assert not any(
        cookie.key.startswith("lti_tool_session_") for cookie in client._cookies.values()
    )
