"""Grade sync: deliver the outbox to the platform's gradebook through AGS.

Every score is a row written with its result (the outbox); a sync's workers each claim a few
pending rows at a time (``CHUNK``), send each with the result's own timestamp, and record
delivered/failed for them in the same transaction that claims the next few. A sync killed
half-way leaves rows in "sending"; the next sync takes them back (a live sync's are kept
fresh by ``ClaimLease``, however slow the platform), and resending them changes
nothing on the platform (same timestamp: Moodle 409, Canvas 400 — read as "already
delivered" for a resend, and for the connector's own retry after an answer lost to a 5xx or a
timeout). Without a crash every score is posted exactly once; after one, at most the rows the
workers held (workers x ``CHUNK``) are posted again. One sync of a course is at work at a
time: a second press joins it, and a second run of a job leaves (``sync_jobs.py``).

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

import functools
import itertools
import logging
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from lti_tool.container import Services
from lti_tool.errors import ToolError
from lti_tool.grading.line_items import ensure_line_item, replace_gone_column
from lti_tool.grading.module_columns import Column, NoModuleColumn
from lti_tool.grading.outbox import update_in_order
from lti_tool.grading.score_delivery import log_undelivered, send_score
from lti_tool.grading.sync_jobs import (
    IN_HAND,
    course_lock,
    finish_job,
    fresh_since,
    holds_fresh_rows,
    is_lost,
    live_job,
    locked_job,
    queue_key,
    reclaim_abandoned,
    stopped_words,
    take_back,
    take_waiting,
)
from lti_tool.grading.sync_plan import SyncPlan, column_titles, read_plan
from lti_tool.grading.sync_records import ClaimLease, patiently, record_and_claim
from lti_tool.jobs.tasks import task
from lti_tool.lti.claims import SCOPE_SCORE
from lti_tool.lti.platform_services import service_connector
from lti_tool.lti.service_client import ToolServiceConnector
from lti_tool.persistence.models import OutboxRow, SyncJobRow

# Rows a worker claims (and then records) per transaction: 2 commits per score became one
# per CHUNK scores, which was most of a sync's own cost (bench_grades).
CHUNK = 4
log = logging.getLogger("lti_tool.grading")


def start_sync(services: Services, context_pk: int, qualification_code: str | None = None) -> str:
    """Queue a sync of every released result not yet delivered; returns the job the tutor's
    page follows. While a sync of the course is at work, the press joins it: the results
    waiting are added to that job, which sends them too (``sync_jobs.py``). The columns a new
    job makes are titled from ``qualification_code``: the starting launch's."""
    since = fresh_since(services)
    with services.db.unit_of_work() as session:
        course_lock(session, context_pk)
        reclaim_abandoned(session, context_pk, since)
        joined = live_job(services, session, context_pk, since)
        job_id = joined or str(uuid.uuid4())
        if joined is None:
            session.add(
                SyncJobRow(
                    id=job_id,
                    context_pk=context_pk,
                    status="queued",
                    qualification_code=qualification_code,
                    queue_owner=services.queue.owner,
                )
            )
            session.flush()
        job = session.get(SyncJobRow, job_id)
        assert job is not None
        # The job joined died with the process whose queue held it: queued again here.
        queue_it = joined is None or is_lost(services, job)
        if joined is not None and queue_it:
            take_back(services, session, job)
            log.warning("grade sync queued again", extra={"fields": {"job": job_id}})
        job.total = take_waiting(session, context_pk, job_id)
    if queue_it:
        services.queue.enqueue(run_sync, job_id, job_key=queue_key(job_id))
    return job_id


@task
def run_sync(services: Services, job_id: str, concurrency: int | None = None) -> None:
    """Send the job's rows, and those a press adds while it runs; safe to run again for the
    same job after a crash, and a run while another of the job is at work leaves at once."""
    begun = _begin(services, job_id)
    if begun is None:
        return
    plan, titles = begun
    with ClaimLease(services, job_id):
        while True:
            status, error, interrupted = _attempt(services, job_id, plan, titles, concurrency)
            finish = functools.partial(
                finish_job, job_id=job_id, status=status, error=error, interrupted=interrupted
            )
            # Still down past this patience: the job stays "running" and, on RQ, the sweep
            # (``sync_sweep.py``) queues it again.
            if not patiently(services, finish, {"job": job_id}):
                return


def _attempt(
    services: Services,
    job_id: str,
    plan: SyncPlan,
    titles: Mapping[str, str],
    concurrency: int | None,
) -> tuple[str, str | None, bool]:
    """Send the job's pending rows: how it went (status, words, whether it was cut short)."""
    try:
        connector = service_connector(services, plan.registration_pk, plan.endpoint.scopes)
        _deliver(services, job_id, plan, titles, connector, concurrency)
    except ToolError as exc:
        log.warning("grade sync failed", extra={"fields": {"job": job_id, "reason": exc.message}})
        return "failed", exc.message, False
    except Exception as exc:  # the database gone past the workers' patience, or a bug
        # The job must end: a tutor's page follows it until it is done or failed.
        log.exception("grade sync stopped", extra={"fields": {"job": job_id}})
        return "failed", stopped_words(exc), True
    return "done", None, False


def _begin(services: Services, job_id: str) -> tuple[SyncPlan, Mapping[str, str]] | None:
    """Mark the job running and read what it needs; None when there is no such job or
    another run of it is at work."""
    since = fresh_since(services)
    with services.db.unit_of_work() as session:
        job = locked_job(session, job_id)
        if job is None:
            return None
        context_pk = job.context_pk
        if job.status == "running" and holds_fresh_rows(session, job_id, since):
            log.info("grade sync already running", extra={"fields": {"job": job_id}})
            return None
        job.status, job.queue_owner = "running", services.queue.owner
        # Its rows are this run's from now on: a crashed run's "sending" ones are sent again.
        update_in_order(
            session,
            (OutboxRow.job_id == job_id, OutboxRow.status.in_(IN_HAND)),
            {"status": "pending"},
        )
        plan = read_plan(session, context_pk)
        titles = column_titles(session, services.catalog, context_pk, job.qualification_code)
    return plan, titles


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

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(worker) for _ in range(min(workers, len(rows)))]:
            future.result()
