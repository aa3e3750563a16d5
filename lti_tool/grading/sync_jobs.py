"""A grade-sync job beside the others of its course: one at work per course, a second press
joins it, one run of a job at a time, and a job's end written from what its rows say.

A job is at work while its queue still holds it queued, or while rows it holds (pending or
sending) were touched within ``sync_stale_seconds``: its run keeps them fresh from its start
to its end (``sync_records.ClaimLease``), a crashed run's grow old. A press while a job is at
work adds the results waiting to that job and follows it (``sync.start_sync``), so the
tutor's page counts the scores really on their way, never "done, nothing to send" beside a
sync still posting; a second run of a job at work (the sweep queuing it again after a Redis
restart, a queue delivering it twice) leaves at once, touching nothing. ``start_sync``, a
run's start and end, and the sweep take the course's lock first (``course_lock``): a press
either joins a job before its run ends (the run then sends what was added) or finds it ended
and makes a new one.

A job on the in-process queue names the process whose queue holds it (``queue_owner``,
``jobs/owners.py``). When that process has ended (a restart, a crash), or it is this one and
its queue no longer holds the job, nobody runs the job, however fresh its rows: a press takes
it back at once (``take_back``: queued again here, its rows left "sending" pending again) and
joins it, rather than follow a job that never moves until the maintenance sweep. On RQ the
queue never says a job is lost for certain: the sweep judges it by its rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from lti_tool.container import Services
from lti_tool.grading.outbox import lock_in_order, update_in_order
from lti_tool.outages import DATABASE, unavailable_dependency
from lti_tool.persistence.locks import advisory_lock, write_lock
from lti_tool.persistence.models import OutboxRow, SyncJobRow, utcnow

ACTIVE = ("queued", "running")  # a job's states before its end
IN_HAND = ("pending", "sending")  # a row its job has still to send, or is sending
# How many of a course's newest queued jobs a press asks the queue about.
QUEUED_ASKED = 5


def queue_key(job_id: str) -> str:
    """The name of a sync's job in the queue (``grading/sync_sweep.py`` looks for it)."""
    return f"sync-{job_id}"


def course_lock(session: Session, context_pk: int) -> None:
    """Hold the course's grade-sync lock until the transaction ends (PostgreSQL: an advisory
    lock; SQLite: the database's one writer)."""
    write_lock(session)
    advisory_lock(session.connection(), f"grade sync {context_pk}")


def locked_job(session: Session, job_id: str) -> SyncJobRow | None:
    """The sync job, read again once its course's lock is held (so a start, a run or the
    sweep sees what the others committed), or None when there is no such job."""
    context_pk = session.scalar(select(SyncJobRow.context_pk).where(SyncJobRow.id == job_id))
    if context_pk is None:
        return None
    course_lock(session, context_pk)
    return session.get(SyncJobRow, job_id, populate_existing=True)


def fresh_since(services: Services) -> dt.datetime:
    """Rows touched before this belong to a run that is no longer at work."""
    return utcnow() - dt.timedelta(seconds=services.settings.sync_stale_seconds)


def holds_fresh_rows(session: Session, job_id: str, since: dt.datetime) -> bool:
    """Whether a run of the job is at work: rows it holds were touched since ``since``."""
    row = session.scalar(
        select(OutboxRow.id)
        .where(
            OutboxRow.job_id == job_id,
            OutboxRow.status.in_(IN_HAND),
            OutboxRow.updated_at >= since,
        )
        .limit(1)
    )
    return row is not None


def live_job(
    services: Services, session: Session, context_pk: int, since: dt.datetime
) -> str | None:
    """The course's sync at work (the newest, should there be two), or None."""
    working = session.scalar(
        select(SyncJobRow.id)
        .join(OutboxRow, OutboxRow.job_id == SyncJobRow.id)
        .where(
            SyncJobRow.context_pk == context_pk,
            SyncJobRow.status.in_(ACTIVE),
            OutboxRow.status.in_(IN_HAND),
            OutboxRow.updated_at >= since,
        )
        .order_by(SyncJobRow.created_at.desc())
        .limit(1)
    )
    if working is not None:
        return str(working)
    queued = session.scalars(
        select(SyncJobRow.id)
        .where(SyncJobRow.context_pk == context_pk, SyncJobRow.status == "queued")
        .order_by(SyncJobRow.created_at.desc())
        .limit(QUEUED_ASKED)
    )
    for job_id in queued:
        if services.queue.is_waiting_or_running(queue_key(job_id)):
            return str(job_id)
    return None


