"""A tutor-group refresh that takes longer than its lock's lifetime (a call per student, a
large class, a slow platform): the lock stays while it runs, so a second refresh of the same
course meanwhile is refused as busy rather than run alongside it (each replaces every group
of the course). Real PostgreSQL and Redis; the first refresh is held on a student."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.errors import ToolError
from lti_tool.pathway import groups
from lti_tool.persistence.models import Context
from tests.support.lti import Launcher, staff_launch
from tests.support.outage_servers import CONDITION_SECONDS, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
LOCK_SECONDS = 2


@pytest.fixture
def backend() -> str:  # the production path: PostgreSQL + Redis (the lock lives in Redis)
    return "postgres+redis"


def test_a_groups_refresh_longer_than_its_lock_is_not_run_twice_at_once(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = launcher.app.extensions["lti_tool"]
    background: list[Future[Any]] = []
    submit = services.jobs.submit

    def recorded(*args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = submit(*args, **kwargs)
        background.append(future)
        return future

    monkeypatch.setattr(services.jobs, "submit", recorded)
    staff_launch(launcher)  # reads the roster, then the groups in the background
    for future in background:
        future.result(CONDITION_SECONDS)
    with services.db.read_only() as session:
        context_pk = session.scalar(select(Context.id))
    assert context_pk is not None

    monkeypatch.setattr(groups, "LOCK_SECONDS", LOCK_SECONDS)  # 300 in use
    reading, go = threading.Event(), threading.Event()
    service = groups.CourseGroupsService

    class HeldOnAStudent(service):  # type: ignore[misc, valid-type]
        def get_groups(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("user_id") and not reading.is_set():
                reading.set()
                assert go.wait(CONDITION_SECONDS)
            return super().get_groups(*args, **kwargs)

    monkeypatch.setattr(groups, "CourseGroupsService", HeldOnAStudent)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            groups.refresh_groups(services, context_pk)
        except BaseException as exc:  # the test reports it
            errors.append(exc)

    first = threading.Thread(target=work, daemon=True)
    first.start()
    second: Any = None
    try:
        assert reading.wait(CONDITION_SECONDS), "the refresh never read a student's groups"
        past = time.monotonic() + 2 * LOCK_SECONDS
        wait_until(lambda: time.monotonic() > past, "the refresh to outlast its lock")
        try:
            second = groups.refresh_groups(services, context_pk)
        except ToolError as exc:
            second = exc.code
    finally:
        go.set()
        first.join(CONDITION_SECONDS)
    assert not first.is_alive() and errors == []
    assert second == "groups_busy"
