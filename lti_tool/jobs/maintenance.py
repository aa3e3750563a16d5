"""Periodic upkeep: a daemon thread of the web process calls a tick (the container enqueues
the store purge, ``lti/store_purge.py``) every ``store_purge_seconds``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("lti_tool.jobs")


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
