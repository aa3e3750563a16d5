"""The admin pages' changes: CSRF, confirmation pages, deployments that stop and start
launches, key rotation, completion sources with masked tokens, mappings and discovery,
and the audit log they all write."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.audit import audit
from lti_tool.completion.setup import mappings_of, source_settings
from lti_tool.persistence.models import AuditEntry, Deployment, Registration, SigningKey
from lti_tool.sandbox.moodle_ws import SANDBOX_TOKEN
from tests.support.dynreg import Lms
from tests.support.lti import Launcher, form_fields, without_binding
from tests.support.pathway_web import audit_rows, csrf_token, open_tool, parse_html
from tests.web.test_admin_access import sandbox_pk, tool_admin


def sandbox_deployment(app: Flask) -> int:
    with app.extensions["lti_tool"].db.read_only() as session:
        pk = session.scalar(
            select(Deployment.id).where(Deployment.registration_id == sandbox_pk(app))
        )
    assert pk is not None
    return int(pk)


def token_of(client: FlaskClient, path: str) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def test_state_changes_without_the_csrf_token_are_refused(launcher: Launcher) -> None:
    app = launcher.app
    client = tool_admin(app)
    pk, dep = sandbox_pk(app), sandbox_deployment(app)
    posts = [
        f"/admin/registrations/{pk}/deployments/{dep}/deactivate",
        f"/admin/registrations/{pk}/deployments/{dep}/activate",
        "/admin/keys/rotate",
        f"/admin/registrations/{pk}/source",
        f"/admin/registrations/{pk}/mapping",
        f"/admin/registrations/{pk}/mapping/discover",
        "/admin/logout",
    ]
    with app.extensions["lti_tool"].db.read_only() as session:
        keys_before = len(session.scalars(select(SigningKey)).all())
    for path in posts:
        for token in (None, "forged"):
            data = {"kind": "manual", "mode": "course", "code": "GB080", "course_id": "9"}
            if token:
                data["csrf_token"] = token
            response = client.post(path, data=data)
            assert response.status_code == 400, path
            assert "The form expired" in response.get_data(as_text=True)
    with app.extensions["lti_tool"].db.read_only() as session:
        assert session.get(Deployment, dep).active is True
        assert len(session.scalars(select(SigningKey)).all()) == keys_before
    assert audit_rows(app) == []
    assert client.get("/admin/").status_code == 200  # still signed in: logout was refused too


def test_platform_kinds_and_sources_are_named_not_coded(launcher: Launcher) -> None:
    """Outside review: the registration pages showed "generic" and "moodle"."""
    app = launcher.app
    client = tool_admin(app)
    pk = sandbox_pk(app)
    with app.extensions["lti_tool"].db.read_only() as session:
        code = session.get(Registration, pk).kind
    words = {"moodle": "Moodle", "canvas": "Canvas", "generic": "Other LTI 1.3 platform"}[code]
    for path in ("/admin/", "/admin/registrations", f"/admin/registrations/{pk}"):
        page = parse_html(client.get(path).get_data(as_text=True)).find("main").text
        assert words in page, path
        assert f"({code})" not in page and f"Kind {code}" not in page, path


def test_deactivating_asks_first_and_stops_launches(launcher: Launcher) -> None:
    app = launcher.app
    pk, dep = sandbox_pk(app), sandbox_deployment(app)
    lms_admin = open_tool(launcher, "admin")
    path = f"/admin/registrations/{pk}/deployments/{dep}/deactivate"
    detail = parse_html(lms_admin.client.get(f"/admin/registrations/{pk}").get_data(as_text=True))
    links = [a.attrs["href"] for a in detail.find_all("a") if a.attrs.get("href", "")[:1] == "/"]
    assert path in [without_binding(href) for href in links if href.startswith(path)]

    confirm = lms_admin.client.get(path)
    assert confirm.status_code == 200
    page = parse_html(confirm.get_data(as_text=True))
    assert page.find("h1").text == f"Deactivate deployment {launcher.platform.deployment_id}?"
    [form] = [f for f in page.find_all("form") if f.attrs["action"].startswith(path)]
    assert without_binding(form.attrs["action"]) == path
    assert form.attrs["method"] == "post"
    assert launcher.launch(app.test_client()).status_code == 200  # GET changed nothing

    done = lms_admin.client.post(
        path, data={"csrf_token": csrf_token(confirm.get_data(as_text=True))}
    )
    assert done.status_code == 302
    refused = launcher.launch(app.test_client())
    assert refused.status_code in (400, 403), refused.status_code

    # Back on: the page's activate form (no confirmation needed to let launches in again).
    page_text = lms_admin.client.get(f"/admin/registrations/{pk}").get_data(as_text=True)
    assert "Switched off by an LMS administrator" in parse_html(page_text).text
    activate = f"/admin/registrations/{pk}/deployments/{dep}/activate"
    again = lms_admin.client.post(activate, data={"csrf_token": csrf_token(page_text)})
    assert again.status_code == 302
    assert launcher.launch(app.test_client()).status_code == 200
    rows = audit_rows(app)
    assert [r["action"] for r in rows] == ["deployment.deactivate", "deployment.activate"]
    assert rows[0]["old"] == {"active": True, "approval": "approved"}
    assert rows[0]["new"]["admin"] == f"LMS admin Ada Admin (registration {pk})"
    assert rows[0]["actor_user_pk"] is not None


def test_key_rotation_from_the_page(launcher: Launcher) -> None:
    app = launcher.app
    client = tool_admin(app)
    jwks = app.test_client().get("/.well-known/jwks.json").get_json()
    old_kid = jwks["keys"][0]["kid"]
    keys_page = client.get("/admin/keys").get_data(as_text=True)
    assert old_kid in keys_page and "Rotate the signing key" in keys_page
    confirm = client.get("/admin/keys/rotate")
    page = parse_html(confirm.get_data(as_text=True))
    assert page.find("h1").text == "Rotate the tool's signing key?"
    buttons = [b.text for b in page.find_all("button")]
    assert "Rotate the key" in buttons and "Replace the key now" in buttons
    assert "may refuse" in confirm.get_data(as_text=True)
    assert len(app.test_client().get("/.well-known/jwks.json").get_json()["keys"]) == 1

    done = client.post(
        "/admin/keys/rotate",
        data={"csrf_token": csrf_token(confirm.get_data(as_text=True)), "when": "staged"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    kids = [k["kid"] for k in app.test_client().get("/.well-known/jwks.json").get_json()["keys"]]
    assert len(kids) == 2 and kids[1] == old_kid
    text = done.get_data(as_text=True)
    assert f"New key {kids[0]} is published and begins signing at" in text
    rows = {
        row.find("th").text: {td.attrs["data-label"]: td.text for td in row.find_all("td")}
        for row in parse_html(text).find("tbody").find_all("tr")
    }
    assert rows[kids[0]]["Status"] == "pending" and rows[kids[0]]["Stops signing"] == ""
    assert rows[old_kid]["Status"] == "active"
    # The old key stops signing when the new one begins.
    assert rows[old_kid]["Stops signing"].startswith(rows[kids[0]]["Signs from"] + ",")
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert f"Active key <code>{old_kid}</code>" in dashboard
    assert f"New key <code>{kids[0]}</code> is published and begins signing at" in dashboard
    entry = audit_rows(app)[-1]
    assert entry["action"] == "keys.rotate"
    assert entry["old"] == {"active": [old_kid]} and entry["new"]["active"] == [kids[0]]
    assert entry["new"]["admin"] == "tool admin root"

    # The emergency choice: a new key signs at once and replaces the pending one.
    now = client.post(
        "/admin/keys/rotate",
        data={"csrf_token": csrf_token(text), "when": "now"},
        follow_redirects=True,
    )
    text = now.get_data(as_text=True)
    kids_now = [
        k["kid"] for k in app.test_client().get("/.well-known/jwks.json").get_json()["keys"]
    ]
    # The old key may be stolen: it is withdrawn, not kept for the grace period.
    assert len(kids_now) == 1 and kids_now[0] not in (old_kid, kids[0])
    assert f"New active key {kids_now[0]}, signing now" in text and "may refuse" in text
    assert "the earlier keys are withdrawn" in text and "pending" not in text
    rows = {
        row.find("th").text: {td.attrs["data-label"]: td.text for td in row.find_all("td")}
        for row in parse_html(text).find("tbody").find_all("tr")
    }
    assert rows[old_kid]["Status"] == "retired"
    assert rows[old_kid]["Stops signing"].endswith(", withdrawn at once")
    entry = audit_rows(app)[-1]
    assert entry["old"] == {"active": [old_kid], "pending": [kids[0]]}
    assert entry["new"]["active"] == [kids_now[0]] and entry["new"]["withdrawn"] == [old_kid]


def test_changing_the_completion_source_is_confirmed_and_masked(launcher: Launcher) -> None:
    app = launcher.app
    services = app.extensions["lti_tool"]
    client = tool_admin(app)
    pk = sandbox_pk(app)
    path = f"/admin/registrations/{pk}/source"
    token = token_of(client, path)

    bad = client.post(
        path,
        data={
            "csrf_token": token,
            "kind": "moodle",
            "endpoint_url": launcher.platform.issuer + "/moodle/login/index.php",
            "token": "secret-token-1",
            "mode": "course",
        },
    )
    assert bad.status_code == 422
    assert "is a page of the site, not its address" in bad.get_data(as_text=True)
    assert "secret-token-1" not in bad.get_data(as_text=True)

    url = launcher.platform.issuer + "/moodle/webservice/rest/server.php"
    staged = client.post(
        path,
        data={"csrf_token": token, "kind": "moodle", "endpoint_url": url, "token": "secret-1"},
    )
    assert staged.status_code == 302
    confirm_path = staged.headers["Location"]
    confirm = client.get(confirm_path).get_data(as_text=True)
    assert "the new token you entered (not shown)" in confirm and "secret-1" not in confirm
    with services.db.read_only() as session:
        assert source_settings(session, services.secrets, pk) is None  # not saved yet

    done = client.post(confirm_path, data={"csrf_token": token}, follow_redirects=True)
    assert "The completion source is changed." in done.get_data(as_text=True)
    assert "secret-1" not in done.get_data(as_text=True)
    with services.db.read_only() as session:
        saved = source_settings(session, services.secrets, pk)
    assert saved is not None and saved.kind == "moodle" and saved.token == "secret-1"
    assert client.post(confirm_path, data={"csrf_token": token}).status_code == 404  # used

    # An empty token field keeps the stored token; another admin cannot apply one's change.
    again = client.post(
        path,
        data={"csrf_token": token, "kind": "moodle", "endpoint_url": url, "mode": "activity"},
    )
    other = tool_admin(app, "second")
    assert other.get(again.headers["Location"]).status_code == 404
    client.post(again.headers["Location"], data={"csrf_token": token})
    with services.db.read_only() as session:
        kept = source_settings(session, services.secrets, pk)
    assert kept is not None and kept.token == "secret-1" and kept.mode.value == "activity"
    changes = [r for r in audit_rows(app) if r["action"] == "completion_source.change"]
    assert [c["new"]["token"] for c in changes] == ["new", "kept"]
    assert "secret-1" not in repr(audit_rows(app))


def test_mapping_set_and_discovered(launcher: Launcher) -> None:
    app = launcher.app
    services = app.extensions["lti_tool"]
    client = open_tool(launcher, "admin").client  # an LMS admin, on their own platform
    pk = sandbox_pk(app)
    path = f"/admin/registrations/{pk}/mapping"
    page = client.get(path).get_data(as_text=True)
    assert "Discovery needs a Moodle or Canvas completion source" in page
    token = csrf_token(page)
    unknown = client.post(
        path, data={"csrf_token": token, "code": "XX999", "course_id": "4"}, follow_redirects=True
    )
    assert "XX999 is not a CPD course" in unknown.get_data(as_text=True)
    saved = client.post(
        path, data={"csrf_token": token, "code": "GB085", "course_id": "17"}, follow_redirects=True
    )
    assert "GB085 is mapped." in saved.get_data(as_text=True)

    url = launcher.platform.issuer + "/moodle/webservice/rest/server.php"
    staged = client.post(
        f"/admin/registrations/{pk}/source",
        data={"csrf_token": token, "kind": "moodle", "endpoint_url": url, "token": SANDBOX_TOKEN},
    )
    client.post(staged.headers["Location"], data={"csrf_token": token})
    found = client.post(f"{path}/discover", data={"csrf_token": token, "mode": "courses"})
    assert found.status_code == 200
    result = parse_html(found.get_data(as_text=True))
    rows = {
        r.find("th").text: r.find_all("td")[0].text for r in result.find("tbody").find_all("tr")
    }
    assert rows["GB080"] == "3" and rows["GB085"] == "8"
    with services.db.read_only() as session:
        assert {m.course_code for m in mappings_of(session, pk)} == {"GB085"}  # not stored yet
    apply = result.find("form", method="post").attrs["action"]
    stored = client.post(apply, data={"csrf_token": token}, follow_redirects=True)
    assert f"Stored {len(rows)} mappings" in stored.get_data(as_text=True)
    with services.db.read_only() as session:
        mapped = {m.course_code: (m.course_id, m.origin) for m in mappings_of(session, pk)}
    assert mapped["GB080"] == ("3", "discovered") and mapped["GB085"] == ("8", "discovered")
    assert client.post(apply, data={"csrf_token": token}).status_code == 404  # once only
    actions = [r["action"] for r in audit_rows(app)]
    assert actions == ["mapping.set", "completion_source.change", "mapping.discover"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_audit_log_is_newest_first_paged_and_filtered(launcher: Launcher) -> None:
    app = launcher.app
    open_tool(launcher, "teacher1")
    with app.extensions["lti_tool"].db.unit_of_work() as session:
        for n in range(55):
            audit(
                session,
                action="module_start.cohort" if n % 2 else "qualification.choose",
                actor_user_pk=None,
                context_pk=None,
                subject=f"entry {n:02d}",
            )
    client = tool_admin(app)
    first = parse_html(client.get("/admin/audit").get_data(as_text=True))
    subjects = [r.find_all("td")[3].text for r in first.find("tbody").find_all("tr")]
    assert len(subjects) == 50
    assert subjects[0].endswith("entry 54") and subjects[-1].endswith("entry 05")
    second = parse_html(client.get("/admin/audit?page=2").get_data(as_text=True))
    last = [r.find_all("td")[3].text for r in second.find("tbody").find_all("tr")][-1]
    assert last.endswith("entry 00")
    only = parse_html(client.get("/admin/audit?action=qualification.choose").get_data(as_text=True))
    actions = {r.find_all("td")[0].text for r in only.find("tbody").find_all("tr")}
    assert actions == {"Qualification chosen"}
    assert "28 entries" in only.text
    with app.extensions["lti_tool"].db.read_only() as session:
        assert len(session.scalars(select(AuditEntry)).all()) == 55


def test_a_dynamic_registration_in_approve_mode_waits_on_the_dashboard(
    sqlite_tool_factory: Any, lms: Lms
) -> None:
    app = sqlite_tool_factory(dynamic_registration="approve").app
    start = app.test_client().get(lms.moodle_start()).get_data(as_text=True)
    installed = app.test_client().post("/lti/register", data=form_fields(start))
    assert installed.status_code == 200, installed.get_data(as_text=True)
    name = f"moodle-127.0.0.1:{lms.port}"

    client = tool_admin(app)
    dashboard = parse_html(client.get("/admin/").get_data(as_text=True))
    waiting = dashboard.find("section", **{"aria-labelledby": "waiting"})
    assert f"{name} , deployment 2 (seen" in waiting.text  # text of <a>, then the rest
    detail = waiting.find("a").attrs["href"]
    page = client.get(detail).get_data(as_text=True)
    assert "Waiting for approval" in page
    form = [f for f in parse_html(page).find_all("form") if f.attrs["action"].endswith("/activate")]
    activated = client.post(form[0].attrs["action"], data={"csrf_token": csrf_token(page)})
    assert activated.status_code == 302
    after = client.get("/admin/").get_data(as_text=True)
    assert "Waiting for approval" not in after
    # Deactivated by a tool admin later, it is switched off, no longer "waiting for approval".
    deactivate = form[0].attrs["action"].replace("/activate", "/deactivate")
    client.post(deactivate, data={"csrf_token": csrf_token(page)})
    page = client.get(detail).get_data(as_text=True)
    text = parse_html(page).text
    assert "Switched off by a tool administrator" in text and "Waiting for approval" not in text
