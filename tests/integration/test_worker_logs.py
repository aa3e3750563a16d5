"""``lti-tool worker`` logs as the web process does (README, Production: "Logs are one JSON
object per line"): the tool's own lines, INFO included, and RQ's. Only ``create_app`` used to
install the JSON handler, so in the worker the tool's warnings reached stderr as bare text
without their fields, its INFO lines were dropped, and RQ printed its own text lines."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from lti_tool.lti.store import DatabaseStore
from lti_tool.lti.store_purge import purge_store
from tests.conftest import make_tool
from tests.integration.test_serve_ports import environment
from tests.support.backends import MigratedBackends
from tests.support.outage_servers import RedisServer
from tests.support.workers import worker_env

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _json_lines(stderr: str) -> list[dict[str, Any]]:
    entries = []
    for line in stderr.splitlines():
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except ValueError:
            pytest.fail(f"a log line of lti-tool worker that is not JSON: {line!r}")
    return entries


def test_a_job_and_rq_log_json_lines_in_the_worker(
    tmp_path: Path, redis_server: RedisServer, migrated: MigratedBackends
) -> None:
    app = make_tool(
        {
            "database_url": migrated.sqlite_url(tmp_path),
            "redis_url": redis_server.url,
            "redis_prefix": "t_" + uuid.uuid4().hex[:10],
        },
        tmp_path,
    )
    services = app.extensions["lti_tool"]
    try:
        # A row the store purge job removes, and logs at INFO that it did.
        DatabaseStore(services.db).put("state", "expired", {"x": 1}, ttl=-60)
        services.queue.enqueue(purge_store)
        done = subprocess.run(
            [sys.executable, "-m", "lti_tool.cli", "worker", "--burst"],
            env={
                **worker_env(services.settings, tmp_path / "worker"),
                "LTI_TOOL_LOG_LEVEL": "INFO",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        services.close()
    assert done.returncode == 0, done.stdout + done.stderr
    entries = _json_lines(done.stderr)
    assert {"level": "INFO", "logger": "lti_tool.jobs", "msg": "purged 1 expired store rows"} in [
        {key: entry[key] for key in ("level", "logger", "msg")} for entry in entries
    ], entries
    assert any(entry["logger"].startswith("rq.") for entry in entries), entries


_LOGGING_WORKER = """
import logging
import lti_tool.jobs.heartbeat as heartbeat
from lti_tool.cli import main

def run_worker(connection, queue, prefix, burst=False):
    # What the tool's own code in the worker logs: a WARNING (heartbeat, restarts) and an
    # INFO with fields (completion/class_refresh.py's "class refresh done").
    logging.getLogger("lti_tool.jobs").warning("worker quit without being asked to")
    logging.getLogger("lti_tool.completion").info(
        "class refresh done", extra={"fields": {"course": 1, "reference": "abc"}}
    )

heartbeat.run_worker = run_worker
main(["worker"])
"""


def test_the_workers_own_warnings_and_info_lines_keep_their_fields(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _LOGGING_WORKER],
        env=environment(tmp_path, LTI_TOOL_REDIS_URL=redis_server.url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    messages = {entry["msg"]: entry for entry in _json_lines(done.stderr)}
    assert messages["worker quit without being asked to"]["level"] == "WARNING"
    assert messages["class refresh done"]["reference"] == "abc"
