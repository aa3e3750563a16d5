"""Deadlines on PostgreSQL: connecting, each statement, waiting for a pooled connection.

Three of them PostgreSQL and SQLAlchemy keep themselves (psycopg's ``connect_timeout``, the
server's ``statement_timeout``, the pool's ``pool_timeout``). None of them helps when the
server stops answering on a connection already open (a network partition, a failover): the
client waits for a reply that never comes, and psycopg has no read deadline. The watchdog here
is that deadline: a call on a connection (a statement, the pool's ping, a commit or rollback)
that outlives it has its socket shut down, so the call fails at once with a disconnect error,
SQLAlchemy drops the connection, and the request gets its 503 page.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event

from lti_tool.settings import Settings

# The server cancels a statement itself at statement_timeout; the watchdog cuts the connection
# only if no answer (not even the cancellation) has come this much later.
_GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class DatabaseDeadlines:
    """Seconds; ``statement_seconds`` 0 means none (neither the server's nor the
    watchdog's)."""

    connect_seconds: int = 5
    statement_seconds: float = 10.0
    pool_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseDeadlines:
        return cls(
            connect_seconds=settings.database_connect_timeout_seconds,
            statement_seconds=settings.database_statement_timeout_seconds,
            pool_seconds=settings.database_pool_timeout_seconds,
        )

    def engine_options(self, url_options: str | None) -> dict[str, Any]:
        """``create_engine`` arguments for PostgreSQL (``url_options``: an ``options``
        parameter the URL already carries, kept)."""
        connect_args: dict[str, Any] = {"connect_timeout": max(1, int(self.connect_seconds))}
        if self.statement_seconds > 0:
            milliseconds = max(1, int(self.statement_seconds * 1000))
            options = f"-c statement_timeout={milliseconds}"
            connect_args["options"] = f"{url_options} {options}" if url_options else options
        return {"connect_args": connect_args, "pool_timeout": self.pool_seconds}


class ConnectionWatchdog:
    """Shuts down the socket of a connection whose call is still running at its deadline.

    One thread per process, started on first use (and again in a forked worker, where the
    parent's thread does not exist)."""

    def __init__(self) -> None:
        # id(connection) → (deadline, socket number, the connection weakly: a stale entry
        # whose connection has since closed, its number maybe reused, is dropped, not cut).
        self._armed: dict[int, tuple[float, int, weakref.ref[Any]]] = {}
        self._pid = 0
        self._wake = threading.Condition()
        self._starting = threading.Lock()
        # When the thread wakes next by itself: an entry due later needs no wake-up call
        # (waking it on every statement was a thread switch per statement).
        self._wake_at = math.inf
        self.cuts = 0

    def arm(self, dbapi_connection: Any, seconds: float) -> None:
        fd = _socket_fd(dbapi_connection)
        if fd is None:
            return
        try:
            ref = weakref.ref(dbapi_connection)
        except TypeError:
            return
        self._ensure_thread()
        due = time.monotonic() + seconds
        with self._wake:
            self._armed[id(dbapi_connection)] = (due, fd, ref)
            if due < self._wake_at:
                self._wake_at = due
                self._wake.notify()

    def disarm(self, dbapi_connection: Any) -> None:
        with self._wake:
            self._armed.pop(id(dbapi_connection), None)

    @contextmanager
    def deadline(self, dbapi_connection: Any, seconds: float) -> Iterator[None]:
        self.arm(dbapi_connection, seconds)
        try:
            yield
        finally:
            self.disarm(dbapi_connection)

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._starting:
            if self._pid == os.getpid():
                return
            # A fresh condition too: a fork may have copied the parent's while it was held.
            self._wake = threading.Condition()
            self._armed = {}
            self._wake_at = math.inf
            threading.Thread(target=self._run, name="db-deadline-watchdog", daemon=True).start()
            self._pid = os.getpid()

    def _run(self) -> None:
        wake = self._wake
        while True:
            with wake:
                now = time.monotonic()
                for key, (due, fd, ref) in list(self._armed.items()):
                    if due > now:
                        continue
                    del self._armed[key]
                    # Under the lock: the connection cannot be disarmed (and its socket closed
                    # and the number reused) while it is being cut.
                    connection = ref()
                    if connection is not None and _socket_fd(connection) == fd:
                        _cut(fd)
                        self.cuts += 1
                upcoming = [entry[0] for entry in self._armed.values()]
                if upcoming:
                    self._wake_at = max(now + 0.01, min(upcoming))
                    wake.wait(self._wake_at - now)
                else:
                    self._wake_at = math.inf
                    wake.wait()


def _socket_fd(dbapi_connection: Any) -> int | None:
    connection = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
    try:
        fd = int(connection.fileno())
    except Exception:  # closed, or a driver without one: no deadline to keep
        return None
    return fd if fd >= 0 else None


def _cut(fd: int) -> None:
    """Shut the socket down (a copy of its descriptor: the driver still owns and closes the
    original); the driver's blocked read returns at once with "connection closed"."""
    try:
        copy = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        copy.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        copy.close()


WATCHDOG = ConnectionWatchdog()


def install_watchdog(engine: Engine, deadlines: DatabaseDeadlines) -> None:
    """Keep the statement deadline (plus a grace) on every statement, commit and rollback of
    ``engine``'s connections, and the connect deadline on the pool's ping."""
    if deadlines.statement_seconds <= 0:
        return
    statement = deadlines.statement_seconds + _GRACE_SECONDS
    ping = float(max(1, int(deadlines.connect_seconds)))

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(conn: Any, *_args: Any) -> None:
        WATCHDOG.arm(conn.connection.dbapi_connection, statement)

    @event.listens_for(engine, "after_cursor_execute")
    def _disarm(conn: Any, *_args: Any) -> None:
        WATCHDOG.disarm(conn.connection.dbapi_connection)

    @event.listens_for(engine, "handle_error")
    def _disarm_on_error(context: Any) -> None:
        # Called before SQLAlchemy invalidates a connection the error broke; an entry left
        # behind anyway is dropped when due (its connection closed: nothing is cut).
        connection = context.connection
        try:
            dbapi_connection = connection.connection.dbapi_connection
        except Exception:
            return
        if dbapi_connection is not None:
            WATCHDOG.disarm(dbapi_connection)

    @event.listens_for(engine, "checkin")
    def _disarm_on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            WATCHDOG.disarm(dbapi_connection)

    @event.listens_for(engine, "close")
    def _disarm_on_close(dbapi_connection: Any, _record: Any) -> None:
        WATCHDOG.disarm(dbapi_connection)

    # Commit, rollback (also the pool's reset of a returned connection) and the pool's ping
    # send no cursor events: the dialect's own methods are wrapped, for this engine only.
    dialect = engine.dialect
    _wrap(dialect, "do_commit", statement)
    _wrap(dialect, "do_rollback", statement)
    _wrap(dialect, "do_ping", ping)


def _wrap(dialect: Any, name: str, seconds: float) -> None:
    original: Callable[[Any], Any] = getattr(dialect, name)

    def with_deadline(dbapi_connection: Any) -> Any:
        target = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        with WATCHDOG.deadline(target, seconds):
            return original(dbapi_connection)

    setattr(dialect, name, with_deadline)
