"""Grade sync: deliver the outbox to the platform's gradebook through AGS.

Every score is a row written with its result (the outbox); a sync's workers each claim a few
pending rows at a time (``CHUNK``), send each with the result's own timestamp, and record
delivered/failed for them in the same transaction that claims the next few. A sync killed
half-way leaves rows in "sending"; the next sync takes them back (a live sync's are kept
fresh by ``ClaimLease``, however slow the platform), and resending them changes
nothing on the platform (same timestamp: Moodle 409, Canvas 400 — read as "already
delivered" for a resend, and for the connector's own retry after an answer lost to a 5xx or a
timeout). Without a crash every score is posted exactly once; after one, at most the rows the
workers held (workers x ``CHUNK``) are posted again.

A score the platform refuses for what it is (a 4xx other than 401/403, which are about the
token, and 408/429, which are about timing) becomes "refused" with the platform's words: the
same body would be refused again, so later syncs leave it until the result changes (a new row).
A 404 is not about the score but the column: deleted in the gradebook (AGS lets a line item
go), so it is forgotten, found or made again once (``line_items.replace_gone_column``) and the
score sent there; only when there is no column to make (the launch's own) is it "refused".
Any other failure is "failed" and the next sync sends it again.

Each module's scores go to that module's own column, never another's (``module_columns.py``);
a module the platform gives no such column is "failed" with words saying what the LMS
administrator or the teacher must set up, and the other modules go on.

A database outage mid-sync: each worker keeps the scores it has sent and waits for the
database to record them (``grading/sync_records.py``, which claims and records the rows), so
they are not posted again. Down past that patience (or any error of the tool's own), the job
ends "failed" with words for the tutor and the rows the workers held go back to pending for
the next sync; a job that cannot even be recorded so, or whose job the queue lost (a Redis
restart), is queued again by ``grading/sync_sweep.py``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select, update

from lti_tool.container import Services
from lti_tool.errors import ToolError
from lti_tool.grading.line_items import ensure_line_item, replace_gone_column
from lti_tool.grading.module_columns import Column, NoModuleColumn
from lti_tool.grading.score_delivery import log_undelivered, send_score
from lti_tool.grading.sync_plan import SyncPlan, column_titles, read_plan
from lti_tool.grading.sync_records import ClaimLease, patiently, record_and_claim
from lti_tool.jobs.tasks import task
from lti_tool.lti.claims import SCOPE_SCORE
from lti_tool.lti.platform_services import service_connector
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.outages import DATABASE, unavailable_dependency
from lti_tool.persistence.models import (
    OutboxRow,
    SyncJobRow,
    utcnow,
)

# Rows a worker claims (and then records) per transaction: 2 commits per score became one
# per CHUNK scores, which was most of a sync's own cost (bench_grades).
CHUNK = 4
log = logging.getLogger("lti_tool.grading")


def start_sync(services: Services, context_pk: int, qualification_code: str | None = None) -> str:
    """Queue a sync of every released result not yet delivered; returns the job id. The
    columns it makes are titled from ``qualification_code``: the starting launch's."""
    job_id = str(uuid.uuid4())
    now = utcnow()
    with services.db.unit_of_work() as session:
        # Rows a crashed sync left "sending" go back to the queue.
        session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.context_pk == context_pk,
                OutboxRow.status == "sending",
                OutboxRow.updated_at
                < now - dt.timedelta(seconds=services.settings.sync_stale_seconds),
            )
            .values(status="pending")
        )
        session.add(
            SyncJobRow(
                id=job_id,
                context_pk=context_pk,
                status="queued",
                qualification_code=qualification_code,
            )
        )
        session.flush()
        claimed = session.execute(
            update(OutboxRow)
            .where(OutboxRow.context_pk == context_pk, OutboxRow.status.in_(["pending", "failed"]))
            .values(job_id=job_id, status="pending")
        )
        total = int(getattr(claimed, "rowcount", 0) or 0)
        job = session.get(SyncJobRow, job_id)
        assert job is not None
        job.total = total
    services.queue.enqueue(run_sync, job_id, job_key=queue_key(job_id))
    return job_id


def queue_key(job_id: str) -> str:
    """The name of a sync's job in the queue (``grading/sync_sweep.py`` looks for it)."""
    return f"sync-{job_id}"


@task
def run_sync(services: Services, job_id: str, concurrency: int | None = None) -> None:
    """Send the job's rows; safe to run again for the same job after a crash."""
    with services.db.unit_of_work() as session:
        job = session.get(SyncJobRow, job_id)
        if job is None:
            return
        job.status = "running"
        plan = read_plan(session, job.context_pk)
        titles = column_titles(session, services.catalog, job.context_pk, job.qualification_code)
    interrupted = False
    try:
        connector = service_connector(services, plan.registration_pk, plan.endpoint.scopes)
        _deliver(services, job_id, plan, titles, connector, concurrency)
        status, error = "done", None
    except ToolError as exc:
        status, error = "failed", exc.message
        log.warning("grade sync failed", extra={"fields": {"job": job_id, "reason": exc.message}})
    except Exception as exc:  # the database gone past the workers' patience, or a bug
        # The job must end: a tutor's page follows it until it is done or failed.
        log.exception("grade sync stopped", extra={"fields": {"job": job_id}})
        status, error, interrupted = "failed", _stopped_words(exc), True

    def finish(session: Any) -> None:
        if interrupted:
            # Rows the workers held may have reached the platform: the next sync sends them
            # again and reads its "already there" as delivered (same timestamp).
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.job_id == job_id, OutboxRow.status == "sending")
                .values(status="pending")
            )
        job = session.get(SyncJobRow, job_id)
        assert job is not None
        counts = dict(
            session.execute(
                select(OutboxRow.status, func.count())
                .where(OutboxRow.job_id == job_id)
                .group_by(OutboxRow.status)
            ).all()
        )
        job.done = int(counts.get("delivered", 0))
        job.failed = int(counts.get("failed", 0)) + int(counts.get("refused", 0))
        job.status, job.error, job.finished_at = status, error, utcnow()

    # Still down past this patience: the job stays "running" and, on RQ, the sweep
    # (``sync_sweep.py``) queues it again.
    patiently(services, finish, {"job": job_id})


