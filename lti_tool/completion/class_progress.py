"""Starting a class refresh once, and what the class view says about it while it runs.

A staff launch starts one (``start_class_refresh``) when the course has never been read or
its last class refresh is older than ``completion_max_age``; one at a time per course, across
workers (a lock in the shared store). The job writes its progress to the shared store
(``ProgressWriter``) so any worker can answer "120 of 500 students" and, afterwards, "as of"
with who could not be read and why.
"""

from __future__ import annotations

import time
from typing import Any

from lti_tool.container import Services
from lti_tool.logs import request_correlation_id

PROGRESS = "class_refresh"
LOCK = "class_refreshing"
# A lost worker must not block refreshes for ever: the lock lives this long unless the
# refresh holding it renews it, which it does while it runs.
LOCK_TTL = 900
PROGRESS_TTL = 7 * 24 * 3600
# Progress is written at most this often (a store write per student would cost more).
WRITE_EVERY_SECONDS = 0.5


def progress_of(services: Services, context_pk: int) -> dict[str, Any] | None:
    """The course's running or last class refresh: ``status`` ("running" | "done"),
    ``total``, ``done``, ``failed``, ``started_at``/``finished_at`` (epoch seconds) and
    ``unreadable`` (``[{"sub", "name", "reason"}]``, plain words) and ``untrackable``
    (``[{"code", "cause"}]``: CPD courses the LMS cannot track, and what a teacher must set)."""
    return services.store.get(PROGRESS, str(context_pk))


def is_stale(services: Services, progress: dict[str, Any] | None, context_pk: int) -> bool:
    """Whether the class copy needs reading again: never read, read too long ago, or its
    refresh lost (a "running" record whose lock is gone: the worker died mid-refresh, so
    its ``finally`` never ran; the lock outlives any real refresh)."""
    if progress is None:
        return True
    finished = progress.get("finished_at")
    if not isinstance(finished, int | float):
        if progress.get("status") != "running":
            return True
        return services.store.get(LOCK, str(context_pk)) is None
    return time.time() - finished > services.settings.completion_max_age.total_seconds()


def start_class_refresh(services: Services, context_pk: int, *, only_if_stale: bool) -> bool:
    """Queue a class refresh unless one runs for the course (or, with ``only_if_stale``,
    the last one is fresh enough); True when one was queued. Never waits for the LMS."""
    from lti_tool.completion.class_refresh import run_class_refresh

    if only_if_stale and not is_stale(services, progress_of(services, context_pk), context_pk):
        return False
    if not services.store.add(LOCK, str(context_pk), {"at": time.time()}, LOCK_TTL):
        return False
    previous = progress_of(services, context_pk) or {}
    services.store.put(
        PROGRESS,
        str(context_pk),
        {
            "status": "queued",
            "total": 0,
            "done": 0,
            "failed": 0,
            "started_at": time.time(),
            "finished_at": None,
            "previous_finished_at": previous.get("finished_at"),
            "unreadable": [],
        },
        PROGRESS_TTL,
    )
    try:
        services.queue.enqueue(run_class_refresh, context_pk, request_correlation_id())
    except Exception:
        release(services, context_pk)
        raise
    return True


def renew(services: Services, context_pk: int) -> None:
    """The running refresh's lock, given its whole lifetime again (``run_class_refresh``
    renews it while it runs: a refresh may outlast ``LOCK_TTL``, a lost worker's lock not)."""
    services.store.put(LOCK, str(context_pk), {"at": time.time()}, LOCK_TTL)


def release(services: Services, context_pk: int) -> None:
    services.store.delete(LOCK, str(context_pk))


class ProgressWriter:
    """The job's side: counts as students are read, then the outcome."""

    def __init__(self, services: Services, context_pk: int) -> None:
        self._services = services
        self._key = str(context_pk)
        self._record: dict[str, Any] = dict(progress_of(services, context_pk) or {})
        self._record.setdefault("started_at", time.time())
        self._record.update(status="running", finished_at=None, unreadable=[], untrackable=[])
        self._written = 0.0

    def update(self, done: int, failed: int, total: int) -> None:
        self._record.update(done=done, failed=failed, total=total)
        if done + failed in {0, total} or time.monotonic() - self._written >= WRITE_EVERY_SECONDS:
            self._write()

    def finish(
        self,
        total: int,
        failed: int,
        unreadable: list[dict[str, str]],
        untrackable: dict[str, str] | None = None,
    ) -> None:
        self._record.update(
            status="done",
            total=total,
            done=total - failed,
            failed=failed,
            finished_at=time.time(),
            unreadable=unreadable[:200],
            untrackable=[
                {"code": code, "cause": cause} for code, cause in (untrackable or {}).items()
            ][:50],
        )
        self._write()

    def fail(self, reason: str) -> None:
        """The refresh itself broke (not one student): say so, keep the last good time."""
        self._record.update(
            status="done", error=reason, finished_at=self._record.get("previous_finished_at")
        )
        self._write()

    def _write(self) -> None:
        self._services.store.put(PROGRESS, self._key, self._record, PROGRESS_TTL)
        self._written = time.monotonic()
