"""The health page: database and migration revision, Redis, background jobs, and the latest
grade-sync and completion-refresh errors within the admin's scope.

It is the page an administrator opens during an outage, so it never waits on a dependency for
long (each check has its own deadline, ``admin/bounded.py``) and says which dependency is down
and since when (``outages.py``). Workers are judged by their own heartbeat keys
(``jobs/heartbeat.py``), which a Redis restart cannot make them lose for long.

The dependency checks are ``admin/health_checks.py``'s; this module reads the recent errors
and assembles the report."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lti_tool.admin import bounded
from lti_tool.admin.audit_log import contexts_of
from lti_tool.admin.health_checks import (
    NOT_ANSWERING,
    Check,
    Down,
    counted,
    database_checks,
    error_detail,
    outcome,
    read_database,
    read_redis,
    redis_checks,
)
from lti_tool.admin.identity import AdminIdentity
from lti_tool.completion.refresh import last_attempt
from lti_tool.container import Services
from lti_tool.outages import DATABASE, STORE, unavailable_dependency
from lti_tool.persistence.models import (
    CompletionRecord,
    Context,
    OutboxRow,
    SyncJobRow,
    User,
)

RECENT = 20
# Each check's deadline: the page answers within about this, even if PostgreSQL hangs.
CHECK_SECONDS = 3.0


@dataclass(frozen=True)
class SyncProblem:
    at: dt.datetime
    course: str
    what: str
    error: str


@dataclass(frozen=True)
class RefreshProblem:
    at: dt.datetime
    student: str
    errors: list[str]


@dataclass
class HealthReport:
    checks: list[Check] = field(default_factory=list)
    jobs_backend: str = "thread"
    sync_problems: list[SyncProblem] = field(default_factory=list)
    refresh_problems: list[RefreshProblem] = field(default_factory=list)
    # Why the refresh errors cannot be listed now (they are kept in the store), if so.
    refresh_unknown: str | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def _in_scope(identity: AdminIdentity, column: Any) -> Any:
    pk = identity.registration_pk
    return column.in_(contexts_of(pk)) if pk is not None else True


def _sync_problems(session: Session, identity: AdminIdentity) -> list[SyncProblem]:
    problems: list[SyncProblem] = []
    jobs = session.execute(
        select(SyncJobRow, Context.title, Context.context_id)
        .join(Context, Context.id == SyncJobRow.context_pk)
        .where(or_(SyncJobRow.status == "failed", SyncJobRow.failed > 0))
        .where(_in_scope(identity, SyncJobRow.context_pk))
        .order_by(SyncJobRow.created_at.desc())
        .limit(RECENT)
    )
    for job, title, cid in jobs:
        error = job.error or f"{job.failed} of {job.total} scores refused"
        problems.append(SyncProblem(job.created_at, title or cid, "grade sync", error))
    rows = session.execute(
        select(OutboxRow, Context.title, Context.context_id)
        .join(Context, Context.id == OutboxRow.context_pk)
        .where(OutboxRow.status.in_(["failed", "refused"]))
        .where(_in_scope(identity, OutboxRow.context_pk))
        .order_by(OutboxRow.updated_at.desc())
        .limit(RECENT)
    )
    for row, title, cid in rows:
        attempts = counted(row.attempts, "attempt")
        problems.append(
            SyncProblem(
                row.updated_at,
                title or cid,
                f"{row.module_code} score (outbox row {row.id}, {attempts})",
                row.last_error or "failed",
            )
        )
    return sorted(problems, key=lambda p: p.at, reverse=True)[:RECENT]


def _refresh_problems(services: Services, identity: AdminIdentity) -> list[RefreshProblem]:
    """The latest refresh outcome is kept per student in the shared store; look at the
    students whose completion was fetched most recently."""
    with services.db.read_only() as session:
        query = (
            select(User.id, User.name, User.sub)
            .join(CompletionRecord, CompletionRecord.user_pk == User.id)
            .group_by(User.id, User.name, User.sub)
            .order_by(func.max(CompletionRecord.fetched_at).desc())
            .limit(50)
        )
        if identity.registration_pk is not None:
            query = query.where(User.registration_id == identity.registration_pk)
        students = list(session.execute(query))
    problems = []
    for pk, name, sub in students:
        attempt = last_attempt(services, pk)
        if attempt and attempt.get("errors"):
            at = dt.datetime.fromtimestamp(float(attempt.get("at", 0)), dt.UTC)
            problems.append(RefreshProblem(at, name or f"user {sub}", list(attempt["errors"])))
    return sorted(problems, key=lambda p: p.at, reverse=True)[:RECENT]


def _recent(
    services: Services, identity: AdminIdentity
) -> tuple[list[SyncProblem], list[RefreshProblem] | None]:
    """The sync problems, and the refresh problems (None while the store cannot be read)."""
    with services.db.read_only() as session:
        sync = _sync_problems(session, identity)
    try:
        return sync, _refresh_problems(services, identity)
    except Exception as exc:
        if unavailable_dependency(exc) != STORE:
            raise
        return sync, None


def health_report(services: Services, identity: AdminIdentity) -> HealthReport:
    """Every check, never raising: a failing dependency is reported, not thrown. The checks
    run at once, each on its own thread, and the report is made within ``CHECK_SECONDS``
    whatever the database and Redis do."""
    report = HealthReport()
    deadline = time.monotonic() + CHECK_SECONDS
    database = bounded.start(DATABASE, read_database, services)
    redis_check = None
    if services.settings.redis_url:
        redis_check = bounded.start(STORE, read_redis, services)
    report.checks.extend(database_checks(services, database, deadline))
    report.jobs_backend = services.queue.backend
    report.checks.extend(redis_checks(services, redis_check, deadline))
    if not report.checks[0].ok:
        return report
    recent = bounded.start(DATABASE, _recent, services, identity)
    try:
        report.sync_problems, refresh = outcome(services, recent, time.monotonic() + CHECK_SECONDS)
    except Down as down:
        report.checks.append(down.check("Recent errors"))
    except Exception as exc:
        report.checks.append(Check("Recent errors", False, error_detail(exc)))
    else:
        if refresh is None:
            report.refresh_unknown = NOT_ANSWERING[STORE]
        else:
            report.refresh_problems = refresh
    return report