def reclaim_abandoned(session: Session, context_pk: int, since: dt.datetime) -> None:
    """A press's first change (the course's lock held): every outbox row of the course it may
    change locked, in one order (``outbox.py``); the rows a crashed sync left "sending"
    (untouched since ``since``) go back to the queue, nobody's."""
    in_play = OutboxRow.status.in_(["pending", "failed", "sending"])
    lock_in_order(session, OutboxRow.context_pk == context_pk, in_play)
    update_in_order(
        session,
        (
            OutboxRow.context_pk == context_pk,
            OutboxRow.status == "sending",
            OutboxRow.updated_at < since,
        ),
        {"status": "pending", "job_id": None},
    )


def is_lost(services: Services, job: SyncJobRow) -> bool:
    """Whether the job is certainly held by no queue and run by nobody (``JobQueue.lost``)."""
    return services.queue.lost(job.queue_owner, queue_key(job.id))


def take_back(services: Services, session: Session, job: SyncJobRow) -> None:
    """The job queued again on this process's queue (the caller queues it once this commits;
    the course's lock is held): the rows it left "sending" are pending again."""
    update_in_order(
        session, (OutboxRow.job_id == job.id, OutboxRow.status == "sending"), {"status": "pending"}
    )
    job.status = "queued"
    job.queue_owner = services.queue.owner


def take_waiting(session: Session, context_pk: int, job_id: str) -> int:
    """Every result of the course waiting to be sent (pending or failed, held by no job at
    work) becomes the job's; the job's total: every row it holds."""
    update_in_order(
        session,
        (OutboxRow.context_pk == context_pk, OutboxRow.status.in_(["pending", "failed"])),
        {"job_id": job_id, "status": "pending"},
    )
    return _rows_of(session, job_id)


def finish_job(
    session: Session, job_id: str, status: str, error: str | None, interrupted: bool
) -> bool:
    """Write the job's end from its rows; True instead when a press added rows to it while it
    ran (it goes on and sends them)."""
    context_pk = session.scalar(select(SyncJobRow.context_pk).where(SyncJobRow.id == job_id))
    assert context_pk is not None
    course_lock(session, context_pk)
    mine = OutboxRow.job_id == job_id
    if interrupted:
        # Rows the workers held may have reached the platform: the next sync sends them
        # again and reads its "already there" as delivered (same timestamp).
        update_in_order(session, (mine, OutboxRow.status == "sending"), {"status": "pending"})
    elif status == "done" and session.scalar(
        select(exists().where(mine, OutboxRow.status == "pending"))
    ):
        return True
    job = session.get(SyncJobRow, job_id, populate_existing=True)
    assert job is not None
    counts: dict[str, Any] = dict(
        session.execute(
            select(OutboxRow.status, func.count()).where(mine).group_by(OutboxRow.status)
        ).all()
    )
    job.total = sum(int(n) for n in counts.values())
    job.done = int(counts.get("delivered", 0))
    job.failed = int(counts.get("failed", 0)) + int(counts.get("refused", 0))
    job.status, job.error, job.finished_at = status, error, utcnow()
    return False


def _rows_of(session: Session, job_id: str) -> int:
    count = select(func.count()).select_from(OutboxRow).where(OutboxRow.job_id == job_id)
    return int(session.scalar(count) or 0)


def stopped_words(exc: Exception) -> str:
    """What the tutor reads about a sync that stopped for the tool's own reasons."""
    if unavailable_dependency(exc) == DATABASE:
        cause = "the tool's database did not answer"
    else:
        cause = "of a problem in the tool (the administrator can see it in the log)"
    return (
        f"The grade sync stopped before it finished because {cause}. The results not sent "
        "yet are kept: send the results to the gradebook again in a few minutes."
    )
