"""The in-process job runner of the embedded deployment: a small bounded thread pool."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger("lti_tool.jobs")


class ThreadJobRunner:
    """Runs functions in background threads; failures are logged, never lost silently."""

    def __init__(self, max_workers: int = 4) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="lti-job")

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        future = self._pool.submit(fn, *args, **kwargs)
        future.add_done_callback(_log_failure)
        return future

    def shutdown(self) -> None:
        """Drop queued jobs and let running ones finish (each is bounded by its HTTP
        timeouts), so none writes after the database is closed."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _log_failure(future: Future[Any]) -> None:
    if future.cancelled():
        return
    error = future.exception()
    if error is not None:
        log.error("background job failed", exc_info=error)
