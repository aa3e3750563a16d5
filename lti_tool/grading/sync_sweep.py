"""Grade syncs whose job the queue lost: queue them again, so a grade queued before an outage
still reaches the gradebook without anyone pressing "Sync" again.

With RQ the queue lives in Redis: a Redis restart forgets every job waiting there (the
built-in thread queue forgets its jobs when its process ends), and a sync
that died on a database outage is left "failed" in RQ while its row still says queued or
running (``run_sync`` ends a job it gave up on "failed" when the database lets it record
that, but not when the database is still down then). The outbox rows (in the database) still
hold every score. The maintenance tick of
the web process (``container.py``, every ``store_purge_seconds``) calls
``requeue_lost_syncs``: a sync still queued or running in the database, older than
``sync_stale_seconds``, that its queue (RQ, or this process's threads) no longer holds as
queued or started is queued again under
the same job, unless rows it holds are still kept fresh (a run of it still at work: a Redis
restart forgets a running job too). Its rows left "sending" go back to pending first; a row
whose score had already reached the platform is answered "already there" (same timestamp) and
changes nothing.

A sync job runs safely more than once: each row is claimed atomically before it is sent
(``grading/sync_records.py``), so two runs never post the same row, and a run that finds
another of its job at work leaves at once (``grading/sync_jobs.py``).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update

from lti_tool.container import Services
from lti_tool.grading.sync import run_sync
from lti_tool.grading.sync_jobs import (
    ACTIVE,
    fresh_since,
    holds_fresh_rows,
    locked_job,
    queue_key,
)
from lti_tool.persistence.models import OutboxRow, SyncJobRow, utcnow

log = logging.getLogger("lti_tool.grading")
SWEEP_KIND = "sync_requeued"


def requeue_lost_syncs(services: Services) -> int:
    """Queue again the syncs the queue lost; how many. The thread queue loses a job with its
    process: a press just after a restart joins the sync its dead run left (its rows still
    look at work), so that job is queued again here too, once its rows have gone stale."""
    queue = services.queue
    cutoff = utcnow() - dt.timedelta(seconds=services.settings.sync_stale_seconds)
    with services.db.read_only() as session:
        candidates = list(
            session.scalars(
                select(SyncJobRow.id).where(
                    SyncJobRow.status.in_(["queued", "running"]), SyncJobRow.created_at < cutoff
                )
            )
        )
    lost = [
        job_id
        for job_id in candidates
        if not queue.is_waiting_or_running(queue_key(job_id))
        # Every web process runs the sweep: one of them queues each lost job.
        and services.store.add(SWEEP_KIND, job_id, {}, services.settings.sync_stale_seconds)
    ]
    requeued = [job_id for job_id in lost if _taken_back(services, job_id)]
    for job_id in requeued:
        queue.enqueue(run_sync, job_id, job_key=queue_key(job_id))
        log.warning("grade sync queued again", extra={"fields": {"job": job_id}})
    return len(requeued)


def _taken_back(services: Services, job_id: str) -> bool:
    """The lost job queued again in the database, its rows left "sending" pending again;
    False when a run of it is still at work after all (a Redis restart forgets the job of a
    worker still posting its scores: that run keeps its rows fresh and finishes the job)."""
    with services.db.unit_of_work() as session:
        job = locked_job(session, job_id)
        if job is None or job.status not in ACTIVE:
            return False
        if holds_fresh_rows(session, job_id, fresh_since(services)):
            return False
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.job_id == job_id, OutboxRow.status == "sending")
            .values(status="pending")
        )
        job.status = "queued"
    return True
