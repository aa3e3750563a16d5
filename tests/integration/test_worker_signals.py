"""``lti-tool worker`` stops when its service manager asks: systemd and Kubernetes send
SIGTERM, Ctrl-C sends SIGINT. RQ 3.0 marks a stop only when a job is running, so an idle
worker that was asked to stop looked like one that Redis had failed, and a new one was
started in its place: only SIGKILL ended it."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.exceptions import StopRequested
from rq.worker import WorkerStatus

from lti_tool.jobs.heartbeat import STOP_LOOK_SECONDS, ToolWorker
from tests.integration.test_serve_ports import environment, lti_tool
from tests.support.outage_servers import RedisServer, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]

START_SECONDS = 120.0  # init and a worker's start on a busy 2-core machine
STOP_SECONDS = 60.0
SIGNALS = pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])


@pytest.fixture
def started_worker(
    tmp_path: Path, redis_server: RedisServer
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A real ``lti-tool worker`` listening on its queue, and the file of what it printed;
    killed on leaving if it is still running."""
    env = environment(tmp_path, LTI_TOOL_REDIS_URL=redis_server.url)
    init = subprocess.run(
        lti_tool("init"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert init.returncode == 0, init.stdout + init.stderr
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            lti_tool("worker"), env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until(
            lambda: "Listening on" in log.read_text() or process.poll() is not None,
            "the worker to listen on its queue",
            timeout=START_SECONDS,
            interval=0.2,
        )
        assert process.poll() is None, log.read_text()
        yield process, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def _stops(process: subprocess.Popen[bytes], log: Path, sig: signal.Signals) -> None:
    process.send_signal(sig)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"lti-tool worker still running {STOP_SECONDS:g} s after {sig.name}:\n{log.read_text()}"
        )
    assert "starting a new one" not in log.read_text(), log.read_text()


@SIGNALS
def test_an_idle_worker_stops_when_asked(
    started_worker: tuple[subprocess.Popen[bytes], Path], sig: signal.Signals
) -> None:
    process, log = started_worker
    _stops(process, log, sig)
    assert process.returncode == 0, log.read_text()


def test_a_worker_stops_when_asked_during_a_redis_outage(
    started_worker: tuple[subprocess.Popen[bytes], Path], redis_server: RedisServer
) -> None:
    """``systemctl stop`` while Redis is down: the worker does not wait for Redis to come
    back before it stops."""
    process, log = started_worker
    redis_server.stop()
    wait_until(
        lambda: "heartbeat not written" in log.read_text(),
        "the worker to notice that Redis is down",
        timeout=STOP_SECONDS,
        interval=0.2,
    )
    _stops(process, log, signal.SIGTERM)


def test_rq_calls_request_stop_on_a_signal_and_an_idle_stop_is_remembered(
    redis_server: RedisServer,
) -> None:
    """What ``ToolWorker`` relies on in RQ (pinned in pyproject.toml): ``request_stop`` is the
    SIGTERM and SIGINT handler, and an idle worker's stop raises ``StopRequested``."""
    connection = redis.Redis.from_url(redis_server.url)
    worker = ToolWorker([Queue("signals", connection=connection)], connection=connection)
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker._install_signal_handlers()
        assert signal.getsignal(signal.SIGTERM) == worker.request_stop
        assert signal.getsignal(signal.SIGINT) == worker.request_stop
        with pytest.raises(StopRequested):
            worker.request_stop(signal.SIGTERM, None)
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
        connection.close()
    assert worker.stop_asked


def test_an_idle_worker_asked_to_stop_leaves_its_wait_for_jobs(redis_server: RedisServer) -> None:
    """Should a signal's ``StopRequested`` be lost (swallowed where it landed), the mark is
    not: an idle worker waits for a job at most ``STOP_LOOK_SECONDS`` and, marked, leaves."""
    connection = redis.Redis.from_url(redis_server.url)
    worker = ToolWorker([Queue("signals", connection=connection)], connection=connection)
    try:
        assert worker.dequeue_timeout == STOP_LOOK_SECONDS < 60
        worker.set_state(WorkerStatus.IDLE)
        worker.heartbeat()  # not asked: an ordinary heartbeat
        worker.stop_asked = True
        with pytest.raises(StopRequested):
            worker.heartbeat()
        worker.set_state(WorkerStatus.BUSY)
        worker.heartbeat()  # a job runs: RQ itself finishes it first
    finally:
        connection.close()
