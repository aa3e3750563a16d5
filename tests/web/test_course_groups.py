"""Tutor groups from the LTI Course Groups service: fetched after the roster (the platform's
fake checks Accept and scope), shown in the class view, its CSV and JSON, and used as a
filter; a platform without the service, or without the scope granted, shows no filter."""

from __future__ import annotations

import re
import time

from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.lti import claims as c
from lti_tool.pathway.groups import refresh_groups
from lti_tool.persistence.models import Context, CourseGroup, CourseGroupMember
from tests.support.lti import Launcher, launch_token


def _staff(launcher: Launcher, **changes: object) -> tuple[FlaskClient, dict[str, str]]:
    client = launcher.app.test_client()
    response = launcher.launch(client, "teacher1", changes=dict(changes) if changes else None)
    assert response.status_code == 200, response.get_data(as_text=True)
    return client, {"Authorization": f"Bearer {launch_token(response.get_data(as_text=True))}"}


def _context_pk(launcher: Launcher) -> int:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        pk = session.scalar(select(Context.id))
        assert pk is not None
        return int(pk)


def _wait_for_groups(launcher: Launcher, context_pk: int) -> None:
    deadline = time.monotonic() + 10
    services = launcher.app.extensions["lti_tool"]
    while time.monotonic() < deadline:
        with services.db.read_only() as session:
            context = session.get(Context, context_pk)
            fetched = context is not None and context.groups_fetched_at is not None
        # …and the background refresh has let go of the course.
        if fetched and services.store.get("groups_refresh", str(context_pk)) is None:
            return
        time.sleep(0.05)
    raise AssertionError("the groups were not fetched after the first staff launch")


def test_first_staff_launch_fetches_groups_and_the_class_view_filters_by_them(
    launcher: Launcher,
) -> None:
    client, bearer = _staff(launcher)
    context_pk = _context_pk(launcher)
    _wait_for_groups(launcher, context_pk)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        groups = {g.name: g for g in session.scalars(select(CourseGroup))}
        assert set(groups) == {"Tutor group A", "Tutor group B"}
        assert {g.set_name for g in groups.values()} == {"Tutor groups"}
        members = session.scalars(select(CourseGroupMember)).all()
        assert len(members) == 3
    # One call for the groups, one for the sets, one per active student (Grace is in none).
    assert launcher.platform.counters["groups"] == 2 + 4

    page = client.get("/staff/class/", headers=bearer).get_data(as_text=True)
    assert '<label for="group">Tutor group</label>' in page
    assert "Tutor groups: Tutor group A" in page
    group_a = groups["Tutor group A"].id
    filtered = client.get(f"/staff/class/?group={group_a}", headers=bearer)
    text = filtered.get_data(as_text=True)
    assert "2 students" in text and "Sam Student" in text and "Priya Patel" in text
    assert "Owen Hughes" not in text
    assert re.search(rf'<option value="{group_a}" selected>', text)

    rows = client.get(f"/api/context/students?group={group_a}", headers=bearer).get_json()
    assert sorted(r["name"] for r in rows) == ["Priya Patel", "Sam Student"]
    assert all(r["groups"] == ["Tutor group A"] for r in rows)
    assert all("user_pk" not in r for r in rows)
    csv_text = client.get("/staff/class/export.csv", headers=bearer).get_data(as_text=True)
    assert csv_text.splitlines()[0].endswith(",groups")
    assert any(line.endswith(",Tutor group B") for line in csv_text.splitlines())


def test_a_group_of_another_course_or_an_unknown_id_does_not_filter(launcher: Launcher) -> None:
    client, bearer = _staff(launcher)
    _wait_for_groups(launcher, _context_pk(launcher))
    text = client.get("/staff/class/?group=999999", headers=bearer).get_data(as_text=True)
    assert "4 students" in text


def test_groups_are_replaced_on_refresh_and_membership_follows_the_platform(
    launcher: Launcher,
) -> None:
    client, bearer = _staff(launcher)
    context_pk = _context_pk(launcher)
    _wait_for_groups(launcher, context_pk)
    launcher.platform.groups = [
        {"id": "tg-c", "name": "Tutor group C", "set_id": "tutor", "members": ["1003", "1001"]}
    ]
    answer = client.post("/api/context/roster/refresh", headers=bearer)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["groups"] == {"groups": 1, "memberships": 2}
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert [g.name for g in session.scalars(select(CourseGroup))] == ["Tutor group C"]


