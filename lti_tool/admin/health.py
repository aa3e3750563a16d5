"""The health page: database and migration revision, Redis, background jobs, and the latest
grade-sync and completion-refresh errors within the admin's scope.

It is the page an administrator opens during an outage, so it never waits on a dependency for
long (each check has its own deadline, ``admin/bounded.py``) and says which dependency is down
and since when (``outages.py``). Workers are judged by their own heartbeat keys
(``jobs/heartbeat.py``), which a Redis restart cannot make them lose for long."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from lti_tool.admin import bounded
from lti_tool.admin.audit_log import contexts_of
from lti_tool.admin.bounded import NotAnswering, Pending
from lti_tool.admin.identity import AdminIdentity
from lti_tool.completion.refresh import last_attempt
from lti_tool.container import Services
from lti_tool.jobs.heartbeat import live_workers
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
class Check:
    name: str
    ok: bool
    detail: str
    since: dt.datetime | None = None  # when the dependency this check needs went down


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


NOT_ANSWERING = {
    DATABASE: "the database is not answering",
    STORE: "Redis is not answering",
}


def _error(exc: Exception) -> str:
    # The type only: a driver's message may carry a connection URL with its password.
    return f"unreachable ({type(exc).__name__})"


def _outcome(services: Services, pending: Pending, deadline: float) -> Any:
    """The check's value; an outage is recorded with its first failure time and raised as
    ``Down``; any other error is raised as it is."""
    try:
        value = pending.result(deadline)
    except Exception as exc:
        dependency = (
            exc.dependency if isinstance(exc, NotAnswering) else unavailable_dependency(exc)
        )
        if dependency is None:
            raise
        raise Down(dependency, services.outages.note_down(dependency)) from exc
    services.outages.note_up(pending.dependency)
    return value


class Down(Exception):
    def __init__(self, dependency: str, since: dt.datetime) -> None:
        super().__init__(dependency)
        self.dependency = dependency
        self.since = since

    def check(self, name: str) -> Check:
        return Check(name, False, NOT_ANSWERING[self.dependency], self.since)


def _read_database(services: Services) -> tuple[str, str | None]:
    with services.db.read_only() as session:
        session.execute(text("SELECT 1"))
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return services.db.engine.dialect.name, str(revision) if revision else None


def _database(services: Services, pending: Pending, deadline: float) -> list[Check]:
    from alembic.script import ScriptDirectory

    from lti_tool.persistence.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(services.db.url)).get_current_head()
    try:
        backend, revision = _outcome(services, pending, deadline)
    except Down as down:
        return [down.check("Database"), down.check("Migrations")]
    except Exception as exc:  # the page reports failures, it does not raise them
        return [Check("Database", False, _error(exc))]
    checks = [Check("Database", True, f"{backend} reachable")]
    current = revision or "none"
    checks.append(
        Check(
            "Migrations",
            current == head,
            f"revision {current}" + ("" if current == head else f"; the code expects {head}"),
        )
    )
    return checks


def _read_redis(services: Services) -> tuple[int, int, int]:
    """Ping Redis; with RQ, the live workers (by their heartbeat), queued and failed jobs."""
    services.store.ping()
    if services.queue.backend != "rq":
        return 0, 0, 0
    return _rq_counts(services.settings.redis_url, services.settings.redis_prefix)


def _redis_and_jobs(
    services: Services, report: HealthReport, pending: Pending | None, deadline: float
) -> None:
    report.jobs_backend = services.queue.backend
    if pending is None:
        report.checks.append(Check("Redis", True, "not configured: state lives in the database"))
        report.checks.append(
            Check("Background jobs", True, "run in threads of the web process (no Redis)")
        )
        return
    try:
        workers, queued, failed = _outcome(services, pending, deadline)
    except Down as down:
        report.checks.append(down.check("Redis"))
        if services.queue.backend == "rq":
            report.checks.append(down.check("Background jobs"))
        return
    except Exception as exc:
        report.checks.append(Check("Redis", False, _error(exc)))
        return
    report.checks.append(Check("Redis", True, "reachable"))
    if services.queue.backend != "rq":
        return
    report.checks.append(
        Check(
            "Background jobs",
            workers > 0,
            f"{_count(workers, 'worker')} running; {_count(queued, 'job')} queued; "
            f"{failed} failed in the last week" + ("" if workers else ": start `lti-tool worker`"),
        )
    )


def _rq_counts(redis_url: str, queue_name: str) -> tuple[int, int, int]:
    from rq import Queue

    from lti_tool.redis_connection import redis_client

    # The same queue the container's RqQueue uses (named after the Redis prefix). Workers are
    # counted by their own heartbeat keys: RQ's registration is lost when Redis restarts.
    connection = redis_client(redis_url, connect_timeout=2, timeout=2)
    try:
        queue = Queue(queue_name, connection=connection)
        failed = queue.failed_job_registry.count
        workers = len(live_workers(connection, queue_name))
        return workers, queue.count, failed
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
    database = bounded.start(DATABASE, _read_database, services)
    redis_check = None
    if services.settings.redis_url:
        redis_check = bounded.start(STORE, _read_redis, services)
    report.checks.extend(_database(services, database, deadline))
    _redis_and_jobs(services, report, redis_check, deadline)
    if not report.checks[0].ok:
        return report
    recent = bounded.start(DATABASE, _recent, services, identity)
    try:
        report.sync_problems, refresh = _outcome(services, recent, time.monotonic() + CHECK_SECONDS)
    except Down as down:
        report.checks.append(down.check("Recent errors"))
    except Exception as exc:
        report.checks.append(Check("Recent errors", False, _error(exc)))
    else:
        if refresh is None:
            report.refresh_unknown = NOT_ANSWERING[STORE]
        else:
            report.refresh_problems = refresh
    return report


def _count(number: int, word: str) -> str:
    """``1 attempt``, ``2 attempts``."""
    return f"{number} {word}{'' if number == 1 else 's'}"
