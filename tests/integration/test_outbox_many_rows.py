"""A course with more grade outbox rows waiting than a database takes bind parameters in one
statement (PostgreSQL's protocol: 65,535; SQLite: 32,766). Locking the rows in id order
(``grading/outbox.py``) named every locked id in the ``UPDATE`` that followed, one parameter
each, so "Send to the gradebook" failed with a database error for such a course (and every
later press too), where the ``UPDATE`` by the course alone had worked."""

from __future__ import annotations

from concurrent.futures import Future

import pytest
from sqlalchemy import func, insert, select

from lti_tool.persistence.models import OutboxRow, SyncJobRow
from tests.integration.test_outbox_lock_order import HEADER, press, upload
from tests.support.lti import Launcher
from tests.support.pathway_web import open_tool

MORE_THAN_ANY_LIMIT = 65_600


def test_a_press_sends_a_course_with_more_waiting_rows_than_bind_parameters(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.app.extensions["lti_tool"]
    teacher = open_tool(launcher, "teacher1")
    upload(teacher, HEADER + "1001,B832,61,pass,Seen\n")
    with services.db.unit_of_work() as session:
        row = session.scalars(select(OutboxRow)).one()
        copy = {
            "result_pk": row.result_pk,
            "context_pk": row.context_pk,
            "module_code": row.module_code,
            "payload": row.payload,
            "status": "failed",
        }
        session.execute(insert(OutboxRow), [copy] * (MORE_THAN_ANY_LIMIT - 1))
    # The sync is queued, not run: what is checked is the press itself.
    monkeypatch.setattr(services.jobs, "submit", lambda *a, **k: Future())

    job_id = press(teacher)

    with services.db.read_only() as session:
        job = session.get(SyncJobRow, job_id)
        assert job is not None and job.total == MORE_THAN_ANY_LIMIT
        held = select(func.count()).where(OutboxRow.job_id == job_id)
        assert session.scalar(held) == MORE_THAN_ANY_LIMIT
