"""Which outside dependency an error says is down, and since when each has been down.

The health page (``admin/health_checks.py``) records the first failure it sees per dependency and
clears it when the dependency answers again. The time is kept in this process and, for the
database, also in Redis (``SET NX``: the earliest process to notice wins), so the web
processes of one tool agree on when a database outage began. A Redis outage is timed per
process only: the other place to share it, the database, has no table for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from typing import Any

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

DATABASE = "database"
STORE = "store"  # Redis: the launch sessions, the job queue, the rate limits
# SQLSTATE classes of a server that cannot serve now: connection exception (08), insufficient
# resources (53: too many connections, disk full), operator intervention (57: shutdown,
# starting up, statement cancelled by statement_timeout).
_UNAVAILABLE_CLASSES = frozenset({"08", "53", "57"})
STATEMENT_CANCELLED = "57014"
_SHARED_TTL = 7 * 24 * 3600


def unavailable_dependency(exc: BaseException) -> str | None:
    """``DATABASE`` or ``STORE`` when ``exc`` (or what it was raised from) means that
    dependency is down or did not answer in time; None for anything else (a bug, a write
    conflict, bad input)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 10:
        seen.add(id(current))
        found = _classify(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _classify(exc: BaseException) -> str | None:
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return DATABASE
        state = getattr(exc.orig, "sqlstate", None)
        if state:
            # Conflicts (40001, 40P01, 55P03, 23505) are other classes: they stay conflicts.
            return DATABASE if str(state)[:2] in _UNAVAILABLE_CLASSES else None
        # No SQLSTATE: psycopg's own connection errors mean the client could not reach the
        # server (refused, timed out, connection lost or closed). Its other client-side
        # errors are not outages: a NUL byte in a text value (DataError), a wrong parameter
        # count (ProgrammingError). SQLite's errors (a locked file, a missing table) are not.
        return DATABASE if _psycopg_connection_error(exc.orig) else None
    if isinstance(exc, PoolTimeoutError | DisconnectionError):
        return DATABASE  # no pooled connection came free in time; a dead connection
    return STORE if _is_redis_outage(exc) else None


def _psycopg_connection_error(error: BaseException | None) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is installed with the tool
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def _is_redis_outage(exc: BaseException) -> bool:
    try:
        from redis import exceptions as redis_errors
    except ImportError:  # pragma: no cover - redis is installed with the tool
        return False
    return isinstance(
        exc,
        redis_errors.ConnectionError  # refused, reset, still loading its data
        | redis_errors.TimeoutError
        | redis_errors.ReadOnlyError  # a replica during a failover
        | redis_errors.MasterDownError,
    )


class OutageClock:
    """The first failure time of each dependency that is down now."""

    def __init__(self, redis_url: str = "", prefix: str = "lti_tool") -> None:
        self._lock = threading.Lock()
        self._since: dict[str, dt.datetime] = {}
        self._redis_url = redis_url
        self._prefix = prefix
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None and self._redis_url:
            from lti_tool.redis_connection import redis_client

            self._client = redis_client(self._redis_url, connect_timeout=2, timeout=2)
        return self._client

    def _shared_key(self, dependency: str) -> str:
        return f"{self._prefix}:outage_since:{dependency}"

    def note_down(self, dependency: str, at: dt.datetime | None = None) -> dt.datetime:
        """Record a failure; returns when the outage began (the first failure seen)."""
        now = at or dt.datetime.now(dt.UTC)
        with self._lock:
            since = self._since.setdefault(dependency, now)
        if dependency == DATABASE:
            since = min(since, self._shared_since(dependency, since) or since)
            with self._lock:
                self._since[dependency] = since
        return since

    def note_up(self, dependency: str) -> None:
        """The dependency answered: its outage, if any, is over."""
        with self._lock:
            self._since.pop(dependency, None)
        if dependency == DATABASE:
            self._forget_shared(dependency)

    def since(self, dependency: str) -> dt.datetime | None:
        with self._lock:
            return self._since.get(dependency)

    def _shared_since(self, dependency: str, candidate: dt.datetime) -> dt.datetime | None:
        client = self._redis()
        if client is None:
            return None
        try:
            key = self._shared_key(dependency)
            client.set(key, candidate.isoformat(), nx=True, ex=_SHARED_TTL)
            raw = client.get(key)
        except Exception:  # Redis down as well: this process's own time stands
            return None
        try:
            return dt.datetime.fromisoformat(raw.decode()) if raw else None
        except ValueError:
            return None

    def _forget_shared(self, dependency: str) -> None:
        client = self._redis()
        if client is None:
            return
        # Nothing to clear while Redis is down: its keys went with it.
        with contextlib.suppress(Exception):
            client.delete(self._shared_key(dependency))
