"""A cheaper pool check for PostgreSQL connections that were in use a moment ago.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` on every checkout: a round trip and ~0.3 ms
of CPU, several times per launch (issue 14). A connection returned to the pool less than
``RECENT_SECONDS`` ago is checked locally instead: the driver does not call it closed or broken,
it sits idle outside a transaction, and its socket has nothing to read. A server that closed
the connection (restart, ``pg_terminate_backend``, a proxy or pooler dropping it) leaves the
socket readable (end of file, or the server's FATAL message), so such a connection still gets
the real ping, fails it, and the pool reconnects without the request seeing an error, as
before. A connection idle for longer always gets the real ping: a firewall or NAT that drops
an idle connection silently leaves nothing to read.

Extends SQLAlchemy's pool check (there is no "ping only after idle" option): the dialect's
``do_ping`` is wrapped for one engine, beside the deadline wrapper of persistence/deadlines.py.
"""

from __future__ import annotations

import select
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

RECENT_SECONDS = 5.0


def install_quick_ping(engine: Engine) -> None:
    """Skip the ping's round trip for ``engine``'s connections returned moments ago and
    still quiet; every other checkout is pinged as before."""
    returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            try:
                with lock:
                    returned[dbapi_connection] = time.monotonic()
            except TypeError:  # a driver connection without weak references: always ping
                pass

    dialect = engine.dialect
    ping: Callable[[Any], Any] = dialect.do_ping

    def quick_ping(dbapi_connection: Any) -> Any:
        connection = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        with lock:
            at = returned.pop(connection, None)
        if at is not None and time.monotonic() - at < RECENT_SECONDS and looks_alive(connection):
            return True
        return ping(dbapi_connection)

    dialect.do_ping = quick_ping  # type: ignore[method-assign]


def looks_alive(connection: Any) -> bool:
    """Whether a psycopg connection seen idle a moment ago can be used without a round trip:
    open, not broken, idle outside a transaction, and nothing waiting on its socket."""
    try:
        if connection.closed or connection.broken:
            return False
        if connection.info.transaction_status != 0:  # pq.TransactionStatus.IDLE
            return False
        fd = int(connection.fileno())
    except Exception:
        return False
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    try:
        return not poller.poll(0)
    except OSError:
        return False
