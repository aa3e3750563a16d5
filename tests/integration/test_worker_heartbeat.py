"""A running ``lti-tool worker`` is never shown missing: after Redis restarts (empty, as an
outage leaves it) the health page sees the worker again within a minute, RQ counts it again,
and it runs the next job."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from rq import Queue, Worker

from lti_tool.admin.health import health_report
from lti_tool.admin.identity import command_line_identity
from lti_tool.lti.store_purge import purge_store
from tests.conftest import make_tool
from tests.support.backends import MigratedBackends
from tests.support.outage_servers import RedisServer, wait_until
from tests.support.workers import running_worker

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def _wait(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, what, interval=0.25)  # each check reads the health report


@pytest.fixture
def tool(tmp_path: Path, migrated: MigratedBackends, redis_server: RedisServer) -> Iterator[Flask]:
    app = make_tool(
        {
            "database_url": migrated.postgres_url(),
            "redis_url": redis_server.url,
            "redis_prefix": "t_" + uuid.uuid4().hex[:10],
        },
        tmp_path,
    )
    yield app
    app.extensions["lti_tool"].close()


@pytest.fixture
def worker(tool: Flask, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with running_worker(tool.extensions["lti_tool"].settings, tmp_path / "worker") as process:
        yield process


def test_worker_is_seen_again_after_a_redis_restart(
    tool: Flask, worker: subprocess.Popen[bytes], redis_server: RedisServer
) -> None:
    services = tool.extensions["lti_tool"]
    prefix = services.settings.redis_prefix

    def jobs_check() -> tuple[str, str]:
        report = health_report(services, command_line_identity("test"))
        check = next(c for c in report.checks if c.name == "Background jobs")
        return ("OK" if check.ok else "Problem"), check.detail

    def rq_workers() -> int:
        connection = redis.Redis.from_url(redis_server.url, socket_timeout=2)
        try:
            return int(
                Worker.count(connection=connection, queue=Queue(prefix, connection=connection))
            )
        finally:
            connection.close()

    _wait(lambda: jobs_check()[0] == "OK", "the health page to see the worker")
    assert jobs_check()[1].startswith("1 worker running")
    assert worker.poll() is None

    redis_server.stop()
    assert jobs_check() == ("Problem", "Redis is not answering")
    time.sleep(2)  # an outage of a few seconds, as in the reliability test
    redis_server.start()  # empty: RQ's registration of the worker is gone
    assert rq_workers() == 0

    _wait(lambda: jobs_check()[0] == "OK", "the health page to see the worker again")
    assert jobs_check()[1].startswith("1 worker running")
    _wait(lambda: rq_workers() == 1, "the worker to register with RQ again")
    assert worker.poll() is None  # the same process ran on through the outage

    # And it runs jobs: the next one queued is taken and finished.
    services.queue.enqueue(purge_store)
    connection = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    queue = Queue(prefix, connection=connection)
    _wait(
        lambda: queue.count == 0 and queue.finished_job_registry.count == 1,
        "the worker to run a job after the outage",
    )
    connection.close()
