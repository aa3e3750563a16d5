"""A class refresh that takes longer than its lock's lifetime (a large class, a slow LMS): the
lock stays while the refresh runs, so a tutor's launch meanwhile starts no second refresh of
the same class. Real PostgreSQL and Redis; the refresh is held on a student, not hoped slow."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.completion import class_progress, class_refresh
from lti_tool.persistence.models import Context
from tests.support.class_refresh import staff_launch, with_moodle_source
from tests.support.lti import Launcher
from tests.support.outage_servers import CONDITION_SECONDS, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
LOCK_SECONDS = 2


@pytest.fixture
def backend() -> str:  # the production path: PostgreSQL + Redis (the lock lives in Redis)
    return "postgres+redis"


def test_a_refresh_longer_than_its_lock_is_not_started_twice(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(class_progress, "LOCK_TTL", LOCK_SECONDS)  # 900 in use
    launcher = with_moodle_source(launcher)
    services = launcher.app.extensions["lti_tool"]
    staff_launch(launcher)  # queues the class's first refresh (RQ: no worker runs it yet)
    with services.db.read_only() as session:
        context_pk = session.scalar(select(Context.id))
    assert context_pk is not None

    reading, go = threading.Event(), threading.Event()
    fetch = class_refresh._fetch_quietly

    def slow_fetch(*args: Any) -> Any:
        if not reading.is_set():
            reading.set()
            assert go.wait(CONDITION_SECONDS)
        return fetch(*args)

    monkeypatch.setattr(class_refresh, "_fetch_quietly", slow_fetch)
    errors: list[BaseException] = []

    def work() -> None:  # the queued job, as a worker runs it
        try:
            class_refresh.run_class_refresh(services, context_pk)
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    try:
        assert reading.wait(CONDITION_SECONDS), "the refresh never read a student"
        past = time.monotonic() + 2 * LOCK_SECONDS
        wait_until(lambda: time.monotonic() > past, "the refresh to outlast its lock")
        # A tutor opens the class view (or presses the button) while it still runs.
        started = class_progress.start_class_refresh(services, context_pk, only_if_stale=True)
    finally:
        go.set()
        worker.join(CONDITION_SECONDS)
    assert not worker.is_alive() and errors == []
    assert started is False
    progress = class_progress.progress_of(services, context_pk)
    assert progress is not None and progress["status"] == "done"
