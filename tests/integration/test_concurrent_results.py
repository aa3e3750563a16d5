"""Parallel writes of one result or one student's module start: real threads against SQLite and
PostgreSQL. No 5xx, ``changed_at`` strictly increasing, and each audit row's "old" is exactly
the value the previous write left."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from werkzeug.test import TestResponse

from lti_tool.persistence.models import (
    AssessmentResultRow,
    AuditEntry,
    CohortModuleStart,
    CompletionRecord,
    OutboxRow,
    StudentModuleStart,
)
from tests.support.grade_sync import make_eligible
from tests.support.lti import Launcher, launch_token

WRITERS = 8
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


def _bearer(launcher: Launcher) -> dict[str, str]:
    page = launcher.launch(launcher.app.test_client(), "teacher1").get_data(as_text=True)
    return {"Authorization": f"Bearer {launch_token(page)}"}


def _all_at_once(launcher: Launcher, request: Callable[[Any, int], TestResponse]) -> list[int]:
    """``request(client, n)`` from WRITERS threads released together; their status codes."""
    barrier = threading.Barrier(WRITERS)
    statuses: list[int] = [0] * WRITERS

    def run(n: int) -> None:
        client = launcher.app.test_client()
        barrier.wait()
        statuses[n] = request(client, n).status_code

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def test_parallel_puts_of_one_result_are_serialised(launcher: Launcher) -> None:
    headers = _bearer(launcher)
    make_eligible(launcher, "1001")

    def put(client: Any, n: int) -> TestResponse:
        body = {"score": 50 + n, "outcome": "pass", "comment": f"writer {n}"}
        return client.put("/api/context/results/B832/1001", json=body, headers=headers)

    statuses = _all_at_once(launcher, put)
    assert all(status < 500 for status in statuses), statuses
    assert statuses.count(200) >= 1

    db = launcher.app.extensions["lti_tool"].db
    with db.read_only() as session:
        result = session.scalar(select(AssessmentResultRow))
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "result.save").order_by(AuditEntry.id)
        ).all()
        outbox = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    assert result is not None
    assert len(audits) == statuses.count(200)
    # The chain: the first write saw nothing, each later one saw exactly its predecessor's value.
    assert audits[0].old is None
    for before, after in itertools.pairwise(audits):
        assert after.old == before.new
    assert audits[-1].new is not None and audits[-1].new["score"] == result.score
    # changed_at strictly increases write after write (the AGS timestamps of the outbox rows).
    stamps = [row.payload["timestamp"] for row in outbox]
    assert len(stamps) == len(audits)
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert [row.status for row in outbox].count("pending") == 1
    assert outbox[-1].status == "pending" and outbox[-1].payload["scoreGiven"] == result.score


def test_parallel_resit_starts_of_one_student_each_get_their_own_attempt(
    launcher: Launcher,
) -> None:
    headers = _bearer(launcher)

    def put(client: Any, n: int) -> TestResponse:
        body = {"B832": f"2027-0{1 + n}-01", "reason": f"resit {n}"}
        return client.put("/api/context/module-starts/1001", json=body, headers=headers)

    statuses = _all_at_once(launcher, put)
    assert statuses == [200] * WRITERS
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        attempts = session.scalars(select(StudentModuleStart.attempt)).all()
    assert sorted(attempts) == list(range(1, WRITERS + 1))


def test_parallel_cohort_starts_never_collide(launcher: Launcher) -> None:
    headers = _bearer(launcher)

    def put(client: Any, n: int) -> TestResponse:
        body = {"B832": f"2027-0{1 + n}-01"}
        return client.put("/api/context/module-starts", json=body, headers=headers)

    statuses = _all_at_once(launcher, put)
    assert all(status < 500 for status in statuses), statuses
    db = launcher.app.extensions["lti_tool"].db
    with db.read_only() as session:
        rows = session.scalars(select(CohortModuleStart)).all()
        audits = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "module_start.cohort")
            .order_by(AuditEntry.id)
        ).all()
    assert len(rows) == 1
    assert audits[0].old == {"start_date": None}
    for before, after in itertools.pairwise(audits):
        assert after.old == {"start_date": before.new["start_date"]}
    assert audits[-1].new["start_date"] == rows[0].start_date.isoformat()


def test_a_write_that_loses_a_race_at_the_database_answers_409(launcher: Launcher) -> None:
    """What the locks leave to the database (a unique violation, a deadlock, a lock timeout)
    is a 409 with a plain message, never a 500; any other database error stays a 500."""
    app = launcher.app
    db = app.extensions["lti_tool"].db
    _bearer(launcher)  # the launch creates the course and its people
    with db.read_only() as session:
        row = {"context_pk": 1, "module_code": "B832", "start_date": dt.date(2027, 1, 1)}
        session.execute(insert(CohortModuleStart).values(**row))
        with pytest.raises(DBAPIError) as duplicate:
            session.execute(insert(CohortModuleStart).values(**row))
        session.rollback()
        with pytest.raises(DBAPIError) as broken:
            session.execute(text("SELECT no_such_column FROM cohort_module_starts"))
    with app.test_request_context("/api/context/module-starts", method="PUT"):
        conflict = app.make_response(app.handle_user_exception(duplicate.value))
        fault = app.make_response(app.handle_user_exception(broken.value))
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["code"] == "write_conflict"
    assert "Reload the page" in conflict.get_json()["error"]["message"]
    assert fault.status_code == 500
    assert fault.get_json()["error"]["code"] == "internal_error"
    assert "no_such_column" not in fault.get_data(as_text=True)


def test_parallel_manual_completions_audit_the_value_each_replaced(launcher: Launcher) -> None:
    headers = _bearer(launcher)

    def put(client: Any, n: int) -> TestResponse:
        body = {
            "status": "completed",
            "completed_at": f"2026-0{1 + n}-01",
            "reason": f"certificate {n}",
        }
        return client.put("/api/context/completions/1001/GB080", json=body, headers=headers)

    statuses = _all_at_once(launcher, put)
    assert statuses == [200] * WRITERS
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        audits = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "completion.manual")
            .order_by(AuditEntry.id)
        ).all()
        record = session.scalar(select(CompletionRecord).where(CompletionRecord.source == "manual"))
    assert len(audits) == WRITERS and audits[0].old is None
    for before, after in itertools.pairwise(audits):
        assert after.old == before.new
    assert record is not None and audits[-1].new is not None
    assert audits[-1].new["completed_at"] == record.completed_at.isoformat()


def test_a_write_based_on_a_value_changed_since_answers_409(launcher: Launcher) -> None:
    """Two tutors open the same result; the second to save, naming the value it saw
    (``expected_changed_at``), is told it changed meanwhile instead of overwriting it."""
    headers = _bearer(launcher)
    make_eligible(launcher, "1001")
    client = launcher.app.test_client()
    first = client.put(
        "/api/context/results/B832/1001",
        json={"score": 40, "outcome": "fail", "expected_changed_at": None},
        headers=headers,
    )
    assert first.status_code == 200
    seen = first.get_json()["changed_at"]
    second = client.put(
        "/api/context/results/B832/1001",
        json={"score": 55, "outcome": "pass", "expected_changed_at": seen},
        headers=headers,
    )
    assert second.status_code == 200
    stale = client.put(
        "/api/context/results/B832/1001",
        json={"score": 70, "outcome": "pass", "expected_changed_at": seen},
        headers=headers,
    )
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "result_changed" and "changed by someone else" in error["message"]
    again = client.put(
        "/api/context/results/B832/1001",
        json={"score": 70, "outcome": "pass", "expected_changed_at": None},
        headers=headers,
    )
    assert again.status_code == 409
    with launcher.app.extensions["lti_tool"].db.read_only() as session:
        result = session.scalar(select(AssessmentResultRow))
        saves = session.scalars(select(AuditEntry).where(AuditEntry.action == "result.save")).all()
    assert result is not None and result.score == 55
    assert len(saves) == 2
