"""Requests refused because a dependency is down: which errors mean "the database (or the
store) is down or not answering", and a quiet record of it for the logs.

An outage under load fails every request the same way; a full traceback for each buries the
one line an operator needs. Each refused request gets one warning line (web/errors.py); the
full traceback is kept for the first failure of a dependency in each minute, and recovery is
logged once, when the dependency is reached again (a new database connection checked out, a
new Redis connection made, or a readiness check that passes). Counts are per process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from lti_tool.logs import log_event
from lti_tool.outages import DATABASE, STATEMENT_CANCELLED, STORE

log = logging.getLogger("lti_tool.web")
TRACEBACK_INTERVAL_SECONDS = 60.0
_EXTENSION = "lti_tool.outages"


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the server could not be reached at all (so reaching it again is
    a recovery), not that a server that answers was too busy (a statement cancelled by its
    deadline, no pooled connection free in time)."""
    current: BaseException | None = exc
    for _ in range(10):
        if current is None:
            break
        if isinstance(current, PoolTimeoutError):
            return False
        if isinstance(current, DBAPIError):
            return getattr(current.orig, "sqlstate", None) != STATEMENT_CANCELLED
        current = current.__cause__ or current.__context__
    return True


class DependencyOutages:
    """Thread-safe: which dependencies are down since when, and whether a full traceback is
    due (the first failure of a dependency in each ``interval``)."""

    def __init__(
        self,
        interval: float = TRACEBACK_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last_traceback: dict[str, float] = {}
        self._down: dict[str, float] = {}

    def failed(self, dependency: str, *, unreachable: bool = True) -> bool:
        """Note a failure; True when this one should be logged with its full traceback.
        ``unreachable``: the server could not be reached (reaching it again is logged)."""
        now = self._clock()
        with self._lock:
            if unreachable:
                self._down.setdefault(dependency, time.time())
            last = self._last_traceback.get(dependency)
            if last is not None and now - last < self._interval:
                return False
            self._last_traceback[dependency] = now
            return True

    def reached(self, dependency: str) -> None:
        """Note that ``dependency`` answered; logs "available again" once after failures."""
        if dependency not in self._down:  # the usual case: no lock, nothing to do
            return
        with self._lock:
            since = self._down.pop(dependency, None)
        if since is not None:
            log_event(
                log,
                logging.INFO,
                f"{dependency} available again",
                code="dependency_available",
                dependency=dependency,
                down_seconds=round(time.time() - since, 1),
            )

    def down(self) -> dict[str, float]:
        """The dependencies seen down and not reached since: name → since (epoch seconds)."""
        with self._lock:
            return dict(self._down)


def outages(app: Flask | None = None) -> DependencyOutages:
    """This application's record (made by ``init_app``)."""
    found: DependencyOutages = (app or current_app).extensions[_EXTENSION]
    return found


def unavailable_now() -> str | None:
    """The dependency this request found down (set when its 503 is being made), if any:
    the answer must then be made without it."""
    value = g.get("dependency_unavailable")
    return str(value) if value else None


def init_app(app: Flask) -> None:
    """Keep a record for ``app``, and notice its dependencies answering again: a database
    connection checked out (the pool pings it first), a new Redis connection made."""
    record = DependencyOutages()
    app.extensions[_EXTENSION] = record
    services = app.extensions["lti_tool"]

    @event.listens_for(services.db.engine, "checkout")
    def _database_reached(*_args: Any) -> None:
        record.reached(DATABASE)

    client = getattr(services.store, "client", None)
    if client is not None:
        kwargs = client.connection_pool.connection_kwargs

        def _store_reached(connection: Any) -> None:
            connection.on_connect()  # redis-py's handshake, which this hook replaces
            record.reached(STORE)

        kwargs["redis_connect_func"] = _store_reached
