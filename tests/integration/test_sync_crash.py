"""Kill an RQ worker in the middle of a grade sync: nothing is lost, only the scores in flight
are sent twice, and each repeat carries the same timestamp (so it changes nothing)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.grading.sync import CHUNK
from lti_tool.persistence.models import OutboxRow
from lti_tool.sandbox import SandboxServer
from lti_tool.settings import normalise_database_url
from tests.support.class_results import class_with_released_results
from tests.support.lti import Launcher
from tests.support.outage_servers import wait_until
from tests.support.workers import running_worker

STUDENTS = 40
pytestmark = pytest.mark.slow


@pytest.fixture
def backend() -> str:  # this test needs the production path: PostgreSQL + Redis + RQ
    return "postgres+redis"


def test_killing_a_worker_mid_sync_loses_nothing(
    launcher: Launcher, sandbox_server: SandboxServer, tmp_path: Path
) -> None:
    app = launcher.app
    services = app.extensions["lti_tool"]
    settings = services.settings
    assert services.queue.backend == "rq"
    ags = sandbox_server.app.extensions["ags"]
    ags.reset(latency=0.05)
    staff, headers = class_with_released_results(launcher, STUDENTS)
    assert staff.post("/api/context/grade-sync", headers=headers).status_code == 202

    # The worker is given the tool's database URL (tests/support/workers.py).
    assert normalise_database_url(settings.database_url).startswith("postgresql+psycopg")
    with running_worker(settings, tmp_path, "--burst"):
        wait_until(lambda: len(ags.accepted_scores()) >= 10, "the worker to deliver 10 scores")
    # Leaving the block killed the worker and its work-horse, mid-sync.
    delivered_before = len(ags.accepted_scores())
    assert delivered_before < STUDENTS, "the sync finished before the crash; slow the fake"
    with services.db.read_only() as session:
        in_flight = int(
            session.scalar(select(OutboxRow.id).where(OutboxRow.status == "sending").limit(1))
            is not None
        )
    time.sleep(1.1)  # settings.sync_stale_seconds = 1 in this test's tool
    assert staff.post("/api/context/grade-sync", headers=headers).status_code == 202
    services.queue.work_in_process(services)

    scores = ags.accepted_scores()
    assert sorted({p.user_id for p in scores}) == sorted(f"s{n:03d}" for n in range(STUDENTS))
    posts = [p for p in ags.score_posts if p.user_id and p.user_id.startswith("s")]
    per_user = Counter(p.user_id for p in posts)
    repeated = [user for user, count in per_user.items() if count > 1]
    # At most what the workers held: 8 workers x CHUNK rows claimed and not yet recorded.
    assert len(repeated) <= 8 * CHUNK
    assert in_flight or not repeated
    for user in repeated:
        mine = [p for p in posts if p.user_id == user]
        assert len({p.body["timestamp"] for p in mine}) == 1  # same timestamp every time
        assert sum(1 for p in mine if p.status == 200) == 1  # only one changed the gradebook
    with services.db.read_only() as session:
        assert set(session.scalars(select(OutboxRow.status))) == {"delivered"}
