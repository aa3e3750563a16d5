"""The database commits a sync worker's claim of its next scores, but the answer to the commit
is lost (the connection drops at that moment): the worker tries the transaction again and must
still send the scores it now holds, once, rather than leave them "sending" under a sync that
then says it is done. Real PostgreSQL; the lost answer is made by the test."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import DisconnectionError

from lti_tool.grading import sync_records
from lti_tool.grading.sync import run_sync
from lti_tool.persistence.models import OutboxRow
from tests.support.class_results import class_with_released_results
from tests.support.lti import Launcher

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
STUDENTS = 3


@pytest.fixture
def backend() -> str:  # the production path: PostgreSQL + Redis + RQ
    return "postgres+redis"


def test_a_claim_whose_commit_answer_is_lost_is_still_sent_once(
    launcher: Launcher, ags: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.app.extensions["lti_tool"]
    staff, headers = class_with_released_results(launcher, STUDENTS)
    started = staff.post("/api/context/grade-sync", headers=headers)
    assert started.status_code == 202
    job_id = started.get_json()["job_id"]

    lost = threading.Event()
    claim = sync_records._claim

    def lose_the_answer(session: Any) -> None:
        raise DisconnectionError("the connection dropped before the commit was answered")

    def claim_then_lose_the_answer(
        session: Any, job: str, chunk: list[OutboxRow], **again: bool
    ) -> set[int]:
        claimed = claim(session, job, chunk, **again)
        if claimed and not lost.is_set():
            lost.set()  # committed, but the worker hears only that the connection dropped
            event.listen(session, "after_commit", lose_the_answer, once=True)
        return claimed

    monkeypatch.setattr(sync_records, "_claim", claim_then_lose_the_answer)
    run_sync(services, job_id)  # as the worker runs it
    assert lost.is_set()

    job = staff.get(f"/api/jobs/{job_id}", headers=headers).get_json()
    assert (job["status"], job["done"], job["total"]) == ("done", STUDENTS, STUDENTS), job
    with services.db.read_only() as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"delivered"}
    posts = Counter(p.user_id for p in ags.score_posts if p.status == 200)
    assert posts == Counter({f"s{n:03d}": 1 for n in range(STUDENTS)}), posts
