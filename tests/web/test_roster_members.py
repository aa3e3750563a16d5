"""The NRPS roster as the class pages read it: observers are not students, and no member entry
(an odd shape, a very long name) stops a staff launch or a roster refresh (outside review)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.persistence.models import Membership, User
from tests.support.lti import Launcher
from tests.support.pathway_web import open_tool

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


def _member(sub: str, name: str, roles: list[str], status: str = "Active") -> dict[str, Any]:
    given, family = name.split()
    return {
        "status": status,
        "user_id": sub,
        "name": name,
        "given_name": given,
        "family_name": family,
        "email": f"{given.lower()}@example.org",
        "roles": roles,
    }


@SQLITE
@pytest.mark.parametrize(
    "roles",
    [
        [LIS + "membership#Mentor"],  # a Canvas observer (parent, advisor)
        [LIS + "membership/Mentor#Advisor"],  # a Mentor sub-role
        ["Mentor"],  # the simple name, as Moodle's NRPS writes roles
    ],
    ids=["Mentor", "Mentor sub-role", "simple Mentor"],
)
def test_an_observer_in_the_roster_is_not_listed_as_a_student(
    launcher: Launcher, platform: Any, roles: list[str]
) -> None:
    teacher = open_tool(launcher, "teacher1")
    platform.roster.append(_member("9001", "Olive Observer", roles))
    # A student who also observes someone, and a member the platform gave no roles, are listed.
    platform.roster.append(_member("9003", "Lena Learner", [LIS + "membership#Learner", *roles]))
    platform.roster.append(_member("9004", "Nora Noroles", []))
    refreshed = teacher.client.post("/api/context/roster/refresh", headers=teacher.bearer)
    assert refreshed.status_code == 200, refreshed.get_data(as_text=True)[:300]
    students = teacher.client.get("/api/context/students", headers=teacher.bearer).get_json()
    subs = {s["sub"] for s in students}
    assert {"1001", "9003", "9004"} <= subs  # Learners are listed
    assert "9001" not in subs, "an observer (Mentor) is listed as a student of the class"


@SQLITE
def test_no_result_can_be_recorded_for_an_observer(launcher: Launcher, platform: Any) -> None:
    teacher = open_tool(launcher, "teacher1")
    platform.roster.append(_member("9001", "Olive Observer", [LIS + "membership#Mentor"]))
    teacher.client.post("/api/context/roster/refresh", headers=teacher.bearer)
    response = teacher.client.put(
        "/api/context/results/B832/9001",
        json={"score": 80, "outcome": "pass", "override_reason": "review"},
        headers=teacher.bearer,
    )
    assert response.status_code in (403, 404, 409, 422), (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )


@SQLITE
@pytest.mark.parametrize("odd", [None, "1004", ["1004"]], ids=["null", "string", "list"])
def test_an_odd_member_entry_does_not_break_the_first_staff_launch(
    launcher: Launcher, platform: Any, odd: Any
) -> None:
    platform.roster.append(odd)
    client = launcher.app.test_client()
    response = launcher.through_sandbox(client, "teacher1")  # fetches the roster first
    assert response.status_code == 200, response.status_code


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_long_name_in_the_roster_is_cut_to_what_the_column_holds(
    launcher: Launcher, platform: Any
) -> None:
    teacher = open_tool(launcher, "student1")  # someone has launched; then the teacher
    teacher = open_tool(launcher, "teacher1")
    member = _member("9002", "Long Name", [LIS + "membership#Learner"])
    member["family_name"] = "N" * 300  # 256..320 characters: passes the roster's [:320] cut
    platform.roster.append(member)
    response = teacher.client.post("/api/context/roster/refresh", headers=teacher.bearer)
    assert response.status_code == 200, response.status_code


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_long_name_in_the_roster_does_not_break_the_staff_launch(
    launcher: Launcher, platform: Any
) -> None:
    member = _member("9002", "Long Name", [LIS + "membership#Learner"])
    member["name"] = "N" * 300
    platform.roster.append(member)
    for _ in range(2):  # the roster is fetched again on every staff launch until it succeeds
        response = launcher.through_sandbox(launcher.app.test_client(), "teacher1")
        assert response.status_code == 200, response.status_code


@SQLITE
def test_a_roster_fetch_during_an_outage_is_still_an_outage(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staff launch goes on without a roster it cannot read, but not past a Redis or
    database outage: that is the quiet 503 page's, not a logged traceback's."""
    import redis

    from lti_tool.pathway import roster

    def down(*_: Any) -> None:
        raise redis.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(roster, "refresh_roster", down)
    response = launcher.through_sandbox(launcher.app.test_client(), "teacher1")
    assert response.status_code == 503, response.status_code

    def broken(*_: Any) -> None:
        raise KeyError("members")

    monkeypatch.setattr(roster, "refresh_roster", broken)
    response = launcher.through_sandbox(launcher.app.test_client(), "teacher1")
    assert response.status_code == 200, response.status_code


def test_a_student_listed_inactive_who_has_not_launched_since_has_left(
    launcher: Launcher, platform: Any
) -> None:
    """Only a launch after the platform was asked keeps a student listed Inactive active."""
    open_tool(launcher, "student1")  # launched before the roster below was read
    teacher = open_tool(launcher, "teacher1")
    platform.roster = [
        {**m, "status": "Inactive"} if m["user_id"] == "1001" else m for m in platform.roster
    ]
    response = teacher.client.post("/api/context/roster/refresh", headers=teacher.bearer)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["left"] == 1
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        status = session.scalar(
            select(Membership.status)
            .join(User, User.id == Membership.user_pk)
            .where(User.sub == "1001")
        )
    assert status == "left"