def _stopped_words(exc: Exception) -> str:
    """What the tutor reads about a sync that stopped for the tool's own reasons."""
    if unavailable_dependency(exc) == DATABASE:
        cause = "the tool's database did not answer"
    else:
        cause = "of a problem in the tool (the administrator can see it in the log)"
    return (
        f"The grade sync stopped before it finished because {cause}. The results not sent "
        "yet are kept: send the results to the gradebook again in a few minutes."
    )


def _deliver(
    services: Services,
    job_id: str,
    plan: SyncPlan,
    titles: Mapping[str, str],
    connector: ToolServiceConnector,
    concurrency: int | None,
) -> None:
    with services.db.read_only() as session:
        rows = list(
            session.scalars(
                select(OutboxRow).where(OutboxRow.job_id == job_id, OutboxRow.status == "pending")
            )
        )
    if not rows:
        return
    if SCOPE_SCORE not in plan.endpoint.scopes:
        raise ToolError(
            "no_score_scope", "The platform did not grant the AGS score scope to this tool."
        )
    urls: dict[str, str] = {}
    columns: dict[str, Column] = {}
    # Modules with no column the tool may use: their rows are "failed" with these words.
    unplaced: dict[str, str] = {}
    for module_code in sorted({r.module_code for r in rows}):
        placement = plan.placements.get(module_code)
        # AGS binds a column made with a resourceLinkId to that link (Moodle files it under
        # that activity and deletes it with it): only the module's own placement's.
        columns[module_code] = Column(
            module_code,
            f"{module_code} {titles.get(module_code, '')}".strip(),
            100.0,
            placement.resource_link_id if placement else None,
            placement.lineitem_url if placement else None,
        )
        try:
            urls[module_code] = ensure_line_item(
                services.db, connector, plan.context_pk, plan.endpoint, columns[module_code]
            )
        except NoModuleColumn as exc:
            unplaced[module_code] = exc.message
    workers = concurrency or (4 if plan.platform_kind == "canvas" else 8)
    queue = iter(rows)
    lock = threading.Lock()

    # Columns that answered a score 404 and were found still listed: later 404s there are
    # about the score (refused at once), not the column (not listed again per row).
    still_there: set[str] = set()

    def next_chunk() -> list[OutboxRow]:
        with lock:
            return list(itertools.islice(queue, CHUNK))

    def send(row: OutboxRow) -> tuple[str, str | None]:
        """One score; when its column was deleted in the gradebook, once more to the column
        found or made again (later rows go there directly)."""
        if row.module_code in unplaced:
            return "failed", unplaced[row.module_code]
        with lock:
            url = urls[row.module_code]
        status, words = send_score(connector, row, url)
        if status != "gone":
            return status, words
        with lock:
            if url in still_there:
                return "refused", words
        try:
            replacement = replace_gone_column(
                services.db,
                connector,
                plan.context_pk,
                plan.endpoint,
                columns[row.module_code],
                url,
            )
        except Exception as exc:  # whatever failed, the row must still be recorded
            # Not made now (the platform, its answer or the database): the row is recorded
            # "failed" with the others of its chunk, and the next sync tries again.
            log.warning(
                "gradebook column not made again",
                exc_info=not isinstance(exc, ToolError),
                extra={"fields": {"job": job_id, "module": row.module_code}},
            )
            if isinstance(exc, ToolError):
                return "failed", exc.message
            return "failed", "The gradebook column could not be made again; try again later."
        if replacement is None:
            with lock:
                still_there.add(url)
            return "refused", words
        with lock:
            urls[row.module_code] = replacement
        status, words = send_score(connector, row, replacement)
        return ("refused", words) if status == "gone" else (status, words)

    def worker() -> None:
        sent: list[tuple[int, str, str | None]] = []
        while True:
            chunk = next_chunk()
            claimed = record_and_claim(services, job_id, sent, chunk)
            if not chunk:
                return
            sent = [(row.id, *send(row)) for row in chunk if row.id in claimed]
            by_id = {row.id: row for row in chunk}
            for row_id, status, _ in sent:
                if status != "delivered":
                    row = by_id[row_id]
                    log_undelivered(job_id, plan.registration_pk, plan.context_pk, row, status)

    with ClaimLease(services, job_id), ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(worker) for _ in range(min(workers, len(rows)))]:
            future.result()
