"""A grade sync's bookkeeping of outbox rows: claim the pending rows a worker is about to
send ("sending"), record what the platform answered for the ones it sent, both in one
transaction, and wait for the database when it is down rather than lose what was sent.

The claim is atomic (an ``UPDATE … WHERE status = 'pending' RETURNING``), so two runs of a
sync (``grading/sync_sweep.py`` queues a lost one again) never post the same row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import update

from lti_tool.container import Services
from lti_tool.outages import DATABASE, unavailable_dependency
from lti_tool.persistence.models import OutboxRow, utcnow

# How long a sync waits for the database to record scores it has sent (a failover, a
# restart). Past it the job fails; its rows left "sending" are sent again by a later sync.
RECORD_PATIENCE_SECONDS = 300.0
log = logging.getLogger("lti_tool.grading")
T = TypeVar("T")


def record_and_claim(
    services: Services, sent: list[tuple[int, str, str | None]], chunk: list[OutboxRow]
) -> set[int]:
    """Record what was sent and claim the next rows, in one transaction. While the database
    is down this waits for it (up to ``RECORD_PATIENCE_SECONDS``): the scores just sent are
    known only here, and giving up would leave them "sending", to be posted again."""

    def write(session: Any) -> set[int]:
        _record(session, sent)
        return _claim(session, chunk)

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


def _claim(session: Any, chunk: list[OutboxRow]) -> set[int]:
    """Mark still-pending rows "sending"; the ids this worker may now send."""
    if not chunk:
        return set()
    claimed = session.scalars(
        update(OutboxRow)
        .where(OutboxRow.id.in_([r.id for r in chunk]), OutboxRow.status == "pending")
        .values(status="sending", attempts=OutboxRow.attempts + 1)
        .returning(OutboxRow.id)
    )
    return set(claimed)


def _record(session: Any, sent: list[tuple[int, str, str | None]]) -> None:
    delivered = [row_id for row_id, status, _ in sent if status == "delivered"]
    if delivered:
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(delivered))
            .values(status="delivered", last_error=None, delivered_at=utcnow())
        )
    for row_id, status, error in sent:
        if status != "delivered":
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == row_id)
                .values(status=status, last_error=error, delivered_at=None)
            )
