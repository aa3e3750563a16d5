"""A student's own completion refresh that takes longer than its lock's lifetime (a slow LMS,
many courses): the lock stays while the refresh runs, so the student's next launch meanwhile
starts no second read of the same LMS, whose older outcome could land after the newer one.
Real PostgreSQL and Redis; the refresh is held, not hoped slow."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from lti_tool.completion import refresh
from lti_tool.completion.refresh import RefreshOutcome, Student, refresh_on_launch
from lti_tool.persistence.models import CompletionRecord, User, utcnow
from tests.support.lti import Launcher
from tests.support.outage_servers import CONDITION_SECONDS, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
LOCK_SECONDS = 4  # renewed every second: a loaded machine never lets it lapse


@pytest.fixture
def backend() -> str:  # the production path: PostgreSQL + Redis (the lock lives in Redis)
    return "postgres+redis"


def test_a_student_refresh_longer_than_its_lock_is_not_started_twice(
    launcher: Launcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refresh, "REFRESH_LOCK_SECONDS", LOCK_SECONDS)  # 60 in use
    services = launcher.app.extensions["lti_tool"]
    launcher.launch(launcher.app.test_client(), "student1")
    with services.db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.sub == "1001"))  # student1
        assert user is not None
        # The student's copy is a day old: each launch asks the LMS again.
        session.add(
            CompletionRecord(
                user_pk=user.id,
                course_code="GB080",
                status="in_progress",
                source="moodle",
                fetched_at=utcnow() - dt.timedelta(days=1),
            )
        )
        student = Student(user.registration_id, user.id, user.sub, {}, None)

    reads: list[int] = []
    reading, go = threading.Event(), threading.Event()

    def slow_refresh(_: Any, who: Student, reference: str | None = None) -> RefreshOutcome:
        reads.append(who.user_pk)
        reading.set()
        assert go.wait(CONDITION_SECONDS)
        return RefreshOutcome("ok", 0, [])

    monkeypatch.setattr(refresh, "refresh_student", slow_refresh)
    try:
        refresh_on_launch(services, student)  # the launch that starts the read
        assert reading.wait(CONDITION_SECONDS), "the refresh never started"
        past = time.monotonic() + LOCK_SECONDS + 1
        wait_until(lambda: time.monotonic() > past, "the refresh to outlast its lock")
        refresh_on_launch(services, student)  # the student opens the tool again meanwhile
        assert reads == [student.user_pk]  # no second read of the LMS
    finally:
        go.set()
    wait_until(
        lambda: services.store.get("refreshing", str(student.user_pk)) is None,
        "the refresh to end and let its lock go",
    )
