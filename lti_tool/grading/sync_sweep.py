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

A sync on the in-process queue whose process has ended (``jobs/owners.py``) is known lost at
once, whatever its rows say: when the tool starts with that queue and finds an ended
process's owner file, ``requeue_dead_syncs`` queues its syncs again here at once (and a press
that would join one takes it back, ``sync.start_sync``), instead of leaving them to the tick.

A sync job runs safely more than once: each row is claimed atomically before it is sent
(``grading/sync_records.py``), so two runs never post the same row, and a run that finds
another of its job at work leaves at once (``grading/sync_jobs.py``).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from lti_tool.container import Services
from lti_tool.grading.sync import run_sync
from lti_tool.grading.sync_jobs import (
    ACTIVE,
    fresh_since,
    holds_fresh_rows,
    is_lost,
    locked_job,
    queue_key,
    take_back,
)
from lti_tool.jobs.queue import ThreadQueue
from lti_tool.jobs.tasks import task
from lti_tool.persistence.models import SyncJobRow, utcnow

log = logging.getLogger("lti_tool.grading")
SWEEP_KIND = "sync_requeued"


def requeue_lost_syncs(services: Services) -> int:
    """Queue again the syncs the queue lost; how many. The thread queue loses a job with its
    process: one whose process is known to have ended is queued again at once
    (``requeue_dead_syncs``, ``sync.start_sync``); one that names no queue (queued before
    owners were recorded) is queued again here, once its rows have gone stale."""
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


def _taken_back(services: Services, job_id: str, owner: str | None = None) -> bool:
    """The lost job queued again in the database, its rows left "sending" pending again;
    False when a run of it is still at work after all (a Redis restart forgets the job of a
    worker still posting its scores: that run keeps its rows fresh and finishes the job)."""
    with services.db.unit_of_work() as session:
        job = locked_job(session, job_id)
        if job is None or job.status not in ACTIVE:
            return False
        if owner is not None and job.queue_owner != owner:
            return False  # another process took it back first
        if holds_fresh_rows(session, job_id, fresh_since(services)) and not is_lost(services, job):
            return False
        take_back(services, session, job)
    return True


def recover_at_start(services: Services) -> None:
    """On the in-process queue, when processes that ran one have ended (this one's
    predecessor, before a restart), queue their syncs again now, on this process's threads."""
    queue = services.queue
    if isinstance(queue, ThreadQueue) and queue.ended_owners():
        queue.enqueue(requeue_dead_syncs)


@task
def requeue_dead_syncs(services: Services) -> int:
    """Queue again here the syncs whose in-process queue's process has ended; how many. The
    ended processes' owner files go once no sync names them."""
    queue = services.queue
    if not isinstance(queue, ThreadQueue):
        return 0
    requeued = 0
    for owner in queue.ended_owners():
        with services.db.read_only() as session:
            jobs = list(
                session.scalars(
                    select(SyncJobRow.id).where(
                        SyncJobRow.status.in_(ACTIVE), SyncJobRow.queue_owner == owner
                    )
                )
            )
        for job_id in jobs:
            if _taken_back(services, job_id, owner):
                queue.enqueue(run_sync, job_id, job_key=queue_key(job_id))
                log.warning("grade sync queued again", extra={"fields": {"job": job_id}})
                requeued += 1
        with services.db.read_only() as session:
            named = select(SyncJobRow.id).where(
                SyncJobRow.status.in_(ACTIVE), SyncJobRow.queue_owner == owner
            )
            if session.scalar(named.limit(1)) is None:
                queue.forget(owner)
    return requeued
