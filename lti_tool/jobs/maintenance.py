"""Periodic upkeep: expired rows out of the shared store.

Without Redis the store is a database table whose dead rows (OIDC state, nonces, launch
sessions holding names and emails) nothing else removes. A daemon thread of the web process
enqueues :func:`purge_store` every ``store_purge_seconds``: the in-process runner runs it
there, with Redis an RQ worker (``lti-tool worker``) does.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from lti_tool.lti.store import DatabaseStore

if TYPE_CHECKING:
    from lti_tool.container import Services

log = logging.getLogger("lti_tool.jobs")


def purge_store(services: Services) -> int:
    """Delete expired store rows; how many went. With Redis (which expires its own keys) the
    database table is purged too: it keeps what was written before Redis was configured."""
    gone = services.store.purge_expired()
    if services.store.backend != DatabaseStore.backend:
        gone += DatabaseStore(services.db).purge_expired()
    if gone:
        log.info("purged %d expired store rows", gone)
    return gone


class MaintenanceSchedule:
    """Calls ``tick`` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(self, interval: float, tick: Callable[[], None]) -> None:
        self._interval = interval
        self._tick = tick
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="lti-maintenance", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._tick()
            except Exception:  # the schedule must outlive one failed enqueue (Redis down)
                log.exception("scheduling store maintenance failed")
