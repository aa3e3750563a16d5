"""A claim kept fresh while its holder works: a grade sync's rows ("sending") and the
gradebook column it is making are claimed in the database with a time, a class refresh holds
a lock with a lifetime in the shared store, and another job takes over a claim only once it
is old (its holder crashed). A slow platform must not make a live holder's claim look
abandoned, so a thread renews it every ``interval`` seconds until the work is done; a renewal
that fails is logged and tried again at the next beat."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("lti_tool.jobs")


class Renewing:
    """``with Renewing(renew, interval, fields):`` calls ``renew()`` every ``interval``
    seconds on a thread of its own until the block ends (``fields`` name the claim in logs)."""

    def __init__(self, renew: Callable[[], None], interval: float, fields: dict[str, Any]) -> None:
        self._renew = renew
        self._interval = max(0.1, interval)
        self._fields = fields
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="claim-lease", daemon=True)

    def __enter__(self) -> Renewing:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._renew()
            except Exception as exc:  # the next beat tries again; the work goes on
                log.warning(
                    "claim not renewed",
                    extra={"fields": {**self._fields, "error": type(exc).__name__}},
                )
