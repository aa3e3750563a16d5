"""Which outside dependency an error says is down, and since when each has been down.

The health page (``admin/health.py``) records the first failure it sees per dependency and
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

DATABASE = "database"
REDIS = "redis"
_SHARED_TTL = 7 * 24 * 3600


def dependency_down(exc: BaseException) -> str | None:
    """``"redis"`` or ``"database"`` when ``exc`` says that dependency cannot be reached or
    did not answer in time; None for any other error (a bug, a conflict, bad input)."""
    import redis
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return REDIS
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return DATABASE
    if isinstance(exc, sa_exc.OperationalError):
        # SQLite's "database is locked" is contention between writers, not an outage.
        return None if "locked" in str(exc.orig) else DATABASE
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return DATABASE
    return None


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
            import redis

            self._client = redis.Redis.from_url(
                self._redis_url, socket_timeout=2, socket_connect_timeout=2
            )
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
