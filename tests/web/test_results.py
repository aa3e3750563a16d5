"""Recording assessment results: validation, audit, the outbox, holding and releasing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool.persistence.models import AuditEntry, OutboxRow
from tests.support.grade_sync import make_eligible
from tests.support.lti import Launcher, launch_token, staff_launch


def _count(launcher: Launcher, model: Any) -> int:
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_result_needs_the_cpd_requirement_or_an_override(launcher: Launcher) -> None:
    client, headers = staff_launch(launcher)
    refused = client.put(
        "/api/context/results/B832/1001", json={"score": 70, "outcome": "pass"}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "cpd_incomplete"
    assert _count(launcher, OutboxRow) == 0
    accepted = client.put(
        "/api/context/results/B832/1001",
        json={"score": 70, "outcome": "pass", "override_reason": "APL from previous study"},
        headers=headers,
    )
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert accepted.get_json()["outcome"] == "pass"
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "result.save"))
        assert audit is not None and audit.reason == "APL from previous study"
        assert audit.old is None and audit.new["score"] == 70
        outbox = session.scalar(select(OutboxRow))
        assert outbox is not None and outbox.status == "pending"
        assert outbox.payload["userId"] == "1001" and outbox.payload["scoreGiven"] == 70
        assert outbox.payload["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"score": 101, "outcome": "pass"}, 422, "bad_score"),
        ({"score": -1, "outcome": "pass"}, 422, "bad_score"),
        ({"score": "seventy", "outcome": "pass"}, 422, "bad_number"),
        ({"score": True, "outcome": "pass"}, 422, "bad_number"),
        ({"score": 5, "max": 0, "outcome": "pass"}, 422, "bad_max"),
        ({"score": 50, "outcome": "excellent"}, 422, "bad_outcome"),
        ({"outcome": "pass"}, 422, "bad_number"),
    ],
)
def test_bad_results_are_refused(
    launcher: Launcher, body: dict[str, Any], status: int, code: str
) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    response = client.put("/api/context/results/B832/1001", json=body, headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert _count(launcher, OutboxRow) == 0


def test_a_pass_with_a_low_score_needs_confirming(launcher: Launcher) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    url = "/api/context/results/B832/1001"
    refused = client.put(url, json={"score": 30, "outcome": "pass"}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "outcome_unconfirmed"
    assert _count(launcher, OutboxRow) == 0
    body = {"score": 30, "outcome": "pass", "outcome_confirmed": True}
    confirmed = client.put(url, json=body, headers=headers)
    assert confirmed.status_code == 200 and confirmed.get_json()["outcome"] == "pass"


def test_results_only_for_students_of_the_roster(launcher: Launcher) -> None:
    client, headers = staff_launch(launcher)
    body = {"score": 50, "outcome": "fail", "override_reason": "x"}
    assert (
        client.put("/api/context/results/B832/9999", json=body, headers=headers).status_code == 404
    )
    assert (
        client.put("/api/context/results/B832/2001", json=body, headers=headers).status_code == 403
    )  # the instructor
    assert (
        client.put("/api/context/results/B999/1001", json=body, headers=headers).status_code == 422
    )


def test_students_never_touch_results(launcher: Launcher) -> None:
    client = launcher.app.test_client()
    token = launch_token(launcher.launch(client, "student1").get_data(as_text=True))
    headers = {"Authorization": f"Bearer {token}"}
    body = {"score": 100, "outcome": "pass", "override_reason": "me"}
    assert (
        client.put("/api/context/results/B832/1001", json=body, headers=headers).status_code == 403
    )
    assert client.post("/api/context/grade-sync", headers=headers).status_code == 403
    assert client.get("/api/context/students", headers=headers).status_code == 403
    assert client.post("/api/context/results/release", json={}, headers=headers).status_code == 403


def test_held_results_are_not_queued_until_released(launcher: Launcher) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    make_eligible(launcher, "1002")
    for sub in ("1001", "1002"):
        response = client.put(
            f"/api/context/results/B832/{sub}",
            json={"score": 65, "outcome": "pass", "released": False},
            headers=headers,
        )
        assert response.status_code == 200
    assert _count(launcher, OutboxRow) == 0
    students = {s["sub"]: s for s in client.get("/api/context/students", headers=headers).json}
    b832 = next(m for m in students["1001"]["modules"] if m["code"] == "B832")
    assert b832["cpd_complete"] is True and b832["hours_completed"] == 250
    assert b832["result"]["released"] is False and b832["result"]["sync"]["status"] == "held"

    # the student does not see a held result
    student = launcher.app.test_client()
    token = launch_token(launcher.launch(student, "student1").get_data(as_text=True))
    mine = student.get("/api/me/checklist", headers={"Authorization": f"Bearer {token}"}).json
    assert mine["modules"][0]["assessment"] is None

    released = client.post("/api/context/results/release", json={"sub": "1001"}, headers=headers)
    assert released.get_json() == {"released": 1}
    assert _count(launcher, OutboxRow) == 1
    mine = student.get("/api/me/checklist", headers={"Authorization": f"Bearer {token}"}).json
    assert mine["modules"][0]["assessment"]["outcome"] == "pass"
    assert mine["qualification"]["credits_earned"] == 30
    assert client.post("/api/context/results/release", json={}, headers=headers).get_json() == {
        "released": 1
    }


def test_a_changed_result_supersedes_its_pending_sync(launcher: Launcher) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    for score in (40, 45):
        assert (
            client.put(
                "/api/context/results/B832/1001",
                json={"score": score, "outcome": "fail"},
                headers=headers,
            ).status_code
            == 200
        )
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        rows = [
            (r.status, r.payload) for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        ]
    assert [status for status, _ in rows] == ["superseded", "pending"]
    assert rows[1][1]["scoreGiven"] == 45
    assert rows[1][1]["timestamp"] > rows[0][1]["timestamp"]


def test_class_overview_lists_the_roster_with_paging(launcher: Launcher) -> None:
    client, headers = staff_launch(launcher)
    everyone = client.get("/api/context/students", headers=headers).get_json()
    # Hughes, Okafor, Patel, Student
    assert [s["sub"] for s in everyone] == ["1003", "1005", "1002", "1001"]
    assert all(len(s["modules"]) == 2 for s in everyone)
    page = client.get("/api/context/students?offset=2&limit=1", headers=headers).get_json()
    assert [s["sub"] for s in page] == ["1002"]
    assert everyone[0]["launched"] is False and everyone[0]["status"] == "active"


def test_cookie_authenticated_writes_need_csrf_even_with_an_empty_bearer(
    launcher: Launcher,
) -> None:
    client, _ = staff_launch(launcher)  # the launch also set the session cookie
    body = {"score": 50, "outcome": "fail", "override_reason": "x"}
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer  "}):
        response = client.put("/api/context/results/B832/1001", json=body, headers=headers)
        assert response.status_code == 400, headers
        assert response.get_json()["error"]["code"] == "csrf"
    assert _count(launcher, OutboxRow) == 0


def test_results_csv_is_checked_whole_and_written_all_or_nothing(launcher: Launcher) -> None:
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    make_eligible(launcher, "1002")
    bad = (
        "student,module,score,outcome,comment\n"
        "1001,B832,70,pass,Good\n"
        "1002,B832,abc,pass,\n"
        "9999,B832,50,fail,\n"
        "1003,B832,55,pass,\n"
    )
    response = client.post(
        "/api/context/results/import", data=bad, headers={**headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "Line 3:" in message and "Line 4:" in message and "Line 5:" in message
    assert "Line 2:" not in message
    assert _count(launcher, OutboxRow) == 0  # nothing of the bad file was written
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "result.save")
            )
            == 0
        )
    good = "student,module,score,outcome,max\n1001,B832,35,pass,50\n1002,B832,20,fail,50\n"
    response = client.post(
        "/api/context/results/import", data=good, headers={**headers, "Content-Type": "text/csv"}
    )
    assert response.status_code == 200 and response.get_json() == {"imported": 2}
    assert _count(launcher, OutboxRow) == 2
