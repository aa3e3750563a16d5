"""A grade sync's bookkeeping of outbox rows: claim the pending rows a worker is about to
send ("sending"), record what the platform answered for the ones it sent, both in one
transaction, and wait for the database when it is down rather than lose what was sent (a
try whose commit went unanswered may have claimed rows: the next try sends them too).

The claim is atomic (an ``UPDATE … WHERE status = 'pending' RETURNING``), so two runs of a
sync (``grading/sync_sweep.py`` queues a lost one again) never post the same row. A claimed
row is the claiming job's (``job_id``) until it is recorded: ``ClaimLease`` moves the
``updated_at`` of the job's "sending" rows on while the job runs, so a slow platform never
makes them look abandoned to ``start_sync`` or the sweep, which take back "sending" rows
older than ``sync_stale_seconds`` (a crashed sync's: its lease stops with it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select, update

from lti_tool.container import Services
from lti_tool.grading.outbox import lock_in_order
from lti_tool.jobs.leases import Renewing
from lti_tool.outages import DATABASE, unavailable_dependency
from lti_tool.persistence.models import OutboxRow, utcnow

# How long a sync waits for the database to record scores it has sent (a failover, a
# restart). Past it the job fails; its rows left "sending" are sent again by a later sync.
RECORD_PATIENCE_SECONDS = 300.0
log = logging.getLogger("lti_tool.grading")
T = TypeVar("T")


def record_and_claim(
    services: Services,
    job_id: str,
    sent: list[tuple[int, str, str | None]],
    chunk: list[OutboxRow],
) -> set[int]:
    """Record what was sent and claim the next rows, in one transaction. While the database
    is down this waits for it (up to ``RECORD_PATIENCE_SECONDS``): the scores just sent are
    known only here, and giving up would leave them "sending", to be posted again."""

    tries = 0

    def write(session: Any) -> set[int]:
        nonlocal tries
        tries += 1
        # Every row this transaction changes, locked first in one order (outbox.py).
        ids = sorted({row_id for row_id, *_ in sent} | {row.id for row in chunk})
        if ids:
            lock_in_order(session, OutboxRow.id.in_(ids))
        _record(session, job_id, sent)
        # Tried again, the last try may have committed with its answer lost (the connection
        # dropped then): the rows it claimed are this worker's to send.
        return _claim(session, job_id, chunk, again=tries > 1)

    return patiently(services, write, {"scores_to_record": len(sent)})


def patiently(services: Services, write: Callable[[Any], T], fields: dict[str, Any]) -> T:
    """``write`` in one transaction, tried again while the database is down or not answering
    (up to ``RECORD_PATIENCE_SECONDS``); any other error, or the patience spent, is raised."""
    deadline = time.monotonic() + RECORD_PATIENCE_SECONDS
    pause = 0.5
    while True:
        try:
            with services.db.unit_of_work() as session:
                return write(session)
        except Exception as exc:
            if unavailable_dependency(exc) != DATABASE or time.monotonic() + pause > deadline:
                raise
            log.warning(
                "grade sync waits for the database",
                extra={"fields": {**fields, "error": type(exc).__name__}},
            )
            time.sleep(pause)
            pause = min(pause * 2, 10.0)


def _claim(session: Any, job_id: str, chunk: list[OutboxRow], again: bool = False) -> set[int]:
    """Mark rows still pending and still this job's "sending"; the ids this worker may now
    send (a press may have given the others to a newer job). ``again``: the rows of the chunk
    this job already holds "sending" too (the claim of a try whose commit was not answered)."""
    if not chunk:
        return set()
    ids = [r.id for r in chunk]
    claimed = set(
        session.scalars(
            update(OutboxRow)
            .where(
                OutboxRow.id.in_(ids),
                OutboxRow.job_id == job_id,
                OutboxRow.status == "pending",
            )
            .values(status="sending", job_id=job_id, attempts=OutboxRow.attempts + 1)
            .returning(OutboxRow.id)
        )
    )
    if again:
        held = select(OutboxRow.id).where(
            OutboxRow.id.in_(ids), OutboxRow.job_id == job_id, OutboxRow.status == "sending"
        )
        claimed |= set(session.scalars(held))
    return claimed


def _record(session: Any, job_id: str, sent: list[tuple[int, str, str | None]]) -> None:
    """What the platform answered, for the rows this job still holds."""
    held = (OutboxRow.job_id == job_id, OutboxRow.status == "sending")
    delivered = [row_id for row_id, status, _ in sent if status == "delivered"]
    if delivered:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(delivered), *held)
            .values(status="delivered", last_error=None, delivered_at=utcnow())
        )
    for row_id, status, error in sent:
        if status != "delivered":
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row_id, *held)
                .values(status=status, last_error=error, delivered_at=None)
            )


class ClaimLease(Renewing):
    """While a sync runs (``with ClaimLease(services, job_id):``), the ``updated_at`` of the
    job's rows still to send and being sent is moved on every quarter of
    ``sync_stale_seconds``: rows a worker has claimed and is still posting (a slow platform,
    a chunk of slow answers) never look abandoned, and the job is seen at work
    (``sync_jobs.py``), so a press joins it and a second run of it leaves."""

    def __init__(self, services: Services, job_id: str) -> None:
        def renew() -> None:
            # Rows a worker is recording now are skipped, never waited for (they are about
            # to move on anyway): locking many rows in another order than the workers'
            # transactions could otherwise deadlock with them.
            held = (
                select(OutboxRow.id)
                .where(OutboxRow.job_id == job_id, OutboxRow.status.in_(["pending", "sending"]))
                .with_for_update(skip_locked=True)
            )
            with services.db.unit_of_work() as session:
                session.execute(
                    update(OutboxRow).where(OutboxRow.id.in_(held)).values(updated_at=utcnow())
                )

        super().__init__(renew, services.settings.sync_stale_seconds / 4, {"job": job_id})
