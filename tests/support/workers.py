"""A real ``lti-tool worker`` process against a test's tool: what the tests that stop Redis
under a worker, or kill one mid-sync, run and then kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lti_tool.settings import Settings


def worker_env(settings: Settings, instance_dir: Path) -> dict[str, str]:
    """The environment of a worker that shares the tool's database, Redis, prefix and key."""
    return {
        **os.environ,
        "LTI_TOOL_ENV": "development",
        "LTI_TOOL_OUTBOUND_ALLOW_LOOPBACK": "1",  # the sandbox platform is on 127.0.0.1
        "LTI_TOOL_BASE_URL": settings.base_url,
        "LTI_TOOL_DATABASE_URL": settings.database_url,
        "LTI_TOOL_REDIS_URL": settings.redis_url,
        "LTI_TOOL_REDIS_PREFIX": settings.redis_prefix,
        "LTI_TOOL_SECRET_KEY": settings.secret_key,
        "LTI_TOOL_INSTANCE_DIR": str(instance_dir),
        "LTI_TOOL_LOG_LEVEL": "WARNING",
    }


@contextmanager
def running_worker(
    settings: Settings, instance_dir: Path, *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``lti-tool worker`` with ``options``, killed on leaving (the worker and its
    work-horse alike, as a crash would) and waited for."""
    process = subprocess.Popen(
        [sys.executable, "-m", "lti_tool.cli", "worker", *options],
        env=worker_env(settings, instance_dir),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
