"""The health page's dependency checks: the database and its migration revision, Redis, and
the background jobs (live workers by their heartbeat, queued and failed jobs), each read on
its own thread (``admin/bounded.py``) and judged against the page's deadline.

A dependency that is down or not answering becomes a failed ``Check`` that says since when
(``outages.py``), through ``outcome`` and ``Down``; ``admin/health.py`` assembles the report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from lti_tool.admin.bounded import NotAnswering, Pending
from lti_tool.container import Services
from lti_tool.jobs.heartbeat import live_workers
from lti_tool.lti.keys import SigningKeyUnreadable, readable_signing_keys
from lti_tool.outages import DATABASE, STORE, unavailable_dependency
from lti_tool.persistence.revision import database_revision, head_revision


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    since: dt.datetime | None = None  # when the dependency this check needs went down


SIGNING_KEY = "Signing key"
NOT_ANSWERING = {
    DATABASE: "the database is not answering",
    STORE: "Redis is not answering",
}


def error_detail(exc: Exception) -> str:
    # The type only: a driver's message may carry a connection URL with its password.
    return f"unreachable ({type(exc).__name__})"


def outcome(services: Services, pending: Pending, deadline: float) -> Any:
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


@dataclass(frozen=True)
class DatabaseState:
    backend: str
    revision: str | None
    # The signing key, read only on a database at the head: its check, or None.
    signing_key: Check | None


def read_database(services: Services) -> DatabaseState:
    with services.db.read_only() as session:
        session.execute(text("SELECT 1"))
        revision = database_revision(session)
        signing_key = _signing_key(services, session) if revision == head_revision() else None
    return DatabaseState(services.db.engine.dialect.name, revision, signing_key)


def _signing_key(services: Services, session: Session) -> Check:
    """Whether the active signing key (deep linking answers, grade sync's service tokens)
    and a pending one open with this LTI_TOOL_SECRET_KEY: a restored database or a mistyped
    secret says nothing anywhere else until a teacher's placement or a grade sync fails."""
    try:
        keys = readable_signing_keys(session, services.secrets)
    except SigningKeyUnreadable as exc:
        return Check(SIGNING_KEY, False, exc.message)
    if keys is None:
        return Check(SIGNING_KEY, False, "there is none yet: run `lti-tool init`")
    opens = f"key {keys.signing} opens with this LTI_TOOL_SECRET_KEY"
    if keys.signing is None:
        opens = "no key signs yet"
    if keys.pending is not None:
        opens += (
            f"; so does key {keys.pending.kid}, which begins signing at "
            f"{keys.pending.activates_at:%Y-%m-%d %H:%M}Z"
        )
    return Check(SIGNING_KEY, True, opens)


def database_checks(services: Services, pending: Pending, deadline: float) -> list[Check]:
    """The "Database", "Migrations" and "Signing key" checks, from ``read_database`` started
    as ``pending``."""
    head = head_revision()
    try:
        state = outcome(services, pending, deadline)
    except Down as down:
        return [down.check("Database"), down.check("Migrations"), down.check(SIGNING_KEY)]
    except Exception as exc:  # the page reports failures, it does not raise them
        return [Check("Database", False, error_detail(exc))]
    checks = [Check("Database", True, f"{state.backend} reachable")]
    current = state.revision or "none"
    checks.append(
        Check(
            "Migrations",
            current == head,
            f"revision {current}" + ("" if current == head else f"; the code expects {head}"),
        )
    )
    if state.signing_key is not None:
        checks.append(state.signing_key)
    return checks


def read_redis(services: Services) -> tuple[int, int, int]:
    """Ping Redis; with RQ, the live workers (by their heartbeat), queued and failed jobs."""
    services.store.ping()
    if services.queue.backend != "rq":
        return 0, 0, 0
    return _rq_counts(services.settings.redis_url, services.settings.redis_prefix)


def redis_checks(services: Services, pending: Pending | None, deadline: float) -> list[Check]:
    """The "Redis" check and, with RQ, "Background jobs", from ``read_redis`` started as ``pending``
    (None: no Redis is configured)."""
    if pending is None:
        return [
            Check("Redis", True, "not configured: state lives in the database"),
            Check("Background jobs", True, "run in threads of the web process (no Redis)"),
        ]
    try:
        workers, queued, failed = outcome(services, pending, deadline)
    except Down as down:
        if services.queue.backend == "rq":
            return [down.check("Redis"), down.check("Background jobs")]
        return [down.check("Redis")]
    except Exception as exc:
        return [Check("Redis", False, error_detail(exc))]
    checks = [Check("Redis", True, "reachable")]
    if services.queue.backend != "rq":
        return checks
    checks.append(
        Check(
            "Background jobs",
            workers > 0,
            f"{counted(workers, 'worker')} running; {counted(queued, 'job')} queued; "
            f"{failed} failed in the last week" + ("" if workers else ": start `lti-tool worker`"),
        )
    )
    return checks


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


def counted(number: int, word: str) -> str:
    """``1 attempt``, ``2 attempts``."""
    return f"{number} {word}{'' if number == 1 else 's'}"
