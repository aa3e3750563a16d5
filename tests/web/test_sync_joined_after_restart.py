"""A press of "Send to the gradebook" just after the tool restarted, on the built-in thread
queue (no Redis): the sync that was posting when the process died still looks at work for
``sync_stale_seconds`` (its rows were touched moments ago), so the press joins it. No thread of
the new process runs that job, so the maintenance tick must queue it again once its rows have
gone stale, as it does for a job Redis lost: the tutor's page then ends, with the scores sent,
instead of following a job that never moves while the scores wait for another press. The job
here names no queue (queued before the owner of a thread queue was recorded): nothing proves
its process ended, so only the tick recovers it (``test_sync_restart_recovery.py`` has the
prompt recovery of a job that names its queue)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import select, update

from lti_tool.grading.sync_sweep import requeue_lost_syncs
from lti_tool.persistence.models import OutboxRow, SyncJobRow, utcnow
from tests.support.grade_sync import make_eligible, record_result
from tests.support.lti import staff_launch

STALE_SECONDS = 1


def test_a_press_that_joins_a_sync_its_dead_process_left_gets_the_scores_sent(
    sqlite_tool_factory: Any, ags: Any
) -> None:
    launcher = sqlite_tool_factory(sync_stale_seconds=STALE_SECONDS)
    app = launcher.app
    launcher.platform.tool_jwks_source = lambda: (
        app.test_client().get("/.well-known/jwks.json").json
    )
    services = app.extensions["lti_tool"]
    assert services.queue.backend == "thread"
    client, headers = staff_launch(launcher)
    make_eligible(launcher, "1001")
    record_result(client, headers, "1001", 64)
    # What the process that died left: its job "running", its row claimed and just touched
    # by its lease (the new process's queue never heard of the job).
    with services.db.unit_of_work() as session:
        context_pk = session.scalar(select(OutboxRow.context_pk))
        session.add(
            SyncJobRow(
                id="died-with-its-process",
                context_pk=context_pk,
                status="running",
                created_at=utcnow() - dt.timedelta(minutes=5),
            )
        )
        session.flush()
        session.execute(
            update(OutboxRow).values(
                job_id="died-with-its-process", status="sending", updated_at=utcnow()
            )
        )

    started = client.post("/api/context/grade-sync", headers=headers)
    assert started.status_code == 202, started.get_data(as_text=True)
    job_id = started.get_json()["job_id"]
    assert job_id == "died-with-its-process"  # joined: its rows were touched just now

    # The maintenance tick, once the dead run's rows have gone stale.
    deadline = time.monotonic() + 30
    while True:
        requeue_lost_syncs(services)
        job = client.get(f"/api/jobs/{job_id}", headers=headers).get_json()
        if job["status"] in {"done", "failed"}:
            break
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert (job["status"], job["total"], job["done"]) == ("done", 1, 1)
    assert len(ags.accepted_scores(user_id="1001")) == 1
