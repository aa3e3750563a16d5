"""A tutor holds back a result (``released: false``) whose earlier, released value is waiting
for the gradebook, in a sync already started: the old value must not reach the gradebook as
the student's mark while the tool says the result is held. Real PostgreSQL, Redis and RQ."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.persistence.models import OutboxRow
from tests.support.grade_sync import make_eligible, record_result
from tests.support.lti import Launcher, staff_launch

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def backend() -> str:  # the production path: PostgreSQL + Redis + RQ
    return "postgres+redis"


def test_a_result_held_back_after_its_sync_started_is_not_posted(
    launcher: Launcher, ags: Any
) -> None:
    services = launcher.app.extensions["lti_tool"]
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 60)
    started = client.post("/api/context/grade-sync", headers=headers)
    assert started.status_code == 202  # queued: no worker has taken it yet
    # The tutor changes the mark and holds it back for the exam board.
    record_result(client, headers, "1001", 35, released=False)
    services.queue.work_in_process(services)

    assert [p.body["scoreGiven"] for p in ags.score_posts if p.user_id == "1001"] == []
    with services.db.read_only() as session:
        assert "pending" not in set(session.scalars(select(OutboxRow.status)))
