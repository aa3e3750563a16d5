"""Load-balancer probes: /healthz (process alive) and /readyz (dependencies reachable, and
the database migrated to what the code expects).

/healthz touches nothing (no database, no store: the security headers skip the registered
platforms' origins for this blueprint). /readyz runs its checks in threads of its own and
answers within ``READY_DEADLINE_SECONDS`` whatever they do: a PostgreSQL or Redis that does
not answer is reported as not answering, and a check still running from an earlier probe is
waited for again rather than started twice (probes every few seconds must not pile up
threads on a dependency that hangs). A database behind the code (never migrated, or a new
release started before ``lti-tool init``) is not ready: every launch would fail. Once the
revision is the head it stays so for the process, which then no longer reads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text

from lti_tool.container import Services
from lti_tool.persistence.revision import database_revision, head_revision
from lti_tool.web.auth import services

bp = Blueprint("ops", __name__)
READY_DEADLINE_SECONDS = 3.0
_EXTENSION = "lti_tool.readiness"


class NotReady(Exception):
    """A check's own reason, said as it is (the others are reported by their type only: a
    driver's message may carry a connection URL with its password)."""


class ReadinessChecks:
    """Named checks (each raises when its dependency is not usable), run concurrently with
    one total deadline; at most one run of each check at a time."""

    def __init__(self, checks: dict[str, Callable[[], None]], deadline: float) -> None:
        self._checks = checks
        self._deadline = deadline
        self._lock = threading.Lock()
        self._running: dict[str, Future[None]] = {}
        self._executor: ThreadPoolExecutor | None = None

    def run(self) -> dict[str, str]:
        """Each check's result: "ok", or "error: …" (the error's type, or no answer)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=max(1, len(self._checks)), thread_name_prefix="readyz"
                )
            futures: dict[str, Future[None]] = {}
            for name, check in self._checks.items():
                future = self._running.get(name)
                if future is None or future.done():
                    future = self._executor.submit(check)
                    self._running[name] = future
                futures[name] = future
        wait(futures.values(), timeout=self._deadline)
        results: dict[str, str] = {}
        for name, future in futures.items():
            if not future.done():
                results[name] = f"error: no answer within {self._deadline:g} s"
                continue
            failure = future.exception()
            if failure is None:
                results[name] = "ok"
            elif isinstance(failure, NotReady):
                results[name] = f"error: {failure}"
            else:
                results[name] = f"error: {type(failure).__name__}"
        return results


def _readiness(app: Flask, svc: Services) -> ReadinessChecks:
    found = app.extensions.get(_EXTENSION)
    if isinstance(found, ReadinessChecks):
        return found

    def database() -> None:
        with svc.db.read_only() as session:
            session.execute(text("SELECT 1"))

    at_head = threading.Event()

    def migrations() -> None:
        if at_head.is_set():
            return
        with svc.db.read_only() as session:
            current = database_revision(session)
        head = head_revision()
        if current != head:
            raise NotReady(
                f"database at revision {current or 'none'}, the code expects {head}: "
                "run lti-tool init"
            )
        at_head.set()

    checks: dict[str, Callable[[], None]] = {"database": database, "migrations": migrations}
    if svc.settings.redis_url:
        checks["redis"] = svc.store.ping
    made = ReadinessChecks(checks, READY_DEADLINE_SECONDS)
    app.extensions[_EXTENSION] = made
    return made


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    checks = _readiness(current_app, services()).run()
    ready = all(v == "ok" for v in checks.values())
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
