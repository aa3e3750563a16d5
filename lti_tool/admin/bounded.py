"""Run a check with a deadline of its own, so a dependency that never answers (PostgreSQL
behind a network partition) cannot hold the health page.

Each check runs on a daemon thread; the caller waits at most until its deadline. A thread
that is still waiting on a hung server cannot be stopped, so each dependency has a few slots:
while they are all taken by earlier, still-hung checks, a new check is not started and the
dependency is reported as not answering at once. Daemon threads do not hold up the process
when it exits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

SLOTS_PER_DEPENDENCY = 4


class NotAnswering(Exception):
    """The check did not finish before its deadline."""

    def __init__(self, dependency: str) -> None:
        super().__init__(f"{dependency} did not answer in time")
        self.dependency = dependency


class Busy(NotAnswering):
    """Not started: every slot of the dependency was taken (by earlier, still-running
    checks)."""


class Pending:
    """A check started on its own thread."""

    def __init__(self, dependency: str) -> None:
        self.dependency = dependency
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def _run(
        self, fn: Callable[..., Any], args: tuple[Any, ...], slot: threading.Semaphore
    ) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # handed to the waiting caller
            self._error = exc
        finally:
            slot.release()
            self._done.set()

    def result(self, deadline: float) -> Any:
        """The check's value, its exception, or ``NotAnswering`` once ``deadline``
        (a ``time.monotonic()`` value) has passed."""
        if not self._done.wait(max(0.0, deadline - time.monotonic())):
            raise NotAnswering(self.dependency)
        if self._error is not None:
            raise self._error
        return self._value


class _Refused(Pending):
    def result(self, deadline: float) -> Any:
        raise Busy(self.dependency)


_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def start(dependency: str, fn: Callable[..., Any], *args: Any, wait: float = 0.0) -> Pending:
    """Start ``fn(*args)`` on a thread counted against ``dependency``'s slots, waiting up to
    ``wait`` seconds for a free one (by default none: the check is reported busy at once)."""
    with _slots_lock:
        slot = _slots.setdefault(dependency, threading.BoundedSemaphore(SLOTS_PER_DEPENDENCY))
    free = slot.acquire(timeout=wait) if wait > 0 else slot.acquire(blocking=False)
    if not free:
        return _Refused(dependency)
    pending = Pending(dependency)
    thread = threading.Thread(
        target=pending._run, args=(fn, args, slot), name=f"health-{dependency}", daemon=True
    )
    thread.start()
    return pending
