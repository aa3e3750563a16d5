"""A running ``lti-tool worker`` says so, in a way that survives a Redis restart.

RQ registers a worker once, at start-up; a Redis restart forgets it, and the registration was
never made again, so the health page reported "0 workers" for as long as the worker ran on.
Two remedies:

- ``WorkerHeartbeat``: a daemon thread of the worker writes its own key every
  ``HEARTBEAT_SECONDS`` with a ``HEARTBEAT_TTL`` lifetime. After a restart the next beat writes
  it again, so the health page (which judges workers by these keys, ``live_workers``) sees the
  worker again within ``HEARTBEAT_SECONDS`` of Redis answering; a worker that stops is gone
  from the page within ``HEARTBEAT_TTL``.
- ``ToolWorker``: RQ's worker, which registers itself again when its heartbeat finds the
  registration gone (so RQ's own tools count it too), and retries a lost Redis every few
  seconds rather than backing off to a minute.

RQ's worker quits when Redis fails it anywhere but while it waits for a job (a job finishing
during the outage, a heartbeat while one runs). ``run_worker`` then starts a new one once
Redis answers, so ``lti-tool worker`` runs on through an outage; it stops for good only when
asked to (SIGTERM from a service manager, SIGINT from Ctrl-C) or in burst mode.

RQ behaviour relied on (``rq`` is pinned in pyproject.toml;
``tests/integration/test_worker_signals.py`` checks it against the installed RQ):
``Worker.work`` installs ``Worker.request_stop`` as the SIGTERM and SIGINT handler, and RQ 3.0
marks a stop (its private ``_stop_requested``) only when the signal comes while a job runs;
an idle worker leaves ``work`` through ``StopRequested`` with nothing marked, exactly as a
worker that Redis failed. ``ToolWorker.request_stop`` therefore keeps its own mark,
``stop_asked``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from types import FrameType
from typing import Any

from rq import Worker
from rq.exceptions import StopRequested
from rq.worker import WorkerStatus

log = logging.getLogger("lti_tool.jobs")

HEARTBEAT_SECONDS = 10.0
HEARTBEAT_TTL = 45


def _pattern(prefix: str) -> str:
    return f"{prefix}:worker_alive:*"


class WorkerHeartbeat:
    """Writes ``<prefix>:worker_alive:<name>`` every ``interval`` seconds on a daemon thread."""

    def __init__(
        self, client: Any, prefix: str, name: str, interval: float = HEARTBEAT_SECONDS
    ) -> None:
        self._client = client
        self._key = f"{prefix}:worker_alive:{name}"
        self._name = name
        self._interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def beat(self) -> bool:
        """Write the key once; False (logged once per outage) when Redis does not answer."""
        value = {"name": self._name, "host": socket.gethostname(), "pid": os.getpid()}
        value["at"] = time.time()
        try:
            self._client.set(self._key, json.dumps(value), ex=HEARTBEAT_TTL)
        except Exception as exc:  # Redis down: beat again on the next tick
            if not self._failing:
                log.warning("worker heartbeat not written: %s", type(exc).__name__)
            self._failing = True
            return False
        if self._failing:
            log.warning("worker heartbeat written again: Redis answers")
        self._failing = False
        return True

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="lti-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and remove the key (a worker that stops cleanly is gone at once)."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(Exception):  # Redis down: the key expires on its own
            self._client.delete(self._key)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            self.beat()


def live_workers(client: Any, prefix: str) -> list[dict[str, Any]]:
    """The workers whose heartbeat key is alive now (each one's last beat)."""
    found = []
    for key in client.scan_iter(match=_pattern(prefix), count=100):
        raw = client.get(key)
        if raw is None:
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


RESTART_PAUSE_SECONDS = 2.0
STOP_LOOK_SECONDS = 10  # an idle worker's longest wait for a job before it looks again


def run_worker(connection: Any, queue: Any, prefix: str, burst: bool = False) -> None:
    """Run ``ToolWorker``s on ``queue`` with a heartbeat, one after another if Redis makes
    one quit, until a worker is asked to stop (or the queue is empty, in burst mode)."""
    while True:
        worker = ToolWorker([queue], connection=connection)
        heartbeat = WorkerHeartbeat(connection, prefix, worker.name)
        heartbeat.start()
        try:
            worker.work(burst=burst)
        except Exception as exc:  # the teardown's own Redis calls during an outage
            log.warning("worker stopped: %s", type(exc).__name__)
        finally:
            heartbeat.stop()
        if burst or worker.stop_asked:
            return
        log.warning("worker quit without being asked to (Redis lost?): starting a new one")
        if not _wait_for_redis(connection, worker):
            return


def _wait_for_redis(connection: Any, worker: ToolWorker) -> bool:
    """True once Redis answers; False when a signal asks the worker to stop meanwhile (the
    last worker's handlers are still installed: the first signal marks ``stop_asked`` and
    raises ``StopRequested`` here, a second one is RQ's cold shutdown)."""
    while not worker.stop_asked:
        # Redis still down (the heartbeat has said so), or StopRequested from a signal.
        with contextlib.suppress(Exception):
            time.sleep(RESTART_PAUSE_SECONDS)
            connection.ping()
            return not worker.stop_asked
    return False


class ToolWorker(Worker):
    """RQ's worker, re-registering itself after Redis lost its registration."""

    max_connection_wait_time = 5.0
    stop_asked = False

    @property
    def dequeue_timeout(self) -> int:
        """How long one wait for a job blocks (RQ: its TTL less 15 s, 405 s): an idle worker
        looks at ``stop_asked`` this often (``heartbeat``), so a stop whose ``StopRequested``
        met the worker where something swallowed it is still kept."""
        return STOP_LOOK_SECONDS

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """RQ's warm shutdown on SIGTERM or SIGINT, remembered whether or not a job runs."""
        self.stop_asked = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        if pipeline is None and self.stop_asked and self.get_state() == WorkerStatus.IDLE:
            raise StopRequested()  # RQ's wait for a job: leave it, as the signal meant
        super().heartbeat(timeout, pipeline)
        if pipeline is None:
            self.register_again_if_lost()

    def register_again_if_lost(self) -> None:
        """After a Redis restart the heartbeat above recreated the worker's hash with only
        ``last_heartbeat`` in it, and the set of workers is empty: write both again."""
        from rq import worker_registration

        if self.birth_date is None or self.connection.hexists(self.key, "birth"):
            return
        with self.connection.pipeline() as pipeline:
            pipeline.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, pipeline)
            pipeline.expire(self.key, self.worker_ttl + 60)
            pipeline.execute()
        log.warning("worker registered with RQ again (Redis had lost the registration)")
