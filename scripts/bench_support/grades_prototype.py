"""A what-if for ``scripts/bench_grades.py --variant prototype``: the grade sync with the
changes the benchmark's profile points to, to measure them before anyone edits lti_tool.
NOT the tool's code path: the default run measures ``lti_tool.grading.sync`` unchanged.

Differences from ``lti_tool.grading.sync.run_sync`` (same claim, same payloads, same URLs):
1. every AGS call of the sync asks for the context's whole granted AGS scope set, so one
   access token serves the line-item lookup, the line-item create and every score;
2. the connector keeps the token in memory until it nears expiry (the shared store is asked
   on a miss only), instead of one store read (a database SELECT) per call;
3. the job's pending rows are claimed in one UPDATE, and outcomes are written in batches
   (one executemany UPDATE per ~100 rows or 250 ms) instead of two transactions per row.
Crash semantics are kept: rows stay "sending" until their outcome is written, and a stale
"sending" row is taken back and resent by the next sync (same timestamp, so no change).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update

from lti_tool.container import Services
from lti_tool.errors import ToolError
from lti_tool.grading import sync as sync_mod
from lti_tool.grading.line_items import SCOPE_SCORE, Column, ensure_line_item, scores_url
from lti_tool.lti.service_client import ServiceCallFailed, ToolServiceConnector
from lti_tool.persistence.models import OutboxRow, SyncJobRow, utcnow

FLUSH_ROWS = 100
FLUSH_SECONDS = 0.25
TOKEN_MARGIN = 30.0


class OneTokenConnector:
    """Wraps the tool's connector: one scope set for every call, the token memoised."""

    def __init__(self, inner: ToolServiceConnector, scopes: list[str]) -> None:
        self.inner = inner
        self.scopes = sorted(scopes)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        inner_get = inner.get_access_token

        def memoised(_scopes: Any) -> str:
            cached = self._token
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            with self._lock:
                if self._token is None or self._token[1] <= time.monotonic():
                    # 3600 s is what the sandbox (and Moodle) grant; a real change would keep
                    # the platform's expires_in next to the token in the store.
                    self._token = (inner_get(self.scopes), time.monotonic() + 3600 - TOKEN_MARGIN)
                return self._token[0]

        def forget(_scopes: Any) -> None:
            self._token = None
            ToolServiceConnector.forget_token(inner, self.scopes)

        inner.get_access_token = memoised  # type: ignore[method-assign,assignment]
        inner.forget_token = forget  # type: ignore[method-assign,assignment]

    @property
    def token_requests(self) -> int:
        return self.inner.token_requests


class Outcomes:
    """Row outcomes, written in batches from whichever worker fills one."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushed_at = time.monotonic()

    def add(self, row_id: int, status: str, error: str | None) -> None:
        with self._lock:
            self._pending.append(
                {
                    "row_id": row_id,
                    "new_status": status,
                    "error": error,
                    "delivered": utcnow() if status == "delivered" else None,
                    "now": utcnow(),
                }
            )
            due = len(self._pending) >= FLUSH_ROWS
            due = due or time.monotonic() - self._flushed_at >= FLUSH_SECONDS
            batch = self._take() if due else []
        self._write(batch)

    def flush(self) -> None:
        with self._lock:
            batch = self._take()
        self._write(batch)

    def _take(self) -> list[dict[str, Any]]:
        batch, self._pending = self._pending, []
        self._flushed_at = time.monotonic()
        return batch

    def _write(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        table = cast(Table, OutboxRow.__table__)
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                status=bindparam("new_status"),
                last_error=bindparam("error"),
                delivered_at=bindparam("delivered"),
                updated_at=bindparam("now"),
            )
        )
        with self.services.db.engine.begin() as conn:
            conn.execute(statement, batch)


def run_sync(services: Services, job_id: str, concurrency: int | None = None) -> None:
    with services.db.unit_of_work() as session:
        job = session.get(SyncJobRow, job_id)
        if job is None:
            return
        job.status = "running"
        plan = sync_mod._plan(session, job.context_pk)
    status, error = "done", None
    try:
        # looked up in sync's namespace, where the benchmark counts the connectors built
        connector = vars(sync_mod)["service_connector"](services, plan.registration_pk)
        OneTokenConnector(connector, list(plan.endpoint.scopes))
        _deliver(services, job_id, plan, connector, concurrency)
    except ToolError as exc:
        status, error = "failed", exc.message
    with services.db.unit_of_work() as session:
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
        job.failed = int(counts.get("failed", 0))
        job.status, job.error, job.finished_at = status, error, utcnow()


def _deliver(
    services: Services,
    job_id: str,
    plan: sync_mod.SyncPlan,
    connector: ToolServiceConnector,
    concurrency: int | None,
) -> None:
    with services.db.unit_of_work() as session:
        rows = list(
            session.execute(
                select(
                    OutboxRow.id, OutboxRow.module_code, OutboxRow.payload, OutboxRow.attempts
                ).where(OutboxRow.job_id == job_id, OutboxRow.status == "pending")
            ).tuples()
        )
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.job_id == job_id, OutboxRow.status == "pending")
            .values(status="sending", attempts=OutboxRow.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    if not rows:
        return
    if SCOPE_SCORE not in plan.endpoint.scopes:
        raise ToolError("no_score_scope", "The platform did not grant the AGS score scope.")
    titles = {m.code: m.title for q in services.catalog.qualifications.values() for m in q.modules}
    urls = {
        code: scores_url(
            ensure_line_item(
                services.db,
                connector,
                plan.context_pk,
                plan.endpoint,
                Column(
                    code, f"{code} {titles.get(code, '')}".strip(), 100.0, plan.resource_link_id
                ),
            )
        )
        for code in sorted({r[1] for r in rows})
    }
    scopes = sorted(plan.endpoint.scopes)
    outcomes = Outcomes(services)

    def send(row: tuple[int, str, dict[str, Any], int]) -> None:
        row_id, module_code, payload, attempts = row
        status, error = "delivered", None
        try:
            connector.make_service_request(
                scopes,
                urls[module_code],
                is_post=True,
                data=json.dumps(payload),
                content_type=sync_mod.SCORE_MEDIA,
            )
        except ServiceCallFailed as exc:
            if not (attempts > 0 and sync_mod._already_there(exc)):
                status, error = "failed", exc.message
        outcomes.add(row_id, status, error)

    workers = concurrency or (4 if plan.platform_kind == "canvas" else 8)
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(send, rows))
    finally:
        outcomes.flush()
