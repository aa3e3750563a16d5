"""The health page: database and migration revision, Redis, background jobs, and the latest
grade-sync and completion-refresh errors within the admin's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from lti_tool.admin.audit_log import contexts_of
from lti_tool.admin.identity import AdminIdentity
from lti_tool.completion.refresh import last_attempt
from lti_tool.container import Services
from lti_tool.persistence.models import (
    CompletionRecord,
    Context,
    OutboxRow,
    SyncJobRow,
    User,
)

RECENT = 20


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


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

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def _error(exc: Exception) -> str:
    # The type only: a driver's message may carry a connection URL with its password.
    return f"unreachable ({type(exc).__name__})"


def _database(services: Services) -> list[Check]:
    from alembic.script import ScriptDirectory

    from lti_tool.persistence.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(services.db.url)).get_current_head()
    try:
        with services.db.read_only() as session:
            session.execute(text("SELECT 1"))
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # the page reports failures, it does not raise them
        return [Check("Database", False, _error(exc))]
    backend = services.db.engine.dialect.name
    checks = [Check("Database", True, f"{backend} reachable")]
    current = str(revision) if revision else "none"
    checks.append(
        Check(
            "Migrations",
            current == head,
            f"revision {current}" + ("" if current == head else f"; the code expects {head}"),
        )
    )
    return checks


def _redis_and_jobs(services: Services, report: HealthReport) -> None:
    settings = services.settings
    if not settings.redis_url:
        report.checks.append(Check("Redis", True, "not configured: state lives in the database"))
        report.jobs_backend = services.queue.backend
        report.checks.append(
            Check("Background jobs", True, "run in threads of the web process (no Redis)")
        )
        return
    try:
        services.store.ping()
        report.checks.append(Check("Redis", True, "reachable"))
    except Exception as exc:
        report.checks.append(Check("Redis", False, _error(exc)))
    report.jobs_backend = services.queue.backend
    if services.queue.backend != "rq":
        return
    try:
        workers, queued, failed = _rq_counts(settings.redis_url, settings.redis_prefix)
    except Exception as exc:
        report.checks.append(Check("Background jobs", False, _error(exc)))
        return
    report.checks.append(
        Check(
            "Background jobs",
            workers > 0,
            f"{_count(workers, 'RQ worker')}; {_count(queued, 'job')} queued; "
            f"{failed} failed in the last week" + ("" if workers else ": start `lti-tool worker`"),
        )
    )


def _rq_counts(redis_url: str, queue_name: str) -> tuple[int, int, int]:
    import redis
    from rq import Queue, Worker

    # The same queue the container's RqQueue uses (named after the Redis prefix).
    connection = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        queue = Queue(queue_name, connection=connection)
        failed = queue.failed_job_registry.count
        return Worker.count(connection=connection, queue=queue), queue.count, failed
    finally:
        connection.close()


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
        problems.append(
            SyncProblem(
                row.updated_at,
                title or cid,
                f"{row.module_code} score (outbox row {row.id}, {_count(row.attempts, 'attempt')})",
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


def health_report(services: Services, identity: AdminIdentity) -> HealthReport:
    """Every check, never raising: a failing dependency is reported, not thrown."""
    report = HealthReport()
    report.checks.extend(_database(services))
    _redis_and_jobs(services, report)
    if report.checks[0].ok:
        try:
            with services.db.read_only() as session:
                report.sync_problems = _sync_problems(session, identity)
            report.refresh_problems = _refresh_problems(services, identity)
        except Exception as exc:
            report.checks.append(Check("Recent errors", False, _error(exc)))
    return report


def _count(number: int, word: str) -> str:
    """``1 attempt``, ``2 attempts``."""
    return f"{number} {word}{'' if number == 1 else 's'}"