def test_paged_group_lists_are_followed(launcher: Launcher) -> None:
    _staff(launcher)
    context_pk = _context_pk(launcher)
    _wait_for_groups(launcher, context_pk)
    launcher.platform.groups = [
        {"id": f"g{n}", "name": f"Group {n:02d}", "members": ["1001"]} for n in range(12)
    ]
    services = launcher.app.extensions["lti_tool"]
    with services.db.unit_of_work() as session:
        context = session.get(Context, context_pk)
        assert context is not None and context.groups_url
        context.groups_url = context.groups_url + "?limit=5"
    outcome = refresh_groups(services, context_pk)
    assert outcome is not None and outcome.groups == 12
    # Sam is in all twelve: his own list was paged as well.
    assert outcome.memberships == 12


def test_no_groups_service_or_no_scope_means_no_filter(launcher: Launcher) -> None:
    claim = dict(launcher.platform.launch_claims("teacher1", "n")[c.GROUPS_SERVICE])
    claim["scope"] = []
    client, bearer = _staff(launcher, **{c.GROUPS_SERVICE: claim})
    context_pk = _context_pk(launcher)
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        context = session.get(Context, context_pk)
        assert context is not None and context.groups_url is None
    assert refresh_groups(launcher.app.extensions["lti_tool"], context_pk) is None
    page = client.get("/staff/class/", headers=bearer).get_data(as_text=True)
    assert "Tutor group" not in page
    assert "groups" not in launcher.platform.counters


def test_the_fake_refuses_what_a_platform_refuses(launcher: Launcher) -> None:
    url = "/api/groups/pgcert-cl-2027/groups"
    wrong_accept = launcher.sandbox.get(url, headers={"Accept": "application/json"})
    assert wrong_accept.status_code == 400
    no_token = launcher.sandbox.get(
        url, headers={"Accept": "application/vnd.ims.lti-gs.v1.contextgroupcontainer+json"}
    )
    assert no_token.status_code == 401


def test_a_students_groups_are_in_their_privacy_export(launcher: Launcher) -> None:
    _staff(launcher)
    _wait_for_groups(launcher, _context_pk(launcher))
    student = launcher.app.test_client()
    page = launcher.launch(student, "student1").get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {launch_token(page)}"}
    document = student.get("/privacy/export.json", headers=bearer).get_json()
    [membership] = document["memberships"]
    assert membership["groups"] == ["Tutor group A"]


def test_the_csv_follows_the_group_filter_and_cannot_carry_formulas(launcher: Launcher) -> None:
    launcher.platform.groups = [
        {"id": "evil", "name": '=HYPERLINK("http://x.example","y")', "members": ["1001"]},
        {"id": "tg-b", "name": "Tutor group B", "members": ["1003"]},
    ]
    client, bearer = _staff(launcher)
    _wait_for_groups(launcher, _context_pk(launcher))
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        evil = session.scalar(select(CourseGroup.id).where(CourseGroup.group_id == "evil"))
    page = client.get(f"/staff/class/?group={evil}", headers=bearer).get_data(as_text=True)
    link = re.search(r'href="(/staff/class/export\.csv[^"]*)"', page)
    assert link and f"group={evil}" in link.group(1)
    text = client.get(f"/staff/class/export.csv?group={evil}", headers=bearer).get_data(
        as_text=True
    )
    lines = text.splitlines()[1:]
    assert lines and all(line.startswith("1001,") for line in lines)  # Sam only
    assert all(line.endswith(''',"'=HYPERLINK(""http://x.example"",""y"")"''') for line in lines)


def test_one_refresh_of_a_courses_groups_at_a_time(launcher: Launcher) -> None:
    client, bearer = _staff(launcher)
    context_pk = _context_pk(launcher)
    _wait_for_groups(launcher, context_pk)
    services = launcher.app.extensions["lti_tool"]
    assert services.store.add("groups_refresh", str(context_pk), {}, 60)  # another worker's
    answer = client.post("/api/context/roster/refresh", headers=bearer)
    assert answer.status_code == 200
    assert answer.get_json()["groups"] == {"error": "The course's groups are being read already."}
